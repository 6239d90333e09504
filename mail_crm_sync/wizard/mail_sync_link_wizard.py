from odoo import fields, models


class MailSyncLinkWizard(models.TransientModel):
    """Link an email to a contact or opportunity by hand, as any user who may see both: the email
    itself is not written, so users need no write access on emails."""

    _name = "mail.sync.link.wizard"
    _description = "Link an Email by Hand"

    email_id = fields.Many2one("mail.sync.message", required=True, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact")
    lead_id = fields.Many2one("crm.lead", string="Opportunity")

    def action_link(self):
        self.ensure_one()
        self.env["mail.sync.message.link"]._link_by_hand(self.email_id, self.partner_id, self.lead_id)
        return {"type": "ir.actions.client", "tag": "soft_reload"}
