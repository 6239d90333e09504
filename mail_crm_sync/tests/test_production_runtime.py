"""The sync's runtime as production runs it (issue 25): what a sync locks, how servers share the
accounts, and how every failure reaches the account, against a real odoo-bin with workers."""

import base64
import concurrent.futures
import contextlib
import imaplib
import logging
import re
import secrets
import threading
import time
import urllib.parse

import requests
from cryptography.fernet import Fernet
from odoo.tests import tagged

from mail_crm_sync_engine.testing import (
    DovecotServer,
    OAuthProvider,
    Relay,
    change_password,
    log_offset,
    logins_since,
)

from . import production
from .common import make_email

_logger = logging.getLogger(__name__)

SYNC_CRON = "mail_crm_sync.ir_cron_mail_sync"
ACCOUNT = "mail.sync.account"
ACCOUNT_FIELDS = ["state", "last_error", "failure_count", "last_attempt_date", "user_id"]
# How long a save may take before the test calls it blocked: far more than any save needs, far less
# than the read timeout (120 s) that would end the held sync.
SAVE_BOUND = 60
SYNC_BOUND = 180
# What Dovecot answers a successful LOGIN or AUTHENTICATE with.
LOGGED_IN = b"Logged in"
RACING_MAILBOXES = 6
RACING_ROUNDS = 3
SHARED_MAILBOXES = 8
ENCRYPTED = "fernet:"  # what starts a secret encrypted with the server's key
MASK = r"^\**$"  # what Settings shows for a secret that is set (or nothing)


def text_of(activity):
    """What an activity says, as its assignee reads it: summary and note, without the markup."""
    note = re.sub(r"<[^>]+>", " ", activity.get("note") or "")
    return f"{activity.get('summary') or ''} {note}"


class OAuthProductionCase(production.ProductionCase):
    """A production-mode Odoo whose Dovecot checks XOAUTH2 tokens with a loopback OAuth server
    (``cls.oauth``), which the Settings' Google and Microsoft sign-in point at."""

    @classmethod
    def setUpClass(cls):
        cls.oauth = OAuthProvider().start()
        cls.addClassCleanup(cls.oauth.stop)
        super().setUpClass()
        cls.salesman = cls.new_user(f"rt_salesman_{secrets.token_hex(2)}", "Rita Runtime")

    @classmethod
    def make_dovecot(cls):
        return DovecotServer(oauth_introspection_url=cls.oauth.introspection_url)

    @classmethod
    def point_sign_in_at_the_loopback_server(cls, admin):
        # The sign-in page over plain HTTP (as TestOAuth does for the browser); the token endpoints
        # over HTTPS, trusting the test certificate.
        parameters = {
            "mail_crm_sync.google_authorization_endpoint": (
                f"http://{cls.oauth.host}:{cls.oauth.port}/o/oauth2/v2/auth"
            ),
            "mail_crm_sync.google_token_endpoint": cls.oauth.google_token_uri,
            "mail_crm_sync.google_revocation_endpoint": cls.oauth.google_revocation_uri,
            "mail_crm_sync.microsoft_authority": cls.oauth.microsoft_authority("tenant-1"),
            "mail_crm_sync.oauth_ca_file": cls.oauth.ca_file,
        }
        for key, value in parameters.items():
            admin.call("ir.config_parameter", "set_param", key, value)

    @staticmethod
    def save_settings(admin, values, press_save=True):
        """The administrator's Settings form: its values saved (``web_save``), then Save pressed
        (``execute``) unless ``press_save`` is False (the page left without saving)."""
        saved = admin.call("res.config.settings", "web_save", [], values, specification={})
        if press_save:
            admin.button("res.config.settings", "execute", [saved[0]["id"]])

    def new_gmail_account(self, user):
        """A Gmail account of a new mailbox, saved by ``user`` and not connected yet."""
        box = self.dovecot.add_user()
        saved = user.call(
            ACCOUNT,
            "web_save",
            [],
            {
                "name": f"Gmail {box.email}",
                "provider": "gmail",
                "email": box.email,
                "imap_host": self.dovecot.host,
                "imap_port": self.dovecot.port,
                "imap_security": "none",
            },
            specification={},
        )
        return saved[0]["id"], box

    def sign_in(self, user, account_id):
        """The browser's round trip, as ``user``: Odoo → the provider's consent → Odoo's callback,
        which exchanges the code, keeps the tokens and tests the connection."""
        started = user.http.get(
            f"{self.odoo.url}/mail_crm_sync/oauth/connect/{account_id}", allow_redirects=False, timeout=60
        )
        self.assertIn(started.status_code, (302, 303), started.text[:500])
        consent = requests.get(started.headers["Location"], allow_redirects=False, timeout=60)
        self.assertIn(consent.status_code, (302, 303), consent.text[:500])
        back = consent.headers["Location"]
        self.assertEqual(urllib.parse.urlsplit(back).path, "/mail_crm_sync/oauth/callback")
        finished = user.http.get(back, allow_redirects=False, timeout=production.REQUEST_TIMEOUT)
        self.assertIn(finished.status_code, (302, 303), finished.text[:500])
        account = self.admin.execute(ACCOUNT, "read", [account_id], ["state", "last_error"])[0]
        self.assertEqual(account["state"], "active", f"signed in: {account}")


@tagged("post_install", "-at_install", "production")
class TestProductionRuntime(OAuthProductionCase):
    """What a sync locks, how two servers share the accounts, and how failures reach the account."""

    key = Fernet.generate_key().decode()
    server_options = {"mail_crm_sync_key": key}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.point_sign_in_at_the_loopback_server(cls.admin)
        cls.google_client = cls.oauth.add_client()
        # Microsoft sign-in half set up: a client id, no secret.
        cls.save_settings(
            cls.admin,
            {
                "mail_sync_google_client_id": cls.google_client[0],
                "mail_sync_google_client_secret": cls.google_client[1],
                "mail_sync_microsoft_client_id": "client-without-a-secret",
            },
        )
        cls.administrators = set(
            cls.admin.execute(
                "res.users", "search", [("groups_id", "in", [cls.odoo.ref("base.group_system")])]
            )
        )

    def setUp(self):
        super().setUp()
        self.tag = secrets.token_hex(4)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.addCleanup(self.pool.shutdown, wait=False)

    # -- helpers --------------------------------------------------------------------------------

    def deliver(self, box, count, prefix):
        message_ids = [f"<{prefix}{number}-{self.tag}@client.example>" for number in range(count)]
        for message_id in message_ids:
            self.dovecot.deliver(box, make_email(to=box.email, message_id=message_id))
        return message_ids

    def account(self, account_id):
        return self.admin.execute(ACCOUNT, "read", [account_id], ACCOUNT_FIELDS)[0]

    def activities(self, account_id):
        return self.admin.execute(
            "mail.activity",
            "search_read",
            [("res_model", "=", ACCOUNT), ("res_id", "=", account_id)],
            ["user_id", "summary", "note"],
        )

    def told(self, account_id, users, *words):
        """The activities on the account for one of ``users`` whose text has all of ``words``."""
        return [
            activity
            for activity in self.activities(account_id)
            if activity["user_id"]
            and activity["user_id"][0] in users
            and all(re.search(word, text_of(activity), re.IGNORECASE) for word in words)
        ]

    def run_sync_once(self):
        log_start = self.odoo.log_size()
        self.run_scheduled_action(SYNC_CRON)
        return log_start

    def problems_report(self, problems, log_start):
        logged = self.odoo.log_lines(r" (ERROR|WARNING) |^\w+(Error|Exception): |crashed", log_start)
        return "\n".join([*problems, "The server logged:", *logged[:12]])

    # -- 1. a form save during a slow sync ------------------------------------------------------

    def test_saving_an_account_while_its_sync_waits_on_a_slow_server_returns_at_once(self):
        relay = Relay(self.dovecot.host, self.dovecot.port).start()
        self.addCleanup(relay.stop)
        self.addCleanup(relay.resume)  # first: whatever failed, the held sync ends
        account_id, box = self.connect_mailbox(self.salesman, imap_port=relay.port)
        message_ids = self.deliver(box, 5, "slow")
        downloader = self.odoo.session(self.salesman.login, self.salesman.password)

        relay.pause_after(LOGGED_IN)
        sync = self.pool.submit(downloader.button, ACCOUNT, "action_sync_now", [account_id])
        self.assertTrue(relay.wait_paused(SAVE_BOUND), "the sync logged in through the relay")

        saves = [
            ("the salesman saves the account's name", self.salesman, {"name": f"Renamed {self.tag}"}),
            ("the administrator flags it primary", self.admin, {"is_primary": True}),
            ("the administrator saves its signature", self.admin, {"signature": f"<p>Rita {self.tag}</p>"}),
        ]
        for what, user, values in saves:
            self.save_while_the_sync_waits(what, user, account_id, values, sync, relay)

        relay.resume()
        notice = sync.result(timeout=SYNC_BOUND)["params"]
        self.assertEqual((notice["type"], notice["message"]), ("success", "5 new emails"))
        stored = self.admin.execute(
            "mail.sync.message", "search_read", [("message_id", "in", message_ids)], ["message_id"]
        )
        self.assertEqual({row["message_id"] for row in stored}, set(message_ids), "the sync stored the mail")
        saved = self.admin.execute(ACCOUNT, "read", [account_id], ["name", "is_primary", "signature"])[0]
        self.assertEqual((saved["name"], saved["is_primary"]), (f"Renamed {self.tag}", True))
        self.assertIn(f"Rita {self.tag}", saved["signature"])

    def save_while_the_sync_waits(self, what, user, account_id, values, sync, relay):  # noqa: PLR0913
        """``user`` saves ``values`` on the account's form while ``sync`` waits on the paused relay:
        the save must come back while the sync still waits."""
        started = time.monotonic()
        save = self.pool.submit(user.call, ACCOUNT, "web_save", [account_id], values, specification={})
        try:
            save.result(timeout=SAVE_BOUND)
        except concurrent.futures.TimeoutError:
            # Let the server answer: how long the save waited for the sync is the figure to report.
            relay.resume()
            with contextlib.suppress(Exception):
                save.result(timeout=SYNC_BOUND)
            outcome = save.exception() if save.done() else "no answer yet"
            seconds = time.monotonic() - started
            _logger.info(
                "%s: %.1f s while a sync waited on a slow server (outcome: %s)", what, seconds, outcome
            )
            self.fail(
                f"{what}: no answer within {SAVE_BOUND} s while the sync waited on the server; it came "
                f"{seconds:.1f} s after the save was sent, once the server answered (outcome: {outcome})"
            )
        seconds = time.monotonic() - started
        _logger.info("%s: %.2f s while a sync waited on a slow server", what, seconds)
        self.assertFalse(sync.done(), f"{what}: the sync request was still running when the save came back")
        self.assertTrue(relay.paused, f"{what}: the server was still holding its answers")

    # -- 3. two servers racing for the same accounts -------------------------------------------

    def second_server_with_a_copy_of_the_sync(self):
        """(second server, the sync's scheduled action, its copy): two copies of the scheduled action
        (Odoo runs one copy in one worker at a time), to be run one by each server, as Parallel Sync
        Jobs sets them up; the copy is not due by itself."""
        second = self.odoo.start_server()
        self.addCleanup(second.stop)
        main_cron = self.odoo.ref(SYNC_CRON)
        copy_cron = self.admin.call("ir.cron", "copy", [main_cron], {"name": f"Mail sync copy {self.tag}"})
        copy_cron = copy_cron[0] if isinstance(copy_cron, list) else copy_cron
        self.addCleanup(self.admin.call, "ir.cron", "unlink", [copy_cron])
        self.odoo.sql(
            "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC') + interval '1 year' WHERE id = %s",
            [copy_cron],
        )
        return second, main_cron, copy_cron

    def test_two_servers_racing_for_the_same_accounts_sync_each_mailbox_once_per_round(self):
        second, main_cron, copy_cron = self.second_server_with_a_copy_of_the_sync()
        accounts = dict(self.connect_mailbox(self.salesman) for _box in range(RACING_MAILBOXES))
        runners = [(self.admin, main_cron), (second.admin(), copy_cron)]
        problems, message_ids = [], []
        for round_number in range(1, RACING_ROUNDS + 1):
            for box in accounts.values():
                message_ids += self.deliver(box, 3, f"race{round_number}-{box.login[:12]}-")
            # The scheduled action's interval has passed: every account is due again.
            self.odoo.sql(
                "UPDATE mail_sync_account SET last_attempt_date = (now() AT TIME ZONE 'UTC') "
                "- interval '1 hour' WHERE id = ANY(%s)",
                [list(accounts)],
            )
            start = log_offset(self.dovecot)
            self.run_at_the_same_moment(runners)
            # Dovecot's log process writes a moment after the login.
            production.wait_until(
                lambda start=start: (
                    all(logins_since(self.dovecot, start)[box.login] for box in accounts.values()) or None
                ),
                10,
                f"round {round_number}: a login to each mailbox in Dovecot's log",
            )
            logins = logins_since(self.dovecot, start)
            problems += [
                f"round {round_number}: {logins[box.login]} logins to {box.login}, one expected"
                for box in accounts.values()
                if logins[box.login] != 1
            ]
        # Each email once, in its one place (the INBOX of one mailbox).
        copies = dict(
            self.odoo.sql(
                "SELECT m.message_id, count(DISTINCT m.id) || ' email(s), ' || count(l.id) || ' place(s)' "
                "FROM mail_sync_message m LEFT JOIN mail_sync_message_location l ON l.email_id = m.id "
                "WHERE m.message_id = ANY(%s) GROUP BY m.message_id",
                [message_ids],
            )
        )
        problems += [
            f"{message_id} is stored as {copies.get(message_id, 'no email')}"
            for message_id in message_ids
            if copies.get(message_id) != "1 email(s), 1 place(s)"
        ]
        self.assertFalse(problems, "\n".join(problems))

    def test_two_copies_of_the_scheduled_sync_take_different_accounts_and_count_each_once(self):
        """Parallel Sync Jobs: each copy of the job takes the next due account that no other holds.
        Neither server's log says it met an account the other was syncing, together the two copies
        report every account as done once (the progress Odoo logs), and each mailbox is read once."""
        second, main_cron, copy_cron = self.second_server_with_a_copy_of_the_sync()
        accounts = dict(self.connect_mailbox(self.salesman) for _box in range(SHARED_MAILBOXES))
        for box in accounts.values():
            self.deliver(box, 2, f"shared-{box.login[:12]}-")
        # Due: these accounts alone (the other tests' accounts were attempted a moment ago).
        self.odoo.sql(
            "UPDATE mail_sync_account SET sync_pending = false, last_attempt_date = CASE WHEN id = ANY(%s) "
            "THEN (now() AT TIME ZONE 'UTC') - interval '1 hour' ELSE now() AT TIME ZONE 'UTC' END",
            [list(accounts)],
        )
        (last_progress,) = self.odoo.sql("SELECT coalesce(max(id), 0) FROM ir_cron_progress")[0]
        start = log_offset(self.dovecot)
        logs = {server.log: server.log.stat().st_size for server in (self.odoo.server, second)}
        self.run_at_the_same_moment([(self.admin, main_cron), (second.admin(), copy_cron)])
        met = [
            line
            for log, offset in logs.items()
            for line in log.read_bytes()[offset:].decode(errors="replace").splitlines()
            if "is being synced by another worker" in line
        ]
        self.assertFalse(met, "\n".join(["A job met an account the other job held:", *met]))
        production.wait_until(
            lambda: all(logins_since(self.dovecot, start)[box.login] for box in accounts.values()) or None,
            10,
            "a login to each mailbox in Dovecot's log",
        )
        logins = logins_since(self.dovecot, start)
        reads = {box.login: logins[box.login] for box in accounts.values()}
        self.assertEqual(set(reads.values()), {1}, f"logins per mailbox: {reads}")
        done = dict(
            self.odoo.sql(
                "SELECT cron_id, done FROM ir_cron_progress WHERE id > %s AND cron_id = ANY(%s)",
                [last_progress, [main_cron, copy_cron]],
            )
        )
        self.assertEqual(
            sum(done.values()),
            len(accounts),
            f"accounts each job reports as done (job id: count): {done}; there are {len(accounts)}",
        )

    def run_at_the_same_moment(self, runners):
        """Each (session, cron id): Run Manually of that scheduled action, all at once."""
        barrier = threading.Barrier(len(runners))

        def run(session, cron_id):
            barrier.wait(timeout=60)
            return session.button("ir.cron", "method_direct_trigger", [cron_id])

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(runners)) as pool:
            runs = [pool.submit(run, session, cron_id) for session, cron_id in runners]
            for done in runs:
                done.result(timeout=SYNC_BOUND)

    # -- 4. configuration errors ------------------------------------------------------------------

    def test_a_password_encrypted_with_another_key_is_recorded_on_the_account(self):
        account_id, _box = self.connect_mailbox(self.salesman)
        # Stored by another Odoo server with another key (or before the key was rotated).
        foreign = Fernet(Fernet.generate_key()).encrypt(b"a password").decode()
        self.odoo.sql(
            "UPDATE mail_sync_account SET password_stored = %s WHERE id = %s",
            [ENCRYPTED + foreign, account_id],
        )
        log_start = self.run_sync_once()

        account = self.account(account_id)
        problems = []
        if not re.search(r"encryption key|mail_crm_sync_key", account["last_error"] or "", re.IGNORECASE):
            problems.append(
                f"the account's error does not name the encryption key: {account['last_error']!r}"
            )
        if (account["state"], account["failure_count"]) != ("failing", 1):
            problems.append(
                f"state {account['state']!r}, {account['failure_count']} failures: not failing, 1"
            )
        if not account["last_attempt_date"]:
            problems.append("no last attempt date: the account would go first in every run")
        if not self.told(account_id, {self.salesman.uid}, "administrator", "key"):
            problems.append(
                f"no activity tells the owner to ask their administrator for the encryption key: "
                f"{self.activities(account_id)}"
            )
        self.assertFalse(problems, self.problems_report(problems, log_start))

    def test_oauth_settings_without_a_client_secret_are_recorded_and_told_to_the_administrators(self):
        box = self.dovecot.add_user()
        saved = self.salesman.call(
            ACCOUNT,
            "web_save",
            [],
            {
                "name": f"Microsoft {box.email}",
                "provider": "microsoft",
                "email": box.email,
                "imap_host": self.dovecot.host,
                "imap_port": self.dovecot.port,
                "imap_security": "none",
            },
            specification={},
        )
        account_id = saved[0]["id"]
        # Signed in earlier; its access token has lapsed: the sync must refresh it with the client.
        cipher = Fernet(self.key.encode())
        self.odoo.sql(
            "UPDATE mail_sync_account SET state = 'active', oauth_access_token_stored = %s, "
            "oauth_refresh_token_stored = %s, "
            "oauth_expires_at = (now() AT TIME ZONE 'UTC') - interval '1 hour' WHERE id = %s",
            [
                ENCRYPTED + cipher.encrypt(b"at-lapsed").decode(),
                ENCRYPTED + cipher.encrypt(b"rt-kept").decode(),
                account_id,
            ],
        )
        log_start = self.run_sync_once()

        account = self.account(account_id)
        problems = []
        if "Settings" not in (account["last_error"] or ""):
            problems.append(f"the account's error does not name Settings: {account['last_error']!r}")
        if (account["state"], account["failure_count"]) != ("failing", 1):
            problems.append(
                f"state {account['state']!r}, {account['failure_count']} failures: not failing, 1"
            )
        if not account["last_attempt_date"]:
            problems.append("no last attempt date: the account would go first in every run")
        if not self.told(account_id, self.administrators, "Settings"):
            problems.append(f"no activity tells an administrator: {self.activities(account_id)}")
        self.assertFalse(problems, self.problems_report(problems, log_start))

    # -- 5. an OAuth refusal --------------------------------------------------------------------

    def test_a_grant_revoked_while_its_access_token_is_valid_asks_to_reconnect_at_the_first_run(self):
        account_id, box = self.new_gmail_account(self.salesman)
        self.sign_in(self.salesman, account_id)
        self.deliver(box, 1, "oauth")
        # The user removes the application's access in their Google account: the access token, an
        # hour from expiry, is refused from now on, and so is the refresh token.
        self.assertTrue(self.oauth.revoke_access(box.email), "the sign-in made a grant")

        log_start = self.run_sync_once()

        account = self.account(account_id)
        problems = []
        if (account["state"], account["failure_count"]) != ("reconnect", 0):
            problems.append(
                f"after one run: state {account['state']!r}, {account['failure_count']} failures, error "
                f"{account['last_error']!r}; expected Needs Re-connect (reconnect), 0 failures"
            )
        if not self.told(account_id, {self.salesman.uid}, "Re-connect"):
            problems.append(f"no activity tells the owner to press Re-connect: {self.activities(account_id)}")
        self.assertFalse(problems, self.problems_report(problems, log_start))

    # -- 6. a refused password ------------------------------------------------------------------

    def test_a_password_the_server_refuses_asks_for_the_password_at_once(self):
        account_id, box = self.connect_mailbox(self.salesman)
        changed = change_password(self.dovecot, box)
        production.wait_until(lambda: self.logs_in(changed), 10, "Dovecot takes the new password")

        log_start = self.run_sync_once()

        account = self.account(account_id)
        problems = []
        if account["state"] != "reconnect":
            problems.append(
                f"after one refused login: state {account['state']!r}, {account['failure_count']} failures; "
                "expected Needs Re-connect (reconnect)"
            )
        if "refused" not in (account["last_error"] or "").lower():
            problems.append(f"the error does not say the server refused the login: {account['last_error']!r}")
        if not self.told(account_id, {self.salesman.uid}, "password"):
            problems.append(
                f"no activity tells the owner to enter the password again: {self.activities(account_id)}"
            )
        self.assertFalse(problems, self.problems_report(problems, log_start))

    def logs_in(self, box):
        client = imaplib.IMAP4(self.dovecot.host, self.dovecot.port)
        try:
            client.login(box.login, box.password)
        except imaplib.IMAP4.error:
            return False
        finally:
            with contextlib.suppress(Exception):
                client.logout()
        return True


@tagged("post_install", "-at_install", "production")
class TestProductionSecretsAtRest(OAuthProductionCase):
    """Secrets stored before the server had a key, then the key configured and the server started
    again: no secret in a pg_dump of the database. Restarts its server: a class of its own."""

    server_options = {"mail_crm_sync_key": None}  # none, whatever the test process has

    def test_no_secret_stored_before_the_key_is_left_in_a_pg_dump(self):
        self.point_sign_in_at_the_loopback_server(self.admin)
        google_id, google_secret = self.oauth.add_client()
        microsoft_id, microsoft_secret = self.oauth.add_client()
        unsaved_secret = f"unsaved-{secrets.token_urlsafe(16)}"
        self.save_settings(
            self.admin,
            {
                "mail_sync_google_client_id": google_id,
                "mail_sync_google_client_secret": google_secret,
                "mail_sync_microsoft_client_id": microsoft_id,
                "mail_sync_microsoft_client_secret": microsoft_secret,
            },
        )
        # Another visit to Settings: a secret typed, the page left without pressing Save.
        self.save_settings(
            self.admin, {"mail_sync_microsoft_client_secret": unsaved_secret}, press_save=False
        )
        smtp_password = f"smtp-{secrets.token_urlsafe(12)}"
        _imap_id, box = self.connect_mailbox(
            self.salesman,
            sending_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=2525,
            smtp_security="none",
            smtp_password=smtp_password,
        )
        gmail_id, gmail_box = self.new_gmail_account(self.salesman)
        self.sign_in(self.salesman, gmail_id)
        tokens = self.oauth.tokens_of(gmail_box.email)
        self.assertTrue(tokens, "the sign-in made a grant")
        secrets_stored = {
            "IMAP password": box.password,
            "SMTP password": smtp_password,
            "Google client secret": google_secret,
            "Microsoft client secret": microsoft_secret,
            "client secret typed in Settings, not saved": unsaved_secret,
            **{f"OAuth token {number}": token for number, token in enumerate(tokens, 1)},
        }

        self.odoo.restart(mail_crm_sync_key=Fernet.generate_key().decode())
        self.odoo.admin()  # a worker loads the registry: the addon encrypts what it finds
        dump = self.odoo.pg_dump()

        problems = [
            f"the {what} is in the dump{' (base64)' if value not in dump else ''}"
            for what, value in secrets_stored.items()
            if value in dump or base64.b64encode(value.encode()).decode() in dump
        ]
        columns = self.secret_columns()
        _logger.info(
            "Columns holding secrets: %s", ", ".join(f"{table}.{column}" for table, column in columns)
        )
        self.assertIn(("mail_sync_account", "password_stored"), columns, "the secret columns were found")
        for table, column in columns:
            # Neither empty, nor encrypted, nor the mask Settings shows for a secret that is set.
            (plain,) = self.odoo.sql(
                # Names from the catalogue, not from a user.
                f'SELECT count(*) FROM "{table}" WHERE "{column}" NOT LIKE %s AND "{column}" !~ %s',
                [f"{ENCRYPTED}%", MASK],
            )[0]
            if plain:
                problems.append(f"{table}.{column}: {plain} rows in plain text")
        plain_parameters = self.odoo.sql(
            "SELECT key FROM ir_config_parameter WHERE key LIKE %s AND value NOT LIKE %s AND value !~ %s",
            ["mail_crm_sync.%secret%", f"{ENCRYPTED}%", MASK],
        )
        problems += [f"system parameter {key} is in plain text" for (key,) in plain_parameters]
        self.assertFalse(problems, "\n".join(problems))

    def secret_columns(self):
        """(table, column) of every stored field of the addon's models, and of what it adds to
        Settings, whose name says it holds a secret (a password, secret, token or token cache)."""
        return self.odoo.sql(
            """SELECT c.table_name, c.column_name
                 FROM ir_model_fields f
                 JOIN ir_model_data d ON d.model = 'ir.model.fields' AND d.res_id = f.id
                                     AND d.module = 'mail_crm_sync'
                 JOIN information_schema.columns c ON c.table_schema = 'public'
                                                  AND c.table_name = replace(f.model, '.', '_')
                                                  AND c.column_name = f.name
                WHERE f.store AND f.ttype IN ('char', 'text')
                  AND f.name ~ '(password|secret|token|cache)'
                ORDER BY 1, 2"""
        )
