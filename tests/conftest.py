"""Real servers for the engine tests: one Dovecot and one SMTP server per test session, and for
tests/test_other_servers.py a Cyrus and a Courier (unpacked by scripts/install-test-servers)."""

from __future__ import annotations

import contextlib
import imaplib
import os

import pytest
from imapclient import IMAPClient

from mail_crm_sync_engine import ConnectionSettings, Security
from mail_crm_sync_engine.testing import (
    CourierServer,
    CyrusServer,
    DovecotServer,
    OAuthServer,
    SmtpServer,
    courier_available,
    cyrus_available,
    dovecot_available,
)

if not dovecot_available():  # pragma: no cover - .ci/run installs it; say so loudly where it is missing
    raise pytest.UsageError(
        "Dovecot is not installed (Debian package dovecot-imapd): run `bash .ci/run` once."
    )


@pytest.fixture(scope="session")
def dovecot():
    with DovecotServer() as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_plain():
    """A second Dovecot that advertises neither CONDSTORE nor QRESYNC, like Microsoft 365."""
    with DovecotServer(condstore=False) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_bare():
    """A Dovecot whose users have INBOX alone (no Sent, no Trash) and which does not offer MOVE."""
    with DovecotServer(special_folders={}, hide_capabilities=("MOVE",)) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_without_uidplus():
    """Bare mailboxes on a server offering neither UIDPLUS nor MOVE."""
    with DovecotServer(special_folders={}, hide_capabilities=("UIDPLUS", "MOVE")) as server:
        yield server


def _unpacked_or_skip(available: bool, name: str, *, needs_root: bool = False) -> None:
    """Cyrus and Courier run only where scripts/install-test-servers could unpack them."""
    if not available:
        pytest.skip(f"{name} is not unpacked: run `bash scripts/install-test-servers` (Debian 12, apt)")
    if needs_root and os.geteuid() != 0:
        pytest.skip(f"{name} runs in a mount namespace of its own (unshare -m), which needs root")


@pytest.fixture(scope="session")
def cyrus():
    """A private Cyrus IMAP 3.6 (Debian's configuration: folders under INBOX., "." separator)."""
    _unpacked_or_skip(cyrus_available(), "Cyrus IMAP")
    with CyrusServer() as server:
        yield server


@pytest.fixture(scope="session")
def courier():
    """A private Courier IMAP 5.0 (maildirs under INBOX., no UIDNEXT in SELECT, no MOVE)."""
    _unpacked_or_skip(courier_available(), "Courier IMAP", needs_root=True)
    with CourierServer() as server:
        yield server


@pytest.fixture(scope="session")
def courier_login_only():
    """A Courier that offers LOGIN alone (Debian's list without TLS): no AUTHENTICATE PLAIN."""
    _unpacked_or_skip(courier_available(), "Courier IMAP", needs_root=True)
    with CourierServer(auth_plain=False) as server:
        yield server


@pytest.fixture(scope="session", params=["dovecot", "cyrus", "courier"])
def any_server(request):
    """Each IMAP server family the engine is tested against, in turn."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_user(dovecot):
    """A fresh, empty mailbox on the harness Dovecot."""
    return dovecot.add_user()


def settings_for(
    server: DovecotServer, user, security: Security = Security.NONE, **options
) -> ConnectionSettings:
    port = server.ssl_port if security == Security.SSL else server.port
    options.setdefault("verify_certificate", security == Security.NONE)
    return ConnectionSettings(server.host, port, security, user.login, password=user.password, **options)


@pytest.fixture
def settings(dovecot, mail_user):
    return settings_for(dovecot, mail_user)


@contextlib.contextmanager
def imap_view(server: DovecotServer, user):
    """A second, independent IMAP connection, to check what the server itself holds."""
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user.login, user.password)
    try:
        yield client
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


@pytest.fixture
def server_view(dovecot, mail_user):
    """A second, independent IMAP connection, to check what the server itself holds."""
    with imap_view(dovecot, mail_user) as client:
        yield client


def append(client: IMAPClient, folder: str, message: bytes, flags=(), when=None) -> int:
    """APPEND through IMAP and return the new UID (UIDPLUS)."""
    response = client.append(folder, message, flags=flags, msg_time=when)
    return int(response.split(b"]")[0].split()[-1])


@contextlib.contextmanager
def sent_commands(mailbox):
    """The IMAP commands ``mailbox`` sends inside the block, each as (name, *arguments).

    Spies on imaplib's ``_command``, through which imapclient and the engine send every command:
    the one place the tests reach under Mailbox (connection.IMAPLIB_INTERNALS names it).
    """
    imap = mailbox._imap
    sent = []
    original = imap._command
    imap._command = lambda name, *args: sent.append((name, *args)) or original(name, *args)
    try:
        yield sent
    finally:
        imap._command = original


@pytest.fixture(scope="session")
def oauth_dovecot():
    """A Dovecot that also accepts XOAUTH2 bearer tokens, checked against our token endpoint."""
    with OAuthServer() as oauth, DovecotServer(oauth_introspection_url=oauth.introspection_url) as server:
        server.oauth = oauth
        yield server
