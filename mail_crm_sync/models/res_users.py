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
        counts = dict(
            self.env["mail.sync.account"]._read_group([("user_id", "in", self.ids)], ["user_id"], ["__count"])
        )
        for user in self:
            user.mail_sync_account_count = counts.get(user, 0)

    def write(self, vals):
        result = super().write(vals)
        if vals.get("active") is False:
            for user in self:
                user._mail_sync_stop_accounts(
                    self.env._(
                        "Its owner %(user)s was archived: the account no longer syncs.", user=user.name
                    )
                )
        return result

    def unlink(self):
        for user in self:
            user._mail_sync_stop_accounts(
                self.env._("Its owner %(user)s was deleted: the account no longer syncs.", user=user.name)
            )
        return super().unlink()

    def action_open_mail_sync_accounts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mail_crm_sync.mail_sync_account_action")
        action["domain"] = [("user_id", "=", self.id)]
        action["context"] = {"default_user_id": self.id}
        return action

    def _mail_sync_stop_accounts(self, reason):
        accounts = self.env["mail.sync.account"].sudo().with_context(active_test=False)
        accounts.search([("user_id", "=", self.id), ("state", "!=", "disabled")])._stop_for_owner(reason)
