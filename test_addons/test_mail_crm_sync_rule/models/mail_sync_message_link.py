from odoo import api, fields, models
from odoo.addons.mail_crm_sync.models.mail_sync_message_link import LinkRule
from odoo.tools import SQL


class MailSyncMessageLink(models.Model):
    _inherit = "mail.sync.message.link"

    reason = fields.Selection(
        selection_add=[("alias", "Other email of a contact")], ondelete={"alias": "cascade"}
    )

    @api.model
    def _link_rules(self):
        # After the contact's own address (rank 0) and before its company (rank 1) would be 0.5:
        # ranks only decide which reason a link found twice keeps.
        return [*super()._link_rules(), LinkRule("alias", "contacts", "_link_rule_alias", 2)]

    @api.model
    def _link_rule_alias(self, message_ids):
        """Contacts whose Other Email is on the email. ``address`` is the contacts stage's
        (email_id, email) of every From, To and Cc address; the addresses are lowercase."""
        return SQL(
            """SELECT a.email_id, p.id AS partner_id, a.email
                 FROM address a JOIN res_partner p ON lower(p.mail_alias_email) = a.email
                WHERE p.active"""
        )
