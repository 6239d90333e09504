"""Older mail (a widened window, one person's older mail) and completeness, against the harness Dovecot."""

import os
import time
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from ..models import mail_sync_backfill
from .common import MailSyncCase, MailSyncHttpCase, make_email

ME = "me@example.test"


@tagged("post_install", "-at_install")
class TestBackfill(MailSyncCase):
    def setUp(self):
        super().setUp()
        self.Backfill = self.env["mail.sync.backfill"]
        self.set_quiet_hours(0, 0)  # at any time, unless a test says otherwise

    def set_quiet_hours(self, start, end):
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("mail_crm_sync.backfill_from_hour", start)
        Param.set_param("mail_crm_sync.backfill_to_hour", end)
        Param.set_param("mail_crm_sync.backfill_timezone", "UTC")

    def run_backfill(self):
        self.Backfill._cron_backfill()
        self.env.invalidate_all()

    def deliver_aged(self, box, ages, folder="INBOX", **mail):
        """One email per age (days), oldest first as mail arrives; Message-IDs say the folder and the age."""
        for age in sorted(ages, reverse=True):
            self.deliver(
                box,
                make_email(
                    message_id=f"<{folder.lower()}-{age}@client.example>", subject=f"{age} days", **mail
                ),
                folder=folder,
                age_days=age,
            )

    def ids(self, *keys):
        return [f"<{key}@client.example>" for key in keys]

    def stored_ids(self, account):
        return set(self.Message.search([("account_ids", "in", account.ids)]).mapped("message_id"))

    # -- 1. back-fill ------------------------------------------------------------------------

    def test_widening_the_window_from_14_days_to_6_months_brings_the_older_mail_once(self):
        bob = self.env["res.partner"].create({"name": "Bob", "email": "bob@client.example"})
        account, box = self.create_account(sync_window="14_days")
        self.deliver_aged(box, (1, 5, 13, 20, 60, 150, 200))
        self.deliver_aged(box, (3, 90), folder="Sent", sender=f"Me <{box.email}>", to="bob@client.example")
        self.sync(account)
        recent = set(self.ids("inbox-1", "inbox-5", "inbox-13", "sent-3"))
        self.assertEqual(self.stored_ids(account), recent)
        states = {folder.name: dict(folder.sync_state) for folder in account.folder_ids.filtered("active")}

        account.with_user(self.salesman).sync_window = "6_months"
        job = account.backfill_ids
        self.assertEqual((job.kind, job.state), ("window", "queued"))
        self.assertIn("First Sync widened", account.message_ids[0].body)
        self.assertIn("Waiting", account.backfill_progress)

        self.run_backfill()
        older = set(self.ids("inbox-20", "inbox-60", "inbox-150", "sent-90"))
        self.assertEqual(self.stored_ids(account), recent | older, "200 days is outside 6 months")
        self.assertEqual((job.state, job.total_count, job.done_count, job.read_count), ("done", 4, 4, 4))
        self.assertIn(f"{job.display_name}: 4 emails read", account.message_ids[0].body)
        self.assertFalse(account.backfill_progress)
        # The sync's state is its own: the back-fill stored mail below it and left it as it was.
        self.assertEqual(
            {folder.name: folder.sync_state for folder in account.folder_ids.filtered("active")}, states
        )
        # Nothing twice: one email and one place each; the sync reads none of them again, and
        # Fetch Older Mail back one year brings the 200 days old one alone.
        Location = self.env["mail.sync.message.location"]
        self.assertEqual(Location.search_count([("account_id", "=", account.id)]), 8)
        self.sync(account)
        self.assertEqual(self.Message.search_count([("account_ids", "in", account.ids)]), 8)
        action = account.with_user(self.salesman).action_fetch_older_mail()
        wizard = self.env[action["res_model"]].with_user(self.salesman).with_context(**action["context"])
        wizard.create({"reach": "1_year"}).action_start()
        self.run_backfill()
        again = account.backfill_ids[0]
        self.assertEqual((again.state, again.total_count, again.read_count), ("done", 1, 1))
        self.assertEqual(self.stored_ids(account), recent | older | set(self.ids("inbox-200")))
        self.assertEqual(Location.search_count([("account_id", "=", account.id)]), 9)
        with self.assertRaisesRegex(UserError, "already holds the mail since"):
            wizard.create({"reach": "3_months"}).action_start()
        # The older mail is linked like any other.
        self.assertIn("<sent-90@client.example>", bob.mail_sync_message_ids.mapped("message_id"))

    def test_a_back_fill_waits_for_the_quiet_hours_and_can_be_stopped(self):
        account, box = self.create_account(sync_window="14_days")
        self.deliver_aged(box, (1, 30, 40, 50, 60, 70))
        self.sync(account)
        hour = fields.Datetime.now().hour
        self.set_quiet_hours((hour + 2) % 24, (hour + 4) % 24)
        account.sync_window = "3_months"
        job = account.backfill_ids
        self.run_backfill()
        self.assertEqual(job.state, "queued", "outside the quiet hours")
        self.assertEqual(job.progress_text, "Waiting for the quiet hours")

        self.set_quiet_hours((hour - 1) % 24, (hour + 1) % 24)
        with patch.object(mail_sync_backfill, "BATCH_SIZE", 2):
            status, batches = job._run_claimed(limit=1)
            self.env.invalidate_all()
            self.assertEqual((status, batches), ("pending", 1))
            self.assertEqual((job.state, job.done_count, job.total_count), ("running", 2, 5))
            self.assertEqual(account.backfill_progress, f"{job.display_name}: 2 of 5")
            # Newest first: 30 and 40 days old.
            self.assertEqual(self.stored_ids(account), set(self.ids("inbox-1", "inbox-30", "inbox-40")))

            account.with_user(self.salesman).action_stop_backfill()
            self.run_backfill()
        self.assertEqual((job.state, job.done_count), ("stopped", 2))
        self.assertEqual(len(self.stored_ids(account)), 3, "nothing more once stopped")

    def test_quiet_hours_run_over_midnight_in_the_administrators_time_zone(self):
        self.set_quiet_hours(22, 6)
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.backfill_timezone", "Europe/Warsaw")
        at = fields.Datetime.to_datetime
        self.assertTrue(self.Backfill._in_quiet_hours(at("2026-11-30 21:30:00")), "22:30 in Warsaw")
        self.assertTrue(self.Backfill._in_quiet_hours(at("2026-11-30 04:59:00")), "05:59 in Warsaw")
        self.assertFalse(self.Backfill._in_quiet_hours(at("2026-11-30 05:00:00")), "06:00 in Warsaw")
        self.assertFalse(self.Backfill._in_quiet_hours(at("2026-11-30 20:59:00")), "21:59 in Warsaw")

    def test_finished_fetches_are_forgotten_after_a_month(self):
        account, _box = self.create_account()
        old, recent, running = self.Backfill.create(
            [{"account_id": account.id, "state": state} for state in ("done", "stopped", "running")]
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE mail_sync_backfill SET write_date = now() - interval '40 days' WHERE id IN %s",
            [(old.id, running.id)],
        )
        self.Backfill._gc_finished()
        self.assertEqual((old.exists(), recent.exists(), running.exists()), (self.Backfill, recent, running))

    def test_older_mail_with_this_person_brings_only_their_mail(self):
        bob = self.env["res.partner"].create({"name": "Bob", "email": "bob@client.example"})
        account, box = self.create_account(sync_window="14_days")
        self.deliver(
            box, make_email("Bob <bob@client.example>", message_id=self.ids("bob-new")[0]), age_days=2
        )
        self.deliver(
            box, make_email("Bob <bob@client.example>", message_id=self.ids("bob-old")[0]), age_days=60
        )
        self.deliver(
            box,
            make_email("carol@client.example", cc="bob@client.example", message_id=self.ids("bob-cc")[0]),
            age_days=90,
        )
        self.deliver(
            box, make_email("carol@client.example", message_id=self.ids("carol-old")[0]), age_days=60
        )
        self.deliver(
            box,
            make_email(box.email, to="Bob <bob@client.example>", message_id=self.ids("bob-sent")[0]),
            folder="Sent",
            age_days=100,
        )
        self.deliver(box, make_email(box.email, to="carol@client.example"), folder="Sent", age_days=100)
        # Another salesman's mailbox also holds older mail with Bob: not theirs to search.
        other, other_box = self.create_account(user=self.other_salesman)
        self.deliver(
            other_box, make_email("bob@client.example", message_id=self.ids("bob-other")[0]), age_days=60
        )
        self.sync(account | other)
        self.assertEqual(bob.mail_sync_message_ids.mapped("message_id"), self.ids("bob-new"))

        action = bob.with_user(self.salesman).action_mail_sync_fetch_older_mail()
        self.assertIn("bob@client.example", action["params"]["message"])
        job = self.Backfill.search([("partner_id", "=", bob.id)])
        self.assertEqual((job.account_id, job.kind, job.user_id), (account, "person", self.salesman))
        self.assertEqual(
            bob.with_user(self.salesman).mail_sync_backfill_progress,
            "Looking for older mail with this person…",
        )

        self.run_backfill()
        self.assertEqual((job.state, job.total_count), ("done", 3))
        self.assertEqual(
            self.stored_ids(account),
            set(self.ids("bob-new", "bob-old", "bob-cc", "bob-sent")),
            "only Bob's mail",
        )
        self.assertEqual(
            set(bob.with_user(self.salesman).mail_sync_message_ids.mapped("message_id")),
            set(self.ids("bob-new", "bob-old", "bob-cc", "bob-sent")),
        )
        self.assertNotIn(self.ids("bob-other")[0], self.stored_ids(other))
        self.assertFalse(bob.with_user(self.salesman).mail_sync_backfill_progress)
        told = self.env["bus.bus"].sudo().search([("message", "like", "older emails found")])
        self.assertTrue(any("3 older emails found" in note.message for note in told))

    def test_older_mail_with_the_contact_of_an_opportunity_can_be_stopped(self):
        account, box = self.create_account(sync_window="14_days")
        self.deliver(box, make_email("dan@client.example", message_id=self.ids("dan-old")[0]), age_days=60)
        self.sync(account)
        lead = self.env["crm.lead"].create({"name": "Deal", "email_from": "dan@client.example"})
        lead.with_user(self.salesman).action_mail_sync_fetch_older_mail()
        lead.with_user(self.salesman).action_mail_sync_stop_older_mail()
        self.run_backfill()
        job = self.Backfill.search([("lead_id", "=", lead.id)])
        self.assertEqual(job.state, "stopped")
        self.assertFalse(self.stored_ids(account))

    # -- 2. completeness -----------------------------------------------------------------------

    def test_completeness_figures_say_why_the_server_and_the_crm_differ(self):
        account, box = self.create_account(sync_window="14_days", keep="received")
        self.deliver_aged(box, (1, 2, 3, 40))  # UIDs 1 to 4; 40 days is outside the window
        self.deliver(box, make_email(f"Me <{box.email}>", message_id=self.ids("own")[0]), age_days=2)  # UID 5
        self.sync(account)
        inbox = account.folder_ids.filtered(lambda folder: folder.name == "INBOX")
        self.assertEqual(inbox.message_count, 3)
        # The sync met a message it could not read (UID 3): it is listed with its reason, not stored.
        failed = self.messages(self.ids("inbox-3")[0])
        uid = failed.location_ids.uid
        failed.sudo().unlink()
        inbox.sudo().failed_messages = [{"uid": uid, "reason": "the server would not hand it over: BAD"}]

        account.with_user(self.salesman).action_check_completeness()
        self.assertEqual(
            (
                inbox.server_count,
                inbox.window_count,
                inbox.outside_window_count,
                inbox.crm_count,
                inbox.filtered_count,
                inbox.failed_window_count,
                inbox.missing_count,
            ),
            (5, 4, 1, 2, 1, 1, 0),
        )
        self.assertTrue(inbox.is_complete, "every difference has a reason")
        self.assertIn("1 older than the window", inbox.completeness_note)
        self.assertIn("1 left out by Emails to Keep (Received)", inbox.completeness_note)
        self.assertIn(f"UID {uid}: the server would not hand it over: BAD", inbox.completeness_note)
        self.assertTrue(account.is_complete)

        # Mail that arrived since the last sync is not a gap.
        self.deliver(box, make_email(message_id=self.ids("newest")[0]))
        inbox.action_check_completeness()
        self.assertEqual((inbox.pending_count, inbox.missing_count, inbox.is_complete), (1, 0, True))

    def test_repair_fetches_only_what_is_missing_and_the_night_says_so(self):
        account, box = self.create_account(sync_window="14_days")
        self.deliver_aged(box, (1, 2, 3, 4))
        self.sync(account)
        inbox = account.folder_ids.filtered(lambda folder: folder.name == "INBOX")
        kept = self.messages(*self.ids("inbox-1", "inbox-2", "inbox-4"))
        # A gap, as a faulty run could leave one: the CRM lost one email the server holds.
        lost = self.messages(self.ids("inbox-3")[0])
        uid = lost.location_ids.uid
        lost.sudo().unlink()

        self.env["mail.sync.account"]._cron_check_completeness()
        self.env.invalidate_all()
        self.assertEqual((inbox.missing_count, inbox.missing_uids, inbox.is_complete), (1, [uid], False))
        self.assertFalse(account.is_complete)
        self.assertIn("Not complete: INBOX", account.message_ids[0].body)
        self.assertIn("1 missing for no known reason", inbox.completeness_note)

        inbox.with_user(self.salesman).action_repair()
        self.run_backfill()
        job = self.Backfill.search([("folder_id", "=", inbox.id)])
        self.assertEqual((job.kind, job.state, job.total_count, job.read_count), ("repair", "done", 1, 1))
        self.assertTrue(self.messages(self.ids("inbox-3")[0]))
        self.assertEqual(
            self.messages(*self.ids("inbox-1", "inbox-2", "inbox-4")), kept, "the others untouched"
        )

        account.completeness_date = False  # due again
        self.env["mail.sync.account"]._cron_check_completeness()
        self.env.invalidate_all()
        self.assertTrue(inbox.is_complete and account.is_complete)
        self.assertIn("Complete: every synced folder", account.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestBackfillUi(MailSyncHttpCase):
    """Older mail and completeness on the screens, in a real browser."""

    def test_salesman_asks_for_older_mail_stops_it_and_checks_completeness(self):
        salesman = new_test_user(
            self.env,
            login="mcs_backfill_salesman",
            groups="sales_team.group_sale_salesman",
            name="Bea Backfill",
        )
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.backfill_timezone", "UTC")
        hour = fields.Datetime.now().hour
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.backfill_from_hour", (hour + 2) % 24)
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.backfill_to_hour", (hour + 4) % 24)
        bob = self.env["res.partner"].create({"name": "Tour Bob", "email": "tour.bob@client.example"})
        box = self.server.add_user()
        for age in (40, 3, 1):
            path = self.server.deliver(box, make_email("tour.bob@client.example", to=box.email))
            when = time.time() - age * 86400
            os.utime(path, (when, when))
        account = self.env["mail.sync.account"].sudo().create(self.account_values(box, user_id=salesman.id))
        account.action_test_connection()
        account._sync_accounts()

        self.start_tour(
            f"/odoo/res.partner/{bob.id}", "mail_crm_sync_backfill_contact_tour", login=salesman.login
        )
        job = self.env["mail.sync.backfill"].search([("partner_id", "=", bob.id)])
        self.assertEqual((job.account_id, job.state), (account, "stopped"))

        self.start_tour(
            f"/odoo/mail.sync.account/{account.id}",
            "mail_crm_sync_backfill_account_tour",
            login=salesman.login,
        )
        self.assertEqual(account.backfill_ids[0].state, "stopped")
        self.assertTrue(account.is_complete)
