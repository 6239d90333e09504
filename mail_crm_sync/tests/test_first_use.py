import os
import time
from unittest.mock import patch

from cryptography.fernet import Fernet
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import config

from .common import MailSyncCase, MailSyncHttpCase, make_email, screenshots_on_request


@tagged("post_install", "-at_install")
class TestFirstUse(MailSyncCase):
    """What a new user trips over (issue 29), as the server answers the screens."""

    def test_a_new_account_form_knows_the_server_encrypts_passwords(self):
        with patch.dict(config.options, {"mail_crm_sync_key": Fernet.generate_key().decode()}):
            form = Form(self.Account.with_user(self.salesman))
            self.assertTrue(form.credentials_encrypted, "no 'Passwords are stored unencrypted' warning")
        with patch.dict(config.options, {"mail_crm_sync_key": ""}):
            form = Form(self.Account.with_user(self.salesman))
            self.assertFalse(form.credentials_encrypted, "the warning shows where there is no key")

    def test_deleting_the_last_copy_goes_back_instead_of_reopening_the_email(self):
        account, box = self.create_account()
        self.deliver(box, make_email(to=box.email, message_id="<gone@client.example>"))
        self.sync(account)
        email = self.messages("<gone@client.example>")

        action = email.with_user(self.salesman).action_delete_on_server()
        self.assertFalse(email.exists())
        # Not the act_window_close whose reload showed "records with IDs ... cannot be found".
        self.assertEqual(action["tag"], "mail_crm_sync_back")
        self.assertEqual(action["params"]["message"], "Deleted from your mailbox on the server.")

    def test_a_refused_login_is_titled_by_what_happened(self):
        account, _box = self.create_account()
        account.password = "wrong"
        with self.assertRaises(UserError) as caught:
            account.with_user(self.salesman).action_test_connection()
        self.assertEqual(caught.exception.context["title"], "Connection Failed")

    def test_counts_of_one_read_as_english(self):
        account, box = self.create_account()
        newton = self.env["res.partner"].create({"name": "Newton", "email": "newton@client.example"})
        self.deliver(box, make_email(sender="Newton <newton@client.example>", to=box.email))
        self.sync(account)
        action = self.env["mail.sync.erase"].create({"partner_id": newton.id}).action_erase()
        self.assertEqual(action["params"]["message"], "1 email erased from the CRM.")

    def test_provider_sign_in_is_offered_only_once_set_up(self):
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("mail_crm_sync.google_client_id", "")
        Param.set_param("mail_crm_sync.microsoft_client_id", "")
        user = self.salesman.with_user(self.salesman)
        self.assertFalse(user.mail_sync_gmail_ready)
        self.assertFalse(user.mail_sync_microsoft_ready)
        help_html = self.Account.with_user(self.salesman).action_open_my_emails()["help"]
        self.assertNotIn("Connect Gmail", help_html)
        self.assertNotIn("Connect Microsoft 365", help_html)
        self.assertIn("Other mailbox (IMAP)", help_html)

        Param.set_param("mail_crm_sync.google_client_id", "client-1")
        Param.set_param("mail_crm_sync.google_client_secret", "secret-1")
        self.env.invalidate_all()
        self.assertTrue(user.mail_sync_gmail_ready)
        help_html = self.Account.with_user(self.salesman).action_open_my_emails()["help"]
        self.assertIn("Connect Gmail", help_html)
        self.assertNotIn("Connect Microsoft 365", help_html)


@tagged("post_install", "-at_install")
class TestFirstUseScreens(MailSyncHttpCase):
    """The same, in Chromium at 1440x900, as a salesman meets them; each tour takes its
    screenshots (--screenshots) for a person to look at."""

    browser_size = "1440x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="mcs_first_salesman", groups="sales_team.group_sale_salesman", name="Nina New"
        )

    def _account(self, box, **values):
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(self.account_values(box, name="Nina's mailbox", user_id=self.salesman.id, **values))
        )
        account.action_test_connection()
        account._sync_accounts()
        return account

    def _tour(self, url, name):
        with screenshots_on_request():
            self.start_tour(url, name, login=self.salesman.login)

    def test_a_new_account_form_on_a_server_with_a_key(self):
        with patch.dict(config.options, {"mail_crm_sync_key": Fernet.generate_key().decode()}):
            self._tour(
                "/odoo/action-mail_crm_sync.mail_sync_account_action_connect",
                "mail_crm_sync_first_account_tour",
            )

    def _unassigned_email(self):
        box = self.server.add_user()
        self.server.deliver(
            box,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=box.email,
                subject="Quote for 40 chairs?",
                message_id="<first-use@acme-tools.example>",
            ),
        )
        self._account(box)
        return self.env["mail.sync.message"].search([("message_id", "=", "<first-use@acme-tools.example>")])

    def test_the_actions_of_an_unassigned_email(self):
        email = self._unassigned_email()
        self._tour(
            f"/odoo/action-mail_crm_sync.mail_sync_message_action/{email.id}",
            "mail_crm_sync_email_actions_tour",
        )

    def test_an_email_deleted_on_the_server(self):
        email = self._unassigned_email()
        self._tour(
            f"/odoo/action-mail_crm_sync.mail_sync_message_action/{email.id}",
            "mail_crm_sync_email_delete_tour",
        )
        self.assertFalse(email.exists())

    def test_a_wrong_password(self):
        box = self.server.add_user()
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(
                self.account_values(box, name="Nina's mailbox", user_id=self.salesman.id, password="wrong")
            )
        )
        self._tour(
            f"/odoo/action-mail_crm_sync.mail_sync_account_action/{account.id}",
            "mail_crm_sync_wrong_password_tour",
        )

    def test_no_sign_in_offered_that_is_not_set_up(self):
        for key in ("google_client_id", "microsoft_client_id"):
            self.env["ir.config_parameter"].sudo().set_param(f"mail_crm_sync.{key}", "")
        self._tour(
            "/odoo/action-mail_crm_sync.mail_sync_message_action_mine", "mail_crm_sync_connect_offer_tour"
        )

    def test_a_contact_with_a_non_ascii_name(self):
        self.env["res.partner"].create({"name": "Jürgen Zöllner", "email": "juergen@client.example"})
        box = self.server.add_user()
        self.server.deliver(
            box,
            make_email(
                sender="=?utf-8?q?J=C3=BCrgen_Z=C3=B6llner?= <juergen@client.example>",
                to=box.email,
                subject="Jürgen's price list",
                attachment=("prices.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 500),
            ),
        )
        self._account(box, sending_enabled=True, smtp_host="127.0.0.1", smtp_port=2525, smtp_security="none")
        partner = self.env["res.partner"].search([("email", "=", "juergen@client.example")])
        self._tour(f"/odoo/contacts/{partner.id}", "mail_crm_sync_contact_tour")

    def test_older_mail_with_a_contact_as_the_administrator(self):
        admin = self.env.ref("base.user_admin")
        bob = self.env["res.partner"].create({"name": "Bob Older", "email": "bob.older@client.example"})
        box = self.server.add_user()
        sender = "Bob Older <bob.older@client.example>"
        self.server.deliver(box, make_email(sender=sender, to=box.email, subject="This week"))
        old = self.server.deliver(box, make_email(sender=sender, to=box.email, subject="Two months ago"))
        two_months_ago = time.time() - 60 * 86400
        os.utime(old, (two_months_ago, two_months_ago))
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(self.account_values(box, name="Admin's mailbox", user_id=admin.id, sync_window="14_days"))
        )
        account.action_test_connection()
        account._sync_accounts()
        self.assertEqual(bob.mail_sync_message_count, 1)
        with screenshots_on_request():
            self.start_tour(f"/odoo/contacts/{bob.id}", "mail_crm_sync_older_mail_tour", login="admin")

    def test_the_folders_of_a_new_account(self):
        box = self.server.add_user()
        self.server.deliver(box, make_email(to=box.email, subject="In the inbox"))
        self.server.deliver(box, make_email(to=box.email, subject="Spam"), folder="Junk")
        account = self._account(box)
        self.assertFalse(account.folder_ids.filtered(lambda folder: folder.name == "Junk").active)
        self._tour(
            f"/odoo/action-mail_crm_sync.mail_sync_account_action/{account.id}", "mail_crm_sync_folders_tour"
        )

    def test_the_settings_as_the_administrator(self):
        with screenshots_on_request():
            self.start_tour(
                "/odoo/action-crm.crm_config_settings_action", "mail_crm_sync_settings_tour", login="admin"
            )

    def test_a_refused_password_is_entered_again(self):
        box = self.server.add_user(password="tour-right-password")
        account = self._account(box)
        account.write({"state": "reconnect", "last_error": "The server refused the login."})
        account.password = "an-old-password"
        self._tour(
            f"/odoo/action-mail_crm_sync.mail_sync_account_action/{account.id}",
            "mail_crm_sync_reconnect_tour",
        )
        self.assertEqual(account.state, "active")

    def test_an_attachment_whose_email_left_the_server(self):
        box = self.server.add_user()
        path = self.server.deliver(
            box,
            make_email(
                to=box.email,
                subject="The plan",
                attachment=("plan.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 500),
            ),
        )
        self._account(box)
        attachment = self.env["mail.sync.message.attachment"].search([("name", "=", "plan.pdf")])
        path.unlink()
        with screenshots_on_request():
            self.browser_js(
                f"/mail_crm_sync/attachment/{attachment.id}",
                "console.log('mcs_shot:item10_attachment_gone');"
                # Odoo's page (a card in the frontend layout), not bare HTML.
                "setTimeout(() => console.log(document.querySelector('.card .card-title') ? "
                "'test successful' : 'error: an unstyled page'), 1500);",
                login=self.salesman.login,
            )

    def test_the_signature_html_source_without_developer_mode(self):
        box = self.server.add_user()
        account = self._account(
            box,
            sending_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=2525,
            smtp_security="none",
            signature="<p>Nina New, Sales</p>",
        )
        self._tour(
            f"/odoo/action-mail_crm_sync.mail_sync_account_action/{account.id}",
            "mail_crm_sync_signature_tour",
        )
