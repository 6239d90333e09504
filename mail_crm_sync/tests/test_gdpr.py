import csv
import io
import zipfile

from imapclient import IMAPClient
from odoo import http
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import MailSyncCase, MailSyncHttpCase, make_email

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 20


@tagged("post_install", "-at_install")
class TestGdpr(MailSyncCase):
    """Per contact: export what the CRM synced of a person's mail, and erase it from the CRM, while
    the mailbox on the server keeps it."""

    def setUp(self):
        super().setUp()
        self.admin = new_test_user(
            self.env,
            login="mcs_gdpr_admin",
            groups="base.group_system,sales_team.group_sale_manager",
            name="Ada Admin",
        )
        self.account, self.box = self.create_account(visibility="owner")
        self.alice = self.env["res.partner"].create({"name": "Alice Client", "email": "alice@client.example"})
        self.raw = {
            "<a1@client.example>": make_email(
                sender="Alice Client <alice@client.example>",
                to=self.box.email,
                subject="Our order",
                message_id="<a1@client.example>",
                attachment=("order.pdf", "application/pdf", PDF),
            ),
            "<a2@client.example>": make_email(
                sender="Bob Other <bob@other.example>",
                to=self.box.email,
                cc="alice@client.example",
                subject="Meeting with Alice",
                message_id="<a2@client.example>",
            ),
            "<b1@other.example>": make_email(
                sender="bob@other.example",
                to=self.box.email,
                subject="Only Bob",
                message_id="<b1@other.example>",
            ),
        }
        self.paths = {key: self.deliver(self.box, raw) for key, raw in self.raw.items()}
        self.sync(self.account)

    def imap(self, box):
        client = IMAPClient(self.server.host, port=self.server.port, ssl=False)
        client.login(box.login, box.password)
        self.addCleanup(client.logout)
        client.select_folder("INBOX", readonly=True)
        return client

    def export(self, user):
        data, count = self.alice.with_user(user)._mail_sync_export()
        archive = zipfile.ZipFile(io.BytesIO(data))
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
        self.assertEqual(count, len(index))
        return archive, index

    # -- export -----------------------------------------------------------------------------------

    def test_export_zips_the_servers_copy_of_each_email_that_mentions_the_contact(self):
        archive, index = self.export(self.salesman)
        self.assertEqual(
            {row["subject"]: row["source"] for row in index},
            {"Our order": "server", "Meeting with Alice": "server"},
        )
        self.assertEqual(sorted(archive.namelist()), sorted([*(row["file"] for row in index), "index.csv"]))
        order = next(row for row in index if row["subject"] == "Our order")
        self.assertIn("alice@client.example", order["from"])
        self.assertEqual(
            archive.read(order["file"]).replace(b"\r\n", b"\n"),
            self.raw["<a1@client.example>"].replace(b"\r\n", b"\n"),
        )
        note = self.alice.message_ids[:1]
        self.assertIn("Exported 2 synced emails", note.body)
        self.assertEqual(note.author_id, self.salesman.partner_id)
        # Read-only: nothing was marked as read on the server.
        client = self.imap(self.box)
        flags = client.fetch(client.search(["ALL"]), ["FLAGS"])
        self.assertEqual(len(flags), 3)
        self.assertFalse([uid for uid, data in flags.items() if b"\\Seen" in data[b"FLAGS"]])

    def test_export_rebuilds_an_email_the_server_no_longer_has_and_says_so(self):
        self.paths["<a2@client.example>"].unlink()
        archive, index = self.export(self.salesman)
        meeting = next(row for row in index if row["subject"] == "Meeting with Alice")
        self.assertEqual(meeting["source"], "rebuilt")
        eml = archive.read(meeting["file"])
        self.assertIn(b"X-Mail-CRM-Sync-Rebuilt:", eml)
        self.assertIn(b"Message-ID: <a2@client.example>", eml)
        self.assertIn(b"Subject: Meeting with Alice", eml)
        self.assertIn(b"Hello there", eml)

    def test_export_holds_only_the_emails_the_user_may_read(self):
        _archive, index = self.export(self.other_salesman)  # the account is its owner's alone
        self.assertEqual(index, [])
        _archive, index = self.export(self.admin)
        self.assertEqual(len(index), 2)

    # -- erasure ----------------------------------------------------------------------------------

    def test_erasure_removes_everything_of_the_address_and_no_sync_brings_it_back(self):
        erased = self.messages("<a1@client.example>", "<a2@client.example>")
        self.assertEqual(len(erased), 2)
        self.assertTrue(erased.attachment_ids and erased.location_ids and erased.link_ids)
        self.messages("<a1@client.example>").with_user(self.salesman).action_pin_attachments()
        pinned = erased.attachment_ids.pinned_attachment_id
        self.assertTrue(pinned)
        self.assertEqual(
            self.Message.search([("search_text", "ilike", "order")]), self.messages("<a1@client.example>")
        )

        wizard = Form(
            self.env["mail.sync.erase"].with_user(self.admin).with_context(default_partner_id=self.alice.id)
        )
        self.assertEqual(wizard.email_count, 2)
        wizard.save().action_erase()

        ids = erased.ids
        self.assertFalse(self.Message.browse(ids).exists())
        for model in ("mail.sync.message.attachment", "mail.sync.message.location", "mail.sync.message.link"):
            self.assertFalse(
                self.env[model].with_context(active_test=False).search([("email_id", "in", ids)]), model
            )
        self.assertFalse(pinned.exists())
        # Its words are in no search index any more, built or waiting.
        for table in ("mail_sync_message_search", "mail_sync_message_search_pending"):
            self.env.cr.execute(f"SELECT count(*) FROM {table} WHERE email_id = ANY(%s)", [ids])
            self.assertEqual(self.env.cr.fetchone()[0], 0, table)
        self.assertFalse(self.Message.search([("search_text", "ilike", "order")]))
        self.assertEqual(len(self.messages("<b1@other.example>")), 1, "mail not mentioning Alice stays")
        note = self.alice.message_ids[:1]
        self.assertIn("2 synced emails", note.body)
        self.assertIn("Ada Admin", note.body)
        self.assertNotIn("Our order", note.body)
        tombstones = self.env["mail.sync.tombstone"].search([("partner_id", "=", self.alice.id)])
        self.assertEqual(len(tombstones), 2)
        self.assertEqual(tombstones.erased_by, self.admin)

        # A later sync, and one from scratch (the folder's state cleared), store nothing of it.
        self.sync(self.account)
        self.account.folder_ids.write({"sync_state": False})
        self.sync(self.account)
        self.assertFalse(self.messages("<a1@client.example>", "<a2@client.example>"))
        self.assertEqual(len(self.messages("<b1@other.example>")), 1)
        # The same email met in another account later is kept out too.
        other_account, other_box = self.create_account(user=self.other_salesman)
        self.deliver(other_box, self.raw["<a1@client.example>"])
        self.sync(other_account)
        self.assertFalse(self.messages("<a1@client.example>"))
        # The mailbox on the server was not touched.
        client = self.imap(self.box)
        for message_id in self.raw:
            self.assertEqual(len(client.search(["HEADER", "Message-ID", message_id])), 1, message_id)

    def test_a_salesman_cannot_erase(self):
        alice = self.alice.with_user(self.salesman)
        with self.assertRaises(AccessError):
            alice.action_mail_sync_erase()
        with self.assertRaises(AccessError):
            alice._mail_sync_erase()
        with self.assertRaises(AccessError):
            self.env["mail.sync.erase"].with_user(self.salesman).create({"partner_id": self.alice.id})
        self.assertEqual(len(self.messages("<a1@client.example>", "<a2@client.example>")), 2)
        self.assertFalse(self.env["mail.sync.tombstone"].search([]))


@tagged("post_install", "-at_install")
class TestGdprExportDownload(MailSyncHttpCase):
    """The Export Emails button downloads the zip through a route of its own: a POST with the
    session's CSRF token, since the export reads the mailboxes and is noted on the contact. Neither
    a link nor an image on another site (a GET), nor a form posted from it (no token), starts it."""

    def setUp(self):
        super().setUp()
        self.owner = new_test_user(
            self.env, login="mcs_export_owner", groups="sales_team.group_sale_salesman"
        )
        box = self.server.add_user()
        self.server.deliver(
            box, make_email(sender="carol@client.example", to=box.email, message_id="<c1@client.example>")
        )
        account = self.env["mail.sync.account"].create(
            self.account_values(box, user_id=self.owner.id, visibility="owner")
        )
        account.action_test_connection()
        account._sync_accounts()
        self.carol = self.env["res.partner"].create({"name": "Carol", "email": "carol@client.example"})
        self.url = f"/mail_crm_sync/partner/{self.carol.id}/export"
        self.authenticate(self.owner.login, self.owner.login)

    def export_notes(self):
        self.carol.invalidate_recordset(["message_ids"])
        return self.carol.message_ids.filtered(lambda message: "Exported" in (message.body or ""))

    def test_the_button_posts_to_the_route_and_the_zip_comes_back_for_who_may_read_the_contact(self):
        action = self.carol.with_user(self.owner).action_mail_sync_export()
        self.assertEqual((action["type"], action["tag"]), ("ir.actions.client", "mail_crm_sync_download"))
        self.assertEqual(action["params"]["url"], self.url)
        # As the web client's download() posts it: the form's fields and the session's CSRF token.
        form = {"token": "dummy-because-api-expects-one", "csrf_token": http.Request.csrf_token(self)}
        response = self.url_open(action["params"]["url"], data=form)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        self.assertIn("Emails%20of%20Carol.zip", response.headers["Content-Disposition"])
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        self.assertEqual(len(archive.namelist()), 2)  # the email and the index
        self.assertEqual(len(self.export_notes()), 1)
        self.assertIn("Exported 1 synced emails", self.export_notes().body)
        response = self.url_open("/mail_crm_sync/partner/999999999/export", data=form)
        self.assertEqual(response.status_code, 404)

    def test_the_button_in_the_browser_posts_the_export_and_shows_its_note(self):
        """The web client's side: the button's action posts the form, with the token the page holds."""
        button = "button[name='action_mail_sync_export']"
        code = f"""
            document.querySelector("{button}").click();
            const until = Date.now() + 30000;
            (function waitForTheNote() {{
                const chatter = document.querySelector(".o-mail-Chatter");
                if (chatter && chatter.textContent.includes("Exported 1 synced emails")) {{
                    console.log("test successful");
                }} else if (Date.now() > until) {{
                    console.error("no export note in the chatter");
                }} else {{
                    setTimeout(waitForTheNote, 200);
                }}
            }})();
        """
        self.browser_js(
            f"/odoo/action-base.action_partner_form/{self.carol.id}",
            code,
            ready=f'!!document.querySelector("{button}")',
            login=self.owner.login,
        )
        self.assertEqual(len(self.export_notes()), 1)

    def test_a_get_of_the_export_answers_405_and_exports_nothing(self):
        response = self.url_open(self.url)
        self.assertEqual(response.status_code, 405)
        self.assertNotIn("application/zip", response.headers.get("Content-Type", ""))
        self.assertFalse(self.export_notes())

    def test_a_post_without_the_sessions_csrf_token_is_refused_and_exports_nothing(self):
        forged = "0" * 40 + "o9999999999"
        for form in ({"token": "dummy"}, {"token": "dummy", "csrf_token": forged}):
            with self.subTest(form=form), mute_logger("odoo.http"):
                response = self.url_open(self.url, data=form)
                self.assertEqual(response.status_code, 400)
                self.assertIn("CSRF", response.text)
                self.assertNotIn("application/zip", response.headers.get("Content-Type", ""))
        self.assertFalse(self.export_notes())
