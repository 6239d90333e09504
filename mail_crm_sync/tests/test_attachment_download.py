from odoo.tests import new_test_user, tagged

from .common import MailSyncHttpCase, make_email

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

# Names of a PDF that Windows reads otherwise than they look: it drops the spaces and dots that end
# a name, takes a.exe::$DATA for the file a.exe (an NTFS stream), and a right-to-left override
# makes invoice<RLO>fdp.exe show as invoiceexe.pdf. Each one is downloaded, never shown.
WINDOWS_NAMES = ("a.exe ", "a.exe. . ", "a.pdf. exe", "a.exe::$DATA", "a.pdf::$DATA", "invoice\u202efdp.exe")


@tagged("post_install", "-at_install")
class TestAttachmentDownload(MailSyncHttpCase):
    """Attachments come from the mail server on demand, for users who may read their email only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(cls.env, login="mcs_att_owner", groups="sales_team.group_sale_salesman")
        cls.colleague = new_test_user(
            cls.env, login="mcs_att_colleague", groups="sales_team.group_sale_salesman"
        )
        cls.box = cls.server.add_user()
        cls.files = {
            "<pdf@client.example>": ("Angebot für Müller.pdf", "application/pdf", PDF),
            "<exe@client.example>": ("invoice.pdf.exe", "application/pdf", b"MZ" + b"\0" * 100),
            "<page@client.example>": ("page.html", "text/html", b"<script>alert(1)</script>"),
            "<svg@client.example>": ("logo.svg", "image/svg+xml", SVG),
            "<names@client.example>": ("names.pdf", "application/pdf", PDF),
            "<gone@client.example>": ("lost.pdf", "application/pdf", PDF),
        }
        cls.paths = {
            message_id: cls.server.deliver(
                cls.box, make_email(to=cls.box.email, message_id=message_id, attachment=file)
            )
            for message_id, file in cls.files.items()
        }
        cls.account = cls.env["mail.sync.account"].create(
            cls.account_values(cls.box, name="Attachments box", user_id=cls.owner.id, visibility="owner")
        )
        cls.account.action_test_connection()
        cls.account._sync_accounts()

    def _attachment(self, message_id):
        return self.env["mail.sync.message.attachment"].search([("email_id.message_id", "=", message_id)])

    def _get(self, login, message_id):
        self.authenticate(login, login)
        return self.url_open(f"/mail_crm_sync/attachment/{self._attachment(message_id).id}")

    def test_the_owner_downloads_the_exact_bytes_with_a_safe_name(self):
        response = self._get(self.owner.login, "<pdf@client.example>")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, PDF)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        disposition = response.headers["Content-Disposition"]
        self.assertTrue(disposition.startswith("inline"))
        self.assertIn("filename*=UTF-8''Angebot%20f%C3%BCr%20M%C3%BCller.pdf", disposition)
        self.assertEqual(response.headers["X-Content-Type-Options"], "nosniff")

    def test_someone_who_cannot_read_the_email_gets_a_404_and_no_bytes(self):
        response = self._get(self.colleague.login, "<pdf@client.example>")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(PDF[:200], response.content)

    def test_blocked_extensions_and_active_content_are_never_opened_inline(self):
        for message_id in ("<exe@client.example>", "<page@client.example>", "<svg@client.example>"):
            with self.subTest(message_id):
                response = self._get(self.owner.login, message_id)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.headers["Content-Disposition"].startswith("attachment"))
                self.assertEqual(response.headers["Content-Type"], "application/octet-stream")

    def test_names_windows_reads_otherwise_are_downloaded_never_shown(self):
        attachment = self._attachment("<names@client.example>")
        self.authenticate(self.owner.login, self.owner.login)
        for name in WINDOWS_NAMES:
            with self.subTest(name=name):
                attachment.name = name
                response = self.url_open(f"/mail_crm_sync/attachment/{attachment.id}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.content, PDF)
                self.assertEqual(response.headers["Content-Disposition"].split(";")[0], "attachment")
                self.assertEqual(response.headers["Content-Type"], "application/octet-stream")
                self.assertEqual(response.headers["X-Content-Type-Options"], "nosniff")
                self.assertFalse(attachment.opens_in_viewer)
        attachment.name = "names.pdf"  # the same bytes under an honest name open in the browser
        response = self.url_open(f"/mail_crm_sync/attachment/{attachment.id}")
        self.assertEqual(response.headers["Content-Disposition"].split(";")[0], "inline")
        self.assertEqual(response.headers["Content-Type"], "application/pdf")

    def test_a_name_is_served_without_the_override_that_reverses_how_it_reads(self):
        attachment = self._attachment("<names@client.example>")
        attachment.name = "invoice\u202efdp.exe"
        self.authenticate(self.owner.login, self.owner.login)
        response = self.url_open(f"/mail_crm_sync/attachment/{attachment.id}")
        disposition = response.headers["Content-Disposition"]
        self.assertIn("filename*=UTF-8''invoicefdp.exe", disposition)
        self.assertNotIn("%E2%80%AE", disposition)

    def test_the_download_button_downloads_a_pdf_rather_than_showing_it(self):
        action = self._attachment("<pdf@client.example>").with_user(self.owner).action_download()
        self.authenticate(self.owner.login, self.owner.login)
        response = self.url_open(action["url"])
        self.assertEqual(response.content, PDF)
        self.assertEqual(response.headers["Content-Disposition"].split(";")[0], "attachment")
        self.assertEqual(response.headers["Content-Type"], "application/octet-stream")

    def test_mail_gone_from_the_server_is_explained(self):
        self.paths["<gone@client.example>"].unlink()
        response = self._get(self.owner.login, "<gone@client.example>")
        self.assertEqual(response.status_code, 410)
        self.assertIn("no longer on the mail server", response.text)
        self.assertIn("lost.pdf", response.text)

    def test_an_account_that_cannot_connect_is_explained(self):
        self.account.password = "not-the-password"
        response = self._get(self.owner.login, "<pdf@client.example>")
        self.assertEqual(response.status_code, 503)
        self.assertIn("refused the login", response.text)
