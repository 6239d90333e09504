"""Real servers on loopback for tests and benchmarks: Dovecot (IMAP), aiosmtpd (SMTP), an OAuth endpoint."""

from .dovecot import DovecotServer, MailUser, dovecot_available, free_port
from .oauth import OAuthServer
from .smtp import ReceivedMail, SmtpServer

__all__ = [
    "DovecotServer",
    "MailUser",
    "OAuthServer",
    "ReceivedMail",
    "SmtpServer",
    "dovecot_available",
    "free_port",
]
