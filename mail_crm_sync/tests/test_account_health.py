from cryptography.fernet import Fernet
from odoo.exceptions import UserError
from odoo.tests import tagged

from mail_crm_sync_engine import ServerUnreachable, Throttled

from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestAccountHealth(MailSyncCase):
    def _break_server(self, account):
        """The server goes away (nothing listens on port 1): a failure that may pass, counted."""
        port = account.imap_port
        account.imap_port = 1
        return port

    def test_ten_failed_connections_disable_the_account_and_tell_the_owner(self):
        account, box = self.create_account()
        port = self._break_server(account)
        for attempt in range(1, 10):
            self.sync(account)
            self.assertEqual(account.state, "failing")
            self.assertEqual(account.failure_count, attempt)
        self.assertFalse(account.activity_ids)
        self.assertIn("could not be reached", account.last_error)
        warning = account.message_ids.filtered(lambda m: "after 3 more" in (m.body or ""))
        self.assertEqual(warning.partner_ids, self.salesman.partner_id, "the owner is warned before it stops")
        self.sync(account)
        self.assertEqual(account.state, "disabled")
        activity = account.activity_ids
        self.assertEqual(activity.user_id, self.salesman)
        self.assertIn("could not be reached", activity.note)
        # A disabled account is left alone by the scheduled action.
        self.deliver(box, make_email(message_id="<while-disabled@client.example>"))
        self.env["mail.sync.account"]._cron_sync()
        self.env.invalidate_all()
        self.assertEqual(account.failure_count, 10)
        # Fixing the server and testing again turns it back on.
        with self.assertRaises(UserError):
            account.action_test_connection()
        account.imap_port = port
        account.action_test_connection()
        self.assertEqual(account.state, "active")
        self.assertEqual(account.failure_count, 0)
        self.assertFalse(account.activity_ids, "the warning is marked done")
        self.sync(account)
        self.assertTrue(self.messages("<while-disabled@client.example>"))

    def test_shared_account_failure_tells_the_administrators(self):
        account, _box = self.create_account(user=self.env.ref("base.user_admin"))
        account.write({"account_type": "shared", "user_id": False})
        account.write({"failure_count": 9, "state": "failing"})
        self._break_server(account)
        self.sync(account)
        self.assertEqual(account.state, "disabled")
        self.assertIn(self.env.ref("base.user_admin"), account.activity_ids.user_id)

    def test_a_good_run_resets_the_failure_count(self):
        account, _box = self.create_account()
        port = self._break_server(account)
        self.sync(account)
        self.sync(account)
        self.assertEqual(account.failure_count, 2)
        account.imap_port = port
        self.sync(account)
        self.assertEqual((account.state, account.failure_count, account.last_error), ("active", 0, False))

    def test_one_failing_account_does_not_stop_another(self):
        broken, _box = self.create_account()
        healthy, box = self.create_account(user=self.other_salesman)
        self._break_server(broken)
        self.deliver(box, make_email(message_id="<healthy@client.example>"))
        self.env["mail.sync.account"]._cron_sync()
        self.env.invalidate_all()
        self.assertEqual(broken.state, "failing")
        self.assertTrue(self.messages("<healthy@client.example>"))
        self.assertEqual(healthy.state, "active")

    def test_a_refused_password_asks_the_owner_to_reconnect_at_once(self):
        account, box = self.create_account()
        account.password = "changed-elsewhere"

        self.sync(account)

        self.assertEqual(
            (account.state, account.failure_count), ("reconnect", 0), "no waiting for 10 failures"
        )
        self.assertIn("refused the login", account.last_error)
        activity = account.activity_ids
        self.assertEqual(activity.user_id, self.salesman, "the owner is told")
        self.assertIn("enter the password again and press Test Connection", activity.note)
        self.assertEqual(self.sync(account), {account.id: "busy"}, "the sync leaves it alone meanwhile")
        self.assertEqual(len(account.activity_ids), 1)
        # The owner enters the new password and tests the connection: syncing again.
        account.password = box.password
        account.action_test_connection()
        self.assertEqual((account.state, account.failure_count, account.last_error), ("active", 0, False))
        self.assertFalse(account.activity_ids, "the warning is marked done")

    def test_a_password_this_server_cannot_decrypt_is_a_failure_told_once(self):
        account, _box = self.create_account()
        other_key = Fernet(Fernet.generate_key())
        account.sudo().password_stored = "fernet:" + other_key.encrypt(b"secret").decode()

        self.assertEqual(self.sync(account), {account.id: "failed"})
        self.assertEqual((account.state, account.failure_count), ("failing", 1))
        self.assertIn("mail_crm_sync_key", account.last_error)
        self.assertTrue(account.last_attempt_date, "it does not go first at every run")
        told = {activity.user_id: activity for activity in account.activity_ids}
        self.assertIn("ask your administrator", told[self.salesman].note, "the owner is told what to do")
        self.assertIn(self.env.ref("base.user_admin"), told, "the administrators, who hold the key, too")

        self.sync(account)
        self.assertEqual(account.failure_count, 2, "counted like failed connections")
        self.assertEqual(len(account.activity_ids), len(told), "told once, not at every run")

    def test_unreachable_server_is_explained(self):
        account, _box = self.create_account()
        account.imap_port = 1  # nothing listens there
        self.sync(account)
        self.assertIn("could not be reached", account.last_error)
        self.assertEqual(account.failure_count, 1)

    def test_throttling_does_not_count_as_a_failure(self):
        account, _box = self.create_account()
        account._record_outcome("failed", Throttled("imap.example.com asks to slow down: [THROTTLED]"))
        self.assertEqual(account.failure_count, 0)
        self.assertIn("slow down", account.last_error)
        account._record_outcome("failed", ServerUnreachable("nothing answers"))
        self.assertEqual(account.failure_count, 1)

    def test_strict_certificate_check_fails_clearly_and_opt_in_connects(self):
        account, _box = self.create_account()
        account.write({"imap_security": "ssl", "imap_port": self.server.ssl_port})
        with self.assertRaisesRegex(UserError, "secure connection failed"):
            account.action_test_connection()
        account.allow_insecure_certificate = True
        account.action_test_connection()
        self.assertEqual(account.state, "active")
