from dateutil.relativedelta import relativedelta
from odoo import api, fields, models

from ..exceptions import MailSyncUserError


class MailSyncBackfillStart(models.TransientModel):
    """Fetch Older Mail of an account: mail older than its First Sync, back to a chosen date,
    fetched in the quiet hours, newest first. First Sync itself is left as it is."""

    _name = "mail.sync.backfill.start"
    _description = "Fetch Older Mail"

    account_id = fields.Many2one("mail.sync.account", required=True, readonly=True, ondelete="cascade")
    reach = fields.Selection(
        [
            ("3_months", "Last 3 Months"),
            ("6_months", "Last 6 Months"),
            ("1_year", "Last Year"),
            ("2_years", "Last 2 Years"),
            ("date", "Since a Date"),
            ("all", "All Mail"),
        ],
        string="Fetch",
        required=True,
        default="6_months",
    )
    since_date = fields.Date(string="Since")
    window_start = fields.Datetime(string="The CRM Holds Mail Since", compute="_compute_window_start")

    @api.depends("account_id")
    def _compute_window_start(self):
        for wizard in self:
            start = wizard.account_id._window_start() if wizard.account_id else None
            wizard.window_start = self.env["mail.sync.backfill"]._moment(start) if start else False

    def action_start(self):
        self.ensure_one()
        account = self.account_id
        account.check_access("write")
        before = self.window_start
        since = self._since()
        if since and before and since >= before:
            raise MailSyncUserError(
                self.env._(
                    "The CRM already holds the mail since %(date)s: choose an earlier date.",
                    date=fields.Date.to_string(before),
                ),
                self.env._("Check the Date"),
            )
        account.sudo()._start_backfill(since, before)
        account.message_post(
            body=self.env._(
                "Older mail from %(since)s to %(before)s asked for: it is fetched in the quiet hours "
                "(Settings), newest first.",
                since=fields.Date.to_string(since) if since else self.env._("the oldest"),
                before=fields.Date.to_string(before),
            ),
            subtype_xmlid="mail.mt_note",
        )
        return account._backfill_notification(
            self.env._("The older mail will be fetched in the quiet hours (Settings).")
        )

    def _since(self):
        """The moment the older mail starts (naive UTC), or None for all of it."""
        if self.reach == "all":
            return None
        if self.reach == "date":
            if not self.since_date:
                raise MailSyncUserError(
                    self.env._("Choose the date to fetch older mail from."), self.env._("Check the Date")
                )
            return fields.Datetime.to_datetime(self.since_date)
        today = fields.Datetime.to_datetime(fields.Date.context_today(self))
        return (
            today
            - {
                "3_months": relativedelta(months=3),
                "6_months": relativedelta(months=6),
                "1_year": relativedelta(years=1),
                "2_years": relativedelta(years=2),
            }[self.reach]
        )
