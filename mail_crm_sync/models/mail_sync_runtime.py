"""The runtime of every sync: how a run claims its account, reads the mailbox, stores and ends.

Used alike by the regular sync (``mail.sync.account._sync_claimed``: the scheduled action, Download
New Messages, Instant Inbox's "download new mail now") and by fetching older mail
(``mail.sync.backfill``):

- **The claim** is a transaction-level advisory lock taken on a cursor that does nothing else
  (``claimed``). No row is locked: the owner saving the account's form, an administrator archiving
  the owner, a refreshed OAuth token being saved never wait for a sync. The lock goes with the
  connection when a worker dies. Who runs what since when is kept in ``mail.sync.runtime``, a
  table of its own, as Instant Inbox keeps its state in ``mail.sync.inbox.watch``.
- **The work cursor** (``WorkCursor``), opened once the claim is held (its first snapshot sees what
  the previous run committed), reads the settings and stores the mail, committing after each batch.
- **The reading** (``read_mailbox``): the engine in a thread of its own (``MailboxReader``), with
  the run's deadline; the settings are read (and an OAuth token refreshed and committed) first; a
  configuration that cannot work (an encryption key missing, an OAuth client not set up) becomes a
  ``ConfigurationError``; a login the server refuses gets one retry when the account can cure it
  (``_retry_after_refusal``: a fresh OAuth token).
- **The outcome** is written on the account at the end, in a short transaction retried if the
  owner saved the account at the same moment (``commit_outcome``).
"""

import contextlib
import logging
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2.errors
from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from mail_crm_sync_engine import (
    AuthenticationFailed,
    FolderError,
    FolderRole,
    FolderState,
    GrantRevoked,
    MailSyncError,
    MessageGone,
    MessageRefused,
    RecipientsRefused,
    RunDeadlineReached,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
    Unsupported,
)

from .mailbox_reader import FolderToRead, MailboxReader

_logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock(class, id): "mcss" while an account syncs, "mcsb" while a back-fill
# job of older mail runs.
SYNC_LOCK = 0x6D637373
BACKFILL_LOCK = 0x6D637362
MAX_CONSECUTIVE_FAILURES = 10
# Batches one account may take per run before the others get their turn.
BATCHES_PER_RUN = 20
BATCH_SIZE = 500
# A batch met another worker storing the same mail: stored again this many times at most.
MAX_STORE_ATTEMPTS = 5
# The outcome met a save of the account at the same moment: written again this many times at most.
MAX_OUTCOME_ATTEMPTS = 5
CONCURRENT_UPDATE = (psycopg2.errors.SerializationFailure, psycopg2.errors.UniqueViolation)
# What a poll reads of its account: its own addresses, its server and login. Fetched alone, not
# with the account's fifty other columns (a third of the cost of that read); a run that needs more
# (a first sync's window, an OAuth token, a failure's outcome) fetches the rest then.
POLL_FIELDS = [
    "email",
    "username",
    "provider",
    "imap_host",
    "imap_port",
    "imap_security",
    "password_stored",
    "allow_insecure_certificate",
]


class UnexpectedSyncError(MailSyncError):
    """A sync that failed for a reason no mail server gives (a bug): told on the account like any
    failure, and counted, so that an account failing at every run stops."""


class ConfigurationError(MailSyncError):
    """This Odoo cannot sync the account as it is configured (the key its password was encrypted
    with is missing, an OAuth client has no secret): counted like connection failures, and told to
    the owner once, with what to do."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one account's sync did: its status ("done", "pending": more to download, "failed",
    "busy": another worker has it), the emails it stored and committed, the folders it could not
    read ({name: the reason shown}), and the error that ended it."""

    status: str
    stored: int = 0
    folder_errors: tuple[tuple[str, str], ...] = ()
    error: MailSyncError | None = None


@contextmanager
def claimed(env, lock_class, key):
    """Whether this worker holds the advisory lock (``lock_class``, ``key``) for the block: True, or
    False at once when another holds it. The lock lives in a transaction of its own that locks no
    row and writes nothing; it ends with the block (or with the connection, if the worker dies)."""
    with env.registry.cursor() as cr:
        cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", lock_class, key))
        yield cr.fetchone()[0]


def claim_next(cr, lock_class, candidates):
    """The first of ``candidates`` (SQL: a query of ids, in the order to take them) whose advisory
    lock (``lock_class``, id) no other connection holds, claimed in the transaction of ``cr`` (a
    cursor that does nothing else, as in ``claimed``: the claim ends with its transaction); None
    when there is none. One statement picks and claims: the lock is tried on each candidate in turn,
    and held on the one returned only (the workers that run at once each take the next free one,
    instead of meeting each other's on a list read before)."""
    cr.execute(
        SQL(
            # OFFSET 0 keeps the lock out of the subquery: it is tried on the rows in order, until
            # one is claimed.
            "SELECT id FROM (%s OFFSET 0) candidate WHERE pg_try_advisory_xact_lock(%s, id) LIMIT 1",
            candidates,
            lock_class,
        )
    )
    row = cr.fetchone()
    return row[0] if row else None


def held_elsewhere(cr, lock_class, key):
    """Whether another connection holds the advisory lock (``lock_class``, ``key``): read from
    pg_locks, so that asking takes no lock (a claim tried at the same moment is not refused)."""
    cr.execute(
        SQL(
            """SELECT EXISTS(SELECT 1 FROM pg_locks
                              WHERE locktype = 'advisory' AND granted AND objsubid = 2
                                AND pid != pg_backend_pid()
                                AND database = (SELECT oid FROM pg_database
                                                 WHERE datname = current_database())
                                AND classid = %s AND objid = %s)""",
            lock_class,
            key,
        )
    )
    return cr.fetchone()[0]


class WorkCursor:
    """The cursor a run reads its settings and stores the mail with, in the thread that holds the
    claim; committed after each batch. ``bind(record)`` puts a record on it."""

    def __init__(self, env):
        self.cr = env.registry.cursor()
        self.env = env(cr=self.cr)

    def bind(self, record):
        return record.with_env(self.env(su=record.env.su, context=record.env.context))

    def commit(self):
        self.cr.commit()  # pylint: disable=invalid-commit  # the run's own cursor

    def rollback(self):
        self.cr.rollback()
        self.env.invalidate_all()

    def close(self):
        self.cr.close()  # what was not committed is rolled back


def store_and_commit(account, folder, batch):
    """Store a batch in one transaction of the work cursor, retried when another worker stored the
    same mail meanwhile; returns the number of emails it created.

    A batch the database refuses for another reason (an email no check foresaw) is stored again
    one email at a time: an email still refused is listed as failed on its folder, with the reason,
    and the batch, its folder and the account go on. No email can stop a mailbox.
    """
    Message = account.env["mail.sync.message"]
    cr = account.env.cr
    for attempt in range(1, MAX_STORE_ATTEMPTS + 1):
        try:
            created = Message._store_batch(folder, batch)
            # One commit per batch: a long first sync keeps its progress.
            cr.commit()  # pylint: disable=invalid-commit
            return len(created)
        except CONCURRENT_UPDATE:
            cr.rollback()
            account.env.invalidate_all()
            if attempt == MAX_STORE_ATTEMPTS:
                raise
            _logger.info(
                "Batch of %s in mail account %s met a concurrent update; retrying", folder.name, account.id
            )
        except Exception:  # the database refused something in this batch: find which email
            _logger.warning(
                "Batch of %s in mail account %s could not be stored whole; storing it email by email",
                folder.name,
                account.id,
                exc_info=True,
            )
            cr.rollback()
            account.env.invalidate_all()
            created = Message._store_batch(folder, batch, one_by_one=True)
            cr.commit()  # pylint: disable=invalid-commit
            return len(created)
    return 0


def read_mailbox(account, work, open_reader, handle):
    """Read the account's mailbox: ``open_reader(settings)`` gives the reader (a MailboxReader),
    ``handle(kind, folder, item)`` is called with each of its items, on the work cursor.

    Returns (error that ended the reading or None, whether the reader stopped with more to read).
    The settings come first, committed (an OAuth token refreshed for them is kept, whatever comes
    next); a login refused before anything was read is tried once more when the account can cure
    the refusal (``_retry_after_refusal``).
    """
    for attempt in (1, 2):
        try:
            settings = account._connection_settings()
            work.commit()
        except (UserError, MailSyncError) as error:
            work.rollback()
            return as_sync_error(error), False
        error, truncated, handled = _read(settings, open_reader, handle)
        if isinstance(error, AuthenticationFailed) and not handled and attempt == 1:
            retry, error = _cure(account, work, error)
            if retry:
                _logger.info("Mail account %s: the login was refused; logging in once more", account.id)
                continue
        return error, truncated
    return None, False


def _read(settings, open_reader, handle):
    """(error or None, truncated, whether any item was handled) of one connection."""
    handled = False
    try:
        with open_reader(settings) as reader:
            for kind, folder, item in reader:
                handled = True
                handle(kind, folder, item)
    except MailSyncError as error:
        return error, False, handled
    return None, reader.truncated, handled


def _cure(account, work, refusal):
    """(whether to log in again, the error to report) after the server refused the login."""
    try:
        retry = account._retry_after_refusal(refusal)
    except (UserError, MailSyncError) as error:
        work.rollback()
        return False, as_sync_error(error)
    work.commit()
    return retry, None if retry else refusal


def as_sync_error(error):
    if isinstance(error, MailSyncError):
        return error
    return ConfigurationError(error.args[0] if error.args else str(error))


# Put first in the statement of a transaction that writes only the run's own bookkeeping (the
# runtime's row, the outcome's dates and state): its commit does not wait for the disk
# (asynchronous commit, PostgreSQL's synchronous_commit). Other connections see it at once, and a
# crash of the database server may lose only those last marks, which the next run writes again.
# They are all an idle poll writes: waiting for two disk flushes each time would cost more than the
# rest of the poll, and so would a statement of its own. The mail a batch stores, and an OAuth token
# refreshed for the settings, are committed as usual (``store_and_commit``, ``read_mailbox``).
ASYNC_COMMIT = SQL("SET LOCAL synchronous_commit TO OFF;")


def commit_outcome(work, write):
    """Run ``write`` (the outcome on the account) in a short transaction of its own, with what
    others committed meanwhile; again if the owner saved the account at that very moment."""
    work.commit()
    work.env.invalidate_all()
    for attempt in range(1, MAX_OUTCOME_ATTEMPTS + 1):
        try:
            write()
            work.commit()  # asynchronous: ``_finished`` asked for it
            return
        except psycopg2.errors.SerializationFailure:
            work.rollback()
            if attempt == MAX_OUTCOME_ATTEMPTS:
                raise


class MailSyncRuntime(models.Model):
    """Where the runs of one account stand: which worker runs it since when, and what the last run
    did. Written by the runs alone, never by the account's form: the account's row is written only
    at the end of a run, with its outcome."""

    _name = "mail.sync.runtime"
    _description = "Mail Sync Runtime"
    _rec_name = "account_id"
    _log_access = False

    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    running_since = fields.Datetime(help="When the run under way started; empty between runs.")
    running_on = fields.Char(help="The Odoo server and process of the run under way.")
    last_run_start = fields.Datetime()
    last_run_end = fields.Datetime()
    last_run_stored = fields.Integer(help="Emails the last run stored.")
    last_run_status = fields.Char()

    _sql_constraints = [("account_unique", "UNIQUE(account_id)", "An account has one runtime.")]

    @api.model
    def _start_if_due(self, account_id, due):
        """A run of the account starts here if the account is still to be synced (``due``, a
        condition on its row: ``mail.sync.account._due_sql``); whether it does. One statement for
        the check and the mark, committed by the caller without waiting for the disk (ASYNC_COMMIT)."""
        self.env.cr.execute(
            SQL(
                """%(async_commit)s
                   INSERT INTO mail_sync_runtime (account_id, running_since, running_on)
                   SELECT id, now() at time zone 'UTC', %(on)s FROM mail_sync_account
                    WHERE id = %(account)s AND %(due)s
                   ON CONFLICT (account_id) DO UPDATE
                   SET running_since = EXCLUDED.running_since, running_on = EXCLUDED.running_on
                   RETURNING account_id""",
                async_commit=ASYNC_COMMIT,
                account=account_id,
                due=due,
                on=f"{socket.gethostname()}, process {os.getpid()}",
            )
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _finished(self, account_id, result):
        """The run's end on its runtime row; its transaction (the outcome on the account) is then
        committed without waiting for the disk (ASYNC_COMMIT)."""
        self.env.cr.execute(SQL("%s %s", ASYNC_COMMIT, self._finished_sql(account_id, result)))

    @api.model
    def _finished_sql(self, account_id, result):
        """The UPDATE of ``_finished``, for a statement that carries it with the outcome
        (``mail.sync.account._record_outcome``)."""
        return SQL(
            """UPDATE mail_sync_runtime
               SET last_run_start = running_since, last_run_end = now() at time zone 'UTC',
                   last_run_stored = %s, last_run_status = %s, running_since = NULL, running_on = NULL
               WHERE account_id = %s""",
            result.stored,
            result.status,
            account_id,
        )

    @api.model
    def _running(self, account_ids):
        """{account id: (since, on)} of the accounts a run holds now (its claim is held: a worker
        that died left its row, not its lock)."""
        runtimes = self.sudo().search(
            [("account_id", "in", list(account_ids)), ("running_since", "!=", False)]
        )
        return {
            runtime.account_id.id: (runtime.running_since, runtime.running_on)
            for runtime in runtimes
            if held_elsewhere(self.env.cr, SYNC_LOCK, runtime.account_id.id)
        }


class MailSyncAccount(models.Model):
    """The account's side of the runtime: its runs, and their outcome on it (state, error,
    warnings, who is told what). The fields and buttons are in mail_sync_account.py."""

    _inherit = "mail.sync.account"  # pylint: disable=consider-merging-classes-inherited

    def _sync_accounts(self, due_before=None):
        """Sync each account in its own transactions; one failing never stops the others.

        With ``due_before``, an account is synced only if it is still due when claimed (pending, or
        not attempted since then): another worker may have synced it since this list was read.
        Returns {account id: "done", "pending" (more to download: the next run goes on), "failed",
        or "busy" (another worker has it, or had it since)}; ``_run_syncs`` tells more.
        """
        return {account_id: result.status for account_id, result in self._run_syncs(due_before).items()}

    def _run_syncs(self, due_before=None):
        """``_sync_accounts``, with each account's SyncResult. A sync that crashes (a bug, a
        configuration error) is recorded on its account like any failure, in a transaction of its
        own: what the crash rolled back cannot hide it."""
        self.env.flush_all()
        results = {}
        for account_id in self.ids:
            try:
                results[account_id] = self.browse(account_id)._sync_claimed(due_before)
            except Exception as error:  # whatever it was, the next account is synced and this one says so
                results[account_id] = self.browse(account_id)._crashed(error)
        self.env.invalidate_all()
        return results

    @api.model
    def _sync_due(self, due_before, until):
        """The scheduled sync's work: the due accounts (``_due_accounts_sql``), the longest
        unattempted first, each claimed in the statement that picks it (``claim_next``), so that
        copies of the job running at once each take the next account no other holds; none started
        past ``until`` (a time.monotonic() moment), at least one. An account is taken once per
        call. One claim cursor and one work cursor serve the whole call: each account's run ends
        its transactions, so that the next run's start after its claim. Returns ({account id:
        SyncResult}, how many due accounts were left for the next call)."""
        self.env.flush_all()
        results, left = {}, 0
        with self.env.registry.cursor() as claims, contextlib.ExitStack() as stack:
            work = None
            while not results or time.monotonic() < until:
                account_id = claim_next(claims, SYNC_LOCK, self._due_accounts_sql(due_before, list(results)))
                if account_id is None:
                    break
                try:
                    if work is None:
                        work = stack.enter_context(contextlib.closing(WorkCursor(self.env)))
                    results[account_id] = self.browse(account_id)._sync_held(work, due_before)
                except Exception as error:  # as in _run_syncs: the next account is synced
                    claims.rollback()  # the claim ends, as it would with a cursor of its own
                    stack.close()  # and a new work cursor for the next account
                    work = None
                    results[account_id] = self.browse(account_id)._crashed(error)
                else:
                    claims.commit()  # the claim ends with the run
            else:  # out of time
                claims.execute(
                    SQL("SELECT count(*) FROM (%s) due", self._due_accounts_sql(due_before, list(results)))
                )
                left = claims.fetchone()[0]
        self.env.invalidate_all()
        return results, left

    @api.model
    def _due_accounts_sql(self, due_before, skip_ids=()):
        """SQL: the ids of the accounts the scheduled sync is to poll now, the longest unattempted
        first (``_due_sql``; and of an active owner, or shared), but ``skip_ids``. Read through the
        index ``mail_sync_account_due_index`` (``init``): a claim reads the head of the queue."""
        # The owner joined row by row, as the index gives the accounts (an EXISTS would become a
        # hashed scan of every user at each claim); under names of its own (``_due_sql``'s are bare).
        return SQL(
            """SELECT mail_sync_account.id
                 FROM mail_sync_account
            LEFT JOIN (SELECT id AS owner_id, active AS owner_active FROM res_users) owner
                   ON owner.owner_id = mail_sync_account.user_id
                WHERE mail_sync_account.active AND %(due)s AND mail_sync_account.id != ALL(%(skip)s)
                  AND (account_type = 'shared' OR owner_active)
                ORDER BY last_attempt_date ASC NULLS FIRST, mail_sync_account.id""",
            due=self._due_sql(due_before),
            skip=list(skip_ids),
        )

    def _crashed(self, error):
        """The SyncResult of a run that crashed with ``error``, recorded on the account
        (``_record_crash``); called once its claim is released."""
        _logger.exception("Sync of mail account %s crashed", self.id)
        crash = UnexpectedSyncError(str(error) or type(error).__name__)
        self._record_crash(crash)
        return SyncResult("failed", error=crash)

    def _record_crash(self, error):
        """Record an unexpected failure on the account, on a cursor of its own."""
        try:
            with self.env.registry.cursor() as cr:
                self.with_env(self.env(cr=cr, su=True))._record_outcome("failed", error)
        except Exception:  # the database itself is failing: the log is all that is left
            _logger.exception("The failure of mail account %s could not be recorded", self.id)

    def _sync_claimed(self, due_before=None):
        """Claim the account (mail_sync_runtime.py: an advisory lock, no row locked), sync it on a
        cursor of its own that commits per batch, and write the outcome on the account at the end.

        With ``due_before``, the account is synced only if it is still due once claimed: the work
        cursor's first snapshot comes after the claim, so it sees the outcome of a worker that
        finished the account before this one looked.
        """
        self.ensure_one()
        with claimed(self.env, SYNC_LOCK, self.id) as held:
            if not held:
                _logger.info("Mail account %s is being synced by another worker", self.id)
                return SyncResult("busy")
            work = WorkCursor(self.env)
            try:
                return self._sync_held(work, due_before)
            finally:
                work.close()

    def _sync_held(self, work, due_before=None):
        """The run of an account whose claim this worker holds (``_sync_claimed``, ``_sync_due``),
        on ``work`` (a WorkCursor): its transactions all end here, so that the next run on it
        starts with a snapshot of its own."""
        self.ensure_one()
        try:
            account = work.bind(self.sudo())
            Runtime = account.env["mail.sync.runtime"]
            if not Runtime._start_if_due(account.id, self._due_sql(due_before)):
                _logger.info("Mail account %s was synced meanwhile or is not active", self.id)
                return SyncResult("busy")
            work.commit()  # asynchronous: ``_start_if_due`` asked for it
            result = account._sync_folders(work)

            def write():
                account._record_outcome(
                    result.status,
                    result.error,
                    result.folder_errors,
                    Runtime._finished_sql(account.id, result),
                )
                if result.stored:  # the batches asked for the search-index job later: now
                    account.env["mail.sync.message"]._index_search_later()

            commit_outcome(work, write)
            return result
        finally:
            work.rollback()  # what was not committed: a run that stopped early

    @api.model
    def _due_sql(self, due_before=None):
        """SQL condition on an account's row: it is to be synced now: active, and with
        ``due_before``, pending or not attempted since then."""
        if not due_before:
            return SQL("state IN ('active', 'failing')")
        return SQL(
            "state IN ('active', 'failing') "
            "AND (sync_pending OR last_attempt_date IS NULL OR last_attempt_date < %s)",
            due_before,
        )

    def _sync_folders(self, work):
        """The sync proper, on the work cursor: a SyncResult.

        The engine reads the mailbox in a thread of its own (MailboxReader), one batch ahead; this
        thread stores each batch and answers what the engine asks of the database.
        """
        # Read here, before the settings' commit empties the cache: a poll that finds nothing new
        # then reads the account and its folders once (bench/idle_poll.py).
        self.fetch(POLL_FIELDS)
        active_folders = self.env["mail.sync.folder"].search_fetch(
            [("account_id", "=", self.id), ("active", "=", True)],
            ["name", "role", "sync_state", "failed_messages"],
            order="sequence, name, id",  # the folders' order, without joining the account's
        )
        folders = [
            FolderToRead(
                folder,
                folder.name,
                FolderRole(folder.role),
                FolderState.from_dict(folder.sync_state),
                retry_uids=folder._retry_uids(),
            )
            for folder in active_folders
        ]
        own_addresses = self._own_addresses()
        run_deadline = self.env["res.config.settings"]._mail_sync_run_seconds()
        stored, folder_errors = 0, []

        def open_reader(settings):
            return MailboxReader(
                settings,
                folders,
                # Worked out only for a first sync or a reset, as are the stored UIDs.
                self._window_start,
                lambda folder: folder.record._known_uids(folder.state),
                limit=BATCHES_PER_RUN,
                run_deadline=run_deadline,
                own_addresses=own_addresses,
                batch_size=BATCH_SIZE,
                extra_headers=self.env["mail.sync.message"]._extra_headers(),
            )

        def handle(kind, folder, item):
            nonlocal stored
            if kind == "folder_error":
                _logger.info("Folder %s of mail account %s failed: %s", folder.name, self.id, item)
                reason = self._error_message(item)
                folder.record.last_error = reason
                work.commit()
                folder_errors.append((folder.name, reason))
            else:
                stored += self._store_and_commit(folder.record, item)

        error, truncated = read_mailbox(self, work, open_reader, handle)
        if error is None:
            return SyncResult("pending" if truncated else "done", stored, tuple(folder_errors))
        work.rollback()
        if isinstance(error, RunDeadlineReached):
            _logger.info("Sync of mail account %s stopped at its deadline: %s", self.id, error)
            # A slow server that still gave mail is progress, not a failure: no count towards
            # disabling the account; the warning says why it stopped.
            return SyncResult("pending" if stored else "failed", stored, tuple(folder_errors), error)
        _logger.info("Sync of mail account %s failed: %s", self.id, error)
        return SyncResult("failed", stored, tuple(folder_errors), error)

    def _store_and_commit(self, folder, batch):
        """Store a batch and commit it (mail_sync_runtime.store_and_commit); the number of emails
        it created. Called on the work cursor of a run."""
        return store_and_commit(self, folder, batch)

    def _record_outcome(self, status, error, folder_errors=(), run_end=None):
        """The outcome of a sync on the account: its state, the error that ended it, and as a
        warning the folders it could not read ((name, reason) pairs). ``run_end``: the run's end on
        its runtime row (``mail.sync.runtime._finished_sql``), sent with the outcome's first
        statement; the transaction is then committed without waiting for the disk (ASYNC_COMMIT)."""
        now = fields.Datetime.now()
        warning = self._outcome_warning(status, error, folder_errors)
        if self._outcome_of_dates(status == "done" and not warning, now, run_end):
            return
        if status in ("done", "pending"):
            self._write_outcome(
                {
                    "state": "active",
                    "failure_count": 0,
                    "last_error": False,
                    "sync_warning": warning or False,
                    "last_sync_date": now,
                    "last_attempt_date": now,
                    "sync_pending": status == "pending",
                }
            )
            return
        values = {
            "last_error": self._error_message(error),
            "sync_warning": warning or False,
            "last_attempt_date": now,
            "sync_pending": False,
        }
        if self._needs_reconnect(error):
            # Trying again cannot help: the owner must sign in again. Not counted as failures.
            self._write_outcome({**values, "state": "reconnect"})
            self._notify_reconnect()
            return
        if error.counts_as_connection_failure:
            failures = self.failure_count + 1
            values.update(failure_count=failures, state="failing")
            if failures >= MAX_CONSECUTIVE_FAILURES:
                values["state"] = "disabled"
        told = self.last_error == values["last_error"]
        self._write_outcome(values)
        if self.state == "disabled":
            self._notify_disabled()
        elif isinstance(error, ConfigurationError) and not told:
            # Retrying cannot cure it: say so once, not at every run.
            self._notify_configuration_error()
        elif self.failure_count == MAX_CONSECUTIVE_FAILURES - 3:
            self.message_post(
                body=self.env._(
                    "%(count)s failed connections in a row: after %(left)s more, this account stops syncing. "
                    "Last error: %(error)s",
                    count=self.failure_count,
                    left=MAX_CONSECUTIVE_FAILURES - self.failure_count,
                    error=self.last_error,
                ),
                partner_ids=self.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )

    def _outcome_warning(self, status, error, folder_errors):
        """The folders a run could not read, and the error that stopped a run that stored mail."""
        warnings = [
            self.env._("Folder %(folder)s was not synced: %(reason)s", folder=folder, reason=reason)
            for folder, reason in folder_errors
        ]
        if status in ("done", "pending") and error is not None:  # stopped early, having stored mail
            warnings.append(self._error_message(error))
        return "\n".join(warnings)

    def _outcome_of_dates(self, quiet, now, run_end):
        """Whether the outcome is written: a ``quiet`` run's dates alone (``_touch_sync_dates``).
        Either way ``run_end`` (SQL or None) is sent, in the dates' statement or in one of its own."""
        if quiet:
            return self._touch_sync_dates(now, run_end)
        if run_end is not None:
            self.env.cr.execute(SQL("%s %s", ASYNC_COMMIT, run_end))
        return False

    def _touch_sync_dates(self, now, run_end=None):
        """The outcome of most polls: a run that went well, on an account that was well, changes
        nothing but its dates. One UPDATE of them, which the database refuses if the account is not
        in that state as committed now (then the caller writes the whole outcome, tracking and all);
        whether it did. ``run_end`` (SQL: the runtime row's UPDATE) rides in the same statement,
        whatever the answer. Reading the account and writing it through the ORM would cost a poll
        that finds nothing new more than the rest of its work (bench/idle_poll.py)."""
        dates = ["last_sync_date", "last_attempt_date", "write_date", "write_uid"]
        self.flush_recordset(
            ["provider", "state", "failure_count", "last_error", "sync_warning", "sync_pending", *dates]
        )
        self.env.cr.execute(
            SQL(
                """%(async_commit)s
                   %(run_end)s
                   UPDATE mail_sync_account
                      SET last_sync_date = %(now)s, last_attempt_date = %(now)s,
                          write_date = %(now)s, write_uid = %(uid)s
                    WHERE id = %(id)s AND state = 'active' AND coalesce(failure_count, 0) = 0
                      AND last_error IS NULL AND sync_warning IS NULL AND sync_pending IS NOT TRUE
                RETURNING provider""",
                async_commit=ASYNC_COMMIT if run_end is not None else SQL(),
                run_end=SQL("WITH run_end AS (%s)", run_end) if run_end is not None else SQL(),
                now=now,
                uid=self.env.uid,
                id=self.id,
            ),
            log_exceptions=False,  # a save of the account at that moment: commit_outcome writes again
        )
        row = self.env.cr.fetchone()
        self.invalidate_recordset(dates)
        if row:
            # As committed now: what runs after the outcome (the OAuth providers' part) reads it here.
            self.env.cache.set(self, self._fields["provider"], row[0])
        return bool(row)

    def _write_outcome(self, values):
        """Write what changed; the chatter's tracking only when the state does (most polls change
        nothing but the dates)."""
        values = {name: value for name, value in values.items() if self[name] != value}
        self.with_context(mail_notrack="state" not in values).write(values)

    def _needs_reconnect(self, error):
        """Whether ``error`` asks the owner to sign in again (the server refused the password),
        rather than to wait for the next run."""
        return isinstance(error, AuthenticationFailed | GrantRevoked)

    def _retry_after_refusal(self, error):
        """The server refused the login with ``error``: do what may cure it (an OAuth account
        refreshes its token) and say whether to log in once more. A password cannot be cured."""
        return False

    def _reconnect_note(self):
        return self.env._(
            "The mail server refused the password of %(account)s: open the account, enter the password "
            "again and press Test Connection.",
            account=self.name,
        )

    def _notify_reconnect(self):
        """Tell the owner (the administrators when there is none) what to press."""
        users = self.user_id if self.user_id.active else self.env.ref("base.group_system").users
        for user in users.filtered(lambda user: user.active and user.id != SUPERUSER_ID):
            self._schedule_warning(
                user,
                self._reconnect_note(),
                summary=self.env._("Re-connect %(account)s", account=self.name),
            )

    def _notify_configuration_error(self):
        note = self.env._(
            "%(account)s cannot be synced as this Odoo is configured: %(error)s If you cannot change "
            "it yourself, ask your administrator (for the encryption key of the server, or the "
            "sign-in settings).",
            account=self.name,
            error=self.last_error,
        )
        # The owner may re-enter a password; the administrators set the key or the sign-in.
        if self.user_id.active and not self.user_id.has_group("base.group_system"):
            self._schedule_warning(self.user_id, note)
        self._notify_administrators(note)

    def _notify_disabled(self):
        note = self.env._(
            "After %(count)s failed connections in a row, %(account)s is no longer synced. "
            "Last error: %(error)s Fix the settings, then press Test Connection to turn it back on.",
            count=self.failure_count,
            account=self.name,
            error=self.last_error,
        )
        if self.user_id.active:
            self._schedule_warning(self.user_id, note)
        else:
            self._notify_administrators(note)

    def _notify_administrators(self, note):
        administrators = self.env.ref("base.group_system").users.filtered(
            lambda user: user.active and user.id != SUPERUSER_ID
        )
        for user in administrators:
            self._schedule_warning(user, note)

    def _schedule_warning(self, user, note, summary=None):
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            user_id=user.id,
            summary=summary or self.env._("Mail sync stopped for %(account)s", account=self.name),
            note=note,
        )

    def _error_message(self, error):
        """A translated sentence for the kind of failure, followed by the server's own words."""
        sentences = [
            (AuthenticationFailed, self.env._("The server refused the login: check the login and password.")),
            (
                TlsFailure,
                self.env._(
                    "The secure connection failed: check the encryption setting, or allow the certificate "
                    "if you trust this server."
                ),
            ),
            (ServerUnreachable, self.env._("The server could not be reached: check its name and port.")),
            (
                RunDeadlineReached,
                self.env._(
                    "The server answered too slowly: the sync stopped at its deadline (Settings: Longest "
                    "Sync of an Account); the next run goes on from there."
                ),
            ),
            (Timeout, self.env._("The server did not answer in time.")),
            (Throttled, self.env._("The server asks to slow down; the next run will try again.")),
            (FolderError, self.env._("A folder could not be read; the other folders were synced.")),
            (GrantRevoked, self.env._("The sign-in is no longer valid: press Re-connect on the account.")),
            (RecipientsRefused, self.env._("The mail server refused some recipients: nothing was sent.")),
            (MessageRefused, self.env._("The mail server refused this email: nothing was sent.")),
            (Unsupported, self.env._("The mail server cannot do this safely: nothing was changed.")),
            (MessageGone, self.env._("This email is no longer on the server.")),
            (ServerRefused, self.env._("The server refused a command.")),
            (
                ConfigurationError,
                self.env._(
                    "The sync cannot start with this Odoo's configuration; it tries again at each run."
                ),
            ),
            (
                UnexpectedSyncError,
                self.env._("The sync stopped on an unexpected error; the next run tries again."),
            ),
        ]
        sentence = next(
            (text for kind, text in sentences if isinstance(error, kind)),
            self.env._("The mail server reported an error."),
        )
        if isinstance(error, ConfigurationError):
            return self.env._("%(sentence)s %(detail)s", sentence=sentence, detail=str(error))
        return self.env._("%(sentence)s Server said: %(detail)s", sentence=sentence, detail=str(error))
