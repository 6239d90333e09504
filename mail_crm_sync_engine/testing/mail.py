"""Raw test mail built with the standard library, as a mail client would send it."""

from __future__ import annotations

import base64
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


# A small PNG-looking image: what an unnamed part carries in the tests.
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 300


def forwarding_mail(
    to: str = "me@example.test", forwarded_subject: str = "=?utf-8?q?Offer_for_40_chairs=3A_M=C3=BCller?="
) -> bytes:
    """Text, Apple Watch and HTML alternatives, then an unnamed image, a forwarded email and a
    delivery report, none of them with a file name: what attachment naming is tested on."""
    return f"""\
From: Alice <alice@client.example>
To: {to}
Subject: Fwd: the offer
Message-ID: {email.utils.make_msgid(domain="client.example")}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

See below.
--alt
Content-Type: text/watch-html; charset=utf-8

<p>See below.</p>
--alt
Content-Type: text/html; charset=utf-8

<p>See <b>below</b>.</p>
--alt--
--outer
Content-Type: image/png
Content-Transfer-Encoding: base64

{base64.b64encode(PNG).decode()}
--outer
Content-Type: message/rfc822

From: Bob <bob@client.example>
To: {to}
Subject: {forwarded_subject}
Message-ID: {email.utils.make_msgid(domain="client.example")}

The offer.
--outer
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

--outer--
""".replace("\n", "\r\n").encode()
