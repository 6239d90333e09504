"""Completeness of a folder: what the server holds in the account's window beside what the CRM
holds, why they differ, and a repair that reads the missing UIDs alone."""

from odoo import api, fields, models

from mail_crm_sync_engine import FolderRole, FolderState, MailSyncError, census_folder, connect

from ..exceptions import MailSyncUserError
from .notify import notification

# Missing UIDs remembered per folder: a repair searches again anyway.
MAX_MISSING_KEPT = 1000
# What a folder's figures tell of a mailbox (how much it holds, what failed): read by the mailbox's
# owner and administrators, blank to the others who may see the folder (Sales managers watching
# health). Every count of emails goes through the visibility rules instead (message_count).
PRIVATE_FIGURES = (
    "server_count",
    "window_count",
    "outside_window_count",
    "crm_count",
    "filtered_count",
    "failed_window_count",
    "pending_count",
    "missing_count",
    "missing_uids",
    "completeness_note",
    "failed_messages",
    "failed_count",
)


class MailSyncFolder(models.Model):
    _inherit = "mail.sync.folder"

    server_count = fields.Integer(string="On Server", readonly=True, help="All messages of the folder.")
    window_count = fields.Integer(
        string="On Server in Window", readonly=True, help="The server's messages that arrived in the window."
    )
    outside_window_count = fields.Integer(
        string="Outside Window", readonly=True, help="Older than the account's First Sync: not fetched."
    )
    crm_count = fields.Integer(
        string="In CRM", readonly=True, help="Of the window's messages, those the CRM holds."
    )
    filtered_count = fields.Integer(
        string="Not Kept", readonly=True, help="Left out by the account's Emails to Keep (received or sent)."
    )
    failed_window_count = fields.Integer(
        string="Failed",
        readonly=True,
        help="Messages the server would not hand over, or that could not be read.",
    )
    pending_count = fields.Integer(
        string="Not Yet Synced", readonly=True, help="Arrived since the last sync: the next one takes them."
    )
    missing_count = fields.Integer(
        string="Missing",
        readonly=True,
        help="In the window on the server, and not in the CRM for no known reason.",
    )
    missing_uids = fields.Json(string="Missing UIDs", readonly=True, copy=False)
    is_complete = fields.Boolean(
        string="Complete",
        readonly=True,
        copy=False,
        help="At the last check, every message of the window was in the CRM, or left out for a reason shown.",
    )
    completeness_date = fields.Datetime(string="Checked On", readonly=True, copy=False)
    completeness_note = fields.Text(string="Why They Differ", compute="_compute_completeness_note")

    @api.depends("completeness_date", "failed_messages")
    def _compute_completeness_note(self):
        for folder in self:
            folder.completeness_note = folder._completeness_explained() if folder.completeness_date else False

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load)
        hidden = [name for name in fnames if name in PRIVATE_FIGURES]
        if hidden and not self.env.su:
            others = {folder.id for folder in self if not folder.account_id._can_see_password()}
            for values in result:
                if values["id"] in others:
                    values.update(dict.fromkeys(hidden, False))
        return result

    def action_check_completeness(self):
        """Count what the server holds in the window beside what the CRM holds."""
        self.check_access("write")
        self.account_id.check_access("write")
        self.sudo()._check_completeness()
        return self.account_id._completeness_notification(self)

    def action_repair(self):
        """Read again the messages of the window the CRM misses (searched afresh), in the background."""
        self.check_access("write")
        self.account_id.check_access("write")
        jobs = (
            self.env["mail.sync.backfill"]
            .sudo()
            .create(
                [
                    {"account_id": folder.account_id.id, "kind": "repair", "folder_id": folder.id}
                    for folder in self
                ]
            )
        )
        jobs._trigger_cron()
        return notification(
            self.env._(
                "The missing messages of %(folders)s are being read again; you will be told when it is done.",
                folders=", ".join(self.mapped("name")),
            )
        )

    def _check_completeness(self, mailbox=None):
        """Check these folders (of one account) against the server; opens a connection if not given."""
        if not self:
            return
        if mailbox is None:
            account = self.account_id
            account.ensure_one()
            try:
                with connect(account._connection_settings()) as connected:
                    self._check_completeness(connected)
            except MailSyncError as error:
                raise MailSyncUserError(
                    account._error_message(error), self.env._("Connection Failed")
                ) from error
            return
        for folder in self:
            census = folder._census(mailbox)
            figures = folder._completeness(census)
            folder.write(
                {
                    "server_count": census.messages,
                    "window_count": len(census.in_window),
                    "outside_window_count": census.outside_window,
                    "crm_count": len(figures["held"]),
                    "filtered_count": len(figures["filtered"]),
                    "failed_window_count": len(figures["failed"]),
                    "pending_count": len(figures["pending"]),
                    "missing_count": len(figures["missing"]),
                    "missing_uids": sorted(figures["missing"])[:MAX_MISSING_KEPT],
                    "is_complete": not figures["missing"] and not figures["renumbered"],
                    "completeness_date": fields.Datetime.now(),
                }
            )

    def _census(self, mailbox):
        self.ensure_one()
        account = self.account_id
        return census_folder(
            mailbox, self.name, account._window_start(), account._own_addresses(), FolderRole(self.role)
        )

    def _completeness(self, census):
        """The window's UIDs sorted by what became of them: {"held", "filtered", "failed",
        "pending", "missing"} (sets of UIDs) and "renumbered" (the server's UIDVALIDITY is not the
        one the sync read: the next sync reads the folder again)."""
        self.ensure_one()
        state = FolderState.from_dict(self.sync_state)
        renumbered = state is None or state.uidvalidity != census.uidvalidity
        window = set(census.in_window)
        read = set() if renumbered else {uid for uid in window if uid <= state.last_uid}
        held = read & set(self._known_uids(state)) if not renumbered else set()
        keep = self.account_id.keep
        outgoing = set(census.outgoing)
        not_kept = {"received": outgoing, "sent": window - outgoing}.get(keep, set())
        filtered = (read & not_kept) - held
        failed = (read & {item["uid"] for item in self.failed_messages or []}) - held - filtered
        return {
            "held": held,
            "filtered": filtered,
            "failed": failed,
            "pending": window - read,
            "missing": read - held - filtered - failed,
            "renumbered": renumbered,
        }

    def _completeness_explained(self):
        """Why the server's and the CRM's figures differ, a reason a line."""
        self.ensure_one()
        keep = dict(self.account_id._fields["keep"]._description_selection(self.env)).get(
            self.account_id.keep
        )
        lines = [
            self.env._(
                "On the server: %(total)s messages, %(window)s of them in the window; in the CRM: %(crm)s.",
                total=self.server_count,
                window=self.window_count,
                crm=self.crm_count,
            )
        ]
        if self.outside_window_count:
            lines.append(
                self.env._(
                    "%(count)s older than the window (First Sync): widen it to fetch them.",
                    count=self.outside_window_count,
                )
            )
        if self.filtered_count:
            lines.append(
                self.env._(
                    "%(count)s left out by Emails to Keep (%(keep)s).", count=self.filtered_count, keep=keep
                )
            )
        if self.failed_window_count:
            lines.append(self.env._("%(count)s failed:", count=self.failed_window_count))
            lines.extend(
                self.env._("UID %(uid)s: %(reason)s", uid=item["uid"], reason=item["reason"])
                for item in self.failed_messages or []
            )
        if self.pending_count:
            lines.append(
                self.env._(
                    "%(count)s arrived since the last sync: the next one takes them.",
                    count=self.pending_count,
                )
            )
        if self.missing_count:
            lines.append(
                self.env._("%(count)s missing for no known reason: press Repair.", count=self.missing_count)
            )
        elif not self.is_complete:
            lines.append(self.env._("The server renumbered this folder: the next sync reads it again."))
        return "\n".join(lines)
