"""18.0.1.2.0:

- Accounts connected before 18.0.1.1.0 kept no moment of connection (``connected_since``), which
  "From Now On" starts at. Their folders were listed at that first successful connection: the
  earliest folder's creation is that moment. Accounts with no folder were never connected and get
  it when they are.
- Emails whose accounts were all deleted are flagged ``without_account`` (from now on, deleting an
  account does it): they stay visible on the records they are linked to.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE mail_sync_account a
           SET connected_since = f.first_listed
          FROM (SELECT account_id, min(create_date) AS first_listed
                  FROM mail_sync_folder GROUP BY account_id) f
         WHERE f.account_id = a.id AND a.connected_since IS NULL
        """
    )
    cr.execute(
        """
        UPDATE mail_sync_message m SET without_account = TRUE
         WHERE without_account IS NOT TRUE
           AND NOT EXISTS (SELECT 1 FROM mail_sync_account_message_rel r WHERE r.message_id = m.id)
        """
    )
