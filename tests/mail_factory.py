"""Realistic test mail, built with the standard library."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage


def make_mail(
    index: int = 0,
    *,
    sender: str = "Zoë Martin <zoe@client.example>",
    to: str = "me@example.test",
    cc: str | None = None,
    subject: str | None = None,
    text: str | None = "Bonjour, voici le devis.",
    html: str | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    message_id: str | None = "auto",
    date=None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject if subject is not None else f"Devis n°{index}"
    message["Date"] = email.utils.format_datetime(date) if date else email.utils.formatdate(localtime=False)
    if message_id == "auto":
        message_id = f"<msg{index}.{id(message)}@client.example>"
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
