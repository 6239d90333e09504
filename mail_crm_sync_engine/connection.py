"""The one module that owns the IMAP socket: connect, log in, and turn failures into engine errors."""

from __future__ import annotations

import contextlib
import functools
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import SocketTimeout

from .errors import (
    AuthenticationFailed,
    MailSyncError,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
)
from .imap_response import parse_fetch
from .types import ConnectionSettings, Security

_logger = logging.getLogger(__name__)

# Words servers use when they throttle (Gmail, Microsoft 365, Dovecot's anvil).
_THROTTLE_MARKERS = (
    "[THROTTLED]",
    "too many simultaneous",
    "throttl",
    "[limit]",
    "maximum number of connections",
)


@functools.lru_cache(maxsize=2)
def _ssl_context(verify_certificate: bool) -> ssl.SSLContext:
    """One context per process and setting: loading the system's certificate authorities takes
    about 30 ms, which every poll of every account paid when it was made per connection."""
    context = ssl.create_default_context()
    if not verify_certificate:
        # The user's explicit, per-account opt-in for self-signed or expired certificates.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _server_text(error: BaseException) -> str:
    text = error.args[0] if error.args else str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    # imapclient wraps server answers as str(bytes): "b'[AUTHENTICATIONFAILED] ...'".
    return re.sub(r"""^b(['"])(.*)\1$""", r"\2", str(text).strip())


_LITERAL_RE = re.compile(rb"\{(\d+)\+?\}$")


def _read_responses(imap: imaplib.IMAP4, tags: Sequence[bytes]) -> tuple[list, dict[bytes, str]]:
    """Read until every tag has completed: the FETCH data (as imaplib would store it, without
    the word FETCH) and the server's text for each refused tag.

    imaplib's own reader matches several patterns and logs on every line; a big sync reads
    millions of lines. Other untagged responses are handed to imaplib as it would have stored them.
    """
    pending = set(tags)
    refused: dict[bytes, str] = {}
    pieces: list = []
    while pending:
        line = imap.readline()
        if not line.endswith(b"\n"):
            raise imaplib.IMAP4.abort("socket error: EOF" if not line else "line too long")
        line = line.rstrip(b"\r\n")
        if line.startswith(b"* "):
            response = [line[2:]]
            while match := _LITERAL_RE.search(response[-1] if not isinstance(response[-1], tuple) else b""):
                literal = imap.read(int(match.group(1)))
                response[-1] = (response[-1], literal)
                response.append(imap.readline().rstrip(b"\r\n"))
            first = response[0][0] if isinstance(response[0], tuple) else response[0]
            number, _, rest = first.partition(b" ")
            if number.isdigit() and rest.startswith(b"FETCH "):
                shortened = number + b" " + rest[6:]
                response[0] = (shortened, response[0][1]) if isinstance(response[0], tuple) else shortened
                pieces.extend(response)
                continue
            # Stored as imaplib stores them: "* 3 EXISTS" as EXISTS: b"3", "* VANISHED 5" as VANISHED: b"5".
            if number.isdigit():
                word, _, data = rest.partition(b" ")
                data = number + (b" " + data if data else b"")
            else:
                word, data = number, rest
            kind = word.decode("ascii", "replace").upper()
            if kind == "BYE":
                raise imaplib.IMAP4.abort(first.decode("utf-8", "replace"))
            response[0] = (data, response[0][1]) if isinstance(response[0], tuple) else data
            for piece in response:
                imap._append_untagged(kind, piece)
        elif line.startswith(b"+"):
            raise imaplib.IMAP4.abort(f"unexpected continuation: {line[:80]!r}")
        else:
            tag, _, rest = line.partition(b" ")
            if tag not in pending:
                raise imaplib.IMAP4.abort(f"unexpected tagged response: {line[:80]!r}")
            pending.discard(tag)
            imap.tagged_commands.pop(tag, None)
            status, _, text = rest.partition(b" ")
            if status.upper() != b"OK":
                refused[tag] = text.decode("utf-8", "replace")
    return pieces, refused


def uid_set(uids: Sequence[int]) -> str:
    """1,2,3,7,8 -> "1:3,7:8": short commands for long batches."""
    ranges = []
    ordered = sorted(set(uids))
    start = previous = ordered[0]
    for uid in ordered[1:]:
        if uid != previous + 1:
            ranges.append(f"{start}:{previous}" if previous != start else str(start))
            start = uid
        previous = uid
    ranges.append(f"{start}:{previous}" if previous != start else str(start))
    return ",".join(ranges)


def translate_error(error: BaseException, settings: ConnectionSettings) -> MailSyncError:
    """Map what imaplib, ssl and socket raise to the engine's few typed errors."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(error, MailSyncError):
        return error
    if isinstance(error, ssl.SSLCertVerificationError):
        return TlsFailure(
            f"The certificate of {where} could not be verified ({error.verify_message}). "
            "If you trust this server, allow its certificate explicitly."
        )
    if isinstance(error, ssl.SSLError):
        return TlsFailure(f"The secure connection to {where} failed: {error.reason or error}.")
    if isinstance(error, socket.timeout | TimeoutError):
        return Timeout(f"{where} did not answer in time.")
    if isinstance(error, socket.gaierror):
        return ServerUnreachable(f"The server name {settings.host} could not be resolved.")
    if isinstance(error, ConnectionError | OSError) and not isinstance(error, IMAPClientError):
        return ServerUnreachable(f"Could not connect to {where}: {error.strerror or error}.")
    text = _server_text(error)
    if any(marker in text.lower() for marker in (m.lower() for m in _THROTTLE_MARKERS)):
        return Throttled(f"{where} asks to slow down: {text}")
    if isinstance(error, LoginError) or "AUTHENTICATIONFAILED" in text.upper():
        return AuthenticationFailed(f"{where} refused the login of {settings.login}: {text}")
    if isinstance(error, IMAPClientAbortError | imaplib.IMAP4.abort):
        return ServerRefused(f"{where} closed the connection: {text}")
    return ServerRefused(f"{where} refused: {text}")


class Mailbox:
    """A logged-in IMAP connection. Use ``connect()``; every call maps errors to engine errors."""

    def __init__(self, client: IMAPClient, settings: ConnectionSettings):
        self.client = client
        self.settings = settings
        # imapclient sets imaplib's debug level to 5, which formats the repr of every line and
        # literal read (whole message bodies) before the logger drops it: only when wanted.
        if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
            client._imap.debug = 0
        self.capabilities = frozenset(c.decode().upper() for c in client.capabilities())
        self.condstore = settings.use_condstore and "CONDSTORE" in self.capabilities
        self.qresync = self.condstore and "QRESYNC" in self.capabilities
        if self.condstore:
            # Must come before the first SELECT, or HIGHESTMODSEQ is silently missing.
            self.client.enable(*(["CONDSTORE", "QRESYNC"] if self.qresync else ["CONDSTORE"]))

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    def fetch(self, uids: Sequence[int], items: Sequence[str]) -> dict[int, dict[bytes, Any]]:
        """UID FETCH in the selected folder, read by imap_response: {UID: {ITEM: value}}.

        Only the UIDs asked for come back (servers may add unsolicited FETCH data for others).
        Raises the protocol's own errors; wrap calls in ``errors()``.
        """
        if not uids:
            return {}
        data, refused = self.collect(uids, [self.send_fetch(uids, items)])
        if refused:
            raise imaplib.IMAP4.error(next(iter(refused.values())))
        return data

    def send_fetch(self, uids: Sequence[int], items: Sequence[str]) -> bytes:
        """Send a UID FETCH without waiting: the server works while we do. Finish with ``collect``."""
        imap = self.client._imap  # imapclient's response reader is the bottleneck of a big sync
        return imap._command("UID", "FETCH", uid_set(uids), f"({' '.join(items)})")

    def collect(
        self, uids: Collection[int], tags: Sequence[bytes]
    ) -> tuple[dict[int, dict[bytes, Any]], dict[bytes, str]]:
        """Wait for FETCH commands sent with ``send_fetch``; their data for ``uids``, and the
        server's text for each tag it refused (the others' data is still good)."""
        pieces, refused = _read_responses(self.client._imap, tags)
        wanted = set(uids)
        return {uid: values for uid, values in parse_fetch(pieces).items() if uid in wanted}, refused

    def search_uids(self, *criteria: str) -> list[int]:
        """UID SEARCH with simple atoms (ALL, UID 5:*, SINCE 1-Nov-2026), the UIDs in order.

        Read as one line of digits: imapclient's reader would build a token per UID, which on a
        folder of 100,000 messages costs more memory than the whole sync.
        """
        imap = self.client._imap
        imap.untagged_responses.pop("SEARCH", None)
        tag = imap._command("UID", "SEARCH", *criteria)
        _pieces, refused = _read_responses(imap, [tag])
        if refused:
            raise imaplib.IMAP4.error(refused[tag])
        lines = imap.untagged_responses.pop("SEARCH", [])
        return sorted({int(uid) for line in lines for uid in line.split() if uid.isdigit()})

    def vanished_since(self, low: int, high: int, modseq: int) -> set[int]:
        """UIDs in low:high expunged since ``modseq`` (QRESYNC, RFC 7162 3.2.10).

        imapclient neither sends a UID range to FETCH nor reads VANISHED responses.
        """
        imap = self.client._imap
        imap.untagged_responses.pop("VANISHED", None)
        tag = imap._command("UID", "FETCH", f"{low}:{high}", "(UID)", f"(CHANGEDSINCE {modseq} VANISHED)")
        _pieces, refused = _read_responses(imap, [tag])
        if refused:
            raise imaplib.IMAP4.error(refused[tag])
        uids: set[int] = set()
        for line in imap.untagged_responses.pop("VANISHED", []):
            text = line.decode("ascii", "replace") if isinstance(line, bytes) else str(line)
            for piece in text.replace("(EARLIER)", "").split(","):
                first, _, last = piece.strip().partition(":")
                if first.isdigit():
                    uids.update(range(int(first), int(last or first) + 1))
        return uids

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Run protocol calls, re-raising their failures as engine errors."""
        try:
            yield
        except MailSyncError:
            raise
        except (OSError, imaplib.IMAP4.error, IMAPClientError) as error:
            raise translate_error(error, self.settings) from error

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()
        with contextlib.suppress(Exception):
            self.client.shutdown()


def _open(settings: ConnectionSettings) -> IMAPClient:
    timeout = SocketTimeout(connect=settings.connect_timeout, read=settings.read_timeout)
    context = _ssl_context(settings.verify_certificate) if settings.security != Security.NONE else None
    client = IMAPClient(
        settings.host,
        port=settings.port,
        ssl=settings.security == Security.SSL,
        ssl_context=context,
        timeout=timeout,
    )
    if settings.security == Security.STARTTLS:
        client.starttls(context)
    return client


def _login(client: IMAPClient, settings: ConnectionSettings) -> None:
    if settings.oauth_token:
        client.oauth2_login(settings.login, settings.oauth_token)
    else:
        client.login(settings.login, settings.password or "")


@contextlib.contextmanager
def connect(settings: ConnectionSettings) -> Iterator[Mailbox]:
    """Connect, secure, log in; always log out at the end.

    Raises ServerUnreachable, TlsFailure, AuthenticationFailed, Throttled, ServerRefused or Timeout.
    """
    client = None
    try:
        client = _open(settings)
        _login(client, settings)
        mailbox = Mailbox(client, settings)
    except Exception as error:
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()
        if isinstance(error, OSError | imaplib.IMAP4.error | IMAPClientError | MailSyncError):
            raise translate_error(error, settings) from error
        raise
    try:
        yield mailbox
    finally:
        mailbox.close()
