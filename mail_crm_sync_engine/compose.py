"""Outgoing mail: the exact bytes of a message written in the CRM, reply threading, blocked files.

No I/O here: plain data in, bytes out. The same bytes go to the SMTP server and to the Sent
folder, so the copy a mail client shows and the one the sync reads back are the mail that left.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import headerregistry, policy
from email.message import EmailMessage
from typing import NamedTuple

from .parse import html_to_text, mask_quoted
from .types import Address

DEFAULT_BLOCKED_EXTENSIONS = ("exe", "msi", "bat", "js", "vbs", "ps1", "php")

# RFC 5322 sets no limit on References; long threads are trimmed as RFC 5537 3.4.4 advises
# (keep the first id, the thread's root, and the most recent ones).
MAX_REFERENCES = 20

# CRLF line ends, and 7-bit clean bodies (quoted-printable or base64), so any SMTP server and any
# IMAP APPEND takes the bytes as they are. Headers the policy folds itself are objects; the raw
# message-id headers below are folded here and must not be refolded (see _set_ids).
_POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")
_MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
# Unicode's bidirectional controls: ALM, LRM, RLM, LRE..RLO, LRI..PDI.
_DIRECTION_CONTROLS_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What may not stand in a local part written without quotes (RFC 5322 3.4.1 atoms and dots).
_LOCAL_PART_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as the CRM user wrote it.

    ``attachments`` are (filename, content type, data). Without ``text``, the plain-text
    alternative is derived from ``html``. Without ``message_id`` or ``date``, ``compose`` makes
    them (a random id at the sender's domain; now). ``bcc`` receives the mail but never appears in
    its headers.
    """

    from_: Address
    to: tuple[Address, ...]
    subject: str
    html: str
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    text: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = field(default=(), repr=False)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    message_id: str | None = None
    date: datetime.datetime | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What ``compose`` made: the bytes, and what sending and filing them need.

    ``data`` is the message as its sender keeps it, in Sent and in the CRM: with its Bcc header,
    as mail clients file it. ``send_message`` leaves that header out of what the SMTP server gets.
    """

    data: bytes = field(repr=False)
    message_id: str
    date: datetime.datetime  # aware, whole seconds: the Date header, and the Sent copy's INTERNALDATE
    envelope_from: str
    recipients: tuple[str, ...]  # To, Cc and Bcc, each address once


class ReplyHeaders(NamedTuple):
    in_reply_to: str
    references: tuple[str, ...]


def compose(draft: Draft) -> OutgoingMessage:
    """The RFC 5322 bytes of ``draft``: text and HTML as multipart/alternative, inside
    multipart/mixed when there are attachments; non-ASCII names, subject and filenames encoded
    (RFC 2047, RFC 2231); CRLF line ends; display names on one line. The Bcc header is in the
    sender's copy (``OutgoingMessage.data``), never in what is sent. Raises ValueError for an
    unusable address or id.
    """
    recipients: dict[str, str] = {}
    for address in (*draft.to, *draft.cc, *draft.bcc):
        addr_spec = _header_address(address).addr_spec
        recipients.setdefault(addr_spec.lower(), addr_spec)
    if not recipients:
        raise ValueError("The message has no recipient.")
    sender = _header_address(draft.from_)
    date = (draft.date or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
    if date.tzinfo is None:
        date = date.replace(tzinfo=datetime.UTC)
    message_id = _message_id(draft.message_id) if draft.message_id else _new_message_id(sender.domain)

    message = EmailMessage(policy=_POLICY)
    message["Date"] = email.utils.format_datetime(date)
    message["From"] = sender
    # Cc or Bcc alone is allowed (RFC 5322 3.6.3); Bcc is for the sender's copy: send_message drops it.
    for name, addresses in (("To", draft.to), ("Cc", draft.cc), ("Bcc", draft.bcc)):
        if addresses:
            message[name] = [_header_address(address) for address in addresses]
    message["Subject"] = " ".join(draft.subject.split())
    _set_ids(message, "Message-ID", [message_id])
    if draft.in_reply_to:
        _set_ids(message, "In-Reply-To", [_message_id(draft.in_reply_to)])
    references = [ref for ref in draft.references if _MESSAGE_ID_RE.fullmatch(ref.strip())]
    if references:
        _set_ids(message, "References", [ref.strip() for ref in references])

    text = draft.text if draft.text is not None else html_to_text(draft.html)
    message.set_content(_with_final_newline(text))
    message.add_alternative(_with_final_newline(draft.html), subtype="html")
    for filename, content_type, data in draft.attachments:
        maintype, _, subtype = content_type.split(";")[0].strip().lower().partition("/")
        if not maintype or not subtype or maintype in ("multipart", "message"):
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return OutgoingMessage(message.as_bytes(), message_id, date, sender.addr_spec, tuple(recipients.values()))


def reply_headers(original_message_id: str, original_references: Iterable[str] | str = ()) -> ReplyHeaders:
    """In-Reply-To and References for a reply to the message with these headers (RFC 5322 3.6.4):
    the original's references then its own id, each once, at most MAX_REFERENCES of them.

    ``original_references`` is the header's text or the ids one by one.
    """
    parent = _message_id(original_message_id)
    if isinstance(original_references, str):
        original_references = [original_references]
    found = [ref for value in original_references for ref in _MESSAGE_ID_RE.findall(value or "")]
    chain: dict[str, str] = {}
    for ref in [*found, parent]:
        chain.pop(_id_key(ref), None)  # a repeated id keeps its latest place
        chain[_id_key(ref)] = ref
    ids = list(chain.values())
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return ReplyHeaders(parent, tuple(ids))


def read_addresses(text: str) -> tuple[Address, ...]:
    """The addresses of a list a person typed (``Name <name@example.com>, other@example.com``),
    read strictly, so that only what the text visibly holds receives the mail.

    Control characters count as spaces. Raises ValueError, with a sentence for the user, for a
    list the email package finds malformed, a group (``team: a@x;``), and an address not written
    outside quotes and comments: a display name, quoted or encoded, never adds a recipient.
    """
    text = clean_name(text)
    if not text:
        return ()
    try:
        header = policy.default.header_factory("to", text)
        groups, defects = header.groups, header.defects
    except Exception as error:  # the email package raises many kinds on bad input
        raise ValueError(f"{text!r} is not a list of email addresses.") from error
    if defects:
        raise ValueError(
            f"{text!r} is not a list of email addresses: separate them with commas, as "
            "Name <name@example.com>, and put a name holding a comma in double quotes."
        )
    if any(group.display_name is not None for group in groups):
        raise ValueError(f"{text!r} holds a group of addresses: write the addresses one by one.")
    visible = _outside_quotes(text).lower()
    addresses = []
    for group in groups:
        for address in group.addresses:
            if not address.domain or address.addr_spec.lower() not in visible:
                raise ValueError(f"{address.addr_spec!r} in {text!r} is not an email address.")
            addresses.append(Address(clean_name(address.display_name), address.addr_spec))
    if len(addresses) > visible.count("@"):
        raise ValueError(f"{text!r} holds fewer addresses than it would be sent to.")
    return tuple(addresses)


def format_addresses(addresses: Iterable[Address]) -> str:
    """The addresses as a person reads and types them, and as ``read_addresses`` reads them back:
    names in their own letters (no RFC 2047 words), quoted where they hold a comma, a quote or
    another special; without control characters."""
    return ", ".join(_display(address) for address in addresses)


def clean_name(name: str) -> str:
    """``name`` on one line: control characters (CR, LF, NUL...) and line separators as spaces,
    runs of spaces as one. What a display name becomes before it reaches a header."""
    return " ".join(
        "".join(
            " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in name or ""
        ).split()
    )


def blocked_attachments(
    filenames: Iterable[str], blocked_extensions: Iterable[str] = DEFAULT_BLOCKED_EXTENSIONS
) -> tuple[str, ...]:
    """The filenames refused because one of their extensions is blocked (``is_blocked``)."""
    blocked = _extension_set(blocked_extensions)
    return tuple(filename for filename in filenames if is_blocked(filename, blocked))


def is_blocked(filename: str, blocked_extensions: Iterable[str] = DEFAULT_BLOCKED_EXTENSIONS) -> bool:
    """Whether a file of this name is refused: one of its extensions (``file_extensions``), any
    of a chain (``invoice.pdf.exe``, ``setup.exe.zip``), is blocked. The one check for what the
    CRM sends and for what a browser may open; the blocked extensions may be written in any
    case, with or without their dot."""
    return not _extension_set(blocked_extensions).isdisjoint(file_extensions(filename))


def file_extensions(filename: str) -> tuple[str, ...]:
    """The extensions of a file name as Windows, and the browsers saving the file, read them: in
    order (the last one is what the file opens with), in lower case.

    Any folder part is dropped. Invisible format characters are dropped: with a right-to-left
    override (U+202E), ``invoice<RLO>fdp.exe`` shows as ``invoiceexe.pdf`` and is an exe; with
    a zero-width space, ``a.e<ZWSP>xe`` shows as ``a.exe``. Control characters end a name for
    C's file functions, and a colon starts an NTFS alternate data stream (``a.exe::$DATA`` is
    the file ``a.exe``; browsers save ``a.pdf:b.exe`` as ``a.pdf_b.exe``): both separate
    extensions as a dot does. Spaces around an extension are dropped, as Windows drops spaces
    and dots at the end of a name (``a.exe .``, ``a.pdf. exe``). Letters that only look
    different (full-width ones) count as the plain ones (NFKC).
    """
    name = "".join(
        "." if unicodedata.category(char) == "Cc" else char
        for char in unicodedata.normalize("NFKC", filename)
        if unicodedata.category(char) != "Cf"
    )
    name = re.split(r"[/\\]", name)[-1]
    extensions = (part.strip().casefold() for part in re.split(r"[.:]", name)[1:])
    return tuple(extension for extension in extensions if extension)


def plain_name(filename: str) -> str:
    """The name without the characters that change the order it reads in (direction overrides,
    embeddings, isolates and marks), to show and to save: ``invoice<RLO>fdp.exe`` reads
    ``invoiceexe.pdf``; without the override it reads ``invoicefdp.exe``, what it is."""
    return _DIRECTION_CONTROLS_RE.sub("", filename)


def _extension_set(extensions: Iterable[str]) -> frozenset[str]:
    """Extensions as ``file_extensions`` gives them (``.ZIP`` is ``zip``)."""
    normalized = (unicodedata.normalize("NFKC", item).strip().lstrip(".").casefold() for item in extensions)
    return frozenset(extension for extension in normalized if extension)


def _header_address(address: Address) -> headerregistry.Address:
    local, at, domain = address.email.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{address.email!r} is not an email address.")
    if not local.isascii():
        raise ValueError(f"{address.email!r}: addresses with non-ASCII before the @ cannot be sent.")
    if not _LOCAL_PART_RE.fullmatch(local) or any(char in domain for char in ' \t<>()[],;:@"\\'):
        raise ValueError(f"{address.email!r} is not an email address.")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    if any(unicodedata.category(char) == "Cc" for char in domain):
        raise ValueError(f"{address.email!r} is not an email address.")
    return headerregistry.Address(clean_name(address.name), local, domain)


def _display(address: Address) -> str:
    email_address = address.email.strip()
    name = clean_name(address.name)
    if not name:
        return email_address
    local, _, domain = email_address.rpartition("@")
    try:
        return str(headerregistry.Address(name, local, domain))
    except (ValueError, IndexError):  # an address the email package refuses is shown as it is
        return f'"{email.utils.quote(name)}" <{email_address}>'


def _outside_quotes(text: str) -> str:
    """``text`` with its quoted strings and comments blanked out: what a reader takes as addresses."""
    return mask_quoted(text, escape_outside=False)


def _message_id(value: str) -> str:
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MESSAGE_ID_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a message id.")
    return value


def _new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(16)}@{domain.lower()}>"


def _id_key(message_id: str) -> str:
    local, _, domain = message_id.rpartition("@")
    return f"{local}@{domain.lower()}"


def _set_ids(message: EmailMessage, name: str, ids: list[str]) -> None:
    # The email package folds a long id (Outlook's run past 100 characters) into RFC 2047
    # encoded words, which no client reads as an id: one id per line, never refolded.
    message.set_raw(name, "\r\n ".join(ids))


def _with_final_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
