"""18.0.1.1.0: the links, places and attachments of an email name it ``email_id`` (it was
``message_id``, the name the email itself gives its Message-ID header). The columns are renamed
before the models load, so that nothing is dropped and recreated."""

TABLES = ("mail_sync_message_link", "mail_sync_message_location", "mail_sync_message_attachment")


def migrate(cr, version):
    for table in TABLES:
        cr.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'message_id'",
            [table],
        )
        if cr.fetchone():
            cr.execute(f'ALTER TABLE "{table}" RENAME COLUMN message_id TO email_id')
            # Odoo's own index on the column, recreated under the new name when the model loads.
            cr.execute(f'DROP INDEX IF EXISTS "{table}__message_id_index"')
