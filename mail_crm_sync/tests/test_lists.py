from odoo.tests import new_test_user, tagged

from mail_crm_sync_engine.testing.mail import PNG, forwarding_mail
from mail_crm_sync_engine.testing.pdf import one_page_pdf

from ..models.mail_sync_message_attachment import human_size
from .common import MailSyncCase, MailSyncHttpCase, make_email, screenshot_at_end


@tagged("post_install", "-at_install")
class TestLists(MailSyncCase):
    """The Emails list and form read at a glance; search finds what a user types."""

    def setUp(self):
        super().setUp()
        self.account, self.box = self.create_account()

    def _sync(self, *raws):
        for raw in raws:
            self.deliver(self.box, raw)
        self.sync(self.account)

    def test_the_list_names_the_sender_of_received_and_the_recipients_of_sent_mail(self):
        self._sync(
            make_email(sender="Lisa Buyer <lisa@client.example>", to=self.box.email, message_id="<in@x>"),
            make_email(sender="bob@client.example", to=self.box.email, message_id="<bare@x>"),
            make_email(sender='"Doe, John" <john@client.example>', to=self.box.email, message_id="<comma@x>"),
            make_email(
                sender=f"Sally Sales <{self.box.email}>",
                to=f"Lisa Buyer <lisa@client.example>, tom@client.example, {self.box.email}",
                cc=f"Sally Sales <{self.box.email}>",
                message_id="<out@x>",
            ),
        )
        messages = self.messages("<in@x>", "<bare@x>", "<comma@x>", "<out@x>").with_user(self.salesman)
        self.assertEqual(
            {message.message_id: message.correspondent for message in messages},
            {
                "<in@x>": "Lisa Buyer",
                "<bare@x>": "bob@client.example",
                "<comma@x>": "Doe, John",
                "<out@x>": "To: Lisa Buyer, tom@client.example",
            },
        )

    def test_an_email_without_subject_says_so_and_sizes_read_as_people_read_them(self):
        self._sync(
            make_email(
                to=self.box.email,
                subject="",
                message_id="<nosubject@x>",
                attachment=("offer.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 12300),
            )
        )
        message = self.messages("<nosubject@x>").with_user(self.salesman)
        self.assertEqual(message.display_name, "(no subject)")
        self.assertRegex(message.size_display, r"^\d+\.\d KB$")
        self.assertEqual(message.attachment_ids.size_display, "12.3 KB")
        self.assertTrue(message.attachment_ids.opens_in_viewer)
        self.assertEqual(
            [human_size(size) for size in (0, 999, 12_345, 2_500_000, 3 * 10**9)],
            ["", "999 bytes", "12.3 KB", "2.5 MB", "3.0 GB"],
        )

    def test_unnamed_parts_are_named_and_alternative_bodies_are_no_attachments(self):
        self._sync(forwarding_mail(self.box.email, forwarded_subject="Offer for 40 chairs"))
        message = self.Message.search([("subject", "=", "Fwd: the offer")])
        self.assertEqual(
            message.attachment_ids.mapped("name"),
            ["image-2.png", "Offer for 40 chairs.eml", "delivery-status.txt"],
        )
        self.assertEqual(message.attachment_count, 3)
        self.assertEqual(
            message.attachment_ids.mapped("opens_in_viewer"),
            [True, False, False],
            "the image opens in the viewer",
        )

    def test_parts_stored_without_a_name_are_named_on_upgrade(self):
        self._sync(
            make_email(to=self.box.email, message_id="<old@x>", attachment=("a.png", "image/png", PNG))
        )
        attachment = self.messages("<old@x>").attachment_ids
        self.env.cr.execute(
            "UPDATE mail_sync_message_attachment SET name = '' WHERE id = %s", [attachment.id]
        )
        self.env["mail.sync.message.attachment"].init()
        attachment.invalidate_recordset(["name"])
        self.assertEqual(attachment.name, "image-2.png")

    def test_full_text_finds_the_start_of_words_and_parts_of_addresses(self):
        self._sync(
            make_email(
                sender="Lisa Buyer <lisa.buyer@client.example>",
                to=self.box.email,
                subject="Can you quote the chairs?",
                body="We need forty chairs for the showroom.",
                message_id="<chairs@x>",
            ),
            make_email(
                sender="Tom <tom@supplier.example>",
                to=self.box.email,
                subject="Lunch on Friday",
                body="Shall we meet at noon?",
                message_id="<lunch@x>",
            ),
        )
        Message = self.Message.with_user(self.salesman)

        def found(text):
            return sorted(Message.search([("search_text", "ilike", text)]).mapped("message_id"))

        self.assertEqual(found("chair"), ["<chairs@x>"])
        self.assertEqual(found("forty chair"), ["<chairs@x>"])
        self.assertEqual(found("chairs"), ["<chairs@x>"])
        self.assertEqual(found("client.exa"), ["<chairs@x>"])
        self.assertEqual(found("lisa.buy"), ["<chairs@x>"])
        self.assertEqual(found("supplier"), ["<lunch@x>"])
        self.assertEqual(found("-chair"), ["<lunch@x>"])
        self.assertEqual(found('"meet at"'), ["<lunch@x>"])
        self.assertEqual(found("100%_"), [])
        self.assertEqual(found("tables"), [])

    def test_the_technical_tab_is_for_administrators_only(self):
        admin = self.env.ref("base.user_admin")
        for user, shown in ((self.salesman, False), (self.manager, False), (admin, True)):
            with self.subTest(user=user.login):
                arch = self.Message.with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
                self.assertEqual('name="technical"' in arch, shown)

    def test_an_empty_list_says_no_email_matches_to_a_user_with_a_mailbox(self):
        action = self.env.ref("mail_crm_sync.mail_sync_message_action")
        # Read as the web client loads an action: in sudo, as the user.
        help_for = {
            user: self.env["ir.actions.act_window"]
            .with_user(user)
            .sudo()
            .browse(action.id)
            .read(["help", "res_model", "context"])[0]["help"]
            for user in (self.salesman, self.other_salesman)
        }
        self.assertIn("No emails match", help_for[self.salesman])
        self.assertNotIn("Connect your mailbox", help_for[self.salesman])
        self.assertIn("Connect your mailbox", help_for[self.other_salesman])


@tagged("post_install", "-at_install")
class TestListsUi(MailSyncHttpCase):
    """Finding an email by the start of a word and opening its PDF, in Chromium, as a salesman."""

    def test_salesman_finds_chairs_by_chair_and_opens_the_pdf(self):
        salesman = new_test_user(
            self.env, login="mcs_lists_salesman", groups="sales_team.group_sale_salesman", name="Lia Lists"
        )
        box = self.server.add_user()
        pdf = one_page_pdf(["Quote", "40 chairs, oak"])
        for raw in (
            make_email(
                sender="Lisa Buyer <lisa.buyer@client.example>",
                to=box.email,
                subject="Tour: can you quote the chairs?",
                body="We need forty chairs for the showroom.",
                attachment=("chairs-quote.pdf", "application/pdf", pdf + b"%" + b"0" * 3000 + b"\n"),
            ),
            make_email(sender="Tom <tom@supplier.example>", to=box.email, subject="Tour: lunch on Friday"),
            make_email(sender="Tom <tom@supplier.example>", to=box.email, subject=""),
        ):
            self.server.deliver(box, raw)
        account = self.env["mail.sync.account"].create(
            self.account_values(box, name="Lia's mailbox", user_id=salesman.id)
        )
        account.action_test_connection()
        account._sync_accounts()
        self.assertEqual(account.message_count, 3)

        with screenshot_at_end("sc_lists_"):
            self.start_tour("/odoo", "mail_crm_sync_lists_tour", login=salesman.login)
