import urllib.parse
from datetime import timedelta
from unittest.mock import patch

import requests
from imapclient import IMAPClient
from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from mail_crm_sync_engine import AuthenticationFailed, GrantRevoked, Security, TokenSet
from mail_crm_sync_engine.testing import DovecotServer, free_port
from mail_crm_sync_engine.testing.oauth import OAuthServer
from mail_crm_sync_engine.testing.smtp import SmtpServer

from .common import make_email, screenshot_at_end


@tagged("post_install", "-at_install")
class TestOAuth(HttpCase):
    """Gmail and Microsoft 365 accounts signed in through a loopback authorization server, which
    the harness Dovecot and SMTP server ask about the bearer tokens they are given."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.oauth = OAuthServer().start()
        cls.addClassCleanup(cls.oauth.stop)
        cls.server = DovecotServer(oauth_introspection_url=cls.oauth.introspection_url).start()
        cls.addClassCleanup(cls.server.stop)
        cls.smtp = SmtpServer(Security.NONE, oauth_introspection_url=cls.oauth.introspection_url).start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.salesman = new_test_user(
            cls.env, login="mcs_oauth_salesman", groups="sales_team.group_sale_salesman", name="Olga OAuth"
        )
        cls.other = new_test_user(cls.env, login="mcs_oauth_other", groups="sales_team.group_sale_salesman")
        google_id, google_secret = cls.oauth.add_client()
        microsoft_id, microsoft_secret = cls.oauth.add_client()
        cls.google_client = (google_id, google_secret)
        settings = cls.env["res.config.settings"].create(
            {
                "mail_sync_google_client_id": google_id,
                "mail_sync_google_client_secret": google_secret,
                "mail_sync_microsoft_client_id": microsoft_id,
                "mail_sync_microsoft_client_secret": microsoft_secret,
            }
        )
        settings.execute()
        Param = cls.env["ir.config_parameter"].sudo()
        # The browser-facing sign-in page over plain HTTP (Chromium would refuse the test
        # certificate); the token endpoints over HTTPS, trusting the test certificate.
        Param.set_param(
            "mail_crm_sync.google_authorization_endpoint",
            f"http://{cls.oauth.host}:{cls.oauth.port}/o/oauth2/v2/auth",
        )
        Param.set_param("mail_crm_sync.google_token_endpoint", cls.oauth.google_token_uri)
        Param.set_param("mail_crm_sync.google_revocation_endpoint", cls.oauth.google_revocation_uri)
        Param.set_param("mail_crm_sync.microsoft_authority", cls.oauth.microsoft_authority("tenant-1"))
        Param.set_param("mail_crm_sync.oauth_ca_file", cls.oauth.ca_file)
        Param.set_param("mail_crm_sync.undo_send_seconds", "0")  # sent at once

    def setUp(self):
        super().setUp()
        self.oauth.auto_approve = True
        self.oauth.rotate_refresh_tokens = False
        self.oauth.access_token_lifetime = 3600
        self.oauth.sign_in(None)
        self.oauth.refused_mailboxes.clear()

    def account(self, provider="gmail", user=None):
        box = self.server.add_user()
        user = user or self.salesman
        account = (
            self.env["mail.sync.account"]
            .with_user(user)
            .create(
                {
                    "name": f"{provider} of {user.name}",
                    "provider": provider,
                    "email": box.email,
                    "user_id": user.id,
                    "imap_host": self.server.host,
                    "imap_port": self.server.port,
                    "imap_security": "none",
                    "sending_enabled": True,
                    "smtp_host": self.smtp.host,
                    "smtp_port": self.smtp.port,
                    "smtp_security": "none",
                }
            )
            .sudo()
        )
        return account, box

    def send_from(self, account):
        """Write to Alice from ``account``, as its owner."""
        self.env["mail.sync.compose"].with_user(account.user_id).create(
            {
                "account_id": account.id,
                "email_to": "alice@client.example",
                "subject": "Hi",
                "body": "<p>Hi</p>",
            }
        ).action_send()
        self.env["mail.sync.outbox"]._cron_send()  # as the scheduled action does after Send's commit

    def sign_in(self, account, login=None):
        """The browser's round trip: Odoo → the provider's consent → Odoo's callback."""
        self.authenticate(login or account.user_id.login, login or account.user_id.login)
        started = self.url_open(f"/mail_crm_sync/oauth/connect/{account.id}", allow_redirects=False)
        self.assertIn(started.status_code, (302, 303))
        consent = requests.get(
            started.headers["Location"], allow_redirects=False, verify=self.oauth.ca_file, timeout=10
        )
        self.assertIn(consent.status_code, (302, 303))
        back = urllib.parse.urlsplit(consent.headers["Location"])
        self.assertEqual(back.path, "/mail_crm_sync/oauth/callback")
        response = self.url_open(f"{back.path}?{back.query}", allow_redirects=False)
        self.env.invalidate_all()
        return started, response

    def test_the_connect_flow_signs_in_with_pkce_and_a_state_bound_to_the_session(self):
        for provider in ("gmail", "microsoft"):
            with self.subTest(provider):
                account, _box = self.account(provider)
                started, response = self.sign_in(account)
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(started.headers["Location"]).query))
                self.assertEqual(query["code_challenge_method"], "S256")
                self.assertTrue(query["state"] and query["code_challenge"])
                self.assertEqual(query["login_hint"], account.login)
                self.assertIn(response.status_code, (302, 303))
                self.assertEqual(account.state, "active")
                self.assertFalse(account.last_error)
                self.assertIn("INBOX", account.folder_ids.mapped("name"))
                self.assertTrue(account.oauth_connected_at)
                self.assertFalse(account.password)

    def test_a_callback_this_session_did_not_start_is_refused(self):
        account, _box = self.account()
        self.authenticate(self.salesman.login, self.salesman.login)
        self.url_open(f"/mail_crm_sync/oauth/connect/{account.id}", allow_redirects=False)
        forged = self.url_open(
            "/mail_crm_sync/oauth/callback?state=forged&code=stolen", allow_redirects=False
        )
        self.assertEqual(forged.status_code, 400)
        self.env.invalidate_all()
        self.assertEqual(account.state, "draft")
        self.assertFalse(account.sudo().oauth_access_token_stored)
        # Another user's session cannot finish this user's sign-in either.
        started = self.url_open(f"/mail_crm_sync/oauth/connect/{account.id}", allow_redirects=False)
        consent = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
        back = urllib.parse.urlsplit(consent.headers["Location"])
        self.authenticate(self.other.login, self.other.login)
        stolen = self.url_open(f"{back.path}?{back.query}", allow_redirects=False)
        self.assertEqual(stolen.status_code, 400)
        self.env.invalidate_all()
        self.assertEqual(account.state, "draft")

    def test_imap_sync_and_smtp_send_with_xoauth2(self):
        account, box = self.account()
        self.sign_in(account)
        self.server.deliver(
            box, make_email(sender="alice@client.example", to=box.email, message_id="<o1@c.example>")
        )
        self.assertEqual(account._sync_accounts(), {account.id: "done"})
        self.env.invalidate_all()
        self.assertEqual(account.message_count, 1)
        before = len(self.smtp.received)
        self.send_from(account)
        self.assertEqual(len(self.smtp.received), before + 1)
        self.assertEqual(self.smtp.received[-1].login, box.login, "XOAUTH2 as the mailbox's user")

    def test_refreshed_shortly_before_expiry_and_the_rotated_refresh_token_kept(self):
        self.oauth.rotate_refresh_tokens = True
        account, _box = self.account("microsoft")
        self.sign_in(account)
        first_refresh_token = account._oauth_tokens().refresh_token
        refreshes = self.oauth.token_requests["refresh_token"]

        account._sync_accounts()  # an hour left: no refresh
        self.assertEqual(self.oauth.token_requests["refresh_token"], refreshes)

        account.sudo().oauth_expires_at = fields.Datetime.now() + timedelta(minutes=2)
        self.assertEqual(account._sync_accounts(), {account.id: "done"})
        self.env.invalidate_all()
        self.assertEqual(self.oauth.token_requests["refresh_token"], refreshes + 1)
        tokens = account._oauth_tokens()
        self.assertNotEqual(tokens.refresh_token, first_refresh_token, "the rotated one is saved")
        self.assertGreater(
            tokens.expires_at.replace(tzinfo=None), fields.Datetime.now() + timedelta(minutes=30)
        )
        self.assertEqual(account.state, "active")

    def assert_one_run_asks_to_reconnect(self, account):
        """One sync: failed, the account in Needs Re-connect with no failure counted, its owner told."""
        self.assertEqual(account._sync_accounts(), {account.id: "failed"})
        self.env.invalidate_all()
        self.assertEqual((account.state, account.failure_count), ("reconnect", 0))
        self.assertIn("Re-connect", account.last_error)
        warning = account.activity_ids.filtered(lambda activity: activity.user_id == self.salesman)
        self.assertTrue(warning, "the owner is told at once")

    def test_a_revoked_grant_asks_for_reconnect_without_counting_failures(self):
        account, _box = self.account()
        self.sign_in(account)
        tokens = account._oauth_tokens()
        self.oauth.revoke_grant(tokens.refresh_token)
        account.sudo().oauth_expires_at = fields.Datetime.now() - timedelta(minutes=1)

        self.assert_one_run_asks_to_reconnect(account)
        self.assertNotIn(
            account, self.env["mail.sync.account"].search([("state", "in", ("active", "failing"))])
        )

        self.sign_in(account)  # Re-connect
        self.assertEqual((account.state, account.failure_count), ("active", 0))
        self.assertEqual(account._sync_accounts(), {account.id: "done"})

    def test_the_owner_is_warned_a_week_before_a_grant_lapses(self):
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.google_grant_days", "30")
        account, _box = self.account()
        self.sign_in(account)
        account._sync_accounts()
        self.env.invalidate_all()
        self.assertFalse(account.activity_ids, "a month left: no warning yet")
        account.sudo().oauth_connected_at = fields.Datetime.now() - timedelta(days=23, minutes=1)
        account._sync_accounts()
        account._sync_accounts()
        self.env.invalidate_all()
        warnings = account.activity_ids.filtered(lambda activity: activity.user_id == self.salesman)
        self.assertEqual(len(warnings), 1, "once per sign-in")
        self.assertIn("Re-connect", warnings.summary)

    def test_a_token_the_server_refuses_is_refreshed_and_the_same_run_goes_on(self):
        # Needs the runtime to call _retry_after_refusal on a refused login.
        account, box = self.account()
        self.sign_in(account)
        self.oauth.expire(account._oauth_tokens().access_token)  # the provider says no before we expect it
        refreshes = self.oauth.token_requests["refresh_token"]
        self.server.deliver(
            box, make_email(sender="alice@client.example", to=box.email, message_id="<o2@c.example>")
        )

        self.assertEqual(account._sync_accounts(), {account.id: "done"})
        self.assertEqual(self.oauth.token_requests["refresh_token"], refreshes + 1)
        self.env.invalidate_all()
        self.assertEqual((account.state, account.failure_count), ("active", 0))
        self.assertEqual(account.message_count, 1)

    def test_a_refused_login_refreshes_the_token_now_even_one_that_looks_valid(self):
        account, _box = self.account()
        self.sign_in(account)
        before = account._oauth_tokens()
        refreshes = self.oauth.token_requests["refresh_token"]
        refused = AuthenticationFailed("The server refused the login.")

        self.assertTrue(account._retry_after_refusal(refused), "log in once more")
        self.assertEqual(self.oauth.token_requests["refresh_token"], refreshes + 1)
        self.assertNotEqual(account._oauth_tokens().access_token, before.access_token, "saved")
        self.assertEqual(self.oauth.username_for(account._connection_settings().oauth_token), account.login)

        password_account = self.env["mail.sync.account"].create(
            {"name": "IMAP", "email": "imap@example.test", "imap_host": self.server.host, "password": "x"}
        )
        self.assertFalse(password_account._retry_after_refusal(refused), "a password cannot be cured")

        self.oauth.revoke_grant(account._oauth_tokens().refresh_token)
        with self.assertRaises(GrantRevoked):
            account._retry_after_refusal(refused)

    def test_a_mailbox_that_refuses_even_fresh_tokens_counts_a_failure_at_every_run(self):
        """IMAP turned off for the mailbox: each run is one failure, ten disable the account, and
        the sentence says where IMAP is turned on (not "check the login and password")."""
        account, box = self.account()
        self.sign_in(account)
        self.oauth.refuse_mailbox(box.login)
        refreshes = self.oauth.token_requests["refresh_token"]

        for run in range(1, 11):
            self.assertEqual(account._sync_accounts(), {account.id: "failed"})
            self.env.invalidate_all()
            self.assertEqual(account.failure_count, run)
        self.assertEqual(account.state, "disabled")
        self.assertEqual(
            self.oauth.token_requests["refresh_token"] - refreshes, 10, "one forced refresh a run"
        )
        self.assertIn("IMAP may be turned off", account.last_error)
        self.assertIn("Forwarding and POP/IMAP", account.last_error)
        self.assertNotIn("password", account.last_error)
        warning = account.activity_ids.filtered(lambda activity: activity.user_id == self.salesman)
        self.assertTrue(warning, "the owner is told the account stopped")

    def test_a_grant_revoked_while_the_access_token_is_valid_needs_reconnect_after_one_run(self):
        # Needs the runtime to call _retry_after_refusal on a refused login.
        account, _box = self.account()
        self.sign_in(account)
        tokens = account._oauth_tokens()
        self.oauth.revoke_grant(tokens.refresh_token)  # at the provider; the access token has an hour left

        self.assert_one_run_asks_to_reconnect(account)

    def test_a_client_secret_changed_at_the_provider_is_counted_and_told_to_administrators_once(self):
        google_id, google_secret = self.google_client
        account, _box = self.account()
        self.sign_in(account)
        self.oauth.clients[google_id] = "changed-at-google"
        self.addCleanup(self.oauth.clients.__setitem__, google_id, google_secret)
        account.sudo().oauth_expires_at = fields.Datetime.now() - timedelta(minutes=1)
        administrators = self.env.ref("base.group_system").users.filtered(lambda user: user.id != 1)

        for run in (1, 2):
            self.assertEqual(account._sync_accounts(), {account.id: "failed"})
            self.env.invalidate_all()
            self.assertEqual((account.state, account.failure_count), ("failing", run))
        self.assertIn("client id or secret", account.last_error)
        self.assertIn("Settings > CRM > Mail Sync", account.last_error)
        self.assertNotIn("password", account.last_error)
        told = account.activity_ids.filtered(lambda activity: activity.user_id in administrators)
        self.assertEqual(told.user_id, administrators, "every administrator")
        self.assertEqual(len(told), len(administrators), "once, not at every run")
        self.assertIn("client id or secret", told[0].note)

        self.oauth.clients[google_id] = google_secret  # the administrator fixed it
        self.assertEqual(account._sync_accounts(), {account.id: "done"})
        self.env.invalidate_all()
        self.assertEqual((account.state, account.failure_count), ("active", 0))
        self.assertFalse(account.oauth_client_warned, "the next refusal is told again")

    def test_reconnect_to_another_mailbox_is_refused_and_the_account_keeps_its_tokens(self):
        for provider, revoked in (("gmail", True), ("microsoft", False)):
            with self.subTest(provider):
                account, _box = self.account(provider)
                self.sign_in(account)
                before = account._oauth_tokens()
                intruder = f"intruder-{provider}@example.test"
                self.oauth.sign_in(intruder, over_hint=True)  # picks another account at the provider

                _started, response = self.sign_in(account)
                self.assertIn(response.status_code, (302, 303))
                self.assertIn(f"You signed in to {account._oauth_label()} as {intruder}", account.last_error)
                self.assertIn(account.login, account.last_error)
                self.assertEqual(account.state, "active")
                after = account._oauth_tokens()
                self.assertEqual(
                    (after.access_token, after.refresh_token), (before.access_token, before.refresh_token)
                )
                # Google revokes the grant just given; Microsoft has no revocation for an app.
                self.assertEqual(self.oauth.live_grants(intruder), 0 if revoked else 1)
                self.oauth.sign_in(None)

    def test_the_identity_is_compared_without_case_and_must_be_known(self):
        account, _box = self.account()
        provider = account._oauth_provider()
        account._oauth_check_identity(
            provider, TokenSet("at", None, None, "", identity=account.login.upper())
        )
        with self.assertRaisesRegex(UserError, "did not say which mailbox"):
            account._oauth_check_identity(provider, TokenSet("at", None, None, ""))

    def test_deleting_a_gmail_account_revokes_its_grant_and_microsoft_is_left_alone(self):
        gmail, gmail_box = self.account("gmail")
        microsoft, microsoft_box = self.account("microsoft")
        self.sign_in(gmail)
        self.sign_in(microsoft)
        requests_before = self.oauth.revocation_requests

        (gmail | microsoft).with_user(self.salesman).unlink()
        self.assertFalse((gmail | microsoft).exists())
        self.assertEqual(self.oauth.live_grants(gmail_box.login), 0)
        self.assertEqual(self.oauth.revocation_requests, requests_before + 1, "none asked of Microsoft")
        self.assertEqual(self.oauth.live_grants(microsoft_box.login), 1)

    def test_a_revocation_that_fails_does_not_stop_the_deletion(self):
        account, box = self.account()
        self.sign_in(account)
        self.env["ir.config_parameter"].sudo().set_param(
            "mail_crm_sync.google_revocation_endpoint", f"https://127.0.0.1:{free_port()}/revoke"
        )
        self.addCleanup(
            self.env["ir.config_parameter"].sudo().set_param,
            "mail_crm_sync.google_revocation_endpoint",
            self.oauth.google_revocation_uri,
        )
        logger = "odoo.addons.mail_crm_sync.models.mail_sync_account_oauth"
        with self.assertLogs(logger, "WARNING") as logged:
            account.with_user(self.salesman).unlink()
        self.assertFalse(account.exists())
        self.assertIn("was not revoked", logged.output[0])
        self.assertEqual(self.oauth.live_grants(box.login), 1)
        self.env.cr.precommit.run()  # the bus writes its notifications when the transaction commits
        told = self.env["bus.bus"].sudo().search([("message", "ilike", "Access not revoked")])
        self.assertEqual(len(told), 1, "the owner, who deleted it, is told where to remove the access")
        self.assertIn("Third-party apps", told.message)

    def test_gmail_folders_by_special_use_and_no_sent_copy_from_us(self):
        gmail = DovecotServer(
            oauth_introspection_url=self.oauth.introspection_url,
            special_folders={
                "[Gmail]/Sent Mail": r"\Sent",
                "[Gmail]/All Mail": r"\All",
                "[Gmail]/Trash": r"\Trash",
            },
        ).start()
        self.addCleanup(gmail.stop)
        account, box = self.account()
        account.write({"imap_host": gmail.host, "imap_port": gmail.port})
        box = gmail.add_user(login=box.login)
        self.sign_in(account)
        roles = {folder.name: (folder.role, folder.active) for folder in account.folder_ids}
        self.assertEqual(roles["[Gmail]/Sent Mail"], ("sent", True))
        self.assertEqual(roles["[Gmail]/All Mail"], ("all", False), "never chosen by default")
        self.send_from(account)
        client = IMAPClient(gmail.host, port=gmail.port, ssl=False)
        client.oauth2_login(box.login, account._oauth_tokens().access_token)
        self.addCleanup(client.logout)
        self.assertEqual(
            client.folder_status("[Gmail]/Sent Mail", ["MESSAGES"])[b"MESSAGES"], 0, "Gmail files it"
        )
        self.assertEqual(len(self.env["mail.sync.message"].search([("account_ids", "in", account.ids)])), 1)

    def test_tokens_are_not_readable_by_other_users(self):
        account, _box = self.account()
        self.sign_in(account)
        for user in (self.other, self.salesman):
            with self.assertRaises(AccessError):
                account.with_user(user).read(["oauth_access_token_stored"])
            with self.assertRaises(AccessError):
                account.with_user(user).read(["oauth_refresh_token_stored"])
        self.assertFalse(
            self.env["mail.sync.account"].with_user(self.other).search([("id", "=", account.id)])
        )
        secret = self.env["ir.config_parameter"].sudo().get_param("mail_crm_sync.google_client_secret")
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.salesman).get_param(
                "mail_crm_sync.google_client_secret"
            )
        self.assertTrue(secret)

    def test_a_salesman_connects_gmail_from_preferences_and_sees_mail_arrive(self):
        self.salesman.email = "olga@example.test"
        box = self.server.add_user(login="olga@example.test")
        self.server.deliver(
            box,
            make_email(sender="alice@client.example", to=box.email, subject="OAuth tour: hello from Alice"),
        )

        def accounts_on_loopback(self_, values):  # the Gmail preset points at Google: here, the harness
            values.update(imap_host=self.server.host, imap_port=self.server.port, imap_security="none")
            values.update(smtp_host=self.smtp.host, smtp_port=self.smtp.port, smtp_security="none")
            return values

        with (
            patch.object(
                type(self.env["res.users"]), "_mail_sync_account_values", accounts_on_loopback, create=True
            ),
            screenshot_at_end("sc_oauth_"),
        ):
            self.start_tour("/odoo", "mail_crm_sync_oauth_tour", login=self.salesman.login)
        account = self.env["mail.sync.account"].search([("user_id", "=", self.salesman.id)])
        self.assertEqual((account.provider, account.state), ("gmail", "active"))
        self.assertEqual(account.message_count, 1)
