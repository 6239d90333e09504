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

import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2.errors
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from mail_crm_sync_engine import AuthenticationFailed, MailSyncError

_logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock(class, id): "mcss" while an account syncs, "mcsb" while a back-fill
# job of older mail runs.
SYNC_LOCK = 0x6D637373
BACKFILL_LOCK = 0x6D637362
# A batch met another worker storing the same mail: stored again this many times at most.
MAX_STORE_ATTEMPTS = 5
# The outcome met a save of the account at the same moment: written again this many times at most.
MAX_OUTCOME_ATTEMPTS = 5
CONCURRENT_UPDATE = (psycopg2.errors.SerializationFailure, psycopg2.errors.UniqueViolation)


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


def commit_outcome(work, write):
    """Run ``write`` (the outcome on the account) in a short transaction of its own, with what
    others committed meanwhile; again if the owner saved the account at that very moment."""
    work.commit()
    work.env.invalidate_all()
    for attempt in range(1, MAX_OUTCOME_ATTEMPTS + 1):
        try:
            write()
            work.commit()
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
    def _started(self, account_id):
        """A run of the account starts here (committed by the caller)."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_sync_runtime (account_id, running_since, running_on)
                   VALUES (%(account)s, now() at time zone 'UTC', %(on)s)
                   ON CONFLICT (account_id) DO UPDATE
                   SET running_since = EXCLUDED.running_since, running_on = EXCLUDED.running_on""",
                account=account_id,
                on=f"{socket.gethostname()}, process {os.getpid()}",
            )
        )

    @api.model
    def _finished(self, account_id, result):
        self.env.cr.execute(
            SQL(
                """UPDATE mail_sync_runtime
                   SET last_run_start = running_since, last_run_end = now() at time zone 'UTC',
                       last_run_stored = %s, last_run_status = %s, running_since = NULL, running_on = NULL
                   WHERE account_id = %s""",
                result.stored,
                result.status,
                account_id,
            )
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
