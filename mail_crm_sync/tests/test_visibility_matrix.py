from odoo.tests import new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import MailSyncHttpCase, make_email

MODELS = (
    "mail.sync.account",
    "mail.sync.folder",
    "mail.sync.message",
    "mail.sync.message.attachment",
    "mail.sync.message.location",
    "mail.sync.message.link",
)

# The README's table, as data: which emails each user reads. Emails are named after the account
# they came through; the 'records' account has one linked to a contact, one linked only to an
# opportunity of the colleague, and one linked to nothing. The teammate shares a sales team with
# the owner; the colleague (whose opportunity it is) and the member do not.
EMAILS_SEEN = {
    "internal": None,  # no access to the addon at all
    "shared_only": {"shared_group", "shared_plain"},
    "owner": {"everyone", "managers", "owner", "records_partner", "records_lead", "records_none"},
    "teammate": {"everyone", "records_partner"},
    "colleague": {"everyone"},
    "member": {"everyone", "shared_group"},
    "manager": {"everyone", "managers", "records_partner", "records_lead"},
    "admin": {
        "everyone",
        "managers",
        "owner",
        "records_partner",
        "records_lead",
        "records_none",
        "shared_group",
        "shared_plain",
    },
}
ACCOUNTS_SEEN = {
    "internal": None,
    "shared_only": {"shared_group", "shared_plain"},
    "owner": {"everyone", "managers", "owner", "records"},
    "teammate": set(),
    "colleague": set(),
    "member": {"shared_group"},
    "manager": {"everyone", "managers", "owner", "records", "shared_group", "shared_plain"},
    "admin": {"everyone", "managers", "owner", "records", "shared_group", "shared_plain"},
}
# Who may open the colleague's opportunity (Sales' own rules): the colleague, managers, admin.
LEAD_READERS = {"colleague", "manager", "admin"}


@tagged("post_install", "-at_install")
class TestVisibilityMatrix(MailSyncHttpCase):
    """Every kind of user against every visibility level, through JSON-RPC as the web client reads."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        members = cls.env["res.groups"].create({"name": "Support team (mail sync test)"})
        cls.users = {
            "internal": new_test_user(cls.env, login="mcs_internal", groups="base.group_user"),
            "shared_only": new_test_user(
                cls.env,
                login="mcs_shared_only",
                groups="base.group_user,mail_crm_sync.group_mail_sync_shared",
            ),
            "owner": new_test_user(cls.env, login="mcs_owner", groups="sales_team.group_sale_salesman"),
            "teammate": new_test_user(cls.env, login="mcs_teammate", groups="sales_team.group_sale_salesman"),
            "colleague": new_test_user(
                cls.env, login="mcs_colleague", groups="sales_team.group_sale_salesman"
            ),
            "member": new_test_user(
                cls.env,
                login="mcs_member",
                groups_id=[cls.env.ref("sales_team.group_sale_salesman").id, members.id],
            ),
            "manager": new_test_user(cls.env, login="mcs_manager", groups="sales_team.group_sale_manager"),
            "admin": new_test_user(
                cls.env, login="mcs_admin", groups="base.group_system,sales_team.group_sale_manager"
            ),
        }
        cls.env["crm.team"].create(
            {
                "name": "Owner's team",
                "member_ids": [(6, 0, [cls.users["owner"].id, cls.users["teammate"].id])],
            }
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Known Customer", "email": "known@client.example"}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Colleague's deal",
                "email_from": "lead.only@prospect.example",
                "user_id": cls.users["colleague"].id,
                "type": "opportunity",
            }
        )
        owner = cls.users["owner"]
        cls.accounts = {}
        cls.boxes = {}
        cls.emails = {}
        setups = {
            "everyone": ({"visibility": "everyone", "user_id": owner.id}, ["everyone"]),
            "managers": ({"visibility": "owner_and_managers", "user_id": owner.id}, ["managers"]),
            "owner": ({"visibility": "owner", "user_id": owner.id}, ["owner"]),
            "records": (
                {"visibility": "records", "user_id": owner.id},
                ["records_partner", "records_lead", "records_none"],
            ),
            "shared_group": (
                {
                    "account_type": "shared",
                    "user_id": False,
                    "visibility": "owner",
                    "member_group_id": members.id,
                },
                ["shared_group"],
            ),
            "shared_plain": (
                {"account_type": "shared", "user_id": False, "visibility": "owner"},
                ["shared_plain"],
            ),
        }
        senders = {"records_partner": "known@client.example", "records_lead": "lead.only@prospect.example"}
        for name, (values, emails) in setups.items():
            box = cls.boxes[name] = cls.server.add_user()
            account = cls.env["mail.sync.account"].sudo().create(cls.account_values(box, name=name, **values))
            for email in emails:
                cls.server.deliver(
                    box,
                    make_email(
                        # Everything but the two 'records' emails meant to link comes from a stranger.
                        sender=senders.get(email, f"{email}@stranger.example"),
                        to=box.email,
                        subject=email,
                        message_id=f"<{email}@matrix.example>",
                        attachment=(f"{email}.pdf", "application/pdf", b"%PDF-1.4 " + email.encode()),
                    ),
                )
            account.action_test_connection()
            account._sync_accounts()
            cls.accounts[name] = account
        cls.env.invalidate_all()
        Message = cls.env["mail.sync.message"].sudo()
        cls.emails = {
            message.subject: message for message in Message.search([("message_id", "like", "@matrix.")])
        }
        assert set(cls.emails) == set(EMAILS_SEEN["admin"]), cls.emails

    def _search_read(self, who, model):
        """The ids ``who`` reads in ``model`` over JSON-RPC, or None when refused."""
        self.authenticate(self.users[who].login, self.users[who].login)
        try:
            with mute_logger("odoo.http"):
                rows = self.make_jsonrpc_request(
                    "/web/dataset/call_kw",
                    {
                        "model": model,
                        "method": "search_read",
                        "args": [[]],
                        "kwargs": {"fields": ["display_name"], "context": {"active_test": False}},
                    },
                )
        except JsonRpcException as error:
            self.assertIn("AccessError", str(error))
            return None
        return {row["id"] for row in rows}

    def _expected(self, who, model):  # noqa: PLR0911 - one answer per model of the README table
        emails = EMAILS_SEEN[who]
        accounts = ACCOUNTS_SEEN[who]
        if emails is None:
            return None
        messages = self.env["mail.sync.message"].sudo().browse([self.emails[name].id for name in emails])
        account_records = self.env["mail.sync.account"].sudo().browse([self.accounts[n].id for n in accounts])
        if model == "mail.sync.account":
            return set(account_records.ids)
        if model == "mail.sync.folder":
            return set(account_records.with_context(active_test=False).folder_ids.ids)
        if model == "mail.sync.message":
            return set(messages.ids)
        if model == "mail.sync.message.attachment":
            return set(messages.attachment_ids.ids)
        if model == "mail.sync.message.location":
            return {place.id for place in messages.location_ids if place.account_id in account_records}
        links = messages.with_context(active_test=False).link_ids.filtered("active")
        return {link.id for link in links if link.partner_id or who in LEAD_READERS}

    def test_every_user_reads_what_the_readme_table_says(self):
        for who in self.users:
            for model in MODELS:
                with self.subTest(user=who, model=model):
                    self.assertEqual(self._search_read(who, model), self._expected(who, model))

    def test_matrix_covers_links_to_both_kinds_of_record(self):
        links = (
            self.env["mail.sync.message.link"]
            .sudo()
            .search([("email_id", "in", [e.id for e in self.emails.values()])])
        )
        self.assertTrue(links.filtered("lead_id") and links.filtered("partner_id"))

    def test_contact_and_lead_counts_follow_the_same_rules(self):
        for who in ("owner", "teammate", "colleague", "member", "manager", "admin"):
            with self.subTest(user=who):
                partner = self._call(
                    who, "res.partner", "read", self.partner.ids, ["mail_sync_message_count"]
                )[0]
                # The linked 'records' email, for those who read it.
                self.assertEqual(
                    partner["mail_sync_message_count"], int("records_partner" in EMAILS_SEEN[who])
                )
                unassigned = self._call(
                    who, "mail.sync.message", "search_count", [("is_assigned", "=", False)]
                )
                expected = {name for name in EMAILS_SEEN[who] if not self.emails[name].sudo().is_assigned}
                self.assertEqual(unassigned, len(expected))

    # -- what a colleague may try ----------------------------------------------------------------

    def _call(self, who, model, method, *args, **kwargs):
        """``method`` of ``model`` as ``who``'s web client calls it (JSON-RPC)."""
        self.authenticate(self.users[who].login, self.users[who].login)
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def _relink(self):
        """The night's relink (the scheduled action runs it over every unassigned email)."""
        Message = self.env["mail.sync.message"].sudo()
        Message._link_messages(Message.search([("message_id", "like", "@matrix.")]).ids)
        self.env.invalidate_all()

    def _read_as(self, who, names):
        """Which of these matrix emails ``who`` reads (JSON-RPC), by their subject."""
        ids = [self.emails[name].id for name in names]
        rows = self._call(who, "mail.sync.message", "search_read", [("id", "in", ids)], fields=["subject"])
        return {row["subject"] for row in rows}

    def test_a_contact_with_a_colleagues_mailbox_address_shows_none_of_that_mailbox(self):
        owner_box = self.accounts["records"].sudo().email
        self._call(
            "colleague",
            "res.partner",
            "web_save",
            [],
            {"name": "Harvest", "email": owner_box},
            specification={},
        )
        self._call(
            "colleague",
            "crm.lead",
            "web_save",
            [],
            {"name": "Harvest", "email_from": owner_box},
            specification={},
        )
        self._relink()
        private = ["owner", "records_partner", "records_lead", "records_none", "managers"]
        self.assertEqual(self._read_as("colleague", private), set())
        links = (
            self.env["mail.sync.message.link"]
            .sudo()
            .search(["|", ("partner_id.name", "=", "Harvest"), ("lead_id.name", "=", "Harvest")])
        )
        self.assertFalse(links, "a mailbox's own address links nothing to a contact that is not its owner")

    def test_a_contact_or_lead_with_a_colleagues_correspondent_shows_the_colleague_no_private_mail(self):
        correspondent = "records_none@stranger.example"
        partner = self._call(
            "colleague",
            "res.partner",
            "web_save",
            [],
            {"name": "Correspondent", "email": correspondent},
            specification={},
        )
        lead = self._call(
            "colleague",
            "crm.lead",
            "web_save",
            [],
            {"name": "Correspondent deal", "email_from": correspondent},
            specification={},
        )
        self._relink()
        email = self.emails["records_none"].sudo()
        self.assertTrue(email.link_ids.filtered(lambda link: link.partner_id.id == partner[0]["id"]))
        self.assertTrue(email.link_ids.filtered(lambda link: link.lead_id.id == lead[0]["id"]))
        self.assertEqual(
            self._read_as("colleague", ["records_none"]), set(), "creating a record shows nothing"
        )
        self.assertEqual(
            self._call("colleague", "res.partner", "read", [partner[0]["id"]], ["mail_sync_message_count"])[
                0
            ]["mail_sync_message_count"],
            0,
        )
        self.assertEqual(
            self._read_as("teammate", ["records_none"]), {"records_none"}, "the owner's team reads it"
        )

    def test_a_forged_message_id_in_a_mailbox_shared_with_everyone_exposes_nothing(self):
        everyone_box = self.accounts["everyone"].sudo()
        forged = make_email(
            sender="forger@stranger.example",
            to=everyone_box.email,
            subject="forged",
            message_id="<owner@matrix.example>",  # the owner-only email's, read in a reply's References
        )
        self.server.deliver(self.boxes["everyone"], forged)
        everyone_box._sync_accounts()
        self.env.invalidate_all()
        rows = self._call(
            "colleague",
            "mail.sync.message",
            "search_read",
            [("message_id", "like", "owner@matrix.example")],
            fields=["subject", "body_text"],
        )
        self.assertEqual([row["subject"] for row in rows], ["forged"], "only the forged copy, apart")
        private = self.emails["owner"].sudo()
        self.assertEqual(private.account_ids, self.accounts["owner"], "the private email keeps its account")
