from odoo import api, fields, models


class MailSyncMessage(models.Model):
    _inherit = "mail.sync.message"

    mail_priority = fields.Char(string="Priority", readonly=True, help="The sender's X-Priority header.")

    @api.model
    def _extra_headers(self):
        return (*super()._extra_headers(), "X-Priority")

    @api.model
    def _extra_message_values(self, record):
        values = super()._extra_message_values(record)
        priority = dict(record.extra_headers).get("x-priority")
        if priority:
            values["mail_priority"] = priority
        return values
