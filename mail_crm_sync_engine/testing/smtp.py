"""An SMTP server on loopback (aiosmtpd) that keeps every message it receives, with AUTH.

Plain, STARTTLS or implicit TLS, with a self-signed certificate made on the fly; it can be told
to refuse some recipients or messages, so the client's error paths run against a real server.
"""

from __future__ import annotations

import logging
import shutil
import ssl
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from ..types import Security
from .dovecot import free_port
from .tls import make_self_signed_certificate

# AUTH without TLS on loopback is what the plain harness server is for: aiosmtpd says so at every
# connection (a UserWarning and its "mail.log" logger), which would fill the logs of the tests.
warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """One message as the server received it: envelope and the exact bytes."""

    login: str | None
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


@dataclass
class _Mailbag:
    users: dict[str, str] = field(default_factory=dict)
    received: list[ReceivedMail] = field(default_factory=list)
    refused_recipients: set[str] = field(default_factory=set)
    refused_markers: set[bytes] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused_recipients:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(marker in envelope.original_content for marker in self.refused_markers):
            return "554 5.7.1 Message rejected: looks like spam"
        login = session.auth_data if isinstance(session.auth_data, str) else None
        mail = ReceivedMail(login, envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.received.append(mail)
        return "250 OK kept"


class SmtpServer:
    """Start with ``start()``; ``add_user`` gives a login; ``received`` lists what arrived.

    AUTH is required before MAIL FROM. ``security`` is ``Security.NONE`` (loopback only),
    ``STARTTLS`` (offered, not required) or ``SSL`` (implicit TLS from the first byte).
    """

    host = "127.0.0.1"

    def __init__(self, security: Security = Security.NONE) -> None:
        self.security = security
        self.port = free_port()
        self._bag = _Mailbag()
        self._tls_dir: Path | None = None
        tls = {}
        if security != Security.NONE:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="mcs-smtp-"))
            cert_file, key_file = self._tls_dir / "cert.pem", self._tls_dir / "key.pem"
            make_self_signed_certificate(cert_file, key_file, "localhost")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert_file, key_file)
            tls = {"ssl_context": context} if security == Security.SSL else {"tls_context": context}
        self._controller = Controller(
            self._bag,
            hostname=self.host,
            port=self.port,
            authenticator=self._bag.authenticate,
            auth_required=True,
            auth_require_tls=security == Security.STARTTLS,  # AUTH only after STARTTLS, as providers do
            decode_data=False,
            **tls,
        )

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        if self._tls_dir:
            shutil.rmtree(self._tls_dir, ignore_errors=True)

    def add_user(self, login: str, password: str) -> None:
        self._bag.users[login] = password

    def refuse_recipient(self, address: str) -> None:
        """RCPT TO this address gets 550 User unknown."""
        self._bag.refused_recipients.add(address.lower())

    def refuse_messages_containing(self, marker: bytes) -> None:
        """DATA holding these bytes gets 554, as a spam filter answers."""
        self._bag.refused_markers.add(marker)

    @property
    def received(self) -> list[ReceivedMail]:
        with self._bag.lock:
            return list(self._bag.received)
