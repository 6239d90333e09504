from odoo import api, fields, models
from odoo.tools import SQL


class MailSyncMessage(models.Model):
    """CRM > Emails > Inbox: an account's emails browsed by its folders, as a mail client shows them
    (a search panel of the account, then its folders), opening on the primary account's INBOX."""

    _inherit = "mail.sync.message"  # pylint: disable=consider-merging-classes-inherited

    # Criteria of the search panel, not data: an email may be in several accounts and folders.
    browse_account_id = fields.Many2one(
        "mail.sync.account", string="Mailbox", compute="_compute_browse", search="_search_browse_account_id"
    )
    browse_folder_id = fields.Many2one(
        "mail.sync.folder", string="Folder", compute="_compute_browse", search="_search_browse_folder_id"
    )

    def _compute_browse(self):
        self.browse_account_id = self.browse_folder_id = False

    def _search_browse_account_id(self, operator, value):
        if operator != "=":
            return NotImplemented
        if not value:
            return []
        return self._held_by([value]) if isinstance(value, int) else [("account_ids", "in", [value])]

    def _search_browse_folder_id(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        folder_ids = [value] if operator == "=" else list(value)
        if not any(folder_ids):
            return []
        # Where the email is, read without the locations' rule: the emails' own rule still applies.
        locations = self.env["mail.sync.message.location"].sudo()._search([("folder_id", "in", folder_ids)])
        return [("id", "in", locations.subselect(SQL.identifier(locations.table, "email_id")))]

    @api.model
    def action_open_inbox(self):
        """CRM > Emails > Inbox: on the INBOX of the user's primary account (else their first one)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_sync.mail_sync_message_action_inbox")
        account = self.env["mail.sync.account"].search(
            [("user_id", "=", self.env.uid)], order="is_primary desc, id", limit=1
        )
        context = {}
        if account:
            inbox = account.folder_ids.filtered(lambda folder: folder.role == "inbox")[:1]
            context["searchpanel_default_browse_account_id"] = account.id
            if inbox:
                context["searchpanel_default_browse_folder_id"] = inbox.ids
        action["context"] = context
        action["help"] = self.env["res.users"]._mail_sync_connect_help(action.get("help"))
        return action
