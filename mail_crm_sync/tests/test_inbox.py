from datetime import timedelta

from lxml import etree
from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import MailSyncCase, MailSyncHttpCase, make_email, screenshot_at_end


@tagged("post_install", "-at_install")
class TestInbox(MailSyncCase):
    """CRM > Emails as an inbox, and account settings that do what they say."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Known Customer", "email": "known@client.example"}
        )

    def search_filters(self):
        """{filter name: (group number, domain)} of the Emails search view, groups split by separators
        as the web client splits them."""
        arch = self.Message.get_view(view_type="search")["arch"]
        filters, group = {}, 0
        for node in etree.fromstring(arch):
            if node.tag == "separator":
                group += 1
            elif node.tag == "filter" and node.get("domain"):
                filters[node.get("name")] = (group, node.get("domain"))
        return filters

    def search_with_filters(self, user, *names):
        """What ``user`` sees with these filters on: ORed within a group, ANDed across groups."""
        filters = self.search_filters()
        groups = {}
        for name in names:
            group, domain = filters[name]
            groups.setdefault(group, []).append(safe_eval(domain, {"uid": user.id}))
        domain = []
        for domains in groups.values():
            domain += ["|"] * (len(domains) - 1) + [term for part in domains for term in part]
        return self.Message.with_user(user).search(domain)

    def test_my_emails_and_unassigned_filters_combine_as_and(self):
        account, box = self.create_account()
        other, other_box = self.create_account(user=self.other_salesman)
        self.deliver(
            box, make_email(sender="known@client.example", message_id="<mine-known@x>", to=box.email)
        )
        self.deliver(
            box, make_email(sender="stranger@else.example", message_id="<mine-unknown@x>", to=box.email)
        )
        self.deliver(
            other_box,
            make_email(sender="nobody@else.example", message_id="<theirs-unknown@x>", to=other_box.email),
        )
        other.write({"visibility": "everyone"})
        self.sync(account | other)

        filters = self.search_filters()
        self.assertNotEqual(filters["filter_mine"][0], filters["filter_unassigned"][0], "separate groups")
        found = self.search_with_filters(self.salesman, "filter_mine", "filter_unassigned")
        self.assertEqual(found.mapped("message_id"), ["<mine-unknown@x>"])
        everything = self.search_with_filters(self.salesman, "filter_unassigned")
        self.assertIn(
            "<theirs-unknown@x>", everything.mapped("message_id"), "the colleague's mail is readable"
        )

        action = self.env.ref("mail_crm_sync.mail_sync_message_action_unassigned")
        context = safe_eval(action.context)
        self.assertEqual(
            {name for name, on in context.items() if on},
            {"search_default_filter_mine", "search_default_filter_unassigned"},
        )

    def test_the_emails_menu_finds_and_counts_only_what_the_user_may_read(self):
        """The menu's filters keep to the user's own accounts, whose mail he reads: there the
        rule is not asked of each email, and nothing else comes in (not under an OR, not through a
        context a client sends, not for a user who does not read his own mailbox's mail)."""
        mine, box = self.create_account()
        theirs, their_box = self.create_account(user=self.other_salesman, visibility="owner")
        self.deliver(box, make_email(message_id="<mine@x>", to=box.email))
        self.deliver(box, make_email(message_id="<mine-too@x>", to=box.email))
        both = make_email(message_id="<both@x>", to=f"{box.email}, {their_box.email}")
        self.deliver(box, both)
        self.deliver(their_box, both)
        self.deliver(their_box, make_email(message_id="<private@x>", to=their_box.email))
        self.sync(mine | theirs)

        Emails = self.Message.with_user(self.salesman)
        for name in ("in_my_emails", "in_my_primary_account"):
            mine.is_primary = name == "in_my_primary_account"
            menu = Emails.web_search_read(
                [(name, "=", True)], {"message_id": {}}, limit=1, count_limit=10_001
            )
            self.assertEqual(menu["length"], 3, name)  # a page of 1 row: counted
            self.assertEqual(
                sorted(Emails.search([(name, "=", True)]).mapped("message_id")),
                ["<both@x>", "<mine-too@x>", "<mine@x>"],
                name,
            )
            either = ["|", (name, "=", True), ("subject", "!=", False)]
            self.assertNotIn("<private@x>", Emails.search(either).mapped("message_id"), name)
            self.assertEqual(Emails.search_count(either), 3, name)
        for value in (True, "1", 1):
            self.assertNotIn(
                "<private@x>",
                Emails.with_context(mail_sync_rule_implied=value).search([]).mapped("message_id"),
            )
        self.assertEqual(
            sorted(
                self.Message.with_user(self.other_salesman)
                .search([("in_my_emails", "=", True)])
                .mapped("message_id")
            ),
            ["<both@x>", "<private@x>"],
        )

        # A Shared Inboxes user does not read the mail of a personal mailbox of his: the rule stays.
        reader = new_test_user(
            self.env, login="shared_reader", groups="base.group_user,mail_crm_sync.group_mail_sync_shared"
        )
        theirs.sudo().user_id = reader
        self.assertFalse(self.Message.with_user(reader).search([("in_my_emails", "=", True)]))
        self.assertFalse(self.Message.with_user(reader).search_count([("in_my_emails", "=", True)]))

    def test_the_list_shows_the_contacts_and_opportunities_the_user_may_open(self):
        """The Contacts and Opportunities columns, as the list reads them: what the user may open,
        nothing of an email he may not read, and no link undone."""
        Lead = self.env["crm.lead"]
        own = Lead.create({"name": "Ours", "email_from": "known@client.example", "user_id": self.salesman.id})
        Lead.create(
            {"name": "Theirs", "email_from": "known@client.example", "user_id": self.other_salesman.id}
        )
        account, box = self.create_account()
        theirs, their_box = self.create_account(user=self.other_salesman, visibility="owner")
        self.deliver(box, make_email(sender="known@client.example", message_id="<to-me@x>", to=box.email))
        self.deliver(box, make_email(sender="nobody@else.example", message_id="<stranger@x>", to=box.email))
        self.deliver(
            their_box, make_email(sender="known@client.example", message_id="<to-them@x>", to=their_box.email)
        )
        self.sync(account | theirs)
        mine, stranger, private = (self.messages(key) for key in ("<to-me@x>", "<stranger@x>", "<to-them@x>"))
        self.assertEqual(set(mine.link_ids.lead_id.mapped("name")), {"Ours", "Theirs"}, "both linked")
        self.assertTrue(private.link_ids)

        Emails = self.Message.with_user(self.salesman)
        columns = {
            "partner_ids": {"fields": {"display_name": {}}},
            "lead_ids": {"fields": {"display_name": {}}},
        }
        rows = {row["id"]: row for row in (mine | stranger).with_user(self.salesman).web_read(columns)}
        self.assertEqual([tag["display_name"] for tag in rows[mine.id]["partner_ids"]], ["Known Customer"])
        self.assertEqual([tag["display_name"] for tag in rows[mine.id]["lead_ids"]], ["Ours"])
        self.assertEqual((rows[stranger.id]["partner_ids"], rows[stranger.id]["lead_ids"]), ([], []))
        # An email he may not read tells none of its links, even asked past the read's access check
        # (refused, or nothing).
        self.env.invalidate_all()  # the links read above as administrator are not his
        unread = Emails.browse(private.id)
        try:
            told = unread.partner_ids | unread.lead_ids.partner_id
        except AccessError:
            told = self.env["res.partner"]
        self.assertFalse(told)

        mine.link_ids.filtered(lambda link: link.lead_id == own).active = False
        self.env.invalidate_all()
        (row,) = mine.with_user(self.salesman).web_read(columns)
        self.assertEqual(row["lead_ids"], [])
        self.assertEqual([tag["display_name"] for tag in row["partner_ids"]], ["Known Customer"])

    def test_download_new_messages_reports_the_count(self):
        account, box = self.create_account()
        self.sync(account)
        self.deliver(box, make_email(message_id="<new-1@x>"))
        self.deliver(box, make_email(message_id="<new-2@x>"))

        notification = self.Account.with_user(self.salesman).action_sync_mine()
        self.assertEqual(notification["params"]["message"], "2 new emails")
        self.assertEqual(len(self.messages("<new-1@x>", "<new-2@x>")), 2)

        self.deliver(box, make_email(message_id="<new-3@x>"))
        notification = account.with_user(self.salesman).action_sync_now()
        self.assertEqual(notification["params"]["message"], "1 new email")
        notification = account.with_user(self.salesman).action_sync_now()
        self.assertEqual(notification["params"]["message"], "No new email")

    def test_download_new_messages_without_an_account_says_how_to_connect_one(self):
        with self.assertRaisesRegex(UserError, "no connected mail account"):
            self.Account.with_user(self.other_salesman).action_sync_mine()

    def test_show_on_dashboard_drives_the_default_filter(self):
        shown, shown_box = self.create_account(name="Shown")
        hidden, hidden_box = self.create_account(name="Hidden", show_on_dashboard=False)
        self.deliver(shown_box, make_email(message_id="<shown@x>", to=shown_box.email))
        self.deliver(hidden_box, make_email(message_id="<hidden@x>", to=hidden_box.email))
        self.sync(shown | hidden)

        action = self.Account.with_user(self.salesman).action_open_my_emails()
        self.assertEqual(action["context"], {"search_default_filter_dashboard": 1})
        seen = self.search_with_filters(self.salesman, "filter_dashboard")
        self.assertEqual(seen.mapped("message_id"), ["<shown@x>"])
        self.assertEqual(
            sorted(self.search_with_filters(self.salesman, "filter_mine").mapped("message_id")),
            ["<hidden@x>", "<shown@x>"],
        )

        # A primary account on the dashboard is where My Emails opens.
        shown.is_primary = True
        action = self.Account.with_user(self.salesman).action_open_my_emails()
        self.assertEqual(action["context"], {"search_default_filter_primary": 1})
        self.assertEqual(
            self.search_with_filters(self.salesman, "filter_primary").mapped("message_id"), ["<shown@x>"]
        )
        shown.show_on_dashboard = False
        action = self.Account.with_user(self.salesman).action_open_my_emails()
        self.assertEqual(action["context"], {"search_default_filter_dashboard": 1})

    def test_from_now_on_takes_mail_from_the_moment_of_connection(self):
        box = self.server.add_user()
        # Five minutes before the connection: the same day but earlier (unless just after midnight).
        self.deliver(box, make_email(message_id="<before@x>", to=box.email), age_days=300 / 86400)
        account, box = self.create_account(mailbox_user=box, sync_window="now")
        connected = account.connected_since
        self.assertTrue(connected)
        self.deliver(box, make_email(message_id="<after@x>", to=box.email))
        self.sync(account)

        self.assertEqual(
            self.Message.search([("account_ids", "in", account.ids)]).mapped("message_id"), ["<after@x>"]
        )
        account.action_test_connection()
        self.assertEqual(account.connected_since, connected, "the first connection's moment is kept")

    def test_connect_buttons_of_the_empty_list_sign_in_with_the_provider(self):
        self.salesman.email = "sally@example.test"
        for xmlid in ("mail_sync_account_action_connect_gmail", "mail_sync_account_action_connect_microsoft"):
            action = self.env.ref(f"mail_crm_sync.{xmlid}").with_user(self.salesman)
            with self.assertRaisesRegex(UserError, "sign-in is not set up"):
                action.run()
        connect = self.env.ref("mail_crm_sync.mail_sync_account_action_connect")
        self.assertEqual((connect.res_model, connect.view_mode), ("mail.sync.account", "form"))

    def test_a_folder_opens_its_emails(self):
        account, box = self.create_account()
        self.deliver(box, make_email(message_id="<in-inbox@x>", to=box.email))
        self.deliver(box, make_email(message_id="<in-sent@x>", to=box.email), folder="Sent")
        self.sync(account)
        inbox = account.folder_ids.filtered(lambda folder: folder.role == "inbox")
        action = inbox.with_user(self.salesman).action_open_messages()
        found = self.Message.with_user(self.salesman).search(action["domain"])
        self.assertEqual(found.mapped("message_id"), ["<in-inbox@x>"])

    def test_apps_finds_the_addon_by_mail_and_by_email(self):
        Module = self.env["ir.module.module"]
        for word in ("mail", "email"):
            # Apps' default filter (Apps: applications only) and what is typed in its search box.
            found = Module.search([("application", "=", True), ("shortdesc", "ilike", word)])
            self.assertIn("mail_crm_sync", found.mapped("name"), word)
        module = Module.search([("name", "=", "mail_crm_sync")])
        self.assertEqual(module.website, "https://github.com/mail-crm-sync/mail_crm_sync")
        self.assertNotIn("UIDVALIDITY", module.description_html or "")

    def test_window_start_of_from_now_on_is_the_connection_moment(self):
        account, _box = self.create_account(sync_window="now")
        self.assertEqual(account._window_start(), account.connected_since)
        account.sync_window = "14_days"
        today = fields.Date.context_today(account)
        self.assertEqual(account._window_start(), today - timedelta(days=14))

    def test_changing_first_sync_after_the_first_sync_is_explained(self):
        account, _box = self.create_account()
        account.sync_window = "1_month"
        self.assertNotIn(
            "First Sync", account.message_ids[:1].body or "", "before the first sync: nothing to say"
        )
        self.sync(account)
        self.assertTrue(account.last_sync_date)

        account.with_user(self.salesman).sync_window = "6_months"
        self.assertIn("First Sync widened", account.message_ids[0].body)
        account.with_user(self.salesman).sync_window = "14_days"
        self.assertIn("First Sync narrowed", account.message_ids[0].body)
        arch = self.Account.get_view(view_type="form")["arch"]
        warning = etree.fromstring(arch).xpath("//div[@name='sync_window_warning']")
        self.assertTrue(warning)
        self.assertEqual(warning[0].get("invisible"), "not last_sync_date")
        self.assertIn("fetches the older mail in the quiet hours", warning[0].text)


@tagged("post_install", "-at_install")
class TestInboxUi(MailSyncHttpCase):
    """The inbox in Chromium, as a salesman."""

    def test_salesman_connects_a_mailbox_and_works_the_unassigned_mail(self):
        salesman = new_test_user(
            self.env, login="mcs_inbox_salesman", groups="sales_team.group_sale_salesman", name="Ina Inbox"
        )
        colleague = new_test_user(
            self.env,
            login="mcs_inbox_colleague",
            groups="sales_team.group_sale_salesman",
            name="Carl Colleague",
        )
        self.env["res.partner"].create({"name": "Known Buyer", "email": "buyer@client.example"})
        box, colleague_box = self.server.add_user(), self.server.add_user()
        Account = self.env["mail.sync.account"].sudo()
        account = Account.create(self.account_values(box, name="Ina's mailbox", user_id=salesman.id))
        colleague_account = Account.create(
            self.account_values(
                colleague_box, name="Carl's mailbox", user_id=colleague.id, visibility="everyone"
            )
        )
        for subject, sender, mailbox in (
            ("Inbox tour: known buyer", "buyer@client.example", box),
            ("Inbox tour: stranger asks", "stranger@else.example", box),
            ("Inbox tour: colleague's stranger", "other@else.example", colleague_box),
        ):
            self.server.deliver(mailbox, make_email(sender=sender, to=mailbox.email, subject=subject))
        account.action_test_connection()
        colleague_account.action_test_connection()
        (account | colleague_account)._sync_accounts()
        # Arrives after the last sync: Download New Messages brings it.
        self.server.deliver(
            box, make_email(sender="late@else.example", to=box.email, subject="Inbox tour: late stranger")
        )

        with screenshot_at_end("sc_inbox_"):
            self.start_tour("/odoo/crm", "mail_crm_sync_inbox_tour", login=salesman.login)
        self.assertTrue(
            self.env["mail.sync.message"].search([("subject", "=", "Inbox tour: late stranger")]),
            "downloaded from the list",
        )

    def test_salesman_without_an_account_connects_one_from_the_empty_list(self):
        newcomer = new_test_user(
            self.env, login="mcs_inbox_newcomer", groups="sales_team.group_sale_salesman", name="Nina New"
        )
        # Set up by the administrator: then the empty list offers both sign-ins (else only IMAP).
        for kind in ("google", "microsoft"):
            self.env["ir.config_parameter"].sudo().set_param(
                f"mail_crm_sync.{kind}_client_id", f"{kind}-client"
            )
            self.env["ir.config_parameter"].sudo().set_param(f"mail_crm_sync.{kind}_client_secret", "secret")
        with screenshot_at_end("sc_connect_"):
            self.start_tour("/odoo/crm", "mail_crm_sync_connect_tour", login=newcomer.login)
