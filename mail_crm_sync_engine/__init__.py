"""mail_crm_sync_engine: IMAP sync into plain message records, with no Odoo in it.

with connect(settings) as mailbox:
    for folder in default_selection(list_folders(mailbox)):
        for batch in sync_folder(mailbox, folder.name, saved_state, window_start, own_addresses):
            store(batch.messages); save(batch.state)
"""

from .connection import Mailbox, connect
from .errors import (
    AuthenticationFailed,
    FolderError,
    MailSyncError,
    MessageGone,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
)
from .folders import default_selection, folder_role, list_folders
from .parts import fetch_part
from .sync import sync_folder
from .types import (
    Address,
    Attachment,
    Batch,
    ConnectionSettings,
    Direction,
    FailedMessage,
    FolderInfo,
    FolderRole,
    FolderState,
    MessageRecord,
    Security,
)

__all__ = [
    "Address",
    "Attachment",
    "AuthenticationFailed",
    "Batch",
    "ConnectionSettings",
    "Direction",
    "FailedMessage",
    "FolderError",
    "FolderInfo",
    "FolderRole",
    "FolderState",
    "MailSyncError",
    "Mailbox",
    "MessageGone",
    "MessageRecord",
    "Security",
    "ServerRefused",
    "ServerUnreachable",
    "Throttled",
    "Timeout",
    "TlsFailure",
    "connect",
    "default_selection",
    "fetch_part",
    "folder_role",
    "list_folders",
    "sync_folder",
]
