"""Fetch Older Mail With This Person, from a contact or an opportunity: a SEARCH by address in the
folders of the user's accounts (their own, and the shared ones they may read), not a download."""

from odoo import api, fields, models

from ..exceptions import MailSyncUserError
from .notify import notification


class MailSyncPersonBackfillMixin(models.AbstractModel):
    _name = "mail.sync.person.backfill.mixin"
    _description = "Fetch Older Mail With a Person"

    mail_sync_backfill_progress = fields.Char(
        string="Fetching Older Mail", compute="_compute_mail_sync_backfill_progress"
    )

    @api.depends_context("uid")
    def _compute_mail_sync_backfill_progress(self):
        field = self._mail_sync_backfill_field()
        jobs = (
            self.env["mail.sync.backfill"]
            .sudo()
            .search(
                [
                    (field, "in", self.ids),
                    ("user_id", "=", self.env.uid),
                    ("state", "in", ("queued", "running")),
                ]
            )
        )
        for record in self:
            mine = jobs.filtered(lambda job, record=record: job[field] == record)
            done, total = sum(mine.mapped("done_count")), sum(mine.mapped("total_count"))
            if not mine:
                record.mail_sync_backfill_progress = False
            elif all(job.state == "queued" for job in mine):
                record.mail_sync_backfill_progress = self.env._("Looking for older mail with this person…")
            else:
                record.mail_sync_backfill_progress = self.env._(
                    "Fetching older mail: %(done)s of %(total)s", done=done, total=total
                )

    def action_mail_sync_fetch_older_mail(self):
        """Search this person's older mail in the user's accounts and fetch it, in the background;
        the user is told what was found."""
        self.ensure_one()
        addresses = self._mail_sync_backfill_addresses()
        if not addresses:
            raise MailSyncUserError(
                self.env._("%(name)s has no email address to search.", name=self.display_name),
                self.env._("No Email Address"),
            )
        accounts = self.env["mail.sync.account"].search(
            [
                ("state", "in", ("active", "failing")),
                ("last_sync_date", "!=", False),
                "|",
                ("user_id", "=", self.env.uid),
                ("account_type", "=", "shared"),
            ]
        )
        if not accounts:
            raise MailSyncUserError(
                self.env._("You have no synced mail account to search."), self.env._("No Mail Account")
            )
        Backfill = self.env["mail.sync.backfill"].sudo()
        jobs = Backfill.create(
            [
                {
                    "account_id": account.id,
                    "kind": "person",
                    "user_id": self.env.uid,
                    self._mail_sync_backfill_field(): self.id,
                    "addresses": " ".join(sorted(addresses)),
                }
                for account in accounts
            ]
        )
        jobs._trigger_cron()
        return notification(
            self.env._(
                "Looking for older mail with %(who)s in %(accounts)s; you will be told what was found.",
                who=", ".join(sorted(addresses)),
                accounts=", ".join(accounts.mapped("name")),
            )
        )

    def action_mail_sync_stop_older_mail(self):
        self.ensure_one()
        self.env["mail.sync.backfill"].sudo().search(
            [
                (self._mail_sync_backfill_field(), "=", self.id),
                ("user_id", "=", self.env.uid),
                ("state", "in", ("queued", "running")),
            ]
        ).write({"state": "stopped"})
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    def _mail_sync_backfill_field(self):
        """The job's field naming this record."""
        raise NotImplementedError

    def _mail_sync_backfill_addresses(self):
        """The addresses to search, normalized."""
        raise NotImplementedError


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "mail.sync.person.backfill.mixin"]

    def _mail_sync_backfill_field(self):
        return "partner_id"

    def _mail_sync_backfill_addresses(self):
        return {self.email_normalized} - {False, ""}


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "mail.sync.person.backfill.mixin"]

    def _mail_sync_backfill_field(self):
        return "lead_id"

    def _mail_sync_backfill_addresses(self):
        return {self.email_normalized, self.partner_id.email_normalized} - {False, ""}
