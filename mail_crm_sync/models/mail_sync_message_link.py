from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL


class MailSyncMessageLink(models.Model):
    """Why an email shows on a contact or an opportunity. Unlinking by hand archives the link, so
    that relinking does not bring it back; deleting it lets relinking recreate it.

    Users never write links directly: linking by hand goes through the link wizard and unlinking
    through ``action_unlink``, which check that the user may read both the email and the record.
    Who made the last change by hand, and when, is the link's write_uid and write_date.
    """

    _name = "mail.sync.message.link"
    _inherit = ["mail.sync.visibility.mixin"]
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
                    "CREATE UNIQUE INDEX IF NOT EXISTS %s ON mail_sync_message_link (message_id, %s) "
                    "WHERE %s IS NOT NULL",
                    SQL.identifier(f"mail_sync_message_link_{column}_uniq"),
                    SQL.identifier(column),
                    SQL.identifier(column),
                )
            )

    def _visible_ids_sql(self):
        """Links of visible emails to records the user may open: a link never shows a record's name
        to someone who could not open it."""
        return SQL(
            "(SELECT k.id FROM mail_sync_message_link k WHERE %s AND %s)",
            self._visible_messages_sql("message_id"),
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
            link._check_may_change(link.message_id, link.partner_id, link.lead_id)
        self.sudo().write({"active": False})
        self.env["mail.sync.message"].invalidate_model(["link_ids", "partner_ids", "lead_ids", "is_assigned"])
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    @api.model
    def _link_by_hand(self, message, partner, lead):
        """Link ``message`` to ``partner`` or ``lead`` for the current user, who must see both."""
        self._check_may_change(message, partner, lead)
        target = ("partner_id", partner.id) if partner else ("lead_id", lead.id)
        existing = (
            self.sudo()
            .with_context(active_test=False)
            .search([("message_id", "=", message.id), (target[0], "=", target[1])])
        )
        if existing:
            existing.write({"active": True, "reason": "manual"})
            return existing
        return self.sudo().create({"message_id": message.id, target[0]: target[1], "reason": "manual"})

    @api.model
    def _check_may_change(self, message, partner, lead):
        if bool(partner) == bool(lead):
            raise UserError(self.env._("Choose a contact or an opportunity."))
        message.check_access("read")
        (partner or lead).check_access("read")

    @api.model
    def _readable_targets_sql(self, alias):
        """SQL: the link under ``alias`` points at a contact or opportunity the user may open."""

        def readable(model):
            records = self.env[model].with_user(self.env.user).with_context(active_test=False)
            return (
                records._search([]).subselect() if records.has_access("read") else SQL("(SELECT NULL::int4)")
            )

        return SQL(
            "(%s IN %s OR %s IN %s)",
            SQL.identifier(alias, "partner_id"),
            readable("res.partner"),
            SQL.identifier(alias, "lead_id"),
            readable("crm.lead"),
        )
