"""mail_crm_sync_engine: IMAP sync into plain message records, with no Odoo in it.

Reading (sync.py):

with connect(settings) as mailbox:
    for folder in default_selection(list_folders(mailbox)):
        for batch in sync_folder(mailbox, folder.name, saved_state, window_start, own_addresses):
            store(batch.messages); save(batch.state)

Writing from the CRM (compose.py, send.py): refuse what ``blocked_attachments`` names (its
``is_blocked`` also decides what a browser may open), build the bytes once with
``compose(Draft(...))`` (a reply takes ``reply_headers`` of the original), submit them with
``send_message(SmtpSettings(...), ...)``, then file the same bytes with ``append_to_sent`` unless
``provider_files_sent_mail`` says the provider does it itself.

Gmail and Microsoft 365 (oauth.py): ``GMAIL`` and ``MICROSOFT_365`` are ``OAuthProvider`` presets
(servers, scopes, sign-in endpoints, ``use_condstore``, ``files_sent_mail``); ``configure`` points
them at a tenant or at other endpoints (the loopback server of the tests). The consent flow:
``new_pkce()`` and ``new_state()``, ``authorization_url(provider, client_id, redirect_uri, state,
challenge)``, then ``exchange_code(provider, client_id, client_secret, code, redirect_uri,
verifier)`` gives a ``TokenSet`` to save. Before a sync or a send, ``if needs_refresh(tokens):
tokens = refresh(provider, client_id, client_secret, tokens)`` and save it again (the refresh
token may have been rotated; msal's cache travels in ``raw_cache``); log in with
``imap_settings``/``smtp_settings(provider, login, tokens.access_token)``. A refused access token
is ``AuthenticationFailed``: refresh once and retry. ``GrantRevoked`` means only connecting again
helps, and does not count as a connection failure.

Which domains say nothing of a company (domains.py): ``is_public_mail_domain(mail_domain(address))``
for free-mail and disposable addresses, from the lists the package ships (``public_mail_domains()``).
Older mail and completeness (backfill.py): ``search_folder`` finds UIDs by arrival date and by
address, ``census_folder`` counts what a folder holds inside a window, ``fetch_uids`` reads chosen
UIDs in batches that leave the folder's saved state alone.

Changing the mailbox from the CRM (actions.py): ``delete_message`` and ``move_message`` act on
one ``MessageLocation`` (folder, UIDVALIDITY, UID) and return where the message went.
"""

from .actions import delete_message, move_message
from .backfill import FolderCensus, FolderSearch, census_folder, fetch_uids, search_folder
from .compose import (
    DEFAULT_BLOCKED_EXTENSIONS,
    Draft,
    OutgoingMessage,
    ReplyHeaders,
    blocked_attachments,
    compose,
    file_extensions,
    is_blocked,
    plain_name,
    reply_headers,
)
from .connection import Mailbox, connect
from .domains import is_public_mail_domain, mail_domain, public_mail_domains
from .errors import (
    AuthenticationFailed,
    ClientRefused,
    DeliveryUncertain,
    FolderError,
    GrantRevoked,
    MailSyncError,
    MessageGone,
    MessageRefused,
    RecipientsRefused,
    RunDeadlineReached,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
    UidValidityChanged,
    Unsupported,
)
from .folders import default_selection, folder_role, list_folders, special_folder
from .identity import content_fingerprint, namesake_key
from .oauth import (
    GMAIL,
    MICROSOFT_365,
    PROVIDERS,
    OAuthProvider,
    ProviderKind,
    TokenSet,
    authorization_url,
    configure,
    exchange_code,
    imap_settings,
    needs_refresh,
    new_pkce,
    new_state,
    refresh,
    revoke,
    smtp_settings,
)
from .parse import Place, name_for_part, record_from_bytes
from .parts import fetch_message, fetch_part
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
    "GMAIL",
    "MICROSOFT_365",
    "PROVIDERS",
    "Address",
    "Attachment",
    "AuthenticationFailed",
    "Batch",
    "ClientRefused",
    "ConnectionSettings",
    "DeliveryUncertain",
    "Direction",
    "Draft",
    "FailedMessage",
    "FolderCensus",
    "FolderError",
    "FolderInfo",
    "FolderRole",
    "FolderSearch",
    "FolderState",
    "GrantRevoked",
    "MailSyncError",
    "Mailbox",
    "MessageGone",
    "MessageLocation",
    "MessageRecord",
    "MessageRefused",
    "OAuthProvider",
    "OutgoingMessage",
    "Place",
    "ProviderKind",
    "RecipientsRefused",
    "ReplyHeaders",
    "RunDeadlineReached",
    "Security",
    "ServerRefused",
    "ServerUnreachable",
    "SmtpSettings",
    "Throttled",
    "Timeout",
    "TlsFailure",
    "TokenSet",
    "UidValidityChanged",
    "Unsupported",
    "append_to_sent",
    "authorization_url",
    "blocked_attachments",
    "census_folder",
    "compose",
    "configure",
    "connect",
    "content_fingerprint",
    "default_selection",
    "delete_message",
    "exchange_code",
    "fetch_message",
    "fetch_part",
    "fetch_uids",
    "file_extensions",
    "folder_role",
    "imap_settings",
    "is_blocked",
    "is_public_mail_domain",
    "list_folders",
    "mail_domain",
    "move_message",
    "name_for_part",
    "namesake_key",
    "needs_refresh",
    "new_pkce",
    "new_state",
    "plain_name",
    "provider_files_sent_mail",
    "public_mail_domains",
    "record_from_bytes",
    "refresh",
    "reply_headers",
    "revoke",
    "search_folder",
    "send_message",
    "smtp_settings",
    "special_folder",
    "sync_folder",
]
