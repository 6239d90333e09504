import dataclasses
import email
from email import policy
from unittest.mock import patch

from imapclient import IMAPClient
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from mail_crm_sync_engine import Security
from mail_crm_sync_engine.testing import DovecotServer
from mail_crm_sync_engine.testing.smtp import SmtpServer

from .common import MailSyncCase, make_email


class SendingCase(MailSyncCase):
    """What tests of writing from the CRM share: the harness SMTP server, a customer with a company
    and an opportunity, the salesman's signature, and the salesman's ways to write and send."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.smtp = SmtpServer(Security.NONE).start()
        cls.addClassCleanup(cls.smtp.stop)
        Partner = cls.env["res.partner"]
        cls.company = Partner.create({"name": "Client Corp", "is_company": True})
        cls.alice = Partner.create(
            {"name": "Alice Client", "email": "alice@client.example", "parent_id": cls.company.id}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Chairs for the new office",
                "type": "opportunity",
                "partner_id": cls.alice.id,
                "user_id": cls.salesman.id,
            }
        )
        cls.salesman.signature = "<p>Sally Sales, Chair Company</p>"

    def sending_account(self, user=None, server=None, **values):
        server = server or self.server
        mailbox_user = server.add_user()
        self.smtp.add_user(mailbox_user.login, mailbox_user.password)
        account, box = self.create_account(
            user=user,
            mailbox_user=mailbox_user,
            imap_port=server.port,
            sending_enabled=True,
            **{"smtp_host": self.smtp.host, "smtp_port": self.smtp.port, "smtp_security": "none", **values},
        )
        return account, box

    def customer_asks(self, account, box):
        """Alice asks about the chairs; synced, her email is on the opportunity. Returns it."""
        self.deliver(
            box,
            make_email(
                sender="Alice Client <alice@client.example>",
                to=box.email,
                subject="Chairs?",
                body="How much for 40 chairs?",
                message_id="<ask@client.example>",
            ),
        )
        self.sync(account)
        original = self.messages("<ask@client.example>")
        self.assertEqual(original.lead_ids, self.lead)
        return original

    def composer(self, user=None, **context):
        return self.env["mail.sync.compose"].with_user(user or self.salesman).with_context(**context)

    def write_from(self, record, user=None, **values):
        action = record.with_user(user or self.salesman).action_mail_sync_compose()
        wizard = self.composer(user, **action["context"]).create(
            {"body": "<p>Our offer is attached.</p>", **values}
        )
        return wizard

    def send(self, wizard):
        """Press Send, then run the sending job as the scheduled action does after the commit (in
        test mode the request's commit is not real: test_production_outbox.py has what depends on
        it). Returns the notice Send answered with."""
        answer = wizard.action_send()
        self.env["mail.sync.outbox"]._cron_send()
        return answer

    def imap(self, box, server=None):
        server = server or self.server
        client = IMAPClient(server.host, port=server.port, ssl=False)
        client.login(box.login, box.password)
        self.addCleanup(client.logout)
        return client

    def in_folder(self, box, folder, message_id, server=None):
        client = self.imap(box, server)
        client.select_folder(folder, readonly=True)
        uids = client.search(["HEADER", "Message-ID", message_id])
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}

    def attachment(self, name, data=b"%PDF-1.4 offer", mimetype="application/pdf"):
        return self.env["ir.attachment"].create(
            {"name": name, "raw": data, "mimetype": mimetype, "res_model": "mail.sync.compose", "res_id": 0}
        )


@tagged("post_install", "-at_install")
class TestSend(SendingCase):
    """Writing from the CRM through the harness SMTP server, with the copy in the harness Dovecot."""

    def test_mail_written_from_an_opportunity_is_sent_filed_and_linked_once(self):
        account, box = self.sending_account()
        before = len(self.smtp.received)
        wizard = self.write_from(
            self.lead,
            email_bcc="boss@example.test",
            attachment_ids=[(6, 0, self.attachment("offer.pdf").ids)],
        )
        self.assertEqual(wizard.account_id, account, "the only sending account is preselected")
        self.assertEqual(wizard.partner_to_ids, self.alice, "the contact, as a tag")
        self.assertFalse(wizard.email_to)
        self.assertEqual(wizard.subject, "Chairs for the new office")

        answer = self.send(wizard)

        self.assertIn("queued", answer["params"]["message"])
        received = self.smtp.received[before:]
        self.assertEqual(len(received), 1)
        mail = received[0]
        self.assertEqual(mail.login, box.login, "authenticated with the account's credentials")
        self.assertEqual(sorted(mail.rcpt_tos), ["alice@client.example", "boss@example.test"])
        parsed = email.message_from_bytes(mail.data, policy=policy.default)
        self.assertEqual(parsed["From"].addresses[0].addr_spec, box.email)
        self.assertIsNone(parsed["Bcc"], "Bcc recipients are not shown to the others")
        html = parsed.get_body(("html",)).get_content()
        self.assertIn("Our offer is attached.", html)
        self.assertIn("Sally Sales, Chair Company", html, "the user's signature")
        self.assertLess(html.index("Our offer"), html.index("Sally Sales"))
        self.assertEqual([part.get_filename() for part in parsed.iter_attachments()], ["offer.pdf"])
        message_id = parsed["Message-ID"]

        flags = self.in_folder(box, "Sent", message_id)
        self.assertEqual(len(flags), 1, "one copy in Sent")
        self.assertIn(b"\\Seen", next(iter(flags.values())))

        stored = self.messages(message_id)
        self.assertEqual(len(stored), 1)
        self.assertEqual(stored.direction, "outgoing")
        self.assertEqual(stored.send_state, "sent")
        self.assertFalse(stored.outbox_ids.raw, "sent and filed: the composed bytes are not kept twice")
        self.assertEqual(stored.email_bcc, "boss@example.test", "the sender sees whom they Bcc'd")
        self.assertEqual(stored.lead_ids, self.lead)
        self.assertEqual(stored.partner_ids, self.alice | self.company)
        lead_link = stored.link_ids.filtered("lead_id")
        self.assertEqual(lead_link.reason, "sent_from")
        self.assertEqual(stored.attachment_ids.mapped("name"), ["offer.pdf"])
        self.assertEqual(stored.location_ids.folder_id.name, "Sent")
        self.assertIn(stored, self.lead.with_user(self.salesman).mail_sync_message_ids)

        self.sync(account)
        self.sync(account)
        self.assertEqual(len(self.messages(message_id)), 1, "the next sync meets the same record")
        self.assertEqual(len(self.messages(message_id).location_ids), 1)
        self.assertEqual(self.in_folder(box, "Sent", message_id).keys(), flags.keys())

    def test_a_reply_threads_and_goes_to_the_same_opportunity(self):
        account, box = self.sending_account()
        original = self.customer_asks(account, box)
        action = original.with_user(self.salesman).action_reply()
        wizard = self.composer(**action["context"]).create({"body": "<p>1,200 EUR.</p>"})
        self.assertEqual(wizard.partner_to_ids, self.alice, "the sender is a contact: a tag")
        self.assertFalse(wizard.email_to)
        self.assertEqual(wizard.subject, "Re: Chairs?")
        self.assertIn("How much for 40 chairs?", wizard.quote)
        before = len(self.smtp.received)

        self.send(wizard)

        parsed = email.message_from_bytes(self.smtp.received[before].data, policy=policy.default)
        self.assertEqual(parsed["In-Reply-To"], "<ask@client.example>")
        self.assertEqual(parsed["References"], "<ask@client.example>")
        html = parsed.get_body(("html",)).get_content()
        self.assertLess(html.index("1,200 EUR"), html.index("Sally Sales"))
        self.assertLess(
            html.index("Sally Sales"), html.index("How much for 40 chairs?"), "signature above the quote"
        )
        reply = self.messages(parsed["Message-ID"])
        self.assertEqual(reply.lead_ids, self.lead)
        self.assertEqual(original.thread_message_ids, original | reply)

    def test_reply_all_leaves_out_the_users_own_address(self):
        account, box = self.sending_account()
        self.deliver(
            box,
            make_email(
                sender="alice@client.example",
                to=f"{box.email}, bob@client.example",
                cc="carol@client.example",
                message_id="<all@client.example>",
            ),
        )
        self.sync(account)
        action = self.messages("<all@client.example>").with_user(self.salesman).action_reply_all()
        wizard = self.composer(**action["context"]).create({})
        self.assertEqual(wizard.partner_to_ids, self.alice)
        self.assertFalse(wizard.email_to)
        self.assertFalse(wizard.partner_cc_ids, "Bob and Carol are no contacts")
        self.assertEqual(wizard.email_cc, "bob@client.example, carol@client.example")

    def test_forward_takes_the_original_attachments(self):
        account, box = self.sending_account()
        self.deliver(
            box,
            make_email(
                sender="alice@client.example",
                to=box.email,
                message_id="<fw@client.example>",
                attachment=("plan.pdf", "application/pdf", b"%PDF-1.4 the plan"),
            ),
        )
        self.sync(account)
        action = self.messages("<fw@client.example>").with_user(self.salesman).action_forward()
        wizard = self.composer(**action["context"]).create({"email_to": "dan@partner.example"})
        self.assertEqual(wizard.subject, "Fwd: Hello")
        self.assertEqual(wizard.attachment_ids.mapped("name"), ["plan.pdf"])
        self.assertEqual(wizard.attachment_ids.raw, b"%PDF-1.4 the plan")
        before = len(self.smtp.received)
        self.send(wizard)
        parsed = email.message_from_bytes(self.smtp.received[before].data, policy=policy.default)
        self.assertIsNone(parsed["In-Reply-To"], "a forward starts a conversation of its own")
        self.assertEqual([part.get_content() for part in parsed.iter_attachments()], [b"%PDF-1.4 the plan"])

    def test_a_fourth_sending_account_is_refused(self):
        for _ in range(3):
            self.sending_account()
        with self.assertRaises(ValidationError) as refusal:
            self.sending_account()
        self.assertIn("may send from at most 3 accounts", str(refusal.exception))
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.max_sending_accounts", "4")
        self.sending_account()
        self.assertEqual(len(self.env["mail.sync.account"]._sending_accounts(self.salesman)), 4)

    def test_one_default_sender_preselected(self):
        first, _box = self.sending_account()
        second, _box = self.sending_account(is_default_sender=True)
        self.assertEqual(self.write_from(self.lead).account_id, second)
        first.with_user(self.salesman).is_default_sender = True
        self.assertFalse(second.is_default_sender, "one default per user")
        self.assertEqual(self.write_from(self.lead).account_id, first)

    def test_blocked_attachments_are_refused_before_sending(self):
        self.sending_account()
        before = len(self.smtp.received)
        files = [self.attachment(name) for name in ("Setup.EXE", "invoice.pdf.exe", "notes.txt", "run.Ps1.")]
        wizard = self.write_from(self.lead, attachment_ids=[(6, 0, [f.id for f in files])])
        with self.assertRaises(UserError) as refusal:
            wizard.action_send()
        for name in ("Setup.EXE", "invoice.pdf.exe", "run.Ps1."):
            self.assertIn(name, str(refusal.exception))
        self.assertNotIn("notes.txt", str(refusal.exception))
        self.assertEqual(len(self.smtp.received), before, "nothing sent")

    def test_sent_folder_created_when_missing(self):
        bare = DovecotServer(special_folders={}).start()
        self.addCleanup(bare.stop)
        account, box = self.sending_account(server=bare)
        self.assertNotIn("Sent", account.folder_ids.mapped("name"))
        self.send(self.write_from(self.alice))
        client = self.imap(box, bare)
        self.assertIn("Sent", [name for _flags, _sep, name in client.list_folders()])
        self.assertEqual(client.folder_status("Sent", ["MESSAGES"])[b"MESSAGES"], 1)
        self.assertIn("Sent", account.with_context(active_test=False).folder_ids.mapped("name"))

    def test_no_sent_copy_where_the_provider_files_sent_mail(self):
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.self_filing_hosts", self.server.host)
        account, box = self.sending_account()
        before = len(self.smtp.received)
        self.send(self.write_from(self.alice))
        message_id = email.message_from_bytes(self.smtp.received[before].data)["Message-ID"]
        self.assertEqual(self.in_folder(box, "Sent", message_id), {}, "no copy from us")
        stored = self.messages(message_id)
        self.assertEqual(stored.account_ids, account)
        self.assertFalse(stored.location_ids)
        self.assertEqual(stored.partner_ids, self.alice | self.company)

    def test_a_refused_recipient_sends_nothing_and_says_so(self):
        account, box = self.sending_account()
        self.smtp.refuse_recipient("nobody@client.example")
        before = len(self.smtp.received)
        wizard = self.write_from(self.alice, email_cc="nobody@client.example", subject="Refused")
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), before)
        self.assertEqual(self.imap(box).folder_status("Sent", ["MESSAGES"])[b"MESSAGES"], 0)
        stored = self.Message.search([("account_ids", "in", account.ids)])
        self.assertEqual(stored.send_state, "failed", "a refusal is not tried again by itself")
        self.assertIn("nobody@client.example", stored.send_error, "the server's words")

        stored.with_user(self.salesman).action_retry_send()
        self.assertEqual(stored.send_state, "queued")
        self.env["mail.sync.outbox"]._cron_send()
        self.assertEqual(stored.send_state, "failed")
        self.assertEqual(len(self.smtp.received), before, "still refused: still nothing sent")
        with self.assertRaises(UserError):
            stored.with_user(self.other_salesman).action_retry_send()

    def test_an_unreachable_server_is_tried_again_and_sends_once(self):
        down = SmtpServer(Security.NONE)  # not started: nothing answers on its port
        account, _box = self.sending_account(smtp_port=down.port)
        wizard = self.write_from(self.alice, subject="Later")
        self.send(wizard)
        stored = self.Message.search([("account_ids", "in", account.ids)])
        self.assertEqual(stored.send_state, "queued", "a temporary failure is tried again")
        self.assertIn("could not be reached", stored.send_error)
        row = stored.outbox_ids
        self.assertEqual(row.attempts, 1)
        self.assertTrue(row.next_attempt, "after a delay")
        self.env["mail.sync.outbox"]._cron_send()
        self.assertEqual(row.attempts, 1, "not before the delay")

        account.smtp_port = self.smtp.port
        before = len(self.smtp.received)
        row.next_attempt = "2000-01-01 00:00:00"
        self.env["mail.sync.outbox"]._cron_send()
        self.env["mail.sync.outbox"]._cron_send()
        self.assertEqual(stored.send_state, "sent")
        self.assertEqual(len(self.smtp.received), before + 1)

    def test_a_server_quiet_once_it_has_the_whole_email_is_never_sent_twice(self):
        account, _box = self.sending_account()
        before = len(self.smtp.received)
        self.smtp.confirm_after(3)
        self.addCleanup(self.smtp.confirm_after, 0)
        Account = type(account)
        smtp_settings = Account._smtp_settings
        with patch.object(  # the account waits 1 s for an answer, not 60
            Account, "_smtp_settings", lambda self: dataclasses.replace(smtp_settings(self), read_timeout=1)
        ):
            self.send(self.write_from(self.alice, subject="Quiet server"))
            stored = self.Message.search([("account_ids", "in", account.ids)])
            self.assertEqual(stored.send_state, "failed", "it may have gone: not tried again by itself")
            self.assertIn("may have gone", stored.send_error)
            self.assertIn("Sent folder", stored.send_error)
            stored.outbox_ids.next_attempt = "2000-01-01 00:00:00"
            self.env["mail.sync.outbox"]._cron_send()
        self.assertEqual(len(self.smtp.received), before + 1, "the server has it, once")
        self.assertEqual(stored.outbox_ids.attempts, 1)

    def test_delete_and_move_reach_the_server(self):
        account, box = self.sending_account()
        for name in ("keep", "move", "delete"):
            self.deliver(
                box, make_email(sender="alice@client.example", to=box.email, message_id=f"<{name}@c.example>")
            )
        self.sync(account)
        moved, deleted = self.messages("<move@c.example>"), self.messages("<delete@c.example>")
        archive = account.folder_ids.filtered(lambda folder: folder.name == "Archive")

        wizard = (
            self.env["mail.sync.move"]
            .with_user(self.salesman)
            .with_context(default_email_id=moved.id)
            .create({"folder_id": archive.id})
        )
        wizard.action_move()
        deleted.with_user(self.salesman).action_delete_on_server()

        self.assertEqual(self.in_folder(box, "INBOX", "<move@c.example>"), {})
        self.assertEqual(len(self.in_folder(box, "Archive", "<move@c.example>")), 1)
        self.assertEqual(moved.location_ids.folder_id, archive)
        self.assertEqual(self.in_folder(box, "INBOX", "<delete@c.example>"), {})
        self.assertEqual(len(self.in_folder(box, "Trash", "<delete@c.example>")), 1)
        self.assertFalse(self.messages("<delete@c.example>"), "gone from the CRM too")
        self.assertEqual(len(self.in_folder(box, "INBOX", "<keep@c.example>")), 1, "the others untouched")

    def test_a_refused_move_changes_nothing(self):
        account, box = self.sending_account()
        self.deliver(
            box, make_email(sender="alice@client.example", to=box.email, message_id="<stay@c.example>")
        )
        self.sync(account)
        message = self.messages("<stay@c.example>")
        place = message.location_ids
        missing = self.env["mail.sync.folder"].create({"account_id": account.id, "name": "No Such Folder"})
        wizard = (
            self.env["mail.sync.move"]
            .with_user(self.salesman)
            .with_context(default_email_id=message.id)
            .create({"folder_id": missing.id})
        )
        with self.assertRaises(UserError):
            wizard.action_move()
        self.assertEqual((place.folder_id.name, place.uid), ("INBOX", 1))
        self.assertEqual(len(self.in_folder(box, "INBOX", "<stay@c.example>")), 1)

    def test_someone_elses_mailbox_cannot_be_changed(self):
        account, box = self.sending_account()
        self.deliver(
            box, make_email(sender="alice@client.example", to=box.email, message_id="<theirs@c.example>")
        )
        self.sync(account)
        message = self.messages("<theirs@c.example>")
        account.visibility = "everyone"
        with self.assertRaises(UserError):
            message.with_user(self.other_salesman).action_delete_on_server()
        self.assertTrue(message.exists())
        self.assertEqual(len(self.in_folder(box, "INBOX", "<theirs@c.example>")), 1)

    def test_deleting_an_account_leaves_the_server_and_linked_mail(self):
        account, box = self.sending_account()
        self.deliver(
            box, make_email(sender="alice@client.example", to=box.email, message_id="<kept@c.example>")
        )
        self.sync(account)
        message = self.messages("<kept@c.example>")
        self.assertEqual(message.partner_ids, self.alice | self.company)
        account.unlink()
        self.assertTrue(message.exists())
        self.assertEqual(self.alice.mail_sync_message_ids, message)
        self.assertEqual(len(self.in_folder(box, "INBOX", "<kept@c.example>")), 1, "server untouched")


@tagged("post_install", "-at_install")
class TestSafeAddresses(SendingCase):
    """Recipients are the addresses a person sees, never what a display name holds; names show as
    people write them; the sender keeps whom they Bcc'd, the SMTP server never learns it."""

    def send(self, wizard):
        """Press Send and run the sending job; what the SMTP server received."""
        before = len(self.smtp.received)
        super().send(wizard)
        return self.smtp.received[before:]

    def received_from(self, account, box, sender, cc=None, message_id="<in@client.example>"):
        """An email with this raw From (and Cc) header delivered to the box and synced."""
        cc_line = f"Cc: {cc}\r\n" if cc else ""
        raw = (
            f"From: {sender}\r\nTo: {box.email}\r\n{cc_line}Subject: Chairs\r\nMessage-ID: {message_id}\r\n"
            "Date: Tue, 03 Nov 2026 09:30:15 +0100\r\n\r\nHow much for 40 chairs?\r\n"
        ).encode()
        self.deliver(box, raw)
        self.sync(account)
        return self.messages(message_id)

    def reply(self, message, mode="reply"):
        action = getattr(message.with_user(self.salesman), f"action_{mode}")()
        return self.composer(**action["context"]).create({"body": "<p>1,200 EUR.</p>"})

    def write_to(self, partner, **values):
        action = partner.with_user(self.salesman).action_mail_sync_compose()
        return self.composer(**action["context"]).create({"body": "<p>Our offer.</p>", **values})

    def test_an_encoded_comma_and_address_in_a_name_add_no_recipient(self):
        account, box = self.sending_account()
        message = self.received_from(
            account, box, '"=?utf-8?q?evil=40evil.example=2C_Nina?=" <nina@client.example>'
        )
        wizard = self.reply(message)
        self.assertEqual(wizard.email_to, '"evil@evil.example, Nina" <nina@client.example>')
        [mail] = self.send(wizard)
        self.assertEqual(mail.rcpt_tos, ("nina@client.example",))

    def test_a_line_break_in_a_senders_name_adds_no_recipient(self):
        account, box = self.sending_account()
        message = self.received_from(
            account, box, "=?utf-8?b?TWFsbG9yeQ0KQmNjOiBldmlsQGV2aWwuZXhhbXBsZQ==?= <mallory@client.example>"
        )
        wizard = self.reply(message)
        self.assertNotIn("\n", wizard.email_to)
        [mail] = self.send(wizard)
        self.assertEqual(mail.rcpt_tos, ("mallory@client.example",))
        parsed = email.message_from_bytes(mail.data, policy=policy.default)
        self.assertIsNone(parsed["Bcc"])
        self.assertEqual([a.addr_spec for a in parsed["To"].addresses], ["mallory@client.example"])

    def test_reply_all_to_outlook_style_names_with_commas(self):
        account, box = self.sending_account()
        message = self.received_from(
            account, box, '"Buyer, Alice" <alice@buyer.example>', cc='"Client, Carol" <carol@client.example>'
        )
        wizard = self.reply(message, "reply_all")
        self.assertEqual(wizard.email_to, '"Buyer, Alice" <alice@buyer.example>')
        self.assertEqual(wizard.email_cc, '"Client, Carol" <carol@client.example>')
        [mail] = self.send(wizard)
        self.assertEqual(mail.rcpt_tos, ("alice@buyer.example", "carol@client.example"))
        parsed = email.message_from_bytes(mail.data, policy=policy.default)
        self.assertEqual(parsed["To"].addresses[0].display_name, "Buyer, Alice")

    def test_writing_to_a_contact_whose_name_holds_a_line_break(self):
        self.sending_account()
        partner = self.env["res.partner"].create(
            {"name": "Mallory\r\nBcc: evil@evil.example", "email": "mallory@client.example"}
        )
        wizard = self.write_to(partner)
        self.assertEqual(wizard.partner_to_ids, partner)
        [mail] = self.send(wizard)
        self.assertEqual(mail.rcpt_tos, ("mallory@client.example",))
        parsed = email.message_from_bytes(mail.data, policy=policy.default)
        self.assertIsNone(parsed["Bcc"])
        self.assertEqual(
            [(a.display_name, a.addr_spec) for a in parsed["To"].addresses],
            [("Mallory Bcc: evil@evil.example", "mallory@client.example")],
        )

    def test_a_non_ascii_name_shows_as_written(self):
        self.sending_account()
        partner = self.env["res.partner"].create(
            {"name": "Jürgen Zöllner", "email": "juergen@client.example"}
        )
        wizard = self.write_to(partner)
        self.assertEqual(wizard.partner_to_ids.display_name, "Jürgen Zöllner", "the tag shows the name")
        [mail] = self.send(wizard)
        parsed = email.message_from_bytes(mail.data, policy=policy.default)
        self.assertEqual(parsed["To"].addresses[0].display_name, "Jürgen Zöllner")

    def test_a_typed_name_with_a_line_break_sends_nothing(self):
        self.sending_account()
        partner = self.env["res.partner"].create({"name": "Dan", "email": "dan@client.example"})
        wizard = self.write_to(partner, email_to="Mallory\r\nBcc: evil@evil.example <mallory@client.example>")
        before = len(self.smtp.received)
        with self.assertRaises(UserError):
            wizard.action_send()
        self.assertEqual(len(self.smtp.received), before)
        wizard.email_to = '"Buyer, Alice" <alice@buyer.example>, dan@client.example'
        [mail] = self.send(wizard)
        self.assertEqual(mail.rcpt_tos, ("dan@client.example", "alice@buyer.example"), "Dan goes once")

    def test_odoos_default_signature_gets_one_delimiter(self):
        self.sending_account()
        self.salesman.signature = "<p>--<br />Sally Sales</p>"  # what Odoo gives a new user
        partner = self.env["res.partner"].create({"name": "Dan", "email": "dan@client.example"})
        [mail] = self.send(self.write_to(partner))
        text = email.message_from_bytes(mail.data, policy=policy.default).get_body(("plain",)).get_content()
        delimiters = [line for line in text.splitlines() if line.strip() == "--"]
        self.assertEqual(len(delimiters), 1, text)
        self.assertIn("Sally Sales", text)

    def test_the_sent_copy_keeps_the_bcc_the_smtp_server_never_sees_it(self):
        _account, box = self.sending_account()
        partner = self.env["res.partner"].create({"name": "Dan", "email": "dan@client.example"})
        [mail] = self.send(self.write_to(partner, email_bcc="Boss <boss@example.test>"))
        self.assertEqual(mail.rcpt_tos, ("dan@client.example", "boss@example.test"))
        self.assertNotIn(b"boss@example.test", mail.data)
        message_id = email.message_from_bytes(mail.data, policy=policy.default)["Message-ID"]
        client = self.imap(box)
        client.select_folder("Sent", readonly=True)
        [uid] = client.search(["HEADER", "Message-ID", message_id])
        copy = email.message_from_bytes(
            client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"], policy=policy.default
        )
        self.assertEqual([a.addr_spec for a in copy["Bcc"].addresses], ["boss@example.test"])
