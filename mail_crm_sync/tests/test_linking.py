import datetime
from unittest.mock import patch

import pytz
from odoo import fields
from odoo.tests import Form, tagged

from ..models import mail_sync_message_link as link_model
from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestLinking(MailSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.company = Partner.create(
            {"name": "Client Corp", "is_company": True, "email": "info@client.example"}
        )
        cls.alice = Partner.create(
            {"name": "Alice", "email": "Alice@Client.example", "parent_id": cls.company.id}
        )
        cls.stranger = Partner.create({"name": "Stranger", "email": "stranger@elsewhere.example"})
        Lead = cls.env["crm.lead"]
        cls.open_lead = Lead.create(
            {
                "name": "Big deal",
                "partner_id": cls.alice.id,
                "type": "opportunity",
                "user_id": cls.salesman.id,
            }
        )
        cls.lost_lead = Lead.create({"name": "Lost deal", "partner_id": cls.alice.id, "type": "opportunity"})
        cls.lost_lead.action_set_lost()
        won_stage = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        cls.won_lead = Lead.create(
            {"name": "Won deal", "partner_id": cls.alice.id, "type": "opportunity", "stage_id": won_stage.id}
        )
        cls.email_lead = Lead.create({"name": "Web form", "email_from": "bob@prospect.example"})

    def test_a_reply_from_an_unknown_address_follows_its_thread(self):
        account, box = self.create_account()
        self.deliver(
            box, make_email(sender="Alice <alice@client.example>", to=box.email, message_id="<t1@x.example>")
        )
        self.sync(account)
        # Alice's colleague, whom the CRM does not know, answers from her own address; then a
        # forward of that answer, naming only the thread's first email and the answer.
        self.deliver(
            box,
            make_email(
                sender="carol@other-client.example",
                to=box.email,
                message_id="<t2@x.example>",
                in_reply_to="<t1@x.example>",
            ),
        )
        self.deliver(
            box,
            make_email(
                sender="dave@third.example",
                to=box.email,
                message_id="<t3@x.example>",
                in_reply_to="<t2@x.example>",
                references=["<t1@x.example>"],
            ),
        )
        self.deliver(box, make_email(sender="eve@nowhere.example", message_id="<t4@x.example>"))
        self.sync(account)

        first, reply, forward, unrelated = (self.messages(f"<t{n}@x.example>") for n in range(1, 5))
        for message in (reply, forward):
            self.assertEqual(message.lead_ids, self.open_lead)
            self.assertEqual(message.partner_ids, self.alice | self.company)
            self.assertEqual(set(message.link_ids.mapped("reason")), {"thread"})
        self.assertFalse(unrelated.is_assigned)
        self.assertEqual(first.thread_message_ids, first | reply | forward)
        self.assertEqual(
            forward.thread_message_ids.mapped("message_id"),
            ["<t1@x.example>", "<t2@x.example>", "<t3@x.example>"],
        )
        self.assertEqual(unrelated.thread_message_ids, unrelated)

    def test_a_link_rule_can_be_switched_off(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "mail_crm_sync.link_rules_off", "company, lead_email"
        )
        account, box = self.create_account()
        self.deliver(
            box,
            make_email(
                sender="alice@client.example", cc="bob@prospect.example", message_id="<off@x.example>"
            ),
        )
        self.sync(account)
        message = self.messages("<off@x.example>")
        self.assertEqual(message.partner_ids, self.alice, "not her company")
        self.assertEqual(message.lead_ids, self.open_lead, "not the web form lead found by its email")

    def test_an_unknown_senders_request_becomes_a_contact_and_an_opportunity(self):
        account, box = self.create_account()
        self.deliver(
            box,
            make_email(
                sender="Dora Buyer <dora@acme-tools.example>",
                to=box.email,
                subject="Quote for 40 chairs?",
                body="Could you quote 40 chairs?",
                message_id="<q1@acme.example>",
            ),
        )
        self.deliver(
            box,
            make_email(
                sender="frank@elsewhere.example",
                to=box.email,
                message_id="<q2@x.example>",
                in_reply_to="<q1@acme.example>",
            ),
        )
        self.sync(account)
        request, reply = self.messages("<q1@acme.example>"), self.messages("<q2@x.example>")
        self.assertFalse(request.is_assigned or reply.is_assigned)

        action = request.with_user(self.salesman).action_create_contact()
        contact = Form(self.env["res.partner"].with_user(self.salesman).with_context(**action["context"]))
        self.assertEqual(
            (contact.name, contact.email, contact.company_name),
            ("Dora Buyer", "dora@acme-tools.example", "Acme Tools"),
        )
        dora = contact.save()
        self.env.invalidate_all()
        self.assertEqual(request.partner_ids, dora)
        self.assertEqual(reply.partner_ids, dora, "the conversation follows at once")

        action = request.with_user(self.salesman).action_create_opportunity()
        lead = Form(self.env["crm.lead"].with_user(self.salesman).with_context(**action["context"]))
        self.assertEqual((lead.name, lead.partner_id), ("Quote for 40 chairs?", dora))
        lead = lead.save()
        self.env.invalidate_all()
        self.assertEqual(request.lead_ids, lead)
        self.assertEqual(reply.lead_ids, lead)

    def test_no_company_is_guessed_from_free_mail(self):
        from ..models.mail_sync_message import _company_from_domain

        self.assertFalse(_company_from_domain("dora@gmail.com"))
        self.assertEqual(_company_from_domain("dora@mail.acme-tools.example"), "Acme Tools")
        self.assertEqual(_company_from_domain("dora@acme.co.uk"), "Acme")

    def test_mail_links_to_person_company_and_open_lead_only(self):
        account, box = self.create_account()
        self.deliver(
            box, make_email(sender="Alice <alice@client.example>", to=box.email, message_id="<a@x.example>")
        )
        self.sync(account)
        message = self.messages("<a@x.example>")
        self.assertEqual(message.partner_ids, self.alice | self.company)
        self.assertEqual(message.lead_ids, self.open_lead, "not the lost one, not the won one")
        self.assertTrue(message.is_assigned)
        reasons = {(link.partner_id or link.lead_id, link.reason, link.email) for link in message.link_ids}
        self.assertEqual(
            reasons,
            {
                (self.alice, "address", "alice@client.example"),
                (self.company, "company", "alice@client.example"),
                (self.open_lead, "lead_partner", "alice@client.example"),
            },
        )
        self.assertEqual(self.alice.mail_sync_message_ids, message)
        self.assertEqual(self.company.mail_sync_message_count, 1, "a company shows its people's mail")
        self.assertEqual(self.open_lead.mail_sync_message_ids, message)
        self.assertFalse(self.lost_lead.mail_sync_message_ids)

    def test_company_lead_link_names_the_address_on_the_email(self):
        company_lead = self.env["crm.lead"].create(
            {"name": "Company deal", "partner_id": self.company.id, "type": "opportunity"}
        )
        account, box = self.create_account()
        self.deliver(
            box, make_email(sender="alice@client.example", to=box.email, message_id="<cl@x.example>")
        )
        self.sync(account)
        link = self.messages("<cl@x.example>").link_ids.filtered(lambda link: link.lead_id == company_lead)
        self.assertEqual((link.reason, link.email), ("lead_partner", "alice@client.example"))

    def test_email_without_subject_has_a_readable_name(self):
        account, box = self.create_account()
        self.deliver(box, make_email(subject="", to=box.email, message_id="<ns@x.example>"))
        self.sync(account)
        self.assertEqual(self.messages("<ns@x.example>").display_name, "(no subject)")

    def test_lead_matched_by_its_email(self):
        account, box = self.create_account()
        self.deliver(box, make_email(sender="bob@prospect.example", to=box.email, message_id="<b@x.example>"))
        self.sync(account)
        message = self.messages("<b@x.example>")
        self.assertEqual(message.lead_ids, self.email_lead)
        self.assertEqual(message.link_ids.reason, "lead_email")

    def test_linking_costs_the_same_queries_for_one_or_many_messages(self):
        account, box = self.create_account()
        for index in range(30):
            cc = "stranger@elsewhere.example" if index % 2 else None
            self.deliver(
                box, make_email(sender="alice@client.example", cc=cc, message_id=f"<q{index}@x.example>")
            )
        self.sync(account)
        many = self.Message.search([("account_ids", "in", account.ids)])
        self.assertEqual(len(many), 30)
        self.env.cr.execute("DELETE FROM mail_sync_message_link WHERE email_id = ANY(%s)", [many.ids])
        # People and companies; leads; replies in a thread.
        with self.assertQueryCount(3):
            self.Message._link_messages(many[:1].ids)
        with self.assertQueryCount(3):
            self.Message._link_messages(many.ids)
        self.assertEqual(len(self.Message.search([("partner_ids", "in", self.stranger.ids)])), 15)

    def test_unassigned_mail_is_linked_when_the_contact_is_created(self):
        account, box = self.create_account()
        self.deliver(box, make_email(sender="carol@newco.example", to=box.email, message_id="<c@x.example>"))
        self.sync(account)
        message = self.messages("<c@x.example>")
        self.assertFalse(message.is_assigned)
        self.assertIn(message, self.Message.search([("is_assigned", "=", False)]))
        carol = (
            self.env["res.partner"]
            .with_user(self.salesman)
            .create({"name": "Carol", "email": "carol@newco.example"})
        )
        self.assertEqual(message.partner_ids, carol)
        self.assertTrue(message.is_assigned)

    def test_mail_is_linked_when_a_contact_email_changes(self):
        account, box = self.create_account()
        self.deliver(box, make_email(sender="dave@newco.example", to=box.email, message_id="<d@x.example>"))
        self.sync(account)
        self.stranger.email = "dave@newco.example"
        self.assertEqual(self.messages("<d@x.example>").partner_ids, self.stranger)

    def test_lead_created_for_an_address_links_its_mail(self):
        account, box = self.create_account()
        self.deliver(
            box, make_email(sender="erin@prospect.example", to=box.email, message_id="<e@x.example>")
        )
        self.sync(account)
        lead = self.env["crm.lead"].create({"name": "Erin's interest", "email_from": "erin@prospect.example"})
        self.assertEqual(self.messages("<e@x.example>").lead_ids, lead)

    def test_nightly_relink_links_unassigned_mail(self):
        frank = self.env["res.partner"].create(
            {"name": "Frank", "email": "frank@later.example", "active": False}
        )
        account, box = self.create_account()
        self.deliver(box, make_email(sender="frank@later.example", to=box.email, message_id="<f@x.example>"))
        self.sync(account)
        message = self.messages("<f@x.example>")
        self.assertFalse(message.is_assigned, "archived contacts are not linked")
        frank.action_unarchive()
        self.env.ref("mail_crm_sync.ir_cron_mail_relink").method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(message.partner_ids, frank)

    def test_nightly_relink_reads_every_waiting_email_once_and_says_how_many_are_left(self):
        account, box = self.create_account()
        for number in range(5):
            self.deliver(
                box, make_email(sender=f"p{number}@later.example", message_id=f"<p{number}@x.example>")
            )
        self.sync(account)
        Cron = type(self.env["ir.cron"])
        reported = []

        def relink():
            with patch.object(Cron, "_notify_progress", notify):
                self.Message._cron_relink(chunk_size=2)

        def notify(cron, *, done, remaining, deactivate=False):
            reported.append((done, remaining))

        relink()
        # Contacts created during the night's pass, and mail synced meanwhile.
        self.env["res.partner"].create(
            [{"name": f"P{number}", "email": f"p{number}@later.example"} for number in (0, 3, 5, 6)]
        )
        for number in (5, 6, 7):
            self.deliver(
                box, make_email(sender=f"p{number}@later.example", message_id=f"<p{number}@x.example>")
            )
        self.sync(account)
        while reported[-1][1]:
            relink()
            self.assertLess(len(reported), 10, "the pass ends")
        self.assertEqual(reported[0], (2, 3))
        # p0 and p1, then what still waits: p2, p4 and p7 (p3's contact linked it, p5 and p6 came linked).
        self.assertEqual(sum(done for done, _left in reported), 5, "every waiting email once")
        self.assertEqual(reported[-1][1], 0)
        self.env.invalidate_all()
        self.assertEqual(
            set(
                self.messages(*(f"<p{n}@x.example>" for n in range(8)))
                .filtered("partner_ids")
                .mapped("message_id")
            ),
            {"<p0@x.example>", "<p3@x.example>", "<p5@x.example>", "<p6@x.example>"},
        )
        self.assertEqual(self.env["ir.config_parameter"].get_param("mail_crm_sync.relink_after_id"), "0")

    def test_a_big_batch_is_linked_as_a_small_one(self):
        """From ADDRESS_TABLE_FROM emails at once (the nightly relink's chunks), the addresses are
        split out once for all stages: the same links, for the same reasons."""
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("mail_crm_sync.link_rules_off", "address,company,lead_partner,lead_email,thread")
        account, box = self.create_account()
        self.deliver(box, make_email(sender="Alice <alice@client.example>", message_id="<b1@x.example>"))
        self.deliver(box, make_email(sender="bob@prospect.example", message_id="<b2@x.example>"))
        self.deliver(
            box,
            make_email(
                sender="carol@other.example", message_id="<b3@x.example>", in_reply_to="<b1@x.example>"
            ),
        )
        self.deliver(box, make_email(sender="nobody@void.example", message_id="<b4@x.example>"))
        self.sync(account)
        self.assertFalse(self.messages("<b1@x.example>").link_ids, "nothing linked at the sync")
        Param.set_param("mail_crm_sync.link_rules_off", "")
        with patch.object(link_model, "ADDRESS_TABLE_FROM", 2):
            self.Message._cron_relink()
        self.env.invalidate_all()
        links = {
            (link.email_id.message_id, (link.partner_id or link.lead_id).display_name, link.reason)
            for link in self.messages(
                "<b1@x.example>", "<b2@x.example>", "<b3@x.example>", "<b4@x.example>"
            ).link_ids
        }
        self.assertEqual(
            links,
            {
                ("<b1@x.example>", self.alice.display_name, "address"),
                ("<b1@x.example>", self.company.display_name, "company"),
                ("<b1@x.example>", self.open_lead.display_name, "lead_partner"),
                ("<b2@x.example>", self.email_lead.display_name, "lead_email"),
                ("<b3@x.example>", self.alice.display_name, "thread"),
                ("<b3@x.example>", self.company.display_name, "thread"),
                ("<b3@x.example>", self.open_lead.display_name, "thread"),
            },
        )

    def test_nightly_relink_runs_at_the_hour_set_in_settings_in_local_time(self):
        self.env.user.tz = "Europe/Brussels"
        settings = self.env["res.config.settings"].create({"mail_sync_relink_hour": 3})
        settings.execute()
        nextcall = self.env.ref("mail_crm_sync.ir_cron_mail_relink").nextcall
        local = pytz.utc.localize(nextcall).astimezone(pytz.timezone("Europe/Brussels"))
        self.assertEqual((local.hour, local.minute), (3, 0))
        self.assertLessEqual(nextcall - fields.Datetime.now(), datetime.timedelta(days=1))

    def test_unlink_by_hand_survives_relinking(self):
        account, box = self.create_account()
        self.deliver(box, make_email(sender="alice@client.example", to=box.email, message_id="<g@x.example>"))
        self.sync(account)
        message = self.messages("<g@x.example>").with_user(self.salesman)
        message.link_ids.filtered(lambda link: link.partner_id == self.company).action_unlink()
        self.Message._cron_relink()
        message.action_relink()
        self.env.invalidate_all()
        self.assertEqual(message.partner_ids, self.alice)

    def test_link_by_hand(self):
        account, box = self.create_account()
        self.deliver(box, make_email(sender="nobody@void.example", to=box.email, message_id="<h@x.example>"))
        self.sync(account)
        message = self.messages("<h@x.example>").with_user(self.salesman)
        self.assertFalse(message.is_assigned)
        self.env["mail.sync.link.wizard"].with_user(self.salesman).create(
            {"email_id": message.id, "lead_id": self.open_lead.id}
        ).action_link()
        self.assertEqual(message.lead_ids, self.open_lead)
        self.assertEqual(message.link_ids.reason, "manual")
        self.assertTrue(message.is_assigned)

    def test_contacts_created_for_unknown_senders_except_blocked(self):
        self.env["ir.config_parameter"].set_param(
            "mail_crm_sync.contact_block_list", "noreply, blocked.example"
        )
        account, box = self.create_account(create_contacts=True)
        self.deliver(box, make_email(sender="Gina Green <gina@fresh.example>", to=box.email))
        self.deliver(box, make_email(sender="noreply@shop.example", to=box.email))
        self.deliver(box, make_email(sender="spam@blocked.example", to=box.email))
        self.deliver(box, make_email(sender=box.email, to="hank@outbound.example"), "Sent")
        self.sync(account)
        Partner = self.env["res.partner"]
        gina = Partner.search([("email_normalized", "=", "gina@fresh.example")])
        self.assertEqual(gina.name, "Gina Green")
        self.assertEqual(len(gina.mail_sync_message_ids), 1)
        self.assertFalse(Partner.search([("email_normalized", "=", "noreply@shop.example")]))
        self.assertFalse(Partner.search([("email_normalized", "=", "spam@blocked.example")]))
        self.assertFalse(Partner.search([("email_normalized", "=", "hank@outbound.example")]), "senders only")

    def test_no_contacts_created_by_default(self):
        account, box = self.create_account()
        self.deliver(box, make_email(sender="ivan@fresh.example", to=box.email))
        self.sync(account)
        self.assertFalse(self.env["res.partner"].search([("email_normalized", "=", "ivan@fresh.example")]))
