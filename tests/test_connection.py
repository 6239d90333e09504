"""Connecting through the engine: security modes, certificate checks, typed failures."""

from __future__ import annotations

import dataclasses
import imaplib
import socket
import threading

import pytest

from mail_crm_sync_engine import (
    AuthenticationFailed,
    ConnectionSettings,
    Security,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
    connect,
)
from mail_crm_sync_engine.connection import IMAPLIB_INTERNALS, _read_responses
from mail_crm_sync_engine.testing import free_port
from tests.conftest import settings_for


@pytest.mark.parametrize("security", list(Security))
def test_connects_with_every_security_mode(dovecot, mail_user, security):
    with connect(settings_for(dovecot, mail_user, security, verify_certificate=False)) as mailbox:
        assert mailbox.has("IMAP4REV1")
        assert mailbox.condstore and mailbox.qresync


@pytest.mark.parametrize("security", [Security.SSL, Security.STARTTLS])
def test_strict_certificate_check_refuses_the_self_signed_certificate(dovecot, mail_user, security):
    settings = settings_for(dovecot, mail_user, security, verify_certificate=True)
    with pytest.raises(TlsFailure, match=r"could not be verified.*allow its certificate explicitly"):
        with connect(settings):
            pass


def test_wrong_password_is_an_authentication_failure(dovecot, mail_user):
    settings = dataclasses.replace(settings_for(dovecot, mail_user), password="not-the-password")
    with pytest.raises(AuthenticationFailed, match="refused the login") as caught, connect(settings):
        pass
    assert caught.value.counts_as_connection_failure


def test_closed_port_is_unreachable_not_an_authentication_failure():
    settings = ConnectionSettings("127.0.0.1", free_port(), Security.NONE, "x", password="y")
    with pytest.raises(ServerUnreachable, match="Could not connect"), connect(settings):
        pass


def test_a_server_that_never_answers_times_out():
    # The kernel completes the TCP handshake on a listening socket; nobody ever greets.
    listener = socket.create_server(("127.0.0.1", 0))
    settings = ConnectionSettings(
        "127.0.0.1", listener.getsockname()[1], Security.NONE, "x", password="y", connect_timeout=0.5
    )
    with pytest.raises(Timeout, match="did not answer in time"), connect(settings):
        pass
    listener.close()


def _greeting_server(lines: list[bytes]):
    """A socket that greets, then answers the LOGIN with the given lines: forces one error path."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        conn.sendall(b"* OK ready\r\n")
        for request in conn.makefile("rb"):
            tag, command = request.split()[:2]
            if command.upper() == b"CAPABILITY":
                conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                continue
            for line in lines:
                conn.sendall(line.replace(b"TAG", tag))
            break
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_throttling_is_told_apart_and_does_not_count_as_a_failure():
    listener = _greeting_server([b"TAG NO [THROTTLED] Too many simultaneous connections\r\n"])
    settings = ConnectionSettings("127.0.0.1", listener.getsockname()[1], Security.NONE, "x", password="y")
    with pytest.raises(Throttled, match="asks to slow down") as caught, connect(settings):
        pass
    assert not caught.value.counts_as_connection_failure
    listener.close()


def test_password_never_shows_in_the_settings_repr(dovecot, mail_user):
    settings = settings_for(dovecot, mail_user)
    assert mail_user.password not in repr(settings)


def test_the_imaplib_internals_the_engine_relies_on_are_there(settings):
    # connection.py reads answers and pipelines FETCH on imapclient's imaplib connection: a new
    # imapclient or Python that moves these must fail here, not in the middle of a sync.
    with connect(settings) as mailbox:
        imap = mailbox._imap
        assert isinstance(imap, imaplib.IMAP4)
        missing = [name for name in IMAPLIB_INTERNALS if not hasattr(imap, name)]
        assert missing == []
        assert isinstance(imap.untagged_responses, dict) and isinstance(imap.tagged_commands, dict)
        tag = imap._command("NOOP")
        assert isinstance(tag, bytes) and tag in imap.tagged_commands
        assert _read_responses(imap, [tag]) == ([], {})
        imap._append_untagged("X-PROBE", b"1")
        assert imap.untagged_responses.pop("X-PROBE") == [b"1"]


def test_oauth_bearer_token_logs_in_through_xoauth2(oauth_dovecot):
    user = oauth_dovecot.add_user()
    token = oauth_dovecot.oauth.issue_token(user.login)
    settings = ConnectionSettings(
        oauth_dovecot.host, oauth_dovecot.port, Security.NONE, user.login, oauth_token=token
    )
    with connect(settings) as mailbox:
        assert mailbox.select("INBOX", readonly=True)[b"EXISTS"] == 0
    oauth_dovecot.oauth.revoke(token)
    with pytest.raises(AuthenticationFailed):
        with connect(settings):
            pass
