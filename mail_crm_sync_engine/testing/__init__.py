"""Real servers on loopback for tests and benchmarks: Dovecot, Cyrus and Courier (IMAP), aiosmtpd (SMTP),
an OAuth endpoint, a relay that holds a server's answers."""

from .courier import CourierServer, courier_available
from .cyrus import CyrusServer, cyrus_available
from .dovecot import DovecotServer, MailUser, dovecot_available, free_port
from .dovecot_admin import change_password, log_offset, logins_since
from .mail import build_mail
from .oauth import OAuthServer
from .oauth_admin import OAuthProvider
from .relay import Relay
from .smtp import ReceivedMail, SmtpServer

__all__ = [
    "CourierServer",
    "CyrusServer",
    "DovecotServer",
    "MailUser",
    "OAuthProvider",
    "OAuthServer",
    "ReceivedMail",
    "Relay",
    "SmtpServer",
    "build_mail",
    "change_password",
    "courier_available",
    "cyrus_available",
    "dovecot_available",
    "free_port",
    "log_offset",
    "logins_since",
]
