from . import mail_sync_message_link, res_partner
