"""18.0.1.3.0:

- The OAuth client secrets typed in Settings are no longer columns of ``res_config_settings``: they
  go straight to their (encrypted) parameters. The old columns held the secrets of forms saved but
  not applied, in clear, until Odoo vacuumed the rows: dropped with what they hold.
- Emails stored before fingerprints were kept (``content_hash``) were taken for the same email as
  any later message under their Message-ID, whatever it held: a forgery sent to a mailbox shared
  with everyone made a private email everyone's. Their fingerprints are worked out from what was
  stored (sender, date, subject, recipients), so that such a message is now stored apart.
"""

import datetime

from odoo.addons.mail_crm_sync.models.mail_sync_message import _people

from mail_crm_sync_engine.identity import fingerprint

CHUNK = 10_000


def migrate(cr, version):
    cr.execute(
        """
        ALTER TABLE res_config_settings
            DROP COLUMN IF EXISTS mail_sync_google_client_secret,
            DROP COLUMN IF EXISTS mail_sync_microsoft_client_secret
        """
    )
    last_id = 0
    while True:
        cr.execute(
            """SELECT id, email_from, email_to, email_cc, date, subject FROM mail_sync_message
                WHERE content_hash IS NULL AND id > %s ORDER BY id LIMIT %s""",
            [last_id, CHUNK],
        )
        rows = cr.fetchall()
        if not rows:
            return
        ids, hashes = [], []
        for email_id, email_from, email_to, email_cc, date, subject in rows:
            ids.append(email_id)
            hashes.append(
                fingerprint(
                    [address for _name, address in _people(email_from) if address],
                    date.replace(tzinfo=datetime.UTC) if date else None,
                    subject,
                    [address for _name, address in _people(email_to) + _people(email_cc) if address],
                )
            )
        cr.execute(
            """UPDATE mail_sync_message m SET content_hash = v.hash
                 FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::varchar[]) AS hash) v
                WHERE m.id = v.id""",
            [ids, hashes],
        )
        last_id = ids[-1]
