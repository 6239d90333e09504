from . import mail_sync_link_wizard
