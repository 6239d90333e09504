from odoo.tests import new_test_user, tagged

from .common import MailSyncHttpCase, make_email

# The owner's mailbox, visible to its owner only, holds five emails from the customer; the first two
# are also in a colleague's mailbox shared with everyone: anyone else in Sales reads those two.
OWNER_ONLY = [f"<count-{number}@counts.example>" for number in range(1, 6)]
SHARED = OWNER_ONLY[:2]


@tagged("post_install", "-at_install")
class TestVisibleCounts(MailSyncHttpCase):
    """Every count the web client shows equals the list it opens, for the user who reads it: read
    over JSON-RPC as the web client reads it, then the list opened as the web client opens it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        salesman = "sales_team.group_sale_salesman"
        cls.owner = new_test_user(cls.env, login="mcs_counts_owner", groups=salesman)
        cls.colleague = new_test_user(cls.env, login="mcs_counts_colleague", groups=salesman)
        cls.salesman = new_test_user(cls.env, login="mcs_counts_salesman", groups=salesman)
        cls.manager = new_test_user(
            cls.env, login="mcs_counts_manager", groups="sales_team.group_sale_manager"
        )
        cls.company = cls.env["res.partner"].create({"name": "Client Co", "is_company": True})
        cls.partner = cls.env["res.partner"].create(
            {"name": "Pat Customer", "email": "pat@client.example", "parent_id": cls.company.id}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Pat's deal",
                "type": "opportunity",
                "partner_id": cls.partner.id,
                "user_id": cls.salesman.id,
            }
        )
        Account = cls.env["mail.sync.account"].sudo()
        cls.owner_box, cls.shared_box = cls.server.add_user(), cls.server.add_user()
        cls.private = Account.create(
            cls.account_values(cls.owner_box, name="Owner only", user_id=cls.owner.id, visibility="owner")
        )
        cls.shared = Account.create(
            cls.account_values(
                cls.shared_box, name="Everyone", user_id=cls.colleague.id, visibility="everyone"
            )
        )
        cls.raws, cls.paths = {}, {}
        for message_id in OWNER_ONLY:
            raw = make_email(
                sender="Pat Customer <pat@client.example>",
                to=cls.owner_box.email,
                subject=f"Order {message_id}",
                message_id=message_id,
            )
            cls.raws[message_id] = raw
            cls.paths[message_id] = cls.server.deliver(cls.owner_box, raw)
            if message_id in SHARED:
                cls.server.deliver(cls.shared_box, raw)  # the same email, in the colleague's mailbox
        for account in (cls.private, cls.shared):
            account.action_test_connection()
            account._sync_accounts()
        cls.env.invalidate_all()
        cls.inbox = cls.private.folder_ids.filtered(lambda folder: folder.role == "inbox")

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw", {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        )

    def opened(self, model, record_id, method):
        """How many emails the list opened by a button holds, as the web client opens it: the button's
        action, then the list's first page with its length."""
        action = self.make_jsonrpc_request(
            "/web/dataset/call_button",
            {"model": model, "method": method, "args": [[record_id]], "kwargs": {}},
        )
        page = self.call(
            "mail.sync.message",
            "web_search_read",
            domain=action["domain"],
            specification={"subject": {}},
            limit=80,
            count_limit=10001,
            context=action.get("context") or {},
        )
        return page["length"]

    def login(self, user):
        self.authenticate(user.login, user.login)

    # -- folders and accounts ------------------------------------------------------------------

    def folder_counts(self, account):
        """The Folders list (Mail Folders menu) of one account: {folder id: count shown}."""
        rows = self.call(
            "mail.sync.folder",
            "web_search_read",
            domain=[("account_id", "=", account.id)],
            specification={"message_count": {}},
        )["records"]
        return {row["id"]: row["message_count"] for row in rows}

    def test_a_managers_folder_counts_are_the_emails_the_folder_opens_on(self):
        self.login(self.manager)
        counts = self.folder_counts(self.private)
        self.assertEqual(counts[self.inbox.id], 2, "the two emails also in a mailbox shared with everyone")
        self.assertEqual(self.opened("mail.sync.folder", self.inbox.id, "action_open_messages"), 2)
        for folder_id, count in counts.items():
            with self.subTest(folder=folder_id):
                self.assertEqual(count, self.opened("mail.sync.folder", folder_id, "action_open_messages"))

    def test_an_account_form_counts_what_its_reader_may_open(self):
        self.login(self.manager)
        form = self.call(
            "mail.sync.account",
            "web_read",
            [self.private.id],
            specification={
                "message_count": {},
                "assigned_count": {},
                "folder_ids": {"fields": {"message_count": {}}},
            },
        )[0]
        self.assertEqual((form["message_count"], form["assigned_count"]), (2, 2))
        self.assertEqual(self.opened("mail.sync.account", self.private.id, "action_open_messages"), 2)
        inbox = next(row for row in form["folder_ids"] if row["id"] == self.inbox.id)
        self.assertEqual(inbox["message_count"], 2)
        listed = self.call(
            "mail.sync.account", "web_search_read", domain=[], specification={"message_count": {}}
        )
        self.assertEqual(
            {row["id"]: row["message_count"] for row in listed["records"]},
            {self.private.id: 2, self.shared.id: 2},
        )

    def test_the_owner_counts_each_email_of_the_folder_once_and_not_those_gone(self):
        # The same email twice in the folder (a second delivery: a second UID) is one email of the list;
        # an email deleted on the server is no longer in the folder.
        # (The mailbox changes stay for the tests after this one: none of them syncs again.)
        self.server.deliver(self.owner_box, self.raws[OWNER_ONLY[4]])
        self.paths[OWNER_ONLY[3]].unlink()
        self.private._sync_accounts()
        self.env.invalidate_all()
        self.login(self.owner)
        counts = self.folder_counts(self.private)
        self.assertEqual(counts[self.inbox.id], 4, "five emails, one gone from the folder")
        self.assertEqual(self.opened("mail.sync.folder", self.inbox.id, "action_open_messages"), 4)
        form = self.call(
            "mail.sync.account", "web_read", [self.private.id], specification={"message_count": {}}
        )
        self.assertEqual(form[0]["message_count"], 5, "the account keeps the email gone from the server")

    # -- contacts, opportunities, chatter ------------------------------------------------------

    def test_contact_company_and_opportunity_buttons_count_what_they_open(self):
        for user in (self.manager, self.salesman, self.owner):
            expected = 5 if user == self.owner else 2
            for model, record, method in (
                ("res.partner", self.partner, "action_view_mail_sync_messages"),
                ("res.partner", self.company, "action_view_mail_sync_messages"),
                ("crm.lead", self.lead, "action_view_mail_sync_messages"),
            ):
                if user == self.owner and model == "crm.lead":
                    continue  # the salesman's opportunity: the owner may not open it
                with self.subTest(user=user.login, record=record.display_name):
                    self.login(user)
                    shown = self.call(
                        model, "web_read", [record.id], specification={"mail_sync_message_count": {}}
                    )[0]["mail_sync_message_count"]
                    self.assertEqual(shown, expected)
                    self.assertEqual(self.opened(model, record.id, method), expected)

    def test_counts_read_in_one_transaction_are_each_readers_own(self):
        # Server code reading a count as one user, then as another (a report, a notification) in the
        # same transaction: the second reader does not get the first one's figure from the cache.
        counts = [
            (self.inbox, "message_count"),
            (self.private, "message_count"),
            (self.partner, "mail_sync_message_count"),
            (self.company, "mail_sync_message_count"),
            (self.lead, "mail_sync_message_count"),
        ]
        for user, expected in ((self.env.user, 5), (self.manager, 2), (self.owner, 5)):
            for record, field in counts:
                if user == self.owner and record == self.lead:
                    continue  # the salesman's opportunity: the owner may not open it
                with self.subTest(user=user.login, record=record.display_name):
                    self.assertEqual(record.with_user(user)[field], expected)

    def test_chatter_shows_and_finds_what_the_user_may_read(self):
        for user in (self.manager, self.salesman):
            for model, record in (("res.partner", self.partner), ("crm.lead", self.lead)):
                with self.subTest(user=user.login, record=record.display_name):
                    self.login(user)
                    timeline = self.make_jsonrpc_request(
                        "/mail/thread/messages", {"thread_model": model, "thread_id": record.id, "limit": 30}
                    )["mail_crm_sync"]
                    shown = sum(conversation["count"] for conversation in timeline["conversations"])
                    self.assertEqual((shown, timeline["more"]), (2, 0))
                    found = self.make_jsonrpc_request(
                        "/mail_crm_sync/chatter/search",
                        {"thread_model": model, "thread_id": record.id, "search_term": "Order"},
                    )
                    # "2 emails found", and the two cards below it
                    self.assertEqual((found["count"], len(found["emails"])), (2, 2))

    def test_a_managers_view_of_an_owner_only_folder_shows_no_figure_of_the_mailbox(self):
        self.inbox.sudo()._check_completeness()
        figures = ["server_count", "crm_count", "window_count", "missing_count", "failed_count"]
        self.login(self.manager)
        (seen,) = self.call("mail.sync.folder", "read", self.inbox.ids, figures)
        self.assertEqual({name: seen[name] for name in figures}, dict.fromkeys(figures, False))
        self.login(self.owner)
        (own,) = self.call("mail.sync.folder", "read", self.inbox.ids, figures)
        self.assertEqual((own["server_count"], own["crm_count"]), (5, 5), "the owner reads them")
