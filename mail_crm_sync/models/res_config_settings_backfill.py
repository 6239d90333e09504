import pytz
from odoo import api, fields, models
from odoo.exceptions import ValidationError

QUIET_HOURS_FROM, QUIET_HOURS_TO = 22, 6


class ResConfigSettings(models.TransientModel):
    """When older mail is fetched: the quiet hours, in the time zone of the administrator who set them."""

    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    mail_sync_backfill_from_hour = fields.Integer(
        string="Fetch Older Mail From",
        config_parameter="mail_crm_sync.backfill_from_hour",
        default=QUIET_HOURS_FROM,
        help="Hour of the day (0-23, in your time zone) from which older mail is fetched, when an "
        "account's First Sync is widened or Fetch Older Mail is pressed. Mail with one person, asked "
        "from a contact or an opportunity, and repairs are fetched at once.",
    )
    mail_sync_backfill_to_hour = fields.Integer(
        string="Until",
        config_parameter="mail_crm_sync.backfill_to_hour",
        default=QUIET_HOURS_TO,
        help="Hour of the day (0-23) at which fetching older mail pauses until the next night. The same "
        "hour as 'From': at any time.",
    )

    @api.constrains("mail_sync_backfill_from_hour", "mail_sync_backfill_to_hour")
    def _check_mail_sync_backfill_hours(self):
        for settings in self:
            if not (
                0 <= settings.mail_sync_backfill_from_hour <= 23
                and 0 <= settings.mail_sync_backfill_to_hour <= 23
            ):
                raise ValidationError(self.env._("The hours to fetch older mail are between 0 and 23."))

    def set_values(self):
        result = super().set_values()
        self.env["ir.config_parameter"].sudo().set_param(
            "mail_crm_sync.backfill_timezone", self.env.user.tz or "UTC"
        )
        return result

    @api.model
    def _mail_sync_backfill_hours(self):
        """(from hour, to hour, time zone name) of the quiet hours older mail is fetched in."""
        Param = self.env["ir.config_parameter"].sudo()

        def hour(key, default):
            try:
                return min(max(int(Param.get_param(key, default)), 0), 23)
            except ValueError:
                return default

        zone = Param.get_param("mail_crm_sync.backfill_timezone", "UTC")
        if zone not in pytz.all_timezones_set:
            zone = "UTC"
        return (
            hour("mail_crm_sync.backfill_from_hour", QUIET_HOURS_FROM),
            hour("mail_crm_sync.backfill_to_hour", QUIET_HOURS_TO),
            zone,
        )
