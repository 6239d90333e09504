"""A mail account's older mail (a widened First Sync, Fetch Older Mail) and its completeness."""

import logging
from datetime import timedelta

import psycopg2.errors
from odoo import api, fields, models

from mail_crm_sync_engine import FolderError, MailSyncError, connect

from ..exceptions import MailSyncUserError
from .notify import notification

_logger = logging.getLogger(__name__)

# Accounts the nightly completeness check looks at per call; the scheduler calls again for the rest.
CHECKS_PER_RUN = 20


class MailSyncAccount(models.Model):
    _inherit = "mail.sync.account"  # pylint: disable=consider-merging-classes-inherited

    backfill_ids = fields.One2many("mail.sync.backfill", "account_id", string="Older Mail")
    backfill_progress = fields.Char(string="Fetching Older Mail", compute="_compute_backfill_progress")
    is_complete = fields.Boolean(
        string="Complete",
        readonly=True,
        copy=False,
        help="At the last check (every night), every synced folder held in the CRM all the mail of the "
        "window, or said why not (its Folders tab).",
    )
    completeness_date = fields.Datetime(string="Completeness Checked", readonly=True, copy=False)

    def _compute_backfill_progress(self):
        jobs = (
            self.env["mail.sync.backfill"]
            .sudo()
            .search(
                [
                    ("account_id", "in", self.ids),
                    ("kind", "=", "window"),
                    ("state", "in", ("queued", "running")),
                ]
            )
        )
        for account in self:
            mine = jobs.filtered(lambda job, account=account: job.account_id == account)
            account.backfill_progress = (
                ", ".join(f"{job.display_name}: {job.progress_text}" for job in mine) if mine else False
            )

    def action_fetch_older_mail(self):
        """Fetch Older Mail: how far back, in a small dialog."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Fetch Older Mail"),
            "res_model": "mail.sync.backfill.start",
            "view_mode": "form",
            "target": "new",
            "context": {"default_account_id": self.id},
        }

    def action_stop_backfill(self):
        self.check_access("write")
        self.env["mail.sync.backfill"].sudo().search(
            [("account_id", "in", self.ids), ("state", "in", ("queued", "running"))]
        ).action_stop()
        return self._backfill_notification(self.env._("Fetching older mail stopped."))

    def action_check_completeness(self):
        """Check every synced folder against the server now."""
        self.check_access("write")
        for account in self.sudo():
            error = account._check_completeness()
            if error:
                raise MailSyncUserError(account._error_message(error), self.env._("Connection Failed"))
        return self._completeness_notification(self.folder_ids.filtered("completeness_date"))

    @api.model
    def _cron_check_completeness(self):
        """Every night: check the accounts not checked in the last 20 hours, a share per call, each
        in a transaction of its own; the account says whether it is complete."""
        due = fields.Datetime.now() - timedelta(hours=20)
        domain = [
            ("state", "in", ("active", "failing")),
            ("last_sync_date", "!=", False),
            "|",
            ("completeness_date", "=", False),
            ("completeness_date", "<", due),
        ]
        accounts = self.sudo().search(
            domain, order="completeness_date asc nulls first, id", limit=CHECKS_PER_RUN
        )
        for account_id in accounts.ids:
            try:
                with self.env.registry.cursor() as cr:
                    error = self.with_env(self.env(cr=cr, su=True)).browse(account_id)._check_completeness()
            except psycopg2.errors.SerializationFailure as conflict:
                error = conflict  # a sync saved a folder meanwhile: checked again tomorrow night
            if error:
                _logger.info("Completeness of mail account %s not checked: %s", account_id, error)
        self.env.invalidate_all()
        remaining = self.sudo().search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(accounts), remaining=remaining)

    def _check_completeness(self):
        """Check the synced folders of this account; the account is complete when each is. Returns
        the MailSyncError that stopped the check, if any: the account is then left as it was (the
        sync reports the connection's failures), and checked again the next night."""
        self.ensure_one()
        folders = self.folder_ids.filtered(lambda folder: folder.active and folder.sync_state)
        now = fields.Datetime.now()
        try:
            with connect(self._connection_settings()) as mailbox:
                for folder in folders:
                    try:
                        folder._check_completeness(mailbox)
                    except FolderError as error:  # this folder cannot be counted; the others can
                        folder.write(
                            {"is_complete": False, "completeness_date": now, "last_error": str(error)}
                        )
        except MailSyncError as error:
            self.completeness_date = now
            return error
        complete = bool(folders) and all(folders.mapped("is_complete"))
        if complete != self.is_complete or not self.completeness_date:
            incomplete = folders.filtered(lambda folder: not folder.is_complete)
            self.message_post(
                body=self.env._("Complete: every synced folder holds the mail of the window.")
                if complete
                else self.env._(
                    "Not complete: %(folders)s (see the Folders tab).",
                    folders=", ".join(incomplete.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        self.write({"is_complete": complete, "completeness_date": now})
        return None

    def _completeness_notification(self, folders):
        incomplete = folders.filtered(lambda folder: not folder.is_complete)
        missing = sum(folders.mapped("missing_count"))
        message = (
            self.env._(
                "%(folders)s not complete: %(missing)s messages missing. See why in the folder.",
                folders=", ".join(incomplete.mapped("name")),
                missing=missing,
            )
            if incomplete
            else self.env._("Complete: the CRM holds the mail of the window.")
        )
        return notification(message, kind="warning" if incomplete else "success")

    def _backfill_notification(self, message):
        return notification(message)

    def _backfill_widened_window(self, previous):
        """First Sync changed after the first sync (``previous``: {account id: the window's start
        before}): a wider window fetches the older mail in the quiet hours; a narrower one keeps
        the mail already in the CRM."""
        Backfill = self.env["mail.sync.backfill"]
        for account in self:
            old, new = previous[account.id], account._window_start()
            if not (old and new):
                continue
            old, new = Backfill._moment(old), Backfill._moment(new)
            if new < old:
                account._start_backfill(new, old)
                note = self.env._(
                    "First Sync widened: the mail from %(since)s to %(before)s is fetched in the quiet hours "
                    "(Settings), newest first. Progress is shown on the account.",
                    since=fields.Date.to_string(new),
                    before=fields.Date.to_string(old),
                )
            else:
                note = self.env._(
                    "First Sync narrowed: the mail already in the CRM stays; folders turned on from now on "
                    "start from the new date."
                )
            account.message_post(body=note, subtype_xmlid="mail.mt_note")

    def _start_backfill(self, since, before):
        """Queue a window job: [since, before) (before None: up to what the sync has read)."""
        self.ensure_one()
        return (
            self.env["mail.sync.backfill"]
            .sudo()
            .create({"account_id": self.id, "kind": "window", "since": since, "before": before})
        )
