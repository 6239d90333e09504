from odoo import api, fields, models


class MailSyncAccount(models.Model):
    """Mail in the chatter as a choice of each account: some teams want their mail on the records'
    Emails tab and in the Emails lists, not among the chatter's notes and messages."""

    _inherit = "mail.sync.account"  # pylint: disable=consider-merging-classes-inherited

    show_in_chatter = fields.Boolean(
        string="Show in the Chatter",
        default=True,
        help="Its emails show in the chatter of their contacts and opportunities. Off: they show on the "
        "record's Emails tab and in the Emails lists only.",
    )


class MailSyncMessage(models.Model):
    _inherit = "mail.sync.message"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _chatter_accounts_domain(self):
        """The term of the chatter's emails that leaves out those of accounts whose mail is not
        shown in the chatter: an email shows if any account holding it shows its mail (or none holds
        it any more). Empty, at no cost to the query, while every account shows its mail. Read
        without the accounts' access rule: a colleague's account decides for its own mail."""
        Account = self.env["mail.sync.account"].sudo().with_context(active_test=False)
        if not Account.search_count([("show_in_chatter", "=", False)], limit=1):
            return []
        shown = Account._search([("show_in_chatter", "=", True)])
        return ["|", ("without_account", "=", True), ("account_ids", "in", shown)]
