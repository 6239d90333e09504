{
    "name": "CRM Email Sync",
    "summary": "Your mailbox in the CRM: email with customers shows on their contacts and opportunities "
    "(Gmail, Microsoft 365, any IMAP mail server)",
    "version": "18.0.1.3.0",
    "category": "Sales/CRM",
    "website": "https://github.com/mail-crm-sync/mail_crm_sync",
    "author": "mail_crm_sync contributors",
    "license": "LGPL-3",
    "depends": ["crm", "mail"],
    # Distribution names, as Odoo 18 checks them (importlib.metadata): the engine this addon imports,
    # and the IMAP library the engine imports (`pip install` of the repository brings both);
    # cryptography, which encrypts passwords here, is one of Odoo's own requirements. Bare names only:
    # a version range needs `packaging`, which a stock Odoo 18 does not have ("Package `packaging` is
    # required to parse ..."). The ranges live in pyproject.toml (the addon's wheel, the engine's).
    "external_dependencies": {"python": ["mail-crm-sync", "IMAPClient", "cryptography"]},
    "data": [
        "security/mail_crm_sync_security.xml",
        "security/mail_crm_sync_gdpr_security.xml",
        "security/ir.model.access.csv",
        "security/mail_sync_backfill_security.xml",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_cron_pinning_data.xml",
        "data/ir_cron_backfill_data.xml",
        "data/ir_cron_idle_data.xml",
        "data/mail_sync_outbox_data.xml",
        "views/mail_sync_account_views.xml",
        "views/mail_sync_account_idle_views.xml",
        "views/mail_sync_folder_views.xml",
        "views/mail_sync_message_views.xml",
        "views/mail_sync_message_inbox_views.xml",
        "views/mail_sync_compose_views.xml",
        "views/res_partner_views.xml",
        "views/crm_lead_views.xml",
        "views/res_users_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_config_settings_pinning_views.xml",
        "views/mail_sync_message_pinning_views.xml",
        "views/mail_sync_erase_views.xml",
        "views/res_partner_gdpr_views.xml",
        "views/mail_sync_tombstone_views.xml",
        "views/res_config_settings_domain_link_views.xml",
        "views/mail_sync_backfill_views.xml",
        "views/mail_sync_backfill_start_views.xml",
        "views/mail_sync_account_backfill_views.xml",
        "views/res_partner_backfill_views.xml",
        "views/res_config_settings_backfill_views.xml",
        "views/res_config_settings_idle_views.xml",
        "views/mail_crm_sync_menus.xml",
    ],
    "assets": {
        "web.assets_backend": ["mail_crm_sync/static/src/**/*"],
        "web.assets_tests": ["mail_crm_sync/static/tests/tours/*.js"],
    },
    # Spelled out on purpose (STYLE.md, issue 2), though it is the default.
    "application": True,
    "installable": True,  # pylint: disable=manifest-superfluous-key
}
