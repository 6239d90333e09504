from odoo.tests import tagged

from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestDomainLinking(MailSyncCase):
    """Settings: Link Unknown People to Their Company by Mail Domain."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.acme = Partner.create(
            {"name": "Acme Tools", "is_company": True, "website": "www.acme-tools.example"}
        )
        cls.dora = Partner.create(
            {"name": "Dora", "email": "dora@acme-tools.example", "parent_id": cls.acme.id}
        )
        cls.solo = Partner.create({"name": "Solo Corp", "is_company": True, "email": "info@solo.example"})
        Partner.create({"name": "Sam", "email": "sam@solo.example", "parent_id": cls.solo.id})
        cls.split = Partner.create({"name": "Split Corp", "is_company": True})
        Partner.create({"name": "Una", "email": "una@split-one.example", "parent_id": cls.split.id})
        Partner.create({"name": "Dos", "email": "dos@split-two.example", "parent_id": cls.split.id})
        cls.gmail_fans = Partner.create(
            {
                "name": "Gmail Fans",
                "is_company": True,
                "website": "https://gmail.com",
                "email": "fans@gmail.com",
            }
        )
        Partner.create({"name": "Fan", "email": "fan@gmail.com", "parent_id": cls.gmail_fans.id})
        cls.throwaway = Partner.create({"name": "Throwaway Ltd", "is_company": True})
        Partner.create({"name": "Temp", "email": "temp@mailinator.com", "parent_id": cls.throwaway.id})
        cls.env.company.write(
            {"website": "https://www.our-company.example", "email": "info@our-company.example"}
        )
        cls.reseller = Partner.create(
            {"name": "Our Reseller", "is_company": True, "email": "sales@our-company.example"}
        )
        cls.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.link_by_domain", "True")

    def deliver_and_sync(self, *emails):
        """Deliver (sender, cc, message_id) emails to a fresh mailbox and sync it."""
        account, box = self.create_account()
        for sender, cc, message_id in emails:
            self.deliver(box, make_email(sender=sender, to=box.email, cc=cc, message_id=message_id))
        self.sync(account)
        return account, box

    def test_an_unknown_colleague_is_linked_to_the_company_of_the_website(self):
        self.deliver_and_sync(
            ("New Guy <newguy@acme-tools.example>", None, "<d1@x.example>"),
            ("dora@acme-tools.example", "newguy@acme-tools.example", "<d2@x.example>"),
        )
        alone, with_dora = self.messages("<d1@x.example>"), self.messages("<d2@x.example>")
        self.assertEqual(alone.partner_ids, self.acme)
        self.assertEqual(
            [(link.partner_id, link.reason, link.email) for link in alone.link_ids],
            [(self.acme, "domain", "newguy@acme-tools.example")],
        )
        reasons = dict(self.env["mail.sync.message.link"].fields_get(["reason"])["reason"]["selection"])
        self.assertEqual(reasons["domain"], "Same mail domain as the company")
        self.assertEqual(with_dora.partner_ids, self.dora | self.acme)
        self.assertEqual(
            {(link.partner_id, link.reason) for link in with_dora.link_ids},
            {(self.dora, "address"), (self.acme, "company")},
            "a known colleague's company link keeps its own reason",
        )
        self.assertIn(alone, self.acme.mail_sync_message_ids)

    def test_a_company_without_website_is_found_by_its_contacts_single_domain(self):
        self.deliver_and_sync(("zoe@solo.example", None, "<s1@x.example>"))
        message = self.messages("<s1@x.example>")
        self.assertEqual(message.partner_ids, self.solo)
        self.assertEqual(message.link_ids.reason, "domain")

    def test_a_company_whose_contacts_use_two_domains_gets_nothing(self):
        self.deliver_and_sync(
            ("tres@split-one.example", None, "<sp1@x.example>"),
            ("cuatro@split-two.example", None, "<sp2@x.example>"),
        )
        self.assertFalse(self.messages("<sp1@x.example>", "<sp2@x.example>").link_ids)

    def test_free_mail_is_never_linked_by_domain(self):
        # Gmail Fans has a gmail.com website and only gmail.com addresses: still nothing.
        self.deliver_and_sync(("stranger@gmail.com", None, "<g1@x.example>"))
        message = self.messages("<g1@x.example>")
        self.assertFalse(message.is_assigned)
        self.assertNotIn(message, self.gmail_fans.mail_sync_message_ids)

    def test_disposable_and_excluded_domains_are_never_linked(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "mail_crm_sync.domain_link_excluded", "Portal.example, isp.example"
        )
        self.env["res.partner"].create(
            {"name": "Portal Inc", "is_company": True, "website": "portal.example"}
        )
        self.deliver_and_sync(
            ("someone@mailinator.com", None, "<t1@x.example>"),
            ("visitor@portal.example", None, "<t2@x.example>"),
        )
        self.assertFalse(self.messages("<t1@x.example>").is_assigned, "disposable domain")
        self.assertFalse(self.messages("<t2@x.example>").is_assigned, "a domain the Settings add")

    def test_own_company_domain_is_never_linked(self):
        self.deliver_and_sync(("colleague@our-company.example", None, "<o1@x.example>"))
        message = self.messages("<o1@x.example>")
        self.assertFalse(message.is_assigned, "neither our company's partner nor a customer at our domain")

    def test_a_mail_accounts_domain_is_never_linked(self):
        self.env["res.partner"].create(
            {"name": "Mailbox Host", "is_company": True, "website": "example.test"}
        )
        _account, box = self.deliver_and_sync(("boss@example.test", None, "<m1@x.example>"))
        self.assertTrue(box.email.endswith("@example.test"))
        self.assertFalse(self.messages("<m1@x.example>").is_assigned)

    def test_setting_off_links_nothing_by_domain(self):
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.link_by_domain", False)
        self.deliver_and_sync(("newguy@acme-tools.example", None, "<f1@x.example>"))
        self.assertFalse(self.messages("<f1@x.example>").is_assigned)

    def test_the_rule_is_switched_off_like_the_others(self):
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.link_rules_off", "domain")
        self.deliver_and_sync(("newguy@acme-tools.example", None, "<r1@x.example>"))
        self.assertFalse(self.messages("<r1@x.example>").is_assigned)

    def test_the_setting_is_in_settings(self):
        settings = self.env["res.config.settings"].create(
            {"mail_sync_link_by_domain": False, "mail_sync_domain_link_excluded": "isp.example"}
        )
        settings.execute()
        Settings = self.env["res.config.settings"]
        self.assertFalse(Settings._mail_sync_link_by_domain())
        self.assertEqual(Settings._mail_sync_domain_link_excluded(), ["isp.example"])
        self.env["res.config.settings"].create({"mail_sync_link_by_domain": True}).execute()
        self.assertTrue(Settings._mail_sync_link_by_domain())

    def test_nightly_relink_links_waiting_mail_once_the_company_has_its_website(self):
        later = self.env["res.partner"].create({"name": "Later Corp", "is_company": True})
        self.deliver_and_sync(("pat@later-corp.example", None, "<n1@x.example>"))
        message = self.messages("<n1@x.example>")
        self.assertFalse(message.is_assigned)
        later.website = "https://later-corp.example/en"
        self.env.ref("mail_crm_sync.ir_cron_mail_relink").method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(message.partner_ids, later)
        self.assertEqual(message.link_ids.reason, "domain")

    def test_a_first_contact_links_its_mail_and_the_nightly_relink_its_colleagues(self):
        firstco = self.env["res.partner"].create({"name": "Firstco", "is_company": True})
        self.deliver_and_sync(
            ("ann@firstco.example", "bob@firstco.example", "<c1@x.example>"),
            ("cid@firstco.example", None, "<c2@x.example>"),
        )
        first, other = self.messages("<c1@x.example>"), self.messages("<c2@x.example>")
        self.assertFalse(first.is_assigned or other.is_assigned, "Firstco has no domain yet")
        ann = self.env["res.partner"].create(
            {"name": "Ann", "email": "ann@firstco.example", "parent_id": firstco.id}
        )
        self.assertEqual(first.partner_ids, ann | firstco)
        self.assertFalse(other.is_assigned, "an email naming no new contact waits for the night")
        self.env.ref("mail_crm_sync.ir_cron_mail_relink").method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(other.partner_ids, firstco)
        self.assertEqual(other.link_ids.reason, "domain")

    def test_linking_by_domain_costs_the_same_queries_for_one_or_many_messages(self):
        account, box = self.create_account()
        for index in range(20):
            sender = ("newguy@acme-tools.example", "zoe@solo.example", "x@gmail.com")[index % 3]
            self.deliver(box, make_email(sender=sender, message_id=f"<q{index}@x.example>"))
        self.sync(account)
        emails = self.Message.search([("account_ids", "in", account.ids)])
        self.env.cr.execute("DELETE FROM mail_sync_message_link WHERE email_id = ANY(%s)", [emails.ids])
        with self.assertQueryCount(3):  # contacts, opportunities, threads
            self.Message._link_messages(emails[:1].ids)
        with self.assertQueryCount(3):
            self.Message._link_messages(emails.ids)
        self.assertEqual(set(emails.partner_ids), {self.acme, self.solo})
