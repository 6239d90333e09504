import dataclasses
import email.utils as email_utils
import io
import logging
import re
import struct
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors
from lxml import html as lxml_html
from markupsafe import Markup
from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL, html_sanitize

from mail_crm_sync_engine import (
    Direction,
    FailedMessage,
    FolderRole,
    MailSyncError,
    Place,
    connect,
    content_fingerprint,
    delete_message,
    is_public_mail_domain,
    mail_domain,
    namesake_key,
    record_from_bytes,
)
from mail_crm_sync_engine.quoting import new_text

from ..exceptions import MailSyncUserError
from .mail_sync_message_attachment import human_size
from .mail_sync_message_link import AUDIT_COLUMNS
from .notify import notification, notification_and_back

_logger = logging.getLogger(__name__)

# What full-text search reads: subject, addresses and the text the writer typed, without the history
# a reply quotes (the engine's quoting.new_text: the quoted emails are indexed themselves). Cut, so
# that no email can make it exceed the 1 MB a tsvector holds: 20,000 characters of headers and
# 120,000 of text are at most 70,000 words, 12 bytes each at worst (a distinct 4-byte character
# between spaces), 840 KB. Stored once, so that neither rechecks nor the planner ever recompute it;
# built after the sync's commit by the search-index job (_cron_index_search): words cost PostgreSQL
# some 2.5 ms per 10 KB to parse and index, several times what storing the email costs.
SEARCH_DOCUMENT = SQL(
    "to_tsvector('simple'::regconfig, left(coalesce(t.subject, '') || ' ' || coalesce(t.email_from, '') "
    "|| ' ' || coalesce(t.email_to, '') || ' ' || coalesce(t.email_cc, ''), 20000) || ' ' "
    "|| left(t.new_text, 120000))"
)
# Until the job has built an email's document (the email waits in SEARCH_PENDING), search reads its
# subject and addresses as they are: the email is found by them at once, and by its words once the
# job reached it (seconds after its batch; the figures are in bench/odoo_sync.py's output). Reading
# the whole text of every waiting email at each search cost 24-62 s a search at the end of a
# 10,000-email first sync; the headers are a few hundred characters an email.
PENDING_DOCUMENT = SQL(
    "to_tsvector('simple'::regconfig, left(coalesce(subject, '') || ' ' || coalesce(email_from, '') "
    "|| ' ' || coalesce(email_to, '') || ' ' || coalesce(email_cc, ''), 20000))"
)
# Emails whose documents one call of the job builds (and commits): a few seconds of work.
SEARCH_INDEX_CHUNK = 500
# A stored batch asks for the job this many seconds later; the end of the sync's run that stored it
# asks for it at once (mail.sync.runtime._sync_held). A run of up to 20 batches (10,000 emails)
# then has both cores of a small server to itself, rather than sharing them with words it could
# index a few seconds later (bench/odoo_sync.py: 1,950-2,140 messages/second on the text-heavy
# mailbox against 1,680-1,790, search trailing by 15 s against 10-11); a run that lasts longer
# shares them from then on. Fetching older mail (mail.sync.backfill) has the batches' trigger only:
# its words are found within this wait and Odoo's scheduler's next look.
SEARCH_INDEX_WAIT = 30
# The documents live in a narrow table of their own (email id, document) with its GIN index, not on
# the email's row: the sync's INSERT never touches that GIN index (nor pays for merging its pending
# list), and the job no longer rewrites each wide email row, which left a dead copy of every row and
# of its entries in every index of mail_sync_message (the emails' table of a 10,000-email text-heavy
# first sync: 182 MB against 375 MB). The job itself costs the same: to_tsvector and the GIN index
# are most of it. The emails still waiting for their document are listed in a second narrow table,
# filled by the sync's INSERT itself. Both go with their email (ON DELETE CASCADE): the words of an
# erased email stay in no index.
SEARCH_TABLE = "mail_sync_message_search"
SEARCH_PENDING = "mail_sync_message_search_pending"
# Emails one call of the nightly relink links (and commits): about 3 s of work at a million
# contacts. Fewer, bigger chunks share the cost each call has whatever its size (planning the
# stages' statements, the scheduler's commit and progress): at a million emails, chunks of 5,000
# took 0.55 s each, of 20,000 1.4 s, of 50,000 3.1 s.
RELINK_CHUNK = 50_000
ADDRESS_ARRAY = SQL("string_to_array(address_emails, E'\\n')")
# The new emails' bodies reach the INSERT through a temporary table filled by a binary COPY: the
# bytes as they are, where a literal in the statement (an array of 500 bodies, some 9 MB of a
# text-heavy batch) is quoted by psycopg2 with Python's lock held, then scanned by PostgreSQL's
# lexer and parsed again as an array. 500 text-heavy emails' bodies (9 MB): 9 ms of Python and
# 61 ms of PostgreSQL against 22 ms and 75-81 ms (bench/copy_bodies.py). Kept uncompressed there
# (EXTERNAL): each body is compressed once, into the emails' table. The INSERT empties the table.
BODIES_TABLE = "mail_sync_message_bodies"
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
# The conversation an email belongs to: the first Message-ID its References name (the thread's
# first email), else the one it answers, else its own.
THREAD_KEY = SQL(
    "coalesce(nullif(split_part(t.message_references, ' ', 1), ''), t.in_reply_to, t.message_id)"
)

# The Emails menu's filters that keep to the user's own accounts, with the account flag each reads
# (``_search_in_my_accounts``); and what the rule's search is told when a search keeps to them.
OWN_ACCOUNT_FILTERS = {"in_my_emails": "show_on_dashboard", "in_my_primary_account": "is_primary"}
RULE_IMPLIED = object()


def _conjuncts(domain):
    """The terms of ``domain`` that every record it finds satisfies: those of its outermost AND
    (a term under an OR or a NOT is not one)."""
    domain = expression.normalize_domain(list(domain))
    terms = []

    def skip(index):  # the end of the subtree starting at ``index``
        item = domain[index]
        if item in (expression.AND_OPERATOR, expression.OR_OPERATOR):
            return skip(skip(index + 1))
        return skip(index + 1) if item == expression.NOT_OPERATOR else index + 1

    def collect(index):
        item = domain[index]
        if item == expression.AND_OPERATOR:
            return collect(collect(index + 1))
        if isinstance(item, (list, tuple)) and len(item) == 3:
            terms.append(item)
        return skip(index)

    if domain:
        collect(0)
    return terms


def create_email_lookup_index(cr, table):
    """The btree index linking looks contacts and leads up with, on (email_normalized COLLATE "C").

    Odoo 18 has none on res_partner.email_normalized, and only a trigram GIN index on crm_lead's,
    which answers equality at 1-3 ms an address (and is what the planner picks on a fresh table).
    The "C" collation gives the same equality for these lowercase addresses and makes the index one
    that only _link_messages asks for, so no other index can take its lookups.
    """
    cr.execute(
        SQL(
            'CREATE INDEX IF NOT EXISTS %s ON %s ((email_normalized COLLATE "C")) '
            "WHERE email_normalized IS NOT NULL",
            SQL.identifier(f"mail_crm_sync_{table}_email_idx"),
            SQL.identifier(table),
        )
    )


def _company_from_domain(email):
    """A company name where the domain makes it obvious (acme-tools.example → Acme Tools); nothing
    for free-mail and disposable addresses (the engine's lists)."""
    domain = mail_domain(email)
    if not domain or is_public_mail_domain(domain):
        return False
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2] in ("co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"):
        labels = labels[:-1]  # acme.co.uk, acme.com.au
    label = labels[-2] if len(labels) >= 2 else labels[0]
    return " ".join(part.capitalize() for part in re.split(r"[-_]", label) if part) or False


def _addresses(addresses):
    return ", ".join(f"{a.name} <{a.email}>" if a.name else a.email for a in addresses)


def _copy_text(text):
    """A text field of a binary COPY: its length, then its UTF-8 (NULL: length -1). A character
    UTF-8 cannot hold (a lone surrogate) becomes "?" rather than failing the batch."""
    if text is None:
        return struct.pack("!i", -1)
    data = text.encode("utf-8", "replace")
    return struct.pack("!i", len(data)) + data


def bodies_copy_data(records):
    """The engine records' text and HTML bodies as the data of a binary COPY into BODIES_TABLE: a
    row each (its number from 1, in their order; the text; the HTML). bench/copy_bodies.py times
    it."""
    parts = [COPY_HEADER]
    for row, record in enumerate(records, 1):
        parts.append(struct.pack("!hiq", 3, 8, row))
        parts.append(_copy_text((record.text or "").replace("\x00", "")))
        parts.append(_copy_text(record.html.replace("\x00", "") if record.html else None))
    parts.append(struct.pack("!h", -1))
    return b"".join(parts)


# Reads back what _addresses wrote: "Name <address>" or a bare address, comma separated (a bare
# address first, so that "a@x, Bob <b@y>" is two people; names may hold commas).
STORED_ADDRESS = re.compile(r"\s*([^\s,<>]+@[^\s,<>]*)\s*(?:,|$)|\s*([^<>]*?)\s*<([^<>]*)>\s*,?")


def _people(stored, leave_out=()):
    """(name or address, address) of each address of a stored From/To/Cc value."""
    people = []
    for match in STORED_ADDRESS.finditer(stored or ""):
        bare, name, bracketed = match.groups()
        address = (bare or bracketed or "").strip().lower()
        if (address or name) and address not in leave_out:
            people.append(((name or "").strip() or address, address))
    return people


class SearchEachEmail(SQL):
    """The Full Text search's ``id IN (...)`` for a search that reads few emails (a record's, in its
    chatter): ``MailSyncMessage._condition_to_sql`` turns it into a condition on each email
    (``each(alias)``). Kept as the ``IN`` list, PostgreSQL builds the list of every matching email
    of the database before it keeps the record's: at 5,000,000 emails, 5-9 s for a common name,
    against 3 ms asked of each email. Wherever it is not turned, it is that list, and finds the same.
    """

    __slots__ = ("each",)


class MailSyncMessage(models.Model):
    _name = "mail.sync.message"
    _inherit = ["mail.sync.visibility.mixin"]
    _description = "Email"
    _order = "date desc, id desc"
    _rec_name = "subject"

    message_id = fields.Char(string="Message-ID", required=True, readonly=True)
    message_id_header = fields.Char(
        string="Message-ID Header",
        readonly=True,
        help="The Message-ID as the email gives it, where it is not the key this email is stored under "
        "(an id too long to index; another email holding the same id). Replies name this one.",
    )
    subject = fields.Char(readonly=True)
    date = fields.Datetime(readonly=True, index=True)
    email_from = fields.Char(string="From", readonly=True)
    correspondent = fields.Char(
        string="From / To",
        compute="_compute_correspondent",
        help="Who wrote a received email; whom a sent email went to.",
    )
    email_to = fields.Text(string="To", readonly=True)
    email_cc = fields.Text(string="Cc", readonly=True)
    reply_to = fields.Char(readonly=True)
    address_emails = fields.Text(
        readonly=True,
        index="trigram",  # full-text search finds parts of addresses
        help="Normalized From, To and Cc addresses, one a line: what linking matches.",
    )
    in_reply_to = fields.Char(readonly=True)
    message_references = fields.Text(string="References", readonly=True)
    thread_key = fields.Char(
        string="Conversation",
        readonly=True,
        index=True,
        help="The Message-ID of the conversation's first email.",
    )
    thread_message_ids = fields.Many2many(
        "mail.sync.message", compute="_compute_thread_message_ids", string="Conversation Emails"
    )
    thread_count = fields.Integer(compute="_compute_thread_message_ids", string="Emails in the Conversation")
    body_text = fields.Text(string="Text", readonly=True)
    # The email's HTML as received, for administrators only; users read ``body_html``, which is
    # that HTML through Odoo's sanitizer. Sanitizing when an email is opened rather than when it is
    # stored keeps about a millisecond per message off the sync of mail nobody may ever open.
    body_html_source = fields.Text(
        string="HTML Source", readonly=True, groups="base.group_system", prefetch=False
    )
    body_html = fields.Html(string="Body", compute="_compute_body_html", sanitize=True)
    remote_image_count = fields.Integer(
        compute="_compute_body_html",
        help="Images the email loads from other servers: blocked until asked for.",
    )
    direction = fields.Selection(
        [(Direction.INCOMING.value, "Received"), (Direction.OUTGOING.value, "Sent")],
        readonly=True,
        index=True,
    )
    size = fields.Integer(string="Size in Bytes", readonly=True)
    size_display = fields.Char(string="Size", compute="_compute_size_display")
    warnings = fields.Text(readonly=True, help="What could not be read in this email.")
    content_hash = fields.Char(
        readonly=True,
        copy=False,
        help="What every copy of this email has in common (sender, date, subject, recipients), hashed: "
        "another email under the same Message-ID is stored apart.",
    )
    message_id_synthetic = fields.Boolean(
        string="Synthetic Message-ID",
        readonly=True,
        help="The email had no Message-ID; one was derived from it.",
    )
    attachment_ids = fields.One2many("mail.sync.message.attachment", "email_id", string="Attachments")
    attachment_count = fields.Integer(readonly=True)
    location_ids = fields.One2many("mail.sync.message.location", "email_id", string="Locations")
    account_ids = fields.Many2many(
        "mail.sync.account",
        "mail_sync_account_message_rel",
        "message_id",
        "account_id",
        string="Accounts",
        readonly=True,
    )
    without_account = fields.Boolean(
        readonly=True,
        copy=False,
        help="Every account that held this email was deleted: Sales managers read it on its linked records.",
    )
    link_ids = fields.One2many("mail.sync.message.link", "email_id", string="Links")
    link_history_ids = fields.One2many(
        "mail.sync.message.link",
        "email_id",
        string="Changes by Hand",
        domain=["|", ("reason", "=", "manual"), ("active", "=", False)],
        context={"active_test": False},
        readonly=True,
    )
    partner_ids = fields.Many2many(
        "res.partner", compute="_compute_links", search="_search_partner_ids", string="Contacts"
    )
    lead_ids = fields.Many2many(
        "crm.lead", compute="_compute_links", search="_search_lead_ids", string="Opportunities"
    )
    # Not stored: the email's row is never rewritten when its links change (a rewrite would
    # re-index its whole text); an EXISTS on the link table answers as fast.
    is_assigned = fields.Boolean(
        string="Assigned", compute="_compute_is_assigned", search="_search_is_assigned"
    )
    gone_from_server = fields.Boolean(
        readonly=True, help="Deleted or moved away on every server it was seen on."
    )
    # The filters of the Emails menu (Shown in My Emails, My Primary Account): held by one of the
    # user's own accounts so marked.
    in_my_emails = fields.Boolean(
        string="Shown in My Emails", compute="_compute_in_my_accounts", search="_search_in_my_emails"
    )
    in_my_primary_account = fields.Boolean(
        string="My Primary Account",
        compute="_compute_in_my_accounts",
        search="_search_in_my_primary_account",
    )
    search_text = fields.Char(
        string="Full Text", compute="_compute_search_text", search="_search_search_text"
    )

    _sql_constraints = [
        ("message_id_uniq", "unique(message_id)", "An email is stored once."),
    ]

    def init(self):
        self.env.cr.execute(
            SQL(
                """CREATE TABLE IF NOT EXISTS %s (
                       email_id int4 PRIMARY KEY REFERENCES mail_sync_message (id) ON DELETE CASCADE,
                       document tsvector NOT NULL)""",
                SQL.identifier(SEARCH_TABLE),
            )
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON %s USING gin (document)",
                SQL.identifier(f"{SEARCH_TABLE}_document_idx"),
                SQL.identifier(SEARCH_TABLE),
            )
        )
        self.env.cr.execute(
            SQL(
                """CREATE TABLE IF NOT EXISTS %s (
                       email_id int4 PRIMARY KEY REFERENCES mail_sync_message (id) ON DELETE CASCADE)""",
                SQL.identifier(SEARCH_PENDING),
            )
        )
        # The bodies are compressed as they are stored: lz4 costs a third of PostgreSQL's default
        # (pglz) on a sync's critical path. Left as it is where PostgreSQL was built without lz4.
        self.env.cr.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
        )
        if self.env.cr.fetchone():
            self.env.cr.execute(
                "ALTER TABLE mail_sync_message ALTER COLUMN body_text SET COMPRESSION lz4, "
                "ALTER COLUMN body_html_source SET COMPRESSION lz4"
            )
        self.env.cr.execute(
            SQL("UPDATE mail_sync_message t SET thread_key = %s WHERE thread_key IS NULL", THREAD_KEY)
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS mail_sync_message_without_account_idx "
            "ON mail_sync_message (id) WHERE without_account"
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS mail_sync_message_address_idx "
                "ON mail_sync_message USING gin (%s)",
                ADDRESS_ARRAY,
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        """Emails made through the ORM rather than by the sync's INSERT are searchable too."""
        messages = super().create(vals_list)
        messages._index_stored()
        return messages

    def _index_stored(self):
        """The full-text document and the conversation key of these emails, and whether no account
        holds them, for rows written without the sync's INSERT (the ORM, or SQL as the benches do)."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "UPDATE mail_sync_message m SET thread_key = coalesce(m.thread_key, %s), "
                "without_account = NOT EXISTS "
                "(SELECT 1 FROM mail_sync_account_message_rel r WHERE r.message_id = m.id) "
                "FROM mail_sync_message t WHERE m.id = t.id AND m.id = ANY(%s)",
                THREAD_KEY,
                self.ids,
            )
        )
        self.env.cr.execute(
            SQL(
                """INSERT INTO %(table)s (email_id, document)
                   SELECT t.id, %(document)s
                     FROM (SELECT id, subject, email_from, email_to, email_cc,
                                  coalesce(body_text, '') AS new_text
                             FROM mail_sync_message WHERE id = ANY(%(ids)s)) t
              ON CONFLICT (email_id) DO UPDATE SET document = EXCLUDED.document""",
                table=SQL.identifier(SEARCH_TABLE),
                document=SEARCH_DOCUMENT,
                ids=self.ids,
            )
        )
        self.invalidate_recordset(["thread_key", "without_account"])

    def unlink(self):
        """The files kept in Odoo (pinned attachments) go with their email."""
        self.env["ir.attachment"].sudo().search(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)]
        ).unlink()
        return super().unlink()

    @api.depends("direction", "email_from", "email_to", "email_cc")
    def _compute_correspondent(self):
        # the addresses of the accounts that hold the sent emails, left out of whom they went to
        sent = self.filtered(lambda message: message.direction == Direction.OUTGOING.value)
        own = {email.lower() for email in sent.sudo().account_ids.mapped("email") if email}
        for message in self:
            if message.direction == Direction.OUTGOING.value:
                people = _people(message.email_to, own) + _people(message.email_cc, own)
                names = ", ".join(dict.fromkeys(name for name, _address in people))
                message.correspondent = self.env._("To: %(names)s", names=names) if names else ""
            else:
                message.correspondent = ", ".join(name for name, _address in _people(message.email_from))

    @api.depends("size")
    def _compute_size_display(self):
        for message in self:
            message.size_display = human_size(message.size)

    @api.depends("link_ids.partner_id", "link_ids.lead_id", "link_ids.active")
    @api.depends_context("uid")
    def _compute_links(self):
        # Show only what the user may open: a lead of another salesman stays hidden. Asked once
        # for all these emails' contacts and opportunities (a page of the list), not per email;
        # and the emails that show the same (none, for the unassigned ones) are set together.
        # The links are those of the emails the user may read, as the links' rule says; that rule
        # would ask again, of each link, what reading these emails has just asked (and cached).
        emails = self._origin.sudo()
        links = (
            self.env["mail.sync.message.link"]
            .sudo()
            .search_fetch(
                [("email_id", "in", emails.filtered("user_can_see").ids)],
                ["email_id", "partner_id", "lead_id"],
            )
        )
        partners = set(links.partner_id.with_env(self.env)._filtered_access("read").ids)
        leads = set(links.lead_id.with_env(self.env)._filtered_access("read").ids)
        shown = defaultdict(lambda: ({}, {}))  # email id: (contact ids, opportunity ids), in the links' order
        for link in links:
            if link.partner_id.id in partners:
                shown[link.email_id.id][0][link.partner_id.id] = True
            if link.lead_id.id in leads:
                shown[link.email_id.id][1][link.lead_id.id] = True
        alike = defaultdict(list)
        for message in self:
            contacts, opportunities = shown.get(message._origin.id, ({}, {}))
            alike[tuple(contacts), tuple(opportunities)].append(message.id)
        for (contact_ids, opportunity_ids), ids in alike.items():
            messages = self.browse(ids)
            messages.partner_ids = self.env["res.partner"].browse(contact_ids)
            messages.lead_ids = self.env["crm.lead"].browse(opportunity_ids)

    def _search_partner_ids(self, operator, value):
        return [("link_ids", "any", [("partner_id", operator, value)])]

    def _search_lead_ids(self, operator, value):
        return [("link_ids", "any", [("lead_id", operator, value)])]

    @api.depends("thread_key")
    @api.depends_context("uid")
    def _compute_thread_message_ids(self):
        """The conversation, oldest first, as far as this user may read it."""
        keys = [key for key in set(self.mapped("thread_key")) if key]
        found = self.search([("thread_key", "in", keys)], order="date, id") if keys else self.browse()
        for message in self:
            message.thread_message_ids = found.filtered(
                lambda other, key=message.thread_key: other.thread_key == key
            )
            message.thread_count = len(message.thread_message_ids)

    @api.depends("subject")
    def _compute_display_name(self):
        for message in self:
            message.display_name = message.subject or self.env._("(no subject)")

    @api.depends_context("mail_sync_show_images")
    def _compute_body_html(self):
        show_images = self.env.context.get("mail_sync_show_images")
        for message, source in zip(self, self.sudo().mapped("body_html_source"), strict=True):
            body = html_sanitize(source, sanitize_attributes=True, sanitize_style=True) if source else False
            message.body_html, message.remote_image_count = _hold_remote_images(body, keep=show_images)

    @api.depends("link_ids.active")
    def _compute_is_assigned(self):
        assigned = set()
        if self.ids:
            self.env["mail.sync.message.link"].flush_model(["email_id", "active"])
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT email_id FROM mail_sync_message_link "
                    "WHERE email_id = ANY(%s) AND active",
                    self.ids,
                )
            )
            assigned = {message_id for (message_id,) in self.env.cr.fetchall()}
        for message in self:
            message.is_assigned = message.id in assigned

    def _search_is_assigned(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        linked = SQL("(SELECT email_id FROM mail_sync_message_link WHERE active)")
        return [("id", "in" if (operator == "=") == bool(value) else "not in", linked)]

    def _my_accounts(self, flag):
        """The current user's own accounts with ``flag`` (a boolean field of the account) set."""
        return self.env["mail.sync.account"].search([("user_id", "=", self.env.uid), (flag, "=", True)])

    @api.depends("account_ids")
    @api.depends_context("uid")
    def _compute_in_my_accounts(self):
        shown, primary = self._my_accounts("show_on_dashboard"), self._my_accounts("is_primary")
        for message in self:
            message.in_my_emails = bool(message.account_ids & shown)
            message.in_my_primary_account = bool(message.account_ids & primary)

    def _search_in_my_emails(self, operator, value):
        return self._search_in_my_accounts("show_on_dashboard", operator, value)

    def _search_in_my_primary_account(self, operator, value):
        return self._search_in_my_accounts("is_primary", operator, value)

    def _search_in_my_accounts(self, flag, operator, value):
        """The accounts are a handful of rows, read first: the emails' query then names their ids,
        which PostgreSQL estimates from its statistics and checks per email with one index lookup
        (the filter as ``account_ids any [...]`` joined the accounts, and listed the user's whole
        mailbox to count a page of it).

        It also names the range of email ids these accounts hold (two index lookups per account),
        which changes nothing in what is found. PostgreSQL takes the emails held by an account
        to be spread over the whole table, so it counts the list by walking the emails and the
        account's emails side by side from the first id: for a mailbox stored after the others
        (a first sync stores a mailbox in one run of ids), that walked 4.5 million emails of the
        others' first (0.9 s, bench/list_plans.py at 5 million); the range starts it at his own."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        ids = self._my_accounts(flag).ids
        if (operator == "=") != value:
            return [("account_ids", "not in", ids)]
        return self._held_by(ids)

    def _held_by(self, ids):
        """Domain: the emails held by the accounts ``ids``, with the range of their ids (see
        ``_search_in_my_accounts``)."""
        self.flush_model(["account_ids"])
        self.env.cr.execute(
            SQL(
                """SELECT min(held.first), max(held.last)
                     FROM unnest(%s::int[]) account(id),
                          LATERAL (SELECT min(message_id) AS first, max(message_id) AS last
                                     FROM mail_sync_account_message_rel
                                    WHERE account_id = account.id) held""",
                ids,
            )
        )
        first, last = self.env.cr.fetchone()
        if first is None:
            return [("account_ids", "in", ids)]
        return [("account_ids", "in", ids), ("id", ">=", first), ("id", "<=", last)]

    def _where_calc(self, domain, active_test=True):
        query = super()._where_calc(domain, active_test)
        query.mail_sync_rule_implied = self._rule_implied_by(domain)
        return query

    def _apply_ir_rules(self, query, mode="read"):
        records = self
        if mode == "read" and getattr(query, "mail_sync_rule_implied", False):
            # an object, not a flag: no context a client sends can hold it
            records = self.with_context(mail_sync_rule_implied=RULE_IMPLIED)
        return super(MailSyncMessage, records)._apply_ir_rules(query, mode)

    def _search_user_can_see(self, operator, value):
        if (
            self.env.context.get("mail_sync_rule_implied") is RULE_IMPLIED
            and operator == "="
            and value is True
        ):
            return [(1, "=", 1)]
        return super()._search_user_can_see(operator, value)

    @api.depends_context("uid")
    def _compute_user_can_see(self):
        # Most emails a user reads are held by an account whose every email he reads (the rule's
        # first branch): one lookup answers them, as when a page of his own emails is read; the
        # whole rule, with the records his links reach, is built and asked only of the others.
        user = self.env.user
        ids = [record_id for record_id in self.ids if isinstance(record_id, int)]
        held = set()
        if ids and not (user._is_superuser() or user.has_group("base.group_system")):
            self.flush_model(["account_ids"])
            wholesale = self._wholesale_account_ids()
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT message_id FROM mail_sync_account_message_rel "
                    "WHERE message_id = ANY(%s) AND account_id = ANY(%s)",
                    ids,
                    wholesale,
                )
            )
            held = {message_id for (message_id,) in self.env.cr.fetchall()}
        rest = self.filtered(lambda message: message.id not in held)
        (self - rest).user_can_see = True
        return super(MailSyncMessage, rest)._compute_user_can_see() if rest else None

    def _rule_implied_by(self, domain):
        """Whether every email ``domain`` finds is one the visibility rule shows the current user,
        so that the rule need not be asked of each: ``domain`` keeps to the emails held by some of
        his own accounts (Shown in My Emails, My Primary Account, as the Emails menu opens), and
        the rule reads every email of each of these accounts (``_visible_account_ids``). The
        Emails menu then counts its emails with no check per email (the check cost 2.5 µs an email,
        the count up to 10,001 of them: bench/list_plans.py)."""
        if self.env.su:
            return False
        flags = {
            OWN_ACCOUNT_FILTERS[term[0]]
            for term in _conjuncts(domain)
            if term[0] in OWN_ACCOUNT_FILTERS
            and ((term[1] == "=" and term[2] is True) or (term[1] == "!=" and term[2] is False))
        }
        if not flags:
            return False
        user = self.env.user
        if user._is_superuser() or user.has_group("base.group_system"):
            return False  # no rule to spare
        wholesale = set(self._wholesale_account_ids())
        # Each flag's accounts: an email found is held by one of them (one flag is enough).
        return any(set(self._my_accounts(flag).ids) <= wholesale for flag in flags)

    def _wholesale_account_ids(self):
        """The ids of the accounts whose every email the current user reads (the rule's first
        branch, ``_visible_account_ids``), read after what the rule reads is written."""
        self._flush_visibility()
        user = self.env.user
        return self._visible_account_ids(
            user,
            user.has_group("sales_team.group_sale_salesman"),
            user.has_group("sales_team.group_sale_manager"),
        )[0]

    def _visible_ids_sql(self):
        """The ids of the emails the current user may read (see ``_visible_email_sql``)."""
        visible = self._visible_email_sql(SQL.identifier("v", "id"))
        return None if visible is None else SQL("(SELECT v.id FROM mail_sync_message v WHERE %s)", visible)

    def _visible_email_sql(self, email_id):
        """SQL condition: the email whose id is ``email_id`` (an expression of the enclosing query)
        is one the current user may read; None when he reads them all. The visibility table of the
        README.

        An email is visible through any account it was seen in (the most permissive one wins):
        'everyone' to Sales users; the owner's own accounts; 'owner_and_managers' to Sales managers;
        shared accounts to Shared Inboxes and to the members of the account's group; and through an
        account set to 'records', to the owner's sales teams and to Sales managers, where the email
        is linked to a contact or opportunity they may open. An email no account holds any more
        (its accounts were deleted) stays visible to Sales managers on its linked records.
        Administrators read everything.

        Who may read a private email never depends on a record a colleague can create or edit:
        creating a contact with a colleague's correspondent's address links the colleague's mail
        to it, and shows it to no one outside the colleague's teams and the managers.

        Asked of each email (index lookups from it to its accounts and links), never as the list
        of all the emails the user may read: a chatter or a page of the Emails list costs what its
        own emails cost, whatever the size of the user's mailbox. The aliases are the rule's own,
        so that ``email_id`` may be a column of any alias of the enclosing query.
        """
        user = self.env.user
        if user._is_superuser() or user.has_group("base.group_system"):
            return None
        self._flush_visibility()
        salesman = user.has_group("sales_team.group_sale_salesman")
        manager = user.has_group("sales_team.group_sale_manager")
        wholesale, on_records, orphans = self._visible_account_ids(user, salesman, manager)
        branches = []
        if wholesale:
            # one index lookup (the relation's primary key begins with the email) per email
            branches.append(
                SQL(
                    """EXISTS (SELECT 1 FROM mail_sync_account_message_rel vis_r
                                WHERE vis_r.message_id = %s AND vis_r.account_id = ANY(%s))""",
                    email_id,
                    wholesale,
                )
            )
        if on_records:
            readable = self.env["mail.sync.message.link"]._readable_targets_sql("vis_k")
            branches.append(
                SQL(
                    """EXISTS (SELECT 1 FROM mail_sync_message_link vis_k
                                 JOIN mail_sync_account_message_rel vis_r ON vis_r.message_id = vis_k.email_id
                                WHERE vis_k.email_id = %s AND vis_k.active AND vis_r.account_id = ANY(%s)
                                  AND %s)""",
                    email_id,
                    on_records,
                    readable,
                )
            )
        if manager and salesman and orphans:
            readable = self.env["mail.sync.message.link"]._readable_targets_sql("vis_k")
            branches.append(
                SQL(
                    """EXISTS (SELECT 1 FROM mail_sync_message vis_m
                                 JOIN mail_sync_message_link vis_k ON vis_k.email_id = vis_m.id
                                WHERE vis_m.id = %s AND vis_m.without_account AND vis_k.active AND %s)""",
                    email_id,
                    readable,
                )
            )
        if not branches:
            return SQL("FALSE")
        return SQL("(%s)", SQL(" OR ").join(branches))

    def _flush_visibility(self):
        """What the rule's SQL reads, written to the database first."""
        for model in ("mail.sync.account", "mail.sync.message.link", "crm.team", "crm.team.member"):
            self.env[model].flush_model()
        self.flush_model(["without_account"])

    def _visible_account_ids(self, user, salesman, manager):
        """What the rule of ``user`` needs, read when it is built (in this transaction, a handful
        of rows): the ids of the accounts whose every email he reads; the ids of those set to
        'records' whose emails he reads where they are linked to a contact or opportunity he may
        open (archived accounts count in both: their mail stays where it was); and whether any
        email is left without an account (a look at a partial index).

        Asking each email for one of these ids is one index lookup, where joining the accounts
        for each email made PostgreSQL cost every email's check high enough to scan whole
        mailboxes in parallel rather than take a page of the newest emails by date; and a branch
        no account feeds is left out of the query."""
        conditions = []
        if salesman:
            conditions += [
                SQL("vis_a.visibility = 'everyone'"),
                SQL("vis_a.user_id = %s", user.id),
                SQL("vis_a.member_group_id = ANY(%s)", user.groups_id.ids),
            ]
        if manager:
            conditions.append(SQL("vis_a.visibility = 'owner_and_managers'"))
        if user.has_group("mail_crm_sync.group_mail_sync_shared"):
            conditions.append(SQL("vis_a.account_type = 'shared'"))
        if salesman:
            circle = SQL("TRUE") if manager else SQL("vis_a.user_id IN %s", self._team_circle_sql(user))
            records = SQL("vis_a.visibility = 'records' AND %s", circle)
        else:
            records = SQL("FALSE")
        self.env.cr.execute(
            SQL(
                """SELECT coalesce(array_agg(vis_a.id ORDER BY vis_a.id) FILTER (WHERE %s), '{}'),
                          coalesce(array_agg(vis_a.id ORDER BY vis_a.id) FILTER (WHERE %s), '{}'),
                          EXISTS (SELECT 1 FROM mail_sync_message WHERE without_account)
                     FROM mail_sync_account vis_a""",
                SQL(" OR ").join(conditions) if conditions else SQL("FALSE"),
                records,
            )
        )
        return self.env.cr.fetchone()

    @api.model
    def _team_circle_sql(self, user):
        """SQL subquery: the users who share an active sales team with ``user`` (its active members
        and its leader), ``user`` included: whose private mail on linked records ``user`` reads.
        Teams are set by Sales managers. Part of the query that reads the rule's accounts
        (``_visible_account_ids``), once each time the rule is built."""
        teams = SQL(
            """(SELECT team.id FROM crm_team team
                 WHERE team.active AND (team.user_id = %(uid)s OR team.id IN (
                       SELECT crm_team_id FROM crm_team_member WHERE user_id = %(uid)s AND active)))""",
            uid=user.id,
        )
        return SQL(
            """(SELECT %(uid)s
                 UNION ALL
                SELECT user_id FROM crm_team_member WHERE active AND crm_team_id IN %(teams)s
                 UNION ALL
                SELECT user_id FROM crm_team WHERE user_id IS NOT NULL AND id IN %(teams)s)""",
            uid=user.id,
            teams=teams,
        )

    def _compute_search_text(self):
        self.search_text = False

    def _search_search_text(self, operator, value):
        """Words by their beginning ("chair" finds "chairs"; quotes, "or" and "-" as in a web
        search) and, for a single term, any part of an address ("client.exa")."""
        if operator not in ("ilike", "like", "=", "=like", "=ilike") or not value:
            return []
        # websearch_to_tsquery reads the words; each lexeme it gives then matches as a prefix.
        query = SQL(
            "to_tsquery('simple', regexp_replace("
            "websearch_to_tsquery('simple', %s)::text, '''(\\s|$)', ''':*\\1', 'g'))",
            value,
        )
        # Emails the search-index job has not reached yet (SEARCH_PENDING lists them): found by
        # their subject and addresses from the moment they are stored, by their words once indexed.
        documents = SQL("SELECT email_id FROM %s WHERE document @@ %s", SQL.identifier(SEARCH_TABLE), query)
        waiting = SQL(
            "SELECT t.id FROM %s p JOIN mail_sync_message t ON t.id = p.email_id WHERE %s @@ %s",
            SQL.identifier(SEARCH_PENDING),
            PENDING_DOCUMENT,
            query,
        )
        address = None
        term = value.strip()
        if len(term) >= 3 and not any(char.isspace() for char in term):
            pattern = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            unaccent = self.env.registry.unaccent  # as the index is made (registry, index="trigram")
            address = (unaccent(SQL("address_emails")), unaccent(SQL("%s", f"%{pattern}%")))
        # Across all emails, the indexes answer each part (the trigram index the ILIKE).
        found = [documents, waiting]
        if address:
            found.append(SQL("SELECT id FROM mail_sync_message WHERE %s ILIKE %s", *address))
        matching = SQL("(%s)", SQL(" UNION ALL ").join(found))
        if not self.env.context.get("mail_sync_search_each_email"):
            return [("id", "in", matching)]
        matching = SearchEachEmail(matching)

        def each(alias):
            email_id = SQL.identifier(alias, "id")
            conditions = [
                SQL("EXISTS (%s AND email_id = %s)", documents, email_id),
                SQL("EXISTS (%s AND t.id = %s)", waiting, email_id),
            ]
            if address:
                conditions.append(
                    SQL(
                        "%s ILIKE %s",
                        self.env.registry.unaccent(SQL.identifier(alias, "address_emails")),
                        address[1],
                    )
                )
            return SQL("(%s)", SQL(" OR ").join(conditions))

        matching.each = each
        return [("id", "in", matching)]

    def _condition_to_sql(self, alias, fname, operator, value, query):
        if fname == "id" and operator == "in" and isinstance(value, SearchEachEmail):
            return value.each(alias)
        return super()._condition_to_sql(alias, fname, operator, value, query)

    @api.model
    def get_empty_list_help(self, help_message):
        """An empty list says why: nothing matches for a user with a mailbox, else how to connect one."""
        has_account = self.env["mail.sync.account"].search_count([("user_id", "=", self.env.uid)], limit=1)
        if not has_account:
            return super().get_empty_list_help(help_message)
        return super().get_empty_list_help(
            Markup("<p class='o_view_nocontent_empty_folder'>%s</p><p>%s</p>")
            % (
                self.env._("No emails match"),
                self.env._(
                    "Remove a filter or search for fewer words: the start of a word or any part of "
                    "an address is enough. New mail shows here once your mailbox is synced."
                ),
            )
        )

    @api.model
    def _action_open(self, domain):
        """The Emails list narrowed to ``domain``, for the smart buttons of accounts, contacts and leads."""
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_sync.mail_sync_message_action")
        action["domain"] = domain
        action["context"] = {}
        return action

    def action_relink(self):
        self.check_access("read")
        before = self._visible_link_count()
        self.sudo()._link_messages(self.ids)
        added = self._visible_link_count() - before
        if added == 1:
            message = self.env._("1 new link.")
        elif added:
            message = self.env._("%(count)s new links.", count=added)
        else:
            message = self.env._("No new contact or opportunity matches this email.")
        return notification(
            message,
            kind="success" if added else "info",
        )

    def action_create_contact(self):
        """A new contact for the correspondent of this email (the sender of mail received, the first
        recipient of mail sent), prefilled; saving it links this email and its conversation."""
        self.ensure_one()
        self.check_access("read")
        name, email = self._correspondent()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_name": name or email,
                "default_email": email,
                "default_company_name": _company_from_domain(email),
            },
        }

    def action_create_opportunity(self):
        """A new opportunity from this email: its subject, its correspondent, their company, and the
        text they wrote; saving it links this email and its conversation."""
        self.ensure_one()
        self.check_access("read")
        name, email = self._correspondent()
        partner = (
            self.env["res.partner"].search([("email_normalized", "=", email)], limit=1) if email else None
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_type": "opportunity",
                "default_name": self.subject or self.env._("(no subject)"),
                "default_partner_id": partner.id if partner else False,
                "default_email_from": email,
                "default_contact_name": False if partner else name,
                "default_partner_name": False if partner else _company_from_domain(email),
                "default_description": self.body_text[:4000] if self.body_text else False,
            },
        }

    def _correspondent(self):
        """(name, address) of the other side of this email."""
        header = self.email_to if self.direction == Direction.OUTGOING.value else self.email_from
        name, email = (email_utils.getaddresses([header or ""]) or [("", "")])[0]
        return name, (email or "").lower()

    def action_open_link_wizard(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Link to a Contact or Opportunity"),
            "res_model": "mail.sync.link.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_email_id": self.id},
        }

    def action_reply(self):
        return self._compose("reply")

    def action_reply_all(self):
        return self._compose("reply_all")

    def action_forward(self):
        return self._compose("forward")

    def _compose(self, mode):
        self.ensure_one()
        self.check_access("read")
        return self.env["mail.sync.compose"]._action_open(mode=mode, parent_id=self.id)

    def _changeable_locations(self):
        """This email's locations on servers in the user's own mailboxes: their personal accounts,
        and the shared ones they may send from (an administrator: every shared one). Never a
        colleague's personal mailbox, not even for an administrator: Delete and Move change the
        user's copy alone."""
        self.ensure_one()
        self.check_access("read")
        administrator = self.env.user.has_group("base.group_system")
        locations = self.sudo().location_ids.filtered(
            lambda location: (
                not location.gone
                and (
                    location.account_id.user_id == self.env.user
                    or (
                        location.account_id.account_type == "shared"
                        and (administrator or location.account_id._may_send())
                    )
                )
            )
        )
        if not locations:
            raise MailSyncUserError(
                self.env._(
                    "This email is not in any mailbox of yours on the server: there is nothing to change."
                ),
                self.env._("Not in Your Mailbox"),
            )
        return locations

    def action_delete_on_server(self):
        """Delete this email in the user's mailboxes (to the Trash where there is one), then the
        CRM forgets those copies; the email stays for every other mailbox holding it. A refusal
        from a server is shown and the CRM keeps the email."""
        for message in self:
            changeable = message._changeable_locations()
            for account, locations in changeable.grouped("account_id").items():
                try:
                    with connect(account._connection_settings()) as mailbox:
                        for location in locations:
                            delete_message(mailbox, location._engine_location())
                except MailSyncError as error:
                    raise MailSyncUserError(
                        account._error_message(error), self.env._("Not Deleted on the Server")
                    ) from error
            message.sudo()._forget_copies(changeable.account_id)
        if self.exists():
            return notification(
                self.env._(
                    "Deleted from your mailbox on the server. It stays here for the other mailboxes that "
                    "hold it."
                ),
                kind="success",
            )
        # The form would reload an email that is gone: back to where the user came from.
        return notification_and_back(
            self.env._("Deleted from your mailbox on the server.")
            if len(self) == 1
            else self.env._("%(count)s emails deleted from your mailboxes on the server.", count=len(self)),
            kind="success",
        )

    def _forget_copies(self, accounts):
        """The CRM forgets this email in ``accounts`` (deleted there): their locations of it, and
        their hold on it, which shows it to their users. It stays, with its links and attachments,
        while another account holds it (a location, even one gone from its server, or a Sent copy
        the provider files itself), and is removed with the last copy."""
        self.ensure_one()
        self.env["mail.sync.message.location"].flush_model()
        self.flush_recordset()
        for table, column in (
            ("mail_sync_message_location", "email_id"),
            ("mail_sync_account_message_rel", "message_id"),
        ):
            self.env.cr.execute(
                SQL(
                    "DELETE FROM %s WHERE %s = %s AND account_id = ANY(%s)",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    self.id,
                    accounts.ids,
                )
            )
        self.env.cr.execute(
            SQL(
                "SELECT EXISTS (SELECT 1 FROM mail_sync_account_message_rel WHERE message_id = %(id)s) "
                "OR EXISTS (SELECT 1 FROM mail_sync_message_location WHERE email_id = %(id)s)",
                id=self.id,
            )
        )
        if not self.env.cr.fetchone()[0]:
            self.unlink()
            return
        # Gone when every place left was left on its server; a copy not seen in a folder yet is not.
        self.env.cr.execute(
            SQL(
                """UPDATE mail_sync_message m SET gone_from_server = EXISTS (
                          SELECT 1 FROM mail_sync_message_location l WHERE l.email_id = m.id)
                      AND NOT EXISTS (
                          SELECT 1 FROM mail_sync_message_location l WHERE l.email_id = m.id AND NOT l.gone)
                    WHERE m.id = %s""",
                self.id,
            )
        )
        self.env["mail.sync.message.location"].invalidate_model()
        self.invalidate_model(["location_ids", "account_ids", "gone_from_server"])

    def action_open_move_wizard(self):
        self.ensure_one()
        location = self._changeable_locations()[:1]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Move to Folder"),
            "res_model": "mail.sync.move",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_email_id": self.id, "default_location_id": location.id},
        }

    def action_pin_attachments(self):
        """Keep all attachments of these emails in Odoo ("Keep in Odoo")."""
        self.check_access("read")
        return self.attachment_ids.action_pin()

    def action_show_images(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "context": {**self.env.context, "mail_sync_show_images": True},
        }

    def _visible_link_count(self):
        return self.env["mail.sync.message.link"].search_count([("email_id", "in", self.ids)])

    # -- storing what the engine returns ----------------------------------------------------

    @api.model
    def _store_batch(self, folder, batch, one_by_one=False):
        """Store one engine batch for ``folder`` in a fixed number of queries, then save its state;
        returns the emails it created (an email seen before, in another folder or account, is not).

        ``one_by_one``: each email in a savepoint of its own, for a batch the database refused
        whole; an email it still refuses is listed as failed on the folder, with the reason."""
        account = folder.account_id
        if batch.reset:
            self._forget_folder_uids(folder, batch.state.uidvalidity)
        keep = {
            "received": {Direction.INCOMING},
            "sent": {Direction.OUTGOING},
            "both": {Direction.INCOMING, Direction.OUTGOING},
        }[account.keep]
        records = [record for record in batch.messages if record.direction in keep]
        failed = list(batch.failed)
        if not one_by_one:
            created = self._store_records(folder, batch.state.uidvalidity, records)
        else:
            created = self.browse()
            for record in records:
                try:
                    with self.env.cr.savepoint():
                        created |= self._store_records(folder, batch.state.uidvalidity, [record])
                except Exception as error:  # whatever the database refuses, the batch goes on
                    _logger.warning(
                        "Email UID %s of %s could not be stored", record.uid, folder.name, exc_info=True
                    )
                    self.env.invalidate_all()
                    reason = self.env._("could not be stored: %(error)s", error=str(error).strip()[:500])
                    failed.append(FailedMessage(record.uid, reason))
        if batch.gone_uids:
            self._mark_gone(folder, batch.state.uidvalidity, batch.gone_uids)
        folder._save_batch_state(dataclasses.replace(batch, failed=tuple(failed)))
        self._after_batch_stored(folder, created)
        return created

    def _store_records(self, folder, uidvalidity, records):
        """Store the engine's records seen in ``folder``: the emails not stored yet, their
        attachments, where each was seen, their links; the emails created."""
        fingerprints = {}
        records = self._apart_from_namesakes(records, fingerprints)
        erased = set(self.env["mail.sync.tombstone"]._erased([record.message_id for record in records]))
        records = [record for record in records if record.message_id not in erased]  # GDPR: never again
        if not records:
            return self.browse()
        unique = {}
        for record in records:
            unique.setdefault(record.message_id, record)
        created = self._insert_messages(list(unique.values()), fingerprints)
        # A first sync creates them all; a batch seen in another folder or account, few.
        message_ids = {**created, **self._ids_by_message_id([key for key in unique if key not in created])}
        self._insert_attachments({message_ids[key]: unique[key] for key in created})
        self._insert_locations(folder, uidvalidity, records, message_ids, created)
        self._link_messages(list(message_ids.values()))
        if folder.account_id.create_contacts:
            self._create_sender_contacts(list(unique.values()))
        if created:
            self._index_search_later(wait=SEARCH_INDEX_WAIT)  # or once the run ends
        return self.browse([message_ids[key] for key in created])

    def _apart_from_namesakes(self, records, fingerprints=None):
        """The records, each under the key it is stored with: its Message-ID, unless a different
        email (stored, or earlier in ``records``) holds that Message-ID; then a key of its own and a
        warning. Copies of one email keep one key (``content_fingerprint``); an email stored before
        fingerprints were kept is taken for the same. ``fingerprints`` (a dict) is given each
        record's fingerprint under the key it is stored with, for ``_insert_messages``."""
        fingerprints = {} if fingerprints is None else fingerprints
        self.env.cr.execute(
            SQL(
                "SELECT message_id, content_hash FROM mail_sync_message WHERE message_id = ANY(%s)",
                list({record.message_id for record in records}),
            )
        )
        held = dict(self.env.cr.fetchall())
        keyed = []
        for record in records:
            fingerprint = content_fingerprint(record)
            holder = held.setdefault(record.message_id, fingerprint)
            if holder in (None, fingerprint):
                fingerprints.setdefault(record.message_id, fingerprint)
                keyed.append(record)
                continue
            key = namesake_key(record.message_id, fingerprint)
            fingerprints.setdefault(key, fingerprint)
            held.setdefault(key, fingerprint)
            warning = self.env._(
                "Another email already has the Message-ID %(message_id)s: this one is stored apart.",
                message_id=record.message_id,
            )
            keyed.append(
                dataclasses.replace(
                    record,
                    message_id=key,
                    message_id_header=record.message_id_header or record.message_id,
                    warnings=(*record.warnings, warning),
                )
            )
        return keyed

    def _after_batch_stored(self, folder, new_messages):
        """Called once per stored batch, in its transaction, with the emails this batch created
        (linked already; an email seen before in another folder or account is not new). Nothing by
        default: override it for automations, e.g. an activity when a customer writes. Keep it
        set-based: it runs for every batch of every sync."""

    def _insert_messages(self, records, fingerprints=None):
        """INSERT the new emails (one statement); return {Message-ID: id} of those it created. Their
        full-text documents are left to be built (``_build_search_documents``): the same statement
        lists them as waiting (SEARCH_PENDING). ``fingerprints``: {key: content_fingerprint} of
        records already fingerprinted (``_apart_from_namesakes``), not computed again."""
        fingerprints = fingerprints or {}
        columns = {
            "message_id": [],
            "message_id_header": [],
            "subject": [],
            "date": [],
            "email_from": [],
            "email_to": [],
            "email_cc": [],
            "reply_to": [],
            "address_emails": [],
            "in_reply_to": [],
            "message_references": [],
            "direction": [],
            "size": [],
            "warnings": [],
            "message_id_synthetic": [],
            "content_hash": [],
            "attachment_count": [],
        }
        types = {
            "date": "timestamp",
            "size": "int4",
            "message_id_synthetic": "bool",
            "attachment_count": "int4",
        }
        for record in records:
            emails = dict.fromkeys(a.email for a in record.addresses if a.email)
            columns["message_id"].append(record.message_id)
            columns["message_id_header"].append(record.message_id_header)
            columns["subject"].append(record.subject or "")
            columns["date"].append(record.date.replace(tzinfo=None) if record.date else None)
            columns["email_from"].append(_addresses(record.from_))
            columns["email_to"].append(_addresses(record.to))
            columns["email_cc"].append(_addresses(record.cc))
            columns["reply_to"].append(_addresses(record.reply_to))
            columns["address_emails"].append("\n".join(emails))
            columns["in_reply_to"].append(record.in_reply_to)
            columns["message_references"].append(" ".join(record.references))
            columns["direction"].append(record.direction.value)
            columns["size"].append(record.size)
            columns["warnings"].append("\n".join(record.warnings) or None)
            columns["message_id_synthetic"].append(record.message_id_synthetic)
            fingerprint = fingerprints.get(record.message_id)
            columns["content_hash"].append(fingerprint or content_fingerprint(record))
            columns["attachment_count"].append(len(record.attachments))
        extra = [self._extra_message_values(record) for record in records]
        for name in sorted({name for values in extra for name in values}):
            columns[name] = [values.get(name) for values in extra]
            types[name] = self._fields[name].column_type[1]
        self._stage_bodies(records)
        self.env.cr.execute(
            SQL(
                """WITH staged AS (
                       DELETE FROM pg_temp.%(bodies)s RETURNING staged_row, body_text, body_html_source
                   ), created AS (
                       INSERT INTO mail_sync_message (%(names)s, body_text, body_html_source, thread_key,
                                                      gone_from_server, create_uid, write_uid,
                                                      create_date, write_date)
                       SELECT %(names)s, b.body_text, b.body_html_source, %(thread)s, false, %(uid)s,
                              %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
                         FROM unnest(%(arrays)s) WITH ORDINALITY AS t(%(names)s, staged_row)
                         JOIN staged b ON b.staged_row = t.staged_row
                  ON CONFLICT (message_id) DO NOTHING
                    RETURNING id, message_id
                   ), waiting AS (
                       INSERT INTO %(pending)s (email_id) SELECT id FROM created
                   )
                   SELECT message_id, id FROM created""",
                names=SQL(", ").join(SQL.identifier(name) for name in columns),
                thread=THREAD_KEY,
                arrays=SQL(", ").join(
                    SQL("%s::%s[]", values, SQL(types.get(name, "text"))) for name, values in columns.items()
                ),
                uid=self.env.uid,
                bodies=SQL.identifier(BODIES_TABLE),
                pending=SQL.identifier(SEARCH_PENDING),
            ),
            log_exceptions=False,  # a concurrent worker storing the same mail is retried, not an error
        )
        return dict(self.env.cr.fetchall())

    def _stage_bodies(self, records):
        """Put the records' text and HTML bodies, numbered from 1 in their order, in this
        connection's temporary table BODIES_TABLE (made at its first use), by a binary COPY."""
        self.env.cr.execute(SQL("SELECT to_regclass(%s)", f"pg_temp.{BODIES_TABLE}"))
        if not self.env.cr.fetchone()[0]:
            self.env.cr.execute(
                SQL(
                    "CREATE TEMPORARY TABLE %(table)s "
                    "(staged_row int8, body_text text, body_html_source text) ON COMMIT DELETE ROWS; "
                    "ALTER TABLE pg_temp.%(table)s ALTER body_text SET STORAGE EXTERNAL, "
                    "ALTER body_html_source SET STORAGE EXTERNAL",
                    table=SQL.identifier(BODIES_TABLE),
                )
            )
        self.env.cr.copy_expert(
            SQL("COPY pg_temp.%s FROM STDIN (FORMAT binary)", SQL.identifier(BODIES_TABLE)).code,
            io.BytesIO(bodies_copy_data(records)),
            size=1 << 20,
        )

    @api.model
    def _extra_headers(self):
        """Headers the sync fetches besides its own, for ``_extra_message_values`` (names; case does
        not matter). None by default: each one costs a little on every email."""
        return ()

    @api.model
    def _extra_message_values(self, record):
        """{field: value} stored with each new email, read from the engine's record (e.g. its
        ``extra_headers``). The fields must be stored columns of this model. Runs per email:
        keep it to plain Python, no queries."""
        return {}

    def _ids_by_message_id(self, message_ids):
        if not message_ids:
            return {}
        self.env.cr.execute(
            SQL("SELECT message_id, id FROM mail_sync_message WHERE message_id = ANY(%s)", message_ids)
        )
        return dict(self.env.cr.fetchall())

    def _insert_attachments(self, records_by_id):
        rows = [
            (message_id, a.name or a.filename, a.content_type, a.size, a.part, a.content_id, a.inline)
            for message_id, record in records_by_id.items()
            for a in record.attachments
        ]
        if not rows:
            return
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_sync_message_attachment
                          (email_id, name, content_type, size, part, content_id, inline)
                   SELECT *
                     FROM unnest(%(ids)s::int4[], %(names)s::text[], %(types)s::text[], %(sizes)s::int4[],
                                 %(parts)s::text[], %(cids)s::text[], %(inline)s::bool[])""",
                ids=[row[0] for row in rows],
                names=[row[1] for row in rows],
                types=[row[2] for row in rows],
                sizes=[row[3] for row in rows],
                parts=[row[4] for row in rows],
                cids=[row[5] for row in rows],
                inline=[row[6] for row in rows],
            )
        )

    def _insert_locations(self, folder, uidvalidity, records, message_ids, created=()):
        """Remember where each record was seen (``message_ids``: the email of each key), and that its
        account holds it. ``created``: the keys of emails this transaction just created, which no
        account lost and no server took away yet."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_sync_message_location
                          (email_id, account_id, folder_id, uidvalidity, uid, gone)
                   SELECT m, %(account)s, %(folder)s, %(uidvalidity)s, u, false
                     FROM unnest(%(ids)s::int4[], %(uids)s::int8[]) AS t(m, u)
              ON CONFLICT (folder_id, uidvalidity, uid)
                 DO UPDATE SET email_id = EXCLUDED.email_id, gone = false""",
                account=folder.account_id.id,
                folder=folder.id,
                uidvalidity=uidvalidity,
                ids=[message_ids[record.message_id] for record in records],
                uids=[record.uid for record in records],
            )
        )
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_sync_account_message_rel (account_id, message_id)
                   SELECT %s, unnest(%s::int4[]) ON CONFLICT DO NOTHING""",
                folder.account_id.id,
                list(message_ids.values()),
            )
        )
        seen_before = [email_id for key, email_id in message_ids.items() if key not in created]
        if seen_before:  # none in a first sync
            self._held_by_an_account(seen_before)
            self.env.cr.execute(
                SQL(
                    "UPDATE mail_sync_message SET gone_from_server = false "
                    "WHERE id = ANY(%s) AND gone_from_server",
                    seen_before,
                )
            )

    @api.model
    def _store_sent(self, account, outgoing, location, origin=None):
        """Store mail just sent from ``account`` as an outgoing email, linked at once to the record it
        was written from (``origin``: a contact, company or opportunity) and, like any email, to the
        people and opportunities of its addresses. ``location`` is where the Sent copy went (None
        where the provider files it itself): the next sync meets it there as this same record."""
        folder = self.env["mail.sync.folder"]
        if location:
            folder = account.with_context(active_test=False).folder_ids.filtered(
                lambda record: record.name == location.folder
            )
            if not folder:  # the Sent folder was just made: known from now on, synced if chosen
                folder = folder.sudo().create(
                    {"account_id": account.id, "name": location.folder, "role": FolderRole.SENT.value}
                )
        place = Place(
            location.folder if location else "",
            location.uid or 0 if location else 0,
            location.uidvalidity if location else 0,
            internal_date=outgoing.date,
            folder_role=FolderRole.SENT,
        )
        record = record_from_bytes(outgoing.data, place, account._own_addresses())
        if self.env["mail.sync.tombstone"]._erased([record.message_id]):
            return self.browse()  # erased from the CRM (GDPR): sent, and kept out as the sync would
        created = self._insert_messages([record])
        message_ids = created or self._ids_by_message_id([record.message_id])
        self._insert_attachments({message_ids[key]: record for key in created})
        if location and location.uid:
            self._insert_locations(folder, location.uidvalidity, [record], message_ids, created)
        else:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO mail_sync_account_message_rel (account_id, message_id) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING",
                    account.id,
                    message_ids[record.message_id],
                )
            )
            self._held_by_an_account([message_ids[record.message_id]])
        message = self.browse(message_ids[record.message_id])
        message._build_search_documents()  # one email, searchable as soon as it is sent
        bcc = self._sent_bcc(outgoing)  # mail_sync_outbox.py: the sender sees later whom they Bcc'd
        if bcc:
            self.env.cr.execute(
                SQL("UPDATE mail_sync_message SET email_bcc = %s WHERE id = %s", bcc, message.id)
            )
        if origin and origin._name in ("res.partner", "crm.lead"):
            field = "partner_id" if origin._name == "res.partner" else "lead_id"
            Link = self.env["mail.sync.message.link"]
            self.env.cr.execute(
                SQL(
                    """INSERT INTO mail_sync_message_link (email_id, %s, reason, active, %s)
                       VALUES (%s, %s, 'sent_from', true, %s)
                  ON CONFLICT DO NOTHING""",
                    SQL.identifier(field),
                    AUDIT_COLUMNS,
                    message.id,
                    origin.id,
                    Link._link_audit(),
                )
            )
        message._link_messages(message.ids)  # after: the record it was written from keeps that reason
        self.env["mail.sync.message.link"].invalidate_model()
        self.invalidate_model()
        return message

    def _held_by_an_account(self, message_ids):
        """These emails are in an account again: their visibility is that account's once more."""
        self.env.cr.execute(
            SQL(
                "UPDATE mail_sync_message SET without_account = FALSE WHERE without_account AND id = ANY(%s)",
                message_ids,
            )
        )

    def _forget_folder_uids(self, folder, uidvalidity):
        """UIDVALIDITY changed: the folder's stored UIDs mean nothing any more."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM mail_sync_message_location "
                "WHERE folder_id = %s AND uidvalidity <> %s RETURNING email_id",
                folder.id,
                uidvalidity,
            )
        )
        self._update_gone([message_id for (message_id,) in self.env.cr.fetchall()])

    def _mark_gone(self, folder, uidvalidity, uids):
        self.env.cr.execute(
            SQL(
                """UPDATE mail_sync_message_location SET gone = true
                    WHERE folder_id = %s AND uidvalidity = %s AND uid = ANY(%s) RETURNING email_id""",
                folder.id,
                uidvalidity,
                list(uids),
            )
        )
        self._update_gone([message_id for (message_id,) in self.env.cr.fetchall()])

    def _update_gone(self, message_ids):
        if not message_ids:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE mail_sync_message m
                      SET gone_from_server = NOT EXISTS (
                          SELECT 1 FROM mail_sync_message_location l WHERE l.email_id = m.id AND NOT l.gone)
                    WHERE m.id = ANY(%s)""",
                list(set(message_ids)),
            )
        )
        self.env["mail.sync.message"].invalidate_model(["gone_from_server"])

    # -- full-text documents, built after the sync's commit ----------------------------------

    @api.model
    def _index_search_later(self, wait=0):
        """Have the search-index job build the documents of the emails just stored, ``wait``
        seconds after this transaction commits (a cron trigger: the job runs in a cron worker of its
        own). Odoo's scheduler wakes at once for a trigger due now; for a later one, at its next
        look (a minute at most)."""
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_index_search", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(fields.Datetime.now() + timedelta(seconds=wait) if wait else None)

    @api.model
    def _cron_index_search(self, chunk_size=SEARCH_INDEX_CHUNK):
        """Build the full-text documents of emails stored without one, oldest first, one chunk per
        call: the scheduler commits after each call and calls again while the progress reported
        says some remain, so that search trails the sync by the time these chunks take."""
        self.env.cr.execute(
            SQL(
                "SELECT email_id FROM %s ORDER BY email_id LIMIT %s",
                SQL.identifier(SEARCH_PENDING),
                chunk_size,
            )
        )
        emails = self.browse([email_id for (email_id,) in self.env.cr.fetchall()])
        try:
            with self.env.cr.savepoint():
                emails._build_search_documents()
        except psycopg2.errors.SerializationFailure:
            # An email of the chunk changed meanwhile (erased): the next call takes what is left.
            _logger.info("Search documents of %s emails left for the next call", len(emails))
            emails = self.browse()
        except Exception:  # pylint: disable=broad-exception-caught
            # One email whose text cannot be read or indexed must not hold back every email after
            # it: the chunk again, one email at a time.
            _logger.warning("Search documents of a chunk failed: built one email at a time", exc_info=True)
            for email in emails:
                email._build_search_document_alone()
        remaining = 0
        if len(emails) == chunk_size:
            self.env.cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(SEARCH_PENDING)))
            remaining = self.env.cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=len(emails), remaining=remaining)

    def _build_search_documents(self):
        """The full-text documents of these emails (SEARCH_DOCUMENT): their headers and the text
        their writers typed, the quoted history left out (the engine's quoting.new_text). They wait
        no more."""
        if not self:
            return
        self.env.cr.execute(SQL("SELECT id, body_text FROM mail_sync_message WHERE id = ANY(%s)", self.ids))
        rows = self.env.cr.fetchall()
        self.env.cr.execute(
            SQL(
                """INSERT INTO %s (email_id, document)
                   SELECT t.id, %s
                     FROM (SELECT e.id, e.subject, e.email_from, e.email_to, e.email_cc, v.new_text
                             FROM unnest(%s::int4[], %s::text[]) AS v(id, new_text)
                             JOIN mail_sync_message e ON e.id = v.id) t
              ON CONFLICT (email_id) DO UPDATE SET document = EXCLUDED.document""",
                SQL.identifier(SEARCH_TABLE),
                SEARCH_DOCUMENT,
                [email_id for email_id, _text in rows],
                [new_text(text or "") for _email_id, text in rows],
            )
        )
        self._wait_no_more()

    def _wait_no_more(self):
        self.env.cr.execute(
            SQL("DELETE FROM %s WHERE email_id = ANY(%s)", SQL.identifier(SEARCH_PENDING), self.ids)
        )

    def _build_search_document_alone(self):
        """This email's document, in a savepoint of its own; if its text cannot be read or indexed,
        a document of its subject and addresses (PENDING_DOCUMENT), so that it leaves the waiting
        list and stays found by them. Said in the log, with the email's id."""
        try:
            with self.env.cr.savepoint():
                self._build_search_documents()
        except psycopg2.errors.SerializationFailure:
            return  # changed meanwhile: the next call takes it
        except Exception:  # pylint: disable=broad-exception-caught
            _logger.warning(
                "Email %s: its words could not be indexed; found by subject and addresses", self.id
            )
            self.env.cr.execute(
                SQL(
                    """INSERT INTO %s (email_id, document)
                       SELECT id, %s FROM mail_sync_message WHERE id = %s
                  ON CONFLICT (email_id) DO UPDATE SET document = EXCLUDED.document""",
                    SQL.identifier(SEARCH_TABLE),
                    PENDING_DOCUMENT,
                    self.id,
                )
            )
            self._wait_no_more()

    # -- linking ------------------------------------------------------------------------------

    @api.model
    def _link_messages(self, message_ids):
        """Link these emails by the link rules (mail.sync.message.link._link_emails)."""
        self.env["mail.sync.message.link"]._link_emails(message_ids)
        self.invalidate_model(["link_ids", "partner_ids", "lead_ids", "is_assigned"])

    @api.model
    def _link_by_emails(self, emails):
        """Link the stored emails that mention any of these addresses (a contact or lead was added)."""
        emails = sorted({email for email in emails if email})
        found = []
        # A few dozen addresses at a time: the planner costs an array overlap as cheap whatever its
        # size and, from about a hundred addresses (an import's step), scans every email instead of
        # going through the GIN index of their addresses (3.5 s instead of 0.2 s at 100,000 emails).
        for start in range(0, len(emails), 50):
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM mail_sync_message WHERE %s && %s::text[]",
                    ADDRESS_ARRAY,
                    emails[start : start + 50],
                )
            )
            found += [message_id for (message_id,) in self.env.cr.fetchall()]
        if found:
            found = sorted(set(found))
            # The rest of their conversations too: a colleague's reply is linked by the thread rule
            # once the email it answers is.
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM mail_sync_message WHERE thread_key IN (SELECT DISTINCT thread_key "
                    "FROM mail_sync_message WHERE id = ANY(%(found)s)) AND NOT id = ANY(%(found)s)",
                    found=found,
                )
            )
            replies = [message_id for (message_id,) in self.env.cr.fetchall()]
            self._link_messages(found)
            self._link_messages(replies)  # after: they copy the links just made

    @api.model
    def _cron_relink(self, chunk_size=RELINK_CHUNK):
        """Match unassigned emails again against all contacts and leads, one chunk per call.

        The Odoo 18 way: the scheduler commits after each call and calls again while the progress
        reported says some remain. Where the night's pass is stays in a parameter, so that emails
        still unassigned are not read again before the pass ends. How many are left is counted once,
        when the pass starts, and kept in another: counting them after every chunk read the rest of
        the mailbox each time (at a million emails, most of the pass).
        """
        Param = self.env["ir.config_parameter"].sudo()
        after = int(Param.get_param("mail_crm_sync.relink_after_id", "0") or 0)
        left = int(Param.get_param("mail_crm_sync.relink_left", "0") or 0)
        if not after:
            self.env.cr.execute(SQL("SELECT count(*) %s", self._unassigned_after(0)))
            left = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            SQL("SELECT m.id %s ORDER BY m.id LIMIT %s", self._unassigned_after(after), chunk_size)
        )
        ids = [message_id for (message_id,) in self.env.cr.fetchall()]
        self._link_messages(ids)
        remaining = 0
        if len(ids) == chunk_size:
            remaining = left - len(ids)
            if remaining <= 0:  # emails came in during the pass: count what is left now
                self.env.cr.execute(SQL("SELECT count(*) %s", self._unassigned_after(ids[-1])))
                remaining = self.env.cr.fetchone()[0]
        Param.set_param("mail_crm_sync.relink_after_id", ids[-1] if remaining else 0)
        Param.set_param("mail_crm_sync.relink_left", remaining)
        self.env["ir.cron"]._notify_progress(done=len(ids), remaining=remaining)

    @api.model
    def _unassigned_after(self, after_id):
        return SQL(
            "FROM mail_sync_message m WHERE m.id > %s AND NOT EXISTS "
            "(SELECT 1 FROM mail_sync_message_link k WHERE k.email_id = m.id AND k.active)",
            after_id,
        )

    def _create_sender_contacts(self, records):
        """Create contacts for unknown senders of incoming mail, except blocked addresses and domains."""
        blocked = self.env["res.config.settings"]._mail_sync_block_list()
        senders = {}
        for record in records:
            if record.direction != Direction.INCOMING:
                continue
            for address in record.from_:
                local, _sep, domain = address.email.partition("@")
                if domain and not ({address.email, local, domain} & blocked):
                    senders.setdefault(address.email, address.name)
        if not senders:
            return
        known = (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search([("email_normalized", "in", list(senders))])
        )
        new = {
            email: name
            for email, name in senders.items()
            if email not in set(known.mapped("email_normalized"))
        }
        if new:
            self.env["res.partner"].create(
                [{"name": name or email, "email": email} for email, name in new.items()]
            )


REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_REMOTE_URL = re.compile(r"url\(\s*['\"]?\s*(https?:)?//[^)]*\)", re.IGNORECASE)


def _hold_remote_images(body, keep=False):
    """(html, count): what the email would load from other servers (tracking pixels among them:
    <img src>, srcset, background attributes, CSS url()) taken out so that the browser fetches
    nothing, unless ``keep``. Inline images (cid:, data:) stay."""
    if not body:
        return body, 0
    document = lxml_html.fragment_fromstring(body, create_parent="div")
    count = 0
    for element in document.iter():
        for attribute in ("src", "srcset", "background"):
            if REMOTE.match(element.get(attribute) or ""):
                count += 1
                if not keep:
                    element.set(f"data-{attribute}", element.attrib.pop(attribute))
        style = element.get("style") or ""
        if CSS_REMOTE_URL.search(style):
            count += 1
            if not keep:
                element.set("style", CSS_REMOTE_URL.sub("none", style))
        if element.tag == "img" and not keep and element.get("data-src") and not element.get("alt"):
            element.set("alt", "[image]")
    if not count or keep:
        return body, count
    wrapped = lxml_html.tostring(document, encoding="unicode")
    return wrapped[len("<div>") : -len("</div>")], count
