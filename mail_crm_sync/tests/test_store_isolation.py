import dataclasses
import datetime
import importlib.util
from pathlib import Path
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from mail_crm_sync_engine import Batch, FolderState, Place, RunDeadlineReached, record_from_bytes

from ..models.mailbox_reader import MailboxReader
from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestStoreIsolation(MailSyncCase):
    """No email can stop a mailbox's sync, and none is lost without a reason on its folder."""

    def record(self, uid, **email):
        place = Place("INBOX", uid, 7)
        return record_from_bytes(make_email(**email), place, ())

    def inbox(self, account):
        return account.folder_ids.filtered(lambda folder: folder.name == "INBOX")

    def test_an_email_the_database_refuses_is_listed_and_its_batch_goes_on(self):
        account, _box = self.create_account()
        inbox = self.inbox(account)
        good = self.record(1, message_id="<good-1@x>", body="The first one.")
        # What no check of the engine foresaw: here a NUL the database refuses in a text column.
        refused = dataclasses.replace(self.record(2, message_id="<refused@x>"), subject="a\x00b")
        after = self.record(3, message_id="<good-3@x>", body="The third one.")
        batch = Batch("INBOX", (good, refused, after), FolderState(uidvalidity=7, last_uid=3))

        with mute_logger("odoo.addons.mail_crm_sync.models.mail_sync_runtime"):
            with mute_logger("odoo.addons.mail_crm_sync.models.mail_sync_message"):
                # On a cursor of its own, as the sync stores: it commits and rolls back.
                with self.registry.cursor() as cr:
                    work = self.env(cr=cr)
                    created = account.with_env(work)._store_and_commit(inbox.with_env(work), batch)
        self.env.invalidate_all()

        self.assertEqual(created, 2)
        self.assertEqual(len(self.messages("<good-1@x>", "<good-3@x>")), 2)
        # Stored one by one in one transaction: each with its own text, none with another's.
        self.assertEqual(self.messages("<good-1@x>").body_text.strip(), "The first one.")
        self.assertEqual(self.messages("<good-3@x>").body_text.strip(), "The third one.")
        self.assertFalse(self.messages("<refused@x>"))
        self.assertEqual([item["uid"] for item in inbox.failed_messages], [2])
        self.assertIn("could not be stored", inbox.failed_messages[0]["reason"])
        self.assertEqual(inbox.last_uid, 3, "the folder moves on: the next run does not stop there again")

    def test_text_utf8_cannot_hold_is_stored_with_the_rest_of_the_email(self):
        account, _box = self.create_account()
        inbox = self.inbox(account)
        record = dataclasses.replace(
            self.record(1, message_id="<odd@x>"),
            text="Prix : 12 € \udcff net",  # a lone surrogate: no UTF-8 for it
            html="<p>Prix : 12 € \udcff net</p>",
        )
        batch = Batch("INBOX", (record,), FolderState(uidvalidity=7, last_uid=1))
        with self.registry.cursor() as cr:
            work = self.env(cr=cr)
            created = account.with_env(work)._store_and_commit(inbox.with_env(work), batch)
        self.env.invalidate_all()

        self.assertEqual(created, 1)
        email = self.messages("<odd@x>")
        self.assertEqual(email.body_text, "Prix : 12 € ? net")
        self.assertEqual(email.body_html_source, "<p>Prix : 12 € ? net</p>")
        self.assertFalse(inbox.failed_messages)

    def test_a_different_email_under_a_taken_message_id_is_stored_apart(self):
        account, box = self.create_account()
        sent = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)
        real = make_email(message_id="<same@x>", subject="The real one", date=sent)
        self.deliver(box, real)
        self.deliver(
            box, make_email(message_id="<same@x>", subject="A forgery", sender="mallory@evil.example")
        )
        self.deliver(box, real)  # a true copy
        self.sync(account)

        emails = self.Message.search([("message_id", "=like", "<same@x>%")], order="id")
        self.assertEqual(emails.mapped("subject"), ["The real one", "A forgery"])
        real, forgery = emails
        self.assertEqual(real.message_id, "<same@x>")
        self.assertIn("Another email already has the Message-ID <same@x>", forgery.warnings)
        self.assertEqual(len(real.location_ids), 2, "both copies of the real one are where they are")
        self.assertEqual(len(forgery.location_ids), 1)
        self.assertFalse(self.inbox(account).failed_messages)

    def test_an_email_stored_before_fingerprints_gets_the_one_its_copies_have(self):
        account, box = self.create_account()
        sent = datetime.datetime(2025, 11, 3, 17, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
        real = make_email(
            message_id="<old@x>",
            subject="  Offer,  as  agreed ",
            sender='"Buyer, Alice" <Alice@Client.example>',
            to="box@x.example, Bob <bob@client.example>",
            date=sent,
        )
        self.deliver(box, real)
        self.sync(account)
        (old,) = self.Message.search([("message_id", "=", "<old@x>")])
        kept = old.content_hash
        # As the 18.0.1.2.0 addon stored it: no fingerprint.
        self.env.cr.execute("UPDATE mail_sync_message SET content_hash = NULL WHERE id = %s", [old.id])
        migration = importlib.util.spec_from_file_location(
            "mail_crm_sync_18_0_1_3_0", Path(__file__).parents[1] / "migrations/18.0.1.3.0/post-migrate.py"
        )
        module = importlib.util.module_from_spec(migration)
        migration.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.2.0")
        old.invalidate_recordset()
        self.assertEqual(old.content_hash, kept, "worked out from what was stored, as its copies have it")

        # So a forgery under its Message-ID, delivered later, is stored apart.
        self.deliver(box, make_email(message_id="<old@x>", subject="Forged", sender="mallory@evil.example"))
        self.deliver(box, real)
        self.sync(account)
        emails = self.Message.search([("message_id", "=like", "<old@x>%")], order="id")
        self.assertEqual(emails[0], old)
        self.assertEqual(emails[1:].mapped("subject"), ["Forged"])
        self.assertEqual(len(old.location_ids), 2, "the true copy joins the email it copies")

    def test_a_crash_of_the_sync_is_told_on_the_account(self):
        account, box = self.create_account()
        self.deliver(box, make_email())
        with (
            patch.object(type(self.Account), "_sync_folders", side_effect=RuntimeError("boom")),
            mute_logger("odoo.addons.mail_crm_sync.models.mail_sync_runtime"),
        ):
            self.assertEqual(self.sync(account), {account.id: "failed"})
        self.assertEqual(account.state, "failing")
        self.assertEqual(account.failure_count, 1)
        self.assertIn("unexpected error", account.last_error)
        self.assertIn("boom", account.last_error)
        self.assertTrue(account.last_attempt_date, "the account does not jump the queue at every run")

        self.sync(account)
        self.assertEqual(account.state, "active")
        self.assertFalse(account.last_error)

    def test_a_folder_that_fails_is_a_warning_on_the_account_and_in_the_notice(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<in-inbox@x>"))
        missing = account.folder_ids.create({"account_id": account.id, "name": "Vanished", "active": True})
        notice = account.with_user(self.salesman).action_sync_now()

        self.assertEqual(notice["params"]["type"], "warning")
        self.assertIn("1 new email", notice["params"]["message"])
        self.assertIn("folder Vanished", notice["params"]["message"])
        self.assertIn("Folder Vanished was not synced", account.sync_warning)
        self.assertTrue(missing.last_error)
        self.assertEqual(account.state, "active")

        missing.active = False
        account.with_user(self.salesman).action_sync_now()
        self.assertFalse(account.sync_warning, "the warning goes when the folder no longer fails")

    def test_a_failed_message_is_asked_for_again_at_the_next_runs(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<retried@x>"))
        self.deliver(box, make_email(message_id="<given-up@x>"))
        self.sync(account)
        inbox = self.inbox(account)
        uids = {}
        for message_id in ("<retried@x>", "<given-up@x>"):
            email = self.messages(message_id)
            uids[message_id] = email.location_ids.uid
            # As if the server had listed them without sending them, in earlier runs.
            self.env.cr.execute("DELETE FROM mail_sync_message WHERE id = %s", [email.id])
        reason = "the server listed it but did not send it"
        inbox.failed_messages = [
            {"uid": uids["<retried@x>"], "reason": reason, "attempts": 1},
            {"uid": uids["<given-up@x>"], "reason": reason, "attempts": 3},
        ]
        self.env.invalidate_all()

        self.sync(account)
        self.assertTrue(self.messages("<retried@x>"), "asked for again, and stored")
        self.assertFalse(self.messages("<given-up@x>"), "tried three times: only listed now")
        self.assertEqual([item["uid"] for item in inbox.failed_messages], [uids["<given-up@x>"]])

    def test_a_run_stopped_at_its_deadline_keeps_what_it_stored_and_says_why(self):
        account, box = self.create_account()
        for number in range(3):
            self.deliver(box, make_email(message_id=f"<slow-{number}@x>"))
        read_batches = MailboxReader._batches

        def slow_server(reader, mailbox, folder):
            yield from read_batches(reader, mailbox, folder)
            raise RunDeadlineReached.after(60)  # as the engine does when a server trickles

        with patch.object(MailboxReader, "_batches", slow_server):
            notice = account.with_user(self.salesman).action_sync_now()
        self.assertEqual(len(self.messages(*(f"<slow-{n}@x>" for n in range(3)))), 3)
        self.assertIn("3 new emails", notice["params"]["message"])
        self.assertEqual(account.state, "active", "mail came: a slow server is not a failed one")
        self.assertEqual(account.failure_count, 0)
        self.assertIn("too slowly", account.sync_warning)
        self.assertTrue(account.sync_pending, "the next run goes on")
