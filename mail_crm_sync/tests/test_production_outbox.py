"""The outbox as production runs it (issue 27, item 1): Send queues the email and commits; a job
sends it after the commit, exactly once per Message-ID, whatever fails around the send.

The failures are real: a serialization failure raised by PostgreSQL itself (a trigger of this
test's database copy, SQLSTATE 40001, once), and a worker killed with SIGKILL, against a real
odoo-bin with workers and the loopback SMTP server."""

import email
import os
import secrets
import signal
import time
from email import policy

from odoo.tests import tagged

from mail_crm_sync_engine import Security
from mail_crm_sync_engine.testing.smtp import SmtpServer

from . import production

OUTBOX_CRON = "mail_crm_sync.ir_cron_mail_sync_outbox"
SEND_BOUND = 120
# How long a job is held inside the SMTP server's acceptance before the test kills its worker.
HELD_SECONDS = 600


@tagged("post_install", "-at_install", "production")
class TestProductionOutbox(production.ProductionCase):
    """Sending through the outbox: a retried Send request, a job that meets a serialization failure
    or dies right after the SMTP server accepted the mail, and an SMTP server down, then up."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Sent as soon as queued: these tests are about exactly once, not about Undo Send's delay.
        cls.admin.call("ir.config_parameter", "set_param", "mail_crm_sync.undo_send_seconds", "0")
        cls.partner_id = cls.admin.call(
            "res.partner", "create", {"name": "Alice Client", "email": "alice@client.example"}
        )

    def setUp(self):
        super().setUp()
        self.tag = secrets.token_hex(4)
        self.salesman = self.new_user(f"ob_salesman_{self.tag}", "Olga Outbox")
        self.addCleanup(self.drop_faults)

    # -- helpers --------------------------------------------------------------------------------

    def sending_account(self, smtp, start=True):
        """A mailbox of the salesman's that sends through ``smtp`` (started unless ``start`` is
        False: a server that is down)."""
        box = self.dovecot.add_user()
        smtp.add_user(box.login, box.password)
        if start:
            smtp.start()
            self.addCleanup(smtp.stop)
        account_id, box = self.connect_mailbox(
            self.salesman,
            box,
            sending_enabled=True,
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_security="none",
        )
        return account_id, box

    def send(self, account_id, subject):
        """As the salesman in the web client: Write Email on the contact, fill it in, press Send."""
        action = self.salesman.button("res.partner", "action_mail_sync_compose", [self.partner_id])
        context = {**self.salesman.context, **action["context"]}
        saved = self.salesman.call(
            "mail.sync.compose",
            "web_save",
            [],
            {"account_id": account_id, "subject": subject, "body": "<p>Our offer.</p>"},
            specification={},
            context=context,
        )
        return self.salesman.button("mail.sync.compose", "action_send", [saved[0]["id"]], context=context)

    def fault(self, table, when, action):
        """A trigger on ``table`` that, the first time ``when`` holds for a row written, runs
        ``action`` (PL/pgSQL) in the transaction writing it: the fault happens in PostgreSQL."""
        name = f"mcs_fault_{self.tag}"
        self.odoo.sql(f"CREATE SEQUENCE {name}")
        self.odoo.sql(
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF ({when}) AND nextval('{name}') = 1 THEN {action}; END IF;
                    RETURN NEW;
                END $$"""
        )
        self.odoo.sql(
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
        self.faults = [*getattr(self, "faults", []), (table, name)]

    def drop_faults(self):
        for table, name in getattr(self, "faults", []):
            self.odoo.sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            self.odoo.sql(f"DROP FUNCTION IF EXISTS {name}()")
            self.odoo.sql(f"DROP SEQUENCE IF EXISTS {name}")

    def serialization_failure(self, table, when):
        self.fault(
            table,
            when,
            "RAISE EXCEPTION 'forced by the test' USING ERRCODE = 'serialization_failure'",
        )

    def run_job(self):
        """Run the sending job now, as "Run Manually" does; when a cron worker is running it at that
        moment, once it is done."""

        def ran():
            try:
                self.run_scheduled_action(OUTBOX_CRON)
            except production.RpcError as error:
                if "currently being executed" in error.message:
                    return False
                raise
            return True

        production.wait_until(ran, SEND_BOUND, "the sending job run by hand")

    def restarted(self):
        """The server started again (on another port): its users sign in again."""
        self.odoo.server.start()
        type(self).admin = self.odoo.admin()
        self.salesman = self.odoo.session(self.salesman.login, self.salesman.password)

    def received(self, smtp, subject):
        return [
            mail
            for mail in smtp.received
            if email.message_from_bytes(mail.data, policy=policy.default)["Subject"] == subject
        ]

    def email_of(self, subject):
        """The salesman's CRM email with this subject: its send state and reason."""
        found = self.salesman.call(
            "mail.sync.message",
            "search_read",
            [("subject", "=", subject)],
            ["message_id", "send_state", "send_error"],
        )
        self.assertLessEqual(len(found), 1, found)
        return found[0] if found else None

    def wait_state(self, subject, state, bound=SEND_BOUND):
        return production.wait_until(
            lambda: (found := self.email_of(subject)) and found["send_state"] == state and found,
            bound,
            f"the email {subject!r} {state}",
        )

    # -- the tests ------------------------------------------------------------------------------

    def test_a_send_request_retried_after_a_serialization_failure_sends_once(self):
        smtp = SmtpServer(Security.NONE)
        account_id, _box = self.sending_account(smtp)
        subject = f"Offer {self.tag}"
        # The request's transaction fails as a concurrent sync of Sent makes it fail, when it stores
        # the email: Odoo retries the whole request.
        self.serialization_failure("mail_sync_message", f"NEW.subject = '{subject}'")
        log_start = self.odoo.log_size()
        answer = self.send(account_id, subject)
        self.assertTrue(
            self.odoo.log_lines(r"SERIALIZATION_FAILURE, \d+ tries left", log_start), "Odoo ran it again"
        )
        self.assertIn("queued", answer["params"]["message"].lower())
        stored = self.wait_state(subject, "sent")
        self.assertEqual(len(self.received(smtp, subject)), 1)
        sent = email.message_from_bytes(self.received(smtp, subject)[0].data, policy=policy.default)
        self.assertEqual(sent["Message-ID"], stored["message_id"], "the CRM email is the one that went")
        time.sleep(2)  # a second copy would be under way now
        self.assertEqual(len(self.received(smtp, subject)), 1, "exactly one copy reached the server")

    def test_a_serialization_failure_right_after_the_smtp_server_accepted_sends_once(self):
        smtp = SmtpServer(Security.NONE)
        account_id, _box = self.sending_account(smtp)
        subject = f"Accepted {self.tag}"
        # The job's transaction recording "sent" fails, the SMTP server having taken the mail.
        self.serialization_failure("mail_sync_outbox", "NEW.state = 'sent'")
        log_start = self.odoo.log_size()
        self.send(account_id, subject)
        self.wait_state(subject, "sent")
        self.assertTrue(self.odoo.log_lines(r"as sent met a concurrent update", log_start), "the fault hit")
        self.run_job()  # another run finds nothing left to send
        time.sleep(2)
        self.assertEqual(len(self.received(smtp, subject)), 1, "exactly one copy reached the server")

    def test_a_worker_killed_right_after_the_smtp_server_accepted_never_sends_again(self):
        smtp = SmtpServer(Security.NONE)
        account_id, _box = self.sending_account(smtp)
        subject = f"Killed {self.tag}"
        # The job stops when it records "sent": the SMTP server has the mail; then the whole Odoo
        # dies (SIGKILL to every process), as a machine that loses its power.
        self.fault("mail_sync_outbox", "NEW.state = 'sent'", f"PERFORM pg_sleep({HELD_SECONDS})")
        self.send(account_id, subject)
        production.wait_until(lambda: self.received(smtp, subject), SEND_BOUND, "the SMTP server has it")
        server = self.odoo.server
        os.killpg(server.process.pid, signal.SIGKILL)
        server.stop()
        # PostgreSQL learns of a dead client at its next read; the held transaction is ended now.
        self.odoo.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        self.drop_faults()
        self.faults = []
        self.restarted()
        self.run_job()
        stored = self.wait_state(subject, "failed")
        self.assertIn("interrupted", stored["send_error"])
        self.assertIn("Sent folder", stored["send_error"])
        self.run_job()
        time.sleep(2)
        self.assertEqual(len(self.received(smtp, subject)), 1, "never sent again blindly")

    def test_an_smtp_server_down_then_up_sends_once_by_the_retry(self):
        smtp = SmtpServer(Security.NONE)  # not started: nothing answers on its port
        account_id, _box = self.sending_account(smtp, start=False)
        subject = f"Down {self.tag}"
        self.send(account_id, subject)
        queued = production.wait_until(
            lambda: (found := self.email_of(subject)) and found["send_error"] and found,
            SEND_BOUND,
            "the first attempt failed",
        )
        self.assertEqual(queued["send_state"], "queued", "a temporary failure is tried again")
        self.assertIn("could not be reached", queued["send_error"])
        self.assertEqual(smtp.received, [])
        smtp.start()
        self.addCleanup(smtp.stop)
        # The backoff has passed.
        self.odoo.sql("UPDATE mail_sync_outbox SET next_attempt = now() at time zone 'UTC'")
        self.run_job()
        self.wait_state(subject, "sent")
        self.run_job()
        time.sleep(2)
        self.assertEqual(len(self.received(smtp, subject)), 1, "sent once, by the retry")
