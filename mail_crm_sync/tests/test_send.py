import email
from email import policy

from imapclient import IMAPClient
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from mail_crm_sync_engine import Security
from mail_crm_sync_engine.testing import DovecotServer
from mail_crm_sync_engine.testing.smtp import SmtpServer

from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestSend(MailSyncCase):
    """Writing from the CRM through the harness SMTP server, with the copy in the harness Dovecot."""

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
            smtp_host=self.smtp.host,
            smtp_port=self.smtp.port,
            smtp_security="none",
            **values,
        )
        return account, box

    def composer(self, user=None, **context):
        return self.env["mail.sync.compose"].with_user(user or self.salesman).with_context(**context)

    def write_from(self, record, user=None, **values):
        action = record.with_user(user or self.salesman).action_mail_sync_compose()
        wizard = self.composer(user, **action["context"]).create(
            {"body": "<p>Our offer is attached.</p>", **values}
        )
        return wizard

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

    def test_mail_written_from_an_opportunity_is_sent_filed_and_linked_once(self):
        account, box = self.sending_account()
        before = len(self.smtp.received)
        wizard = self.write_from(
            self.lead,
            email_bcc="boss@example.test",
            attachment_ids=[(6, 0, self.attachment("offer.pdf").ids)],
        )
        self.assertEqual(wizard.account_id, account, "the only sending account is preselected")
        self.assertEqual(wizard.email_to, "Alice Client <alice@client.example>")
        self.assertEqual(wizard.subject, "Chairs for the new office")

        wizard.action_send()

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
        action = original.with_user(self.salesman).action_reply()
        wizard = self.composer(**action["context"]).create({"body": "<p>1,200 EUR.</p>"})
        self.assertEqual(wizard.email_to, "Alice Client <alice@client.example>")
        self.assertEqual(wizard.subject, "Re: Chairs?")
        self.assertIn("How much for 40 chairs?", wizard.quote)
        before = len(self.smtp.received)

        wizard.action_send()

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
        self.assertEqual(wizard.email_to, "alice@client.example")
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
        wizard.action_send()
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
        self.write_from(self.alice).action_send()
        client = self.imap(box, bare)
        self.assertIn("Sent", [name for _flags, _sep, name in client.list_folders()])
        self.assertEqual(client.folder_status("Sent", ["MESSAGES"])[b"MESSAGES"], 1)
        self.assertIn("Sent", account.with_context(active_test=False).folder_ids.mapped("name"))

    def test_no_sent_copy_where_the_provider_files_sent_mail(self):
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.self_filing_hosts", self.server.host)
        account, box = self.sending_account()
        before = len(self.smtp.received)
        self.write_from(self.alice).action_send()
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
        wizard = self.write_from(self.alice, email_cc="nobody@client.example")
        with self.assertRaises(UserError) as refusal:
            wizard.action_send()
        self.assertIn("nobody@client.example", str(refusal.exception))
        self.assertEqual(len(self.smtp.received), before)
        self.assertEqual(self.imap(box).folder_status("Sent", ["MESSAGES"])[b"MESSAGES"], 0)
        self.assertFalse(self.Message.search([("account_ids", "in", account.ids)]))

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
