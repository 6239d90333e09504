"""The outbox: email written in the CRM waits here until a job sends it, exactly once.

Send (``mail.sync.compose.action_send``) stores the email in the CRM at once, and here its bytes,
envelope and account, as **queued**, in the transaction of the request: a request that Odoo runs
again after a serialization failure queues one email, not two, and nothing has reached the SMTP
server while the request could still fail. After the commit, the sending job (``_cron_send``,
triggered by Send) claims each queued email as the sync claims an account (mail_sync_runtime.py:
an advisory lock on a cursor of its own, no row locked), marks it **sending** and commits, and only
then talks to the SMTP server; it records **sent** (or **failed**, with the server's words) and
commits, then files the copy in the Sent folder. A temporary failure (server unreachable, timeout,
throttled, a 4xx answer) is tried again later, with a growing delay.

An email is due at once, or after the few seconds of Undo Send (a setting), or at the moment its
sender chose (Send At); until the job claims it, Undo Send takes it back (``action_undo_send``).
"""

import datetime
import email.utils
import logging
import os
import socket

import psycopg2.errors
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, clean_context

from mail_crm_sync_engine import (
    AuthenticationFailed,
    DeliveryUncertain,
    MailSyncError,
    OutgoingMessage,
    ServerUnreachable,
    Throttled,
    Timeout,
    append_to_sent,
    connect,
    send_message,
)

from ..exceptions import MailSyncUserError
from .mail_sync_runtime import WorkCursor, claimed
from .notify import notification

_logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock(class, id): "mcso" while a job sends an email of the outbox.
OUTBOX_LOCK = 0x6D63736F
# A temporary failure is tried again after these delays (minutes), then the email is failed.
RETRY_DELAYS = (1, 5, 15, 60)
# Recording "sent" met a concurrent update: written again this many times at most.
MAX_RECORD_ATTEMPTS = 5
SEND_STATES = [("queued", "Queued"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")]


def is_temporary(error):
    """Whether trying again later may succeed: the server could not be reached or was too slow, or
    it answered with a 4xx code (it said "not now", not "never")."""
    if isinstance(error, ServerUnreachable | Timeout | Throttled):
        return True
    words = str(error).split(": ")
    return any(part[:1] == "4" and part[:3].isdigit() for part in words)


class MailSyncOutbox(models.Model):
    """One email to send: its bytes as composed, its envelope and the account it goes from.

    Written by Send and by the sending job only; users see its state on the CRM email."""

    _name = "mail.sync.outbox"
    _description = "Email to Send"
    _order = "id"
    _rec_name = "message_id"

    email_id = fields.Many2one("mail.sync.message", index=True, ondelete="cascade")
    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    message_id = fields.Char(string="Message-ID", required=True, readonly=True)
    raw = fields.Binary(string="Message", attachment=False, readonly=True, help="The bytes as composed.")
    envelope_from = fields.Char(required=True, readonly=True)
    recipients = fields.Text(required=True, readonly=True, help="One address a line: To, Cc and Bcc.")
    date = fields.Datetime(required=True, readonly=True, help="The Date header of the email.")
    state = fields.Selection(SEND_STATES, required=True, default="queued", index=True)
    last_error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(readonly=True, help="When a queued email is due.")
    sent_date = fields.Datetime(readonly=True)
    sending_on = fields.Char(readonly=True, help="The Odoo server and process of the last attempt.")
    compose_values = fields.Json(readonly=True, help="What the composer held: Undo Send opens it again.")

    _sql_constraints = [("message_id_unique", "UNIQUE(message_id)", "An email is sent once.")]

    # -- queueing ------------------------------------------------------------------------------

    @api.model
    def _queue(self, account, outgoing, origin=None, due=None, compose_values=None):
        """Store ``outgoing`` (an OutgoingMessage) in the CRM at once and queue it here, in the
        caller's transaction; the sending job is triggered for after its commit, or for ``due``
        (UTC) when it waits (Undo Send, Send At). ``compose_values`` are the composer's values, for
        Undo Send. Returns the row."""
        message = self.env["mail.sync.message"].sudo()._store_sent(account, outgoing, None, origin)
        row = self.sudo().create(
            {
                "email_id": message.id,
                "account_id": account.id,
                "message_id": outgoing.message_id,
                "raw": outgoing.data,
                "envelope_from": outgoing.envelope_from,
                "recipients": "\n".join(outgoing.recipients),
                "date": outgoing.date.astimezone(datetime.UTC).replace(tzinfo=None),
                "next_attempt": due or False,
                "compose_values": compose_values or False,
            }
        )
        row._trigger_job(due)
        return row

    def _trigger_job(self, at=None):
        """The sending job runs after this transaction commits (or at ``at``)."""
        self.env.ref("mail_crm_sync.ir_cron_mail_sync_outbox").sudo()._trigger(at)

    def _outgoing(self):
        self.ensure_one()
        return OutgoingMessage(
            data=self.raw,
            message_id=self.message_id,
            date=self.date.replace(tzinfo=datetime.UTC),
            envelope_from=self.envelope_from,
            recipients=tuple(self.recipients.split()),
        )

    def action_retry(self):
        """Queue a failed email again (the user checked their Sent folder, for an interrupted one)."""
        for row in self:
            if row.state != "failed":
                raise MailSyncUserError(
                    self.env._("Only an email whose sending failed can be tried again."),
                    self.env._("Nothing to Try Again"),
                )
        self.write({"state": "queued", "next_attempt": False, "attempts": 0})
        self._trigger_job()

    # -- the job ---------------------------------------------------------------------------------

    @api.model
    def _cron_send(self):
        """Send every email that is due, each in its own transactions; one failing never stops
        the others."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT id FROM mail_sync_outbox
                    WHERE state = 'sending'
                       OR (state = 'queued' AND (next_attempt IS NULL
                                                 OR next_attempt <= now() at time zone 'UTC'))
                    ORDER BY id"""
            )
        )
        ids = [row_id for (row_id,) in self.env.cr.fetchall()]
        for row_id in ids:
            try:
                self.browse(row_id)._send_claimed()
            except Exception:  # the next email is sent all the same; this one stays where it was
                _logger.exception("Sending outbox email %s crashed", row_id)
        self.env.invalidate_all()

    def _send_claimed(self):
        """Claim the email (an advisory lock, mail_sync_runtime.claimed) and send it, once.

        The email is marked ``sending`` and committed before the SMTP server is asked, and the
        claim is held until ``sent`` is committed. So an email found ``sending`` by a job holding
        the claim was left by a worker that died while sending: the SMTP server may or may not
        have taken it, and nothing here can tell (the Message-ID is not in the Sent folder before
        we file it ourselves, and providers that file sent mail do it late). Sending it again
        might give the customer a second copy; not sending it might lose it. Neither is decided
        blindly: the email is ``failed`` with that reason, and the user, who can look in their
        Sent folder or ask the customer, presses Retry if it did not go.
        """
        self.ensure_one()
        with claimed(self.env, OUTBOX_LOCK, self.id) as held:
            if not held:
                return "busy"
            work = WorkCursor(self.env)
            try:
                return work.bind(self.sudo())._send(work)
            finally:
                work.close()

    def _send(self, work):
        """The sending proper, on the work cursor of the claim: "sent", "queued", "failed" or
        "busy" (nothing to do)."""
        self.env.cr.execute(
            SQL(
                """SELECT state, next_attempt IS NULL OR next_attempt <= now() at time zone 'UTC'
                     FROM mail_sync_outbox WHERE id = %s""",
                self.id,
            )
        )
        found = self.env.cr.fetchone()
        if not found:
            return "busy"
        state, due = found
        if state == "sending":
            _logger.warning("Outbox email %s was interrupted while sending: not sent again", self.id)
            self._record(
                "failed",
                self.env._(
                    "Sending was interrupted: the email may or may not have gone. Check your Sent folder, "
                    "then press Retry if it is not there."
                ),
            )
            work.commit()
            return "failed"
        if state != "queued" or not due:
            return "busy"
        self.write(
            {
                "state": "sending",
                "attempts": self.attempts + 1,
                "sending_on": f"{socket.gethostname()}, process {os.getpid()}",
            }
        )
        work.commit()  # before the SMTP server hears of it: see _send_claimed
        account = self.account_id
        outgoing = self._outgoing()
        try:
            self._submit(account, outgoing)
        except (MailSyncError, UserError) as error:
            return self._failed(work, account, error)
        _logger.info("Mail %s sent from mail account %s", outgoing.message_id, account.id)
        self._record_sent(work)
        self._file_in_sent(work, account, outgoing)
        # Sent and filed: the CRM email holds what it said; the composed bytes are not needed again.
        self.write({"raw": False, "compose_values": False})
        work.commit()
        return "sent"

    def _submit(self, account, outgoing):
        def send():
            send_message(account._smtp_settings(), outgoing.envelope_from, outgoing.recipients, outgoing.data)

        try:
            send()
        except AuthenticationFailed as refusal:
            # Refused at AUTH (or before MAIL FROM): nothing was sent. An OAuth account gets one
            # fresh token and one more try, as the sync does.
            if not account._retry_after_refusal(refusal):
                raise
            send()

    def _failed(self, work, account, error):
        """Not sent, or not known to be: queue it again after a delay when trying again may help and
        cannot send it twice, else fail with the server's words."""
        work.rollback()
        if isinstance(error, DeliveryUncertain):
            # The server had the whole email when it went quiet: it may have gone. Never again by
            # itself; the user looks and decides (Retry).
            reason = self.env._(
                "The SMTP server received the whole email but never confirmed it, so it may have gone. "
                "Check your Sent folder or with a recipient, and press Retry only if it did not arrive. "
                "Server said: %(detail)s",
                detail=str(error),
            )
        elif isinstance(error, MailSyncError):
            reason = account._error_message(error)
        else:
            reason = (error.args or [""])[0]
        if isinstance(error, MailSyncError) and is_temporary(error) and self.attempts <= len(RETRY_DELAYS):
            delay = RETRY_DELAYS[self.attempts - 1]
            at = fields.Datetime.now() + datetime.timedelta(minutes=delay)
            _logger.info("Mail %s not sent (%s): tried again at %s", self.message_id, error, at)
            self._record("queued", reason, next_attempt=at)
            self._trigger_job(at)
            work.commit()
            return "queued"
        _logger.info("Mail %s not sent: %s", self.message_id, error)
        self._record("failed", reason)
        work.commit()
        return "failed"

    def _record(self, state, reason=False, **values):
        self.write({"state": state, "last_error": reason, **values})

    def _record_sent(self, work):
        """The SMTP server took it: say so, retried on a concurrent update, never sent again."""
        for attempt in range(1, MAX_RECORD_ATTEMPTS + 1):
            try:
                self._record("sent", sent_date=fields.Datetime.now(), next_attempt=False)
                work.commit()
                return
            except psycopg2.errors.SerializationFailure:
                work.rollback()
                _logger.info("Recording mail %s as sent met a concurrent update; again", self.message_id)
                if attempt == MAX_RECORD_ATTEMPTS:
                    raise

    def _file_in_sent(self, work, account, outgoing):
        """Put the sent bytes in the server's Sent folder (where the provider does not do it itself)
        and record where on the CRM email; a failure there is a warning on the email: it went."""
        if account._files_sent_mail():
            return
        try:
            with connect(account._connection_settings()) as mailbox:
                location = append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
        except (MailSyncError, UserError) as error:
            _logger.info(
                "Sent copy of %s not filed in mail account %s: %s", outgoing.message_id, account.id, error
            )
            detail = account._error_message(error) if isinstance(error, MailSyncError) else str(error)
            self._record(
                "sent",
                self.env._(
                    "The email was sent, but its copy could not be put in the Sent folder of the mailbox: "
                    "%(error)s",
                    error=detail,
                ),
            )
            work.commit()
            return
        self.env["mail.sync.message"]._store_sent(account, outgoing, location)
        work.commit()


class MailSyncMessage(models.Model):
    """The sending side of a CRM email written in the CRM: its state in the outbox, and its Bcc."""

    _inherit = "mail.sync.message"  # pylint: disable=consider-merging-classes-inherited

    outbox_ids = fields.One2many("mail.sync.outbox", "email_id")
    send_state = fields.Selection(
        SEND_STATES,
        compute="_compute_send_state",
        store=True,
        string="Sending",
        help="Empty for an email that was not written in the CRM.",
    )
    send_error = fields.Text(compute="_compute_send_state", store=True, string="Sending Error")
    email_bcc = fields.Text(string="Bcc", readonly=True, help="Whom the sender sent a blind copy.")
    send_scheduled = fields.Datetime(
        compute="_compute_send_scheduled",
        string="Goes At",
        help="When a queued email that has not been tried yet goes; until then Undo Send takes it back.",
    )

    @api.depends("outbox_ids.state", "outbox_ids.last_error")
    def _compute_send_state(self):
        for message in self:
            row = message.outbox_ids[-1:]
            message.send_state = row.state
            message.send_error = row.last_error

    @api.depends("outbox_ids.state", "outbox_ids.next_attempt", "outbox_ids.attempts")
    @api.depends_context("uid")
    def _compute_send_scheduled(self):
        now = fields.Datetime.now()
        for message in self:
            row = message.sudo().outbox_ids[-1:]
            waiting = row.state == "queued" and not row.attempts and row.next_attempt
            message.send_scheduled = row.next_attempt if waiting and row.next_attempt > now else False

    def action_retry_send(self):
        """Send a failed email again: for whoever may send from its account."""
        self.check_access("read")
        rows = self.sudo().outbox_ids.filtered(lambda row: row.state == "failed")
        user = self.env.user
        if any(not row.account_id._may_send(user) for row in rows):
            raise MailSyncUserError(
                self.env._("You may not send from this account."), self.env._("Not Allowed")
            )
        rows.action_retry()
        return notification(self.env._("Your email is queued and being sent."), kind="info")

    def action_undo_send(self):
        """Take back an email that has not gone (Undo Send, or a Send At still to come): it leaves
        the outbox and the CRM, and the composer opens again with what it held.

        One conditional DELETE decides between this and the job: the row goes only while it is
        queued and untried. A job that claimed it first has written ``sending`` (then nothing is
        deleted and the user is told); one that claims it after meets a row deleted by a
        concurrent transaction and fails to mark it (REPEATABLE READ), so it never sends it."""
        self.ensure_one()
        self.check_access("read")
        rows = self.sudo().outbox_ids
        if any(not row.account_id._may_send(self.env.user) for row in rows):
            raise MailSyncUserError(
                self.env._("You may not send from this account."), self.env._("Not Allowed")
            )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """DELETE FROM mail_sync_outbox
                    WHERE email_id = %s AND state = 'queued' AND coalesce(attempts, 0) = 0
                RETURNING compose_values""",
                self.id,
            )
        )
        taken = self.env.cr.fetchall()
        if not rows or len(taken) != len(rows):
            raise MailSyncUserError(
                self.env._(
                    "This email has already been sent (or is being sent): it can no longer be undone."
                ),
                self.env._("Already Sent"),
            )
        rows.invalidate_recordset()
        self.sudo().unlink()
        _logger.info("Outbox email %s taken back by user %s before sending", rows.ids, self.env.uid)
        message = self.env._("Your email was not sent.")
        values = taken[-1][0]
        if not values:
            return notification(message, kind="warning")
        composer = self._composer_again(values)
        return notification(
            self.env._("%(message)s It is back in the composer.", message=message),
            kind="warning",
            then=composer,
        )

    def _composer_again(self, values):
        """The composer of an email taken back, filled as it was when Send was pressed."""
        attachments = self.env["ir.attachment"].browse(values.pop("attachment_ids", [])).exists()
        # Without the context of the button (its active_id is the email just deleted).
        Compose = self.env["mail.sync.compose"].with_context(
            clean_context(self.env.context), active_model=None, active_id=None, active_ids=None
        )
        wizard = Compose.create({**values, "attachment_ids": [(6, 0, attachments.ids)]})
        return {**Compose._action_open(), "res_id": wizard.id, "context": {}}

    def _action_open_queued(self):
        """The email just queued, in a dialog: where its sender sees when it goes and can undo it."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.subject or self.env._("Email"),
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "new",
        }

    @api.model
    def _sent_bcc(self, outgoing):
        """The blind copies of ``outgoing``: its recipients that its To and Cc do not show."""
        parsed = email.message_from_bytes(outgoing.data)
        shown = {
            address.lower()
            for _name, address in email.utils.getaddresses(
                parsed.get_all("To", []) + parsed.get_all("Cc", [])
            )
        }
        return ", ".join(address for address in outgoing.recipients if address.lower() not in shown)
