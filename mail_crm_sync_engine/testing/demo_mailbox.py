"""The demo's mailboxes: the texts of ``demo_mail_texts`` as messages, filed as a server files them.

Shared by the CLI demo (``testing/demo.py``) and the Odoo demo (``scripts/demo_odoo.py``), so both
show the same mail: threads whose replies quote the earlier mail, HTML, attachments (a real
one-page PDF, a CSV with a non-ASCII name), non-ASCII names and subjects, mail from strangers, sent
mail in Sent, spam in Junk and mail older than a 14-day first-sync window.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass

from ..parse import html_to_text
from .demo_mail_texts import MAIL_TEXTS, SALESMEN, MailText, Person
from .mail import build_mail
from .pdf import one_page_pdf


@dataclass(frozen=True, slots=True)
class DemoMail:
    """One message to put on the server: its folder, its bytes, and when it arrived (its Date)."""

    folder: str
    raw: bytes
    date: datetime.datetime
    subject: str


def demo_mailboxes(now: datetime.datetime | None = None) -> dict[Person, tuple[DemoMail, ...]]:
    """Each salesman's mailbox, oldest mail first: what he sent in Sent, what he received (To or
    Cc) in INBOX or the text's folder. Mail to both salesmen is the same bytes in both mailboxes,
    as a server delivers it, so the CRM stores it once."""
    now = now or datetime.datetime.now(datetime.UTC)
    built: dict[str, _Built] = {}
    mailboxes: dict[Person, list[DemoMail]] = {salesman: [] for salesman in SALESMEN}
    for text in sorted(MAIL_TEXTS, key=lambda text: -text.age_days):
        built[text.key] = message = _build(text, now, built)
        for salesman, mail in mailboxes.items():
            if salesman == text.sender:
                mail.append(DemoMail("Sent", message.raw, message.date, text.subject))
            elif salesman in (*text.to, *text.cc):
                mail.append(DemoMail(text.folder, message.raw, message.date, text.subject))
    return {salesman: tuple(mail) for salesman, mail in mailboxes.items()}


@dataclass(frozen=True, slots=True)
class _Built:
    """A built message with what a reply to it needs: its thread, author, date and words."""

    message_id: str
    references: tuple[str, ...]
    text: MailText
    date: datetime.datetime
    plain: str
    markup: str
    raw: bytes


def _build(text: MailText, now: datetime.datetime, built: dict[str, _Built]) -> _Built:
    """The message of ``text``; a reply threads under the message it answers and quotes it."""
    message_id = f"<demo.{text.key}@{text.sender.email.split('@')[1]}>"
    date = now - datetime.timedelta(days=text.age_days)
    plain, markup, headers, references = text.text, text.html, {}, ()
    if text.answers:
        earlier = built[text.answers]
        references = (*earlier.references, earlier.message_id)
        headers = {"In-Reply-To": earlier.message_id, "References": " ".join(references)}
        said = f"On {earlier.date:%d %b %Y at %H:%M}, {earlier.text.sender.name} wrote:"
        if plain is not None:
            plain += f"\n\n{said}\n" + "".join(
                f"> {line}".rstrip() + "\n" for line in earlier.plain.splitlines()
            )
        if markup is not None:
            markup += f"<p>{html.escape(said)}</p><blockquote>{earlier.markup}</blockquote>"
    raw = build_mail(
        sender=text.sender.address,
        to=", ".join(person.address for person in text.to),
        cc=", ".join(person.address for person in text.cc) or None,
        subject=text.subject,
        text=plain,
        html=markup,
        attachments=[(name, kind, _file(kind, lines)) for name, kind, lines in text.attachments],
        message_id=message_id,
        date=date,
        extra_headers=headers,
    )
    # What a reply quotes: the words as sent, in the other form when this one has only one.
    plain = plain if plain is not None else html_to_text(markup or "")
    markup = markup if markup is not None else _paragraphs(plain)
    return _Built(message_id, references, text, date, plain, markup, raw)


def _paragraphs(plain: str) -> str:
    return "".join(
        f"<p>{'<br>'.join(map(html.escape, part.splitlines()))}</p>" for part in plain.split("\n\n")
    )


def _file(content_type: str, lines: tuple[str, ...]) -> bytes:
    if content_type == "application/pdf":
        return one_page_pdf(lines)
    return "".join(f"{line}\r\n" for line in lines).encode()
