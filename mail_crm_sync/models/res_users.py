from odoo import fields, models
from odoo.exceptions import UserError


class ResUsers(models.Model):
    _inherit = "res.users"

    mail_sync_account_ids = fields.One2many("mail.sync.account", "user_id", string="Mail Accounts")
    mail_sync_account_count = fields.Integer(
        compute="_compute_mail_sync_account_count", string="Mail Account Count"
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "mail_sync_account_count"]

    def _compute_mail_sync_account_count(self):
        counts = dict(
            self.env["mail.sync.account"]._read_group([("user_id", "in", self.ids)], ["user_id"], ["__count"])
        )
        for user in self:
            user.mail_sync_account_count = counts.get(user, 0)

    def write(self, vals):
        result = super().write(vals)
        if vals.get("active") is False:
            for user in self:
                user._mail_sync_stop_accounts(
                    self.env._(
                        "Its owner %(user)s was archived: the account no longer syncs.", user=user.name
                    )
                )
        return result

    def unlink(self):
        for user in self:
            user._mail_sync_stop_accounts(
                self.env._("Its owner %(user)s was deleted: the account no longer syncs.", user=user.name)
            )
        return super().unlink()

    def action_open_mail_sync_accounts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_sync.mail_sync_account_action")
        action["domain"] = [("user_id", "=", self.id)]
        action["context"] = {"default_user_id": self.id}
        return action

    def action_mail_sync_connect_gmail(self):
        return self._mail_sync_connect("gmail")

    def action_mail_sync_connect_microsoft(self):
        return self._mail_sync_connect("microsoft")

    def _mail_sync_connect(self, provider):
        """Connect one's own mailbox in one click: an account for one's email at that provider
        (the one already there if any), then the provider's sign-in."""
        self.ensure_one()
        if self != self.env.user:
            raise UserError(self.env._("Only %(user)s can connect their own mailbox.", user=self.name))
        if not self.email:
            raise UserError(self.env._("Set your email address first (Preferences)."))
        Account = self.env["mail.sync.account"]
        account = Account.search(
            [("user_id", "=", self.id), ("provider", "=", provider), ("email", "=ilike", self.email)], limit=1
        )
        if not account:
            presets = Account._provider_presets()[provider]
            values = self._mail_sync_account_values(
                {name: value for name, value in presets.items() if name in Account._fields}
            )
            label = dict(Account._fields["provider"]._description_selection(self.env))[provider]
            account = Account.create(
                {
                    **values,
                    "name": self.env._("%(provider)s of %(user)s", provider=label, user=self.name),
                    "email": self.email,
                    "user_id": self.id,
                    "provider": provider,
                    "sending_enabled": Account._sending_accounts_left(self) > 0,
                }
            )
        return account.action_oauth_connect()

    def _mail_sync_account_values(self, values):
        """The values of an account connected from the preferences (the provider's preset); a seam
        for addons and tests."""
        return values

    def _mail_sync_stop_accounts(self, reason):
        accounts = self.env["mail.sync.account"].sudo().with_context(active_test=False)
        accounts.search([("user_id", "=", self.id), ("state", "!=", "disabled")])._stop_for_owner(reason)
