from odoo import api, fields, models


class MailSyncAccount(models.Model):
    """CRM > Emails > My Mailboxes: a card per mail account of the user (their own, and the shared
    ones they may read) with its state, its unassigned emails and its last sync. There is no
    "unread" count: whether the owner has read an email on the server (its \\Seen flag) is not
    stored."""

    _inherit = "mail.sync.account"  # pylint: disable=consider-merging-classes-inherited

    unassigned_count = fields.Integer(
        string="Unassigned",
        compute="_compute_unassigned_count",
        help="Emails of this account that the user may read and that no contact or opportunity is linked to.",
    )

    @api.depends_context("uid")
    def _compute_unassigned_count(self):
        # As the reader: a count never takes in mail its reader cannot open.
        Message = self.env["mail.sync.message"]
        for account in self:
            account.unassigned_count = (
                Message.search_count([("account_ids", "in", account.ids), ("is_assigned", "=", False)])
                if account.id
                else 0
            )

    def action_open_unassigned(self):
        """The unassigned emails of this account."""
        self.ensure_one()
        action = self.env["mail.sync.message"]._action_open(
            [("account_ids", "in", self.ids), ("is_assigned", "=", False)]
        )
        action["name"] = action["display_name"] = self.env._(
            "Unassigned Emails of %(account)s", account=self.name
        )
        return action
