from imapclient import IMAPClient
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import MailSyncCase, MailSyncHttpCase, make_email

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def expunge_on_server(server, box, message_id):
    """Delete an email on the server as another mail client would."""
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(box.login, box.password)
    try:
        client.select_folder("INBOX")
        uids = client.search(["HEADER", "Message-ID", message_id])
        assert uids, message_id
        client.delete_messages(uids)
        client.expunge()
    finally:
        client.logout()


@tagged("post_install", "-at_install")
class TestPinnedDownload(MailSyncHttpCase):
    """An attachment kept in Odoo downloads after the mail left the server, for whoever may read the
    email, and for no one else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(cls.env, login="mcs_pin_owner", groups="sales_team.group_sale_salesman")
        cls.colleague = new_test_user(
            cls.env, login="mcs_pin_colleague", groups="sales_team.group_sale_salesman"
        )
        cls.box = cls.server.add_user()
        for message_id, name in (
            ("<kept@client.example>", "kept.pdf"),
            ("<lost@client.example>", "lost.pdf"),
            ("<own@client.example>", "own.pdf"),
        ):
            cls.server.deliver(
                cls.box,
                make_email(
                    to=cls.box.email, message_id=message_id, attachment=(name, "application/pdf", PDF)
                ),
            )
        cls.account = cls.env["mail.sync.account"].create(
            cls.account_values(cls.box, name="Pinning box", user_id=cls.owner.id, visibility="owner")
        )
        cls.account.action_test_connection()
        cls.account._sync_accounts()

    def _attachment(self, message_id):
        return self.env["mail.sync.message.attachment"].search([("email_id.message_id", "=", message_id)])

    def _get(self, login, attachment):
        self.authenticate(login, login)
        return self.url_open(f"/mail_crm_sync/attachment/{attachment.id}")

    def test_a_kept_attachment_downloads_after_the_mail_was_deleted_on_the_server(self):
        kept, lost = self._attachment("<kept@client.example>"), self._attachment("<lost@client.example>")
        kept.with_user(self.owner).action_pin()
        self.assertTrue(kept.is_pinned)
        self.assertFalse(lost.is_pinned)
        expunge_on_server(self.server, self.box, "<kept@client.example>")
        expunge_on_server(self.server, self.box, "<lost@client.example>")

        response = self._get(self.owner.login, kept)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, PDF)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertIn("kept.pdf", response.headers["Content-Disposition"])

        response = self._get(self.owner.login, lost)
        self.assertEqual(response.status_code, 410)
        self.assertIn("no longer on the mail server", response.text)

    def test_a_kept_file_is_readable_only_by_who_may_read_the_email(self):
        kept = self._attachment("<own@client.example>")  # the server's mailbox outlives a test
        kept.email_id.with_user(self.owner).action_pin_attachments()
        pinned = kept.pinned_attachment_id
        self.assertEqual(pinned.res_model, "mail.sync.message")
        self.assertEqual(pinned.res_id, kept.email_id.id)
        self.assertEqual(pinned.with_user(self.owner).raw, PDF)
        with self.assertRaises(AccessError):
            pinned.with_user(self.colleague).read(["name", "raw"])
        self.assertEqual(self._get(self.colleague.login, kept).status_code, 404)
        self.authenticate(self.colleague.login, self.colleague.login)
        self.assertNotEqual(self.url_open(f"/web/content/{pinned.id}").status_code, 200)


@tagged("post_install", "-at_install")
class TestPinWonOpportunities(MailSyncCase):
    """Settings: Keep Attachments of Won Opportunities."""

    def setUp(self):
        super().setUp()
        self.account, self.box = self.create_account(visibility="owner")
        self.lead = self.env["crm.lead"].create(
            {
                "name": "Big order",
                "type": "opportunity",
                "email_from": "alice@client.example",
                "user_id": self.salesman.id,
            }
        )
        self.deliver(
            self.box,
            make_email(
                sender="alice@client.example",
                to=self.box.email,
                message_id="<offer@client.example>",
                attachment=("offer.pdf", "application/pdf", PDF),
            ),
        )
        self.sync(self.account)
        self.attachment = self.messages("<offer@client.example>").attachment_ids
        self.assertIn(self.lead, self.attachment.email_id.link_ids.lead_id)

    def win_and_run_the_scheduled_action(self):
        self.lead.with_user(self.salesman).action_set_won()
        self.env["mail.sync.message.attachment"]._cron_pin_requested()

    def test_winning_keeps_the_attachments_of_the_opportunitys_emails_when_set(self):
        self.env["res.config.settings"].create({"mail_sync_pin_won": True}).execute()
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_pin_attachments")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.win_and_run_the_scheduled_action()
        self.assertGreater(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers)
        self.assertTrue(self.attachment.is_pinned)
        self.assertEqual(self.attachment.pinned_attachment_id.raw, PDF)
        self.assertFalse(self.attachment.pin_requested)

    def test_winning_keeps_nothing_when_not_set(self):
        self.win_and_run_the_scheduled_action()
        self.assertTrue(self.lead.stage_id.is_won)
        self.assertFalse(self.attachment.pin_requested)
        self.assertFalse(self.attachment.is_pinned)
