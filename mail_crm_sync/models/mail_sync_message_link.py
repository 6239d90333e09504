from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class MailSyncMessageLink(models.Model):
    """Why an email shows on a contact or an opportunity. Unlinking by hand archives the link, so
    that relinking does not bring it back; deleting it lets relinking recreate it."""

    _name = "mail.sync.message.link"
    _description = "Synced Email Link"
    _order = "message_id, reason, id"

    message_id = fields.Many2one(
        "mail.sync.message", string="Email", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one("res.partner", string="Contact", ondelete="cascade", index="btree_not_null")
    lead_id = fields.Many2one("crm.lead", string="Opportunity", ondelete="cascade", index="btree_not_null")
    reason = fields.Selection(
        [
            ("address", "Address in From, To or Cc"),
            ("company", "Company of a contact on the email"),
            ("lead_partner", "Opportunity of a contact on the email"),
            ("lead_email", "Opportunity email on the email"),
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
                    "CREATE UNIQUE INDEX IF NOT EXISTS %s ON mail_sync_message_link (message_id, %s) "
                    "WHERE %s IS NOT NULL",
                    SQL.identifier(f"mail_sync_message_link_{column}_uniq"),
                    SQL.identifier(column),
                    SQL.identifier(column),
                )
            )

    @api.constrains("partner_id", "lead_id")
    def _check_target(self):
        for link in self:
            if bool(link.partner_id) == bool(link.lead_id):
                raise ValidationError(self.env._("A link points to either a contact or an opportunity."))
