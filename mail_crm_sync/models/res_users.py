from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    mail_sync_account_ids = fields.One2many("mail.sync.account", "user_id", string="Mail Accounts")
    mail_sync_account_count = fields.Integer(
        compute="_compute_mail_sync_account_count", string="Mail Account Count"
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "mail_sync_account_count"]

    def _compute_mail_sync_account_count(self):
        for user in self:
            user.mail_sync_account_count = self.env["mail.sync.account"].search_count(
                [("user_id", "=", user.id)]
            )

    def action_open_mail_sync_accounts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_sync.mail_sync_account_action")
        action["domain"] = [("user_id", "=", self.id)]
        action["context"] = {"default_user_id": self.id}
        return action
