from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    mail_alias_email = fields.Char(string="Other Email", help="Another address this contact writes from.")
