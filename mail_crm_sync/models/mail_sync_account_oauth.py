"""Gmail and Microsoft 365 accounts: OAuth 2 sign-in instead of a password (the engine's oauth.py)."""

import dataclasses
import datetime
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from mail_crm_sync_engine import (
    PROVIDERS,
    AuthenticationFailed,
    GrantRevoked,
    ProviderKind,
    TokenSet,
    configure,
    exchange_code,
    needs_refresh,
    refresh,
)

_logger = logging.getLogger(__name__)

# The account's provider (its field) to the engine's.
OAUTH_PROVIDERS = {"gmail": ProviderKind.GOOGLE, "microsoft": ProviderKind.MICROSOFT}
# Warn the owner this many days before a grant is likely to lapse.
WARN_DAYS_BEFORE = 7


class MailSyncAccount(models.Model):
    _inherit = "mail.sync.account"

    provider = fields.Selection(
        selection_add=[("gmail", "Gmail"), ("microsoft", "Microsoft 365")],
        ondelete={"gmail": "set default", "microsoft": "set default"},
    )
    state = fields.Selection(
        selection_add=[("reconnect", "Needs Re-connect")], ondelete={"reconnect": "set default"}
    )
    # The tokens, encrypted like passwords (mail.sync.credentials); administrators read ciphertext.
    oauth_access_token_stored = fields.Char(groups="base.group_system", copy=False)
    oauth_refresh_token_stored = fields.Char(groups="base.group_system", copy=False)
    oauth_cache_stored = fields.Text(groups="base.group_system", copy=False, help="msal's token cache.")
    oauth_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    oauth_connected_at = fields.Datetime(string="Connected On", readonly=True, copy=False)
    oauth_warned = fields.Boolean(copy=False, readonly=True)
    is_oauth = fields.Boolean(compute="_compute_is_oauth")

    @api.depends("provider")
    def _compute_is_oauth(self):
        for account in self:
            account.is_oauth = account.provider in OAUTH_PROVIDERS

    @api.model
    def _provider_presets(self):
        presets = super()._provider_presets()
        for name, kind in OAUTH_PROVIDERS.items():
            provider = PROVIDERS[kind]
            presets[name] = {
                "imap_host": provider.imap_host,
                "imap_port": provider.imap_port,
                "imap_security": provider.imap_security.value,
                "smtp_host": provider.smtp_host,
                "smtp_port": provider.smtp_port,
                "smtp_security": provider.smtp_security.value,
                "files_sent_mail": provider.files_sent_mail,
            }
        return presets

    # -- the provider, as this installation configures it -------------------------------------

    def _oauth_provider(self):
        """The engine's provider preset with this database's client and endpoints (Settings)."""
        self.ensure_one()
        kind = OAUTH_PROVIDERS[self.provider]
        settings = self.env["res.config.settings"]
        endpoints = settings._mail_sync_oauth_endpoints(kind)
        return configure(PROVIDERS[kind], **endpoints)

    def _oauth_client(self):
        """(client id, client secret) from Settings, or a clear error."""
        self.ensure_one()
        kind = OAUTH_PROVIDERS[self.provider]
        client_id, secret = self.env["res.config.settings"]._mail_sync_oauth_client(kind)
        if not client_id or not secret:
            raise UserError(
                self.env._(
                    "%(provider)s sign-in is not set up: an administrator enters its client id and secret "
                    "in Settings > CRM > Mail Sync.",
                    provider=PROVIDERS[kind].label,
                )
            )
        return client_id, secret

    # -- tokens ---------------------------------------------------------------------------------

    def _oauth_tokens(self):
        self.ensure_one()
        account = self.sudo()
        access = self._decrypt_secret(account.oauth_access_token_stored)
        if not access:
            return None
        expires = account.oauth_expires_at
        return TokenSet(
            access_token=access,
            refresh_token=self._decrypt_secret(account.oauth_refresh_token_stored) or None,
            expires_at=expires.replace(tzinfo=datetime.UTC) if expires else None,
            scope="",
            raw_cache=self._decrypt_secret(account.oauth_cache_stored) or None,
        )

    def _oauth_save(self, tokens, connected=False):
        """Keep what a sign-in or a refresh gave: always the refresh token too (it may be new)."""
        values = {
            "oauth_access_token_stored": self._encrypt_secret(tokens.access_token),
            "oauth_refresh_token_stored": self._encrypt_secret(tokens.refresh_token)
            if tokens.refresh_token
            else False,
            "oauth_cache_stored": self._encrypt_secret(tokens.raw_cache) if tokens.raw_cache else False,
            "oauth_expires_at": tokens.expires_at.astimezone(datetime.UTC).replace(tzinfo=None)
            if tokens.expires_at
            else False,
        }
        if connected:
            values.update(oauth_connected_at=fields.Datetime.now(), oauth_warned=False)
        self.sudo().write(values)

    def _oauth_access_token(self):
        """A valid access token: refreshed when it lapses within five minutes, not at every poll.
        Raises GrantRevoked when the provider no longer honours the grant."""
        self.ensure_one()
        tokens = self._oauth_tokens()
        if tokens is None:
            raise GrantRevoked(f"{self.name} has not been connected to {self._oauth_provider().label} yet.")
        if needs_refresh(tokens):
            client_id, secret = self._oauth_client()
            tokens = refresh(self._oauth_provider(), client_id, secret, tokens)
            self._oauth_save(tokens)
        return tokens.access_token

    def _oauth_connect(self, code, redirect_uri, verifier):
        """End of the sign-in: exchange the code, keep the tokens, list the folders."""
        self.ensure_one()
        client_id, secret = self._oauth_client()
        tokens = exchange_code(self._oauth_provider(), client_id, secret, code, redirect_uri, verifier)
        self._oauth_save(tokens, connected=True)
        if self.state == "reconnect":
            self.sudo().activity_feedback(
                ["mail.mail_activity_data_warning"], feedback=self.env._("The account was connected again.")
            )
        return self.action_test_connection()

    # -- the settings the engine connects with ------------------------------------------------

    def _connection_settings(self):
        """The account's own server settings (a preset, which an administrator may change), with
        XOAUTH2 and the provider's way with CONDSTORE."""
        settings = super()._connection_settings()
        if self.provider not in OAUTH_PROVIDERS:
            return settings
        return dataclasses.replace(
            settings,
            password=None,
            oauth_token=self._oauth_access_token(),
            use_condstore=self._oauth_provider().use_condstore,
        )

    def _smtp_settings(self):
        settings = super()._smtp_settings()
        if self.provider not in OAUTH_PROVIDERS:
            return settings
        return dataclasses.replace(settings, password=None, oauth_token=self._oauth_access_token())

    # -- outcomes ---------------------------------------------------------------------------------

    def _record_outcome(self, status, error, folder_errors=()):
        if self.provider in OAUTH_PROVIDERS and isinstance(error, AuthenticationFailed):
            # The server refused a token we held valid (revoked there, or a clock apart): not a
            # connection failure. The next run refreshes it; a refused refresh asks to re-connect.
            self.sudo().oauth_expires_at = fields.Datetime.now()
            self._write_outcome(
                {
                    "last_error": self._error_message(error),
                    "last_attempt_date": fields.Datetime.now(),
                    "sync_pending": False,
                }
            )
            return
        if isinstance(error, GrantRevoked):
            self._write_outcome(
                {
                    "state": "reconnect",
                    "last_error": self._error_message(error),
                    "last_attempt_date": fields.Datetime.now(),
                    "sync_pending": False,
                }
            )
            self._notify_reconnect()
            return
        super()._record_outcome(status, error, folder_errors)
        if status in ("done", "pending") and self.provider in OAUTH_PROVIDERS:
            self._warn_before_lapse()

    def _notify_reconnect(self):
        note = self.env._(
            "%(provider)s no longer accepts the sign-in of %(account)s (it was revoked or has expired): "
            "open the account and press Re-connect.",
            provider=PROVIDERS[OAUTH_PROVIDERS[self.provider]].label,
            account=self.name,
        )
        users = self.user_id if self.user_id.active else self.env.ref("base.group_system").users
        for user in users.filtered("active"):
            self._schedule_warning(user, note)

    def _warn_before_lapse(self):
        """Some grants last a fixed time (Settings: days a grant lasts; Google apps in testing: 7).
        Warn the owner a week before, once per sign-in."""
        days = self.env["res.config.settings"]._mail_sync_oauth_grant_days(OAUTH_PROVIDERS[self.provider])
        if not days or self.oauth_warned or not self.oauth_connected_at:
            return
        lapses = self.oauth_connected_at + datetime.timedelta(days=days)
        if fields.Datetime.now() < lapses - datetime.timedelta(days=WARN_DAYS_BEFORE):
            return
        self.sudo().oauth_warned = True
        if self.user_id.active:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=self.user_id.id,
                date_deadline=lapses.date(),
                summary=self.env._("Re-connect %(account)s", account=self.name),
                note=self.env._(
                    "The sign-in of %(account)s lapses around %(date)s: press Re-connect on the account "
                    "before then, or its mail stops syncing.",
                    account=self.name,
                    date=lapses.date(),
                ),
            )

    # -- actions ----------------------------------------------------------------------------------

    def action_oauth_connect(self):
        """Start the sign-in with the provider, in this browser tab."""
        self.ensure_one()
        self.check_access("write")
        if not self._can_see_password():
            raise UserError(self.env._("Only the owner or an administrator can connect this account."))
        self._oauth_client()  # says so now if Settings lack the client
        return {
            "type": "ir.actions.act_url",
            "url": f"/mail_crm_sync/oauth/connect/{self.id}",
            "target": "self",
        }
