from odoo import fields, models
from odoo.tools import SQL

from mail_crm_sync_engine import MessageLocation


class ImapNumber(fields.Integer):
    """IMAP's UIDs and UIDVALIDITY are unsigned 32-bit numbers: above PostgreSQL's int4."""

    column_type = ("int8", "int8")


class MailSyncMessageLocation(models.Model):
    """One place (account, folder, UIDVALIDITY, UID) an email was seen at: the server's key for it."""

    _name = "mail.sync.message.location"
    _inherit = ["mail.sync.visibility.mixin"]
    _description = "Email Location"
    _order = "email_id, account_id, folder_id"
    # Written by the sync only, several per email: no audit columns and their foreign keys.
    _log_access = False

    email_id = fields.Many2one("mail.sync.message", required=True, ondelete="cascade", index=True)
    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    folder_id = fields.Many2one("mail.sync.folder", required=True, ondelete="cascade")
    uidvalidity = ImapNumber(string="UIDVALIDITY", required=True)
    uid = ImapNumber(string="UID", required=True)
    gone = fields.Boolean(help="No longer in this folder on the server.")

    _sql_constraints = [
        ("place_uniq", "unique(folder_id, uidvalidity, uid)", "One email per place on the server."),
    ]

    def _engine_location(self):
        self.ensure_one()
        return MessageLocation(self.folder_id.name, self.uidvalidity, self.uid)

    def _visible_ids_sql(self):
        """Places of visible emails in accounts the user may read: a place names the account and
        the folder."""
        accounts = self.env["mail.sync.account"].with_user(self.env.user).with_context(active_test=False)
        return SQL(
            "(SELECT t.id FROM mail_sync_message_location t WHERE %s AND t.account_id IN %s)",
            self._visible_messages_sql(SQL.identifier("t", "email_id")),
            accounts._search([]).subselect(),
        )
