import contextlib
import logging
import secrets
import threading
import time

from imapclient import IMAPClient
from odoo import SUPERUSER_ID, api, sql_db
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

from mail_crm_sync_engine.testing import DovecotServer

from ..models.inbox_watch_service import InboxWatchService
from .common import make_email

_logger = logging.getLogger(__name__)

# How long to wait for what takes a few seconds: the promise for new mail is 10 s.
NEW_MAIL_WITHIN = 10.0
PATIENCE = 60.0


@tagged("post_install", "-at_install")
class TestInstantInbox(BaseCase):
    """The watcher as production runs it (``odoo-bin mail_sync_idle`` runs the same
    InboxWatchService), and a cron worker as Odoo's runs the scheduled action it triggers: real
    transactions on their own connections, against the harness Dovecot; cleaned up afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        # The test runner holds the registry lock while tests run; the watcher's and the cron's
        # threads need environments of their own, as HttpCase's server threads do.
        cls.classPatch(Registry, "_lock", DummyRLock())
        cls.server = DovecotServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.server_without_idle = DovecotServer(hide_capabilities=("IDLE",)).start()
        cls.addClassCleanup(cls.server_without_idle.stop)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cls.owner_id = env.ref("base.user_admin").id
            cls.cron_id = env.ref("mail_crm_sync.ir_cron_mail_sync_new_mail").id

    def setUp(self):
        super().setUp()
        self.tag = secrets.token_hex(4)
        with self.registry.cursor() as cr:
            parameters = self._env(cr)["ir.config_parameter"]
            self.addCleanup(self._clean_up, parameters.get_param("mail_crm_sync.instant_inbox"))
            parameters.set_param("mail_crm_sync.instant_inbox", "True")

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _clean_up(self, instant_inbox):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["mail.sync.message"].search([("message_id", "like", f"%-{self.tag}@x.example>")]).unlink()
            env["mail.sync.account"].with_context(active_test=False).search(
                [("name", "like", self.tag)]
            ).unlink()
            env["ir.cron.trigger"].search([("cron_id", "=", self.cron_id)]).unlink()
            env["ir.config_parameter"].set_param("mail_crm_sync.instant_inbox", instant_inbox)

    def _new_account(self, server, box, **values):
        with self.registry.cursor() as cr:
            account = self._env(cr)["mail.sync.account"].create(
                {
                    "name": f"{box.email} {self.tag}",
                    "email": box.email,
                    "user_id": self.owner_id,
                    "imap_host": server.host,
                    "imap_port": server.port,
                    "imap_security": "none",
                    "password": box.password,
                    **values,
                }
            )
            account.action_test_connection()
            return account.id

    def _mail(self, box, name):
        return make_email(to=box.email, subject=name, message_id=f"<{name}-{self.tag}@x.example>")

    def _stored(self, name):
        """Whether the CRM holds the email, read as anyone would: on a fresh transaction."""
        with self.registry.cursor() as cr:
            return bool(
                self._env(cr)["mail.sync.message"].search_count(
                    [("message_id", "=", f"<{name}-{self.tag}@x.example>")]
                )
            )

    def _inbox_watch(self, account_id):
        """What the account's form shows under Instant Inbox."""
        with self.registry.cursor() as cr:
            return self._env(cr)["mail.sync.account"].browse(account_id).inbox_watch

    def _wait_for(self, condition, timeout=PATIENCE):
        deadline = time.monotonic() + timeout
        while not (result := condition()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return result

    @contextlib.contextmanager
    def _watcher_and_cron_worker(self):
        """The watcher in a thread, as ``odoo-bin mail_sync_idle`` runs it, and a cron worker that
        takes the Instant Inbox scheduled action when it is due, as Odoo's cron workers do
        (``ir.cron._process_jobs``, narrowed to that one action)."""
        stop = threading.Event()
        errors = []

        def watcher():
            try:
                InboxWatchService(self.registry, reconcile_interval=0.5).run(stop)
            except Exception as error:  # reported in the test's thread
                errors.append(error)

        def cron_worker():
            db = sql_db.db_connect(self.registry.db_name)
            IrCron = self.registry["ir.cron"]
            try:
                while not stop.wait(0.2):
                    with db.cursor() as cron_cr:
                        job = IrCron._acquire_one_job(cron_cr, self.cron_id)
                        if job:
                            IrCron._process_job(db, cron_cr, job)
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=watcher), threading.Thread(target=cron_worker)]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        self.assertFalse(errors)

    def test_new_mail_in_the_primary_inbox_is_in_the_crm_within_seconds(self):
        box, other_box = self.server.add_user(), self.server.add_user()
        self.server.deliver(box, self._mail(box, "before"))
        account_id = self._new_account(self.server, box, is_primary=True)
        not_primary_id = self._new_account(self.server, other_box)
        with self.registry.cursor() as cr:  # synced before, as every account is by the regular sync
            self._env(cr)["mail.sync.account"].browse(account_id)._sync_accounts()
        self.assertTrue(self._stored("before"))

        with self._watcher_and_cron_worker():
            self.assertEqual(self._wait_for(lambda: self._inbox_watch(account_id) == "watching"), True)
            self.assertEqual(self._inbox_watch(not_primary_id), "off")

            # Another mail client (or the delivery agent) puts new mail in the INBOX.
            client = IMAPClient(self.server.host, port=self.server.port, ssl=False)
            client.login(box.login, box.password)
            client.append("INBOX", self._mail(box, "new"))
            appended = time.monotonic()
            client.logout()
            stored = self._wait_for(lambda: self._stored("new"), timeout=NEW_MAIL_WITHIN)
            delay = time.monotonic() - appended

        self.assertTrue(stored, f"the new email is not in the CRM {NEW_MAIL_WITHIN:.0f} s after it came")
        _logger.info("Instant Inbox: the appended email was in the CRM after %.2f s", delay)
        # Without the watcher, the form says so.
        self.assertEqual(self._inbox_watch(account_id), "stopped")

    def test_a_server_without_idle_stays_on_the_regular_sync(self):
        box = self.server_without_idle.add_user()
        account_id = self._new_account(self.server_without_idle, box, is_primary=True)

        with self._watcher_and_cron_worker():
            self._wait_for(lambda: self._inbox_watch(account_id) not in ("off", "stopped", "connecting"))
            self.assertEqual(self._inbox_watch(account_id), "unsupported")
            self.server_without_idle.deliver(box, self._mail(box, "polled"))
            with self.registry.cursor() as cr:
                self._env(cr)["mail.sync.account"]._cron_sync()
            self.assertTrue(self._stored("polled"))

    def test_turning_instant_inbox_off_stops_watching(self):
        box = self.server.add_user()
        account_id = self._new_account(self.server, box, is_primary=True)
        with self._watcher_and_cron_worker():
            self._wait_for(lambda: self._inbox_watch(account_id) == "watching")
            with self.registry.cursor() as cr:
                self._env(cr)["res.config.settings"].create({"mail_sync_instant_inbox": False}).set_values()
            self.assertTrue(self._wait_for(lambda: self._inbox_watch(account_id) == "off"))
