"""18.0.1.3.0:

- The OAuth client secrets typed in Settings are no longer columns of ``res_config_settings``: they
  go straight to their (encrypted) parameters. The old columns held the secrets of forms saved but
  not applied, in clear, until Odoo vacuumed the rows: dropped with what they hold.
"""


def migrate(cr, version):
    cr.execute(
        """
        ALTER TABLE res_config_settings
            DROP COLUMN IF EXISTS mail_sync_google_client_secret,
            DROP COLUMN IF EXISTS mail_sync_microsoft_client_secret
        """
    )
