"""A deadline for a whole run: a server that trickles its answers cannot hold the account for good.

Each read has a timeout, but a server sending a byte every second never trips it. The trickling
server here is a small one of our own on loopback: it logs in at once, then answers one byte a
second, for ever (over TLS too). Against a 3-second deadline the run must end in about 3 s, with
the socket closed and RunDeadlineReached raised, in the engine and in the addon's reader thread.
"""

from __future__ import annotations

import importlib.util
import select
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import pytest

from mail_crm_sync_engine import ConnectionSettings, FolderRole, Security, Timeout, connect, sync_folder
from mail_crm_sync_engine.errors import RunDeadlineReached
from mail_crm_sync_engine.testing.tls import make_self_signed_certificate
from tests.conftest import settings_for
from tests.mail_factory import make_mail

DEADLINE = 3
# Whatever the deadline, a run against the trickling server that is not over by then never ends.
NEVER = 30


def load_mailbox_reader():
    """The addon's reader thread (mail_crm_sync/models/mailbox_reader.py), plain Python on the
    engine: loaded from its file, without Odoo."""
    path = Path(__file__).resolve().parents[1] / "mail_crm_sync" / "models" / "mailbox_reader.py"
    spec = importlib.util.spec_from_file_location("mailbox_reader_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TricklingServer:
    """Greets, answers CAPABILITY and LOGIN at once, then answers anything else one byte every
    ``interval`` seconds, for ever; with ``trickle_greeting``, the greeting itself. Notes when
    the client's end of the connection goes away (``gone_at``, on the monotonic clock)."""

    def __init__(self, *, interval: float = 1.0, tls: bool = False, trickle_greeting: bool = False):
        self.interval = interval
        self.trickle_greeting = trickle_greeting
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.gone_at: float | None = None
        self._gone = threading.Event()
        self._context = None
        if tls:
            directory = Path(tempfile.mkdtemp(prefix="mcs-trickle-"))
            make_self_signed_certificate(directory / "cert.pem", directory / "key.pem", "localhost")
            self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TricklingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._gone.set()
        self.listener.close()

    def settings(self, security: Security = Security.NONE) -> ConnectionSettings:
        return ConnectionSettings(
            "127.0.0.1", self.port, security, "user", password="secret", verify_certificate=False
        )

    def wait_gone(self, seconds: float) -> bool:
        return self._gone.wait(seconds)

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        if self._context is not None:
            conn = self._context.wrap_socket(conn, server_side=True)
        with conn:
            if self.trickle_greeting:
                self._trickle(conn, b"* OK ready\r\n")
                return
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            for request in conn.makefile("rb"):
                tag, command = [*request.split(), b""][:2]
                if command.upper() == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                elif command.upper() == b"LOGIN":
                    conn.sendall(tag + b" OK logged in\r\n")
                else:
                    self._trickle(conn, b"* " + b"X" * 100_000 + b"\r\n" + tag + b" OK done\r\n")
                    return
        self._went()

    def _trickle(self, conn: socket.socket, answer: bytes) -> None:
        for index in range(len(answer)):
            if self._gone.is_set():
                break  # the test is over
            readable, _, _ = select.select([conn], [], [], self.interval)
            try:
                if readable and not conn.recv(1024):
                    break  # the client shut its end
                conn.send(answer[index : index + 1])
            except OSError:
                break
        self._went()

    def _went(self) -> None:
        if self.gone_at is None:
            self.gone_at = time.monotonic()
        self._gone.set()


def test_the_deadline_error_is_a_timeout_a_user_can_read():
    error = RunDeadlineReached.after(900)
    assert isinstance(error, Timeout) and error.counts_as_connection_failure
    assert str(error) == "The mail server was too slow: the sync stopped after 900 seconds."


@pytest.mark.parametrize("security", [Security.NONE, Security.SSL], ids=["plain", "tls"])
def test_a_trickling_server_is_dropped_at_the_run_deadline(security):
    with TricklingServer(tls=security == Security.SSL) as server:
        started = time.monotonic()
        with pytest.raises(RunDeadlineReached, match="too slow: the sync stopped after 3 seconds"):
            with connect(server.settings(security), run_deadline=DEADLINE) as mailbox:
                list(sync_folder(mailbox, "INBOX", None, None))
        held = time.monotonic() - started
        assert server.wait_gone(NEVER), "the connection is closed"
    # The answer would take 100,000 s: only the deadline (about 3 s) ended the run.
    assert DEADLINE <= held < NEVER
    assert server.gone_at - started < NEVER


def test_the_reader_thread_ends_at_the_deadline_and_frees_the_account():
    reader_module = load_mailbox_reader()
    folder = reader_module.FolderToRead(None, "INBOX", FolderRole.INBOX, None)
    with TricklingServer() as server:
        started = time.monotonic()
        reader = reader_module.MailboxReader(
            server.settings(), [folder], lambda: None, lambda _folder: (), run_deadline=DEADLINE
        )
        with pytest.raises(RunDeadlineReached), reader:
            list(reader)
        held = time.monotonic() - started
        assert not reader._thread.is_alive(), "the reader thread is over"
        assert server.wait_gone(NEVER)
    assert DEADLINE <= held < NEVER


def test_a_server_trickling_before_the_login_is_given_up_by_the_reader(monkeypatch):
    # Until the login, only each read is bounded: the cursor's thread stops waiting for the
    # reader once the deadline and its grace are past, and the account is free.
    reader_module = load_mailbox_reader()
    monkeypatch.setattr(reader_module, "DEADLINE_GRACE_SECONDS", 1)
    folder = reader_module.FolderToRead(None, "INBOX", FolderRole.INBOX, None)
    with TricklingServer(trickle_greeting=True) as server:
        started = time.monotonic()
        reader = reader_module.MailboxReader(
            server.settings(), [folder], lambda: None, lambda _f: (), run_deadline=1
        )
        with pytest.raises(RunDeadlineReached, match="after 1 seconds"), reader:
            list(reader)
        held = time.monotonic() - started
    assert held < NEVER


def test_a_run_within_its_deadline_is_unchanged_and_leaves_no_timer(dovecot, mail_user):
    dovecot.deliver(mail_user, make_mail(1))
    with connect(settings_for(dovecot, mail_user), run_deadline=60) as mailbox:
        records = [record for batch in sync_folder(mailbox, "INBOX", None, None) for record in batch.messages]
    time.sleep(0.1)  # the cancelled timer's thread returns
    assert len(records) == 1
    assert not [thread for thread in threading.enumerate() if thread.name == "mail-sync-run-deadline"]
