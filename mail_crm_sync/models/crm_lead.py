from odoo import api, fields, models

from .mail_sync_message import create_email_lookup_index


class CrmLead(models.Model):
    _inherit = "crm.lead"

    mail_sync_message_ids = fields.Many2many(
        "mail.sync.message", compute="_compute_mail_sync_messages", string="Emails"
    )
    mail_sync_message_count = fields.Integer(compute="_compute_mail_sync_messages", string="Email Count")

    @api.depends_context("uid")
    def _compute_mail_sync_messages(self):
        """Two queries for any number of opportunities: their links, and which of those emails the
        user may read."""
        linked = self.env["mail.sync.message.link"]._emails_by_target("lead_id", self.filtered("id").ids)
        visible = self.env["mail.sync.message"].search([("id", "in", sorted(set().union(*linked.values())))])
        for lead in self:
            emails = linked.get(lead.id, set())
            lead.mail_sync_message_ids = visible.filtered(lambda message, emails=emails: message.id in emails)
            lead.mail_sync_message_count = len(lead.mail_sync_message_ids)

    def init(self):
        create_email_lookup_index(self.env.cr, "crm_lead")

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._mail_sync_link()
        return leads

    def write(self, vals):
        winning = (
            self.filtered(lambda lead: not lead.stage_id.is_won) if "stage_id" in vals else self.browse()
        )
        result = super().write(vals)
        if {"email_from", "partner_id"} & set(vals):
            self._mail_sync_link()
        if winning:
            self.env["mail.sync.message.attachment"]._request_pins_of_won(
                winning.filtered(lambda lead: lead.stage_id.is_won)
            )
        return result

    def _mail_sync_link(self):
        emails = self.mapped("email_normalized") + self.partner_id.mapped("email_normalized")
        self.env["mail.sync.message"].sudo()._link_by_emails(emails)

    def action_mail_sync_compose(self):
        """Write to this record from one of the user's mailboxes."""
        self.ensure_one()
        return self.env["mail.sync.compose"]._action_open(res_model=self._name, res_id=self.id)

    def action_view_mail_sync_messages(self):
        self.ensure_one()
        return self.env["mail.sync.message"]._action_open([("lead_ids", "in", self.ids)])
