"""Realistic test mail, built with the standard library."""

from __future__ import annotations

import email.utils

from mail_crm_sync_engine.testing.mail import build_mail


def make_mail(  # noqa: PLR0913 - keyword-only parts of a mail, all with defaults
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
    if message_id == "auto":
        message_id = email.utils.make_msgid(f"msg{index}", domain="client.example")
    return build_mail(
        sender=sender,
        to=to,
        cc=cc,
        subject=subject if subject is not None else f"Devis n°{index}",
        text=text,
        html=html,
        attachments=attachments,
        message_id=message_id,
        date=date,
        extra_headers=extra_headers,
    )
