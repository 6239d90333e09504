"""The one module that owns the IMAP socket: connect, log in, every IMAP command the engine sends,
and the mapping of failures to engine errors. No other module touches imapclient or imaplib.

imapclient does the commands it parses well (SELECT, STATUS, LIST, STORE, MOVE, APPEND ...). Three
things it cannot do are done on its imaplib connection (``IMAPClient._imap``) here, and only here:
reading FETCH and SEARCH answers fast (``_read_responses``), pipelining FETCH commands, and reading
untagged responses and response codes it drops (VANISHED; COPYUID sent untagged by MOVE). They rely
on the imaplib internals named in ``IMAPLIB_INTERNALS``, which tests/test_connection.py checks, and
pyproject.toml bounds imapclient to the major version they were read from.

IDLE on many accounts at once (``idle.py``) needs the bare socket of a logged-in connection:
``open_socket`` logs in here and hands it over.
"""

from __future__ import annotations

import contextlib
import datetime
import imaplib
import itertools
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.imapclient import SocketTimeout

from .errors import (
    AuthenticationFailed,
    FolderError,
    MailSyncError,
    RunDeadlineReached,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
    says_throttled,
)
from .imap_response import as_text, parse_esearch, parse_fetch, sequence_set
from .tls import client_context
from .types import ConnectionSettings, Security

_logger = logging.getLogger(__name__)

# What this module uses of imaplib.IMAP4 beyond its public API (see the module docstring).
IMAPLIB_INTERNALS = ("_command", "_append_untagged", "untagged_responses", "tagged_commands", "debug")
# The connection is gone: nothing more can be asked on it. (imapclient's errors are imaplib's.)
CONNECTION_LOST = (imaplib.IMAP4.abort, OSError)
# The server answered NO or BAD to one command; the connection is still good. Catch
# CONNECTION_LOST first: imaplib's abort is a kind of its error.
COMMAND_REFUSED = (imaplib.IMAP4.error,)
# Response codes of a refused login that say the server, not the password, is at fault (RFC 5530).
TEMPORARY_LOGIN_CODES = ("UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT")
# What an answer line holds besides its UIDs ("* ESEARCH (TAG "A123") UID ALL ", CRLF), with room.
_ANSWER_OVERHEAD = 200
# UID SEARCH commands sent before their answers are read (a folder searched in UID ranges).
_SEARCHES_AT_ONCE = 8


def _server_text(error: BaseException) -> str:
    text = error.args[0] if error.args else str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    # imapclient wraps server answers as str(bytes): "b'[AUTHENTICATIONFAILED] ...'".
    return re.sub(r"""^b(['"])(.*)\1$""", r"\2", str(text).strip())


_LITERAL_RE = re.compile(rb"\{(\d+)\+?\}$")


def _read_responses(  # noqa: C901, PLR0912 - the hot loop of a big sync: no call per line
    imap: imaplib.IMAP4, tags: Sequence[bytes]
) -> tuple[list, dict[bytes, str]]:
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


def translate_error(  # noqa: PLR0911 - one return per kind of failure: a table read top down
    error: BaseException, settings: ConnectionSettings
) -> MailSyncError:
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
    if isinstance(error, ConnectionError | OSError) and not isinstance(error, imaplib.IMAP4.error):
        return ServerUnreachable(f"Could not connect to {where}: {error.strerror or error}.")
    text = _server_text(error)
    if says_throttled(text):
        return Throttled(f"{where} asks to slow down: {text}")
    if isinstance(error, LoginError) or "AUTHENTICATIONFAILED" in text.upper():
        return _login_refused(where, settings.login, text)
    if isinstance(error, imaplib.IMAP4.abort):
        return ServerRefused(f"{where} closed the connection: {text}")
    return ServerRefused(f"{where} refused: {text}")


def _login_refused(where: str, login: str, text: str) -> MailSyncError:
    if any(f"[{code}]" in text.upper() for code in TEMPORARY_LOGIN_CODES):
        # The server cannot check the password now (RFC 5530): no reason to ask for another one.
        return ServerRefused(f"{where} could not log in {login} for now: {text}")
    return AuthenticationFailed(f"{where} refused the login of {login}: {text}")


def max_answer_line() -> int:
    """The longest line imaplib reads (its _MAXLINE, 1,000,000 bytes): it refuses the answer and
    drops the connection beyond. Read at each use, so a test may lower it."""
    return getattr(imaplib, "_MAXLINE", 1_000_000)


class RunDeadline:
    """When a whole run must be over. The read timeout bounds one read, and a server that trickles
    a byte every few seconds never trips it: at the deadline a timer shuts the socket, so that
    whatever read or write waits on it ends at once, and the connection's errors say why."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._timer: threading.Timer | None = None
        self.reached = False

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` at the deadline (at once if it has passed); once per run."""
        if self._timer is not None:
            return
        self._timer = threading.Timer(max(self._at - time.monotonic(), 0.0), self._reach, (sock,))
        self._timer.name = "mail-sync-run-deadline"
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def error(self) -> RunDeadlineReached:
        return RunDeadlineReached.after(self.seconds)

    def _reach(self, sock: socket.socket) -> None:
        self.reached = True
        _logger.info("Run deadline of %s s reached: closing the connection", self.seconds)
        with contextlib.suppress(OSError):
            # socket.socket's own shutdown: an SSLSocket's would unwrap it under the reading thread.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Mailbox:
    """A logged-in IMAP connection. Use ``connect()``.

    Commands raise the protocol's own errors: run them inside ``errors()``, ``folder_errors()``
    or ``refusals()``, which say how a failure reads to the user.
    """

    def __init__(self, client: IMAPClient, settings: ConnectionSettings, deadline: RunDeadline | None = None):
        self._client = client
        self._imap = client._imap  # see the module docstring
        self.settings = settings
        self._deadline = deadline
        self._forget_selection()
        # imapclient sets imaplib's debug level to 5, which formats the repr of every line and
        # literal read (whole message bodies) before the logger drops it: only when wanted.
        if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
            self._imap.debug = 0
        if deadline is not None:
            deadline.watch(client.socket())
        try:
            with self.errors():
                self.capabilities = frozenset(c.decode().upper() for c in client.capabilities())
                self.condstore = settings.use_condstore and "CONDSTORE" in self.capabilities
                self.qresync = self.condstore and "QRESYNC" in self.capabilities
                if self.condstore:
                    # Must come before the first SELECT, or HIGHESTMODSEQ is silently missing.
                    self._client.enable(*(["CONDSTORE", "QRESYNC"] if self.qresync else ["CONDSTORE"]))
        except BaseException:
            if deadline is not None:
                deadline.cancel()
            raise

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    # -- how failures read ---------------------------------------------------------------------

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Run protocol calls, re-raising their failures as engine errors."""
        try:
            yield
        except MailSyncError:
            raise
        except (OSError, imaplib.IMAP4.error) as error:
            if self._deadline is not None and self._deadline.reached:
                raise self._deadline.error() from error
            raise translate_error(error, self.settings) from error

    @contextlib.contextmanager
    def folder_errors(self, folder: str) -> Iterator[None]:
        """A NO or BAD about this folder becomes FolderError; losing the connection stays fatal."""
        try:
            with self.errors():
                yield
        except MailSyncError as error:
            if _refused(error.__cause__):
                raise FolderError(f"Folder {folder!r} could not be read: {error}") from error.__cause__
            raise

    @contextlib.contextmanager
    def refusals(self, what: str) -> Iterator[None]:
        """A NO or BAD from the server becomes FolderError("<what> was refused: <server's words>");
        a lost connection, a timeout or throttling keep their own errors."""
        try:
            with self.errors():
                yield
        except ServerRefused as error:
            if type(error) is ServerRefused and _refused(error.__cause__):
                raise FolderError(f"{what} was refused: {error}") from error.__cause__
            raise

    # -- folders -------------------------------------------------------------------------------

    def list_folders(self) -> list[tuple[tuple[str, ...], str, str]]:
        """LIST "" "*": (attributes, delimiter, name) per folder, names decoded from modified UTF-7."""
        return [
            (tuple(as_text(flag) for flag in flags), as_text(delimiter), as_text(name))
            for flags, delimiter, name in self._client.list_folders()
        ]

    def folder_exists(self, folder: str) -> bool:
        return self._client.folder_exists(folder)

    def personal_namespace(self) -> str:
        """The prefix of the user's own folders ("INBOX." on servers that keep them under INBOX)."""
        personal = self._client.namespace().personal
        return (personal[0][0] or "") if personal else ""

    def create_folder(self, folder: str) -> None:
        self._client.create_folder(folder)

    def subscribe_folder(self, folder: str) -> None:
        self._client.subscribe_folder(folder)

    def status(self, folder: str, items: Sequence[str]) -> dict[bytes, int]:
        """STATUS of a folder that need not be selected: {b"UIDNEXT": 12, ...}."""
        return self._client.folder_status(folder, items)

    def select(self, folder: str, *, readonly: bool = False) -> dict[bytes, Any]:
        """SELECT, or EXAMINE with ``readonly``: what the server said (UIDVALIDITY, EXISTS ...)."""
        self._forget_selection()
        selected = self._client.select_folder(folder, readonly=readonly)
        self._exists = selected.get(b"EXISTS") or 0
        self._uidnext = selected.get(b"UIDNEXT")
        return selected

    def _forget_selection(self) -> None:
        # What the UID searches of the selected folder are sized from (see ``uid_ranges``).
        self._exists: int | None = None
        self._uidnext: int | None = None
        self._span: tuple[int, int] | None = None
        self._span_asked = False

    def unselect(self) -> None:
        """Leave a folder opened with ``readonly`` (a CLOSE there expunges nothing); never fails."""
        self._forget_selection()
        with contextlib.suppress(MailSyncError), self.errors():
            if self.has("UNSELECT"):
                self._client.unselect_folder()
            else:
                self._client.close_folder()

    def leave_folder(self, folder: str) -> None:
        """Leave the selected folder without CLOSE, which would expunge every \\Deleted message."""
        self._forget_selection()
        with contextlib.suppress(MailSyncError), self.errors():
            if self.has("UNSELECT"):
                self._client.unselect_folder()
            else:
                # SELECT of another mailbox closes the first without expunging (RFC 3501 6.3.1); a
                # CLOSE of a read-only one expunges nothing.
                self._client.select_folder(folder, readonly=True)
                self._client.close_folder()
        # What the server said of our own change must not be read later as another client's.
        self.discard_untagged("VANISHED", "EXPUNGE")

    # -- searching and reading -----------------------------------------------------------------

    def search(self, criteria: Sequence[str]) -> list[int]:
        """UID SEARCH with criteria imapclient quotes (a Message-ID, a subject), the UIDs found."""
        return list(self._client.search(list(criteria)))

    def search_uids(self, *criteria: str, low: int | None = None, high: int | None = None) -> list[int]:
        """UID SEARCH of the selected folder with simple atoms (ALL, SINCE 1-Nov-2026), the UIDs
        in order; with ``low`` or ``high``, only those from ``low`` up to ``high`` (by default the
        highest UID when the folder was selected: later mail is the next sync's).

        However big the folder, no answer line may pass imaplib's limit (``max_answer_line``;
        300,000 UIDs do): the search runs in the UID ranges of ``uid_ranges``, each of which
        cannot list more. With ESEARCH (RFC 4731) the answers are ranges ("1:300000"), short
        even then. Plain answers are read as lines of digits: imapclient's reader would build a
        token per UID, which on a folder of 100,000 messages costs more memory than the whole sync.
        """
        if self._exists is None:  # no folder selected through ``select``: one plain search
            bounds = [f"{low or 1}:{high or '*'}"] if low or high else []
            return self._search_in([["UID", *bounds]] if bounds else [[]], criteria, low, high)
        ranges = self.uid_ranges(low, high)
        if ranges == [(1, self._highest())] and low is None and high is None:
            return self._search_in([[]], criteria, None, None)  # the whole folder: no UID bounds
        found: list[int] = []
        for start in range(0, len(ranges), _SEARCHES_AT_ONCE):
            window = ranges[start : start + _SEARCHES_AT_ONCE]
            found.extend(self._search_in([["UID", f"{a}:{b}"] for a, b in window], criteria, low, high))
        found.sort()
        if any(a == b for a, b in itertools.pairwise(found)):
            found = sorted(set(found))
        return found

    def uid_ranges(
        self, low: int | None = None, high: int | None = None, *, present: bool = True
    ) -> list[tuple[int, int]]:
        """The UIDs from ``low`` to ``high`` of the selected folder (by default 1 and its highest
        at SELECT) cut into ranges none of whose answers can pass imaplib's line limit.

        A range of a folder's ``present`` messages lists at most as many UIDs as the folder holds;
        with ``present=False`` (expunged UIDs: VANISHED) at most as many as it spans. Most folders
        are one range, at no cost. A bigger one is cut into ranges of as many UIDs as one line
        carries; for its present messages, that costs one more round trip (its lowest and
        highest UID), and what lies beyond them is one range each side, which lists nothing.
        """
        high = self._highest() if high is None else high
        low = 1 if low is None else low
        if low > high:
            return []
        per_line = (max_answer_line() - _ANSWER_OVERHEAD) // (len(str(high)) + 1)
        if min(self._exists if present and self._exists is not None else high, high - low + 1) <= per_line:
            return [(low, high)]
        first, last = low, high
        if present:
            span = self.uid_span()
            first, last = (max(low, span[0]), min(high, span[1])) if span else (low, low - 1)
            if first > last:
                return [(low, high)]  # no message in it: an empty answer
        ranges = [(start, min(start + per_line - 1, last)) for start in range(first, last + 1, per_line)]
        if first > low:
            ranges.insert(0, (low, first - 1))
        if last < high:
            ranges.append((last + 1, high))
        return ranges

    def uid_span(self) -> tuple[int, int] | None:
        """The lowest and the highest UID of the selected folder; None when it is empty.

        ESEARCH MIN MAX where the server has it, else FETCH 1,* (UID): one round trip, once per
        selection. Also what stands for UIDNEXT where SELECT gives none (Courier).
        """
        if self._span_asked:
            return self._span
        span = None
        if self._exists != 0 and self.has("ESEARCH"):
            found: dict[bytes, bytes] = {}
            for line in self._untagged_answer("ESEARCH", "UID", "SEARCH", "RETURN", "(MIN MAX)", "ALL"):
                found.update(parse_esearch(line))
            if found.get(b"MIN", b"").isdigit() and found.get(b"MAX", b"").isdigit():
                span = int(found[b"MIN"]), int(found[b"MAX"])
        elif self._exists != 0:
            tag = self._imap._command("FETCH", "1,*", "(UID)")
            pieces, refused = _read_responses(self._imap, [tag])
            if refused:
                raise imaplib.IMAP4.error(refused[tag])
            uids = parse_fetch(pieces)
            span = (min(uids), max(uids)) if uids else None
        if self._exists is not None:
            self._span, self._span_asked = span, True
        return span

    def highest_uid(self) -> int:
        """The highest UID in the selected folder, 0 when it is empty (see ``uid_span``)."""
        span = self.uid_span()
        return span[1] if span else 0

    def _highest(self) -> int:
        """The highest UID a search of the selected folder looks at: below UIDNEXT at SELECT."""
        return self._uidnext - 1 if self._uidnext else self.highest_uid()

    def _search_in(
        self, bounds: list[list[str]], criteria: Sequence[str], low: int | None, high: int | None
    ) -> list[int]:
        """One UID SEARCH per UID bound (sent at once, read together): the UIDs found, unsorted."""
        esearch = self.has("ESEARCH")
        kind = "ESEARCH" if esearch else "SEARCH"
        returns = ["RETURN", "(ALL)"] if esearch else []
        self._imap.untagged_responses.pop(kind, None)
        tags = [self._imap._command("UID", "SEARCH", *returns, *bound, *criteria) for bound in bounds]
        _pieces, refused = _read_responses(self._imap, tags)
        if refused:
            raise imaplib.IMAP4.error(next(iter(refused.values())))
        found: list[int] = []
        for line in self._imap.untagged_responses.pop(kind, []):
            if esearch:
                found.extend(sequence_set(parse_esearch(line).get(b"ALL", b"")))
            else:
                found.extend(int(uid) for uid in line.split() if uid.isdigit())
        # `n:*` names the highest UID even below n (RFC 3501 6.4.8): keep to what was asked.
        if low or high:
            found = [uid for uid in found if (low or 0) <= uid <= (high or uid)]
        return found

    def vanished_since(self, low: int, high: int, modseq: int) -> set[int]:
        """UIDs in low:high expunged since ``modseq`` (QRESYNC, RFC 7162 3.2.10).

        imapclient neither sends a UID range to FETCH nor reads VANISHED responses.
        """
        lines = self._untagged_answer(
            "VANISHED", "UID", "FETCH", f"{low}:{high}", "(UID)", f"(CHANGEDSINCE {modseq} VANISHED)"
        )
        uids: set[int] = set()
        for line in lines:
            for piece in as_text(line).replace("(EARLIER)", "").split(","):
                first, _, last = piece.strip().partition(":")
                if first.isdigit():
                    uids.update(range(int(first), int(last or first) + 1))
        return uids

    def fetch(self, uids: Sequence[int], items: Sequence[str]) -> dict[int, dict[bytes, Any]]:
        """UID FETCH in the selected folder, read by imap_response: {UID: {ITEM: value}}.

        Only the UIDs asked for come back (servers may add unsolicited FETCH data for others).
        """
        if not uids:
            return {}
        data, refused = self.collect(uids, [self.send_fetch(uids, items)])
        if refused:
            raise imaplib.IMAP4.error(next(iter(refused.values())))
        return data

    def send_fetch(self, uids: Sequence[int], items: Sequence[str]) -> bytes:
        """Send a UID FETCH without waiting: the server works while we do. Finish with ``collect``."""
        # imapclient's response reader is the bottleneck of a big sync, and it cannot pipeline.
        return self._imap._command("UID", "FETCH", uid_set(uids), f"({' '.join(items)})")

    def collect(
        self, uids: Collection[int], tags: Sequence[bytes]
    ) -> tuple[dict[int, dict[bytes, Any]], dict[bytes, str]]:
        """Wait for FETCH commands sent with ``send_fetch``; their data for ``uids``, and the
        server's text for each tag it refused (the others' data is still good)."""
        pieces, refused = _read_responses(self._imap, tags)
        wanted = set(uids)
        return {uid: values for uid, values in parse_fetch(pieces).items() if uid in wanted}, refused

    def get_flags(self, uids: Sequence[int]) -> dict[int, set[str]]:
        """The flags of each UID still in the selected folder."""
        return {uid: {as_text(flag) for flag in flags} for uid, flags in self._client.get_flags(uids).items()}

    def discard_untagged(self, *names: str) -> None:
        """Forget stored untagged responses of these kinds (FETCH, VANISHED, EXPUNGE ...), so that
        what an earlier command left is not read as the answer to a later one."""
        for name in names:
            self._imap.untagged_responses.pop(name, None)

    # -- changing the mailbox ------------------------------------------------------------------

    def add_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        self._client.add_flags(uids, flags, silent=True)

    def remove_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        self._client.remove_flags(uids, flags, silent=True)

    def uid_expunge(self, uids: Sequence[int]) -> None:
        """UID EXPUNGE (UIDPLUS): removes these \\Deleted messages alone."""
        self._client.uid_expunge(uids)

    def move(self, uids: Sequence[int], folder: str) -> tuple[int, int] | None:
        """UID MOVE; (UIDVALIDITY, UID) in ``folder`` when the server says (COPYUID)."""
        self._response_codes("COPYUID")  # drop any stale one
        self._client.move(uids, folder)
        return _copied_uid(self._response_codes("COPYUID"))

    def copy(self, uids: Sequence[int], folder: str) -> tuple[int, int] | None:
        """UID COPY; (UIDVALIDITY, UID) in ``folder`` when the server says (COPYUID)."""
        self._response_codes("COPYUID")
        self._client.copy(uids, folder)
        return _copied_uid(self._response_codes("COPYUID"))

    def append(
        self, folder: str, data: bytes, flags: Sequence[str], msg_time: datetime.datetime | None
    ) -> tuple[int, int] | None:
        """APPEND; (UIDVALIDITY, UID) of the new message when the server says (APPENDUID)."""
        self._response_codes("APPENDUID")
        self._client.append(folder, data, flags=flags, msg_time=msg_time)
        for value in self._response_codes("APPENDUID"):
            validity, _, uid = value.partition(" ")
            if validity.isdigit() and uid.isdigit():
                return int(validity), int(uid)
        return None

    def close(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self._deadline is None or not self._deadline.reached:
            with contextlib.suppress(Exception):
                self._client.logout()
        with contextlib.suppress(Exception):
            self._client.shutdown()

    # -- imaplib underneath ------------------------------------------------------------------

    def _untagged_answer(self, kind: str, *command: str) -> list:
        """Send ``command`` and wait for it; the untagged responses of ``kind`` it brought."""
        self._imap.untagged_responses.pop(kind, None)
        tag = self._imap._command(*command)
        _pieces, refused = _read_responses(self._imap, [tag])
        if refused:
            raise imaplib.IMAP4.error(refused[tag])
        return self._imap.untagged_responses.pop(kind, [])

    def _response_codes(self, name: str) -> list[str]:
        """The data of the response code ``name`` (COPYUID, APPENDUID) since it was last taken.

        imaplib keeps the codes of tagged and untagged answers; imapclient returns only the tagged
        text, and MOVE sends its COPYUID untagged (RFC 6851).
        """
        return [as_text(value) for value in self._imap.untagged_responses.pop(name, [])]


def _refused(cause: BaseException | None) -> bool:
    """A NO or BAD answer, as opposed to a lost connection."""
    return isinstance(cause, COMMAND_REFUSED) and not isinstance(cause, CONNECTION_LOST)


def _copied_uid(codes: list[str]) -> tuple[int, int] | None:
    """(UIDVALIDITY, UID) in the target folder, from COPYUID (RFC 4315; MOVE sends it too)."""
    for value in codes:
        parts = value.split()
        if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit():
            return int(parts[0]), int(parts[2])
    return None


def _open(settings: ConnectionSettings) -> IMAPClient:
    timeout = SocketTimeout(connect=settings.connect_timeout, read=settings.read_timeout)
    context = client_context(settings.verify_certificate) if settings.security != Security.NONE else None
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
    password = settings.password or ""
    if settings.oauth_token:
        client.oauth2_login(settings.login, settings.oauth_token)
    elif settings.login.isascii() and password.isascii():
        client.login(settings.login, password)
    else:
        _login_in_utf8(client, settings.login, password, f"{settings.host}:{settings.port}")


def _login_in_utf8(client: IMAPClient, login: str, password: str, where: str) -> None:
    """AUTHENTICATE PLAIN (RFC 4616), which carries a login and a password in UTF-8: LOGIN takes
    ASCII alone (imaplib cannot even send it other characters)."""
    if "AUTH=PLAIN" not in {capability.decode().upper() for capability in client.capabilities()}:
        raise AuthenticationFailed(
            f"{where} cannot take a login or password with non-ASCII characters: it does not offer "
            "AUTHENTICATE PLAIN. Use a password of ASCII characters alone, or ask its administrator."
        )
    client.plain_login(login, password)


@dataclass(frozen=True, slots=True)
class LoggedInSocket:
    """A logged-in connection whose further protocol the caller speaks itself on ``sock``; the
    server has nothing pending on it (it answers LOGIN and then waits). Close with ``close()``."""

    sock: socket.socket
    capabilities: frozenset[str]
    _client: IMAPClient

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.shutdown()


def _logged_in(settings: ConnectionSettings, then=None, deadline: RunDeadline | None = None):
    """A client connected, secured and logged in, and ``then(client)``'s result if given; on any
    failure the connection is shut and the error said in our terms (see ``connect``). The
    ``deadline`` watches the socket from the start: a server trickling its greeting or its answer
    to LOGIN is dropped at it too."""
    client = None
    try:
        client = _open(settings)
        if deadline is not None:
            deadline.watch(client.socket())
        _login(client, settings)
        return client, then(client) if then else None
    except Exception as error:
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()
        if deadline is not None:
            deadline.cancel()
            if deadline.reached:
                raise deadline.error() from error
        if isinstance(error, OSError | imaplib.IMAP4.error | MailSyncError):
            raise translate_error(error, settings) from error
        raise


def open_socket(settings: ConnectionSettings) -> LoggedInSocket:
    """Connect, secure and log in, as ``connect`` does, and hand over the socket (blocking, with
    the settings' timeouts). Raises the same errors as ``connect``."""
    client, capabilities = _logged_in(
        settings, lambda client: frozenset(c.decode().upper() for c in client.capabilities())
    )
    return LoggedInSocket(client.socket(), capabilities, client)


@contextlib.contextmanager
def connect(settings: ConnectionSettings, *, run_deadline: float | None = None) -> Iterator[Mailbox]:
    """Connect, secure, log in; always log out at the end.

    ``run_deadline``: seconds from now after which the connection is dropped, whatever it is
    doing, and every call on it raises RunDeadlineReached (a Timeout): a server trickling its
    answers cannot hold the caller longer. None: only each read is bounded (``read_timeout``).

    Raises ServerUnreachable, TlsFailure, AuthenticationFailed, Throttled, ServerRefused or Timeout.
    """
    deadline = RunDeadline(run_deadline) if run_deadline is not None else None
    _client, mailbox = _logged_in(settings, lambda client: Mailbox(client, settings, deadline), deadline)
    try:
        yield mailbox
    finally:
        mailbox.close()
