from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestLinkByHand(MailSyncCase):
    def setUp(self):
        super().setUp()
        self.account, box = self.create_account(visibility="owner")
        self.deliver(box, make_email(sender="stranger@nowhere.example", message_id="<hand@nowhere.example>"))
        self.sync(self.account)
        self.message = self.messages("<hand@nowhere.example>")
        self.customer = self.env["res.partner"].create({"name": "Picked Customer"})

    def _link(self, user, **target):
        wizard = Form(
            self.env["mail.sync.link.wizard"].with_user(user).with_context(default_email_id=self.message.id)
        )
        for field, record in target.items():
            setattr(wizard, field, record)
        wizard.save().action_link()

    def test_a_salesman_links_and_unlinks_by_hand_without_write_access_on_emails(self):
        self.assertFalse(self.Message.with_user(self.salesman).has_access("write"))
        self._link(self.salesman, partner_id=self.customer)
        link = self.message.link_ids.filtered(lambda link: link.partner_id == self.customer)
        self.assertEqual((link.reason, link.write_uid), ("manual", self.salesman))
        self.assertIn(self.message, self.customer.with_user(self.salesman).mail_sync_message_ids)

        link.with_user(self.salesman).action_unlink()
        self.assertFalse(link.active)
        self.assertEqual(link.write_uid, self.salesman)
        self.assertIn(link, self.message.link_history_ids, "the email keeps who unlinked it, and when")
        self.env.invalidate_all()  # as the next request does
        self.assertFalse(self.customer.with_user(self.salesman).mail_sync_message_ids)

        self.message.action_relink()
        self.assertFalse(link.active, "matching again does not undo an unlink")
        self._link(self.salesman, partner_id=self.customer)  # no duplicate key: the link comes back
        self.assertTrue(link.active)

    def test_nobody_links_an_email_they_cannot_see_or_to_a_record_they_cannot_open(self):
        with self.assertRaises(AccessError):
            self._link(self.other_salesman, partner_id=self.customer)
        others_lead = self.env["crm.lead"].create({"name": "Not yours", "user_id": self.other_salesman.id})
        with self.assertRaises(AccessError):
            self._link(self.salesman, lead_id=others_lead)
        with self.assertRaises(UserError):
            self._link(self.salesman)

    def test_a_salesman_neither_sees_nor_changes_a_link_to_an_opportunity_they_cannot_read(self):
        self.account.visibility = "everyone"
        others_lead = self.env["crm.lead"].create({"name": "Not yours", "user_id": self.other_salesman.id})
        link = self.env["mail.sync.message.link"]._link_by_hand(self.message, None, others_lead)
        self._link(self.salesman, partner_id=self.customer)
        self.env.invalidate_all()
        seen = self.message.with_user(self.salesman).link_ids
        self.assertEqual(seen.partner_id, self.customer)
        self.assertNotIn(link.id, seen.ids, "not listed, not even by name")
        with self.assertRaises(AccessError):
            link.with_user(self.salesman).action_unlink()
        self.assertTrue(link.active)

    def test_an_unlink_is_undone_by_restore(self):
        self._link(self.salesman, partner_id=self.customer)
        link = self.message.link_ids.filtered(lambda link: link.partner_id == self.customer)
        said = link.with_user(self.salesman).action_unlink()
        self.assertIn("Restore", said["params"]["message"])
        self.assertFalse(link.active)
        said = link.with_user(self.salesman).action_link_again()
        self.assertIn("Picked Customer", said["params"]["message"])
        self.assertTrue(link.active)
        self.assertEqual((link.reason, link.write_uid), ("manual", self.salesman))
        self.env.invalidate_all()
        self.assertIn(self.message, self.customer.with_user(self.salesman).mail_sync_message_ids)

    def test_users_cannot_write_links_directly(self):
        with self.assertRaises(AccessError):
            self.env["mail.sync.message.link"].with_user(self.salesman).create(
                {"email_id": self.message.id, "partner_id": self.customer.id}
            )


@tagged("post_install", "-at_install")
class TestAccountsFollowTheirOwner(MailSyncCase):
    def test_archived_owner_stops_the_sync_and_the_linked_mail_stays_on_the_record(self):
        customer = self.env["res.partner"].create({"name": "Kept Customer", "email": "kept@client.example"})
        account, box = self.create_account(visibility="records")
        on_server = [
            self.deliver(box, make_email(sender=customer.email, message_id="<kept@client.example>")),
            self.deliver(
                box, make_email(sender="nobody@nowhere.example", message_id="<lonely@nowhere.example>")
            ),
        ]
        self.sync(account)
        linked, lonely = self.messages("<kept@client.example>"), self.messages("<lonely@nowhere.example>")
        self.assertTrue(linked and lonely)

        self.salesman.active = False
        self.assertEqual(account.state, "disabled")
        self.assertIn("archived", account.last_error)
        administrators = account.activity_ids.user_id
        self.assertTrue(
            administrators and all(user.has_group("base.group_system") for user in administrators)
        )
        self.deliver(box, make_email(message_id="<after@client.example>"))
        self.env["mail.sync.account"]._cron_sync()
        self.assertFalse(self.messages("<after@client.example>"), "an archived owner's account is not synced")
        with self.assertRaises(UserError):
            account.action_test_connection()

        manager_sees = self.Message.with_user(self.manager).search([("id", "in", (linked | lonely).ids)])
        self.assertEqual(manager_sees, linked, "private mail shows on its linked records to managers")
        colleague = self.Message.with_user(self.other_salesman)
        self.assertFalse(colleague.search([("id", "in", (linked | lonely).ids)]), "not in the owner's teams")

        account.unlink()  # never touches the server; mail linked to records stays visible on them
        self.assertTrue(all(path.exists() for path in on_server), "the mailbox keeps its mail")
        manager_sees = self.Message.with_user(self.manager).search([("id", "in", (linked | lonely).ids)])
        self.assertEqual(manager_sees, linked)
        self.assertIn(linked, customer.with_user(self.manager).mail_sync_message_ids)
        self.assertFalse(colleague.search([("id", "in", (linked | lonely).ids)]))

    def test_mail_of_a_deleted_account_synced_again_follows_its_new_account(self):
        customer = self.env["res.partner"].create({"name": "Kept Customer", "email": "kept@client.example"})
        account, box = self.create_account(visibility="owner")
        self.deliver(box, make_email(sender=customer.email, message_id="<kept@client.example>"))
        self.sync(account)
        linked = self.messages("<kept@client.example>")
        colleague = self.Message.with_user(self.other_salesman)
        self.assertFalse(colleague.search([("id", "=", linked.id)]), "the owner's mailbox is private")
        manager = self.Message.with_user(self.manager)
        self.assertFalse(manager.search([("id", "=", linked.id)]), "not even to managers")
        account.unlink()
        self.assertEqual(
            manager.search([("id", "=", linked.id)]), linked, "left: shown to managers on its contact"
        )
        self.assertFalse(
            colleague.search([("id", "=", linked.id)]), "and to no colleague who creates a contact"
        )
        again, _box = self.create_account(mailbox_user=box, visibility="owner")
        self.sync(again)
        self.assertEqual(self.messages("<kept@client.example>"), linked)
        self.assertFalse(manager.search([("id", "=", linked.id)]), "private again, as its new account is")

    def test_an_email_made_without_an_account_shows_on_its_linked_records(self):
        customer = self.env["res.partner"].create({"name": "Kept Customer", "email": "kept@client.example"})
        made = self.Message.create(
            {
                "message_id": "<made@client.example>",
                "email_from": customer.email,
                "address_emails": customer.email,
            }
        )
        made._link_messages(made.ids)
        self.assertEqual(made.partner_ids, customer)
        manager = self.Message.with_user(self.manager)
        self.assertEqual(
            manager.search([("id", "=", made.id)]), made, "no account: shown to managers on its contact"
        )
        self.assertFalse(self.Message.with_user(self.other_salesman).search([("id", "=", made.id)]))

    def test_deleted_owner_stops_the_sync(self):
        account, _box = self.create_account()
        self.salesman.unlink()
        self.assertEqual(account.state, "disabled")
        self.assertFalse(account.user_id)


@tagged("post_install", "-at_install")
class TestWhoMayConnect(MailSyncCase):
    def test_only_members_of_the_group_connect_when_the_setting_says_so(self):
        self.env["ir.config_parameter"].set_param("mail_crm_sync.connect_policy", "group")
        with self.assertRaises(UserError):
            self.create_account()
        self.salesman.groups_id += self.env.ref("mail_crm_sync.group_mail_sync_connect")
        account, _box = self.create_account()
        self.assertEqual(account.state, "active")

    def test_new_personal_accounts_take_the_visibility_of_the_setting(self):
        account, _box = self.create_account()
        self.assertEqual(account.visibility, "records")
        self.env["ir.config_parameter"].set_param("mail_crm_sync.default_visibility", "owner")
        account, _box = self.create_account()
        self.assertEqual(account.visibility, "owner")

    def test_testing_a_connection_needs_write_access_to_the_account(self):
        account, _box = self.create_account(visibility="owner_and_managers")
        with self.assertRaises(AccessError):
            account.with_user(self.manager).action_test_connection()

    def test_shared_inboxes_is_not_part_of_the_sales_access_chain(self):
        group = self.env.ref("mail_crm_sync.group_mail_sync_shared")
        self.assertNotEqual(group.category_id, self.env.ref("base.module_category_sales_sales"))
