# The mixins first: the models below inherit them.
from . import mail_sync_credentials, mail_sync_visibility_mixin  # isort: split

from . import (
    crm_lead,
    mail_sync_account,
    mail_sync_account_oauth,
    mail_sync_account_watch,
    mail_sync_folder,
    mail_sync_inbox_watch,
    mail_sync_message,
    mail_sync_message_attachment,
    mail_sync_message_link,
    mail_sync_message_location,
    res_config_settings,
    res_config_settings_idle,
    res_partner,
    res_users,
)
