import email
from email import policy

from odoo.tests import Form, tagged

from .common import make_email
from .test_send import SendingCase

SIGNED_BODY = (
    '<p>Dear <t t-out="object.partner_id.name"/>,</p><p>Our offer for <t t-out="object.name"/>.</p>'
    "<div>-- <br/><t t-out=\"object.user_id.signature or ''\"/></div>"
)


@tagged("post_install", "-at_install")
class TestComposeTemplates(SendingCase):
    """Odoo's email templates in the composer, rendered for the record, sent through the harness
    SMTP server with the signature added once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead_template = cls.template("crm.lead", "Offer", "Offer: {{ object.name }}", SIGNED_BODY)
        cls.partner_template = cls.template(
            "res.partner",
            "Hello",
            "Hello {{ object.name }}",
            '<p>Hi <t t-out="object.name"/>, how are things?</p><t t-out="user.signature"/>',
        )

    @classmethod
    def template(cls, model, name, subject, body, **values):
        return cls.env["mail.template"].create(
            {
                "name": name,
                "model_id": cls.env["ir.model"]._get_id(model),
                "subject": subject,
                "body_html": body,
                **values,
            }
        )

    def form(self, action):
        return Form(self.env["mail.sync.compose"].with_user(self.salesman).with_context(**action["context"]))

    def form_from(self, record):
        """The composer's form opened by Write Email on ``record``, as the salesman."""
        return self.form(record.with_user(self.salesman).action_mail_sync_compose())

    def send(self, wizard):
        """Press Send and run the sending job; the one mail the SMTP server received, parsed."""
        before = len(self.smtp.received)
        super().send(wizard)
        received = self.smtp.received[before:]
        self.assertEqual(len(received), 1)
        return email.message_from_bytes(received[0].data, policy=policy.default)

    def test_lead_template_is_rendered_for_the_opportunity_and_signed_once(self):
        self.sending_account()
        form = self.form_from(self.lead)
        form.template_id = self.lead_template
        self.assertEqual(form.subject, "Offer: Chairs for the new office")
        self.assertIn("Dear Alice Client,", form.body)
        self.assertIn("Our offer for Chairs for the new office.", form.body)
        self.assertNotIn("Sally Sales", form.body, "the signature is added at send time, not twice")
        wizard = form.save()

        parsed = self.send(wizard)

        self.assertEqual(parsed["Subject"], "Offer: Chairs for the new office")
        self.assertEqual(parsed["To"], "Alice Client <alice@client.example>")
        html = parsed.get_body(("html",)).get_content()
        self.assertEqual(html.count("Sally Sales, Chair Company"), 1)
        self.assertLess(html.index("Dear Alice Client"), html.index("Sally Sales"))
        text = parsed.get_body(("plain",)).get_content()
        delimiters = [line for line in text.splitlines() if line.strip() == "--"]
        self.assertEqual(len(delimiters), 1, text)
        self.assertEqual(text.count("Sally Sales, Chair Company"), 1)

    def test_partner_template_is_rendered_for_the_contact(self):
        self.sending_account()
        self.salesman.signature = "<p>--<br>Sally Sales</p>"  # Odoo's default, delimiter included
        form = self.form_from(self.alice)
        form.template_id = self.partner_template
        self.assertEqual(form.subject, "Hello Alice Client")
        self.assertIn("Hi Alice Client, how are things?", form.body)
        self.assertNotIn("Sally Sales", form.body)

        parsed = self.send(form.save())

        text = parsed.get_body(("plain",)).get_content()
        self.assertIn("Hi Alice Client, how are things?", text)
        self.assertEqual(text.count("Sally Sales"), 1)
        self.assertEqual(len([line for line in text.splitlines() if line.strip() == "--"]), 1, text)

    def test_template_attachments_go_out_and_leave_with_the_template(self):
        self.sending_account()
        brochure = self.env["ir.attachment"].create(
            {"name": "brochure.pdf", "raw": b"%PDF-1.4 chairs", "mimetype": "application/pdf"}
        )
        template = self.template(
            "crm.lead",
            "Brochure",
            "Our chairs",
            "<p>Our brochure.</p>",
            attachment_ids=[(6, 0, brochure.ids)],
        )
        brochure.write({"res_model": "mail.template", "res_id": template.id})
        form = self.form_from(self.lead)
        form.template_id = template
        self.assertEqual(form.attachment_ids[:].ids, brochure.ids)
        form.template_id = self.lead_template
        self.assertFalse(form.attachment_ids[:], "the files of the template chosen before leave with it")
        form.template_id = template

        parsed = self.send(form.save())

        attachments = list(parsed.iter_attachments())
        self.assertEqual([part.get_filename() for part in attachments], ["brochure.pdf"])
        self.assertEqual(attachments[0].get_content(), b"%PDF-1.4 chairs")

    def test_the_reports_a_template_prints_go_out_as_files(self):
        self.sending_account()
        self.env["ir.ui.view"].create(
            {
                "name": "mcs_offer_sheet",
                "type": "qweb",
                "key": "mail_crm_sync.mcs_offer_sheet",
                "arch": '<t t-name="mail_crm_sync.mcs_offer_sheet"><t t-foreach="docs" t-as="lead">'
                "<p>Offer sheet: <t t-out='lead.name'/></p></t></t>",
            }
        )
        report = self.env["ir.actions.report"].create(
            {
                "name": "Offer Sheet",
                "model": "crm.lead",
                "report_type": "qweb-pdf",
                "report_name": "mail_crm_sync.mcs_offer_sheet",
                "print_report_name": "'Offer - %s' % object.name",
            }
        )
        template = self.template(
            "crm.lead",
            "With a sheet",
            "Our offer",
            "<p>See the sheet.</p>",
            report_template_ids=[(6, 0, report.ids)],
        )
        form = self.form_from(self.lead)
        form.template_id = template
        [sheet] = form.attachment_ids[:]
        self.assertTrue(sheet.name.startswith("Offer - Chairs for the new office"), sheet.name)
        form.template_id = self.lead_template
        self.assertFalse(form.attachment_ids[:], "the sheet leaves with its template")
        form.template_id = template

        parsed = self.send(form.save())

        [part] = parsed.iter_attachments()
        self.assertTrue(part.get_filename().startswith("Offer - Chairs for the new office"))
        # Odoo's tests print reports as HTML (no wkhtmltopdf run): the words are those of the record.
        self.assertIn(b"Offer sheet: Chairs for the new office", part.get_payload(decode=True))

    def test_a_template_speaks_the_contacts_language(self):
        self.sending_account()
        self.env["res.lang"]._activate_lang("fr_FR")
        self.alice.lang = "fr_FR"
        template = self.template(
            "res.partner", "Greeting", "Hello", "<p>Hello {{ object.name }}</p>", lang="{{ object.lang }}"
        )
        template.with_context(lang="fr_FR").write({"subject": "Bonjour", "body_html": "<p>Bonjour</p>"})
        form = self.form_from(self.alice)
        form.template_id = template
        self.assertEqual(form.subject, "Bonjour")
        self.assertIn("Bonjour", form.body)

    def test_reply_keeps_its_subject_and_the_quote_below_the_template(self):
        account, box = self.sending_account()
        original = self.customer_asks(account, box)
        form = self.form(original.with_user(self.salesman).action_reply())
        form.template_id = self.lead_template
        self.assertEqual(form.subject, "Re: Chairs?", "a reply keeps its subject")
        self.assertIn("Our offer for Chairs for the new office.", form.body)

        parsed = self.send(form.save())

        self.assertEqual(parsed["In-Reply-To"], "<ask@client.example>")
        html = parsed.get_body(("html",)).get_content()
        self.assertLess(html.index("Our offer for Chairs"), html.index("Sally Sales"))
        self.assertLess(html.index("Sally Sales"), html.index("How much for 40 chairs?"))
        self.assertEqual(html.count("Sally Sales"), 1)

    def test_template_list_offers_only_templates_of_the_records_model(self):
        account, box = self.sending_account()
        Template = self.env["mail.template"].with_user(self.salesman)

        def offered(form):
            return Template.search([("model", "=", form.template_model)]) if form.template_model else Template

        from_lead, from_contact = offered(self.form_from(self.lead)), offered(self.form_from(self.alice))
        self.assertIn(self.lead_template, from_lead)
        self.assertNotIn(self.partner_template, from_lead)
        self.assertEqual(set(from_lead.mapped("model")), {"crm.lead"})
        self.assertIn(self.partner_template, from_contact)
        self.assertEqual(set(from_contact.mapped("model")), {"res.partner"})

        self.deliver(
            box, make_email(sender="nobody@unknown.example", to=box.email, message_id="<x@u.example>")
        )
        self.sync(account)
        unlinked = self.messages("<x@u.example>")
        self.assertFalse(unlinked.lead_ids)
        self.assertFalse(unlinked.partner_ids)
        form = self.form(unlinked.with_user(self.salesman).action_reply())
        self.assertFalse(form.template_model, "a reply to an email linked to nothing offers no template")
