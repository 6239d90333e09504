from odoo.addons.mail_crm_sync.tests.common import MailSyncCase, make_email
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestAliasRule(MailSyncCase):
    """The example rule links emails to a contact by an address kept in a field of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.partner"].create({"name": "Alias Corp", "is_company": True})
        cls.carol = cls.env["res.partner"].create(
            {
                "name": "Carol",
                "email": "carol@alias-corp.example",
                "mail_alias_email": "Carol.Private@Home.example",
                "parent_id": cls.company.id,
            }
        )
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Carol's order", "type": "opportunity", "partner_id": cls.carol.id}
        )

    def test_mail_from_the_other_address_reaches_the_contact_company_and_opportunity(self):
        account, box = self.create_account()
        self.deliver(
            box, make_email(sender="carol.private@home.example", to=box.email, message_id="<al@x.example>")
        )
        self.deliver(box, make_email(sender="nobody@home.example", to=box.email, message_id="<no@x.example>"))
        self.sync(account)

        message = self.messages("<al@x.example>")
        self.assertEqual(message.partner_ids, self.carol)
        self.assertEqual(
            message.lead_ids, self.lead, "the opportunity stage starts from the new rule's contact"
        )
        self.assertEqual(
            {(link.partner_id or link.lead_id, link.reason) for link in message.link_ids},
            {(self.carol, "alias"), (self.lead, "lead_partner")},
        )
        self.assertFalse(self.messages("<no@x.example>").is_assigned)

    def test_the_number_of_statements_stays_fixed(self):
        account, box = self.create_account()
        for index in range(20):
            sender = "carol.private@home.example" if index % 2 else "carol@alias-corp.example"
            self.deliver(box, make_email(sender=sender, to=box.email, message_id=f"<q{index}@x.example>"))
        self.sync(account)
        emails = self.Message.search([("account_ids", "in", account.ids)])
        self.env.cr.execute("DELETE FROM mail_sync_message_link WHERE email_id = ANY(%s)", [emails.ids])
        with self.assertQueryCount(3):  # contacts, opportunities, threads
            self.env["mail.sync.message.link"]._link_emails(emails[:1].ids)
        with self.assertQueryCount(3):
            self.env["mail.sync.message.link"]._link_emails(emails.ids)
        self.env.invalidate_all()
        self.assertEqual(set(emails.mapped("partner_ids")), {self.carol, self.company})
        reasons = emails.link_ids.filtered(lambda link: link.partner_id == self.carol).mapped("reason")
        self.assertEqual(sorted(set(reasons)), ["address", "alias"])

    def test_a_header_of_its_own_is_stored_with_each_email(self):
        account, box = self.create_account()
        urgent = make_email(
            sender="carol@alias-corp.example",
            to=box.email,
            message_id="<urgent@x.example>",
            headers={"X-Priority": "1 (Highest)"},
        )
        self.deliver(box, urgent)
        self.deliver(
            box, make_email(sender="carol@alias-corp.example", to=box.email, message_id="<calm@x.example>")
        )
        self.sync(account)
        self.assertEqual(self.messages("<urgent@x.example>").mail_priority, "1 (Highest)")
        self.assertFalse(self.messages("<calm@x.example>").mail_priority)
