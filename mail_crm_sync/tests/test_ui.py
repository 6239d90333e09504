import email
from email import policy

from odoo.tests import new_test_user, tagged

from mail_crm_sync_engine import Security
from mail_crm_sync_engine.testing.smtp import SmtpServer

from .common import MailSyncHttpCase, make_email, screenshot_at_end


@tagged("post_install", "-at_install")
class TestUi(MailSyncHttpCase):
    """The screens as a salesman uses them, in a real browser."""

    @classmethod
    def setUpClass(cls):
        # HttpCase runs in test mode already: the sync's own cursors are savepoints of the test's.
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="mcs_tour_salesman", groups="sales_team.group_sale_salesman", name="Tess Tour"
        )

    def sending_account(self, mailbox, smtp):
        """The salesman's account on ``mailbox``, sending through the harness ``smtp``, connected."""
        smtp.add_user(mailbox.login, mailbox.password)
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(
                self.account_values(
                    mailbox,
                    name="Tess's mailbox",
                    user_id=self.salesman.id,
                    sending_enabled=True,
                    smtp_host=smtp.host,
                    smtp_port=smtp.port,
                    smtp_security="none",
                )
            )
        )
        account.action_test_connection()
        return account

    def test_salesman_finds_an_email_and_its_contact(self):
        customer = self.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour.customer@client.example"}
        )
        mailbox = self.server.add_user()
        sender = f"{customer.name} <{customer.email}>"
        self.server.deliver(
            mailbox,
            make_email(
                sender=sender,
                to=mailbox.email,
                subject="Tour: quotation for the marmalade kitchen",
                body="We would like orange marmalade tiles in the kitchen.",
                html="<p>We would like <b>orange marmalade</b> tiles.</p><script>alert(1)</script>",
                attachment=("plan.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 2000),
            ),
        )
        self.server.deliver(
            mailbox,
            make_email(
                sender=sender, to=mailbox.email, subject="Tour: planning the showroom", body="See you Monday."
            ),
        )
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(self.account_values(mailbox, name="Tess's mailbox", user_id=self.salesman.id))
        )
        account.action_test_connection()
        account._sync_accounts()
        self.assertEqual(account.message_count, 2)

        self.start_tour("/odoo", "mail_crm_sync_tour", login=self.salesman.login)

    def test_salesman_writes_from_an_opportunity_and_replies(self):
        smtp = SmtpServer(Security.NONE).start()
        self.addCleanup(smtp.stop)
        buyer = self.env["res.partner"].create({"name": "Tour Buyer", "email": "tour.buyer@client.example"})
        lead = self.env["crm.lead"].create(
            {
                "name": "Tour: 40 chairs",
                "type": "opportunity",
                "partner_id": buyer.id,
                "user_id": self.salesman.id,
            }
        )
        mailbox = self.server.add_user()
        self.server.deliver(
            mailbox,
            make_email(
                sender="Tour Buyer <tour.buyer@client.example>",
                to=mailbox.email,
                subject="Tour: can you quote 40 chairs?",
                body="Do you have 40 chairs in stock?",
                message_id="<tour-question@client.example>",
            ),
        )
        account = self.sending_account(mailbox, smtp)
        account._sync_accounts()
        self.assertEqual(lead.mail_sync_message_count, 1)

        self.start_tour(f"/odoo/crm/{lead.id}", "mail_crm_sync_send_tour", login=self.salesman.login)
        self.env["mail.sync.outbox"]._cron_send()  # as the scheduled action does after Send's commit

        sent = [email.message_from_bytes(mail.data, policy=policy.default) for mail in smtp.received]
        self.assertEqual(
            [mail["Subject"] for mail in sent],
            ["Tour: our quote for the chairs", "Re: Tour: can you quote 40 chairs?"],
        )
        self.assertEqual([part.get_filename() for part in sent[0].iter_attachments()], ["quote.pdf"])
        self.assertEqual(sent[1]["In-Reply-To"], "<tour-question@client.example>")
        reply_html = sent[1].get_body(("html",)).get_content()
        self.assertIn("Yes, 40 chairs are in stock.", reply_html)
        self.assertIn("Do you have 40 chairs in stock?", reply_html, "the question is quoted")
        self.env.invalidate_all()
        self.assertEqual(
            sorted(lead.mail_sync_message_ids.mapped("subject")),
            [
                "Re: Tour: can you quote 40 chairs?",
                "Tour: can you quote 40 chairs?",
                "Tour: our quote for the chairs",
            ],
        )

    def test_salesman_closes_a_draft_reopens_it_sends_undoes_and_sends_again(self):
        smtp = SmtpServer(Security.NONE).start()
        self.addCleanup(smtp.stop)
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.undo_send_seconds", "10")
        juergen = self.env["res.partner"].create(
            {"name": "Jürgen Zöllner", "email": "juergen@client.example"}
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Kitchen tiles",
                "type": "opportunity",
                "partner_id": juergen.id,
                "user_id": self.salesman.id,
            }
        )
        mailbox = self.server.add_user()
        account = self.sending_account(mailbox, smtp)
        Draft = self.env["mail.sync.compose"].with_user(self.salesman)

        with screenshot_at_end("sc_draft_reopened_"):
            self.start_tour(
                f"/odoo/crm/{lead.id}", "mail_crm_sync_draft_write_tour", login=self.salesman.login
            )
        [draft] = Draft.search([])
        self.assertEqual((draft.subject, draft.partner_to_ids), ("Tour: tiles for the kitchen", juergen))
        self.assertIn("Here is the plan for the kitchen tiles.", draft.body)
        self.assertEqual(
            draft.email_cc, "Anna <anna.client.example>", "kept as typed when the send was refused"
        )

        self.start_tour(
            "/odoo/action-mail_crm_sync.mail_sync_compose_action_drafts",
            "mail_crm_sync_draft_send_tour",
            login=self.salesman.login,
        )
        self.assertFalse(Draft.search([]), "sent: no draft left")
        self.assertEqual(smtp.received, [], "not before the 10 seconds are over")
        [queued] = self.env["mail.sync.outbox"].search([("account_id", "=", account.id)])
        self.assertEqual(queued.email_id.send_state, "queued")
        # The 10 seconds pass (as PostgreSQL's clock sees them) and the sending job runs.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE mail_sync_outbox SET next_attempt = now() at time zone 'UTC' - interval '1 second' "
            "WHERE id = %s",
            [queued.id],
        )
        self.env["mail.sync.outbox"]._cron_send()

        with screenshot_at_end("sc_draft_sent_"):
            self.start_tour(
                "/odoo/action-mail_crm_sync.mail_sync_message_action_mine",
                "mail_crm_sync_draft_sent_tour",
                login=self.salesman.login,
            )
        [mail] = [email.message_from_bytes(item.data, policy=policy.default) for item in smtp.received]
        self.assertEqual(mail["Subject"], "Tour: tiles for the kitchen")
        self.assertEqual(
            [(a.display_name, a.addr_spec) for a in mail["To"].addresses],
            [("Jürgen Zöllner", "juergen@client.example")],
        )
        self.assertEqual(
            [(a.display_name, a.addr_spec) for a in mail["Cc"].addresses], [("Anna", "anna@client.example")]
        )
        self.assertEqual(smtp.received[0].rcpt_tos, ("juergen@client.example", "anna@client.example"))

    def test_salesman_works_an_unassigned_email_and_undoes_an_unlink(self):
        mailbox = self.server.add_user()
        self.server.deliver(
            mailbox,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=mailbox.email,
                subject="Quote for 40 chairs?",
                body="Could you quote 40 chairs?",
                message_id="<tour-queue@acme-tools.example>",
            ),
        )
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(self.account_values(mailbox, name="Tess's queue", user_id=self.salesman.id))
        )
        account.action_test_connection()
        account._sync_accounts()
        email_record = self.env["mail.sync.message"].search(
            [("message_id", "=", "<tour-queue@acme-tools.example>")]
        )
        self.assertFalse(email_record.is_assigned)

        with screenshot_at_end("sc_queue_"):
            self.start_tour(
                f"/odoo/action-mail_crm_sync.mail_sync_message_action/{email_record.id}",
                "mail_crm_sync_queue_tour",
                login=self.salesman.login,
            )
        self.env.invalidate_all()
        dora = self.env["res.partner"].search([("email", "=", "dora@acme-tools.example")])
        self.assertEqual((dora.name, dora.company_name), ("Dora Buyer", "Acme Tools"))
        self.assertEqual(email_record.partner_ids, dora)
        self.assertEqual(email_record.lead_ids.mapped("name"), ["Quote for 40 chairs?"])
        link = email_record.link_ids.filtered("partner_id")
        self.assertEqual((link.reason, link.active), ("manual", True))
