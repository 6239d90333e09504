"""Telling emails apart when their Message-IDs say they are one.

A Message-ID is chosen by the sender's software: a broken mailer reuses one, and anyone can copy
another email's into a message of their own. Every copy of one email (in Inbox and Archive, in two
colleagues' mailboxes, the Bcc copy, the Sent copy) carries the same sender, date, subject and
recipients; two different emails that share a Message-ID almost never do.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

from .types import MessageRecord


def content_fingerprint(record: MessageRecord) -> str:
    """A short hash of what every copy of one email has in common: sender, date, subject and To/Cc
    recipients (not the body: the sync reads chosen text parts, a sent copy is parsed whole)."""
    return fingerprint(
        [address.email for address in record.from_],
        record.date,
        record.subject,
        [address.email for address in (*record.to, *record.cc)],
    )


def fingerprint(
    senders: Iterable[str], date: datetime.datetime | None, subject: str | None, recipients: Iterable[str]
) -> str:
    """``content_fingerprint`` from its parts, as an email stored without one (before fingerprints
    were kept) gives them back: addresses lowercased, the date in UTC."""
    fields = (
        ",".join(sorted(senders)),
        date.isoformat() if date else "",
        " ".join((subject or "").split()),
        ",".join(sorted(recipients)),
    )
    return hashlib.sha256("\x1f".join(fields).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def namesake_key(message_id: str, fingerprint: str) -> str:
    """The key an email is stored under when another email already holds its Message-ID."""
    return f"{message_id}#{fingerprint[:16]}"
