import datetime

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from mail_crm_sync_engine import Security
from mail_crm_sync_engine.testing.smtp import SmtpServer

from .common import MailSyncCase


@tagged("post_install", "-at_install")
class TestOutboxLater(MailSyncCase):
    """Undo Send and Send At (issue 27, item 4): an email waits in the outbox until it is due, and
    its sender can take it back until the job claims it. Time passes by moving the email's due
    moment into the past, as PostgreSQL's clock sees it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.smtp = SmtpServer(Security.NONE).start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.alice = cls.env["res.partner"].create({"name": "Alice Client", "email": "alice@client.example"})

    def setUp(self):
        super().setUp()
        self.set_undo_seconds(10)
        mailbox_user = self.server.add_user()
        self.smtp.add_user(mailbox_user.login, mailbox_user.password)
        self.account, _box = self.create_account(
            mailbox_user=mailbox_user,
            sending_enabled=True,
            smtp_host=self.smtp.host,
            smtp_port=self.smtp.port,
            smtp_security="none",
        )
        self.received_before = len(self.smtp.received)

    def set_undo_seconds(self, seconds):
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.undo_send_seconds", str(seconds))

    def compose(self, **values):
        action = self.alice.with_user(self.salesman).action_mail_sync_compose()
        composer = self.env["mail.sync.compose"].with_user(self.salesman).with_context(**action["context"])
        return composer.create({"subject": "Our offer", "body": "<p>40 chairs, 1,200 EUR.</p>", **values})

    def queued(self):
        return self.env["mail.sync.outbox"].search([("account_id", "=", self.account.id)])

    def received(self):
        return self.smtp.received[self.received_before :]

    def run_job(self, later=False):
        """The sending job; ``later``: after every queued email of the account became due."""
        if later:
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE mail_sync_outbox SET next_attempt = now() at time zone 'UTC' - interval '1 second' "
                "WHERE account_id = %s AND state = 'queued'",
                [self.account.id],
            )
        self.env["mail.sync.outbox"]._cron_send()
        self.env.invalidate_all()

    def test_undo_within_the_delay_sends_nothing_and_reopens_the_composer(self):
        answer = self.compose(email_cc="bob@client.example").action_send()

        self.assertIn("10 seconds", answer["params"]["message"])
        email = self.queued().email_id
        self.assertEqual(answer["params"]["next"]["res_id"], email.id, "the email opens, with Undo Send")
        self.assertEqual(email.send_state, "queued")
        self.assertTrue(email.send_scheduled)
        self.run_job()
        self.assertEqual(self.received(), [], "not due yet")

        undone = email.with_user(self.salesman).action_undo_send()

        self.assertFalse(self.queued(), "out of the outbox")
        self.assertFalse(email.exists(), "and out of the CRM")
        self.run_job(later=True)
        self.assertEqual(self.received(), [], "nothing goes, even once the delay is over")
        composer = self.env["mail.sync.compose"].browse(undone["params"]["next"]["res_id"])
        self.assertEqual(undone["params"]["next"]["res_model"], "mail.sync.compose")
        self.assertEqual(composer.create_uid, self.salesman)
        self.assertEqual(composer.partner_to_ids, self.alice)
        self.assertEqual(composer.email_cc, "bob@client.example")
        self.assertEqual(composer.subject, "Our offer")
        self.assertIn("40 chairs, 1,200 EUR.", composer.body)
        self.assertEqual((composer.res_model, composer.res_id), ("res.partner", self.alice.id))

        composer.with_user(self.salesman).action_send()
        self.run_job(later=True)
        self.assertEqual(len(self.received()), 1, "sent again from the reopened composer, once")

    def test_undo_after_sending_is_refused(self):
        self.compose().action_send()
        email = self.queued().email_id
        self.run_job(later=True)
        self.assertEqual(len(self.received()), 1)
        self.assertEqual(email.send_state, "sent")
        self.assertFalse(email.send_scheduled, "no Undo Send button any more")

        with self.assertRaisesRegex(UserError, "already been sent"):
            email.with_user(self.salesman).action_undo_send()
        self.assertEqual(self.queued().state, "sent")

    def test_undo_is_refused_once_the_job_claimed_the_email(self):
        self.compose().action_send()
        row = self.queued()
        row.write({"state": "sending"})  # as the job marks it before talking to the SMTP server

        with self.assertRaisesRegex(UserError, "already been sent"):
            row.email_id.with_user(self.salesman).action_undo_send()
        self.assertTrue(row.exists())

    def test_send_later_goes_at_its_time_and_not_before(self):
        at = fields.Datetime.now().replace(microsecond=0) + datetime.timedelta(hours=2)
        answer = self.compose(send_at=at).action_send()

        self.assertIn("scheduled for", answer["params"]["message"])
        email = self.queued().email_id
        self.assertEqual(email.send_scheduled, at)
        self.run_job()
        self.assertEqual(self.received(), [], "not before its time")
        self.assertEqual(email.send_state, "queued")

        self.run_job(later=True)
        self.assertEqual(len(self.received()), 1, "at its time")
        self.assertEqual(email.send_state, "sent")

    def test_a_scheduled_email_can_be_cancelled_until_its_time(self):
        at = fields.Datetime.now() + datetime.timedelta(days=1)
        self.compose(send_at=at).action_send()

        self.queued().email_id.with_user(self.salesman).action_undo_send()

        self.run_job(later=True)
        self.assertEqual(self.received(), [])

    def test_a_past_send_at_is_refused(self):
        wizard = self.compose(send_at=fields.Datetime.now() - datetime.timedelta(minutes=1))

        with self.assertRaisesRegex(UserError, "Send At is in the past"):
            wizard.action_send()
        self.assertFalse(self.queued())

    def test_undo_send_of_zero_seconds_sends_at_once(self):
        self.set_undo_seconds(0)

        answer = self.compose().action_send()

        self.assertIn("queued", answer["params"]["message"])
        self.assertFalse(self.queued().next_attempt)
        self.run_job()
        self.assertEqual(len(self.received()), 1)

    def test_the_setting_ranges_from_0_to_30_seconds_default_10(self):
        self.env["ir.config_parameter"].sudo().search(
            [("key", "=", "mail_crm_sync.undo_send_seconds")]
        ).unlink()
        Settings = self.env["res.config.settings"]
        self.assertEqual(Settings._mail_sync_undo_send_seconds(), 10)
        self.assertEqual(Settings.create({}).mail_sync_undo_send_seconds, 10)
        for wrong in (-1, 31):
            with self.assertRaisesRegex(ValidationError, "from 0 to 30 seconds"):
                Settings.create({"mail_sync_undo_send_seconds": wrong})
        Settings.create({"mail_sync_undo_send_seconds": 30}).execute()
        self.assertEqual(Settings._mail_sync_undo_send_seconds(), 30)
