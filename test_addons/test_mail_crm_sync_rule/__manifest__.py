{
    "name": "Mail CRM Sync: Example Extension (tests)",
    "summary": "How an addon adds a link rule (contacts by another address) and stores a header of its own",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "mail_crm_sync contributors",
    "license": "LGPL-3",
    "depends": ["mail_crm_sync"],
    "installable": True,  # pylint: disable=manifest-superfluous-key
}
