from datetime import timedelta

from odoo import api, fields, models

# A sync triggered for new mail found the account busy (the regular run has it): try again then.
BUSY_RETRY = timedelta(seconds=20)


# One file per feature that extends the account, as mail_sync_account_oauth.py does.
class MailSyncAccount(models.Model):
    """Instant Inbox: the primary account's INBOX, watched with IDLE by ``odoo-bin mail_sync_idle``."""

    _inherit = "mail.sync.account"  # pylint: disable=consider-merging-classes-inherited

    inbox_watch = fields.Selection(
        [
            ("off", "Not Watched"),
            ("stopped", "Watcher Not Running"),
            ("connecting", "Connecting"),
            ("watching", "Watched: New Mail Within Seconds"),
            ("unsupported", "Server Offers No IDLE: Synced Every Few Minutes"),
            ("failing", "Reconnecting"),
        ],
        string="Instant Inbox",
        compute="_compute_inbox_watch",
        help="With Instant Inbox on (Settings), the INBOX of each user's primary account is watched: "
        "new mail appears within seconds instead of at the next scheduled sync.",
    )
    inbox_watch_error = fields.Char(compute="_compute_inbox_watch")

    def _compute_inbox_watch(self):
        Watch = self.env["mail.sync.inbox.watch"].sudo()
        watches = {watch.account_id.id: watch for watch in Watch.search([("account_id", "in", self.ids)])}
        running = bool(watches) and Watch._watcher_running()
        for account in self:
            watch = watches.get(account.id)
            account.inbox_watch = (watch.state if running else "stopped") if watch else "off"
            account.inbox_watch_error = watch.last_error if watch and watch.state == "failing" else False

    @api.model
    def _inbox_watch_domain(self):
        """The accounts whose INBOX is watched: users' primary accounts that are synced."""
        return [
            ("is_primary", "=", True),
            ("state", "in", ("active", "failing")),
            ("user_id.active", "=", True),
        ]

    def _inbox_watch_version(self):
        """What the watcher's connection depends on: when it changes, it reconnects (the settings
        themselves, OAuth tokens included, are read again at every connection)."""
        self.ensure_one()
        account = self.sudo()
        return (
            account.provider,
            account.imap_host,
            account.imap_port,
            account.imap_security,
            account.login,
            account.password_stored,
            account.allow_insecure_certificate,
        )

    @api.model
    def _cron_sync_new_mail(self):
        """Sync the accounts the watcher saw new mail in, through the regular sync (claimed, batched).
        An account busy in another worker is flagged again and tried a little later."""
        Watch = self.env["mail.sync.inbox.watch"].sudo()
        account_ids = Watch._take_new_mail()
        # Unflagged for good before reading: mail that comes during the sync flags it again.
        self.env.cr.commit()  # pylint: disable=invalid-commit
        if not account_ids:
            return
        results = self.sudo().browse(account_ids).exists()._sync_accounts()
        busy = [account_id for account_id, status in results.items() if status in ("busy", "pending")]
        if busy:
            Watch._flag_again(busy)
            self.env.ref("mail_crm_sync.ir_cron_mail_sync_new_mail").sudo()._trigger(
                fields.Datetime.now() + BUSY_RETRY
            )
