"""Gmail and Microsoft 365 accounts: OAuth 2 sign-in instead of a password (the engine's oauth.py)."""

import dataclasses
import datetime
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from mail_crm_sync_engine import (
    PROVIDERS,
    AuthenticationFailed,
    ClientRefused,
    GrantRevoked,
    MailSyncError,
    ProviderKind,
    TokenSet,
    configure,
    exchange_code,
    needs_refresh,
    refresh,
    revoke,
)

from ..exceptions import MailSyncUserError

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
    # The tokens, encrypted like passwords (mail.sync.credentials); administrators read ciphertext.
    oauth_access_token_stored = fields.Char(groups="base.group_system", copy=False)
    oauth_refresh_token_stored = fields.Char(groups="base.group_system", copy=False)
    oauth_cache_stored = fields.Text(groups="base.group_system", copy=False, help="msal's token cache.")
    oauth_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    oauth_connected_at = fields.Datetime(string="Connected On", readonly=True, copy=False)
    oauth_warned = fields.Boolean(copy=False, readonly=True)
    # The administrators were told the provider refuses the client id or secret (once, until a
    # run succeeds again).
    oauth_client_warned = fields.Boolean(copy=False, readonly=True)
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

    def unlink(self):
        """Deleting a Gmail account revokes its grant at Google (RFC 7009), after the deletion (a
        deletion refused revokes nothing), so the refresh token Odoo held is worth nothing anywhere.
        Microsoft lets an application revoke no single grant (only the user, in their account's app
        permissions, or an administrator revoking all of a user's sessions): nothing is done there.
        A revocation that fails (network) never blocks the deletion: it is logged, and the user told."""
        grants = []
        for account in self.filtered(lambda account: account.provider in OAUTH_PROVIDERS):
            provider = account._oauth_provider()
            try:
                tokens = account._oauth_tokens()  # None: never connected
            except UserError as error:  # this server's key cannot decrypt them: delete all the same
                _logger.warning(
                    "The grant of mail account %s cannot be read to revoke it: %s", account.id, error
                )
                tokens = False
            if provider.revocation_endpoint and tokens is not None:
                grants.append((account, account.name, account.user_id, provider, tokens))
        result = super().unlink()
        for account, name, owner, provider, tokens in grants:
            if not tokens or not account._oauth_revoke(provider, tokens):
                account._oauth_tell_revocation_failed(name, owner, provider)
        return result

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
            raise MailSyncUserError(
                self.env._(
                    "%(provider)s sign-in is not set up: an administrator enters its client id and secret "
                    "in Settings > CRM > Mail Sync.",
                    provider=PROVIDERS[kind].label,
                ),
                self.env._("Sign-in Not Set Up"),
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
        if tokens is not None and not needs_refresh(tokens):
            return tokens.access_token
        return self._oauth_refresh(tokens).access_token

    def _oauth_refresh(self, tokens=None):
        """Refresh the access token now and save what the provider gave. Raises GrantRevoked when
        the provider no longer honours the grant, ClientRefused when it refuses the client."""
        self.ensure_one()
        tokens = tokens or self._oauth_tokens()
        if tokens is None:
            raise GrantRevoked(f"{self.name} has not been connected to {self._oauth_provider().label} yet.")
        client_id, secret = self._oauth_client()
        tokens = refresh(self._oauth_provider(), client_id, secret, tokens)
        self._oauth_save(tokens)
        return tokens

    def _oauth_connect(self, code, redirect_uri, verifier):
        """End of the sign-in: exchange the code, check it is this account's mailbox, keep the
        tokens, list the folders."""
        self.ensure_one()
        client_id, secret = self._oauth_client()
        provider = self._oauth_provider()
        tokens = exchange_code(provider, client_id, secret, code, redirect_uri, verifier)
        self._oauth_check_identity(provider, tokens)
        self._oauth_save(tokens, connected=True)
        if self.oauth_client_warned:
            self.sudo().oauth_client_warned = False
        if self.state == "reconnect":
            self.sudo().activity_feedback(
                ["mail.mail_activity_data_warning"], feedback=self.env._("The account was connected again.")
            )
        return self.action_test_connection()

    def _oauth_check_identity(self, provider, tokens):
        """Refuse a sign-in to another mailbox than the account's login (user name, else email):
        a user who picked another account at the provider would otherwise swap this account's
        mailbox silently. The account's tokens stay as they were; the new grant is revoked where
        the provider can."""
        signed_in = (tokens.identity or "").lower()
        if signed_in and signed_in == (self.login or "").strip().lower():
            return
        self._oauth_revoke(provider, tokens)
        if not signed_in:
            raise MailSyncUserError(
                self.env._(
                    "%(provider)s did not say which mailbox you signed in to, so %(account)s was not "
                    "connected: nothing was changed. Try again; if it goes on, tell your administrator.",
                    provider=provider.label,
                    account=self.name,
                ),
                self.env._("Sign-in Not Matched"),
            )
        raise MailSyncUserError(
            self.env._(
                "You signed in to %(provider)s as %(identity)s, but %(account)s is the mailbox %(login)s: "
                "nothing was changed. Sign in again and choose %(login)s at %(provider)s (if this mailbox "
                "signs in under another name, put that name in the account's Username first).",
                provider=provider.label,
                identity=tokens.identity,
                account=self.name,
                login=self.login,
            ),
            self.env._("Sign-in Not Matched"),
        )

    def _oauth_revoke(self, provider, tokens):
        """Revoke the grant of ``tokens`` where the provider offers it; False when that failed
        (logged). A provider without revocation (Microsoft) counts as done."""
        try:
            revoke(provider, tokens.refresh_token or tokens.access_token)
        except MailSyncError as error:
            _logger.warning(
                "The %s grant of mail account %s was not revoked: %s", provider.label, self.id, error
            )
            return False
        return True

    def _oauth_tell_revocation_failed(self, name, owner, provider):
        """The account is deleted but its grant lives on: tell the user who deleted it and its
        owner where to remove the access by hand."""
        message = self.env._(
            "%(account)s was deleted, but its access to the mailbox could not be revoked at %(provider)s. "
            "Remove it in the mailbox's account settings (Google: Security > Third-party apps with "
            "account access).",
            account=name,
            provider=provider.label,
        )
        for user in (self.env.user | owner).filtered("active"):
            user._bus_send(
                "simple_notification",
                {
                    "type": "warning",
                    "title": self.env._("Access not revoked"),
                    "message": message,
                    "sticky": True,
                },
            )

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

    def _record_outcome(self, status, error, folder_errors=(), run_end=None):
        super()._record_outcome(status, error, folder_errors, run_end)
        if self.provider not in OAUTH_PROVIDERS:
            return
        if status in ("done", "pending"):
            if self.oauth_client_warned:
                self.sudo().oauth_client_warned = False
            self._warn_before_lapse()
        elif isinstance(error, ClientRefused) and not self.oauth_client_warned:
            # Every account of the provider fails alike; what to fix is in Settings, not the account.
            self.sudo().oauth_client_warned = True
            self._notify_administrators(self._client_refused_sentence())

    def _retry_after_refusal(self, error):
        """The mail server refused a token we held valid (revoked, or dropped early by the
        provider): refresh it now, whatever its expiry says, and log in once more. A refresh
        answering invalid_grant raises GrantRevoked (the account then needs Re-connect)."""
        if self.provider not in OAUTH_PROVIDERS:
            return super()._retry_after_refusal(error)
        if not isinstance(error, AuthenticationFailed):
            return False
        self._oauth_refresh()
        return True

    def _needs_reconnect(self, error):
        if self.provider not in OAUTH_PROVIDERS:
            return super()._needs_reconnect(error)
        return isinstance(error, GrantRevoked)

    def _reconnect_note(self):
        if self.provider not in OAUTH_PROVIDERS:
            return super()._reconnect_note()
        return self.env._(
            "%(provider)s no longer accepts the sign-in of %(account)s (it was revoked or has expired): "
            "open the account and press Re-connect.",
            provider=PROVIDERS[OAUTH_PROVIDERS[self.provider]].label,
            account=self.name,
        )

    def _error_message(self, error):
        """The provider's refusal of the client, and a mailbox that refuses even a fresh token,
        in words an OAuth user can act on; the rest as for any account."""
        if isinstance(error, ClientRefused):
            sentence = self._client_refused_sentence()
        elif self.provider in OAUTH_PROVIDERS and isinstance(error, AuthenticationFailed):
            if self.provider == "gmail":
                where = self.env._("in Gmail: Settings > Forwarding and POP/IMAP > Enable IMAP")
            else:
                where = self.env._(
                    "in Microsoft 365: the administrator enables IMAP (and Authenticated SMTP, to send) "
                    "for the mailbox"
                )
            sentence = self.env._(
                "%(provider)s gave a fresh sign-in, but the mailbox refuses it: IMAP may be turned off "
                "for this mailbox. Turn it on (%(where)s), then press Re-connect on the account.",
                provider=self._oauth_label(),
                where=where,
            )
        else:
            return super()._error_message(error)
        return self.env._("%(sentence)s Server said: %(detail)s", sentence=sentence, detail=str(error))

    def _client_refused_sentence(self):
        return self.env._(
            "%(provider)s refuses this Odoo's client id or secret: an administrator must check them in "
            "Settings > CRM > Mail Sync.",
            provider=self._oauth_label(),
        )

    def _oauth_label(self):
        kind = OAUTH_PROVIDERS.get(self.provider)
        return PROVIDERS[kind].label if kind else self.env._("The sign-in provider")

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
            raise MailSyncUserError(
                self.env._("Only the owner or an administrator can connect this account."),
                self.env._("Not Allowed"),
            )
        self._oauth_client()  # says so now if Settings lack the client
        return {
            "type": "ir.actions.act_url",
            "url": f"/mail_crm_sync/oauth/connect/{self.id}",
            "target": "self",
        }
