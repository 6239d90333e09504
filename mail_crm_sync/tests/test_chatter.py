import datetime

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import MailSyncHttpCase, make_email, screenshot_at_end

REQUEST = "<chatter-request@acme-tools.example>"
ANSWER = "<chatter-answer@example.test>"
OLD = "<chatter-old@acme-tools.example>"


@tagged("post_install", "-at_install")
class TestChatter(MailSyncHttpCase):
    """Synced mail in the chatter of contacts, companies and opportunities, as the web client
    asks for it (/mail/thread/messages), and in a real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="mcs_chatter_sally", groups="sales_team.group_sale_salesman", name="Sally Chatter"
        )
        cls.colleague = new_test_user(
            cls.env, login="mcs_chatter_otto", groups="sales_team.group_sale_salesman", name="Otto Chatter"
        )
        Partner = cls.env["res.partner"]
        # A long name: the email's form shows its tags whole, not cut
        cls.company = Partner.create(
            {"name": "Acme Tools International Office Furniture and Seating Supplies", "is_company": True}
        )
        cls.dora = Partner.create(
            {"name": "Dora Buyer", "email": "dora@acme-tools.example", "parent_id": cls.company.id}
        )
        cls.lead = cls.env["crm.lead"].create(
            {"name": "40 chairs for Acme", "partner_id": cls.dora.id, "user_id": cls.salesman.id}
        )
        mailbox = cls.server.add_user()
        cls.mailbox = mailbox
        # A request and Sally's answer (one conversation), and an older, separate email.
        cls.server.deliver(
            mailbox,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=mailbox.email,
                subject="Quote for 40 chairs?",
                body="Could you quote 40 chairs for our new office?",
                message_id=REQUEST,
                date=datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC),
            ),
        )
        cls.server.deliver(
            mailbox,
            make_email(
                sender=f"Sally Chatter <{mailbox.email}>",
                to="Dora Buyer <dora@acme-tools.example>",
                subject="Re: Quote for 40 chairs?",
                body="Here is our quote.\n\nOn Friday Dora wrote:\n> Could you quote 40 chairs?",
                message_id=ANSWER,
                in_reply_to=REQUEST,
                date=datetime.datetime(2026, 11, 21, 9, 0, tzinfo=datetime.UTC),
            ),
            folder="Sent",
        )
        cls.server.deliver(
            mailbox,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=mailbox.email,
                subject="Catalogue",
                body="Please send your catalogue.",
                message_id=OLD,
                date=datetime.datetime(2026, 10, 1, 9, 0, tzinfo=datetime.UTC),
            ),
        )
        # Sally's mailbox, read by her alone: her colleague sees the contact, not her mail.
        cls.account = (
            cls.env["mail.sync.account"]
            .sudo()
            .create(
                cls.account_values(
                    mailbox,
                    name="Sally's mailbox",
                    user_id=cls.salesman.id,
                    visibility="owner",
                    # Reply opens the composer; nothing is sent in these tests
                    sending_enabled=True,
                    smtp_host=cls.server.host,
                    smtp_security="none",
                )
            )
        )
        cls.account.action_test_connection()
        cls.account.folder_ids.filtered(lambda folder: folder.role == "sent").active = True
        cls.account._sync_accounts()
        cls.env["mail.sync.message"]._cron_index_search()  # the job the sync starts after its commit
        cls.emails = cls.env["mail.sync.message"].search([("message_id", "in", [REQUEST, ANSWER, OLD])])

    def chatter(self, user, record, **params):
        self.authenticate(user.login, user.login)
        return self.make_jsonrpc_request(
            "/mail/thread/messages",
            {"thread_model": record._name, "thread_id": record.id, **params},
        )

    @staticmethod
    def shown(result):
        """{conversation key: [Message-IDs of its emails, newest first]} of a chatter answer."""
        emails = {}
        for conversation in result.get("mail_crm_sync", {}).get("conversations", []):
            emails[conversation["key"]] = [email["id"] for email in conversation["emails"]]
        return emails

    def ids(self, *message_ids):
        return [
            self.emails.filtered(lambda email, mid=mid: email.message_id == mid).id for mid in message_ids
        ]

    def test_the_contact_the_company_and_the_opportunity_show_the_mail_grouped_by_conversation(self):
        self.assertEqual(len(self.emails), 3)
        for record in (self.dora, self.company, self.lead):
            with self.subTest(record=record.display_name):
                result = self.chatter(self.salesman, record)
                self.assertEqual(
                    self.shown(result),
                    {REQUEST: self.ids(ANSWER, REQUEST), OLD: self.ids(OLD)},
                )
                conversations = result["mail_crm_sync"]["conversations"]
                # newest conversation first, dated by its latest email (the answer)
                self.assertEqual([c["key"] for c in conversations], [REQUEST, OLD])
                self.assertEqual(conversations[0]["date"], "2026-11-21 09:00:00")
                answer = conversations[0]["emails"][0]
                self.assertEqual(answer["subject"], "Re: Quote for 40 chairs?")
                self.assertEqual(answer["direction"], "outgoing")
                self.assertEqual(answer["correspondent"], "To: Dora Buyer")
                # the words written, without the quoted request
                self.assertEqual(answer["snippet"], "Here is our quote.")

    def test_an_email_written_in_the_crm_shows_in_the_chatter_whether_it_went(self):
        action = self.dora.with_user(self.salesman).action_mail_sync_compose()
        composer = self.env["mail.sync.compose"].with_user(self.salesman).with_context(**action["context"])
        later = datetime.datetime.now().replace(microsecond=0) + datetime.timedelta(hours=1)
        composer.create(
            {
                "account_id": self.account.id,
                "subject": "Price list",
                "body": "<p>Attached.</p>",
                "send_at": later,
            }
        ).action_send()

        result = self.chatter(self.salesman, self.dora)

        emails = {
            email["subject"]: email
            for conversation in result["mail_crm_sync"]["conversations"]
            for email in conversation["emails"]
        }
        self.assertEqual(
            (emails["Price list"]["send_state"], emails["Price list"]["send_state_label"]),
            ("queued", "Queued"),
        )
        self.assertFalse(
            emails["Re: Quote for 40 chairs?"]["send_state"], "mail sent elsewhere has no sending state"
        )

    def test_a_colleague_who_may_not_read_the_mail_sees_none_of_it(self):
        # Otto may open Dora and the company (contacts are shared), not Sally's mailbox.
        for record in (self.dora, self.company):
            result = self.chatter(self.colleague, record)
            self.assertEqual(self.shown(result), {})
        found = self.make_jsonrpc_request(
            "/mail_crm_sync/chatter/search",
            {"thread_model": "res.partner", "thread_id": self.dora.id, "search_term": "chair"},
        )
        self.assertEqual(found, {"emails": [], "count": 0})
        # Shared with everyone, the same mail shows to him too.
        self.account.visibility = "everyone"
        self.assertEqual(len(self.shown(self.chatter(self.colleague, self.dora))), 2)

    def test_nothing_is_copied_into_the_chatter_and_no_follower_is_notified(self):
        self.dora.message_subscribe(partner_ids=self.colleague.partner_id.ids)
        self.lead.message_subscribe(partner_ids=self.colleague.partner_id.ids)
        Message = self.env["mail.message"].sudo()
        records = [
            ("res.partner", self.dora.id),
            ("res.partner", self.company.id),
            ("crm.lead", self.lead.id),
        ]
        self.account._sync_accounts()  # what other tests of the class left on the server
        self.env["mail.sync.message"]._cron_index_search()
        before = {
            key: Message.search_count([("model", "=", key[0]), ("res_id", "=", key[1])]) for key in records
        }
        notified = self.env["mail.notification"].sudo().search_count([])
        conversations = len(self.shown(self.chatter(self.salesman, self.dora)))
        # a new email arriving and being linked posts nothing either
        self.server.deliver(
            self.mailbox,
            make_email(sender="dora@acme-tools.example", to=self.mailbox.email, subject="One more thing"),
        )
        self.account._sync_accounts()
        self.env["mail.sync.message"]._cron_index_search()
        after = {
            key: Message.search_count([("model", "=", key[0]), ("res_id", "=", key[1])]) for key in records
        }
        self.assertEqual(after, before)
        self.assertEqual(self.env["mail.notification"].sudo().search_count([]), notified)
        self.assertEqual(len(self.shown(self.chatter(self.salesman, self.dora))), conversations + 1)

    def test_conversations_come_with_the_page_of_messages_of_their_dates(self):
        # 30 notes (a full page), posted from 5 days ago to now: the first page covers only those
        # days, so the November and October emails come with the next, older page.
        now = fields.Datetime.now()
        for day in range(30):
            note = self.dora.message_post(body=f"Note {day}", message_type="comment")
            note.sudo().date = now - datetime.timedelta(hours=4 * day)
        first = self.chatter(self.salesman, self.dora, limit=30)
        self.assertEqual(len(first["messages"]), 30)
        self.assertEqual(self.shown(first), {})
        older = self.chatter(self.salesman, self.dora, limit=30, before=min(first["messages"]))
        self.assertEqual(set(self.shown(older)), {REQUEST, OLD})

    def test_mail_synced_after_the_chatter_opened_comes_with_its_newer_messages(self):
        # The chatter asks for messages after its newest one; an email synced since, though dated
        # before that message (written yesterday, downloaded now), comes with the answer.
        note = self.dora.message_post(body="Called Dora", message_type="comment")
        shown = self.chatter(self.salesman, self.dora)
        self.server.deliver(
            self.mailbox,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=self.mailbox.email,
                subject="Written yesterday",
                message_id="<yesterday@acme-tools.example>",
                date=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1),
            ),
        )
        self.account._sync_accounts()
        self.env["mail.sync.message"]._cron_index_search()
        newer = self.chatter(self.salesman, self.dora, after=max(shown["messages"]))
        self.assertEqual(max(shown["messages"]), note.id)
        self.assertIn("<yesterday@acme-tools.example>", self.shown(newer))

    def test_the_chatter_search_finds_emails_by_the_start_of_a_word(self):
        self.authenticate(self.salesman.login, self.salesman.login)
        found = self.make_jsonrpc_request(
            "/mail_crm_sync/chatter/search",
            {"thread_model": "res.partner", "thread_id": self.company.id, "search_term": "chair"},
        )
        self.assertEqual(found["count"], 2)
        self.assertEqual(sorted(email["id"] for email in found["emails"]), sorted(self.ids(REQUEST, ANSWER)))

    def test_the_chatter_search_reads_words_waiting_emails_and_parts_of_addresses(self):
        """The chatter asks the search of each of the record's emails (mail_sync_search_each_email):
        it finds what the Emails search finds, an email still waiting for the search-index job by its
        subject and addresses, and then by its words."""
        old = self.emails.filtered(lambda email: email.message_id == OLD)
        # The older email waits for its search document again, as it did after its sync.
        self.env.cr.execute("DELETE FROM mail_sync_message_search WHERE email_id = %s", [old.id])
        self.env.cr.execute("INSERT INTO mail_sync_message_search_pending (email_id) VALUES (%s)", [old.id])
        self.authenticate(self.salesman.login, self.salesman.login)

        def found(record, term):
            result = self.make_jsonrpc_request(
                "/mail_crm_sync/chatter/search",
                {"thread_model": record._name, "thread_id": record.id, "search_term": term},
            )
            self.assertEqual(result["count"], len(result["emails"]))
            return {email["id"] for email in result["emails"]}

        Emails = self.env["mail.sync.message"].with_user(self.salesman)
        for record, term, expected in (
            (self.dora, "acme-too", {REQUEST, ANSWER, OLD}),  # a part of an address
            (self.company, "catalog", {OLD}),  # the subject of a waiting email
            (self.lead, "quote", {REQUEST, ANSWER}),  # words
            (self.dora, "send", set()),  # a word of the waiting email's text: not yet
            (self.dora, "nothing-like-this", set()),
        ):
            with self.subTest(record=record.display_name, term=term):
                self.assertEqual(found(record, term), set(self.ids(*expected)))
                if record == self.dora:  # the same as the Emails list's search
                    listed = Emails.search(
                        [("partner_ids", "in", record.ids), ("search_text", "ilike", term)]
                    )
                    self.assertEqual(set(listed.ids), set(self.ids(*expected)))
        self.env["mail.sync.message"]._cron_index_search()
        self.assertEqual(found(self.dora, "send"), set(self.ids(OLD)))

    def test_salesman_reads_a_contacts_mail_in_its_chatter(self):
        # Arrived on the server, not yet downloaded: the contact's Download New Messages brings it.
        self.account._sync_accounts()  # what other tests of the class left on the server
        self.env["mail.sync.message"]._cron_index_search()
        self.server.deliver(
            self.mailbox,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=self.mailbox.email,
                subject="Delivery date",
                body="When could the chairs be delivered?",
            ),
        )
        url = f"/odoo/res.partner/{self.dora.id}"
        with screenshot_at_end("sc_chatter_"):
            self.start_tour(url, "mail_crm_sync_chatter_tour", login=self.salesman.login)
        # The search-index job the tour's Download New Messages started, as a cron worker runs it
        # once that request committed: the new email's words are searchable from then on.
        self.env["mail.sync.message"]._cron_index_search()
        with screenshot_at_end("sc_chatter_search_"):
            self.start_tour(url, "mail_crm_sync_chatter_search_tour", login=self.salesman.login)
        with screenshot_at_end("sc_chatter_open_"):
            self.start_tour(url, "mail_crm_sync_chatter_open_tour", login=self.salesman.login)
        drafts = self.env["mail.sync.compose"].with_user(self.salesman).search([])
        self.assertFalse(drafts, "a reply closed with nothing written leaves no draft")
