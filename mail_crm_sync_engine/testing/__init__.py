"""Real servers on loopback for tests and benchmarks: Dovecot, Cyrus and Courier (IMAP), aiosmtpd (SMTP),
an OAuth endpoint."""

from .courier import CourierServer, courier_available
from .cyrus import CyrusServer, cyrus_available
from .dovecot import DovecotServer, MailUser, dovecot_available, free_port
from .mail import build_mail
from .oauth import OAuthServer
from .smtp import ReceivedMail, SmtpServer

__all__ = [
    "CourierServer",
    "CyrusServer",
    "DovecotServer",
    "MailUser",
    "OAuthServer",
    "ReceivedMail",
    "SmtpServer",
    "build_mail",
    "courier_available",
    "cyrus_available",
    "dovecot_available",
    "free_port",
]
