from odoo import fields, models


class MailSyncMessageLocation(models.Model):
    """One place (account, folder, UIDVALIDITY, UID) an email was seen at: the server's key for it."""

    _name = "mail.sync.message.location"
    _description = "Synced Email Place"
    _order = "message_id, account_id, folder_id"

    message_id = fields.Many2one(
        "mail.sync.message", string="Email", required=True, ondelete="cascade", index=True
    )
    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    folder_id = fields.Many2one("mail.sync.folder", required=True, ondelete="cascade")
    uidvalidity = fields.Integer(string="UIDVALIDITY", required=True)
    uid = fields.Integer(string="UID", required=True)
    gone = fields.Boolean(help="No longer in this folder on the server.")

    _sql_constraints = [
        ("place_uniq", "unique(folder_id, uidvalidity, uid)", "One email per place on the server."),
    ]
