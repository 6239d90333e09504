import json

from odoo.tests import new_test_user, tagged

from ..exceptions import MailSyncRedirectWarning
from .common import MailSyncCase, MailSyncHttpCase, screenshots_on_request


@tagged("post_install", "-at_install")
class TestFirstUseRest(MailSyncCase):
    """What is left of issue 29 (what a new user trips over), as the server answers the screens."""

    def _write_to(self, user):
        partner = self.env["res.partner"].create({"name": "Dora Buyer", "email": "dora@client.example"})
        action = partner.with_user(user).action_mail_sync_compose()
        return (
            self.env["mail.sync.compose"]
            .with_user(user)
            .with_context(**action["context"])
            .default_get(["body"])
        )

    def test_write_email_from_an_account_that_does_not_send_opens_its_outgoing_tab(self):
        account, _box = self.create_account()
        self.assertFalse(account.sending_enabled)
        with self.assertRaises(MailSyncRedirectWarning) as caught:
            self._write_to(self.salesman)
        message, action, button, _context = caught.exception.args
        self.assertEqual(caught.exception.context["title"], "No Account to Send From")
        self.assertIn("Send From This Account", message)
        self.assertEqual(button, "Set Up Sending")
        self.assertEqual(action["res_model"], "mail.sync.account")
        self.assertEqual(action["res_id"], account.id)
        self.assertEqual(
            action["view_id"][0], self.env.ref("mail_crm_sync.mail_sync_account_view_form_outgoing").id
        )

    def test_write_email_without_any_account_offers_to_connect_one(self):
        admin = self.env.ref("base.user_admin")  # the demo's administrator has no mailbox
        with self.assertRaises(MailSyncRedirectWarning) as caught:
            self._write_to(admin)
        _message, action, button, _context = caught.exception.args
        self.assertEqual(caught.exception.context["title"], "No Account to Send From")
        self.assertEqual(button, "Connect a Mail Account")
        self.assertEqual(action["id"], self.env.ref("mail_crm_sync.mail_sync_account_action_connect").id)

    def test_an_account_that_sends_but_is_not_connected_is_opened(self):
        account, _box = self.create_account(
            sending_enabled=True, smtp_host=self.server.host, smtp_port=2525, smtp_security="none"
        )
        account.state = "reconnect"
        with self.assertRaises(MailSyncRedirectWarning) as caught:
            self._write_to(self.salesman)
        message, action, button, _context = caught.exception.args
        self.assertIn("is not connected", message)
        self.assertEqual((action["res_id"], button), (account.id, "Open the Account"))


@tagged("post_install", "-at_install")
class TestFirstUseRestScreens(MailSyncHttpCase):
    """The same, in Chromium at 1440x900; each tour takes its screenshots (--screenshots)."""

    browser_size = "1440x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="mcs_rest_salesman", groups="sales_team.group_sale_salesman", name="Nina New"
        )
        cls.partner = cls.env["res.partner"].create({"name": "Dora Buyer", "email": "dora@client.example"})

    def _account(self, box, **values):
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(self.account_values(box, name="Nina's mailbox", user_id=self.salesman.id, **values))
        )
        account.action_test_connection()
        return account

    def test_a_composer_error_reaches_the_web_client_with_its_title(self):
        self._account(
            self.server.add_user(),
            sending_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=2525,
            smtp_security="none",
        )
        wizard = (
            self.env["mail.sync.compose"]
            .with_user(self.salesman)
            .create({"subject": "Hello", "body": "<p>Hi</p>"})
        )
        self.authenticate(self.salesman.login, self.salesman.login)
        response = self.url_open(
            "/web/dataset/call_kw/mail.sync.compose/action_send",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "mail.sync.compose",
                        "method": "action_send",
                        "args": [wizard.ids],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        error = response.json()["error"]["data"]
        # What the web client's error dialog registry reads (static/src/js/error_dialog.js).
        self.assertEqual(error["name"], "odoo.addons.mail_crm_sync.exceptions.MailSyncUserError")
        self.assertEqual(error["message"], "Add at least one recipient.")
        self.assertEqual(error["context"], {"title": "Check the Recipients"})

    def test_write_email_from_an_account_without_smtp(self):
        self._account(self.server.add_user())
        with screenshots_on_request():
            self.start_tour(
                f"/odoo/contacts/{self.partner.id}",
                "mail_crm_sync_write_without_smtp_tour",
                login=self.salesman.login,
            )

    def test_write_email_as_the_administrator_without_a_mailbox(self):
        with screenshots_on_request():
            self.start_tour(
                f"/odoo/contacts/{self.partner.id}", "mail_crm_sync_write_without_account_tour", login="admin"
            )
