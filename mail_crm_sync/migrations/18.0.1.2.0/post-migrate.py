"""18.0.1.2.0: accounts connected before 18.0.1.1.0 kept no moment of connection
(``connected_since``), which "From Now On" starts at. Their folders were listed at that first
successful connection: the earliest folder's creation is that moment. Accounts with no folder were
never connected and get it when they are."""


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
