from odoo import api, fields, models
from odoo.exceptions import ValidationError

UNDO_SEND_DEFAULT = 10
UNDO_SEND_MAX = 30


# Its own file, beside res_config_settings.py: one setting per feature merges without conflicts.
class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    mail_sync_undo_send_seconds = fields.Integer(
        string="Undo Send (seconds)",
        config_parameter="mail_crm_sync.undo_send_seconds",
        default=UNDO_SEND_DEFAULT,
        help="How long an email waits after Send, so that its sender can take it back (0 to 30 seconds; "
        "0 sends at once).",
    )

    @api.constrains("mail_sync_undo_send_seconds")
    def _check_mail_sync_undo_send_seconds(self):
        for settings in self:
            if not 0 <= settings.mail_sync_undo_send_seconds <= UNDO_SEND_MAX:
                raise ValidationError(
                    self.env._("Undo Send lasts from 0 to %(max)s seconds.", max=UNDO_SEND_MAX)
                )

    @api.model
    def _mail_sync_undo_send_seconds(self):
        """The delay of Undo Send, within its range whatever the parameter holds."""
        value = self.env["ir.config_parameter"].sudo().get_param("mail_crm_sync.undo_send_seconds")
        try:
            seconds = int(value) if value not in (None, False, "") else UNDO_SEND_DEFAULT
        except ValueError:
            seconds = UNDO_SEND_DEFAULT
        return min(max(seconds, 0), UNDO_SEND_MAX)
