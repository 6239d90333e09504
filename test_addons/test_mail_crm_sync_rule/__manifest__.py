{
    "name": "Mail CRM Sync: Example Link Rule (tests)",
    "summary": "Shows and tests how an addon adds a link rule: emails linked to contacts by another address",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "mail_crm_sync contributors",
    "license": "LGPL-3",
    "depends": ["mail_crm_sync"],
    "data": [],
    "installable": True,  # pylint: disable=manifest-superfluous-key
}
