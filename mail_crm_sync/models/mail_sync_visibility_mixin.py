from odoo import api, fields, models
from odoo.tools import SQL


class MailSyncVisibilityMixin(models.AbstractModel):
    """The one field the addon's access rules search on (security/mail_crm_sync_security.xml).

    Each model says in ``_visible_ids_sql`` which of its rows the current user may read; the rules
    stay one line each, and the visibility table of the README lives in Python, in one place.
    """

    _name = "mail.sync.visibility.mixin"
    _description = "Mail Sync Visibility"

    user_can_see = fields.Boolean(compute="_compute_user_can_see", search="_search_user_can_see")

    @api.depends_context("uid")
    def _compute_user_can_see(self):
        # Rules are also checked in Python (check_access uses filtered_domain): answer for real.
        visible = self._visible_ids_sql()
        ids = [record_id for record_id in self.ids if isinstance(record_id, int)]
        if visible is None or not ids:
            seen = set(ids) if visible is None else set()
        else:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id = ANY(%s) AND id IN %s",
                    SQL.identifier(self._table),
                    ids,
                    visible,
                )
            )
            seen = {record_id for (record_id,) in self.env.cr.fetchall()}
        for record in self:
            record.user_can_see = record.id in seen

    def _search_user_can_see(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        visible = self._visible_ids_sql()
        if visible is None:  # all of them
            return [(1, "=", 1)] if (operator == "=") == value else [(0, "=", 1)]
        # The rule is asked of each email; PostgreSQL adds up the cost of all its branches, so a list
        # of a big mailbox looks costly enough to be JIT-compiled, which takes seconds where running
        # the query takes milliseconds (bench/chatter.py, the Emails menu), and to be shared among
        # parallel workers, which then read thousands of emails by date for a page of 80 (61 ms,
        # where one process reads the 800 it needs in 10 ms: bench/list_plans.py at 5 million).
        # Neither in this transaction.
        self.env.cr.execute("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
        return [("id", "in" if (operator == "=") == value else "not in", visible)]

    def _visible_ids_sql(self):
        """SQL subquery: the ids of this model's rows the current user may read; None for all."""
        raise NotImplementedError

    def _visible_messages_sql(self, email_id):
        """SQL condition: ``email_id`` (an expression, a qualified column) is an email the current
        user may read; asked of each row, as the emails' rule is (``_visible_email_sql``)."""
        visible = self.env["mail.sync.message"]._visible_email_sql(email_id)
        return SQL("TRUE") if visible is None else visible
