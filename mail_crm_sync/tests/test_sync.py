from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models import mail_sync_account, mail_sync_message
from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestSync(MailSyncCase):
    def test_first_sync_takes_inbox_and_sent_within_the_window(self):
        account, box = self.create_account()
        self.assertEqual(account.state, "active")
        self.assertEqual(
            set(account.folder_ids.filtered("active").mapped("role")),
            {"inbox", "sent"},
            "inbox and sent by default",
        )
        self.assertIn("trash", account.folder_ids.mapped("role"))
        self.deliver(box, make_email(subject="Recent", message_id="<recent@client.example>"), age_days=3)
        self.deliver(box, make_email(subject="Too old", message_id="<old@client.example>"), age_days=40)
        self.deliver(
            box,
            make_email(
                sender=box.email, to="bob@client.example", subject="My reply", message_id="<sent@me.example>"
            ),
            folder="Sent",
            age_days=1,
        )
        self.deliver(box, make_email(subject="Binned", message_id="<trash@client.example>"), folder="Trash")

        self.sync(account)

        found = self.Message.search([("account_ids", "in", account.ids)])
        self.assertEqual(
            sorted(found.mapped("message_id")),
            ["<recent@client.example>", "<sent@me.example>"],
            "14-day window",
        )
        self.assertEqual(self.messages("<sent@me.example>").direction, "outgoing")
        self.assertEqual(self.messages("<recent@client.example>").direction, "incoming")
        self.assertEqual(account.state, "active")
        self.assertTrue(account.last_sync_date)
        self.assertEqual(account.message_count, 2)

    def test_keep_received_only_leaves_sent_mail_out(self):
        account, box = self.create_account(keep="received")
        self.deliver(box, make_email(message_id="<in@client.example>"))
        self.deliver(
            box, make_email(sender=box.email, to="x@client.example", message_id="<out@me.example>"), "Sent"
        )
        self.sync(account)
        self.assertEqual(
            self.Message.search([("account_ids", "in", account.ids)]).mapped("message_id"),
            ["<in@client.example>"],
        )

    def test_keep_sent_only_leaves_received_mail_out(self):
        account, box = self.create_account(keep="sent")
        self.deliver(box, make_email(message_id="<in2@client.example>"))
        self.deliver(
            box, make_email(sender=box.email, to="x@client.example", message_id="<out2@me.example>"), "Sent"
        )
        self.sync(account)
        self.assertEqual(
            self.Message.search([("account_ids", "in", account.ids)]).mapped("message_id"),
            ["<out2@me.example>"],
        )

    def test_second_run_adds_only_new_mail(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<first@client.example>"))
        self.sync(account)
        first = self.messages("<first@client.example>")
        self.assertTrue(first)
        self.deliver(box, make_email(message_id="<second@client.example>"))
        self.sync(account)
        self.sync(account)
        stored = self.Message.search([("account_ids", "in", account.ids)])
        self.assertEqual(
            sorted(stored.mapped("message_id")), ["<first@client.example>", "<second@client.example>"]
        )
        self.assertEqual(len(stored.location_ids), 2, "one place each, nothing stored twice")
        inbox = account.folder_ids.filtered(lambda f: f.role == "inbox")
        self.assertTrue(inbox.uidvalidity)
        self.assertEqual(inbox.last_uid, 2)

    def test_poll_with_nothing_new_moves_only_the_dates(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<idle@client.example>"))
        self.sync(account)
        folder_states = account.folder_ids.mapped("sync_state")
        chatter = account.message_ids
        account.last_attempt_date = before = fields.Datetime.now() - timedelta(minutes=10)

        self.assertEqual(self.sync(account), {account.id: "done"})

        self.assertGreater(account.last_attempt_date, before)
        self.assertEqual((account.state, account.message_count), ("active", 1))
        self.assertEqual(account.folder_ids.mapped("sync_state"), folder_states)
        self.assertEqual(account.message_ids, chatter, "nothing in the account's chatter")

    def test_state_changes_are_tracked_in_the_chatter(self):
        account, _box = self.create_account()
        port, account.imap_port = account.imap_port, 1  # nothing listens there
        self.sync(account, index_search=False)
        self.assertEqual(account.state, "failing")
        account.imap_port = port
        self.sync(account, index_search=False)
        self.assertEqual(account.state, "active")
        tracked = account.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "state"
        )
        self.assertEqual(
            [(value.old_value_char, value.new_value_char) for value in tracked.sorted("id")],
            [("Active", "Failing"), ("Failing", "Active")],
        )

    def test_a_long_first_sync_goes_on_in_the_next_runs(self):
        account, box = self.create_account()
        for index in range(7):
            self.deliver(box, make_email(message_id=f"<long{index}@client.example>"))
        with (
            patch("odoo.addons.mail_crm_sync.models.mail_sync_runtime.BATCH_SIZE", 2),
            patch("odoo.addons.mail_crm_sync.models.mail_sync_runtime.BATCHES_PER_RUN", 2),
        ):
            self.assertEqual(self.sync(account), {account.id: "pending"})
            self.assertEqual(account.message_count, 4, "two batches of two, then the others' turn")
            self.assertTrue(account.sync_pending)
            # The other three: two batches, its whole share again, so it cannot know it is done.
            self.assertEqual(self.sync(account), {account.id: "pending"})
            self.assertEqual(account.message_count, 7)
            self.assertEqual(self.sync(account), {account.id: "done"})
        self.assertEqual(account.message_count, 7)
        self.assertFalse(account.sync_pending)
        self.assertEqual(
            len(account.folder_ids.filtered(lambda f: f.role == "inbox").mapped("sync_state")), 1
        )
        self.assertEqual(self.Message.search_count([("account_ids", "in", account.ids)]), 7)

    def test_same_mail_in_inbox_and_sent_and_two_accounts_is_one_record(self):
        account, box = self.create_account()
        other_account, other_box = self.create_account(user=self.other_salesman)
        raw = make_email(sender=box.email, to=other_box.email, message_id="<shared@me.example>")
        self.deliver(box, raw, "Sent")
        self.deliver(box, raw, "INBOX")
        self.deliver(other_box, raw, "INBOX")
        self.sync(account | other_account)
        message = self.messages("<shared@me.example>")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.account_ids, account | other_account)
        places = {(place.account_id, place.folder_id.role) for place in message.location_ids}
        self.assertEqual(places, {(account, "sent"), (account, "inbox"), (other_account, "inbox")})

    def test_mail_deleted_on_server_stays_and_is_marked_gone(self):
        account, box = self.create_account()
        path = self.deliver(
            box,
            make_email(
                message_id="<doomed@client.example>",
                attachment=("quote.pdf", "application/pdf", b"%PDF-1.4 x"),
            ),
        )
        self.deliver(box, make_email(message_id="<stays@client.example>"))
        self.sync(account)
        doomed = self.messages("<doomed@client.example>")
        self.assertEqual(doomed.attachment_ids.mapped("name"), ["quote.pdf"])
        self.assertFalse(doomed.gone_from_server)
        raw = path.read_bytes()
        path.unlink()
        self.sync(account)
        self.assertTrue(doomed.gone_from_server)
        self.assertTrue(doomed.attachment_ids.gone_from_server)
        self.assertFalse(self.messages("<stays@client.example>").gone_from_server)
        self.deliver(box, raw)  # put back (a restore, a move undone): the same email, not gone
        self.sync(account)
        self.assertEqual(self.messages("<doomed@client.example>"), doomed)
        self.assertFalse(doomed.gone_from_server)

    def test_html_is_sanitized_and_text_searchable(self):
        account, box = self.create_account()
        self.deliver(
            box,
            make_email(
                subject="Quarterly figures",
                body="Revenue grew by twelve percent",
                html='<p onclick="steal()">Revenue <b>grew</b></p><script>alert(1)</script>',
                message_id="<html@client.example>",
            ),
        )
        self.sync(account)
        message = self.messages("<html@client.example>")
        self.assertIn("<b>grew</b>", message.body_html)
        self.assertNotIn("<script", message.body_html)
        self.assertNotIn("onclick", message.body_html)
        self.assertEqual(self.Message.search([("search_text", "ilike", "twelve percent")]), message)
        self.assertEqual(self.Message.search([("search_text", "ilike", "quarterly")]), message)
        self.assertEqual(self.Message.search([("search_text", "ilike", "alice@client.example")]), message)
        self.assertFalse(self.Message.search([("search_text", "ilike", "thirteen")]))

    def _has_search_document(self, message):
        self.env.cr.execute(
            "SELECT EXISTS (SELECT 1 FROM mail_sync_message_search WHERE email_id = %s)", [message.id]
        )
        return self.env.cr.fetchone()[0]

    def test_a_synced_email_is_found_at_once_and_indexed_by_the_job_the_sync_starts(self):
        account, box = self.create_account()
        reply = (
            "Forty chairs are fine.\n\n"
            "On Mon, 2 Nov 2026 at 10:00, Lisa Buyer <lisa@client.example> wrote:\n"
            "> Can you quote the tables too?"
        )
        self.deliver(box, make_email(subject="Showroom", body=reply, message_id="<chairs@client.example>"))
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_index_search")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        synced_at = fields.Datetime.now()
        self.sync(account, index_search=False)
        message = self.messages("<chairs@client.example>")

        def found(text):
            return self.Message.search([("search_text", "ilike", text)])

        # Stored without its document, the email is found at once by its subject and addresses; its
        # words wait for the job.
        self.assertFalse(self._has_search_document(message))
        self.assertEqual(found("showroom"), message)
        self.assertFalse(found("forty chair"), "its words: once the job reached it")
        # The sync asked for the job to run now, in a cron worker, once its batch was committed.
        due = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertTrue(due)
        self.assertLessEqual(min(due.mapped("call_at")), synced_at + timedelta(seconds=1))
        # The job, as the scheduler runs it: the document is built, without the quoted history.
        self.Message._cron_index_search()
        self.assertTrue(self._has_search_document(message))
        self.assertEqual(found("forty chair"), message)
        self.assertEqual(found("showroom"), message)
        self.assertFalse(found("tables"))

    def test_a_run_asks_for_the_search_index_job_at_its_end_and_its_batches_later(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<later@client.example>"))
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_index_search")
        triggers = self.env["ir.cron.trigger"]
        triggers.search([("cron_id", "=", cron.id)]).unlink()
        synced_at = fields.Datetime.now()
        self.sync(account, index_search=False)
        self.assertTrue(self.messages("<later@client.example>"))
        calls = sorted(triggers.search([("cron_id", "=", cron.id)]).mapped("call_at"))
        self.assertEqual(len(calls), 2, "one for the batch, one for the run's end")
        # The run's end: at once. Its batch asked for later: during a run of several batches, the
        # job leaves them the cores; a run that lasts longer than that shares them.
        self.assertLessEqual(calls[0], synced_at + timedelta(seconds=5))
        self.assertGreaterEqual(calls[1], synced_at + timedelta(seconds=mail_sync_message.SEARCH_INDEX_WAIT))

    def test_the_search_index_job_takes_a_chunk_per_call_and_the_rest_stays_found(self):
        account, box = self.create_account()
        for number in (1, 2, 3):
            self.deliver(
                box, make_email(body=f"Invoice number {number}", message_id=f"<i{number}@client.example>")
            )
        self.sync(account, index_search=False)
        emails = self.messages(*(f"<i{number}@client.example>" for number in (1, 2, 3)))
        self.Message._cron_index_search(chunk_size=2)
        self.assertEqual(sorted(self._has_search_document(email) for email in emails), [False, True, True])
        self.assertEqual(
            len(self.Message.search([("search_text", "ilike", "invoice")])), 2, "the two indexed"
        )
        self.assertEqual(self.Message.search([("search_text", "ilike", "hello")]), emails, "all by subject")
        self.Message._cron_index_search(chunk_size=2)
        self.assertTrue(all(self._has_search_document(email) for email in emails))
        self.assertEqual(self.Message.search([("search_text", "ilike", "invoice")]), emails)

    def test_an_email_whose_words_cannot_be_indexed_holds_back_no_other(self):
        account, box = self.create_account()
        for number in (1, 2, 3):
            body = "Unreadable words" if number == 2 else f"Invoice number {number}"
            self.deliver(box, make_email(subject=f"Order {number}", body=body, message_id=f"<o{number}@x>"))
        self.sync(account, index_search=False)
        emails = self.messages("<o1@x>", "<o2@x>", "<o3@x>")
        reading = mail_sync_message.new_text

        def refuse_one(text):
            if "Unreadable" in text:
                raise ValueError("a text the quote reader cannot read")
            return reading(text)

        with patch.object(mail_sync_message, "new_text", refuse_one), mute_logger(mail_sync_message.__name__):
            self.Message._cron_index_search()

        self.assertTrue(all(self._has_search_document(email) for email in emails), "none waits any more")
        self.assertEqual(len(self.Message.search([("search_text", "ilike", "invoice")])), 2)
        self.assertEqual(self.Message.search([("search_text", "ilike", "order 2")]), self.messages("<o2@x>"))

    def test_full_text_search_uses_the_index(self):
        # Tiny test tables make any plan cheap: leave the planner only the bitmap scans a GIN index gives,
        # so the plan shows whether the query's expression matches the index's.
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute("SET LOCAL enable_indexscan = off")
        query = self.Message._search([("search_text", "ilike", "invoice")])
        self.env.cr.execute("EXPLAIN " + query.select().code, query.select().params)
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("mail_sync_message_search_document_idx", plan)

    def test_failed_folder_does_not_stop_the_others(self):
        account, box = self.create_account()
        self.env["mail.sync.folder"].create(
            {"account_id": account.id, "name": "Does/Not/Exist", "role": "other", "active": True}
        )
        self.deliver(box, make_email(message_id="<survivor@client.example>"))
        self.sync(account)
        self.assertTrue(self.messages("<survivor@client.example>"))
        self.assertEqual(account.state, "active")
        missing = account.folder_ids.filtered(lambda f: f.name == "Does/Not/Exist")
        self.assertIn("folder could not be read", missing.last_error)

    def test_download_new_messages_button(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<button@client.example>"))
        account.with_user(self.salesman).action_sync_now()
        self.assertTrue(self.messages("<button@client.example>"))

    def test_cron_syncs_due_accounts_and_reports_progress(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<cron@client.example>"))
        self.env["mail.sync.account"]._cron_sync()
        self.env.invalidate_all()
        self.assertTrue(self.messages("<cron@client.example>"))
        self.assertFalse(account.sync_pending)

    def test_a_call_of_the_scheduled_sync_stops_at_its_time_and_the_next_goes_on(self):
        """Thousands of accounts are polled over several calls of the job, each short enough for a
        cron worker's time limit (Odoo calls it again at once while it reports work left); every
        account once. With no time at all, a call polls one account."""
        boxes = {}
        for number, user in enumerate((self.salesman, self.other_salesman, self.env.ref("base.user_admin"))):
            account, box = self.create_account(user=user)
            self.deliver(box, make_email(message_id=f"<due{number}@client.example>"))
            boxes[account] = f"<due{number}@client.example>"
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_sync")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "done": 0, "remaining": 0})
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        job = self.env["mail.sync.account"].with_context(ir_cron_progress_id=progress.id, cron_id=cron.id)
        figures = []
        with patch.object(mail_sync_account, "SYNC_CALL_SECONDS", 0):
            for _call in range(4):
                job._cron_sync()
                figures.append((progress.done, progress.remaining))
        self.assertEqual(figures, [(1, 2), (1, 1), (1, 0), (0, 0)])
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(len(new_triggers), 2, "a call that left accounts wakes a worker for them")
        self.env.invalidate_all()
        for account, message_id in boxes.items():
            self.assertTrue(self.messages(message_id), f"{account.name} was polled")
            runtime = self.env["mail.sync.runtime"].search([("account_id", "=", account.id)])
            self.assertEqual(runtime.last_run_stored, 1, f"{account.name} was polled once")

    def test_changed_uidvalidity_rescans_without_duplicates(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<before1@client.example>"))
        self.deliver(box, make_email(message_id="<before2@client.example>"))
        self.sync(account)
        inbox = account.folder_ids.filtered(lambda f: f.role == "inbox")
        old_uidvalidity = inbox.uidvalidity
        # The server forgets its UIDs (a restore, a migration): Dovecot starts a new UIDVALIDITY.
        for index_file in box.maildir.glob("dovecot*"):
            index_file.unlink()
        self.deliver(box, make_email(message_id="<after@client.example>"))
        self.sync(account)
        self.assertNotEqual(inbox.uidvalidity, old_uidvalidity)
        stored = self.Message.search([("account_ids", "in", account.ids)])
        self.assertEqual(len(stored), 3)
        self.assertEqual(set(stored.location_ids.mapped("uidvalidity")), {inbox.uidvalidity})
        self.assertEqual(len(stored.location_ids), 3)
        self.assertFalse(stored.filtered("gone_from_server"))


@tagged("post_install", "-at_install")
class TestSeveralWorkers(MailSyncCase):
    def test_an_account_synced_since_the_list_was_read_is_not_synced_again(self):
        account, box = self.create_account()
        list_read_at = fields.Datetime.now() - timedelta(minutes=2)  # a worker reads the due accounts
        self.assertEqual(self.sync(account), {account.id: "done"})  # another worker syncs one meanwhile
        self.deliver(box, make_email(message_id="<late@client.example>"))
        self.assertEqual(account._sync_accounts(due_before=list_read_at), {account.id: "busy"})
        self.assertFalse(self.messages("<late@client.example>"), "not synced a second time in that run")
        account.last_attempt_date = list_read_at - timedelta(minutes=1)  # due again at the next run
        self.assertEqual(account._sync_accounts(due_before=list_read_at), {account.id: "done"})
        self.assertTrue(self.messages("<late@client.example>"))

    def test_parallel_sync_jobs_are_copies_of_the_scheduled_action(self):
        main = self.env.ref("mail_crm_sync.ir_cron_mail_sync")

        def jobs():
            return self.env["ir.cron"].search([("code", "=", main.code), ("model_id", "=", main.model_id.id)])

        self.env["res.config.settings"].create({"mail_sync_parallel_jobs": 3}).execute()
        self.assertEqual(len(jobs()), 3)
        self.env["res.config.settings"].create({"mail_sync_parallel_jobs": 1}).execute()
        self.assertEqual(jobs(), main)
