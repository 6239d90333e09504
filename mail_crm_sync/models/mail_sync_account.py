import logging
import time
from datetime import timedelta

import psycopg2.errors
from dateutil.relativedelta import relativedelta
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, create_index

from mail_crm_sync_engine import (
    DEFAULT_IMAP_PORTS,
    DEFAULT_SMTP_PORTS,
    ConnectionSettings,
    MailSyncError,
    Security,
    SmtpSettings,
    connect,
    list_folders,
    provider_files_sent_mail,
)

from ..exceptions import MailSyncUserError
from .mail_sync_credentials import PREFIX as ENCRYPTED_PREFIX
from .notify import notification

_logger = logging.getLogger(__name__)

# One call of the scheduled sync starts no account after this many seconds and reports the accounts
# left (Odoo 18's progress API): Odoo calls it again at once, up to ten times in a row, then at its
# next pass. A cron worker whose pass lasts longer than limit_time_real_cron (by default
# limit_time_real, 120 s) is killed, so one call must not poll thousands of accounts in a row.
SYNC_CALL_SECONDS = 10

# What holds a secret, encrypted with the server's key when it has one (mail.sync.credentials).
SECRET_COLUMNS = (
    "password_stored",
    "smtp_password_stored",
    "oauth_access_token_stored",
    "oauth_refresh_token_stored",
    "oauth_cache_stored",
)
SECRET_PARAMETERS = ("mail_crm_sync.google_client_secret", "mail_crm_sync.microsoft_client_secret")

VISIBILITY_SELECTION = [
    ("everyone", "Everyone"),
    ("owner_and_managers", "Owner and Sales Managers"),
    ("owner", "Owner Only"),
    ("records", "Owner, and on Linked Records"),
]
SECURITY_SELECTION = [
    ("ssl", "SSL/TLS"),
    ("starttls", "STARTTLS"),
    ("none", "None"),
]


class MailSyncAccount(models.Model):
    _name = "mail.sync.account"
    _description = "Mail Account"
    _inherit = ["mail.thread", "mail.activity.mixin", "mail.sync.credentials"]
    _order = "is_primary desc, name, id"

    def _default_visibility(self):
        return self.env["res.config.settings"]._mail_sync_default_visibility()

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    email = fields.Char(required=True, tracking=True)
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        default=lambda self: self.env.user,
        index=True,
        tracking=True,
        help="The user whose mailbox this is. Empty for a shared account.",
    )
    account_type = fields.Selection(
        [("personal", "Personal"), ("shared", "Shared")], required=True, default="personal", tracking=True
    )
    provider = fields.Selection([("imap", "IMAP")], required=True, default="imap")
    imap_host = fields.Char(string="IMAP Server", required=True)
    imap_port = fields.Integer(string="IMAP Port", required=True, default=DEFAULT_IMAP_PORTS[Security.SSL])
    imap_security = fields.Selection(
        SECURITY_SELECTION, string="IMAP Encryption", required=True, default="ssl"
    )
    username = fields.Char(
        help="Only when the server wants a user name other than the email address (Exchange)."
    )
    login = fields.Char(
        compute="_compute_login", help="What is sent to log in: the user name, else the email."
    )
    password = fields.Char(
        compute="_compute_password",
        inverse="_inverse_password",
        search="_search_password",
        help="Readable only by the owner and administrators.",
    )
    # Encrypted with the server's key (mail.sync.credentials); administrators only, and even they
    # read ciphertext here.
    password_stored = fields.Char(groups="base.group_system", copy=False)
    credentials_encrypted = fields.Boolean(compute="_compute_credentials_encrypted")
    allow_insecure_certificate = fields.Boolean(
        help="Connect even if the server's certificate cannot be verified (self-signed or expired). "
        "Only for servers you trust."
    )
    smtp_host = fields.Char(string="SMTP Server")
    smtp_port = fields.Integer(string="SMTP Port", default=DEFAULT_SMTP_PORTS[Security.SSL])
    smtp_security = fields.Selection(SECURITY_SELECTION, string="SMTP Encryption", default="ssl")
    smtp_login = fields.Char(
        string="SMTP Login", help="Only when the SMTP server wants another login than the IMAP one."
    )
    smtp_password = fields.Char(
        compute="_compute_smtp_password",
        inverse="_inverse_smtp_password",
        string="SMTP Password",
        help="Only when the SMTP server wants another password than the IMAP one. "
        "Readable only by the owner and administrators.",
    )
    smtp_password_stored = fields.Char(groups="base.group_system", copy=False)
    sending_enabled = fields.Boolean(
        string="Send From This Account",
        help="Offer this account when writing from the CRM. A user may send from a limited number of "
        "accounts (Settings).",
    )
    is_default_sender = fields.Boolean(
        string="Default for Sending", help="Preselected when its owner writes from the CRM."
    )
    is_primary = fields.Boolean(
        string="Primary", help="Shown first wherever its owner's accounts are listed."
    )
    signature = fields.Html(
        help="Added below what you write and above the quoted email. When empty, the owner's signature "
        "(Preferences) is used.",
    )
    keep = fields.Selection(
        [("received", "Received"), ("sent", "Sent"), ("both", "Both")],
        string="Emails to Keep",
        required=True,
        default="both",
    )
    visibility = fields.Selection(
        VISIBILITY_SELECTION,
        required=True,
        default=lambda self: self._default_visibility(),
        tracking=True,
        help="Who reads the mail of this account (administrators always do). For a shared account, "
        "'Owner' means the members of its group and of Shared Inboxes. 'Owner, and on Linked Records': "
        "the mailbox is private, but an email linked to a contact or opportunity is visible to the "
        "owner's sales teams and to Sales managers, where they may open that record. An email seen "
        "through several accounts follows the most permissive one.",
    )
    member_group_id = fields.Many2one(
        "res.groups",
        string="Members",
        tracking=True,
        help="Shared account: the users of this group read its mail, besides Shared Inboxes.",
    )
    show_on_dashboard = fields.Boolean(
        string="Show in My Emails",
        default=True,
        help="Its mail is listed in CRM > Emails > My Emails (the Shown in My Emails filter). Off: its mail "
        "shows on contacts and opportunities, and under the account's Emails button.",
    )
    sync_window = fields.Selection(
        [
            ("now", "From Now On"),
            ("14_days", "Last 14 Days"),
            ("1_month", "Last Month"),
            ("3_months", "Last 3 Months"),
            ("6_months", "Last 6 Months"),
            ("date", "Since a Date"),
        ],
        string="First Sync",
        required=True,
        default="14_days",
        tracking=True,
        help="How far back the first sync reaches. 'From Now On': mail that arrives after the account is "
        "connected. Widening it after the first sync fetches the older mail in the quiet hours (Settings).",
    )
    sync_window_date = fields.Date(string="First Sync Since", tracking=True)
    connected_since = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the connection first worked: 'From Now On' takes the mail that arrived from then on.",
    )
    create_contacts = fields.Boolean(
        string="Create Contacts for Unknown Senders",
        help="Create a contact for the sender of incoming mail nobody knows yet, "
        "except for addresses and domains on the block list (Settings).",
    )
    state = fields.Selection(
        [
            ("draft", "Not Connected"),
            ("active", "Active"),
            ("failing", "Failing"),
            ("reconnect", "Needs Re-connect"),
            ("disabled", "Disabled"),
        ],
        required=True,
        default="draft",
        readonly=True,
        tracking=True,
    )
    last_error = fields.Text(readonly=True)
    sync_warning = fields.Text(
        readonly=True,
        help="What the last sync could not do although it connected: folders it could not read.",
    )
    failure_count = fields.Integer(string="Consecutive Failures", readonly=True)
    last_sync_date = fields.Datetime(string="Last Successful Sync", readonly=True)
    last_attempt_date = fields.Datetime(readonly=True)
    sync_pending = fields.Boolean(
        readonly=True, help="A long sync stopped to let other accounts run; it goes on."
    )
    folder_ids = fields.One2many(
        "mail.sync.folder", "account_id", string="Folders", context={"active_test": False}
    )
    sync_running = fields.Char(
        string="Syncing Now",
        compute="_compute_sync_running",
        help="A run of the sync holds this account now: since when, and on which Odoo server.",
    )
    message_count = fields.Integer(string="Downloaded", compute="_compute_message_counts")
    assigned_count = fields.Integer(string="Assigned", compute="_compute_message_counts")

    @api.depends("username", "email")
    def _compute_login(self):
        for account in self:
            account.login = account.username or account.email

    @api.depends_context("uid")
    def _compute_password(self):
        for account in self:
            account.password = (
                account._decrypt_secret(account.sudo().password_stored)
                if account._can_see_password()
                else False
            )

    def _inverse_password(self):
        for account in self:
            if not account._can_see_password():
                raise MailSyncUserError(
                    self.env._("Only the owner or an administrator can set the password."),
                    self.env._("Not Allowed"),
                )
            account.sudo().password_stored = account._encrypt_secret(account.password)

    @api.depends_context("uid")
    def _compute_smtp_password(self):
        for account in self:
            account.smtp_password = (
                account._decrypt_secret(account.sudo().smtp_password_stored)
                if account._can_see_password()
                else False
            )

    def _inverse_smtp_password(self):
        for account in self:
            if not account._can_see_password():
                raise MailSyncUserError(
                    self.env._("Only the owner or an administrator can set the password."),
                    self.env._("Not Allowed"),
                )
            account.sudo().smtp_password_stored = account._encrypt_secret(account.smtp_password)

    def _search_password(self, operator, value):
        raise MailSyncUserError(
            self.env._("Mail accounts cannot be searched by password."), self.env._("Not Allowed")
        )

    @api.depends("email")  # a dependency, so that a new account's form computes it too
    def _compute_credentials_encrypted(self):
        self.credentials_encrypted = self._credentials_encrypted()

    @api.depends_context("uid")
    def _compute_sync_running(self):
        running = self.env["mail.sync.runtime"]._running(self.ids)
        for account in self:
            since, where = running.get(account.id, (None, None))
            account.sync_running = (
                self.env._(
                    "Since %(time)s, on %(server)s",
                    time=fields.Datetime.context_timestamp(self, since).strftime("%H:%M:%S"),
                    server=where,
                )
                if since
                else False
            )

    @api.depends_context("uid")
    def _compute_message_counts(self):
        # Through the reader's access rules: an account's counts never show mail its reader cannot open.
        Message = self.env["mail.sync.message"]
        totals = dict(Message._read_group([("account_ids", "in", self.ids)], ["account_ids"], ["__count"]))
        assigned = dict(
            Message._read_group(
                [("account_ids", "in", self.ids), ("is_assigned", "=", True)], ["account_ids"], ["__count"]
            )
        )
        for account in self:
            account.message_count = totals.get(account, 0)
            account.assigned_count = assigned.get(account, 0)

    def init(self):
        # The scheduled sync's queue (mail_sync_runtime.py, _due_accounts_sql): each claim reads its
        # head, the accounts attempted longest ago, without sorting every account.
        create_index(
            self.env.cr,
            "mail_sync_account_due_index",
            self._table,
            ["last_attempt_date ASC NULLS FIRST", "id"],
            where="active AND state IN ('active', 'failing')",
        )

    @api.model
    def _provider_presets(self):
        """Server settings per provider, applied when the provider is chosen. An addon adds a
        provider with ``selection_add`` on ``provider`` and its preset here. Keys (all optional):
        the ``imap_*`` and ``smtp_*`` fields, and ``files_sent_mail`` (the provider puts sent mail
        in its Sent folder itself: no copy is appended)."""
        return {"imap": {}}

    @api.onchange("provider")
    def _onchange_provider(self):
        preset = self._provider_presets().get(self.provider) or {}
        self.update({name: value for name, value in preset.items() if name in self._fields})

    def _files_sent_mail(self):
        """Whether the provider files sent mail itself: its preset says so, else the engine's list
        (Gmail, Microsoft 365) and the servers listed in Settings."""
        self.ensure_one()
        preset = self._provider_presets().get(self.provider) or {}
        if "files_sent_mail" in preset:
            return preset["files_sent_mail"]
        hosts = self.env["res.config.settings"]._mail_sync_self_filing_hosts()
        return provider_files_sent_mail(self.imap_host or "", hosts)

    @api.onchange("imap_security")
    def _onchange_imap_security(self):
        self.imap_port = DEFAULT_IMAP_PORTS[Security(self.imap_security or "ssl")]

    @api.onchange("smtp_security")
    def _onchange_smtp_security(self):
        self.smtp_port = DEFAULT_SMTP_PORTS[Security(self.smtp_security or "ssl")]

    @api.onchange("account_type")
    def _onchange_account_type(self):
        if self.account_type == "shared":
            self.user_id = False

    @api.constrains("account_type", "user_id")
    def _check_account_type(self):
        for account in self:
            if account.account_type == "personal" and not account.user_id:
                raise ValidationError(self.env._("A personal account needs an owner."))
            if account.account_type == "shared" and account.user_id:
                raise ValidationError(self.env._("A shared account has no owner."))

    @api.constrains("sending_enabled", "user_id", "account_type")
    def _check_sending_accounts(self):
        limit = self.env["res.config.settings"]._mail_sync_max_sending_accounts()
        for user in self.filtered(lambda account: account.sending_enabled).user_id:
            if self._sending_accounts_left(user) < 0:
                raise ValidationError(
                    self.env._(
                        "%(user)s may send from at most %(limit)s accounts: turn off 'Send From This "
                        "Account' on another one first.",
                        user=user.name,
                        limit=limit,
                    )
                )

    @api.constrains("sync_window", "sync_window_date")
    def _check_sync_window_date(self):
        for account in self:
            if account.sync_window == "date" and not account.sync_window_date:
                raise ValidationError(self.env._("Choose the date the first sync starts from."))

    def unlink(self):
        """Deleting an account never touches the server. Its emails that no other account holds stay,
        visible to Sales managers on the contacts and opportunities they are linked to (without_account)."""
        if self.ids:
            self.env["mail.sync.message"].flush_model(["without_account"])
            self.env.cr.execute(
                SQL(
                    """UPDATE mail_sync_message m SET without_account = TRUE
                        WHERE m.id IN (SELECT message_id FROM mail_sync_account_message_rel
                                        WHERE account_id = ANY(%s))
                          AND NOT EXISTS (SELECT 1 FROM mail_sync_account_message_rel r
                                           WHERE r.message_id = m.id AND NOT r.account_id = ANY(%s))""",
                    self.ids,
                    self.ids,
                )
            )
            self.env["mail.sync.message"].invalidate_model(["without_account"])
        return super().unlink()

    @api.model_create_multi
    def create(self, vals_list):
        self._check_may_create(vals_list)
        accounts = super().create(vals_list)
        accounts._keep_one_flag()
        return accounts

    def write(self, vals):
        window_changed = self.filtered(
            lambda account: (
                account.last_sync_date
                and any(
                    name in vals and vals[name] != account[name]
                    for name in ("sync_window", "sync_window_date")
                )
            )
        )
        previous = {account.id: account._window_start() for account in window_changed}
        result = super().write(vals)
        if window_changed:
            window_changed._backfill_widened_window(previous)  # mail_sync_account_older_mail.py
        if vals.get("is_default_sender") or vals.get("is_primary"):
            self._keep_one_flag()
        return result

    def _keep_one_flag(self):
        """One default sender and one primary account per owner: the one set last wins."""
        for name in ("is_default_sender", "is_primary"):
            for account in self.filtered(name):
                if account.user_id:
                    others = self.sudo().search(
                        [("user_id", "=", account.user_id.id), (name, "=", True), ("id", "!=", account.id)]
                    )
                    others.write({name: False})

    def _check_may_create(self, vals_list):
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            for vals in vals_list:
                if vals.get("account_type") == "shared":
                    raise MailSyncUserError(
                        self.env._("Only administrators can connect a shared account."),
                        self.env._("Not Allowed"),
                    )
            if not self.env["res.config.settings"]._mail_sync_may_connect(self.env.user):
                raise MailSyncUserError(
                    self.env._(
                        "Your administrator has not allowed you to connect a mailbox: ask to be added to the "
                        "'Connect Own Mailbox' group."
                    ),
                    self.env._("Not Allowed"),
                )

    def action_test_connection(self):
        """Log in, list the folders, create the missing folder records; re-activate on success."""
        self.ensure_one()
        self.check_access("write")
        if self.account_type == "personal" and not self.user_id.active:
            raise MailSyncUserError(
                self.env._(
                    "This account's owner is archived or deleted: give the account an active owner first."
                ),
                self.env._("Owner Archived"),
            )
        try:
            with connect(self._connection_settings()) as mailbox:
                folders = list_folders(mailbox)
        except MailSyncError as error:
            raise MailSyncUserError(self._error_message(error), self.env._("Connection Failed")) from error
        self.env["mail.sync.folder"].sudo()._update_from_server(self, folders)
        if self.state in ("disabled", "reconnect", "failing"):
            self.sudo().activity_feedback(
                ["mail.mail_activity_data_warning"], feedback=self.env._("The connection works again.")
            )
        values = {"state": "active", "failure_count": 0, "last_error": False}
        if not self.connected_since:
            values["connected_since"] = fields.Datetime.now()
        self.sudo().write(values)
        return notification(
            self.env._("Connection successful: 1 folder found.")
            if len(folders) == 1
            else self.env._("Connection successful: %(count)s folders found.", count=len(folders)),
            kind="success",
        )

    def action_sync_now(self):
        """Download new messages now, in the same way the scheduled action does; say how many came."""
        self.check_access("write")
        for account in self:
            if account.state == "draft":
                raise MailSyncUserError(
                    self.env._("Test the connection of %(account)s first.", account=account.name),
                    self.env._("Not Connected Yet"),
                )
            if account.state == "reconnect":
                raise MailSyncUserError(account._reconnect_note(), self.env._("Needs Re-connect"))
            if account.state == "disabled":
                raise MailSyncUserError(
                    self.env._(
                        "%(account)s is no longer synced: fix its settings, then press Test Connection.",
                        account=account.name,
                    ),
                    self.env._("Account Disabled"),
                )
        return self._sync_and_report()

    @api.model
    def action_sync_mine(self):
        """Download New Messages of the Emails list: the current user's own connected accounts."""
        accounts = self.search([("user_id", "=", self.env.uid), ("state", "in", ("active", "failing"))])
        if not accounts:
            raise MailSyncUserError(
                self.env._("You have no connected mail account yet: connect one from CRM > Emails."),
                self.env._("No Mail Account"),
            )
        return accounts._sync_and_report()

    def action_open_messages(self):
        self.ensure_one()
        return self.env["mail.sync.message"]._action_open([("account_ids", "in", self.ids)])

    @api.model
    def action_open_my_emails(self):
        """CRM > Emails > My Emails: on the user's primary account when it is on their dashboard,
        else on all their accounts shown there (Show in My Emails)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_sync.mail_sync_message_action")
        primary = self.search(
            [("user_id", "=", self.env.uid), ("is_primary", "=", True), ("show_on_dashboard", "=", True)],
            limit=1,
        )
        action["context"] = {
            "search_default_filter_primary" if primary else "search_default_filter_dashboard": 1
        }
        action["name"] = action["display_name"] = self.env._("My Emails")
        action["help"] = self.env["res.users"]._mail_sync_connect_help(action.get("help"))
        return action

    def _sync_and_report(self):
        """Sync these accounts and say what the run did: the emails it stored (counted from what it
        committed: this request's snapshot cannot see them), and every account or folder it could
        not read, as a warning."""
        results = self._run_syncs()
        count = sum(result.stored for result in results.values())
        if count == 1:
            message = self.env._("1 new email")
        elif count:
            message = self.env._("%(count)s new emails", count=count)
        else:
            message = self.env._("No new email")
        problems, busy = [], []
        for account in self:
            result = results[account.id]
            if result.status == "failed":
                problems.append(self.env._("%(account)s was not synced", account=account.name))
            elif result.status == "busy":
                busy.append(account.name)
            problems += [
                self.env._(
                    "folder %(folder)s of %(account)s was not read", folder=folder, account=account.name
                )
                for folder, _reason in result.folder_errors
            ]
        if any(result.status == "pending" for result in results.values()):
            message = self.env._(
                "%(message)s; more are waiting on the server: the scheduled sync goes on with them",
                message=message,
            )
        if busy:
            message = self.env._(
                "%(message)s; %(accounts)s: already being synced by another run, whose new emails "
                "appear when it ends",
                message=message,
                accounts=", ".join(busy),
            )
        if problems:
            message = self.env._(
                "%(message)s. Not synced: %(problems)s (see the account).",
                message=message,
                problems="; ".join(problems),
            )
        return notification(message, kind="warning" if problems else "success", sticky=bool(problems))

    @api.model
    def _cron_sync(self):
        """Sync the due accounts, each claimed so that other workers skip it; report progress.

        Several copies of this scheduled action may run at once (Settings: Parallel Sync Jobs),
        in the cron threads of one or several Odoo servers: each claims the next account still due
        that no other holds (``_sync_due``).
        """
        cutoff = fields.Datetime.now() - timedelta(minutes=2)
        results, left = self.sudo()._sync_due(cutoff, until=time.monotonic() + SYNC_CALL_SECONDS)
        # Left: the accounts with more to download, and the due ones this call did not reach.
        remaining = sum(1 for result in results.values() if result.status == "pending") + left
        # Done: the accounts this call polled; not one another run had polled since it was claimed.
        done = sum(1 for result in results.values() if result.status != "busy")
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if left and self.env.context.get("cron_id"):
            # After ten calls in a row Odoo leaves the job due without waking a worker: the rest of
            # the accounts would wait up to a minute for a cron worker's next look.
            self.env["ir.cron"].sudo().browse(self.env.context["cron_id"])._trigger()

    @api.model
    def _set_parallel_sync_jobs(self, count):
        """Keep ``count`` active copies of the sync's scheduled action. Odoo runs a scheduled action
        in one worker at a time; copies let the cron threads of one or several Odoo servers sync
        different accounts at once (each claims the accounts still due)."""
        main = self.env.ref("mail_crm_sync.ir_cron_mail_sync").sudo()
        copies = (
            self.env["ir.cron"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [("model_id", "=", main.model_id.id), ("code", "=", main.code), ("id", "!=", main.id)],
                order="id",
            )
        )
        wanted = max(count, 1) - 1
        for number in range(len(copies) + 2, wanted + 2):
            copies |= main.copy(
                {"name": self.env._("%(name)s (job %(number)s)", name=main.name, number=number)}
            )
        copies[:wanted].write(
            {
                "active": main.active,
                "interval_number": main.interval_number,
                "interval_type": main.interval_type,
            }
        )
        copies[wanted:].write({"active": False})

    def _connection_settings(self):
        self.ensure_one()
        return ConnectionSettings(
            self.imap_host,
            self.imap_port,
            Security(self.imap_security),
            self.login,
            password=self._decrypt_secret(self.sudo().password_stored) or None,
            verify_certificate=not self.allow_insecure_certificate,
        )

    def _smtp_settings(self):
        """The SMTP server of this account, with its own login and password where they differ."""
        self.ensure_one()
        if not self.smtp_host:
            raise MailSyncUserError(
                self.env._("%(account)s has no SMTP server: set one in its Outgoing tab.", account=self.name),
                self.env._("No Outgoing Mail Server"),
            )
        account = self.sudo()
        password = self._decrypt_secret(account.smtp_password_stored) or self._decrypt_secret(
            account.password_stored
        )
        return SmtpSettings(
            self.smtp_host,
            self.smtp_port,
            Security(self.smtp_security or "ssl"),
            login=self.smtp_login or self.login,
            password=password or None,
            verify_certificate=not self.allow_insecure_certificate,
        )

    def _may_send(self, user=None):
        """Whether ``user`` (the current one by default) may send from this account: its owner,
        or for a shared account the members of its group and of Shared Inboxes."""
        self.ensure_one()
        user = user or self.env.user
        if not self.sending_enabled or self.state not in ("active", "failing"):
            return False
        if self.account_type == "personal":
            return self.user_id == user
        return (self.member_group_id and self.member_group_id in user.groups_id) or user.has_group(
            "mail_crm_sync.group_mail_sync_shared"
        )

    @api.model
    def _sending_accounts_left(self, user):
        """How many more of ``user``'s accounts may have sending enabled (the setting's limit
        minus those that have it; below zero when over the limit)."""
        limit = self.env["res.config.settings"]._mail_sync_max_sending_accounts()
        return limit - self.sudo().search_count([("user_id", "=", user.id), ("sending_enabled", "=", True)])

    @api.model
    def _sending_accounts(self, user=None):
        """The accounts ``user`` may send from: the default one first, then the primary one, then
        their own before shared ones."""
        user = user or self.env.user
        accounts = self.sudo().search(
            [("sending_enabled", "=", True), ("state", "in", ("active", "failing"))]
        )
        allowed = accounts.filtered(lambda account: account._may_send(user))
        return allowed.sorted(
            lambda account: (
                not (account.is_default_sender and account.user_id == user),
                not account.is_primary,
                account.account_type != "personal",
                account.name,
            )
        )

    def _stop_for_owner(self, reason):
        """The owner was archived or deleted: stop syncing and tell the administrators. The mail
        stays, and stays visible under the same rules."""
        for account in self.filtered(lambda account: account.account_type == "personal"):
            account.write({"state": "disabled", "last_error": reason, "sync_pending": False})
            account._notify_administrators(reason)

    def _own_addresses(self):
        return frozenset(
            address.lower() for address in (self.email, self.username) if address and "@" in address
        )

    def _window_start(self):
        """The first day of the window, or for 'From Now On' the moment of connection."""
        today = fields.Date.context_today(self)
        return {
            # Set at the first successful connection (by the 18.0.1.2.0 migration for older ones).
            "now": self.connected_since or fields.Datetime.now(),
            "14_days": today - timedelta(days=14),
            "1_month": today - relativedelta(months=1),
            "3_months": today - relativedelta(months=3),
            "6_months": today - relativedelta(months=6),
            "date": self.sync_window_date,
        }[self.sync_window]

    def _can_see_password(self):
        self.ensure_one()
        return self.env.su or self.env.user == self.user_id or self.env.user.has_group("base.group_system")

    def _register_hook(self):
        """At start: encrypt every secret stored before a key was configured (passwords, OAuth
        tokens, the OAuth client secrets of Settings), or say how many are not."""
        super()._register_hook()
        encrypt = self._credentials_encrypted()
        try:
            # Every worker of every server does this as it starts: the first one encrypts; one that
            # meets its rows locked or changed leaves them to it.
            with self.env.cr.savepoint():
                plain = self._plain_secrets(encrypt)
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
            _logger.info("Another worker is encrypting the stored secrets of mail accounts")
            return
        if not plain:
            return
        if encrypt:
            _logger.info("Encrypted %s stored secrets of mail accounts", plain)
        else:
            _logger.warning(
                "%s secrets of mail accounts (passwords, OAuth tokens, client secrets) are stored "
                "unencrypted: set the mail_crm_sync_key option in the server configuration (see the "
                "mail_crm_sync README)",
                plain,
            )

    def _plain_secrets(self, encrypt):
        """How many secrets are stored in clear; encrypted on the way when ``encrypt``."""
        accounts = self.sudo().with_context(active_test=False)
        plain = 0
        for name in SECRET_COLUMNS:
            for account in accounts.search([(name, "!=", False)]):
                if not account[name].startswith(ENCRYPTED_PREFIX):
                    plain += 1
                    if encrypt:
                        account[name] = account._encrypt_secret(account[name])
        parameters = self.env["ir.config_parameter"].sudo()
        for key in SECRET_PARAMETERS:
            value = parameters.get_param(key)
            if value and not value.startswith(ENCRYPTED_PREFIX):
                plain += 1
                if encrypt:
                    parameters.set_param(key, self._encrypt_secret(value))
        if encrypt and plain:
            self.env.flush_all()  # inside the savepoint: a concurrent worker's update is met here
        return plain
