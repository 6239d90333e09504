"""An SMTP server on loopback (aiosmtpd) that keeps every message it receives, with AUTH."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .dovecot import free_port


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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data if isinstance(session.auth_data, str) else None
        mail = ReceivedMail(login, envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.received.append(mail)
        return "250 OK kept"


class SmtpServer:
    """Start with ``start()``; ``add_user`` gives a login; ``received`` lists what arrived.

    AUTH is required before MAIL FROM. TLS is not offered: loopback only.
    """

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self._bag = _Mailbag()
        self._controller = Controller(
            self._bag,
            hostname=self.host,
            port=self.port,
            authenticator=self._bag.authenticate,
            auth_required=True,
            auth_require_tls=False,
            decode_data=False,
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

    def add_user(self, login: str, password: str) -> None:
        self._bag.users[login] = password

    @property
    def received(self) -> list[ReceivedMail]:
        with self._bag.lock:
            return list(self._bag.received)
