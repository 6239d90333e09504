from odoo import api, fields, models


# Its own file on purpose: the pinning setting lives beside its feature, apart from res_config_settings.py.
class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    mail_sync_pin_won = fields.Boolean(
        string="Keep Attachments of Won Opportunities",
        config_parameter="mail_crm_sync.pin_won_attachments",
        help="When an opportunity is won, the attachments of its emails are stored in Odoo, so that "
        "they download even once the emails left the mail server.",
    )

    @api.model
    def _mail_sync_pin_won(self):
        return bool(self._mail_sync_param("pin_won_attachments", False))
