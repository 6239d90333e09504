from imapclient import IMAPClient
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import MailSyncCase, make_email


@tagged("post_install", "-at_install")
class TestSharedCopies(MailSyncCase):
    """One email in two mailboxes: Delete and Move in one of them change that mailbox's copy alone,
    on the server and in the CRM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.env["res.partner"].create({"name": "Alice Client", "email": "alice@client.example"})
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Chairs for the new office",
                "type": "opportunity",
                "partner_id": cls.alice.id,
                "user_id": cls.salesman.id,
            }
        )

    def setUp(self):
        super().setUp()
        # A keeps their mailbox to themselves: B reads the email through his own account only.
        self.account_a, self.box_a = self.create_account(user=self.salesman, visibility="owner")
        self.account_b, self.box_b = self.create_account(user=self.other_salesman, visibility="owner")

    def hold_in_both(self, message_id):
        """The same email delivered to A's and B's mailboxes, both synced."""
        raw = make_email(
            sender="alice@client.example",
            to=f"{self.box_a.email}, {self.box_b.email}",
            message_id=message_id,
            attachment=("quote.pdf", "application/pdf", b"%PDF-1.4 quote"),
        )
        paths = self.deliver(self.box_a, raw), self.deliver(self.box_b, raw)
        self.sync(self.account_a | self.account_b)
        message = self.messages(message_id)
        self.assertEqual(message.account_ids, self.account_a | self.account_b)
        return message, paths

    def in_folder(self, box, folder, message_id):
        client = IMAPClient(self.server.host, port=self.server.port, ssl=False)
        client.login(box.login, box.password)
        self.addCleanup(client.logout)
        client.select_folder(folder, readonly=True)
        return client.search(["HEADER", "Message-ID", message_id])

    def seen_by(self, user, message):
        self.env.invalidate_all()  # as the next request does
        return self.Message.with_user(user).search([("id", "=", message.id)])

    def places(self, message, account):
        return {
            (place.folder_id.name, place.uidvalidity, place.uid, place.gone)
            for place in message.location_ids.filtered(lambda place: place.account_id == account)
        }

    def test_a_delete_in_one_mailbox_leaves_the_email_to_the_other(self):
        message, _paths = self.hold_in_both("<both@client.example>")
        links = message.link_ids
        self.assertEqual(message.partner_ids, self.alice)
        self.assertEqual(message.lead_ids, self.lead)
        places_a = self.places(message, self.account_a)

        message.with_user(self.other_salesman).action_delete_on_server()

        self.assertFalse(self.in_folder(self.box_b, "INBOX", "<both@client.example>"), "B's copy deleted")
        self.assertTrue(self.in_folder(self.box_b, "Trash", "<both@client.example>"))
        self.assertTrue(self.in_folder(self.box_a, "INBOX", "<both@client.example>"), "A's copy untouched")
        seen = self.seen_by(self.salesman, message)
        self.assertEqual(seen, message, "A still reads the email")
        self.assertEqual(seen.partner_ids, self.alice)
        self.assertEqual(seen.lead_ids, self.lead)
        self.assertEqual(seen.attachment_ids.mapped("name"), ["quote.pdf"])
        self.assertFalse(seen.gone_from_server)
        self.assertEqual(message.account_ids, self.account_a)
        self.assertEqual(self.places(message, self.account_a), places_a)
        self.assertFalse(self.seen_by(self.other_salesman, message), "B no longer sees it")

        self.sync(self.account_a | self.account_b)
        self.assertEqual(self.messages("<both@client.example>"), message, "the same email, not a new one")
        self.assertEqual(message.link_ids, links)
        self.assertEqual(message.account_ids, self.account_a, "B's sync does not bring B's copy back")
        self.assertEqual(self.places(message, self.account_a), places_a)
        self.assertFalse(self.places(message, self.account_b))
        self.assertEqual(self.seen_by(self.salesman, message), message)
        self.assertFalse(self.seen_by(self.other_salesman, message))

        message.with_user(self.salesman).action_delete_on_server()
        self.assertFalse(message.exists(), "the last copy deleted: the email goes")

    def test_a_delete_keeps_the_email_of_a_mailbox_where_it_is_gone(self):
        message, (path_a, _path_b) = self.hold_in_both("<gone@client.example>")
        path_a.unlink()  # A deleted it in another mail client
        self.sync(self.account_a)
        self.assertEqual({gone for *_place, gone in self.places(message, self.account_a)}, {True})

        message.with_user(self.other_salesman).action_delete_on_server()

        self.assertEqual(self.seen_by(self.salesman, message), message, "A's CRM keeps what A deleted")
        self.assertTrue(message.gone_from_server, "gone from every server it was seen on")
        self.assertEqual(message.link_ids.partner_id, self.alice)
        self.assertFalse(self.seen_by(self.other_salesman, message))

    def test_a_move_in_one_mailbox_changes_that_copy_alone_and_it_stays_there(self):
        message, _paths = self.hold_in_both("<moved@client.example>")
        places_a = self.places(message, self.account_a)
        archive = self.account_b.with_context(active_test=False).folder_ids.filtered(
            lambda folder: folder.name == "Archive"
        )
        wizard = (
            self.env["mail.sync.move"]
            .with_user(self.other_salesman)
            .with_context(default_email_id=message.id)
            .create({"folder_id": archive.id})
        )
        self.assertEqual(wizard.location_id.account_id, self.account_b)
        wizard.action_move()

        self.assertTrue(self.in_folder(self.box_b, "Archive", "<moved@client.example>"))
        self.assertFalse(self.in_folder(self.box_b, "INBOX", "<moved@client.example>"))
        self.assertTrue(self.in_folder(self.box_a, "INBOX", "<moved@client.example>"), "A's copy untouched")
        self.assertEqual(self.places(message, self.account_a), places_a)
        self.assertEqual({place[0] for place in self.places(message, self.account_b)}, {"Archive"})

        self.sync(self.account_a | self.account_b)
        self.assertEqual(self.messages("<moved@client.example>"), message)
        self.assertEqual(self.places(message, self.account_a), places_a)
        self.assertEqual(message.account_ids, self.account_a | self.account_b)
        self.assertFalse(message.gone_from_server)
        self.assertEqual(self.seen_by(self.salesman, message), message)
        self.assertEqual(self.seen_by(self.other_salesman, message), message)

        message.with_user(self.salesman).action_delete_on_server()
        self.assertFalse(self.in_folder(self.box_a, "INBOX", "<moved@client.example>"))
        self.assertEqual(self.seen_by(self.other_salesman, message), message, "B keeps his moved copy")
        self.assertEqual(message.account_ids, self.account_b)
        self.assertEqual({place[0] for place in self.places(message, self.account_b)}, {"Archive"})
        self.assertFalse(self.seen_by(self.salesman, message))

    def test_an_administrator_deletes_and_moves_in_his_own_mailbox_only(self):
        admin = new_test_user(
            self.env,
            login="mcs_admin_copies",
            groups="base.group_system,sales_team.group_sale_manager",
            name="Ada Admin",
        )
        # Named to be listed after A's account: the first location an administrator may change
        # must be his own, not the first one found.
        account_admin, box_admin = self.create_account(user=admin, visibility="owner", name="Z Admin")
        moved = make_email(sender="alice@client.example", message_id="<admin-move@client.example>")
        deleted = make_email(sender="alice@client.example", message_id="<admin-delete@client.example>")
        for raw in (moved, deleted):
            self.deliver(self.box_a, raw)
            self.deliver(box_admin, raw)
        self.sync(self.account_a | account_admin)
        moved = self.messages("<admin-move@client.example>")
        deleted = self.messages("<admin-delete@client.example>")
        places_a = self.places(moved, self.account_a) | self.places(deleted, self.account_a)

        archive = account_admin.with_context(active_test=False).folder_ids.filtered(
            lambda folder: folder.name == "Archive"
        )
        wizard = (
            self.env["mail.sync.move"]
            .with_user(admin)
            .with_context(default_email_id=moved.id)
            .create({"folder_id": archive.id})
        )
        self.assertEqual(wizard.location_id.account_id, account_admin, "his own copy")
        wizard.action_move()
        deleted.with_user(admin).action_delete_on_server()

        self.assertTrue(self.in_folder(self.box_a, "INBOX", "<admin-move@client.example>"))
        self.assertTrue(self.in_folder(self.box_a, "INBOX", "<admin-delete@client.example>"))
        self.assertTrue(self.in_folder(box_admin, "Archive", "<admin-move@client.example>"))
        self.assertFalse(self.in_folder(box_admin, "INBOX", "<admin-delete@client.example>"))
        self.assertEqual(self.places(moved, self.account_a) | self.places(deleted, self.account_a), places_a)
        self.assertEqual(self.seen_by(self.salesman, deleted), deleted)
        self.assertEqual(deleted.account_ids, self.account_a)

    def test_a_shared_mailbox_is_changed_by_those_who_send_from_it_and_alone(self):
        shared, box_shared = self.create_account(user=self.env.ref("base.user_admin"))
        shared.write({"account_type": "shared", "user_id": False, "visibility": "owner"})
        self.other_salesman.groups_id += self.env.ref("mail_crm_sync.group_mail_sync_shared")
        raw = make_email(sender="alice@client.example", message_id="<team@client.example>")
        self.deliver(self.box_a, raw)
        self.deliver(box_shared, raw)
        self.sync(self.account_a | shared)
        message = self.messages("<team@client.example>")
        self.assertEqual(self.seen_by(self.other_salesman, message), message, "through the shared mailbox")

        with self.assertRaises(UserError):  # he reads the shared mailbox but may not send from it
            message.with_user(self.other_salesman).action_delete_on_server()
        shared.sending_enabled = True
        message.with_user(self.other_salesman).action_delete_on_server()

        self.assertFalse(self.in_folder(box_shared, "INBOX", "<team@client.example>"))
        self.assertTrue(self.in_folder(self.box_a, "INBOX", "<team@client.example>"), "A's copy untouched")
        self.assertEqual(message.account_ids, self.account_a)
        self.assertEqual(self.seen_by(self.salesman, message), message)
        self.assertEqual(message.link_ids.lead_id, self.lead)
        self.assertFalse(self.seen_by(self.other_salesman, message))
