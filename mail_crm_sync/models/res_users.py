from lxml import html as lxml_html
from odoo import api, fields, models

from ..exceptions import MailSyncUserError


class ResUsers(models.Model):
    _inherit = "res.users"

    mail_sync_account_ids = fields.One2many("mail.sync.account", "user_id", string="Mail Accounts")
    mail_sync_account_count = fields.Integer(
        compute="_compute_mail_sync_account_count", string="Mail Account Count"
    )

    # Whether an administrator set up the provider's sign-in (Settings): else its Connect button,
    # which could only fail, is not offered.
    mail_sync_gmail_ready = fields.Boolean(compute="_compute_mail_sync_oauth_ready")
    mail_sync_microsoft_ready = fields.Boolean(compute="_compute_mail_sync_oauth_ready")

    @property
    def SELF_READABLE_FIELDS(self):
        return [
            *super().SELF_READABLE_FIELDS,
            "mail_sync_account_count",
            "mail_sync_gmail_ready",
            "mail_sync_microsoft_ready",
        ]

    def _compute_mail_sync_account_count(self):
        counts = dict(
            self.env["mail.sync.account"]._read_group([("user_id", "in", self.ids)], ["user_id"], ["__count"])
        )
        for user in self:
            user.mail_sync_account_count = counts.get(user, 0)

    def _compute_mail_sync_oauth_ready(self):
        self.mail_sync_gmail_ready = self._mail_sync_oauth_ready("google")
        self.mail_sync_microsoft_ready = self._mail_sync_oauth_ready("microsoft")

    @api.model
    def _mail_sync_oauth_ready(self, kind):
        """Whether sign-in with ``kind`` ("google", "microsoft") is set up in Settings."""
        settings = self.env["res.config.settings"]
        return bool(
            settings._mail_sync_param(f"{kind}_client_id", "")
            and settings._mail_sync_param(f"{kind}_client_secret", "")
        )

    @api.model
    def _mail_sync_connect_help(self, help_html):
        """The help of an empty Emails list without the Connect buttons of providers whose sign-in
        is not set up (they could only end in an error)."""
        if not help_html:
            return help_html
        root = lxml_html.fragment_fromstring(help_html, create_parent="div")
        for kind in ("google", "microsoft"):
            if not self._mail_sync_oauth_ready(kind):
                for button in root.xpath(f"//a[@name='mail_sync_connect_{kind}']"):
                    button.getparent().remove(button)
        if not root.xpath("//a[@name='mail_sync_connect_google' or @name='mail_sync_connect_microsoft']"):
            for button in root.xpath("//a[@name='mail_sync_connect_imap']"):
                button.set("class", "btn btn-primary")  # the one way left is the main one
        return "".join(lxml_html.tostring(child, encoding="unicode") for child in root)

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
            raise MailSyncUserError(
                self.env._("Only %(user)s can connect their own mailbox.", user=self.name),
                self.env._("Not Allowed"),
            )
        if not self.email:
            raise MailSyncUserError(
                self.env._("Set your email address first (Preferences)."), self.env._("No Email Address")
            )
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
