from odoo import api, fields, models
from odoo.tools import SQL

from mail_crm_sync_engine import FolderRole

# Failed messages remembered per folder, newest last: enough to act on, not a growing log.
MAX_FAILED_KEPT = 200
# Times a failed message is asked for (the first read included) before it is only listed.
MAX_ATTEMPTS = 3


class MailSyncFolder(models.Model):
    _name = "mail.sync.folder"
    _description = "Mail Folder"
    _order = "account_id, sequence, name"

    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True, readonly=True, help="The folder's name on the server.")
    sequence = fields.Integer(default=10)
    role = fields.Selection(
        [
            (FolderRole.INBOX.value, "Inbox"),
            (FolderRole.SENT.value, "Sent"),
            (FolderRole.TRASH.value, "Trash"),
            (FolderRole.JUNK.value, "Junk"),
            (FolderRole.DRAFTS.value, "Drafts"),
            (FolderRole.ARCHIVE.value, "Archive"),
            (FolderRole.ALL.value, "All Mail"),
            (FolderRole.OTHER.value, "Other"),
        ],
        required=True,
        default=FolderRole.OTHER.value,
        readonly=True,
    )
    active = fields.Boolean(string="Synced", default=False)
    sync_state = fields.Json(readonly=True, copy=False, help="The engine's saved state for this folder.")
    uidvalidity = fields.Integer(string="UIDVALIDITY", compute="_compute_state_summary")
    last_uid = fields.Integer(string="Last UID", compute="_compute_state_summary")
    last_error = fields.Text(readonly=True, copy=False)
    failed_messages = fields.Json(
        readonly=True, copy=False, help="[{uid, reason}] of messages the server would not give."
    )
    failed_count = fields.Integer(compute="_compute_state_summary")
    message_count = fields.Integer(string="Messages", compute="_compute_message_count")

    _sql_constraints = [
        ("name_account_uniq", "unique(account_id, name)", "A folder appears once per account."),
    ]

    @api.depends("sync_state", "failed_messages")
    def _compute_state_summary(self):
        for folder in self:
            state = folder.sync_state or {}
            folder.uidvalidity = state.get("uidvalidity") or 0
            folder.last_uid = state.get("last_uid") or 0
            folder.failed_count = len(folder.failed_messages or [])

    @api.depends_context("uid")
    def _compute_message_count(self):
        """The emails in each folder on the server that the reader may open: what the folder's list
        shows (``action_open_messages``), an email held twice in a folder once. One query."""
        counts = {}
        ids = [folder_id for folder_id in self.ids if isinstance(folder_id, int)]
        if ids:
            self.env["mail.sync.message.location"].flush_model(["email_id", "folder_id", "gone"])
            self.env.cr.execute(
                SQL(
                    "SELECT t.folder_id, COUNT(DISTINCT t.email_id) FROM mail_sync_message_location t "
                    "WHERE t.folder_id = ANY(%s) AND NOT t.gone AND %s GROUP BY t.folder_id",
                    ids,
                    self.env["mail.sync.message.location"]._visible_messages_sql(
                        SQL.identifier("t", "email_id")
                    ),
                )
            )
            counts = dict(self.env.cr.fetchall())
        for folder in self:
            folder.message_count = counts.get(folder.id, 0)

    def action_open_messages(self):
        """The Emails list of this folder, without the default filters: the folder is the choice.
        Emails gone from the folder on the server (deleted, moved away) are no longer in it."""
        self.ensure_one()
        action = self.env["mail.sync.message"]._action_open(
            [("location_ids", "any", [("folder_id", "=", self.id), ("gone", "=", False)])]
        )
        action["display_name"] = self.env._(
            "%(account)s: %(folder)s", account=self.account_id.name, folder=self.name
        )
        return action

    @api.model
    def _update_from_server(self, account, folders):
        """Create records for new server folders; inbox and sent start active, the rest inactive."""
        existing = {folder.name: folder for folder in account.with_context(active_test=False).folder_ids}
        to_create = []
        for sequence, info in enumerate(folders):
            if not info.selectable:
                continue
            if info.name in existing:
                existing[info.name].write({"role": info.role.value, "sequence": sequence})
            else:
                to_create.append(
                    {
                        "account_id": account.id,
                        "name": info.name,
                        "role": info.role.value,
                        "sequence": sequence,
                        "active": self._default_active(account, info),
                    }
                )
        return self.create(to_create)

    @api.model
    def _default_active(self, account, info):
        """Whether a folder newly found on the server is synced: Inbox and Sent (the engine's
        ``FolderInfo.default_active``). Override to choose others, per account or provider."""
        return info.default_active

    def _known_uids(self, state):
        """UIDs stored for this folder at the state's UIDVALIDITY and not yet gone."""
        if not state:
            return ()
        self.env.cr.execute(
            SQL(
                "SELECT uid FROM mail_sync_message_location "
                "WHERE folder_id = %s AND uidvalidity = %s AND NOT gone",
                self.id,
                state.uidvalidity,
            )
        )
        return tuple(uid for (uid,) in self.env.cr.fetchall())

    def _retry_uids(self):
        """UIDs of this folder's failed messages worth asking the server for again: each is tried
        MAX_ATTEMPTS times in all, then stays listed with its reason."""
        return tuple(
            item["uid"] for item in self.failed_messages or [] if item.get("attempts", 1) < MAX_ATTEMPTS
        )

    def _save_batch_state(self, batch):
        """After a stored batch: its state (incremental batches), and the folder's failed messages:
        those read now leave the list, those failing again count one more attempt."""
        failed = {} if batch.reset else {item["uid"]: item for item in self.failed_messages or []}
        for record in batch.messages:
            failed.pop(record.uid, None)
        for item in batch.failed:
            earlier = failed.pop(item.uid, {})  # and back in, last: the list runs oldest to newest
            attempts = earlier.get("attempts", 1) + 1 if earlier else 1
            failed[item.uid] = {"uid": item.uid, "reason": item.reason, "attempts": attempts}
        kept = list(failed.values())[-MAX_FAILED_KEPT:]
        values = {}
        if kept != (self.failed_messages or []):
            values["failed_messages"] = kept
        if batch.incremental:
            values.update(sync_state=batch.state.to_dict(), last_error=False)
        # Chosen UIDs (back-fill, repair, retries) leave the folder's state to the sync: an untouched
        # folder row leaves the regular sync unhindered.
        if values:
            self.write(values)
