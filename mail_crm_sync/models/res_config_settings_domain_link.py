from odoo import api, fields, models
from odoo.tools import str2bool


# The settings of linking by domain in a file of their own, beside the feature's model file.
# pylint: disable=consider-merging-classes-inherited
class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mail_sync_link_by_domain = fields.Boolean(
        string="Link Unknown People to Their Company by Mail Domain",
        config_parameter="mail_crm_sync.link_by_domain",
        help="Mail from an address no contact has shows on the company whose website is at the "
        "address's domain or, for a company without a website, whose contacts all write from it. "
        "Never for free-mail and disposable addresses, nor for your own companies' domains.",
    )
    mail_sync_domain_link_excluded = fields.Char(
        string="Other Domains Never Used",
        config_parameter="mail_crm_sync.domain_link_excluded",
        help="Domains, separated by commas, never used to find a company, besides the free-mail and "
        "disposable domains the addon ships (a shared portal, a provider of your region).",
    )

    @api.model
    def _mail_sync_link_by_domain(self):
        """Whether unknown addresses are linked to their company by their domain."""
        return str2bool(self._mail_sync_param("link_by_domain", "") or "0", False)

    @api.model
    def _mail_sync_domain_link_excluded(self):
        """Lowercase domains the Settings add to the shipped free-mail and disposable lists."""
        text = self._mail_sync_param("domain_link_excluded", "") or ""
        return sorted(
            {item.strip().lstrip("@").rstrip(".").lower() for item in text.replace(";", ",").split(",")}
            - {""}
        )
