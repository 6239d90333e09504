import imaplib
import secrets

from odoo.tests import tagged

from . import production
from .common import make_email

SYNC_CRON = "mail_crm_sync.ir_cron_mail_sync"
# A liveness bound, not a speed: the search-index job also runs hourly; a cron worker woken by the
# sync's trigger builds a few documents in a second or two.
INDEX_BOUND = 120
ACCOUNT_FIELDS = ["state", "last_error", "failure_count", "last_sync_date"]
# What anyone outside may send (issue 24): an encoded NUL in the Subject. Storing it crashed the
# batch's INSERT, and every later run at the same batch.
HOSTILE_SUBJECT = "=?utf-8?q?x=00y?="


def hostile_email(message_id, to):
    """Raw bytes, written by hand: a mail library would not encode the NUL as a sender's can."""
    return (
        "From: Eve Hostile <eve@hostile.example>\r\n"
        f"To: {to}\r\n"
        f"Subject: {HOSTILE_SUBJECT}\r\n"
        "Date: Mon, 1 Dec 2025 09:00:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "The subject carries a NUL.\r\n"
    ).encode()


@tagged("post_install", "-at_install", "production")
class TestProductionSync(production.ProductionCase):
    """The sync as production runs it: a real odoo-bin with workers, its sync committing on cursors
    of its own, a salesman pressing its buttons over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = cls.new_user("prod_salesman", "Sally Production")
        cls.account_fields = cls.admin.call("mail.sync.account", "fields_get", attributes=["type"])

    def setUp(self):
        super().setUp()
        self.tag = secrets.token_hex(4)

    def deliver(self, box, count, prefix, folder="INBOX"):
        """``count`` emails from a customer (to the mailbox; from it, in Sent); their Message-IDs."""
        message_ids = [f"<{prefix}{number}-{self.tag}@client.example>" for number in range(count)]
        for message_id in message_ids:
            if folder == "Sent":
                raw = make_email(sender=box.email, to="bob@client.example", message_id=message_id)
            else:
                raw = make_email(to=box.email, message_id=message_id)
            self.dovecot.deliver(box, raw, folder=folder)
        return message_ids

    def stored(self, message_ids):
        """Which of these emails the server stored, read by the administrator (external API)."""
        found = self.admin.execute(
            "mail.sync.message", "search_read", [("message_id", "in", list(message_ids))], ["message_id"]
        )
        return {row["message_id"] for row in found}

    def account(self, account_id):
        return self.admin.execute("mail.sync.account", "read", [account_id], ACCOUNT_FIELDS)[0]

    def folders(self, account_id):
        return self.admin.call(
            "mail.sync.folder",
            "search_read",
            [("account_id", "=", account_id)],
            ["name", "last_error", "failed_messages"],
            context={"active_test": False},
        )

    def test_download_new_messages_says_how_many_emails_the_run_stored(self):
        account_id, box = self.connect_mailbox(self.salesman)
        message_ids = self.deliver(box, 7, "count")

        action = self.salesman.button("mail.sync.account", "action_sync_now", [account_id])

        self.assertEqual(self.stored(message_ids), set(message_ids), "the run stores the 7 emails")
        notice = action["params"]
        self.assertEqual(
            (notice["type"], notice["message"]),
            ("success", "7 new emails"),
            "Download New Messages tells the salesman how many emails it stored",
        )

    def test_a_synced_email_is_found_at_once_and_a_cron_worker_indexes_it(self):
        account_id, box = self.connect_mailbox(self.salesman)
        message_ids = [f"<indexed{number}-{self.tag}@client.example>" for number in range(3)]
        for message_id in message_ids:
            raw = make_email(to=box.email, subject=f"Quote {self.tag}", message_id=message_id)
            self.dovecot.deliver(box, raw)

        self.salesman.button("mail.sync.account", "action_sync_now", [account_id])

        def found():
            rows = self.salesman.call(
                "mail.sync.message", "search_read", [("search_text", "ilike", self.tag)], ["message_id"]
            )
            return {row["message_id"] for row in rows}

        self.assertEqual(found(), set(message_ids), "found by the salesman's search as the run returns")

        def indexed():
            rows = self.odoo.sql(
                "SELECT count(*) FROM mail_sync_message m WHERE message_id = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM mail_sync_message_search s WHERE s.email_id = m.id)",
                [message_ids],
            )
            return rows[0][0] == 0

        # Nobody runs the job: the run's trigger wakes a cron worker, which builds the documents.
        production.wait_until(indexed, INDEX_BOUND, "a cron worker builds the emails' search documents")
        self.assertEqual(found(), set(message_ids), "found through their search documents")

    def test_a_folder_that_fails_is_a_warning_naming_it(self):
        box = self.dovecot.add_user()
        self.dovecot.deliver(box, make_email(to=box.email), folder="Projects")
        account_id, box = self.connect_mailbox(self.salesman, box)
        (projects,) = [folder for folder in self.folders(account_id) if folder["name"] == "Projects"]
        # The salesman ticks Synced for Projects on the account's form...
        self.salesman.call(
            "mail.sync.account",
            "web_save",
            [account_id],
            {"folder_ids": [(1, projects["id"], {"active": True})]},
            specification={},
        )
        # ...then deletes the folder in another mail client.
        self.assertEqual(self.imap(box).delete("Projects")[0], "OK")
        message_ids = self.deliver(box, 3, "survivor")

        action = self.salesman.button("mail.sync.account", "action_sync_now", [account_id])

        self.assertEqual(self.stored(message_ids), set(message_ids), "the other folders are synced")
        notice = action["params"]
        self.assertEqual(notice["type"], "warning", f"notification: {notice['message']!r}")
        self.assertIn("Projects", notice["message"])
        # The account's form shows the problem: in its error, or in a warning where it has one.
        shown = [name for name in ("last_error", "sync_warning") if name in self.account_fields]
        account = self.admin.call("mail.sync.account", "read", [account_id], shown)[0]
        self.assertTrue(
            any("Projects" in (account[name] or "") for name in shown),
            f"the account shows the problem: {account}",
        )

    def test_an_email_that_cannot_be_stored_stops_no_scheduled_sync(self):
        account_id, box = self.connect_mailbox(self.salesman)
        good = self.deliver(box, 2, "before")
        hostile = f"<hostile-{self.tag}@hostile.example>"
        self.dovecot.deliver(box, hostile_email(hostile, box.email))
        good += self.deliver(box, 2, "after")
        good += self.deliver(box, 1, "sent", folder="Sent")
        hostile_uid = self.inbox_uid(box, hostile)
        log_start = self.odoo.log_size()

        self.run_scheduled_action(SYNC_CRON)
        problems = self.untold(account_id, self.lost(account_id, good, hostile, hostile_uid), "first run")

        good += self.deliver(box, 1, "between")
        # The scheduled action's interval passes: the account is due again.
        self.odoo.sql(
            "UPDATE mail_sync_account SET last_attempt_date = last_attempt_date - interval '10 minutes' "
            "WHERE id = %s",
            [account_id],
        )
        self.run_scheduled_action(SYNC_CRON)
        lost = self.lost(account_id, good, hostile, hostile_uid)
        problems += self.untold(account_id, lost, "second run")
        account = self.account(account_id)
        if lost:
            problems.append(f"the second run did not get past them either: {lost}")
        elif account["state"] != "active":
            problems.append(f"two runs stored everything, yet the account is not active: {account}")

        if problems:
            logged = self.odoo.log_lines(r" ERROR |^\w+(Error|Exception): ", log_start)
            self.fail("\n".join([*problems, "The server logged:", *logged[:12]]))

    def imap(self, box):
        """Another mail client's connection to the mailbox."""
        client = imaplib.IMAP4(self.dovecot.host, self.dovecot.port)
        client.login(box.login, box.password)
        self.addCleanup(client.logout)
        return client

    def inbox_uid(self, box, message_id):
        client = self.imap(box)
        client.select("INBOX", readonly=True)
        _status, [uids] = client.uid("SEARCH", "HEADER", "Message-ID", f'"{message_id}"')
        return int(uids)

    def lost(self, account_id, good, hostile, hostile_uid):
        """The emails neither stored nor listed as failed (with a reason) on their folder."""
        stored = self.stored([*good, hostile])
        listed = {
            item["uid"]
            for folder in self.folders(account_id)
            if folder["name"] == "INBOX"
            for item in folder["failed_messages"] or []
            if item.get("reason")
        }
        lost = sorted(set(good) - stored)
        if hostile not in stored and hostile_uid not in listed:
            lost.append(hostile)
        return lost

    def untold(self, account_id, lost, run):
        """A problem when emails were lost and the account does not say that it failed."""
        account = self.account(account_id)
        if not lost or (account["state"] != "active" and account["last_error"] and account["failure_count"]):
            return []
        return [
            f"after the {run}, {len(lost)} emails were neither stored nor listed as failed {lost}, "
            f"and the account says: state {account['state']!r}, last error {account['last_error']!r}, "
            f"{account['failure_count']} failures, last sync {account['last_sync_date']!r}"
        ]
