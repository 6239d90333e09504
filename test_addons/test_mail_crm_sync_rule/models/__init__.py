from . import mail_sync_message, mail_sync_message_link, res_partner
