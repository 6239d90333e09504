import datetime
import importlib.util
from pathlib import Path

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_send import SendingCase


@tagged("post_install", "-at_install")
class TestComposeDrafts(SendingCase):
    """Drafts (issue 27, item 3): what is written from the CRM stays, as its author left it, until
    it is sent or discarded, and only its author sees it. The web client saves the composer as the
    user types and when its window closes (the tour in test_ui.py); here, what a saved one does."""

    def draft(self, user=None, **values):
        """A composer as the web client leaves it once it saved what was typed."""
        return self.write_from(self.alice, user, subject="Our offer", **values)

    def drafts(self, user=None):
        """CRM > Emails > Drafts, as ``user`` (the salesman by default) opens it."""
        action = self.env.ref("mail_crm_sync.mail_sync_compose_action_drafts")
        return self.env[action.res_model].with_user(user or self.salesman).search([])

    def test_a_saved_composer_is_listed_under_drafts_and_reopens_as_it_was(self):
        account, _box = self.sending_account()
        draft = self.draft(email_cc="Bob <bob@client.example>")

        self.assertEqual(self.drafts(), draft)
        self.assertEqual(draft.regarding, "Client Corp, Alice Client")
        action = draft.action_open_draft()
        self.assertEqual(
            (action["res_model"], action["res_id"], action["target"]), (draft._name, draft.id, "new")
        )
        reopened = self.env["mail.sync.compose"].with_user(self.salesman).browse(action["res_id"])
        self.assertEqual(reopened.partner_to_ids, self.alice)
        self.assertEqual(reopened.email_cc, "Bob <bob@client.example>")
        self.assertEqual(reopened.account_id, account)
        self.assertIn("Our offer is attached.", reopened.body)
        self.assertEqual((reopened.res_model, reopened.res_id), ("res.partner", self.alice.id))

    def test_a_draft_is_its_authors_alone(self):
        self.sending_account()
        draft = self.draft()
        colleague = new_test_user(
            self.env, login="mcs_draft_colleague", groups="sales_team.group_sale_salesman"
        )
        manager = new_test_user(self.env, login="mcs_draft_manager", groups="sales_team.group_sale_manager")
        administrator = new_test_user(
            self.env, login="mcs_draft_admin", groups="base.group_system,sales_team.group_sale_manager"
        )

        for reader in (colleague, manager, administrator):
            with self.subTest(reader=reader.login):
                self.assertFalse(self.drafts(reader), "not in their Drafts")
                with self.assertRaises(AccessError):
                    draft.with_user(reader).read(["subject", "body"])
                with self.assertRaises(AccessError):
                    draft.with_user(reader).action_send()
        self.assertEqual(self.drafts(), draft, "still the author's")

    def test_a_refused_send_keeps_the_draft(self):
        self.sending_account()
        draft = self.draft(email_to="Mallory\r\nBcc: evil@evil.example <mallory@client.example>")

        with self.assertRaises(UserError):
            draft.action_send()

        self.assertEqual(self.drafts(), draft)
        self.assertIn("Our offer is attached.", draft.body)

    def test_send_takes_the_draft_away(self):
        self.sending_account()
        draft = self.draft()

        self.send(draft)

        self.assertFalse(draft.exists())
        self.assertFalse(self.drafts())
        self.assertEqual(self.smtp.received[-1].rcpt_tos, ("alice@client.example",))

    def test_discard_takes_the_draft_and_its_own_files_away(self):
        self.sending_account()
        uploaded = (  # uploaded by the salesman in the composer
            self.env["ir.attachment"]
            .with_user(self.salesman)
            .create(
                {"name": "notes.pdf", "raw": b"%PDF notes", "res_model": "mail.sync.compose", "res_id": 0}
            )
        )
        kept = self.env["ir.attachment"].create(
            {"name": "quote.pdf", "raw": b"%PDF", "res_model": "crm.lead", "res_id": self.lead.id}
        )
        draft = self.draft(attachment_ids=[(6, 0, (uploaded | kept).ids)])

        draft.action_discard_draft()

        self.assertFalse(draft.exists())
        self.assertFalse(uploaded.exists(), "the file uploaded for the draft alone goes with it")
        self.assertTrue(kept.exists(), "the opportunity's file stays")

    def test_an_undone_email_is_a_draft_again_with_its_moment_and_template(self):
        self.sending_account()
        self.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.undo_send_seconds", "10")
        template = self.env["mail.template"].create(
            {
                "name": "Offer",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "body_html": "<p>Offer</p>",
            }
        )
        moment = fields.Datetime.now().replace(microsecond=0) + datetime.timedelta(days=1)
        draft = self.draft(send_at=moment, template_id=template.id)
        draft.action_send()
        self.assertFalse(self.drafts(), "queued, not a draft")
        queued = self.env["mail.sync.message"].search([("send_state", "=", "queued")])

        undone = queued.with_user(self.salesman).action_undo_send()

        again = self.drafts()
        self.assertEqual(again.id, undone["params"]["next"]["res_id"])
        self.assertEqual(again.send_at, moment)
        self.assertEqual(again.template_id, template)
        self.assertEqual(again.partner_to_ids, self.alice)

    def test_the_upgrade_leaves_no_old_composer_as_a_draft(self):
        self.sending_account()
        self.draft()
        spec = importlib.util.spec_from_file_location(
            "mail_crm_sync_18_0_1_4_0", Path(__file__).parents[1] / "migrations/18.0.1.4.0/pre-migrate.py"
        )
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.3.0")
        self.env.invalidate_all()
        self.assertFalse(self.drafts())
