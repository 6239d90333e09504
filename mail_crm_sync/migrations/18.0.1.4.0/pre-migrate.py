"""18.0.1.4.0: the composer (``mail.sync.compose``) keeps its records as drafts.

Until now it was a transient model: its rows are the forms of emails already sent, or closed,
waiting for Odoo's vacuum. Kept, they would show as drafts under CRM > Emails > Drafts; they go
before the model becomes a regular one.
"""


def migrate(cr, version):
    cr.execute("SELECT to_regclass('mail_sync_compose') IS NOT NULL")
    if cr.fetchone()[0]:
        cr.execute("DELETE FROM mail_sync_compose")
