import datetime

import pytz
from odoo import api, fields, models

DEFAULT_BLOCK_LIST = "noreply, no-reply, mailer-daemon, postmaster"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mail_sync_contact_block_list = fields.Char(
        string="Never Create Contacts For",
        config_parameter="mail_crm_sync.contact_block_list",
        default=DEFAULT_BLOCK_LIST,
        help="Addresses, local parts (noreply) or domains, separated by commas. "
        "The domains of your companies are always blocked.",
    )
    mail_sync_relink_hour = fields.Integer(
        string="Relink Unassigned Emails At",
        config_parameter="mail_crm_sync.relink_hour",
        default=2,
        help="Hour of the day (0-23, in your time zone) the nightly relink runs.",
    )

    def set_values(self):
        result = super().set_values()
        cron = self.env.ref("mail_crm_sync.ir_cron_mail_relink", raise_if_not_found=False)
        if cron:
            # The hour is the administrator's local hour; crons run on UTC.
            zone = pytz.timezone(self.env.user.tz or "UTC")
            hour = min(max(self.mail_sync_relink_hour, 0), 23)
            now = datetime.datetime.now(zone)
            local = zone.localize(datetime.datetime.combine(now.date(), datetime.time(hour)))
            if local <= now:
                local = zone.localize(
                    datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(hour))
                )
            cron.sudo().nextcall = local.astimezone(pytz.utc).replace(tzinfo=None)
        return result

    @api.model
    def _mail_sync_block_list(self):
        """Lowercase addresses, local parts and domains no contact is created for."""
        text = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("mail_crm_sync.contact_block_list", DEFAULT_BLOCK_LIST)
        )
        blocked = {item.strip().lower() for item in text.split(",") if item.strip()}
        for company in self.env["res.company"].sudo().search([("partner_id", "!=", False)]):
            for email in (company.email, company.partner_id.email):
                if email and "@" in email:
                    blocked.add(email.rsplit("@", 1)[1].strip().lower().rstrip(">"))
        blocked.update(
            domain.lower()
            for domain in self.env["mail.alias.domain"].sudo().search([("name", "!=", False)]).mapped("name")
        )
        return blocked
