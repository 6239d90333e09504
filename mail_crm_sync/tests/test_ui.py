from odoo.tests import new_test_user, tagged

from .common import MailSyncHttpCase, make_email


@tagged("post_install", "-at_install")
class TestUi(MailSyncHttpCase):
    """The screens as a salesman uses them, in a real browser."""

    @classmethod
    def setUpClass(cls):
        # HttpCase runs in test mode already: the sync's own cursors are savepoints of the test's.
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="mcs_tour_salesman", groups="sales_team.group_sale_salesman", name="Tess Tour"
        )

    def test_salesman_finds_an_email_and_its_contact(self):
        customer = self.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour.customer@client.example"}
        )
        mailbox = self.server.add_user()
        sender = f"{customer.name} <{customer.email}>"
        self.server.deliver(
            mailbox,
            make_email(
                sender=sender,
                to=mailbox.email,
                subject="Tour: quotation for the marmalade kitchen",
                body="We would like orange marmalade tiles in the kitchen.",
                html="<p>We would like <b>orange marmalade</b> tiles.</p><script>alert(1)</script>",
                attachment=("plan.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 2000),
            ),
        )
        self.server.deliver(
            mailbox,
            make_email(
                sender=sender, to=mailbox.email, subject="Tour: planning the showroom", body="See you Monday."
            ),
        )
        account = (
            self.env["mail.sync.account"]
            .sudo()
            .create(self.account_values(mailbox, name="Tess's mailbox", user_id=self.salesman.id))
        )
        account.action_test_connection()
        account._sync_accounts()
        self.assertEqual(account.message_count, 2)

        self.start_tour("/odoo", "mail_crm_sync_tour", login=self.salesman.login)
