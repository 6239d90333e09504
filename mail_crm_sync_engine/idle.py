"""IDLE on the INBOX of many accounts from one thread: new mail is known within seconds.

A watcher holds one connection per watched account, each in IDLE (RFC 2177) on the INBOX, and
waits on all of their sockets at once with ``selectors``: a thousand accounts are a thousand
sockets in one thread, not a thousand threads. Logging in is the one blocking step (TLS, LOGIN or
XOAUTH2, with the settings' timeouts): a small fixed pool of threads does it, through
``connection.open_socket``, and hands the socket over; from then on the watcher speaks the little
protocol it needs itself (EXAMINE, IDLE, DONE) without ever blocking on a read.

The watcher only says which accounts have new mail: reading it is the regular sync's work.

    watcher = IdleWatcher()
    watcher.watch("account 7", lambda: settings)   # settings are asked for at every (re)connect
    while running:
        for key in watcher.poll(1.0):               # keys whose INBOX got new mail
            ...
        for key, status in watcher.changes().items():  # connecting, watching, unsupported, failing
            ...
    watcher.close()

``watch``, ``unwatch``, ``poll``, ``changes`` and ``close`` are called from one thread.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import logging
import random
import re
import selectors
import socket
import ssl
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .connection import LoggedInSocket, open_socket
from .errors import MailSyncError, ServerRefused, Timeout
from .types import ConnectionSettings

_logger = logging.getLogger(__name__)

# RFC 2177: a client re-issues IDLE at least every 29 minutes, or the server may log it out.
REFRESH_INTERVAL = 29 * 60
# Waits before reconnecting after the n-th failure in a row (the last one repeats), each +-20 %.
RETRY_DELAYS = (5.0, 15.0, 60.0, 300.0, 900.0)
# A line longer than this is no answer to EXAMINE or IDLE: the connection is dropped.
MAX_LINE = 64 * 1024
_LITERAL = re.compile(rb"\{(\d+)\+?\}$")

SettingsFactory = Callable[[], ConnectionSettings]


class WatchState(enum.StrEnum):
    CONNECTING = "connecting"  # logging in, opening the INBOX
    WATCHING = "watching"  # in IDLE: new mail is reported within seconds
    UNSUPPORTED = "unsupported"  # the server offers no IDLE: the account stays on the regular sync
    FAILING = "failing"  # the connection failed; retried after a growing delay


@dataclass(frozen=True, slots=True)
class WatchStatus:
    state: WatchState
    error: str | None = None


class _Phase(enum.Enum):
    LOGIN = 1  # in the connecting pool
    EXAMINE = 2  # EXAMINE INBOX sent
    STARTING = 3  # IDLE sent, waiting for the continuation
    IDLING = 4
    DONE_SENT = 5  # DONE sent before re-issuing IDLE
    OFF = 6  # not connected: waiting to retry, or unsupported


class _Watch:
    """One account's connection and where it stands (the watcher's own bookkeeping)."""

    __slots__ = (
        "buffer",
        "connection",
        "deadline",
        "exists",
        "factory",
        "failures",
        "key",
        "login",
        "missed",
        "phase",
        "read_timeout",
        "refresh_at",
        "retry_at",
        "skip",
        "status",
        "tag",
        "version",
        "where",
    )

    def __init__(self, key: Hashable, factory: SettingsFactory, version: Hashable):
        self.key = key
        self.factory = factory
        self.version = version
        self.phase = _Phase.OFF
        self.status = WatchStatus(WatchState.CONNECTING)
        self.login: Future | None = None
        self.connection: LoggedInSocket | None = None
        self.buffer = bytearray()
        self.skip = 0  # bytes of a literal still to skip
        self.tag = b""
        self.exists: int | None = None
        self.read_timeout = 120.0
        self.deadline: float | None = None  # an answer is due by then
        self.refresh_at: float | None = None
        self.retry_at: float | None = 0.0
        self.failures = 0
        self.missed = False  # reconnected after a drop: mail may have come meanwhile
        self.where = str(key)  # for messages: the login and server, once known


class IdleWatcher:
    """Holds IDLE on the INBOX of every watched account; see the module docstring."""

    def __init__(
        self,
        *,
        refresh_interval: float = REFRESH_INTERVAL,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        login_threads: int = 4,
    ):
        self.refresh_interval = refresh_interval
        self.retry_delays = retry_delays
        self._watches: dict[Hashable, _Watch] = {}
        self._changes: dict[Hashable, WatchStatus] = {}
        self._selector = selectors.DefaultSelector()
        self._pool = ThreadPoolExecutor(login_threads, thread_name_prefix="imap-idle-login")
        self._tags = itertools.count(1)
        # The login threads wake the selector when they are done.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)

    # -- what the caller watches ----------------------------------------------------------------

    def watch(self, key: Hashable, settings: SettingsFactory, version: Hashable = None) -> None:
        """Watch the INBOX of ``key``'s account. ``settings`` is called (in a login thread) at each
        connection, so a refreshed OAuth token or a changed password is used. Watching a key again
        with another ``version`` reconnects it; with the same one, nothing changes."""
        current = self._watches.get(key)
        if current is not None:
            if current.version == version:
                return
            self.unwatch(key)
        self._watches[key] = _Watch(key, settings, version)
        self._changes[key] = self._watches[key].status

    def unwatch(self, key: Hashable) -> None:
        watch = self._watches.pop(key, None)
        self._changes.pop(key, None)
        if watch is not None:
            self._disconnect(watch, logout=True)

    def watched(self) -> set[Hashable]:
        return set(self._watches)

    def status(self, key: Hashable) -> WatchStatus | None:
        watch = self._watches.get(key)
        return watch.status if watch else None

    def changes(self) -> dict[Hashable, WatchStatus]:
        """The statuses that changed since the last call."""
        changes, self._changes = self._changes, {}
        return changes

    # -- the loop ---------------------------------------------------------------------------------

    def poll(self, timeout: float) -> set[Hashable]:
        """Wait at most ``timeout`` seconds for news; the keys whose INBOX got new mail."""
        arrived: set[Hashable] = set()
        self._run_timers(time.monotonic(), arrived)
        wait = max(0.0, min(timeout, self._next_timer() - time.monotonic()))
        for selector_key, _events in self._selector.select(wait):
            if selector_key.data is None:
                with contextlib.suppress(OSError):
                    self._wake_reader.recv(4096)
            else:
                self._read(selector_key.data, arrived)
        self._run_timers(time.monotonic(), arrived)
        return arrived

    def close(self) -> None:
        """Leave IDLE and log out of every account; stop the login threads."""
        for key in list(self._watches):
            self.unwatch(key)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    # -- timers: logins done, answers due, IDLE to re-issue, retries --------------------------------

    def _run_timers(self, now: float, arrived: set[Hashable]) -> None:
        for watch in list(self._watches.values()):
            if watch.phase is _Phase.LOGIN and watch.login.done():
                self._logged_in(watch, now)
            elif watch.phase is _Phase.OFF and watch.retry_at is not None and watch.retry_at <= now:
                self._start_login(watch)
            elif watch.deadline is not None and watch.deadline <= now:
                self._fail(watch, Timeout(f"{watch.where} did not answer in time."))
            elif watch.phase is _Phase.IDLING and watch.refresh_at <= now:
                # Leave IDLE and enter it again (RFC 2177: at least every 29 minutes).
                self._send(watch, b"DONE\r\n", now)
                watch.phase = _Phase.DONE_SENT
            if watch.missed and watch.phase is _Phase.IDLING:
                watch.missed = False
                arrived.add(watch.key)

    def _next_timer(self) -> float:
        times = [
            moment
            for watch in self._watches.values()
            for moment in (
                watch.deadline,
                watch.retry_at if watch.phase is _Phase.OFF else None,
                watch.refresh_at if watch.phase is _Phase.IDLING else None,
            )
            if moment is not None
        ]
        return min(times, default=float("inf"))

    def _start_login(self, watch: _Watch) -> None:
        watch.phase = _Phase.LOGIN
        watch.retry_at = None
        watch.login = self._pool.submit(_open, watch.factory)
        watch.login.add_done_callback(self._wake)

    def _wake(self, _future: Future) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def _logged_in(self, watch: _Watch, now: float) -> None:
        future, watch.login = watch.login, None
        try:
            settings, connection = future.result()
        except Exception as error:  # the caller's factory's too: retried later
            self._fail(watch, error)
            return
        watch.where = f"{settings.login} at {settings.host}:{settings.port}"
        if "IDLE" not in connection.capabilities:
            connection.close()
            _logger.info("%s offers no IDLE: its INBOX is not watched", watch.where)
            watch.phase = _Phase.OFF
            self._set_status(watch, WatchStatus(WatchState.UNSUPPORTED))
            return
        watch.connection = connection
        watch.read_timeout = settings.read_timeout
        watch.buffer.clear()
        watch.skip = 0
        connection.sock.setblocking(False)
        self._selector.register(connection.sock, selectors.EVENT_READ, watch)
        watch.phase = _Phase.EXAMINE
        self._command(watch, b"EXAMINE INBOX", now)

    # -- the protocol ---------------------------------------------------------------------------

    def _command(self, watch: _Watch, command: bytes, now: float) -> None:
        watch.tag = b"W%d" % next(self._tags)
        self._send(watch, watch.tag + b" " + command + b"\r\n", now)

    def _send(self, watch: _Watch, data: bytes, now: float) -> None:
        """Send a short command, expecting its answer within the read timeout."""
        sock = watch.connection.sock
        try:
            # A few bytes: the socket's buffer takes them at once (a blocking send with a
            # timeout is simpler than a non-blocking one that TLS may ask to repeat).
            sock.settimeout(watch.read_timeout)
            sock.sendall(data)
            sock.setblocking(False)
        except OSError as error:
            self._fail(watch, error)
            return
        watch.deadline = now + watch.read_timeout

    def _read(self, watch: _Watch, arrived: set[Hashable]) -> None:
        """Read what the socket holds, and act on each complete line."""
        if not self._receive(watch):
            return
        now = time.monotonic()
        while watch.connection is not None:
            if watch.skip:
                skipped = min(watch.skip, len(watch.buffer))
                del watch.buffer[:skipped]
                watch.skip -= skipped
                if watch.skip:
                    return
            end = watch.buffer.find(b"\r\n")
            if end < 0:
                if len(watch.buffer) > MAX_LINE:
                    self._fail(watch, ServerRefused(f"{watch.where} sent a line too long."))
                return
            line = bytes(watch.buffer[:end])
            del watch.buffer[: end + 2]
            if literal := _LITERAL.search(line):
                watch.skip = int(literal.group(1))  # nothing we need comes in a literal
            self._line(watch, line, now, arrived)

    def _receive(self, watch: _Watch) -> bool:
        """Everything the socket holds, into the watch's buffer; False when the connection is gone."""
        sock = watch.connection.sock
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return True
            except OSError as error:
                self._fail(watch, error)
                return False
            if not data:
                self._fail(watch, ServerRefused(f"{watch.where} closed the connection."))
                return False
            watch.buffer += data

    def _line(self, watch: _Watch, line: bytes, now: float, arrived: set[Hashable]) -> None:
        if line.startswith(b"* "):
            number, _, rest = line[2:].partition(b" ")
            word = rest.split(b" ", 1)[0].upper()
            if number.isdigit() and word == b"EXISTS":
                # New mail makes the message count grow (RECENT comes with it, adding nothing).
                count = int(number)
                if watch.exists is not None and count > watch.exists and watch.phase is not _Phase.EXAMINE:
                    arrived.add(watch.key)
                watch.exists = count
            elif number.isdigit() and word == b"EXPUNGE" and watch.exists:
                watch.exists -= 1
            elif number.upper() == b"BYE":
                self._fail(watch, ServerRefused(f"{watch.where} closed the connection: {_text(line)}"))
        elif line.startswith(b"+") and watch.phase is _Phase.STARTING:
            watch.phase = _Phase.IDLING
            watch.deadline = None
            watch.refresh_at = now + self.refresh_interval
            watch.failures = 0
            self._set_status(watch, WatchStatus(WatchState.WATCHING))
        elif line.startswith(watch.tag + b" "):
            status = line[len(watch.tag) + 1 :].split(b" ", 1)[0].upper()
            if status != b"OK":
                self._fail(watch, ServerRefused(f"{watch.where} refused: {_text(line)}"))
            elif watch.phase in (_Phase.EXAMINE, _Phase.DONE_SENT):
                watch.phase = _Phase.STARTING
                self._command(watch, b"IDLE", now)
            else:
                self._fail(watch, ServerRefused(f"{watch.where} ended IDLE: {_text(line)}"))

    # -- failures -------------------------------------------------------------------------------

    def _fail(self, watch: _Watch, error: BaseException) -> None:
        """Drop the connection and retry after a delay that grows with each failure in a row."""
        if watch.connection is not None and watch.phase is not _Phase.OFF:
            watch.missed = True  # mail that comes before the next IDLE is reported then
        self._disconnect(watch, logout=False)
        delay = self.retry_delays[min(watch.failures, len(self.retry_delays) - 1)]
        watch.failures += 1
        watch.retry_at = time.monotonic() + delay * random.uniform(0.8, 1.2)  # spread the retries
        if not isinstance(error, MailSyncError) and isinstance(error, OSError):
            error = ServerRefused(f"{watch.where}: connection lost ({error}).")
        _logger.info("IDLE of %s stopped (%s); retrying in %.0f s", watch.where, error, delay)
        self._set_status(watch, WatchStatus(WatchState.FAILING, str(error)))

    def _disconnect(self, watch: _Watch, *, logout: bool) -> None:
        watch.phase = _Phase.OFF
        watch.deadline = watch.refresh_at = None
        if watch.login is not None:
            # Still logging in: close what it brings.
            watch.login.add_done_callback(_close_result)
            watch.login = None
        connection, watch.connection = watch.connection, None
        if connection is None:
            return
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(connection.sock)
        if logout:
            with contextlib.suppress(OSError):
                connection.sock.settimeout(2.0)
                connection.sock.sendall(b"DONE\r\nW0 LOGOUT\r\n")
        connection.close()

    def _set_status(self, watch: _Watch, status: WatchStatus) -> None:
        if status != watch.status:
            watch.status = status
            self._changes[watch.key] = status


def _open(factory: SettingsFactory) -> tuple[ConnectionSettings, LoggedInSocket]:
    """In a login thread: the account's settings, and a logged-in socket."""
    settings = factory()
    return settings, open_socket(settings)


def _close_result(future: Future) -> None:
    with contextlib.suppress(Exception):
        future.result()[1].close()


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")[:200]
