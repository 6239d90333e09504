"""mail_crm_sync_engine: IMAP sync into plain message records, with no Odoo in it.

Reading (sync.py):

with connect(settings) as mailbox:
    for folder in default_selection(list_folders(mailbox)):
        for batch in sync_folder(mailbox, folder.name, saved_state, window_start, own_addresses):
            store(batch.messages); save(batch.state)

Writing from the CRM (compose.py, send.py): refuse what ``blocked_attachments`` names, build the
bytes once with ``compose(Draft(...))`` (a reply takes ``reply_headers`` of the original), submit
them with ``send_message(SmtpSettings(...), ...)``, then file the same bytes with
``append_to_sent`` unless ``provider_files_sent_mail`` says the provider does it itself.

Changing the mailbox from the CRM (actions.py): ``delete_message`` and ``move_message`` act on
one ``MessageLocation`` (folder, UIDVALIDITY, UID) and return where the message went.
"""

from .actions import delete_message, move_message
from .compose import (
    DEFAULT_BLOCKED_EXTENSIONS,
    Draft,
    OutgoingMessage,
    ReplyHeaders,
    blocked_attachments,
    compose,
    reply_headers,
)
from .connection import Mailbox, connect
from .errors import (
    AuthenticationFailed,
    FolderError,
    MailSyncError,
    MessageGone,
    MessageRefused,
    RecipientsRefused,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
    Unsupported,
)
from .folders import default_selection, folder_role, list_folders, special_folder
from .parse import Place, record_from_bytes
from .parts import fetch_part
from .send import SmtpSettings, append_to_sent, provider_files_sent_mail, send_message
from .sync import sync_folder
from .types import (
    DEFAULT_IMAP_PORTS,
    DEFAULT_SMTP_PORTS,
    Address,
    Attachment,
    Batch,
    ConnectionSettings,
    Direction,
    FailedMessage,
    FolderInfo,
    FolderRole,
    FolderState,
    MessageLocation,
    MessageRecord,
    Security,
)

__all__ = [
    "DEFAULT_BLOCKED_EXTENSIONS",
    "DEFAULT_IMAP_PORTS",
    "DEFAULT_SMTP_PORTS",
    "Address",
    "Attachment",
    "AuthenticationFailed",
    "Batch",
    "ConnectionSettings",
    "Direction",
    "Draft",
    "FailedMessage",
    "FolderError",
    "FolderInfo",
    "FolderRole",
    "FolderState",
    "MailSyncError",
    "Mailbox",
    "MessageGone",
    "MessageLocation",
    "MessageRecord",
    "MessageRefused",
    "OutgoingMessage",
    "Place",
    "RecipientsRefused",
    "ReplyHeaders",
    "Security",
    "ServerRefused",
    "ServerUnreachable",
    "SmtpSettings",
    "Throttled",
    "Timeout",
    "TlsFailure",
    "Unsupported",
    "append_to_sent",
    "blocked_attachments",
    "compose",
    "connect",
    "default_selection",
    "delete_message",
    "fetch_part",
    "folder_role",
    "list_folders",
    "move_message",
    "provider_files_sent_mail",
    "record_from_bytes",
    "reply_headers",
    "send_message",
    "special_folder",
    "sync_folder",
]
