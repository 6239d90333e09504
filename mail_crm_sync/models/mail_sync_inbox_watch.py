from odoo import api, fields, models
from odoo.tools import SQL

from mail_crm_sync_engine.idle import WatchState

# The session advisory lock the watcher holds while it runs: one watcher per database, and a
# way for the account form to know whether one runs (pg_locks).
WATCHER_LOCK = (0x6D637331, 17)  # "mcs1", issue 17


class MailSyncInboxWatch(models.Model):
    """Where the Instant Inbox watcher (``odoo-bin mail_sync_idle``) stands with one account.

    Written by the watcher only, never on the account's row, which is its owner's to edit (the sync
    writes it only at the end of a run, with its outcome).
    """

    _name = "mail.sync.inbox.watch"
    _description = "Watched Inbox"
    _rec_name = "account_id"

    account_id = fields.Many2one("mail.sync.account", required=True, ondelete="cascade", index=True)
    state = fields.Selection(
        [
            (WatchState.CONNECTING.value, "Connecting"),
            (WatchState.WATCHING.value, "Watching"),
            (WatchState.UNSUPPORTED.value, "Server Offers No IDLE"),
            (WatchState.FAILING.value, "Reconnecting"),
        ],
        required=True,
        default=WatchState.CONNECTING.value,
    )
    last_error = fields.Char()
    new_mail = fields.Boolean(help="The watcher saw new mail that the sync has not taken yet.")
    new_mail_date = fields.Datetime(string="Last New Mail")

    _sql_constraints = [("account_unique", "UNIQUE(account_id)", "An account is watched once.")]

    @api.model
    def _watcher_running(self):
        """Whether a watcher holds this database's lock (in any process, on any machine)."""
        self.env.cr.execute(
            SQL(
                """SELECT EXISTS(SELECT 1 FROM pg_locks
                                  WHERE locktype = 'advisory' AND granted AND objsubid = 2
                                    AND database = (SELECT oid FROM pg_database
                                                     WHERE datname = current_database())
                                    AND classid = %s AND objid = %s)""",
                *WATCHER_LOCK,
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _accounts_to_watch(self):
        """The accounts whose INBOX is watched, each with what its connection depends on (a
        change reconnects it); the watch records follow: created for new ones, dropped for others."""
        accounts = self.env["mail.sync.account"].sudo()
        if self.env["res.config.settings"]._mail_sync_instant_inbox():
            accounts = accounts.search(accounts._inbox_watch_domain())
        self.sudo().search([("account_id", "not in", accounts.ids)]).unlink()
        watched = self.sudo().search([("account_id", "in", accounts.ids)]).account_id
        self.sudo().create([{"account_id": account.id} for account in accounts - watched])
        return {account.id: account._inbox_watch_version() for account in accounts}

    @api.model
    def _record_states(self, states):
        """``states``: {account id: engine WatchStatus}, as the watcher reports changes."""
        for account_id, status in states.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE mail_sync_inbox_watch SET state = %s, last_error = %s, "
                    "write_date = now() at time zone 'UTC' WHERE account_id = %s",
                    status.state.value,
                    status.error,
                    account_id,
                )
            )

    @api.model
    def _mark_new_mail(self, account_ids):
        """New mail in these accounts' INBOX: flag them and wake a cron worker to sync them."""
        self.env.cr.execute(
            SQL(
                "UPDATE mail_sync_inbox_watch SET new_mail = TRUE, new_mail_date = now() at time zone 'UTC' "
                "WHERE account_id IN %s",
                tuple(account_ids),
            )
        )
        self.env.ref("mail_crm_sync.ir_cron_mail_sync_new_mail").sudo()._trigger()

    @api.model
    def _take_new_mail(self):
        """The accounts flagged with new mail, unflagged (committed by the caller before it syncs:
        mail that comes during the sync flags them again)."""
        self.env.cr.execute(
            "UPDATE mail_sync_inbox_watch SET new_mail = FALSE WHERE new_mail RETURNING account_id"
        )
        return [account_id for (account_id,) in self.env.cr.fetchall()]

    @api.model
    def _flag_again(self, account_ids):
        self.env.cr.execute(
            SQL("UPDATE mail_sync_inbox_watch SET new_mail = TRUE WHERE account_id IN %s", tuple(account_ids))
        )
