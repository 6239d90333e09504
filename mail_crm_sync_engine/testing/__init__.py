"""Real servers on loopback for tests and benchmarks: Dovecot (IMAP) and aiosmtpd (SMTP)."""

from .dovecot import DovecotServer, MailUser, dovecot_available, free_port
from .smtp import ReceivedMail, SmtpServer

__all__ = ["DovecotServer", "MailUser", "ReceivedMail", "SmtpServer", "dovecot_available", "free_port"]
