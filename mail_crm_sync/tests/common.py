import contextlib
import os
import time
from email.utils import make_msgid
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tests.common import ChromeBrowser

from mail_crm_sync_engine.testing import DovecotServer, build_mail


def make_email(  # noqa: PLR0913 - the parts of an email, each with a default
    sender="alice@client.example",
    to="me@example.test",
    cc=None,
    subject="Hello",
    body="Hello there",
    html=None,
    message_id=None,
    date=None,
    attachment=None,
    in_reply_to=None,
    references=None,
    headers=None,
):
    """Raw bytes of an email as a mail client would send it; a reply names what it answers."""
    threading = dict(headers or {})
    if in_reply_to:
        threading["In-Reply-To"] = in_reply_to
        threading["References"] = " ".join([*(references or []), in_reply_to])
    return build_mail(
        sender=sender,
        to=to,
        cc=cc,
        subject=subject,
        text=body,
        html=html,
        attachments=(attachment,) if attachment else (),
        message_id=message_id or make_msgid(domain="client.example"),
        date=date,
        extra_headers=threading,
    )


class MailSyncCase(TransactionCase):
    """One private Dovecot per test class; each test gets fresh mailbox users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The sync claims accounts and commits batches on cursors of its own: in test mode they
        # are savepoints of the test transaction, as for HttpCase.
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.server = DovecotServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.salesman = new_test_user(
            cls.env, login="mcs_salesman", groups="sales_team.group_sale_salesman", name="Sally Sales"
        )
        cls.other_salesman = new_test_user(
            cls.env, login="mcs_other", groups="sales_team.group_sale_salesman", name="Otto Other"
        )
        cls.manager = new_test_user(
            cls.env, login="mcs_manager", groups="sales_team.group_sale_manager", name="Mona Manager"
        )
        cls.Account = cls.env["mail.sync.account"]
        cls.Message = cls.env["mail.sync.message"]
        # Sent at once: the tests of Undo Send and Send At (test_outbox_later.py) set their delay.
        cls.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.undo_send_seconds", "0")

    def deliver(self, mailbox_user, raw, folder="INBOX", age_days=0):
        """Put a message on the server; ``age_days`` backdates its arrival (INTERNALDATE)."""
        path = self.server.deliver(mailbox_user, raw, folder=folder)
        if age_days:
            when = time.time() - age_days * 86400
            os.utime(path, (when, when))
        return path

    def create_account(self, user=None, mailbox_user=None, **values):
        """An account of ``user`` on the harness server, connected (folders listed)."""
        mailbox_user = mailbox_user or self.server.add_user()
        user = user or self.salesman
        account = (
            self.Account.with_user(user)
            .create(
                {
                    "name": f"Mailbox of {user.name}",
                    "email": mailbox_user.email,
                    "user_id": user.id,
                    "imap_host": self.server.host,
                    "imap_port": self.server.port,
                    "imap_security": "none",
                    "password": mailbox_user.password,
                    **values,
                }
            )
            .sudo()
        )
        account.action_test_connection()
        return account, mailbox_user

    def sync(self, accounts, index_search=True):
        """The scheduled sync of ``accounts``; then, unless told otherwise, the search-index job the
        sync triggers for after its commit (which test mode never runs by itself)."""
        result = accounts._sync_accounts()
        if index_search:
            self.env["mail.sync.message"]._cron_index_search()
        self.env.invalidate_all()
        return result

    def messages(self, *message_ids):
        return self.Message.search([("message_id", "in", list(message_ids))])


class MailSyncHttpCase(HttpCase):
    """An HttpCase with one private Dovecot per class. HttpCase runs in test mode already: the
    sync's own cursors are savepoints of the test's transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = DovecotServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.env["ir.config_parameter"].sudo().set_param("mail_crm_sync.undo_send_seconds", "0")

    @classmethod
    def account_values(cls, box, **values):
        """What creates an account of the harness mailbox ``box``."""
        return {
            "name": f"Mailbox {box.email}",
            "email": box.email,
            "imap_host": cls.server.host,
            "imap_port": cls.server.port,
            "imap_security": "none",
            "password": box.password,
            **values,
        }


@contextlib.contextmanager
def screenshot_at_end(prefix):
    """Within this block, a tour's browser saves a screenshot of its last page before it stops
    (in the test run's screenshots folder, named ``prefix...png``), for a person to look at."""
    stop = ChromeBrowser.stop

    def stop_after_a_screenshot(browser):
        browser.take_screenshot(prefix).result(10)
        stop(browser)

    with patch.object(ChromeBrowser, "stop", stop_after_a_screenshot):
        yield


@contextlib.contextmanager
def screenshots_on_request():
    """Within this block, a tour step that logs ``mcs_shot:NAME`` (``shot`` in the tours) has the
    browser save a screenshot of the page then, named ``NAME_...png``, in the test run's screenshots
    folder (--screenshots): the before and after pictures of a screen, for a person to look at."""
    handle_console = ChromeBrowser._handle_console

    def handle_console_or_shoot(browser, type, args=None, **kwargs):
        if type == "log" and args:
            text = str(browser._from_remoteobject(args[0]))
            if text.startswith("mcs_shot:"):
                # Not waited for: this runs in the thread that receives the screenshot.
                browser.take_screenshot(text.removeprefix("mcs_shot:") + "_")
                return None
        return handle_console(browser, type, args, **kwargs)

    with patch.object(ChromeBrowser, "_handle_console", handle_console_or_shoot):
        yield
