from functools import cache

from odoo import api, fields, models
from odoo.tools import SQL

from mail_crm_sync_engine import public_mail_domains

from .mail_sync_message_link import LinkRule


def website_host(column):
    """SQL: the host of a website as Odoo stores it (http://www.acme.example/shop → acme.example),
    NULL when there is none. The lookup index is on this very expression."""
    return SQL(
        r"substring(lower(%s) from '^\s*(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([^/:?#\s]+)')",
        column,
    )


@cache
def _public_domains_literal():
    # The shipped lists (some 14,000 domains) as one array literal, built once: Postgres hashes a
    # constant array, and one string costs the client less than an array of 14,000 parameters.
    return "{" + ",".join(sorted(public_mail_domains())) + "}"


class MailSyncMessageLink(models.Model):
    """The opt-in "domain" rule: an address no contact has is linked to the company of its domain
    (Settings: Link Unknown People to Their Company by Mail Domain)."""

    _inherit = "mail.sync.message.link"

    reason = fields.Selection(
        selection_add=[("domain", "Same mail domain as the company")], ondelete={"domain": "cascade"}
    )

    def init(self):
        # The companies of a batch's domains, by website and by their contacts' addresses.
        cr = self.env.cr
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS mail_crm_sync_res_partner_website_host_idx "
                'ON res_partner ((%s COLLATE "C")) WHERE website IS NOT NULL',
                website_host(SQL.identifier("website")),
            )
        )
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS mail_crm_sync_res_partner_email_domain_idx ON res_partner "
                "((split_part(email_normalized, '@', 2) COLLATE \"C\")) WHERE email_normalized IS NOT NULL"
            )
        )
        return super().init()

    @api.model
    def _link_rules(self):
        rules = super()._link_rules()
        if self.env["res.config.settings"]._mail_sync_link_by_domain():
            rules = [*rules, LinkRule("domain", "contacts", "_link_rule_domain", 3)]
        return rules

    @api.model
    def _link_rule_domain(self, message_ids):
        """Addresses no contact has at all (archived ones included) go to the companies of their
        domain: a company's domain is its website's host or, when it has no website, the one domain
        all its contacts' addresses (its own among them) share. Never free-mail and disposable
        domains (the engine's lists and the Settings' others), nor the domains of the Odoo
        companies, their mail alias domains and the mail accounts."""
        never = self.env["res.config.settings"]._mail_sync_domain_link_excluded()
        return SQL(
            """WITH unknown AS MATERIALIZED (
                    SELECT a.email_id, a.email, split_part(a.email, '@', 2) AS domain
                      FROM address a
                     WHERE split_part(a.email, '@', 2) <> ''
                       AND split_part(a.email, '@', 2) <> ALL(%(public)s::text[])
                       AND split_part(a.email, '@', 2) <> ALL(%(never)s::text[])
                       AND NOT EXISTS (SELECT 1 FROM res_partner p
                                        WHERE (p.email_normalized COLLATE "C") = a.email)
               ), own(domain) AS (
                    SELECT split_part(p.email_normalized, '@', 2)
                      FROM res_company c JOIN res_partner p ON p.id = c.partner_id
                    UNION SELECT %(company_website)s
                      FROM res_company c JOIN res_partner p ON p.id = c.partner_id
                    UNION SELECT lower(name) FROM mail_alias_domain
                    UNION SELECT lower(split_part(email, '@', 2)) FROM mail_sync_account
               ), domains AS MATERIALIZED (
                    SELECT DISTINCT domain FROM unknown
                     WHERE domain NOT IN (SELECT domain FROM own WHERE domain IS NOT NULL)
               ), company AS (
                    SELECT c.id, %(website)s AS domain
                      FROM res_partner c
                     WHERE (%(website)s COLLATE "C") = ANY(ARRAY(SELECT domain FROM domains))
                       AND c.website IS NOT NULL AND c.is_company AND c.active
                    UNION ALL
                    SELECT c.id, min(split_part(p.email_normalized, '@', 2))
                      FROM res_partner c JOIN res_partner p ON p.commercial_partner_id = c.id
                     WHERE c.id IN (SELECT q.commercial_partner_id FROM res_partner q
                                     WHERE (split_part(q.email_normalized, '@', 2) COLLATE "C")
                                           = ANY(ARRAY(SELECT domain FROM domains))
                                       AND q.email_normalized IS NOT NULL AND q.active)
                       AND c.is_company AND c.active AND (c.website IS NULL OR c.website = '')
                       AND p.active AND p.email_normalized IS NOT NULL
                  GROUP BY c.id
                    HAVING count(DISTINCT split_part(p.email_normalized, '@', 2)) = 1
               )
               SELECT u.email_id, c.id AS partner_id, u.email
                 FROM unknown u JOIN company c ON (c.domain COLLATE "C") = (u.domain COLLATE "C")""",
            public=_public_domains_literal(),
            never=never,
            website=website_host(SQL.identifier("c", "website")),
            company_website=website_host(SQL.identifier("p", "website")),
        )
