"""18.0.1.5.0: the full-text documents move from mail_sync_message.search_document to a narrow
table of their own (mail_sync_message_search), and the emails still waiting for theirs to
mail_sync_message_search_pending; both tables are made by ``mail.sync.message.init()``, which runs
before this script.

The documents already built are moved as they are; an email without one waits for the search-index
job, as a newly synced email does. The column goes, and its two indexes with it.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    cr.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'mail_sync_message'::regclass "
        "AND attname = 'search_document' AND NOT attisdropped"
    )
    if not cr.fetchone():
        return
    cr.execute(
        """INSERT INTO mail_sync_message_search (email_id, document)
           SELECT id, search_document FROM mail_sync_message WHERE search_document IS NOT NULL
      ON CONFLICT (email_id) DO NOTHING"""
    )
    cr.execute(
        """INSERT INTO mail_sync_message_search_pending (email_id)
           SELECT id FROM mail_sync_message m WHERE search_document IS NULL
              AND NOT EXISTS (SELECT 1 FROM mail_sync_message_search s WHERE s.email_id = m.id)
      ON CONFLICT (email_id) DO NOTHING"""
    )
    waiting = cr.rowcount
    cr.execute("ALTER TABLE mail_sync_message DROP COLUMN search_document")
    if waiting:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["mail.sync.message"]._index_search_later()
