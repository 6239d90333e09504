from odoo import fields, models


class MailSyncMessageAttachment(models.Model):
    _name = "mail.sync.message.attachment"
    _description = "Synced Email Attachment"
    _order = "message_id, id"
    # Written by the sync only, from the email's structure: no audit columns and their foreign keys.
    _log_access = False

    message_id = fields.Many2one(
        "mail.sync.message", string="Email", required=True, ondelete="cascade", index=True
    )
    name = fields.Char(string="File Name", readonly=True)
    content_type = fields.Char(readonly=True)
    size = fields.Integer(readonly=True)
    part = fields.Char(
        string="Part Number", readonly=True, help="Where the bytes are on the server; fetched on demand."
    )
    content_id = fields.Char(string="Content-ID", readonly=True)
    inline = fields.Boolean(readonly=True)
    gone_from_server = fields.Boolean(related="message_id.gone_from_server")
