"""The engine's data: what goes in (settings, saved folder state) and what comes out (records, batches).

Everything here is plain, immutable data, so the addon can store it and tests can compare it.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field

from . import quoting


class Security(enum.StrEnum):
    SSL = "ssl"  # implicit TLS, usually port 993
    STARTTLS = "starttls"  # plain connection upgraded before login, usually port 143
    NONE = "none"  # no encryption: loopback and test servers only


# The usual port for each kind of security: the one source for the CLI's and the addon's defaults.
DEFAULT_IMAP_PORTS = {Security.SSL: 993, Security.STARTTLS: 143, Security.NONE: 143}
DEFAULT_SMTP_PORTS = {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25}


class FolderRole(enum.StrEnum):
    INBOX = "inbox"
    SENT = "sent"
    TRASH = "trash"
    JUNK = "junk"
    DRAFTS = "drafts"
    ARCHIVE = "archive"
    ALL = "all"
    OTHER = "other"


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How to reach and log in to one IMAP account.

    ``login`` is the email address, or the separate user name some servers (Exchange) want.
    Give ``password`` for LOGIN, or ``oauth_token`` for XOAUTH2. ``use_condstore=False`` keeps
    to the path for servers without CONDSTORE even where one is advertised (a provider preset's
    choice, see ``oauth.MICROSOFT_365``).
    """

    host: str
    port: int
    security: Security
    login: str
    password: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)
    verify_certificate: bool = True
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    use_condstore: bool = True


@dataclass(frozen=True, slots=True)
class FolderInfo:
    """A folder as the server lists it; ``name`` is decoded from modified UTF-7."""

    name: str
    role: FolderRole
    flags: tuple[str, ...] = ()
    delimiter: str = "/"
    selectable: bool = True
    messages: int | None = None

    @property
    def default_active(self) -> bool:
        """Inbox and Sent are synced unless the user says otherwise; nothing else is."""
        return self.role in (FolderRole.INBOX, FolderRole.SENT)


@dataclass(frozen=True, slots=True)
class FolderState:
    """What the engine needs to continue a folder where it stopped. Save it after each batch."""

    uidvalidity: int
    last_uid: int = 0
    highest_modseq: int | None = None
    uidnext: int | None = None
    messages: int | None = None

    def to_dict(self) -> dict:
        return {
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "highest_modseq": self.highest_modseq,
            "uidnext": self.uidnext,
            "messages": self.messages,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> FolderState | None:
        if not data or not data.get("uidvalidity"):
            return None
        return cls(
            uidvalidity=int(data["uidvalidity"]),
            last_uid=int(data.get("last_uid") or 0),
            highest_modseq=data.get("highest_modseq"),
            uidnext=data.get("uidnext"),
            messages=data.get("messages"),
        )


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    email: str  # lowercased


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as metadata only; its bytes stay on the server until asked for."""

    filename: str  # as the sender named it; "" when unnamed
    content_type: str
    size: int  # bytes once decoded (estimated from the encoded size for base64)
    part: str  # IMAP part number, e.g. "2" or "1.3"
    content_id: str | None = None
    inline: bool = False
    # What a user sees and downloads it as: the file name, else one made from its type.
    name: str = ""


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One message as found at one place (folder, UIDVALIDITY, UID) of one mailbox."""

    message_id: str
    subject: str
    date: datetime.datetime | None  # UTC, aware
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    size: int
    flags: tuple[str, ...]
    folder: str
    uid: int
    uidvalidity: int
    direction: Direction
    warnings: tuple[str, ...] = ()
    message_id_synthetic: bool = False
    # The headers asked for besides the engine's own (sync_folder's ``extra_headers``): (lowercase
    # name, decoded first value) for those the message has.
    extra_headers: tuple[tuple[str, str], ...] = ()
    # The Message-ID as its header gives it (normalized), set only when ``message_id`` differs
    # from it: an id longer than parse.MAX_ID_BYTES is keyed by a hash of it
    # (``<sha256-...@long-message-id.invalid>``, parse.message_id_key; ``in_reply_to`` and
    # ``references`` name long ids the same way, so threads still join). Show this one, and name
    # it in a reply's In-Reply-To and References and when looking the message up on the server.
    message_id_header: str | None = None

    @property
    def addresses(self) -> tuple[Address, ...]:
        """Everyone on From, To and Cc: the addresses linking looks at."""
        return self.from_ + self.to + self.cc

    @property
    def new_text(self) -> str:
        """``text`` without the history a reply quotes: what full-text search indexes
        (quoting.py). Worked out when asked: the sync stores mail without it, and a job builds
        the search documents afterwards."""
        return quoting.new_text(self.text)


@dataclass(frozen=True, slots=True)
class FailedMessage:
    """A message the server would not hand over, or that broke the fetch.

    Kept visible and past the watermark, so it is neither lost silently nor retried forever.
    """

    uid: int
    reason: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Store ``messages``, mark ``gone_uids`` as gone, then save ``state`` in the same transaction.

    ``reset`` says the folder's UIDVALIDITY changed: UIDs stored for it before are void.
    ``incremental`` is False for a batch of chosen UIDs (backfill.fetch_uids): its ``state``
    names the UIDVALIDITY only, and the folder's saved state must not change.
    """

    folder: str
    messages: tuple[MessageRecord, ...]
    state: FolderState
    gone_uids: tuple[int, ...] = ()
    reset: bool = False
    failed: tuple[FailedMessage, ...] = ()
    incremental: bool = True


@dataclass(frozen=True, slots=True)
class MessageLocation:
    """Where one message is on the server. ``uid`` is None when the server did not say
    (no UIDPLUS): the next sync of that folder finds it."""

    folder: str
    uidvalidity: int
    uid: int | None
