from unittest.mock import patch

from cryptography.fernet import Fernet
from odoo.tests import new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL, config, mute_logger

from .common import MailSyncHttpCase

KEY = Fernet.generate_key().decode()


@tagged("post_install", "-at_install")
class TestCredentials(MailSyncHttpCase):
    """Passwords at rest and through every path a user has: nobody but the owner and administrators."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(cls.env, login="mcs_cred_owner", groups="sales_team.group_sale_salesman")
        cls.manager = new_test_user(
            cls.env, login="mcs_cred_manager", groups="sales_team.group_sale_manager,base.group_allow_export"
        )
        cls.colleague = new_test_user(
            cls.env, login="mcs_cred_colleague", groups="sales_team.group_sale_salesman"
        )
        cls.box = cls.server.add_user()

    def _create_account(self):
        return (
            self.env["mail.sync.account"]
            .with_user(self.owner)
            .create(self.account_values(self.box, name="Owner's box", visibility="owner_and_managers"))
        )

    def _column(self, account):
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT password_stored FROM mail_sync_account WHERE id = %s", account.id))
        return self.env.cr.fetchone()[0]

    def _rpc(self, login, method, args, kwargs=None):
        self.authenticate(login, login)
        params = {"model": "mail.sync.account", "method": method, "args": args, "kwargs": kwargs or {}}
        return self.make_jsonrpc_request("/web/dataset/call_kw", params)

    def test_stored_encrypted_with_the_server_key_and_still_logs_in(self):
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            account = self._create_account()
            stored = self._column(account)
            self.assertTrue(stored.startswith("fernet:"))
            self.assertNotIn(self.box.password, stored)
            self.assertEqual(account.with_user(self.owner).password, self.box.password)
            self.assertTrue(account.credentials_encrypted)
            account.sudo().action_test_connection()  # decrypted to log in
            self.assertEqual(account.state, "active")

    def test_without_a_key_the_form_says_so_and_a_key_added_later_encrypts(self):
        with patch.dict(config.options, {"mail_crm_sync_key": ""}):
            account = self._create_account()
            self.assertFalse(account.credentials_encrypted)
            self.assertEqual(self._column(account), self.box.password)
            with self.assertLogs("odoo.addons.mail_crm_sync.models.mail_sync_account", "WARNING") as logged:
                self.env["mail.sync.account"]._register_hook()
            self.assertIn("mail_crm_sync_key", logged.output[0])
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            self.env["mail.sync.account"]._register_hook()  # what a restart with the key does
            self.assertTrue(self._column(account).startswith("fernet:"))
            self.assertEqual(account.with_user(self.owner).password, self.box.password)

    def test_a_wrong_key_is_a_clear_error_not_a_crash(self):
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            account = self._create_account()
        account.invalidate_recordset(["password"])
        with patch.dict(config.options, {"mail_crm_sync_key": Fernet.generate_key().decode()}):
            with self.assertRaisesRegex(Exception, "encrypted with another key"):
                account.with_user(self.owner).password  # noqa: B018

    def test_every_read_path_hides_the_password_from_a_manager(self):
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            account = self._create_account()
            login = self.manager.login
            ids = account.ids
            self.assertFalse(self._rpc(login, "read", [ids, ["password"]])[0]["password"])
            self.assertFalse(
                self._rpc(login, "search_read", [[("id", "in", ids)], ["password"]])[0]["password"]
            )
            web = self._rpc(login, "web_read", [ids], {"specification": {"password": {}, "name": {}}})[0]
            self.assertEqual(web["name"], "Owner's box")
            self.assertFalse(web["password"])
            exported = self._rpc(login, "export_data", [ids, ["name", "password"]])["datas"]
            self.assertEqual(exported, [["Owner's box", ""]])
            with mute_logger("odoo.http"):
                for method, args, kwargs in (
                    ("read", [ids, ["password_stored"]], {}),
                    ("search_read", [[("password_stored", "!=", False)], ["name"]], {}),
                    ("search_read", [[("password", "=", self.box.password)], ["name"]], {}),
                    ("read_group", [[], ["password"], ["password"]], {}),
                    ("read_group", [[], ["password_stored:count"], ["password_stored"]], {}),
                ):
                    with self.subTest(method=method, args=args), self.assertRaises(JsonRpcException):
                        self._rpc(login, method, args, kwargs)
            # a colleague cannot even read the account
            with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
                self._rpc(self.colleague.login, "read", [ids, ["name"]])
            # the owner and administrators can
            self.assertEqual(
                self._rpc(self.owner.login, "read", [ids, ["password"]])[0]["password"], self.box.password
            )
            self.authenticate("admin", "admin")
            admin_read = self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": "mail.sync.account", "method": "read", "args": [ids, ["password"]], "kwargs": {}},
            )
            self.assertEqual(admin_read[0]["password"], self.box.password)

    def test_password_changes_leave_no_trace_in_the_chatter(self):
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            account = self._create_account()
            self.env.cr.precommit.run()  # the creation is logged; what follows is tracked
            account.with_user(self.owner).write({"password": "n3w-Secret!", "name": "Renamed box"})
            self.env.cr.precommit.run()  # tracking values are written at commit
            messages = (
                self.env["mail.message"]
                .sudo()
                .search([("model", "=", "mail.sync.account"), ("res_id", "=", account.id)])
            )
            self.assertTrue(messages.tracking_value_ids, "other changes are tracked")
            traces = [
                str(value)
                for tracking in messages.tracking_value_ids
                for value in (
                    tracking.old_value_char,
                    tracking.new_value_char,
                    tracking.old_value_text,
                    tracking.new_value_text,
                )
            ] + [str(message.body) for message in messages]
            self.assertFalse(
                [trace for trace in traces if "n3w-Secret!" in trace or self.box.password in trace]
            )

    def test_a_key_added_later_encrypts_every_secret_at_start(self):
        with patch.dict(config.options, {"mail_crm_sync_key": ""}):
            account = self._create_account()
            secrets = {
                "smtp_password_stored": "smtp-secret",
                "oauth_access_token_stored": "access-secret",
                "oauth_refresh_token_stored": "refresh-secret",
                "oauth_cache_stored": '{"cache": "secret"}',
            }
            account.sudo().write(secrets)
            parameters = self.env["ir.config_parameter"].sudo()
            parameters.set_param("mail_crm_sync.google_client_secret", "google-secret")
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            self.env["mail.sync.account"]._register_hook()  # what a restart with the key does
            self.env.flush_all()
            columns = ", ".join(secrets)
            self.env.cr.execute(f"SELECT {columns} FROM mail_sync_account WHERE id = %s", [account.id])
            for name, stored in zip(secrets, self.env.cr.fetchone(), strict=True):
                self.assertTrue(stored.startswith("fernet:"), name)
                self.assertEqual(account._decrypt_secret(stored), secrets[name])
            stored = parameters.get_param("mail_crm_sync.google_client_secret")
            self.assertTrue(stored.startswith("fernet:"))
            self.assertEqual(account._decrypt_secret(stored), "google-secret")

    def test_client_secrets_typed_in_settings_stay_in_no_settings_row(self):
        with patch.dict(config.options, {"mail_crm_sync_key": KEY}):
            # Saved as the form saves before Save runs (web_save), or even if Save never runs.
            settings = self.env["res.config.settings"].create(
                {
                    "mail_sync_google_client_secret": "typed-google",
                    "mail_sync_microsoft_client_secret": "typed-ms",
                }
            )
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT row_to_json(s)::text FROM res_config_settings s WHERE id = %s", [settings.id]
            )
            row = self.env.cr.fetchone()[0]
            self.assertNotIn("typed-google", row)
            self.assertNotIn("typed-ms", row)
            settings.invalidate_recordset()  # as the next request reads it
            self.assertEqual(
                settings.read(["mail_sync_google_client_secret"])[0]["mail_sync_google_client_secret"],
                "********",
            )
            stored = self.env["ir.config_parameter"].sudo().get_param("mail_crm_sync.google_client_secret")
            self.assertEqual(self.env["mail.sync.account"]._decrypt_secret(stored), "typed-google")
