"""Older mail, fetched in the background: a First Sync widened after the first sync (or Fetch Older
Mail), one person's older mail asked from a contact or an opportunity, a folder's repair.

A job first searches the account's folders (the plan: per folder, its UIDVALIDITY and the UIDs to
fetch, newest first), then fetches them a share of batches per cron call, with the engine's
``fetch_uids`` in a reader thread, and stores each batch as the sync does
(``mail.sync.account._store_and_commit``), in the runtime of every sync (mail_sync_runtime.py). It
never takes the account's sync claim and never moves a folder's sync state: the regular sync of new
mail goes on beside it, and between two batches the job waits while that sync runs
(``_yield_to_sync``). A job is claimed by an advisory lock of its own (no row lock, so that Stop, a
write on the job, never waits for a running batch); Stop is seen between two batches.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import monotonic, sleep
from typing import Any

import psycopg2.errors
import pytz
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from mail_crm_sync_engine import (
    FolderError,
    FolderRole,
    FolderState,
    MailSyncError,
    UidValidityChanged,
    connect,
    fetch_uids,
    search_folder,
)

from .mail_sync_runtime import (
    BACKFILL_LOCK,
    SYNC_LOCK,
    WorkCursor,
    as_sync_error,
    claimed,
    held_elsewhere,
    read_mailbox,
)
from .mailbox_reader import MailboxReader

_logger = logging.getLogger(__name__)

# Smaller batches than the sync's: fetching older mail gives way to the sync of new mail between
# two batches (_yield_to_sync), and its reader is a batch ahead at most.
BATCH_SIZE = 100
# Batches one cron call fetches, over all jobs, before it reports progress and is called again.
BATCHES_PER_RUN = 100
# Between two batches, how long fetching older mail waits at most for a sync of its account.
YIELD_SECONDS = 60
# Finished fetches stay listed on their account this long.
KEEP_FINISHED_DAYS = 30


class _JobStopped(Exception):
    """Stop was pressed while a batch was stored: the reading ends there."""


@dataclass(frozen=True)
class FolderToFetch:
    """A folder's UIDs to fetch, at the UIDVALIDITY they were found at; ``record`` comes back with
    its batches."""

    record: Any
    name: str
    role: FolderRole
    uidvalidity: int
    uids: tuple[int, ...]


class UidReader(MailboxReader):
    """The mailbox reader, fetching chosen UIDs (``fetch_uids``) instead of what is new."""

    def __init__(self, settings, folders, limit=None, **options):
        super().__init__(settings, folders, None, None, limit=limit, **options)

    def _batches(self, mailbox, folder):
        return fetch_uids(
            mailbox, folder.name, folder.uidvalidity, folder.uids, folder_role=folder.role, **self._options
        )


class MailSyncBackfill(models.Model):
    _name = "mail.sync.backfill"
    _description = "Older Mail Fetch"
    _order = "id desc"

    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(
        [("window", "Older Mail"), ("person", "Mail With a Person"), ("repair", "Repair")],
        required=True,
        default="window",
    )
    user_id = fields.Many2one("res.users", string="Asked By", default=lambda self: self.env.user)
    partner_id = fields.Many2one("res.partner", string="Contact", ondelete="set null", index="btree_not_null")
    lead_id = fields.Many2one("crm.lead", string="Opportunity", ondelete="set null", index="btree_not_null")
    folder_id = fields.Many2one("mail.sync.folder", ondelete="cascade", help="The folder a repair reads.")
    addresses = fields.Char(help="The addresses searched, separated by spaces.")
    since = fields.Datetime(help="Mail that arrived from then on.")
    before = fields.Datetime(help="Mail that arrived before then; empty: up to what the sync has read.")
    state = fields.Selection(
        [
            ("queued", "Waiting"),
            ("running", "Fetching"),
            ("done", "Done"),
            ("stopped", "Stopped"),
            ("failed", "Failed"),
        ],
        required=True,
        default="queued",
        readonly=True,
    )
    plan = fields.Json(readonly=True, copy=False, help="{folder id: {uidvalidity, uids}}: what to fetch.")
    progress = fields.Json(
        string="Done per Folder", readonly=True, copy=False, help="{folder id: UIDs of the plan done}."
    )
    total_count = fields.Integer(string="Found", readonly=True)
    done_count = fields.Integer(string="Fetched", readonly=True)
    read_count = fields.Integer(string="Emails Read", readonly=True)
    last_error = fields.Text(readonly=True)
    progress_text = fields.Char(string="Progress", compute="_compute_progress_text")

    @api.depends("kind", "account_id", "partner_id", "lead_id", "folder_id", "since")
    def _compute_display_name(self):
        for job in self:
            if job.kind == "person":
                who = job.partner_id.display_name or job.lead_id.display_name or job.addresses
                job.display_name = self.env._("Mail with %(who)s", who=who)
            elif job.kind == "repair":
                job.display_name = self.env._("Repair of %(folder)s", folder=job.folder_id.name)
            else:
                job.display_name = (
                    self.env._("Older mail since %(date)s", date=fields.Date.to_string(job.since))
                    if job.since
                    else self.env._("All older mail")
                )

    @api.depends("state", "total_count", "done_count")
    def _compute_progress_text(self):
        quiet = self._in_quiet_hours()
        for job in self:
            paused = job.kind == "window" and job.state in ("queued", "running") and not quiet
            if job.state == "queued":
                job.progress_text = (
                    self.env._("Waiting for the quiet hours") if paused else self.env._("Waiting")
                )
            elif paused:
                job.progress_text = self.env._(
                    "%(done)s of %(total)s, going on in the quiet hours",
                    done=job.done_count,
                    total=job.total_count,
                )
            else:
                job.progress_text = self.env._(
                    "%(done)s of %(total)s", done=job.done_count, total=job.total_count
                )

    def action_stop(self):
        """Stop these jobs: a running one ends after the batch it is storing."""
        self.account_id.check_access("read")
        self.check_access("read")
        self.sudo().filtered(lambda job: job.state in ("queued", "running")).write({"state": "stopped"})
        return True

    @api.autovacuum
    def _gc_finished(self):
        """Forget the fetches that ended more than a month ago."""
        limit = fields.Datetime.now() - timedelta(days=KEEP_FINISHED_DAYS)
        self.sudo().search(
            [("state", "in", ("done", "stopped", "failed")), ("write_date", "<", limit)]
        ).unlink()

    # -- the scheduled action -----------------------------------------------------------------

    @api.model
    def _cron_backfill(self):
        """Fetch a share of older mail: on-demand jobs (a person, a repair) first and at any time,
        widened windows only in the quiet hours; an account whose sync has more to download first
        waits for it."""
        jobs = self.sudo().search(
            [("state", "in", ("queued", "running")), ("account_id.state", "in", ("active", "failing"))]
        )
        quiet = self._in_quiet_hours()
        budget, done, remaining = BATCHES_PER_RUN, 0, 0
        for job in jobs.sorted(lambda job: (job.kind == "window", job.id)):
            if (job.kind == "window" and not quiet) or job.account_id.sync_pending:
                continue
            if budget <= 0:
                remaining += 1
                continue
            try:
                status, used = job._run_claimed(budget)
            except Exception as error:
                _logger.exception("Back-fill job %s crashed", job.id)
                job._fail(error)
                status, used = "failed", 0
            budget -= used
            # A job that could not read (server unreachable) waits for the next scheduled call
            # rather than being called again at once.
            if status == "pending" and used:
                remaining += 1
            else:
                done += 1
        self.env.invalidate_all()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _in_quiet_hours(self, now=None):
        """Whether ``now`` (UTC, naive) is inside the quiet hours of Settings."""
        start, end, zone = self.env["res.config.settings"]._mail_sync_backfill_hours()
        if start == end:
            return True
        hour = pytz.utc.localize(now or fields.Datetime.now()).astimezone(pytz.timezone(zone)).hour
        return start <= hour < end if start < end else (hour >= start or hour < end)

    @api.model
    def _trigger_cron(self):
        self.env.ref("mail_crm_sync.ir_cron_mail_backfill").sudo()._trigger()

    # -- one job --------------------------------------------------------------------------------

    def _run_claimed(self, limit=BATCHES_PER_RUN):
        """Run this job for at most ``limit`` batches if no other worker runs it. Returns (status,
        batches stored): "done", "pending" (more to fetch), "stopped", "failed" or "busy"."""
        self.ensure_one()
        self.env.flush_all()
        with claimed(self.env, BACKFILL_LOCK, self.id) as held:
            if not held:
                return "busy", 0
            work = WorkCursor(self.env)
            try:
                return work.bind(self.sudo())._run(work, limit)
            finally:
                work.close()

    def _run(self, work, limit):
        """On the work cursor: plan if need be, then fetch and store up to ``limit`` batches."""
        if self.state == "queued" and not self._plan_and_commit(work):
            return "pending", 0
        if self.state != "running":
            return self.state, 0
        return self._fetch(work, limit)

    def _fetch(self, work, limit):
        """Fetch and store up to ``limit`` batches of the plan; returns (status, batches stored)."""
        folders = self._folders_to_fetch()
        status, stored = self._read_and_store(work, folders, limit) if folders else ("done", 0)
        if status == "done":
            self._finish("done")
            work.commit()
        return status, stored

    def _read_and_store(self, work, folders, limit):
        """The reader's batches, each stored (and counted) in its own transaction."""
        account = self.account_id
        stored = 0

        def open_reader(settings):
            return UidReader(
                settings,
                folders,
                limit=limit,
                run_deadline=self.env["res.config.settings"]._mail_sync_run_seconds(),
                own_addresses=account._own_addresses(),
                batch_size=BATCH_SIZE,
                extra_headers=self.env["mail.sync.message"]._extra_headers(),
            )

        def handle(kind, folder, item):
            nonlocal stored
            if kind == "folder_error":
                self._skip_folder(folder, item)
            else:
                self._yield_to_sync(work)
                # Older mail: the context tells _after_batch_stored automations so.
                account.with_context(mail_sync_backfill=True)._store_and_commit(
                    folder.record.with_context(mail_sync_backfill=True), item
                )
                stored += 1
                if not self._advance(folder, item):
                    raise _JobStopped
            work.commit()

        try:
            error, truncated = read_mailbox(account, work, open_reader, handle)
        except _JobStopped:
            return "stopped", stored
        if error is not None:
            _logger.info("Back-fill job %s failed to read: %s", self.id, error)
            work.rollback()
            self.last_error = account._error_message(error)
            work.commit()
            return "pending", stored
        return ("pending" if truncated else "done"), stored

    def _yield_to_sync(self, work):
        """Wait while the regular sync of this account runs (it holds the account's claim: see
        ``_sync_claimed``), for at most YIELD_SECONDS: new mail first. Asked of pg_locks, so that
        asking never makes a sync starting then find its account busy."""
        deadline = monotonic() + YIELD_SECONDS
        while held_elsewhere(work.cr, SYNC_LOCK, self.account_id.id) and monotonic() < deadline:
            work.commit()
            sleep(0.2)
        work.commit()

    def _plan_and_commit(self, work):
        """Plan the job; False if the server could not be searched (the next run tries again)."""
        try:
            self._plan()
        except (MailSyncError, UserError) as error:
            work.rollback()
            error = as_sync_error(error)
            _logger.info("Back-fill job %s could not search: %s", self.id, error)
            self.last_error = self.account_id._error_message(error)
            work.commit()
            return False
        work.commit()
        return True

    def _plan(self):
        """Search the folders for what to fetch; the job is running from then on (done if nothing)."""
        account = self.account_id
        plan, errors = {}, []
        folders = self.folder_id if self.kind == "repair" else account.folder_ids.filtered("active")
        with connect(account._connection_settings()) as mailbox:
            for folder in folders:
                state = FolderState.from_dict(folder.sync_state)
                if state is None:
                    continue  # never synced: its first sync takes the window
                if folder.role == FolderRole.SENT and account.keep == "received":
                    continue  # all of it would be left out
                try:
                    uidvalidity, uids = self._folder_uids(mailbox, folder, state)
                except FolderError as error:
                    errors.append(f"{folder.name}: {error}")
                    continue
                if uids:
                    plan[str(folder.id)] = {"uidvalidity": uidvalidity, "uids": sorted(uids, reverse=True)}
        total = sum(len(entry["uids"]) for entry in plan.values())
        self.write(
            {
                "plan": plan,
                "progress": {},
                "total_count": total,
                "done_count": 0,
                "read_count": 0,
                "state": "running",
                "last_error": "\n".join(errors) or False,
            }
        )

    def _folder_uids(self, mailbox, folder, state):
        """(UIDVALIDITY, UIDs to fetch) of one folder: what the job's search finds that the CRM does
        not hold, below what the sync has read (above it, the sync's next run takes it)."""
        if self.kind == "repair":
            census = folder._census(mailbox)
            return census.uidvalidity, folder._completeness(census)["missing"]
        found = search_folder(
            mailbox,
            folder.name,
            since=self.since,
            before=self.before,
            addresses=(self.addresses or "").split(),
            folder_role=FolderRole(folder.role),
        )
        if found.uidvalidity != state.uidvalidity:
            return found.uidvalidity, set()  # renumbered: the sync reads the folder again
        held = set(folder._known_uids(state)) | {item["uid"] for item in folder.failed_messages or []}
        return found.uidvalidity, {uid for uid in found.uids if uid <= state.last_uid and uid not in held}

    def _folders_to_fetch(self):
        folders = []
        for folder_id, entry in (self.plan or {}).items():
            folder = self.env["mail.sync.folder"].browse(int(folder_id)).exists()
            left = entry["uids"][(self.progress or {}).get(folder_id, 0) :]
            if folder and left:
                folders.append(
                    FolderToFetch(
                        folder, folder.name, FolderRole(folder.role), entry["uidvalidity"], tuple(left)
                    )
                )
        return folders

    def _advance(self, folder, batch):
        """Count a stored batch (its place in the plan, in a short transaction of its own); False
        when the job was stopped meanwhile."""
        key = str(folder.record.id)
        progress = dict(self.progress or {})
        before = progress.get(key, 0)
        step = min(BATCH_SIZE, len(self.plan[key]["uids"]) - before)
        progress[key] = before + step
        cr = self.env.cr
        try:
            cr.execute(
                SQL(
                    """UPDATE mail_sync_backfill
                          SET progress = %s::jsonb, done_count = COALESCE(done_count, 0) + %s,
                              read_count = COALESCE(read_count, 0) + %s, write_date = now() at time zone 'UTC'
                        WHERE id = %s AND state = 'running' RETURNING id""",
                    json.dumps(progress),
                    step,
                    len(batch.messages),
                    self.id,
                )
            )
            running = bool(cr.fetchone())
        except psycopg2.errors.SerializationFailure:
            cr.rollback()  # Stop was pressed while this batch was stored
            running = False
        self.invalidate_recordset()
        return running

    def _skip_folder(self, folder, error):
        """A folder that could not be read (renumbered, or refused) is left; the others go on."""
        _logger.info("Back-fill job %s skips folder %s: %s", self.id, folder.name, error)
        progress = dict(self.progress or {})
        key = str(folder.record.id)
        left = len(self.plan[key]["uids"]) - progress.get(key, 0)
        progress[key] = len(self.plan[key]["uids"])
        note = (
            self.env._("%(folder)s was renumbered by the server: ask again.", folder=folder.name)
            if isinstance(error, UidValidityChanged)
            else self.account_id._error_message(error)
        )
        self.write(
            {
                "progress": progress,
                "done_count": self.done_count + left,
                "last_error": "\n".join(filter(None, [self.last_error, note])),
            }
        )

    def _fail(self, error):
        """Mark the job failed, in a transaction of its own, with the error for whoever looks."""
        with self.env.registry.cursor() as cr:
            job = self.with_env(self.env(cr=cr, su=True))
            job.write({"state": "failed", "last_error": str(error)})

    def _finish(self, state):
        self.write({"state": state})
        if self.kind == "window":
            self.account_id.message_post(
                body=self.env._("%(job)s: 1 email read.", job=self.display_name)
                if self.read_count == 1
                else self.env._(
                    "%(job)s: %(count)s emails read.", job=self.display_name, count=self.read_count
                ),
                subtype_xmlid="mail.mt_note",
            )
        elif self.user_id:
            self.user_id._bus_send(
                "simple_notification",
                {
                    "type": "success" if not self.last_error else "warning",
                    "title": self.display_name,
                    "message": self._found_sentence() + (f" {self.last_error}" if self.last_error else ""),
                },
            )

    def _found_sentence(self):
        """What a person's search found, for its notification."""
        if not self.total_count:
            return self.env._("%(account)s: no older email found.", account=self.account_id.name)
        if self.total_count == 1:
            return self.env._("%(account)s: 1 older email found and fetched.", account=self.account_id.name)
        return self.env._(
            "%(account)s: %(count)s older emails found and fetched.",
            account=self.account_id.name,
            count=self.total_count,
        )

    @api.model
    def _moment(self, start):
        """A window start (a day, or a moment) as a naive UTC datetime."""
        if isinstance(start, datetime):
            return (
                start.replace(tzinfo=None)
                if start.tzinfo is None
                else start.astimezone(pytz.utc).replace(tzinfo=None)
            )
        return datetime.combine(start, time())
