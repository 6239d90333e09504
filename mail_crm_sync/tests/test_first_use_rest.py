import datetime
import json

from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..exceptions import MailSyncRedirectWarning
from .common import MailSyncCase, MailSyncHttpCase, make_email, screenshots_on_request


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
            .create(
                self.account_values(box, **{"name": "Nina's mailbox", "user_id": self.salesman.id, **values})
            )
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

    def test_an_error_dialog_titled_by_what_happened(self):
        self._account(
            self.server.add_user(),
            sending_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=2525,
            smtp_security="none",
        )
        lead = self.env["crm.lead"].create({"name": "Chairs for a new office", "user_id": self.salesman.id})
        with screenshots_on_request():
            self.start_tour(
                f"/odoo/crm.lead/{lead.id}", "mail_crm_sync_titled_error_tour", login=self.salesman.login
            )

    def test_write_email_from_an_account_without_smtp(self):
        self._account(self.server.add_user())
        with screenshots_on_request():
            self.start_tour(
                f"/odoo/contacts/{self.partner.id}",
                "mail_crm_sync_write_without_smtp_tour",
                login=self.salesman.login,
            )

    def test_my_mailboxes(self):
        self.env["res.partner"].create({"name": "Known", "email": "known@client.example"})
        box = self.server.add_user()
        self.server.deliver(
            box,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>", to=box.email, subject="Quote for 40 chairs?"
            ),
        )
        self.server.deliver(
            box, make_email(sender="Known <known@client.example>", to=box.email, subject="Known customer")
        )
        self._account(box)._sync_accounts()
        with screenshots_on_request():
            self.start_tour(
                "/odoo/action-mail_crm_sync.mail_sync_account_action_dashboard",
                "mail_crm_sync_mailboxes_tour",
                login=self.salesman.login,
            )

    def _mailbox_with_a_sent_email(self):
        box = self.server.add_user()
        self.server.deliver(
            box,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>", to=box.email, subject="Quote for 40 chairs?"
            ),
        )
        self.server.deliver(
            box,
            make_email(sender=box.email, to="dora@acme-tools.example", subject="Our offer"),
            folder="Sent",
        )
        account = self._account(box)
        account.folder_ids.filtered(lambda folder: folder.role == "sent").active = True
        account._sync_accounts()
        return account

    def test_the_inbox_browses_the_folders(self):
        self._account(self.server.add_user(), name="Nina's other mailbox")
        primary = self._mailbox_with_a_sent_email()
        primary.is_primary = True
        with screenshots_on_request():
            self.start_tour(
                "/odoo/action-mail_crm_sync.mail_sync_message_action_open_inbox",
                "mail_crm_sync_inbox_folders_tour",
                login=self.salesman.login,
            )

    def test_mail_kept_out_of_the_chatter(self):
        dora = self.env["res.partner"].create({"name": "Dora Chairs", "email": "dora@acme-tools.example"})
        box = self.server.add_user()
        self.server.deliver(
            box,
            make_email(
                sender="Dora Chairs <dora@acme-tools.example>", to=box.email, subject="Quote for 40 chairs?"
            ),
        )
        account = self._account(box)
        account._sync_accounts()
        with screenshots_on_request():
            self.start_tour(
                f"/odoo/action-mail_crm_sync.mail_sync_account_action/{account.id}",
                "mail_crm_sync_chatter_choice_tour",
                login=self.salesman.login,
            )
            self.assertFalse(account.show_in_chatter)
            self.start_tour(
                f"/odoo/contacts/{dora.id}",
                "mail_crm_sync_chatter_choice_contact_tour",
                login=self.salesman.login,
            )

    def test_write_email_as_the_administrator_without_a_mailbox(self):
        with screenshots_on_request():
            self.start_tour(
                f"/odoo/contacts/{self.partner.id}", "mail_crm_sync_write_without_account_tour", login="admin"
            )


@tagged("post_install", "-at_install")
class TestChatterChoice(MailSyncHttpCase):
    """Mail in the chatter as a choice of each account (Show in the Chatter), as the web client asks
    for the chatter (/mail/thread/messages)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="mcs_choice_sally", groups="sales_team.group_sale_salesman", name="Sally Choice"
        )
        cls.dora = cls.env["res.partner"].create({"name": "Dora Buyer", "email": "dora@acme-tools.example"})
        cls.lead = cls.env["crm.lead"].create(
            {"name": "40 chairs", "partner_id": cls.dora.id, "user_id": cls.salesman.id}
        )
        box = cls.server.add_user()
        # One email, as both mailboxes of the second test receive it.
        cls.raw = make_email(
            sender="Dora Buyer <dora@acme-tools.example>",
            to="Sales <sales@chairs.example>",
            subject="Quote for 40 chairs?",
            message_id="<choice@acme-tools.example>",
            date=datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC),
        )
        cls.server.deliver(box, cls.raw)
        cls.account = (
            cls.env["mail.sync.account"]
            .sudo()
            .create(cls.account_values(box, name="Sally's mailbox", user_id=cls.salesman.id))
        )
        cls.account.action_test_connection()
        cls.account._sync_accounts()
        cls.email = cls.env["mail.sync.message"].search([("message_id", "=", "<choice@acme-tools.example>")])

    def chatter_emails(self, record):
        self.authenticate(self.salesman.login, self.salesman.login)
        result = self.make_jsonrpc_request(
            "/mail/thread/messages", {"thread_model": record._name, "thread_id": record.id}
        )
        return [
            email["id"]
            for conversation in result.get("mail_crm_sync", {}).get("conversations", [])
            for email in conversation["emails"]
        ]

    def test_an_account_whose_mail_is_kept_out_of_the_chatter(self):
        self.assertTrue(self.email)
        self.assertTrue(self.account.show_in_chatter, "on by default")
        for record in (self.dora, self.lead):
            self.assertEqual(self.chatter_emails(record), self.email.ids)

        self.account.show_in_chatter = False
        for record in (self.dora, self.lead):
            with self.subTest(record=record.display_name):
                self.assertEqual(self.chatter_emails(record), [])
                # still on the record's Emails tab and in the Emails lists
                self.assertEqual(record.with_user(self.salesman).mail_sync_message_ids, self.email)
        self.assertEqual(
            self.env["mail.sync.message"].with_user(self.salesman).search([("id", "=", self.email.id)]),
            self.email,
        )

    def test_an_email_another_account_shows_stays_in_the_chatter(self):
        other_box = self.server.add_user()
        self.server.deliver(other_box, self.raw)
        other = (
            self.env["mail.sync.account"]
            .sudo()
            .create(
                self.account_values(
                    other_box,
                    name="Admin mailbox",
                    user_id=self.env.ref("base.user_admin").id,
                    visibility="everyone",
                )
            )
        )
        other.action_test_connection()
        other._sync_accounts()
        self.email.invalidate_recordset()
        self.assertEqual(self.email.account_ids, self.account | other)
        self.account.show_in_chatter = False
        self.assertEqual(self.chatter_emails(self.dora), self.email.ids)
        other.show_in_chatter = False
        self.assertEqual(self.chatter_emails(self.dora), [])


@tagged("post_install", "-at_install")
class TestMailboxDashboard(MailSyncCase):
    """CRM > Emails > My Mailboxes: a card per account of the user, counted as the user."""

    def _dashboard(self, user):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail_crm_sync.mail_sync_account_action_dashboard"
        )
        domain = safe_eval(action["domain"], {"uid": user.id})
        return self.Account.with_user(user).search(domain)

    def test_the_cards_and_their_counts_are_what_each_user_may_read(self):
        manager = new_test_user(
            self.env, login="mcs_dash_manager", groups="sales_team.group_sale_manager", name="Mona Manager"
        )
        own, own_box = self.create_account()
        linked = self.env["res.partner"].create({"name": "Known", "email": "known@client.example"})
        self.deliver(own_box, make_email(sender="Known <known@client.example>", to=own_box.email))
        self.deliver(own_box, make_email(sender="Stranger <stranger@elsewhere.example>", to=own_box.email))
        self.sync(own)
        self.assertEqual(linked.mail_sync_message_count, 1)

        team = self.env["res.groups"].create({"name": "Support team", "users": [(4, self.salesman.id)]})
        shared, shared_box = self.create_account(user=self.env.ref("base.user_admin"))
        shared.write(
            {"account_type": "shared", "user_id": False, "visibility": "owner", "member_group_id": team.id}
        )
        self.deliver(shared_box, make_email(sender="Other <other@elsewhere.example>", to=shared_box.email))
        self.sync(shared)
        colleague, _box = self.create_account(user=manager)

        cards = self._dashboard(self.salesman)
        self.assertEqual(cards, own | shared, "their own and the shared one they read; no colleague's")
        self.assertEqual(cards.mapped("unassigned_count"), [1, 1])
        emails = (
            self.env["mail.sync.message"]
            .with_user(self.salesman)
            .search(own.with_user(self.salesman).action_open_unassigned()["domain"])
        )
        self.assertEqual(emails.mapped("email_from"), ["Stranger <stranger@elsewhere.example>"])

        # The manager reads every account, but not the mail of a shared one he is no member of.
        cards = self._dashboard(manager)
        self.assertEqual(cards, colleague | shared)
        self.assertEqual(shared.with_user(manager).unassigned_count, 0)

    def test_the_inbox_opens_on_the_primary_accounts_inbox_and_browses_a_folder(self):
        self.create_account(name="Other")
        primary, box = self.create_account(name="Primary", is_primary=True)
        self.deliver(
            box, make_email(to=box.email, subject="Received", message_id="<received@client.example>")
        )
        self.deliver(
            box,
            make_email(sender=box.email, subject="Sent", message_id="<sent@client.example>"),
            folder="Sent",
        )
        sent = primary.folder_ids.filtered(lambda folder: folder.role == "sent")
        sent.active = True
        self.sync(primary)
        inbox = primary.folder_ids.filtered(lambda folder: folder.role == "inbox")

        context = self.env["mail.sync.message"].with_user(self.salesman).action_open_inbox()["context"]
        self.assertEqual(context["searchpanel_default_browse_account_id"], primary.id)
        self.assertEqual(context["searchpanel_default_browse_folder_id"], inbox.ids)
        Message = self.env["mail.sync.message"].with_user(self.salesman)
        for folder, subject in ((inbox, "Received"), (sent, "Sent")):
            found = Message.search(
                [("browse_account_id", "=", primary.id), ("browse_folder_id", "in", folder.ids)]
            )
            self.assertEqual(found.mapped("subject"), [subject])
