from . import (
    mail_sync_backfill_start,
    mail_sync_compose,
    mail_sync_erase,
    mail_sync_link_wizard,
    mail_sync_move,
)
