from odoo import api, fields, models

from ..models.notify import notification


class MailSyncErase(models.TransientModel):
    """Confirms the erasure of one contact's synced emails (GDPR), showing how many go."""

    _name = "mail.sync.erase"
    _description = "Erase a Contact's Emails"

    partner_id = fields.Many2one("res.partner", string="Contact", required=True, readonly=True)
    addresses = fields.Char(
        compute="_compute_emails", help="The contact's addresses the emails are found by."
    )
    email_count = fields.Integer(string="Emails to Erase", compute="_compute_emails")

    @api.depends("partner_id")
    def _compute_emails(self):
        for wizard in self:
            wizard.addresses = ", ".join(wizard.partner_id._mail_sync_addresses())
            wizard.email_count = len(wizard.partner_id._mail_sync_email_ids())

    def action_erase(self):
        self.ensure_one()
        count = self.partner_id._mail_sync_erase()
        message = (
            self.env._("1 email erased from the CRM.")
            if count == 1
            else self.env._("%(count)s emails erased from the CRM.", count=count)
        )
        return notification(message, kind="success")
