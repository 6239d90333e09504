# The mixins first: the models below inherit them. Then the account, and the runtime of its sync,
# which the account's other extensions (OAuth) override.
from . import mail_sync_credentials, mail_sync_visibility_mixin  # isort: split

from . import mail_sync_account  # isort: split

from . import mail_sync_runtime  # isort: split

from . import (
    crm_lead,
    mail_sync_account_chatter,
    mail_sync_account_dashboard,
    mail_sync_account_oauth,
    mail_sync_account_older_mail,
    mail_sync_account_watch,
    mail_sync_backfill,
    mail_sync_folder,
    mail_sync_folder_completeness,
    mail_sync_inbox_watch,
    mail_sync_message,
    mail_sync_message_attachment,
    mail_sync_message_folders,
    mail_sync_message_link,
    mail_sync_message_link_domain,
    mail_sync_message_location,
    mail_sync_outbox,
    mail_sync_person_backfill,
    mail_sync_timeline,
    mail_sync_tombstone,
    res_config_settings,
    res_config_settings_backfill,
    res_config_settings_domain_link,
    res_config_settings_idle,
    res_config_settings_outbox,
    res_config_settings_pinning,
    res_partner,
    res_partner_gdpr,
    res_users,
)
