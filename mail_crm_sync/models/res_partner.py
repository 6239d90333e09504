from odoo import api, fields, models

from .mail_sync_message import create_email_lookup_index


class ResPartner(models.Model):
    _inherit = "res.partner"

    mail_sync_message_ids = fields.Many2many(
        "mail.sync.message",
        compute="_compute_mail_sync_messages",
        string="Emails",
        groups="sales_team.group_sale_salesman",
    )
    mail_sync_message_count = fields.Integer(
        compute="_compute_mail_sync_messages", string="Email Count", groups="sales_team.group_sale_salesman"
    )

    @api.depends_context("uid")
    def _compute_mail_sync_messages(self):
        """The emails of each contact and, for a company, of its people: three queries for any
        number of contacts (their people, their links, which of those emails the user may read)."""
        partners = self.filtered("id")
        people = (
            self.with_context(active_test=False).search([("id", "child_of", partners.ids)])
            if partners
            else self
        )
        linked = self.env["mail.sync.message.link"]._emails_by_target("partner_id", people.ids)
        visible = self.env["mail.sync.message"].search([("id", "in", sorted(set().union(*linked.values())))])
        emails = {partner.id: set() for partner in partners}
        for person in people:
            ancestor = person
            while ancestor:  # the person, its company, that company's parent...
                if ancestor.id in emails:
                    emails[ancestor.id] |= linked.get(person.id, set())
                ancestor = ancestor.parent_id
        for partner in self:
            found = emails.get(partner.id, set())
            partner.mail_sync_message_ids = visible.filtered(lambda message, found=found: message.id in found)
            partner.mail_sync_message_count = len(partner.mail_sync_message_ids)

    def init(self):
        create_email_lookup_index(self.env.cr, "res_partner")

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        self.env["mail.sync.message"].sudo()._link_by_emails(partners.mapped("email_normalized"))
        return partners

    def write(self, vals):
        result = super().write(vals)
        if "email" in vals:
            self.env["mail.sync.message"].sudo()._link_by_emails(self.mapped("email_normalized"))
        return result

    def action_mail_sync_compose(self):
        """Write to this record from one of the user's mailboxes."""
        self.ensure_one()
        return self.env["mail.sync.compose"]._action_open(res_model=self._name, res_id=self.id)

    def action_view_mail_sync_messages(self):
        self.ensure_one()
        return self.env["mail.sync.message"]._action_open([("partner_ids", "child_of", self.id)])
