"""Raw test mail built with the standard library, as a mail client would send it."""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Iterable
from email.message import EmailMessage


def build_mail(  # noqa: PLR0913 - keyword-only parts of a mail, most optional
    *,
    sender: str,
    to: str,
    subject: str,
    text: str | None,
    html: str | None = None,
    cc: str | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    message_id: str | None = None,
    date: datetime.datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of one email: plain text, HTML or both (multipart/alternative), then attachments
    given as (filename, content type, data). No ``message_id`` means no Message-ID header; no
    ``date`` means now."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date) if date else email.utils.formatdate(localtime=False)
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (extra_headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
