from . import mail_sync_idle
