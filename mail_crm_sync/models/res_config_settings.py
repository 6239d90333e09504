import datetime

import pytz
from odoo import api, fields, models
from odoo.http import request

from mail_crm_sync_engine import DEFAULT_BLOCKED_EXTENSIONS as BLOCKED_BY_DEFAULT

from ..controllers.oauth import CALLBACK as OAUTH_CALLBACK
from .mail_sync_account import VISIBILITY_SELECTION

DEFAULT_BLOCK_LIST = "noreply, no-reply, mailer-daemon, postmaster"
DEFAULT_RUN_MINUTES = 15
DEFAULT_BLOCKED_EXTENSIONS = ", ".join(BLOCKED_BY_DEFAULT)  # the engine's list, as the setting shows it


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mail_sync_contact_block_list = fields.Char(
        string="Never Create Contacts For",
        config_parameter="mail_crm_sync.contact_block_list",
        default=DEFAULT_BLOCK_LIST,
        help="Addresses, local parts (noreply) or domains, separated by commas. "
        "The domains of your companies are always blocked.",
    )
    mail_sync_relink_hour = fields.Integer(
        string="Relink Unassigned Emails At",
        config_parameter="mail_crm_sync.relink_hour",
        default=2,
        help="Hour of the day (0-23, in your time zone) the nightly relink runs.",
    )

    mail_sync_default_visibility = fields.Selection(
        VISIBILITY_SELECTION,
        string="Visibility of New Personal Accounts",
        config_parameter="mail_crm_sync.default_visibility",
        default="records",
        help="Who reads the mail of a newly connected personal account; its owner can change it.",
    )
    mail_sync_connect_policy = fields.Selection(
        [("sales", "Every Sales User"), ("group", "Only Members of 'Connect Own Mailbox'")],
        string="Who May Connect a Mailbox",
        config_parameter="mail_crm_sync.connect_policy",
        default="sales",
    )
    mail_sync_blocked_extensions = fields.Char(
        string="Blocked Attachment Extensions",
        config_parameter="mail_crm_sync.blocked_extensions",
        default=DEFAULT_BLOCKED_EXTENSIONS,
        help="File extensions, separated by commas, that are never opened in the browser (they download) "
        "and never sent.",
    )

    mail_sync_max_sending_accounts = fields.Integer(
        string="Sending Accounts per User",
        config_parameter="mail_crm_sync.max_sending_accounts",
        default=3,
        help="How many of their accounts a user may send from.",
    )
    mail_sync_self_filing_hosts = fields.Char(
        string="Servers That File Sent Mail Themselves",
        config_parameter="mail_crm_sync.self_filing_hosts",
        help="Mail servers (or their domains), separated by commas, that put sent mail in the Sent folder "
        "themselves, besides Gmail and Microsoft 365: no copy is added there.",
    )

    # Gmail and Microsoft 365 sign-in (OAuth 2). The secrets are kept encrypted like passwords.
    mail_sync_google_client_id = fields.Char(
        string="Google Client ID", config_parameter="mail_crm_sync.google_client_id"
    )
    # Never stored in the form's rows: typed in, each goes straight to its parameter, encrypted, when
    # the form is saved, as Odoo writes the settings' related fields (see ``create``).
    mail_sync_google_client_secret = fields.Char(
        string="Google Client Secret", compute="_compute_mail_sync_client_secrets", readonly=False
    )
    mail_sync_microsoft_client_id = fields.Char(
        string="Microsoft Client ID", config_parameter="mail_crm_sync.microsoft_client_id"
    )
    mail_sync_microsoft_client_secret = fields.Char(
        string="Microsoft Client Secret", compute="_compute_mail_sync_client_secrets", readonly=False
    )
    mail_sync_microsoft_tenant = fields.Char(
        string="Microsoft Tenant",
        config_parameter="mail_crm_sync.microsoft_tenant",
        help="Your directory's id or domain; empty: any organization (common).",
    )

    mail_sync_oauth_redirect_uri = fields.Char(
        string="Redirect URI",
        compute="_compute_mail_sync_oauth_redirect_uri",
        help="Where the provider sends the browser back after sign-in: register it with the provider.",
    )
    mail_sync_parallel_jobs = fields.Integer(
        string="Parallel Sync Jobs",
        config_parameter="mail_crm_sync.parallel_jobs",
        default=1,
        help="How many accounts may sync at the same time, each in a cron thread of an Odoo server. "
        "Set it to the cron threads you give mail sync across your servers (--max-cron-threads).",
    )

    mail_sync_run_minutes = fields.Integer(
        string="Longest Sync of an Account (minutes)",
        config_parameter="mail_crm_sync.run_minutes",
        default=DEFAULT_RUN_MINUTES,
        help="A mail server that answers too slowly is dropped after this long, and the account says so: "
        "no server can hold an account or a cron thread longer. The next run goes on from there.",
    )

    def _compute_mail_sync_client_secrets(self):
        for kind in ("google", "microsoft"):
            # Never sent to the browser: the field shows whether one is set.
            shown = "********" if self._mail_sync_param(f"{kind}_client_secret", "") else ""
            for settings in self:
                settings[f"mail_sync_{kind}_client_secret"] = shown

    @api.depends("company_id")  # a dependency, so that the settings form (a new record) computes it
    def _compute_mail_sync_oauth_redirect_uri(self):
        # As the sign-in builds it (controllers/oauth.py): the address this browser uses for Odoo.
        root = request.httprequest.url_root if request else self.get_base_url() + "/"
        self.mail_sync_oauth_redirect_uri = root.rstrip("/") + OAUTH_CALLBACK

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._mail_sync_keep_client_secrets(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._mail_sync_keep_client_secrets(vals)
        return super().write(vals)

    @api.model
    def _mail_sync_keep_client_secrets(self, vals):
        """Take the client secrets out of ``vals`` into their parameters, encrypted: typed in,
        replaced by an empty field, or left as shown (the mask)."""
        Credentials = self.env["mail.sync.credentials"]
        for kind in ("google", "microsoft"):
            name = f"mail_sync_{kind}_client_secret"
            if name not in vals:
                continue
            secret = vals.pop(name)
            if secret != "********":
                self.env["ir.config_parameter"].sudo().set_param(
                    f"mail_crm_sync.{kind}_client_secret",
                    Credentials._encrypt_secret(secret) if secret else False,
                )

    def set_values(self):
        result = super().set_values()
        self.env["mail.sync.account"]._set_parallel_sync_jobs(self.mail_sync_parallel_jobs)
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_relink", raise_if_not_found=False)
        if cron:
            # The hour is the administrator's local hour; crons run on UTC.
            zone = pytz.timezone(self.env.user.tz or "UTC")
            hour = min(max(self.mail_sync_relink_hour, 0), 23)
            now = datetime.datetime.now(zone)
            local = zone.localize(datetime.datetime.combine(now.date(), datetime.time(hour)))
            if local <= now:
                local = zone.localize(
                    datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(hour))
                )
            cron.sudo().nextcall = local.astimezone(pytz.utc).replace(tzinfo=None)
        return result

    @api.model
    def _mail_sync_block_list(self):
        """Lowercase addresses, local parts and domains no contact is created for."""
        text = self._mail_sync_param("contact_block_list", DEFAULT_BLOCK_LIST)
        blocked = {item.strip().lower() for item in text.split(",") if item.strip()}
        for company in self.env["res.company"].sudo().search([("partner_id", "!=", False)]):
            for email in (company.email, company.partner_id.email):
                if email and "@" in email:
                    blocked.add(email.rsplit("@", 1)[1].strip().lower().rstrip(">"))
        blocked.update(
            domain.lower()
            for domain in self.env["mail.alias.domain"].sudo().search([("name", "!=", False)]).mapped("name")
        )
        return blocked

    @api.model
    def _mail_sync_param(self, key, default):
        return self.env["ir.config_parameter"].sudo().get_param(f"mail_crm_sync.{key}", default)

    @api.model
    def _mail_sync_default_visibility(self):
        visibility = self._mail_sync_param("default_visibility", "records")
        return visibility if visibility in dict(VISIBILITY_SELECTION) else "records"

    @api.model
    def _mail_sync_may_connect(self, user):
        """Whether ``user`` may connect a mailbox of their own (the 'Who May Connect' setting)."""
        if self._mail_sync_param("connect_policy", "sales") == "group":
            return user.has_group("mail_crm_sync.group_mail_sync_connect")
        return user.has_group("sales_team.group_sale_salesman")

    @api.model
    def _mail_sync_oauth_client(self, kind):
        """(client id, client secret) of a provider ("google" or "microsoft")."""
        secret = self.env["mail.sync.credentials"]._decrypt_secret(
            self._mail_sync_param(f"{kind}_client_secret", "")
        )
        return self._mail_sync_param(f"{kind}_client_id", ""), secret or ""

    @api.model
    def _mail_sync_oauth_endpoints(self, kind):
        """Where a provider signs users in, for the engine's ``configure``. System parameters
        (mail_crm_sync.<kind>_authorization_endpoint, _token_endpoint, _revocation_endpoint,
        microsoft_authority, oauth_ca_file) point them elsewhere: a test server, a sovereign cloud."""
        endpoints = {
            "authorization_endpoint": self._mail_sync_param(f"{kind}_authorization_endpoint", "") or None,
            "token_endpoint": self._mail_sync_param(f"{kind}_token_endpoint", "") or None,
            "revocation_endpoint": self._mail_sync_param(f"{kind}_revocation_endpoint", "") or None,
            "ca_file": self._mail_sync_param("oauth_ca_file", "") or None,
        }
        if kind == "microsoft":
            endpoints["tenant"] = self._mail_sync_param("microsoft_tenant", "") or None
            endpoints["authority"] = self._mail_sync_param("microsoft_authority", "") or None
        return endpoints

    @api.model
    def _mail_sync_oauth_grant_days(self, kind):
        """How long a grant lasts at this provider, when it lasts a fixed time (0: until revoked)."""
        try:
            return int(self._mail_sync_param(f"{kind}_grant_days", 0) or 0)
        except ValueError:
            return 0

    @api.model
    def _mail_sync_max_sending_accounts(self):
        try:
            return max(int(self._mail_sync_param("max_sending_accounts", 3)), 1)
        except ValueError:
            return 3

    @api.model
    def _mail_sync_self_filing_hosts(self):
        text = self._mail_sync_param("self_filing_hosts", "") or ""
        return [item.strip().lower() for item in text.split(",") if item.strip()]

    @api.model
    def _mail_sync_blocked_extensions(self):
        text = self._mail_sync_param("blocked_extensions", DEFAULT_BLOCKED_EXTENSIONS)
        return {item.strip().lower().lstrip(".") for item in text.split(",") if item.strip()}

    @api.model
    def _mail_sync_run_seconds(self):
        """How long one account's sync may take, in seconds (at least a minute)."""
        try:
            minutes = int(self._mail_sync_param("run_minutes", DEFAULT_RUN_MINUTES))
        except (TypeError, ValueError):
            minutes = DEFAULT_RUN_MINUTES
        return max(minutes, 1) * 60
