import secrets
import threading

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

from mail_crm_sync_engine.testing import DovecotServer

from .common import make_email


@tagged("post_install", "-at_install")
class TestConcurrentRuns(BaseCase):
    """Real transactions on separate connections, as two cron workers have; cleaned up afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        # The test runner holds the registry lock while tests run; workers in threads need their own
        # environments, as HttpCase's server threads do in test mode.
        cls.classPatch(Registry, "_lock", DummyRLock())
        cls.server = DovecotServer().start()
        cls.addClassCleanup(cls.server.stop)
        with cls.registry.cursor() as cr:
            # An active owner: the sync skips accounts of archived users (and __system__ is one).
            cls.owner_id = api.Environment(cr, SUPERUSER_ID, {}).ref("base.user_admin").id

    def setUp(self):
        super().setUp()
        self.tag = secrets.token_hex(4)
        self.box = self.server.add_user()
        for index in range(60):
            self.server.deliver(
                self.box, make_email(to=self.box.email, message_id=f"<c{index}-{self.tag}@x.example>")
            )
        self.addCleanup(self._clean_up)

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _new_account(self, name):
        with self.registry.cursor() as cr:
            account = self._env(cr)["mail.sync.account"].create(
                {
                    "name": f"{name} {self.tag}",
                    "email": self.box.email,
                    "user_id": self.owner_id,
                    "imap_host": self.server.host,
                    "imap_port": self.server.port,
                    "imap_security": "none",
                    "password": self.box.password,
                }
            )
            account.action_test_connection()
            return account.id

    def _clean_up(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            env["mail.sync.message"].search([("message_id", "like", f"%-{self.tag}@x.example>")]).unlink()
            env["mail.sync.account"].with_context(active_test=False).search(
                [("name", "like", self.tag)]
            ).unlink()

    def _stored(self):
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT COUNT(DISTINCT m.id), COUNT(l.id), COUNT(DISTINCT l.account_id)
                     FROM mail_sync_message m JOIN mail_sync_message_location l ON l.email_id = m.id
                    WHERE m.message_id LIKE %s""",
                [f"%-{self.tag}@x.example>"],
            )
            return cr.fetchone()

    def _run_at_once(self, account_ids):
        barrier = threading.Barrier(len(account_ids))
        results, errors = [], []

        def worker(account_id):
            try:
                with self.registry.cursor() as cr:
                    barrier.wait(timeout=30)
                    results.append(self._env(cr)["mail.sync.account"].browse(account_id)._sync_accounts())
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(account_id,)) for account_id in account_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertFalse(errors)
        return results

    def test_an_account_claimed_by_another_worker_is_skipped(self):
        account_id = self._new_account("Claimed")
        with self.registry.cursor() as holder:
            holder.execute("SELECT id FROM mail_sync_account WHERE id = %s FOR NO KEY UPDATE", [account_id])
            with self.registry.cursor() as cr:
                result = self._env(cr)["mail.sync.account"].browse(account_id)._sync_accounts()
            self.assertEqual(result, {account_id: "busy"})
            self.assertEqual(self._stored(), (0, 0, 0))
        with self.registry.cursor() as cr:
            self._env(cr)["mail.sync.account"].browse(account_id)._sync_accounts()
        self.assertEqual(self._stored(), (60, 60, 1))

    def test_two_concurrent_runs_of_one_account_import_nothing_twice(self):
        account_id = self._new_account("Twice")
        results = self._run_at_once([account_id, account_id])
        self.assertEqual(len(results), 2)
        self.assertEqual(self._stored(), (60, 60, 1))

    def test_two_accounts_of_one_mailbox_at_once_store_each_mail_once(self):
        first, second = self._new_account("First"), self._new_account("Second")
        self._run_at_once([first, second])
        self.assertEqual(self._stored(), (60, 120, 2))
