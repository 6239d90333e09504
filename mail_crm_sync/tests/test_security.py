from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import MailSyncCase, MailSyncHttpCase, make_email


@tagged("post_install", "-at_install")
class TestVisibility(MailSyncCase):
    def _account_with_mail(self, visibility, message_id, attachment=None):
        account, box = self.create_account(visibility=visibility)
        self.deliver(box, make_email(message_id=message_id, attachment=attachment))
        self.sync(account)
        return self.messages(message_id)

    def _visible_to(self, user, message):
        return bool(self.Message.with_user(user).search([("id", "=", message.id)]))

    def test_owner_only_mail_is_seen_by_the_owner_alone(self):
        message = self._account_with_mail(
            "owner", "<private@client.example>", ("terms.pdf", "application/pdf", b"%PDF")
        )
        self.assertTrue(self._visible_to(self.salesman, message))
        self.assertFalse(self._visible_to(self.other_salesman, message))
        self.assertFalse(self._visible_to(self.manager, message))
        with self.assertRaises(AccessError):
            message.with_user(self.other_salesman).read(["subject"])
        Attachment = self.env["mail.sync.message.attachment"].with_user(self.other_salesman)
        self.assertFalse(Attachment.search([("email_id", "=", message.id)]))
        self.assertFalse(
            self.env["mail.sync.message.location"]
            .with_user(self.other_salesman)
            .search([("email_id", "=", message.id)])
        )

    def test_owner_and_managers_mail(self):
        message = self._account_with_mail("owner_and_managers", "<team@client.example>")
        self.assertTrue(self._visible_to(self.manager, message))
        account = message.account_ids.with_user(self.manager)
        self.assertEqual(
            account.read(["password"])[0]["password"], False, "managers see the account, not its password"
        )
        self.assertTrue(
            account.folder_ids.mapped("name"), "the account form's folder list opens for managers"
        )
        self.assertFalse(self._visible_to(self.other_salesman, message))

    def test_everyone_mail(self):
        message = self._account_with_mail("everyone", "<open@client.example>")
        self.assertTrue(self._visible_to(self.other_salesman, message))

    def test_the_most_permissive_account_wins(self):
        private, private_box = self.create_account(visibility="owner")
        public, public_box = self.create_account(user=self.other_salesman, visibility="everyone")
        raw = make_email(message_id="<both@client.example>")
        self.deliver(private_box, raw)
        self.deliver(public_box, raw)
        self.sync(private | public)
        self.assertTrue(self._visible_to(self.manager, self.messages("<both@client.example>")))

    def test_users_cannot_create_accounts_for_others_or_shared_ones(self):
        values = {"name": "x", "email": "x@example.test", "imap_host": "127.0.0.1"}
        with self.assertRaises(AccessError):
            self.Account.with_user(self.salesman).create({**values, "user_id": self.other_salesman.id})
        with self.assertRaises(UserError):
            self.Account.with_user(self.salesman).create(
                {**values, "account_type": "shared", "user_id": False}
            )

    def test_views_open_for_a_salesman(self):
        for model in ("mail.sync.message", "mail.sync.account"):
            views = (
                self.env[model]
                .with_user(self.salesman)
                .get_views([(False, "list"), (False, "form"), (False, "search")])
            )
            self.assertEqual(set(views["views"]), {"list", "form", "search"})
        partner_form = self.env["res.partner"].with_user(self.salesman).get_views([(False, "form")])
        self.assertIn("mail_sync_message_count", partner_form["views"]["form"]["arch"])
        lead_form = self.env["crm.lead"].with_user(self.salesman).get_views([(False, "form")])
        self.assertIn("mail_sync_message_count", lead_form["views"]["form"]["arch"])

    def test_own_accounts_reachable_from_preferences(self):
        mine, _box = self.create_account()
        preferences = self.env.ref("base.view_users_form_simple_modif")
        arch = self.env["res.users"].with_user(self.salesman).get_views([(preferences.id, "form")])
        self.assertIn("action_open_mail_sync_accounts", arch["views"]["form"]["arch"])
        action = self.salesman.with_user(self.salesman).action_open_mail_sync_accounts()
        self.assertEqual(self.Account.with_user(self.salesman).search(action["domain"]), mine)

    def test_users_see_only_their_own_accounts(self):
        mine, _box = self.create_account()
        theirs, _box = self.create_account(user=self.other_salesman)
        self.assertEqual(self.Account.with_user(self.salesman).search([]), mine)
        self.assertEqual(
            self.Account.with_user(self.manager).search([("id", "in", (mine | theirs).ids)]), mine | theirs
        )


@tagged("post_install", "-at_install")
class TestPasswordOverRpc(MailSyncHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(cls.env, login="mcs_pw_owner", groups="sales_team.group_sale_salesman")
        cls.manager = new_test_user(cls.env, login="mcs_pw_manager", groups="sales_team.group_sale_manager")
        cls.box = cls.server.add_user()
        cls.account = (
            cls.env["mail.sync.account"]
            .with_user(cls.owner)
            .create(cls.account_values(cls.box, name="Owner's box"))
        )

    def _rpc_read(self, login, fields):
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, login, login, {})
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, uid, login, "mail.sync.account", "read", [self.account.ids, fields]
        )[0]

    def test_password_is_readable_by_its_owner(self):
        self.assertEqual(self._rpc_read("mcs_pw_owner", ["password"])["password"], self.box.password)

    def test_password_is_hidden_from_a_manager_who_can_read_the_account(self):
        record = self._rpc_read("mcs_pw_manager", ["name", "password"])
        self.assertEqual(record["name"], "Owner's box")
        self.assertFalse(record["password"])

    def test_stored_password_field_is_refused_to_others(self):
        with self.assertRaises(Exception) as caught, mute_logger("odoo.http"):
            self._rpc_read("mcs_pw_manager", ["password_stored"])
        self.assertIn("password_stored", str(caught.exception))

    def test_password_is_readable_by_an_administrator(self):
        self.assertEqual(self._rpc_read("admin", ["password"])["password"], self.box.password)
