"""Real servers on loopback for tests and benchmarks: Dovecot (IMAP), aiosmtpd (SMTP), an OAuth endpoint."""

from .dovecot import DovecotServer, MailUser, dovecot_available, free_port
from .mail import build_mail
from .oauth import OAuthServer
from .smtp import ReceivedMail, SmtpServer

__all__ = [
    "DovecotServer",
    "MailUser",
    "OAuthServer",
    "ReceivedMail",
    "SmtpServer",
    "build_mail",
    "dovecot_available",
    "free_port",
]
