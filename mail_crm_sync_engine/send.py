"""Sending: submit a composed message by SMTP, and file the same bytes in the Sent folder.

outgoing = compose(draft)
send_message(smtp_settings, outgoing.envelope_from, outgoing.recipients, outgoing.data)
if not provider_files_sent_mail(imap_settings.host):
    with connect(imap_settings) as mailbox:
        append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .connection import Mailbox
from .errors import (
    AuthenticationFailed,
    DeliveryUncertain,
    MailSyncError,
    MessageRefused,
    RecipientsRefused,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
    says_throttled,
)
from .folders import list_folders, special_folder
from .tls import client_context
from .types import FolderRole, MessageLocation, Security

_logger = logging.getLogger(__name__)

# Providers whose SMTP server files a copy in Sent itself: appending one more would double it.
_FILES_SENT_MAIL = ("gmail.com", "googlemail.com", "office365.com", "outlook.com")
_BARE_LF_RE = re.compile(rb"(?<!\r)\n")
# A Bcc field with its folded lines, in the header block.
_BCC_FIELD_RE = re.compile(rb"^bcc[ \t]*:.*\r\n(?:[ \t].*\r\n)*", re.IGNORECASE | re.MULTILINE)
_SEEN = "\\Seen"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach and log in to one account's SMTP server.

    Give ``password`` for AUTH PLAIN/LOGIN, ``oauth_token`` for XOAUTH2, neither (and no
    ``login``) for a relay that takes mail without a login.
    """

    host: str
    port: int
    security: Security
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)
    verify_certificate: bool = True
    connect_timeout: float = 15.0
    read_timeout: float = 60.0


def send_message(
    settings: SmtpSettings, envelope_from: str, recipients: Sequence[str], message_bytes: bytes
) -> str:
    """Submit ``message_bytes`` to every recipient, or to none: if the server refuses any
    recipient, nothing is sent and RecipientsRefused lists them. Returns the server's last reply
    (its queue id, for the log). A Bcc header (the sender's copy keeps one) is left out: Bcc
    recipients are in ``recipients`` and no one else learns of them.

    Raises ServerUnreachable, TlsFailure, Timeout, AuthenticationFailed, Throttled,
    MessageRefused, RecipientsRefused or ServerRefused, each with one sentence for the user.
    """
    recipients = list(dict.fromkeys(recipients))
    if not recipients:
        raise ValueError("The message has no recipient.")
    data = _without_bcc(_crlf(message_bytes))
    smtp = None
    try:
        smtp = _open(settings)
        _login(smtp, settings)
        return _submit(smtp, settings, envelope_from, recipients, data)
    except MailSyncError:
        raise
    except OSError as error:  # smtplib's errors, ssl's and socket's are all OSError
        raise _translate(error, settings) from error
    finally:
        if smtp is not None:
            _close(smtp)


def append_to_sent(
    mailbox: Mailbox, message_bytes: bytes, message_id: str, sent_at: datetime.datetime
) -> MessageLocation:
    """File a sent message in the Sent folder, \\Seen, with the send time as its INTERNALDATE.

    The folder is the one flagged \\Sent, else one with a usual name (Sent, Sent Items, INBOX.Sent
    ...), else a top-level "Sent" made now. A message with this Message-ID already there is not
    filed twice: its location is returned. The uid is None when the server gives no APPENDUID.
    Raises FolderError when the server refuses (quota, rights).
    """
    folder = _sent_folder(mailbox)
    with mailbox.refusals(f"Reading folder {folder!r}"):
        try:
            uidvalidity = mailbox.select(folder, readonly=True)[b"UIDVALIDITY"]
            there = mailbox.search(["HEADER", "Message-ID", message_id])
        finally:
            mailbox.leave_folder(folder)
    if there:
        _logger.info("%s is already in %s: not filed again", message_id, folder)
        return MessageLocation(folder, uidvalidity, max(there))
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=datetime.UTC)
    with mailbox.refusals(f"Filing the sent message in {folder!r}"):
        appended = mailbox.append(folder, _crlf(message_bytes), [_SEEN], sent_at)
        if appended:
            return MessageLocation(folder, *appended)
        status = mailbox.status(folder, ["UIDVALIDITY"])
    return MessageLocation(folder, status[b"UIDVALIDITY"], None)


def provider_files_sent_mail(imap_host: str, extra_hosts: Iterable[str] = ()) -> bool:
    """True where the provider's SMTP server files sent mail itself (Gmail, Microsoft 365 and
    Outlook.com, and the hosts or domains an administrator lists), so no copy is appended."""
    host = imap_host.strip().lower().rstrip(".")
    domains = [*_FILES_SENT_MAIL, *(extra.strip().lower().rstrip(".") for extra in extra_hosts)]
    return any(domain and (host == domain or host.endswith("." + domain)) for domain in domains)


# -- Sent folder -------------------------------------------------------------------------------


def _sent_folder(mailbox: Mailbox) -> str:
    sent = special_folder(list_folders(mailbox), FolderRole.SENT)
    if sent:
        return sent.name
    prefix = ""
    with mailbox.refusals("Reading the folder namespace"):
        if mailbox.has("NAMESPACE"):
            prefix = mailbox.personal_namespace()  # "INBOX." on servers that keep folders under INBOX
    name = f"{prefix}Sent"
    _logger.info("no Sent folder: creating %s", name)
    try:
        with mailbox.refusals(f"Creating folder {name!r}"):
            mailbox.create_folder(name)
    except MailSyncError as error:
        if "ALREADYEXISTS" not in str(error).upper():  # made meanwhile by another client
            raise
    try:
        with mailbox.refusals(f"Subscribing to folder {name!r}"):
            mailbox.subscribe_folder(name)
    except MailSyncError as error:  # the copy is filed all the same; a client may not list it
        _logger.warning("could not subscribe to %s: %s", name, error)
    return name


# -- SMTP --------------------------------------------------------------------------------------


def _open(settings: SmtpSettings) -> smtplib.SMTP:
    context = client_context(settings.verify_certificate) if settings.security != Security.NONE else None
    # Connects and reads the greeting; the host name is kept for the certificate check.
    if settings.security == Security.SSL:
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.connect_timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.connect_timeout)
    smtp.sock.settimeout(settings.read_timeout)
    if settings.security == Security.STARTTLS:
        smtp.ehlo()
        if not smtp.has_extn("starttls"):
            _close(smtp)
            raise TlsFailure(
                f"The SMTP server {_where(settings)} does not offer STARTTLS: choose SSL/TLS, "
                "or the port where it offers STARTTLS."
            )
        smtp.starttls(context=context)
        smtp.ehlo()
    return smtp


def _login(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    if settings.oauth_token:
        sasl = f"user={settings.login}\x01auth=Bearer {settings.oauth_token}\x01\x01"
        smtp.ehlo_or_helo_if_needed()
        # On a refused token the server sends an error challenge, answered with an empty line.
        smtp.auth(
            "XOAUTH2", lambda challenge=None: sasl if challenge is None else "", initial_response_ok=True
        )
    elif settings.login:
        smtp.login(settings.login, settings.password or "")


def _submit(
    smtp: smtplib.SMTP, settings: SmtpSettings, envelope_from: str, recipients: list[str], data: bytes
) -> str:
    """MAIL, every RCPT, and DATA only if all recipients were taken."""
    where = _where(settings)
    smtp.ehlo_or_helo_if_needed()
    options = []
    if smtp.has_extn("size"):
        options.append(f"SIZE={len(data)}")
    if not data.isascii() and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    code, reply = smtp.mail(envelope_from, options)
    if code != 250:
        _reset(smtp)
        raise _refusal(code, reply, f"The SMTP server {where} refused the sender address {envelope_from}")
    refused = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = _reply(code, reply)
    if refused:
        _reset(smtp)
        answers = "; ".join(f"{address}: {answer}" for address, answer in refused.items())
        raise RecipientsRefused(
            f"The SMTP server {where} refused {len(refused)} recipient(s), so the message was sent "
            f"to no one: {answers}",
            refused,
        )
    code, reply = smtp.docmd("data")
    if code != 354:
        raise _refusal(code, reply, f"The SMTP server {where} refused the message")
    # Until the final dot has gone, the server holds no message and a failure may be tried again.
    smtp.send(_dot_stuffed(data))
    try:
        code, reply = smtp.getreply()
    except OSError as error:
        raise DeliveryUncertain(
            f"The SMTP server {where} received the whole message but never confirmed it, so it may "
            "have been sent: check your Sent folder or with a recipient before sending it again."
        ) from error
    if code != 250:
        raise _refusal(code, reply, f"The SMTP server {where} refused the message")
    return _reply(code, reply)


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA of ``data`` (CRLF lines) as RFC 5321 4.5.2 has it: a line starting with a dot
    gets one more, and a line with a single dot ends it (as smtplib's ``data`` writes it)."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _refusal(code: int, reply: bytes | str, sentence: str) -> MailSyncError:
    text = _reply(code, reply)
    if code == 530:
        return AuthenticationFailed(f"{sentence}: it wants a login first ({text}).")
    if code == 421 or says_throttled(text):
        return Throttled(f"{sentence}, asking to slow down: {text}")
    return MessageRefused(f"{sentence}: {text}")


def _translate(  # noqa: C901, PLR0911 - one return per kind of failure: a table read top down
    error: OSError, settings: SmtpSettings
) -> MailSyncError:
    """Map what smtplib, ssl and socket raise to the engine's typed errors."""
    where = _where(settings)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return AuthenticationFailed(
            f"The SMTP server {where} refused the login of {settings.login}: "
            f"{_reply(error.smtp_code, error.smtp_error)}"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return ServerRefused(f"The SMTP server {where} does not accept a login this way: {error}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        if isinstance(error.__context__, TimeoutError):
            return Timeout(f"The SMTP server {where} did not answer in time.")
        return ServerRefused(f"The SMTP server {where} closed the connection: {error}")
    if isinstance(error, smtplib.SMTPSenderRefused):
        return _refusal(error.smtp_code, error.smtp_error, f"The SMTP server {where} refused the sender")
    if isinstance(error, smtplib.SMTPDataError):
        return _refusal(error.smtp_code, error.smtp_error, f"The SMTP server {where} refused the message")
    if isinstance(error, smtplib.SMTPResponseException):
        refused = _refusal(error.smtp_code, error.smtp_error, f"The SMTP server {where} refused")
        return refused if isinstance(refused, Throttled) else ServerRefused(str(refused))
    if isinstance(error, smtplib.SMTPException):
        return ServerRefused(f"The SMTP server {where} failed: {error}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return TlsFailure(
            f"The certificate of the SMTP server {where} could not be verified ({error.verify_message}). "
            "If you trust this server, allow its certificate explicitly."
        )
    if isinstance(error, ssl.SSLError):
        return TlsFailure(
            f"The secure connection to the SMTP server {where} failed: {error.reason or error}."
        )
    if isinstance(error, TimeoutError):
        return Timeout(f"The SMTP server {where} did not answer in time.")
    if isinstance(error, socket.gaierror):
        return ServerUnreachable(f"The server name {settings.host} could not be resolved.")
    return ServerUnreachable(f"Could not connect to the SMTP server {where}: {error.strerror or error}.")


def _reset(smtp: smtplib.SMTP) -> None:
    # The refusal is what the user must read; a server that hangs up on RSET changes nothing.
    with contextlib.suppress(OSError):
        smtp.rset()


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _where(settings: SmtpSettings) -> str:
    return f"{settings.host}:{settings.port}"


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def _without_bcc(data: bytes) -> bytes:
    """The message without the Bcc fields of its header (the body and its parts are untouched)."""
    end = data.find(b"\r\n\r\n") + 2 if b"\r\n\r\n" in data else len(data)
    return _BCC_FIELD_RE.sub(b"", data[:end]) + data[end:]


def _crlf(data: bytes) -> bytes:
    """Line ends as SMTP and IMAP want them (CRLF); bytes made by ``compose`` are unchanged."""
    return _BARE_LF_RE.sub(b"\r\n", data)
