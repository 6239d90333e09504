"""An SMTP server on loopback (aiosmtpd) that keeps every message it receives, with AUTH.

Plain, STARTTLS or implicit TLS, with a self-signed certificate made on the fly; it can be told
to refuse some recipients or messages, so the client's error paths run against a real server.
Given an OAuth introspection URL (``OAuthServer.introspection_url``) it also takes AUTH XOAUTH2,
asking that server about each bearer token as Dovecot does, and refusing as Gmail does.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import shutil
import ssl
import tempfile
import threading
import urllib.parse
import urllib.request
import warnings
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword

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
    confirm_delay: float = 0.0
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
        if self.confirm_delay:
            await asyncio.sleep(self.confirm_delay)
        return "250 OK kept"


class _OAuthMailbag(_Mailbag):
    """A mail bag whose server also takes AUTH XOAUTH2 (aiosmtpd finds ``auth_*`` on the handler)."""

    def __init__(self, introspection_url: str) -> None:
        super().__init__()
        self.introspection_url = introspection_url

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 1:
            blob = await server.challenge_auth("", encode_to_b64=False)
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = b64decode(args[1].encode(), validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        # user=<login>^Aauth=Bearer <token>^A^A
        fields = dict(
            part.split("=", 1) for part in blob.decode("utf-8", "replace").split("\x01") if "=" in part
        )
        login, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        username = await asyncio.get_running_loop().run_in_executor(None, self._introspect, token)
        if username and login and username == login:
            return AuthResult(success=True, auth_data=login)
        # As Gmail: an error challenge the client answers with an empty line, then the refusal.
        challenge = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"})
        if await server.challenge_auth(challenge) is MISSING:  # the client aborted: answered already
            return AuthResult(success=False, handled=True)
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )

    def _introspect(self, token: str) -> str | None:
        request = urllib.request.Request(
            self.introspection_url, data=urllib.parse.urlencode({"token": token}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        return answer.get("username") if answer.get("active") else None


class SmtpServer:
    """Start with ``start()``; ``add_user`` gives a login; ``received`` lists what arrived.

    AUTH is required before MAIL FROM. ``security`` is ``Security.NONE`` (loopback only),
    ``STARTTLS`` (offered, not required) or ``SSL`` (implicit TLS from the first byte).
    With ``oauth_introspection_url``, AUTH XOAUTH2 is offered too and its tokens checked there.
    """

    host = "127.0.0.1"

    def __init__(
        self, security: Security = Security.NONE, oauth_introspection_url: str | None = None
    ) -> None:
        self.security = security
        self.port = free_port()
        self._bag = _OAuthMailbag(oauth_introspection_url) if oauth_introspection_url else _Mailbag()
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

    def confirm_after(self, seconds: float) -> None:
        """Keep each message, then answer its DATA only ``seconds`` later: a server that goes quiet
        once it has the whole message (0: at once)."""
        self._bag.confirm_delay = seconds

    @property
    def received(self) -> list[ReceivedMail]:
        with self._bag.lock:
            return list(self._bag.received)
