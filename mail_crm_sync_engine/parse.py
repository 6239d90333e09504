"""Turn what the server returned (headers, BODYSTRUCTURE, text parts) into a MessageRecord.

No I/O here: everything takes bytes and data, so it is tested without a server. Nothing in this
module raises on bad mail; what cannot be read becomes a warning on the record.

Every record can be stored whatever its sender wrote: PostgreSQL refuses NUL in text, a btree
index row over 2,704 bytes and a tsvector over 1 MB. So NUL, lone surrogates and (in one-line
values) other control characters are removed, and what a sender can make arbitrarily long is cut
to the bounds below, each time with a warning on the record.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import dataclasses
import datetime
import email
import email.message
import email.utils
import functools
import hashlib
import html
import itertools
import mimetypes
import quopri
import re
from collections.abc import Iterable, Iterator, Sequence
from email import errors, policy
from typing import NamedTuple

from .imap_response import as_text, zoned_datetime
from .types import Address, Attachment, Direction, FolderRole, MessageRecord

_MESSAGE_ID_RE = re.compile(r"<([^<>\s]+)>")

# The bounds of a record. Key ids are unique and indexed: far below a btree row's 2,704 bytes.
MAX_ID_BYTES = 500  # a Message-ID, In-Reply-To or References id, in UTF-8; longer ones are hashed
MAX_SUBJECT_CHARS = 1_000
MAX_NAME_CHARS = 255  # a display name; an attachment's file name and name
MAX_ADDRESS_CHARS = 254  # an email address (RFC 5321's limit); a longer one is dropped
# Per address list: From, To and Cc go into the search document, which must stay under 1 MB.
MAX_ADDRESSES = 1_000
MAX_ADDRESS_LIST_BYTES = 64 * 1024  # names and addresses of one list, in UTF-8
MAX_REFERENCES = 100  # the first (the conversation's first email) and the last ones are kept
MAX_ATTACHMENTS = 1_000
MAX_TEXT_PARTS = 100  # text parts read as the body; further ones are listed as attachments
MAX_MIME_DEPTH = 50  # parts nested deeper are not listed (body text is still looked for)
MAX_HEADER_CHARS = 1_000  # a value of the extra headers asked for
MAX_WARNINGS = 50
MAX_WARNING_CHARS = 300
# Raw header values beyond these are not decoded or parsed at all: a megabyte of address list
# costs the email package minutes. Generous: encoded words and quoting take room.
_MAX_RAW_SUBJECT_CHARS = 16 * MAX_SUBJECT_CHARS
_MAX_RAW_ADDRESS_CHARS = 128 * 1024
# Values longer than this are not kept in the caches of decoded words and address lists.
_MAX_CACHED_CHARS = 2_048

# NUL and lone surrogates: what PostgreSQL (or UTF-8) cannot hold, in any text.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
# In one-line values (everything but the body) also the other C0 controls, tab aside.
_CONTROL_RE = re.compile("[\x00-\x08\x0a-\x1f\ud800-\udfff]")


# -- BODYSTRUCTURE -----------------------------------------------------------------------------


class BodyPart(NamedTuple):
    """One leaf of a BODYSTRUCTURE, with what deciding and decoding need.

    A named tuple rather than a frozen dataclass: a sync makes several per message.
    """

    part: str
    content_type: str  # lowercased "type/subtype"
    params: dict[str, str]
    content_id: str | None
    encoding: str  # lowercased Content-Transfer-Encoding
    size: int
    disposition: str | None  # "inline", "attachment" or None
    disposition_params: dict[str, str]
    in_alternative: bool = False  # a direct child of a multipart/alternative
    enclosed_subject: str = ""  # the subject of an attached email (message/rfc822)

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")

    @property
    def filename(self) -> str:
        return self.disposition_params.get("filename") or self.params.get("name") or ""

    @property
    def is_body_text(self) -> bool:
        return (
            self.content_type in ("text/plain", "text/html")
            and self.disposition != "attachment"
            and not self.filename
        )

    @property
    def is_alternative_body(self) -> bool:
        """Another rendering of the body (text/watch-html, text/enriched...): neither the body
        shown nor an attachment. A calendar invitation is data, not a rendering: it stays."""
        return (
            self.in_alternative
            and self.content_type.startswith("text/")
            and self.content_type != "text/calendar"
            and self.disposition != "attachment"
            and not self.filename
        )


_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS_RE = re.compile(r"[ \t\r\n]*")


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        return lenient_base64(payload.encode("ascii", "replace"))
    return binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a header's declared charset; an unknown one reads as UTF-8, else Windows-1252."""
    try:
        return data.decode(_known_charset(charset) or "utf-8")
    except UnicodeError:
        return data.decode("cp1252", "replace")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; an unknown charset reads as UTF-8, else Windows-1252.

    Adjacent words of one charset are joined before decoding, so a character split across two
    words survives; white space between encoded words is dropped, as the RFC says.
    """
    if "=?" not in value:
        return value
    if len(value) > _MAX_CACHED_CHARS:
        return _decode_words.__wrapped__(value)
    return _decode_words(value)


@functools.lru_cache(maxsize=4096)  # names and thread subjects recur from mail to mail
def _decode_words(value: str) -> str:
    out: list[str] = []
    run: list[bytes] = []
    run_charset = None
    position = 0

    def flush() -> None:
        if run:
            out.append(decode_bytes(b"".join(run), run_charset))
            run.clear()

    for match in _ENCODED_WORD_RE.finditer(value):
        between = value[position : match.start()]
        charset = match.group(1).split("*", 1)[0].lower()  # RFC 2231 language suffix
        adjacent = run and _BETWEEN_WORDS_RE.fullmatch(between)
        if not adjacent:
            flush()
            out.append(between)
        elif charset != run_charset:
            flush()
        run_charset = charset
        run.append(_word_bytes(match.group(2), match.group(3)))
        position = match.end()
    flush()
    out.append(value[position:])
    return "".join(out)


def _params(raw) -> dict[str, str]:
    """BODYSTRUCTURE parameter list to a dict, RFC 2231 continuations and charsets resolved."""
    if not raw or not isinstance(raw, list | tuple):
        return {}
    pairs = [(as_text(raw[i]).lower(), as_text(raw[i + 1])) for i in range(0, len(raw) - 1, 2)]
    if any("*" in key for key, _ in pairs):
        try:
            collapsed = email.utils.decode_params([("", ""), *pairs])[1:]
            pairs = [(key, email.utils.unquote(rfc2231_text(value))) for key, value in collapsed]
        except (ValueError, LookupError, UnicodeError, TypeError):
            pass
    return {key: decode_words(value) for key, value in pairs}


def rfc2231_text(value: str | tuple) -> str:
    """A parameter value as the email package gives it: text, or (charset, language, text) for an
    RFC 2231 value, whose percent-decoded bytes are read in its charset (unknown: UTF-8, else
    Windows-1252). The package's own reading raises on some charset names (``undefined``)."""
    if not isinstance(value, tuple):
        return value
    charset, _language, text = value
    return decode_bytes(text.encode("latin-1", "replace"), charset)


def walk_bodystructure(structure, prefix: str = "", in_alternative: bool = False) -> list[BodyPart]:
    """The leaves of a BODYSTRUCTURE (as imap_response reads it) in IMAP part numbering.

    A multipart is its child parts followed by its subtype; a message/rfc822 part is one leaf
    (an attached email), not descended into: its subject is read from its envelope. Walked with a
    list rather than by recursion: a sender may nest multiparts as deep as the server lets him.
    """
    leaves = []
    pending = [(structure, prefix, in_alternative)]
    while pending:
        node, number, alternative = pending.pop()
        if not node:
            continue
        if not isinstance(node[0], list):
            leaves.append(_body_part(node, number, alternative))
            continue
        children = list(itertools.takewhile(lambda item: isinstance(item, list), node))
        subtype = as_text(node[len(children)]).lower() if len(node) > len(children) else ""
        pending.extend(
            (child, f"{number}.{index}" if number else str(index), subtype == "alternative")
            for index, child in reversed(list(enumerate(children, 1)))
        )
    return leaves


def _body_part(fields, number: str, in_alternative: bool) -> BodyPart:
    main, sub = as_text(fields[0]).lower(), as_text(fields[1]).lower()
    content_type = f"{main}/{sub}"
    extension = 7
    if main == "text":
        extension = 8
    elif content_type == "message/rfc822":
        extension = 10
    disposition, disposition_params = None, {}
    if len(fields) > extension + 1 and isinstance(fields[extension + 1], list | tuple):
        raw_disposition = fields[extension + 1]
        disposition = as_text(raw_disposition[0]).lower() or None
        disposition_params = _params(raw_disposition[1] if len(raw_disposition) > 1 else None)
    try:
        size = int(fields[6] or 0)
    except (TypeError, ValueError):
        size = 0
    content_id = as_text(fields[3]).strip().strip("<>") or None
    enclosed_subject = ""
    if content_type == "message/rfc822" and isinstance(fields[7], list | tuple):
        envelope = fields[7]
        enclosed_subject = (
            decode_words(as_text(envelope[1])[:_MAX_RAW_SUBJECT_CHARS]) if len(envelope) > 1 else ""
        )
    return BodyPart(
        part=number or "1",
        content_type=content_type,
        params=_params(fields[2]),
        content_id=content_id,
        encoding=as_text(fields[5]).lower() or "7bit",
        size=size,
        disposition=disposition,
        disposition_params=disposition_params,
        in_alternative=in_alternative,
        enclosed_subject=" ".join(enclosed_subject.split()),
    )


def plan_parts(leaves: Sequence[BodyPart]) -> tuple[list[BodyPart], list[BodyPart]]:
    """Split leaves into (body text parts to fetch, attachments kept as metadata); other
    renderings of the body are neither.

    Text parts past the first MAX_TEXT_PARTS are listed as attachments: a mail of thousands of
    text parts would otherwise ask the server for all of them in one command line.
    """
    body, attachments = [], []
    for leaf in leaves:
        if leaf.is_body_text and len(body) < MAX_TEXT_PARTS:
            body.append(leaf)
        elif leaf.is_body_text or not leaf.is_alternative_body:
            attachments.append(leaf)
    return body, attachments


def decoded_size(size: int, encoding: str) -> int:
    """The size a user expects: base64 costs 4 bytes per 3, plus a line break every 76 characters."""
    if encoding != "base64" or size <= 0:
        return size
    characters = size - 2 * -(-size // 78)  # lines of 76 characters and CRLF
    return max(characters, 0) * 3 // 4


ENCLOSED_EMAIL_TYPES = ("message/rfc822", "message/global")
# Names for parts their sender left unnamed; any other type is "<main type>-<part>.<extension>".
_REPORT_NAMES = {
    "message/delivery-status": "delivery-status.txt",
    "message/global-delivery-status": "delivery-status.txt",
    "message/disposition-notification": "read-receipt.txt",
    "message/global-disposition-notification": "read-receipt.txt",
    "message/feedback-report": "feedback-report.txt",
    "text/rfc822-headers": "returned-headers.txt",
    "message/global-headers": "returned-headers.txt",
}
_BASE_NAMES = {"image": "image", "audio": "audio", "video": "video", "text": "text"}
# Where Python's table is wrong or silent for mail; the rest comes from it (its built-in table
# only, not the system's: the same name on every machine).
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/calendar": ".ics",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/pjpeg": ".jpg",
    "application/octet-stream": ".bin",
    "application/ics": ".ics",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}
_UNSAFE_NAME_RE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@functools.lru_cache(maxsize=1)
def _builtin_types() -> mimetypes.MimeTypes:
    return mimetypes.MimeTypes()


def extension_of(content_type: str) -> str:
    """ ".png" for image/png; "" for a type without a known extension."""
    if content_type in ENCLOSED_EMAIL_TYPES:
        return ".eml"
    return _EXTENSIONS.get(content_type) or _builtin_types().guess_extension(content_type) or ""


def name_for_part(content_type: str, part: str, subject: str = "") -> str:
    """A file name for a part its sender did not name: an attached email after its subject
    (".eml"), a delivery report by what it is, anything else by its type and part number
    (image-2.png), so that two unnamed parts of one email never share a name."""
    content_type = content_type.lower()
    if content_type in ENCLOSED_EMAIL_TYPES:
        title = " ".join(_UNSAFE_NAME_RE.sub(" ", subject).split())[:100].strip(" .")
        return f"{title or f'message-{part}'}.eml"
    if content_type in _REPORT_NAMES:
        return _REPORT_NAMES[content_type]
    base = _BASE_NAMES.get(content_type.partition("/")[0], "attachment")
    if content_type == "text/calendar":
        base = "invitation"
    return f"{base}-{part.replace('.', '-')}{extension_of(content_type)}"


def attachment_of(leaf: BodyPart) -> Attachment:
    return Attachment(
        filename=leaf.filename,
        name=leaf.filename or name_for_part(leaf.content_type, leaf.part, leaf.enclosed_subject),
        content_type=leaf.content_type,
        size=decoded_size(leaf.size, leaf.encoding),
        part=leaf.part,
        content_id=leaf.content_id,
        inline=leaf.disposition == "inline" or (leaf.disposition is None and bool(leaf.content_id)),
    )


# -- decoding ----------------------------------------------------------------------------------


_NOT_BASE64_RE = re.compile(rb"[^A-Za-z0-9+/]")


def lenient_base64(data: bytes) -> bytes:
    """Base64 as mailers really write it: stray characters and padding ignored, and a truncated
    last group (one character too many) dropped, so broken input yields what could be read."""
    cleaned = _NOT_BASE64_RE.sub(b"", data)
    missing = -len(cleaned) % 4
    cleaned = cleaned[:-1] if missing == 3 else cleaned + b"=" * missing
    try:
        return base64.b64decode(cleaned)
    except binascii.Error:
        return b""


def decode_transfer(data: bytes, encoding: str) -> bytes:
    """Undo Content-Transfer-Encoding; broken base64 yields what could be read."""
    if encoding == "base64":
        return lenient_base64(data)
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


# Python's own codecs, not charsets any mailer writes: a sender naming one gets UTF-8.
_NOT_CHARSETS = frozenset({"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode"})


def _known_charset(charset: str | None) -> str | None:
    if not charset or len(charset) > 64:
        return None
    return _codec_of(charset.strip().strip('"').lower())


@functools.lru_cache(maxsize=256)
def _codec_of(charset: str) -> str | None:
    aliases = {"utf8": "utf-8", "unicode-1-1-utf-7": "utf-7", "x-unknown": "", "unknown-8bit": ""}
    charset = aliases.get(charset, charset)
    if not charset:
        return None
    try:
        codec = codecs.lookup(charset).name
        b"a".decode(codec)
    except LookupError:  # unknown, or a bytes-to-bytes codec (hex, zlib, rot13): no charset
        return None
    except UnicodeError:  # a charset that cannot read "a" alone (utf-16): still a charset
        pass
    return None if codec in _NOT_CHARSETS else codec


def decode_text(data: bytes, charset: str | None, warnings: list[str]) -> str:
    """Bytes to text by the declared charset, falling back to UTF-8, then Windows-1252."""
    codec = _known_charset(charset)
    if charset and not codec:
        warnings.append(f"unknown charset {charset!r}")
    if codec in ("ascii", None) and not data.isascii():
        if codec == "ascii":
            warnings.append("8-bit text declared as us-ascii")
        elif not charset:
            warnings.append("8-bit text without a charset")
        codec = None
    if codec:
        try:
            return data.decode(codec)
        except UnicodeError:
            warnings.append(f"text is not valid {charset}")
    try:
        return data.decode("utf-8")
    except UnicodeError:
        return data.decode("cp1252", "replace")


def decode_lines(data: bytes, charset: str | None, warnings: list[str]) -> str:
    """``decode_text`` with every line ending (CRLF, or a lone CR) made "\\n".

    Where the charset writes CR and LF as those bytes and no other character holds them (UTF-8,
    single-byte charsets, and the UTF-8 / Windows-1252 fallbacks), the bytes are replaced before
    decoding: the same text, but bytes.replace is several times faster than str.replace on text
    that is not ASCII, and a sync reads megabytes of it."""
    if b"\r" in data and _lines_in_bytes(_known_charset(charset)):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    text = decode_text(data, charset, warnings)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


@functools.lru_cache(maxsize=256)
def _lines_in_bytes(codec: str | None) -> bool:
    """Whether CR and LF are the bytes 0x0D and 0x0A in ``codec`` (None: decode_text's UTF-8,
    then Windows-1252) and never part of another character: UTF-8, or a charset that reads each
    byte alone (``bytes.replace`` on its bytes is then ``str.replace`` on its text)."""
    if codec in (None, "utf-8"):
        return True
    try:
        whole = bytes(range(256)).decode(codec, "replace")
        one_by_one = "".join(bytes([byte]).decode(codec, "replace") for byte in range(256))
    except (LookupError, UnicodeError, TypeError, ValueError):
        return False
    return whole == one_by_one and len(whole) == 256 and whole[0x0A] == "\n" and whole[0x0D] == "\r"


_HTML_SKIP_RE = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_HTML_BLOCK_RE = re.compile(
    r"</?(?:p|div|br|tr|li|h[1-6]|table|blockquote|pre|hr|section|article|header|footer|ul|ol)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_TAG_RE = re.compile(r"<[^>]*>")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    """Readable plain text from HTML: tags dropped, blocks on their own lines, entities resolved.

    Regular expressions rather than an HTML parser: this runs for every HTML-only mail of a sync,
    and the text is for reading and searching, not for display (the sanitized HTML is).
    """
    text = _HTML_SKIP_RE.sub("", markup)
    text = _HTML_BLOCK_RE.sub("\n", text)
    text = html.unescape(_HTML_TAG_RE.sub("", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()


# -- headers -----------------------------------------------------------------------------------


def normalize_message_id(value: str | None) -> str | None:
    """``<local@domain>`` with the domain lowercased and whitespace dropped; None when absent."""
    if not value:
        return None
    value = "".join(value.split())
    match = _MESSAGE_ID_RE.search(value)
    token = match.group(1) if match else value.strip("<>")
    if not token:
        return None
    local, at, domain = token.rpartition("@")
    return f"<{local}@{domain.lower()}>" if at else f"<{token}>"


# The domain of a hashed key: a reserved name (RFC 2606), so no real id ever ends so.
LONG_ID_DOMAIN = "long-message-id.invalid"


def message_id_key(message_id: str) -> str:
    """A normalized id as the key it is stored and matched under: itself, or past MAX_ID_BYTES a
    hash of it (``<sha256-...@long-message-id.invalid>``), the same wherever the same id appears,
    so a reply naming a long id in In-Reply-To or References still finds it."""
    data = message_id.encode("utf-8", "surrogatepass")
    if len(data) <= MAX_ID_BYTES:
        return message_id
    return f"<sha256-{hashlib.sha256(data).hexdigest()}@{LONG_ID_DOMAIN}>"


class Headers:
    """The headers a record needs: lowercased name to its unfolded values, in order.

    Splitting and decoding only these is many times faster than the email package's full parse;
    the package's parser is still used for hard address lists.
    """

    __slots__ = ("_values",)

    def __init__(self, items: Iterable[tuple[str, str]]):
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name, []).append(value)

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def first(self, name: str) -> str:
        values = self._values.get(name)
        return values[0] if values else ""


# The only headers a record is built from; the sync asks the server for these alone.
NEEDED_HEADERS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
)
_NEEDED_RE = re.compile(
    rf"^({'|'.join(name.lower() for name in NEEDED_HEADERS)})[ \t]*:(.*)$", re.MULTILINE | re.IGNORECASE
)
_MALFORMED_RE = re.compile(r"^(?![^:\s]+[ \t]*:)(.*\S.*)$", re.MULTILINE)
_SINGLE = ("subject", "from", "date", "message-id")


@functools.lru_cache(maxsize=16)
def _headers_re(names: tuple[str, ...]) -> re.Pattern:
    return re.compile(
        rf"^({'|'.join(re.escape(name) for name in names)})[ \t]*:(.*)$", re.MULTILINE | re.IGNORECASE
    )


def header_values(
    header_bytes: bytes, names: Sequence[str], warnings: list[str] | None = None
) -> tuple[tuple[str, str], ...]:
    """(lowercase name, decoded first value) of the headers ``names`` that the block has; control
    characters removed, cut at MAX_HEADER_CHARS (said in ``warnings``)."""
    text = (
        header_bytes.decode("utf-8", "replace")
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", "\t")
    )
    found: dict[str, str] = {}
    for name, value in _headers_re(tuple(name.lower() for name in names)).findall(text):
        if name.lower() in found:
            continue
        decoded = " ".join(_CONTROL_RE.sub("", decode_words(value.strip()[: 16 * MAX_HEADER_CHARS])).split())
        if len(decoded) > MAX_HEADER_CHARS and warnings is not None:
            warnings.append(f"the {name} header is cut at {MAX_HEADER_CHARS} characters")
        found[name.lower()] = decoded[:MAX_HEADER_CHARS]
    return tuple(found.items())


def parse_headers(header_bytes: bytes, warnings: list[str]) -> Headers:
    """The headers a record needs, unfolded. Raw 8-bit headers are read as UTF-8 (RFC 6532),
    else as Windows-1252; lines that are not headers become warnings."""
    if header_bytes.isascii():
        text = header_bytes.decode("ascii")
    else:
        try:
            text = header_bytes.decode("utf-8")
        except UnicodeDecodeError:
            text = header_bytes.decode("cp1252", "replace")
            warnings.append("8-bit headers that are not UTF-8: read as Windows-1252")
    if text[:1] in (" ", "\t"):
        warnings.append("the first header line is a continuation line")
    # Unfold (RFC 5322 2.2.3): drop the line break before white space; str.replace runs in C.
    text = text.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", "\t")
    malformed = _MALFORMED_RE.findall(text)
    warnings.extend(f"malformed header line: {line.strip()[:60]!r}" for line in malformed[:5])
    if len(malformed) > 5:
        warnings.append(f"and {len(malformed) - 5} more malformed header lines")
    headers = Headers([(name.lower(), value.strip()) for name, value in _NEEDED_RE.findall(text)])
    for name in _SINGLE:
        if len(headers.all(name)) > 1:
            warnings.append(f"duplicated {name} header: the first one is used")
    return headers


_PLAIN_ADDRESS = r"[^\s<>@,;:\"()\[\]\\]+@[^\s<>@,;:\"()\[\]\\]+"
_HARD_ADDRESS_RE = re.compile(r'["();:\\]')
_SIMPLE_ADDRESS_RE = re.compile(rf"\s*(?:([^<>,;:\"()\\@]*?)\s*<({_PLAIN_ADDRESS})>|({_PLAIN_ADDRESS}))\s*")


def _simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """``Name <a@b>, c@d`` lists without quotes, comments or groups; None for anything harder."""
    if _HARD_ADDRESS_RE.search(value):
        return None
    parsed = []
    for piece in value.split(","):
        if not piece.strip():
            continue
        match = _SIMPLE_ADDRESS_RE.fullmatch(piece)
        if not match:
            return None
        name, bracketed, bare = match.groups()
        parsed.append((decode_words(name or ""), bracketed or bare))
    return parsed


_LABELS = {"from": "From", "to": "To", "cc": "Cc", "bcc": "Bcc", "reply-to": "Reply-To"}
_ANGLE_ADDRESS_RE = re.compile(r"<\s*([^<>\s@]+(?:@[^<>\s@]+)?)\s*>")  # a local alias too
_BARE_ADDRESS_RE = re.compile(_PLAIN_ADDRESS)


def parse_addresses(headers: Headers, name: str, warnings: list[str]) -> tuple[Address, ...]:
    """The addresses of header ``name`` (lowercase), cleaned and bounded; notes go to ``warnings``."""
    value = headers.first(name)
    if not value:
        return ()
    if len(value) > _MAX_CACHED_CHARS:
        addresses, notes = _address_list.__wrapped__(name, value)
    else:
        addresses, notes = _address_list(name, value)
    warnings.extend(notes)
    return addresses


# The same From and To lines come back in every mail of a correspondence: read each line once.
@functools.lru_cache(maxsize=4096)
def _address_list(name: str, value: str) -> tuple[tuple[Address, ...], tuple[str, ...]]:
    label = _LABELS.get(name, name)
    notes = []
    if len(value) > _MAX_RAW_ADDRESS_CHARS:
        end = value.rfind(",", 0, _MAX_RAW_ADDRESS_CHARS)
        end = end if end > 0 else _MAX_RAW_ADDRESS_CHARS
        notes.append(f"the {label} header has {len(value)} characters: only the first {end} are read")
        value = value[:end]
    parsed = _simple_addresses(value)
    malformed = False
    if parsed is None:
        parsed, malformed = _standard_addresses(name, value)
    if malformed:
        parsed = _lenient_addresses(name, value)
    bounds: list[str] = []
    addresses = _bounded_addresses(label, parsed, bounds)
    if malformed:
        read_as = ", ".join(address.email for address in addresses[:3]) or "no address"
        more = f" and {len(addresses) - 3} more" if len(addresses) > 3 else ""
        notes.append(f"the {label} address list was malformed: read as {read_as}{more}")
    return addresses, (*notes, *bounds)


def _standard_addresses(name: str, value: str) -> tuple[list[tuple[str, str]], bool]:
    """The email package's reading of an address list, and whether it found the list malformed."""
    try:
        header = policy.default.header_factory(name, value)
        malformed = any(isinstance(defect, errors.InvalidHeaderDefect) for defect in header.defects)
        return [(a.display_name, a.addr_spec) for a in header.addresses], malformed
    except Exception:  # the email package raises many kinds on bad headers, RecursionError too
        return [], True


def _lenient_addresses(name: str, value: str) -> list[tuple[str, str]]:
    """A malformed address list read as Thunderbird and Gmail read it: split at commas and
    semicolons outside quotes, comments and angle brackets; in each piece the address in <...>
    wins over what precedes it, even a display name that looks like an address. A piece without
    one is read as the email package reads it alone, else as its first word that is an address."""
    parsed = []
    for piece in _address_pieces(value):
        masked = _masked(piece)
        if match := _ANGLE_ADDRESS_RE.search(masked):
            # What precedes the address is its name, but a group's label ("team:") is no one's.
            label_end = masked.rfind(":", 0, match.start()) + 1
            display_name = piece[label_end : match.start()].strip().strip('"').strip()
            parsed.append((decode_words(display_name), piece[match.start(1) : match.end(1)]))
        elif alone := _standard_addresses(name, piece)[0]:
            parsed.extend(alone)
        elif match := _BARE_ADDRESS_RE.search(masked):
            parsed.append(("", piece[match.start() : match.end()]))
    return parsed


def _masked(piece: str) -> str:
    """``piece`` with its quoted strings and comments blanked out, so searches skip them."""
    return mask_quoted(piece)


def mask_quoted(text: str, *, escape_outside: bool = True) -> str:
    """``text`` with its quoted strings and comments blanked out. A backslash escapes the next
    character inside them, and, with ``escape_outside`` (lenient, for what senders write), outside
    too; without it (RFC 5322: a quoted-pair is part of a quoted string or comment alone), a
    backslash outside is a plain character."""
    out = list(text)
    quoted = escaped = False
    comments = 0
    for index, char in enumerate(text):
        inside = quoted or comments > 0
        if escaped:
            escaped = False
        elif char == "\\" and (inside or escape_outside):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = inside = True
        elif char == "(":
            comments += 1
            inside = True
        elif char == ")" and comments:
            comments -= 1
        if inside:
            out[index] = " "
    return "".join(out)


def _address_pieces(value: str) -> list[str]:
    """``value`` split at the commas and semicolons outside quotes, comments and angle brackets."""
    masked = _masked(value)
    pieces, start, in_angle = [], 0, False
    for index, char in enumerate(masked):
        if char in "<>":
            in_angle = char == "<"
        elif char in ",;" and not in_angle:
            pieces.append(value[start:index])
            start = index + 1
    pieces.append(value[start:])
    return pieces


def _bounded_addresses(label: str, parsed: list[tuple[str, str]], notes: list[str]) -> tuple[Address, ...]:
    """The addresses read, lowercased, without duplicates or control characters, and bounded:
    MAX_ADDRESSES and MAX_ADDRESS_LIST_BYTES a list, MAX_NAME_CHARS a name; notes say what went."""
    addresses: list[Address] = []
    seen = set()
    size = cleaned = long_names = too_long = 0
    for display_name, addr_spec in parsed:
        # An address without a domain (a local alias) is kept as read; it just never links.
        address = (addr_spec or "").strip().strip("<>").lower()
        name = display_name or ""
        if _CONTROL_RE.search(address) or _CONTROL_RE.search(name):
            address, name = _CONTROL_RE.sub("", address), _CONTROL_RE.sub("", name)
            cleaned += 1
        if len(address) > MAX_ADDRESS_CHARS:
            too_long += 1
            continue
        if not address or address in seen:
            continue
        name = " ".join(name.split())
        if len(name) > MAX_NAME_CHARS:
            name = name[:MAX_NAME_CHARS].rstrip()
            long_names += 1
        size += len(name.encode()) + len(address.encode())
        if len(addresses) == MAX_ADDRESSES or size > MAX_ADDRESS_LIST_BYTES:
            notes.append(f"the {label} list is cut to its first {len(addresses)} of {len(parsed)} addresses")
            break
        seen.add(address)
        addresses.append(Address(name, address))
    if cleaned:
        notes.append(f"control characters removed from {label}")
    if long_names:
        notes.append(f"{long_names} display names in {label} cut at {MAX_NAME_CHARS} characters")
    if too_long:
        notes.append(f"{too_long} addresses in {label} longer than {MAX_ADDRESS_CHARS} characters dropped")
    return tuple(addresses)


# The RFC 5322 form nearly every mailer writes: "Fri, 13 Nov 2026 19:02:39 +0100".
_DATE_RE = re.compile(
    r"(?:\w{3}, *)?(\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d)(?::(\d\d))? ([+-])(\d\d)(\d\d)\s*(?:\(.*\))?"
)


def _common_date(raw: str) -> datetime.datetime | None:
    match = _DATE_RE.fullmatch(raw.strip())
    return zoned_datetime(*match.groups()) if match else None


def _date(headers: Headers, fallback: datetime.datetime | None, warnings: list[str]):
    raw = headers.first("date")
    value = None
    if raw:
        try:
            value = _common_date(raw) or email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            warnings.append(f"unreadable Date header {raw[:60]!r}: the server's arrival time is used")
    else:
        warnings.append("no Date header: the server's arrival time is used")
    if value is None:
        value = fallback
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    try:
        return value.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        warnings.append(f"Date header out of range {raw[:60]!r}")
        return fallback


def synthetic_message_id(headers: Headers) -> str:
    """A stable id from the headers, so the same id-less mail found twice is one mail."""
    material = "\x00".join(
        " ".join(headers.first(name).split())
        for name in ("date", "from", "to", "cc", "subject", "in-reply-to")
    )
    digest = hashlib.sha256(material.encode("utf-8", "replace")).hexdigest()[:32]
    return f"<{digest}@mail-crm-sync.invalid>"


# -- the record --------------------------------------------------------------------------------


class Place(NamedTuple):
    """Where a message was found and what the server said of it, beside its content."""

    folder: str
    uid: int
    uidvalidity: int
    size: int = 0
    flags: tuple[str, ...] = ()
    internal_date: datetime.datetime | None = None
    folder_role: FolderRole = FolderRole.OTHER
    # The server's own id of the message, the same in every folder (Gmail's X-GM-MSGID).
    server_id: str | None = None


def direction_of(from_: Iterable[Address], own_addresses: frozenset[str], role: FolderRole) -> Direction:
    if role == FolderRole.SENT or any(address.email in own_addresses for address in from_):
        return Direction.OUTGOING
    return Direction.INCOMING


def build_record(  # noqa: PLR0913 - the pieces of a message as the sync and record_from_bytes hold them
    header_bytes: bytes,
    body_texts: Sequence[tuple[BodyPart, bytes]],
    attachments: Sequence[Attachment],
    place: Place,
    own_addresses: frozenset[str],
    warnings: Sequence[str] = (),
    extra_headers: Sequence[str] = (),
) -> MessageRecord:
    """One MessageRecord from the header block, the fetched body text parts and attachment metadata;
    ``extra_headers`` (lowercase names) are read from the header block too. The record is always
    storable: see the module's docstring."""
    notes = list(warnings)
    headers = parse_headers(header_bytes, notes)
    header_id = _message_id(headers.first("message-id"), "Message-ID", notes)
    synthetic = header_id is None
    if synthetic and place.server_id:
        # The same in every label (folder) of a Gmail mailbox, so a label never duplicates it.
        message_id = f"<{place.server_id}@x-gm-msgid.invalid>"
        notes.append("no Message-ID header: the server's id of the message (X-GM-MSGID) was used")
    elif synthetic:
        message_id = synthetic_message_id(headers)
        notes.append("no Message-ID header: an id was derived from the headers")
    else:
        message_id = message_id_key(header_id)
    from_ = parse_addresses(headers, "from", notes)

    plain, rich = [], []
    for leaf, data in body_texts:
        text = decode_lines(decode_transfer(data, leaf.encoding), leaf.charset, notes)
        (rich if leaf.content_type == "text/html" else plain).append(text)
    html_body = _storable_body("\n".join(rich), "HTML", notes) if rich else None
    text_body = (
        _storable_body("\n\n".join(part.strip("\n") for part in plain), "text", notes) if plain else ""
    )
    if not text_body and html_body:
        text_body = html_to_text(html_body)

    return MessageRecord(
        message_id=message_id,
        subject=_subject(headers.first("subject"), notes),
        date=_date(headers, place.internal_date, notes),
        from_=from_,
        to=parse_addresses(headers, "to", notes),
        cc=parse_addresses(headers, "cc", notes),
        bcc=parse_addresses(headers, "bcc", notes),
        reply_to=parse_addresses(headers, "reply-to", notes),
        in_reply_to=_message_id(headers.first("in-reply-to"), "In-Reply-To id", notes, key=True),
        references=_references(headers.first("references"), notes),
        text=text_body,
        html=html_body,
        attachments=_storable_attachments(attachments, notes),
        size=place.size,
        flags=place.flags,
        folder=place.folder,
        uid=place.uid,
        uidvalidity=place.uidvalidity,
        direction=direction_of(from_, own_addresses, place.folder_role),
        message_id_synthetic=synthetic,
        extra_headers=header_values(header_bytes, extra_headers, notes) if extra_headers else (),
        message_id_header=header_id if header_id != message_id else None,
        # last: every step above may add to them
        warnings=_storable_warnings(notes),
    )


# -- storable values ---------------------------------------------------------------------------


def _message_id(value: str, label: str, notes: list[str], key: bool = False) -> str | None:
    """A header's id normalized and without control characters; with ``key``, as its key
    (message_id_key), saying so when it is hashed."""
    if _CONTROL_RE.search(value):
        value = _CONTROL_RE.sub("", value)
        notes.append(f"control characters removed from {label}")
    message_id = normalize_message_id(value)
    if message_id is None:
        return None
    if len(message_id.encode("utf-8")) > MAX_ID_BYTES:
        notes.append(f"the {label} is longer than {MAX_ID_BYTES} bytes: it is stored as a hash of it")
    return message_id_key(message_id) if key else message_id


def _references(value: str, notes: list[str]) -> tuple[str, ...]:
    """The References ids as keys: the first (which names the conversation) and the last ones."""
    if _CONTROL_RE.search(value):
        value = _CONTROL_RE.sub("", value)
        notes.append("control characters removed from References")
    ids = [ref for ref in (normalize_message_id(m) for m in _MESSAGE_ID_RE.findall(value)) if ref]
    if len(ids) > MAX_REFERENCES:
        notes.append(f"References names {len(ids)} ids: the first and the last {MAX_REFERENCES - 1} are kept")
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    keys = tuple(message_id_key(ref) for ref in ids)
    if keys != tuple(ids):
        notes.append(f"a References id is longer than {MAX_ID_BYTES} bytes: it is stored as a hash of it")
    return keys


def _subject(raw: str, notes: list[str]) -> str:
    decoded = decode_words(raw[:_MAX_RAW_SUBJECT_CHARS])
    if _CONTROL_RE.search(decoded):
        decoded = _CONTROL_RE.sub("", decoded)
        notes.append("control characters removed from the subject")
    subject = " ".join(decoded.split())
    if len(subject) > MAX_SUBJECT_CHARS or len(raw) > _MAX_RAW_SUBJECT_CHARS:
        notes.append(f"subject cut at {MAX_SUBJECT_CHARS} characters (it had {len(raw)} as sent)")
        subject = subject[:MAX_SUBJECT_CHARS].rstrip()
    return subject


def _storable_body(text: str, label: str, notes: list[str]) -> str:
    try:
        if "\x00" not in text and text.encode():  # both run in C: a body may be megabytes
            return text
    except UnicodeEncodeError:  # a lone surrogate (a utf-7 body can hold one)
        pass
    notes.append(f"NUL characters removed from the {label}")
    return _UNSTORABLE_RE.sub("", text)


def _storable_attachments(attachments: Sequence[Attachment], notes: list[str]) -> tuple[Attachment, ...]:
    """At most MAX_ATTACHMENTS, none nested deeper than MAX_MIME_DEPTH, with names, type and
    content id without control characters and cut at MAX_NAME_CHARS."""
    if not attachments:
        return ()
    shallow = [a for a in attachments if a.part.count(".") < MAX_MIME_DEPTH]
    if len(shallow) < len(attachments):
        deep = len(attachments) - len(shallow)
        notes.append(f"parts nested deeper than {MAX_MIME_DEPTH} levels are not listed ({deep})")
    if len(shallow) > MAX_ATTACHMENTS:
        notes.append(f"{len(shallow)} attachments: the first {MAX_ATTACHMENTS} are listed")
        shallow = shallow[:MAX_ATTACHMENTS]
    kept = tuple(_storable_attachment(attachment) for attachment in shallow)
    changed = [_texts_of(old) for old, new in zip(shallow, kept, strict=True) if new is not old]
    if any(_CONTROL_RE.search(text) for texts in changed for text in texts.values()):
        notes.append("control characters removed from attachment names")
    if any(len(text) > MAX_NAME_CHARS for texts in changed for text in texts.values()):
        notes.append(f"attachment names cut at {MAX_NAME_CHARS} characters")
    return kept


def _texts_of(attachment: Attachment) -> dict[str, str]:
    return {
        "filename": attachment.filename,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "content_id": attachment.content_id or "",
    }


def _storable_attachment(attachment: Attachment) -> Attachment:
    """``attachment`` itself when storable, else a copy with its texts cleaned and cut."""
    texts = _texts_of(attachment)
    if not any(_CONTROL_RE.search(text) or len(text) > MAX_NAME_CHARS for text in texts.values()):
        return attachment
    texts = {key: _cut_name(_CONTROL_RE.sub("", text)) for key, text in texts.items()}
    texts["name"] = (
        texts["name"] or texts["filename"] or name_for_part(texts["content_type"], attachment.part)
    )
    content_id = texts.pop("content_id") or None
    return dataclasses.replace(attachment, **texts, content_id=content_id)


def _cut_name(name: str) -> str:
    """``name`` in MAX_NAME_CHARS characters, keeping a file name's extension."""
    if len(name) <= MAX_NAME_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= 16:
        return f"{stem[: MAX_NAME_CHARS - len(extension) - 1]}.{extension}"
    return name[:MAX_NAME_CHARS]


def _storable_warnings(notes: list[str]) -> tuple[str, ...]:
    """Each warning once, on one line, cut at MAX_WARNING_CHARS; at most MAX_WARNINGS of them."""
    if not notes:
        return ()
    unique = [
        " ".join(_CONTROL_RE.sub("", note).split())[:MAX_WARNING_CHARS] for note in dict.fromkeys(notes)
    ]
    unique = list(dict.fromkeys(unique))
    if len(unique) > MAX_WARNINGS:
        more = len(unique) - MAX_WARNINGS + 1
        unique = [*unique[: MAX_WARNINGS - 1], f"and {more} more warnings"]
    return tuple(unique)


# -- a whole message in hand -------------------------------------------------------------------


def _header_text(value) -> str:
    """A header value as compat32 keeps it (raw 8-bit bytes as surrogates): read as UTF-8, else
    Windows-1252, as parse_headers reads raw headers; encoded words decoded."""
    text = rfc2231_text(value) if isinstance(value, tuple) else str(value)
    if not text.isascii():
        try:
            raw = text.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # already decoded (RFC 2231)
            raw = None
        if raw is not None:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", "replace")
    return decode_words(text)


def _leaves(message: email.message.Message) -> Iterator[tuple[BodyPart, bytes]]:
    """The leaves of a parsed message in IMAP part numbering (as walk_bodystructure numbers a
    BODYSTRUCTURE), each with its bytes, transfer encoding undone. Walked with a list, as
    walk_bodystructure is."""
    pending = [(message, "", False)]
    while pending:
        part, prefix, in_alternative = pending.pop()
        # An attached email, a delivery or feedback report: one leaf, as IMAP numbers them.
        enclosed = part.get_content_maintype() == "message"
        if part.is_multipart() and not enclosed:
            alternative = part.get_content_subtype() == "alternative"
            pending.extend(
                (child, f"{prefix}.{index}" if prefix else str(index), alternative)
                for index, child in reversed(list(enumerate(part.get_payload(), 1)))
            )
        elif part.get_content_maintype() != "multipart":  # a multipart without parts: nothing to read
            yield _leaf_of(part, prefix, in_alternative)


def _leaf_of(part: email.message.Message, prefix: str, in_alternative: bool) -> tuple[BodyPart, bytes]:
    payload = part.get_payload()
    if isinstance(payload, list):
        data = b"".join(child.as_bytes() for child in payload)
    else:
        data = part.get_payload(decode=True) or b""
    # get_filename(), but without the email package's reading of RFC 2231 charsets, which raises
    # on some names (rfc2231_text).
    filename = part.get_param("filename", None, "content-disposition")
    if filename is None:
        filename = part.get_param("name", None, "content-type")
    filename = _header_text(filename).strip() if filename is not None else ""
    subject = ""
    if part.get_content_type() == "message/rfc822" and isinstance(payload, list) and payload:
        subject = _header_text(payload[0].get("Subject") or "")[:_MAX_RAW_SUBJECT_CHARS]
    leaf = BodyPart(
        part=prefix or "1",
        content_type=part.get_content_type(),
        params={key.lower(): _header_text(value) for key, value in part.get_params([])[1:]},
        content_id=str(part.get("Content-ID") or "").strip().strip("<>") or None,
        encoding="8bit",  # already decoded
        size=len(data),
        disposition=part.get_content_disposition(),
        disposition_params={"filename": filename} if filename else {},
        in_alternative=in_alternative,
        enclosed_subject=" ".join(subject.split()),
    )
    return leaf, data


def record_from_bytes(raw: bytes, place: Place, own_addresses: frozenset[str] = frozenset()) -> MessageRecord:
    """The record of a message whose bytes are in hand (one this side wrote and sent), numbered
    as the server will number its parts, so that it is the same record a later sync reads."""
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    header_bytes = raw if end < 0 else raw[: end + 2]
    warnings = []
    try:
        leaves = list(_leaves(email.message_from_bytes(raw, policy=policy.compat32)))
    except RecursionError:  # the email package parses nested multiparts by recursion
        warnings.append("MIME parts nested too deep to read: body not shown")
        leaves = []
    data = {leaf.part: payload for leaf, payload in leaves}
    body, attachments = plan_parts([leaf for leaf, _payload in leaves])
    return build_record(
        header_bytes,
        [(leaf, data[leaf.part]) for leaf in body],
        [attachment_of(leaf) for leaf in attachments],
        place._replace(size=place.size or len(raw)),
        own_addresses,
        warnings,
    )
