from dataclasses import dataclass

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..exceptions import MailSyncUserError
from .notify import notification

# One statement per stage and batch, whatever the number of rules: contacts first, then the
# opportunities (which may start from the contacts just linked), then threads (which copy what the
# emails a reply names were linked to).
LINK_STAGES = ("contacts", "opportunities", "thread")
AUDIT_COLUMNS = SQL("create_uid, write_uid, create_date, write_date")
# From this many emails at once, the columns the stages read are copied out once for all stages,
# and their addresses split out once.
ADDRESS_TABLE_FROM = 10_000


def among(column, ids):
    """``column`` is one of these ids (a list). Their bounds come first, so that PostgreSQL reads one
    range of an index instead of guessing how many of a big list match (a chunk of the nightly
    relink is 50,000 ids)."""
    return SQL("(%s BETWEEN %s AND %s AND %s = ANY(%s))", column, min(ids), max(ids), column, ids)


@dataclass(frozen=True)
class LinkRule:
    """One way an email is linked to a contact or an opportunity.

    ``name`` is also the reason its links keep (a value of ``mail.sync.message.link.reason``);
    ``stage`` is the statement it belongs to; ``method`` names the link model's method that returns
    its rows as SQL; when several rules find the same link, the lowest ``rank`` gives the reason.
    """

    name: str
    stage: str
    method: str
    rank: int = 10


class MailSyncMessageLink(models.Model):
    """Why an email shows on a contact or an opportunity. Unlinking by hand archives the link, so
    that relinking does not bring it back; deleting it lets relinking recreate it.

    Users never write links directly: linking by hand goes through the link wizard and unlinking
    through ``action_unlink``, which check that the user may read both the email and the record.
    Who made the last change by hand, and when, is the link's write_uid and write_date.
    """

    _name = "mail.sync.message.link"
    _inherit = ["mail.sync.visibility.mixin"]
    _description = "Email Link"
    _order = "email_id, reason, id"

    email_id = fields.Many2one("mail.sync.message", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one("res.partner", string="Contact", ondelete="cascade", index="btree_not_null")
    lead_id = fields.Many2one("crm.lead", string="Opportunity", ondelete="cascade", index="btree_not_null")
    reason = fields.Selection(
        [
            ("address", "Address in From, To or Cc"),
            ("company", "Company of a contact on the email"),
            ("lead_partner", "Opportunity of a contact on the email"),
            ("lead_email", "Opportunity email on the email"),
            ("thread", "Reply in a thread"),
            ("sent_from", "Written from this record"),
            ("manual", "Linked by hand"),
        ],
        required=True,
        default="manual",
        readonly=True,
    )
    email = fields.Char(string="Matched Address", readonly=True)
    active = fields.Boolean(default=True)

    def init(self):
        for column in ("partner_id", "lead_id"):
            self.env.cr.execute(
                SQL(
                    "CREATE UNIQUE INDEX IF NOT EXISTS %s ON mail_sync_message_link (email_id, %s) "
                    "WHERE %s IS NOT NULL",
                    SQL.identifier(f"mail_sync_message_link_{column}_uniq"),
                    SQL.identifier(column),
                    SQL.identifier(column),
                )
            )

    @api.model
    def _emails_by_target(self, field, ids):
        """{contact or opportunity id: ids of the emails actively linked to it}, in one query;
        whether the user may read those emails is for the caller to ask."""
        if not ids:
            return {}
        groups = self.sudo()._read_group([(field, "in", ids)], [field], ["email_id:array_agg"])
        return {target.id: set(message_ids) for target, message_ids in groups}

    # -- linking ---------------------------------------------------------------------------------

    @api.model
    def _link_rules(self):
        """The rules emails are linked by. To add one, an addon overrides this method::

            def _link_rules(self):
                return [*super()._link_rules(), LinkRule("alias", "contacts", "_link_rule_alias", 2)]

        with a method ``_link_rule_alias(self, message_ids)`` returning an SQL SELECT of the stage's
        columns, and its reason label on ``reason`` (``fields.Selection(selection_add=[("alias",
        "Alias of a contact")], ondelete={"alias": "cascade"})``). To switch one off, it returns the
        list without it; an administrator switches one off with the system parameter
        ``mail_crm_sync.link_rules_off`` (rule names, separated by commas, e.g. ``company``). What
        each stage's SELECT may use is said on ``_link_stage_<stage>``.
        """
        return [
            LinkRule("address", "contacts", "_link_rule_address", 0),
            LinkRule("company", "contacts", "_link_rule_company", 1),
            LinkRule("lead_partner", "opportunities", "_link_rule_lead_partner", 0),
            LinkRule("lead_email", "opportunities", "_link_rule_lead_email", 1),
            LinkRule("thread", "thread", "_link_rule_thread", 0),
        ]

    @api.model
    def _link_emails(self, message_ids):
        """Link these emails by every rule: one statement per stage, for any number of emails.

        Each link records why it exists. Links removed by hand stay (archived), so linking again
        never brings them back.
        """
        if not message_ids:
            return
        self.env.flush_all()  # contacts and leads just written are matched on their stored columns
        ids = sorted(set(message_ids))
        off = self.env["ir.config_parameter"].sudo().get_param("mail_crm_sync.link_rules_off") or ""
        off = {name.strip() for name in off.split(",")}
        rules = [rule for rule in self._link_rules() if rule.name not in off]
        emails = addresses = None
        if len(ids) >= ADDRESS_TABLE_FROM:
            # The nightly relink's chunks. Every stage reads the emails, and two their addresses: at
            # this size, the emails' columns are read once (and their list of ids planned once),
            # their addresses split out once. Compiling the plans' expressions (JIT) would cost more
            # than it saves on these statements.
            self.env.cr.execute(
                "SET LOCAL jit = off; DROP TABLE IF EXISTS mail_sync_link_email, mail_sync_link_address"
            )
            self.env.cr.execute(
                SQL(
                    "CREATE TEMPORARY TABLE mail_sync_link_email ON COMMIT DROP AS "
                    "SELECT id, address_emails, in_reply_to, message_references FROM %s",
                    self._link_source(ids),
                )
            )
            emails = SQL("mail_sync_link_email AS m")
            self.env.cr.execute(
                SQL(
                    "CREATE TEMPORARY TABLE mail_sync_link_address ON COMMIT DROP AS %s",
                    self._link_addresses(ids, emails),
                )
            )
            self.env.cr.execute("ANALYZE mail_sync_link_address")
            addresses = SQL("SELECT email_id, email FROM mail_sync_link_address")
        for stage in LINK_STAGES:
            stage_rules = sorted((rule for rule in rules if rule.stage == stage), key=lambda rule: rule.rank)
            if not stage_rules:
                continue
            found = SQL(" UNION ALL ").join(
                SQL(
                    "SELECT *, %s::varchar AS reason, %s AS rank FROM (%s) AS %s",
                    rule.name,
                    rule.rank,
                    getattr(self, rule.method)(ids),
                    SQL.identifier(f"rule_{rule.name}"),
                )
                for rule in stage_rules
            )
            self.env.cr.execute(
                getattr(self, f"_link_stage_{stage}")(ids, found, addresses=addresses, emails=emails),
                log_exceptions=False,
            )
        if addresses:
            self.env.cr.execute("DROP TABLE mail_sync_link_email, mail_sync_link_address")
        self.invalidate_model()

    def _link_audit(self):
        return SQL("%(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'", uid=self.env.uid)

    @api.model
    def _link_source(self, message_ids):
        """These emails, as a FROM item ``m`` of mail_sync_message's rows."""
        return SQL("(SELECT * FROM mail_sync_message WHERE %s) AS m", among(SQL("id"), message_ids))

    @api.model
    def _link_addresses(self, message_ids, emails=None):
        """(email_id, email) for every From, To and Cc address of these emails (read from ``emails``,
        a FROM item ``m``, when given), but the addresses of this company's people: a mailbox's own
        address, or a user's, found on a contact or a lead someone created would link all that
        mailbox's mail to it (and show it to them)."""
        return SQL(
            """SELECT m.id AS email_id, e.email
                 FROM %s, unnest(string_to_array(m.address_emails, E'\\n')) AS e(email)
                WHERE e.email <> ''
                  AND e.email NOT IN (
                        SELECT lower(email) FROM mail_sync_account WHERE email IS NOT NULL
                         UNION ALL
                        SELECT lower(username) FROM mail_sync_account WHERE strpos(username, '@') > 0
                         UNION ALL
                        SELECT p.email_normalized FROM res_users u JOIN res_partner p ON p.id = u.partner_id
                         WHERE NOT u.share AND p.email_normalized IS NOT NULL)""",
            emails or self._link_source(message_ids),
        )

    @api.model
    def _link_stage_contacts(self, message_ids, found, addresses=None, emails=None):
        """Rules of this stage select (email_id, partner_id, email) and may use:
        ``address(email_id, email)``: the emails' From, To and Cc addresses;
        ``person(email_id, partner_id, commercial_partner_id, email)``: the active contacts of
        those addresses (not internal users), found through the addon's lookup index."""
        return SQL(
            """WITH address AS (%(address)s), known AS MATERIALIZED (
                    SELECT p.id, p.email_normalized, p.commercial_partner_id FROM res_partner p
                     WHERE (p.email_normalized COLLATE "C") = ANY(ARRAY(SELECT DISTINCT email FROM address))
                       AND p.active
                       AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = p.id AND NOT u.share)
               ), person AS (
                    SELECT a.email_id, p.id AS partner_id, p.commercial_partner_id, a.email
                      FROM address a JOIN known p ON p.email_normalized = a.email
               ), found AS (%(found)s)
               INSERT INTO mail_sync_message_link
                      (email_id, partner_id, reason, email, active, %(audit_columns)s)
               SELECT DISTINCT ON (email_id, partner_id)
                      email_id, partner_id, reason, email, true, %(audit)s
                 FROM found WHERE partner_id IS NOT NULL
             ORDER BY email_id, partner_id, rank, email
          ON CONFLICT DO NOTHING""",
            address=addresses or self._link_addresses(message_ids, emails),
            found=found,
            audit=self._link_audit(),
            audit_columns=AUDIT_COLUMNS,
        )

    @api.model
    def _link_rule_address(self, message_ids):
        return SQL("SELECT email_id, partner_id, email FROM person")

    @api.model
    def _link_rule_company(self, message_ids):
        return SQL(
            "SELECT email_id, commercial_partner_id AS partner_id, email FROM person "
            "WHERE commercial_partner_id <> partner_id"
        )

    @api.model
    def _link_stage_opportunities(self, message_ids, found, addresses=None, emails=None):
        """Rules of this stage select (email_id, lead_id, email) and may use ``address`` (as for
        contacts), ``lead_by_email(id, email_normalized)``: the leads of those addresses, and the
        links the contacts stage just made (mail_sync_message_link). Only active opportunities that
        are not won are linked."""
        return SQL(
            """WITH address AS (%(address)s), lead_by_email AS MATERIALIZED (
                    SELECT id, email_normalized FROM crm_lead
                     WHERE (email_normalized COLLATE "C") = ANY(ARRAY(SELECT DISTINCT email FROM address))
               ), found AS (%(found)s)
               , open_lead AS MATERIALIZED (
                    SELECT l.id FROM crm_lead l LEFT JOIN crm_stage s ON s.id = l.stage_id
                     WHERE l.id = ANY(ARRAY(SELECT DISTINCT lead_id FROM found))
                       AND l.active AND NOT coalesce(s.is_won, false)
               )
               INSERT INTO mail_sync_message_link
                      (email_id, lead_id, reason, email, active, %(audit_columns)s)
               SELECT DISTINCT ON (f.email_id, f.lead_id) f.email_id, f.lead_id, f.reason, f.email, true,
                      %(audit)s
                 FROM found f JOIN open_lead l ON l.id = f.lead_id
             ORDER BY f.email_id, f.lead_id, f.rank
          ON CONFLICT DO NOTHING""",
            address=addresses or self._link_addresses(message_ids, emails),
            found=found,
            audit=self._link_audit(),
            audit_columns=AUDIT_COLUMNS,
        )

    @api.model
    def _link_rule_lead_partner(self, message_ids):
        # The address on the email that found the contact.
        return SQL(
            """WITH linked AS MATERIALIZED (
                    SELECT email_id, partner_id, email FROM mail_sync_message_link
                     WHERE %s AND active AND partner_id IS NOT NULL)
               SELECT k.email_id, l.id AS lead_id, k.email
                 FROM linked k JOIN crm_lead l ON l.partner_id = k.partner_id
                WHERE l.partner_id = ANY(ARRAY(SELECT DISTINCT partner_id FROM linked))""",
            among(SQL("email_id"), message_ids),
        )

    @api.model
    def _link_rule_lead_email(self, message_ids):
        return SQL(
            "SELECT a.email_id, l.id AS lead_id, a.email "
            "FROM address a JOIN lead_by_email l ON l.email_normalized = a.email"
        )

    @api.model
    def _link_stage_thread(self, message_ids, found, addresses=None, emails=None):
        """Rules of this stage select (email_id, partner_id, lead_id) and may use
        ``named(email_id, ref)``: the Message-IDs each email names (In-Reply-To, References), and
        ``earlier(id, message_id)``: the stored emails among them, looked up through the unique
        index on Message-IDs. Runs after the other stages, so an email and its reply in the same
        batch are linked alike."""
        return SQL(
            """WITH named AS (
                    SELECT m.id AS email_id, r.ref
                      FROM %(emails)s,
                           unnest(string_to_array(coalesce(m.message_references, ''), ' ') || m.in_reply_to)
                           AS r(ref)
                     WHERE r.ref <> ''
               ), earlier AS MATERIALIZED (
                    SELECT id, message_id FROM mail_sync_message
                     WHERE message_id = ANY(ARRAY(SELECT DISTINCT ref FROM named))
               ), found AS (%(found)s)
               INSERT INTO mail_sync_message_link
                      (email_id, partner_id, lead_id, reason, active, %(audit_columns)s)
               SELECT DISTINCT ON (f.email_id, f.partner_id, f.lead_id)
                      f.email_id, f.partner_id, f.lead_id, f.reason, true, %(audit)s
                 FROM found f
            LEFT JOIN crm_lead l ON l.id = f.lead_id
                WHERE f.lead_id IS NULL OR l.active
             ORDER BY f.email_id, f.partner_id, f.lead_id, f.rank
          ON CONFLICT DO NOTHING""",
            emails=emails or self._link_source(message_ids),
            found=found,
            audit=self._link_audit(),
            audit_columns=AUDIT_COLUMNS,
        )

    @api.model
    def _link_rule_thread(self, message_ids):
        # A reply or forward goes where the emails it names went, even when its own addresses
        # would not take it there.
        return SQL(
            """SELECT n.email_id, k.partner_id, k.lead_id
                 FROM named n
                 JOIN earlier e ON e.message_id = n.ref AND e.id <> n.email_id
                 JOIN mail_sync_message_link k ON k.email_id = e.id AND k.active"""
        )

    def _visible_ids_sql(self):
        """Links of visible emails to records the user may open: a link never shows a record's name
        to someone who could not open it."""
        return SQL(
            "(SELECT k.id FROM mail_sync_message_link k WHERE %s AND %s)",
            self._visible_messages_sql(SQL.identifier("k", "email_id")),
            self._readable_targets_sql("k"),
        )

    @api.constrains("partner_id", "lead_id")
    def _check_target(self):
        for link in self:
            if bool(link.partner_id) == bool(link.lead_id):
                raise ValidationError(self.env._("A link points to either a contact or an opportunity."))

    def action_open_target(self):
        """Open the contact or opportunity this link shows the email on."""
        self.ensure_one()
        target = self.partner_id or self.lead_id
        target.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": target._name,
            "res_id": target.id,
            "views": [(False, "form")],
        }

    def action_unlink(self):
        """Hide the email from the record, for good: relinking does not bring it back."""
        for link in self:
            link._check_may_change(link.email_id, link.partner_id, link.lead_id)
        self.sudo().write({"active": False})
        self.env["mail.sync.message"].invalidate_model(["link_ids", "partner_ids", "lead_ids", "is_assigned"])
        return self._notify(
            self.env._(
                "Hidden from %(records)s. To undo, press Restore under Changes by Hand.",
                records=", ".join(
                    self.partner_id.mapped("display_name") + self.lead_id.mapped("display_name")
                ),
            )
        )

    def action_link_again(self):
        """Undo an unlink: the email shows on the record again, as linked by hand."""
        for link in self.with_context(active_test=False):
            self._link_by_hand(link.email_id, link.partner_id, link.lead_id)
        self.env["mail.sync.message"].invalidate_model(["link_ids", "partner_ids", "lead_ids", "is_assigned"])
        return self._notify(
            self.env._(
                "Shown on %(records)s again.",
                records=", ".join(
                    self.partner_id.mapped("display_name") + self.lead_id.mapped("display_name")
                ),
            )
        )

    def _notify(self, message):
        return notification(message)

    @api.model
    def _link_by_hand(self, message, partner, lead):
        """Link ``message`` to ``partner`` or ``lead`` for the current user, who must see both."""
        self._check_may_change(message, partner, lead)
        target = ("partner_id", partner.id) if partner else ("lead_id", lead.id)
        existing = (
            self.sudo()
            .with_context(active_test=False)
            .search([("email_id", "=", message.id), (target[0], "=", target[1])])
        )
        if existing:
            existing.write({"active": True, "reason": "manual"})
            return existing
        return self.sudo().create({"email_id": message.id, target[0]: target[1], "reason": "manual"})

    @api.model
    def _check_may_change(self, message, partner, lead):
        if bool(partner) == bool(lead):
            raise MailSyncUserError(
                self.env._("Choose a contact or an opportunity."), self.env._("Nothing to Link To")
            )
        message.check_access("read")
        (partner or lead).check_access("read")

    @api.model
    def _readable_targets_sql(self, alias):
        """SQL: the link under ``alias`` points at a contact or opportunity the user may open.
        Asked of each link (a lookup of its contact or opportunity under their record rules), so
        that its cost never grows with the number of contacts and opportunities."""

        def readable(model, column):
            records = self.env[model].with_user(self.env.user).with_context(active_test=False)
            if not records.has_access("read"):
                return SQL("FALSE")
            return SQL(
                "EXISTS (SELECT 1 FROM %s target WHERE target.id = %s)",
                records._search([]).subselect(),
                SQL.identifier(alias, column),
            )

        return SQL("(%s OR %s)", readable("res.partner", "partner_id"), readable("crm.lead", "lead_id"))
