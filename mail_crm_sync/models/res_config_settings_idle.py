from odoo import api, fields, models


# Its own file, beside res_config_settings.py: one setting per feature merges without conflicts.
class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    mail_sync_instant_inbox = fields.Boolean(
        string="Instant Inbox",
        config_parameter="mail_crm_sync.instant_inbox",
        help="New mail in the INBOX of each user's primary account appears within seconds, where the "
        "server offers IDLE. Needs the watcher process: odoo-bin mail_sync_idle (see Configuration).",
    )

    @api.model
    def _mail_sync_instant_inbox(self):
        return self.env["ir.config_parameter"].sudo().get_param("mail_crm_sync.instant_inbox") == "True"
