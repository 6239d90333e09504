"""Hostile mail between good mail: every good email arrives, every hostile one is stored as a record
the database can always take (or listed as failed with its reason), and nothing stops the sync.

What "the database can always take" means, from PostgreSQL's limits: no NUL in any text; a key id
(Message-ID, In-Reply-To, each References id: unique and btree-indexed) far below a btree row's
2,704 bytes; header-derived search text (subject, From, To, Cc) far below a tsvector's 1 MB;
lists and names bounded. The corpus is tests/hostile/corpus.py.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest
from imapclient import IMAPClient

from mail_crm_sync_engine import FolderRole, MessageRecord, connect, sync_folder
from mail_crm_sync_engine.parse import Place, record_from_bytes
from tests.conftest import settings_for
from tests.hostile.corpus import CASES, LONG_ID, LONG_REPLY_ID, build
from tests.mail_factory import make_mail

ME = "me@example.test"
# The bounds a record must keep, whatever its sender wrote.
ID_BYTES = 500
SUBJECT_CHARS = 1_000
NAME_CHARS = 255  # display names, attachment file names and names
ADDRESSES = 1_000  # per address list
REFERENCES = 100
ATTACHMENTS = 1_000
WARNINGS = 100
HEADER_SEARCH_BYTES = 256 * 1024  # subject, From, To and Cc: what search reads besides the body
HEADER_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f]")  # in one-line values: C0 but tab
BODY_FIELDS = ("text", "html", "new_text")


def _strings(value, where: str):
    if isinstance(value, str):
        yield where, value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def storability_problems(record: MessageRecord) -> list[str]:
    """What in ``record`` PostgreSQL would refuse, or what exceeds the engine's bounds."""
    return [*_text_problems(record), *_key_problems(record), *_size_problems(record)]


def _text_problems(record: MessageRecord) -> list[str]:
    problems = []
    for where, value in _strings(record, "record"):
        if "\x00" in value:
            problems.append(f"NUL in {where}")
        if any("\ud800" <= char <= "\udfff" for char in value):
            problems.append(f"lone surrogate in {where}")
        one_line = where.split(".")[1].split("[")[0] not in BODY_FIELDS
        if one_line and HEADER_CONTROL_RE.search(value):
            problems.append(f"control character in {where}: {value[:80]!r}")
    return problems


def _key_problems(record: MessageRecord) -> list[str]:
    keys = [("message_id", record.message_id), ("in_reply_to", record.in_reply_to)]
    keys += [(f"references[{i}]", ref) for i, ref in enumerate(record.references)]
    sizes = {where: len(key.encode("utf-8", "surrogatepass")) for where, key in keys if key is not None}
    problems = [f"{where} is {size} bytes" for where, size in sizes.items() if size > ID_BYTES]
    return problems if record.message_id else [*problems, "no message_id"]


def _size_problems(record: MessageRecord) -> list[str]:
    lists = {name: getattr(record, name) for name in ("from_", "to", "cc", "bcc", "reply_to")}
    names = [a.name for addresses in lists.values() for a in addresses]
    names += [name for a in record.attachments for name in (a.filename, a.name)]
    searched = record.subject + "".join(a.name + a.email for a in record.from_ + record.to + record.cc)
    searched_bytes = len(searched.encode("utf-8", "surrogatepass"))
    counts = {
        "subject characters": (len(record.subject), SUBJECT_CHARS),
        "references": (len(record.references), REFERENCES),
        "attachments": (len(record.attachments), ATTACHMENTS),
        "warnings": (len(record.warnings), WARNINGS),
        "characters of the longest name": (max(map(len, names), default=0), NAME_CHARS),
        "bytes of header-derived search text": (searched_bytes, HEADER_SEARCH_BYTES),
        **{f"addresses in {name}": (len(addresses), ADDRESSES) for name, addresses in lists.items()},
    }
    return [f"{count} {what}" for what, (count, limit) in counts.items() if count > limit]


def _warned(record: MessageRecord, *fragments: str) -> bool:
    text = "\n".join(record.warnings)
    return all(fragment in text for fragment in fragments)


def _emails(addresses) -> list[str]:
    return [address.email for address in addresses]


# What each case must read as, beyond being storable: (record, the records by case) -> failed checks.
def _expect(record: MessageRecord, by_case: dict[str, MessageRecord]) -> dict[str, dict]:
    long_key = by_case.get("long-message-id.eml")
    return {
        "subject-encoded-nul.eml": {
            "subject is xy": record.subject == "xy",
            "warned": _warned(record, "control characters removed"),
        },
        "subject-base64-nul.eml": {"subject is abc": record.subject == "abc"},
        "subject-encoded-control-characters.eml": {"subject kept": record.subject.endswith("end")},
        "from-encoded-nul-in-name.eml": {
            "name": [(a.name, a.email) for a in record.from_] == [("Bob the builder", "bob@hostile.example")]
        },
        "attachment-filename-percent-nul.eml": {
            "file name ab.pdf": [(a.filename, a.name) for a in record.attachments] == [("ab.pdf", "ab.pdf")],
            "warned": _warned(record, "control characters removed"),
        },
        "attachment-filename-encoded-nul.eml": {
            "file name cd.pdf": [a.filename for a in record.attachments] == ["cd.pdf"]
        },
        "attachment-filename-control-characters.eml": {
            "file name e.pdf": [a.filename[-5:] for a in record.attachments] == ["e.pdf"]
        },
        "body-nul.eml": {"text": "before" in record.text and "after" in record.text},
        "body-html-nul.eml": {"html": "with nul" in (record.html or "")},
        "subject-1mb-distinct-words.eml": {
            "subject starts": record.subject.startswith("w0 w1eef w3dde"),
            "warned": _warned(record, "subject cut"),
        },
        "long-message-id.eml": {
            "hashed": record.message_id != LONG_ID,
            "kept whole": getattr(record, "message_id_header", None) == LONG_ID,
            "warned": _warned(record, "longer than"),
        },
        "references-long-id.eml": {
            "kept whole": getattr(record, "message_id_header", None) == LONG_REPLY_ID,
            "in-reply-to threads": long_key is not None and record.in_reply_to == long_key.message_id,
            "references thread": long_key is not None
            and record.references == ("<first@hostile.example>", long_key.message_id),
        },
        "message-id-non-ascii-long.eml": {"hashed": record.message_id.endswith(".invalid>")},
        "references-5000-ids.eml": {
            "first kept": record.references[:1] == ("<ref0@hostile.example>",),
            "last kept": record.references[-1:] == ("<ref4999@hostile.example>",),
            "warned": _warned(record, "References"),
        },
        "to-5000-addresses.eml": {
            "first kept": _emails(record.to)[:2] == ["p0@hostile.example", "p1@hostile.example"],
            "warned": _warned(record, "To"),
        },
        "cc-long-display-names.eml": {"warned": bool(record.warnings), "some kept": len(record.cc) > 10},
        "from-display-name-100k.eml": {
            "address": _emails(record.from_) == ["long@hostile.example"],
            "warned": _warned(record, "display name"),
        },
        "from-address-too-long.eml": {
            "address": _emails(record.from_) == ["ok@hostile.example"],
            "warned": _warned(record, "From"),
        },
        "attachment-filename-10k-characters.eml": {
            "extension kept": [a.filename[-4:] for a in record.attachments] == [".pdf"],
            "warned": _warned(record, "attachment name"),
        },
        "body-line-1mb.eml": {"text": len(record.text) == 1_000_000},
        "from-unquoted-address-as-display-name.eml": {
            "address": _emails(record.from_) == ["evil@evil.example"],
            "warned": _warned(record, "the From address list was malformed: read as evil@evil.example"),
        },
        "to-unquoted-address-as-display-name.eml": {
            "addresses": _emails(record.to) == ["evil@evil.example", ME],
            "warned": _warned(record, "the To address list was malformed"),
        },
        "from-two-angle-addresses.eml": {"warned": _warned(record, "the From address list was malformed")},
        "from-nested-comments-5000.eml": {"warned": bool(record.warnings)},
        "mime-5000-parts.eml": {
            "text": record.text == "the text of the message",
            "one warning": sum("attachments" in w for w in record.warnings) == 1,
            "warned": _warned(record, "4999 attachments: the first 1000 are listed"),
        },
        "mime-5000-named-attachments.eml": {
            "text": record.text == "the text of the message",
            "first listed": [a.filename for a in record.attachments[:2]] == ["f0.pdf", "f1.pdf"],
            "warned": _warned(record, "the first 1000 are listed"),
        },
        "mime-5000-text-parts.eml": {"text": record.text.startswith("the text of the message")},
        "multipart-nested-200-deep.eml": {
            "no long names": all(len(a.name) < 100 for a in record.attachments),
            "text or warned": record.text == "the text of the message" or _warned(record, "nested"),
        },
        "multipart-nested-1000-deep.eml": {"warned": _warned(record, "nested")},
        "multipart-nested-60-deep.eml": {
            "no long names": all(len(a.name) < 100 for a in record.attachments),
            "text or warned": record.text == "the text of the message" or _warned(record, "nested"),
        },
        "boundary-missing-final.eml": {"text": record.text.startswith("the text of the message")},
        "date-unparseable.eml": {"arrival date": record.date is not None, "warned": _warned(record, "Date")},
        "duplicate-headers.eml": {"first subject": record.subject == "duplicate-headers"},
        "headers-only.eml": {"subject": record.subject == "headers only"},
    }.get(_case_of(record, by_case), {})


def _case_of(record: MessageRecord, by_case: dict[str, MessageRecord]) -> str | None:
    return next((name for name, other in by_case.items() if other is record), None)


def _failed_expectations(record: MessageRecord, by_case: dict[str, MessageRecord]) -> list[str]:
    return [check for check, passed in _expect(record, by_case).items() if not passed]


# -- through the server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synced(dovecot):
    """Every case delivered between good emails, then one sync: (UID -> what was delivered,
    records by UID, failures by UID)."""
    user = dovecot.add_user()
    delivered: dict[int, str] = {}
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
    client.login(user.login, user.password)
    try:
        order = ["good-0"]
        for index, name in enumerate(CASES, 1):
            order += [name, f"good-{index}"]
        for uid, item in enumerate(order, 1):
            if item.startswith("good-"):
                raw = make_mail(uid, subject=item, text=f"the good text of {item}")
            else:
                raw = build(item)
            dovecot.deliver(user, raw)
            # STATUS makes Dovecot index the new file now, so UID n is the n-th message.
            assert client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == uid
            delivered[uid] = item
    finally:
        client.logout()
    with connect(settings_for(dovecot, user)) as mailbox:
        batches = list(sync_folder(mailbox, "INBOX", None, None, own_addresses={ME}, batch_size=20))
    records = {record.uid: record for batch in batches for record in batch.messages}
    failed = {failure.uid: failure for batch in batches for failure in batch.failed}
    return delivered, records, failed, batches[-1].state


@pytest.fixture(scope="module")
def by_case(synced) -> dict[str, MessageRecord]:
    delivered, records, _failed, _state = synced
    return {name: records[uid] for uid, name in delivered.items() if uid in records}


def test_every_good_email_arrives(synced):
    delivered, records, failed, state = synced
    good = {uid: name for uid, name in delivered.items() if name.startswith("good-")}
    assert {uid: records[uid].subject for uid in good if uid in records} == good
    for uid, name in good.items():
        assert records[uid].text == f"the good text of {name}"
        assert not records[uid].warnings, records[uid].warnings
    assert not set(good) & set(failed)
    assert state.last_uid == len(delivered), "the folder's state moved past every message"


def test_the_engine_reads_every_message_the_server_hands_over(synced):
    delivered, _records, failed, _state = synced
    assert {delivered[uid]: failure.reason for uid, failure in failed.items()} == {}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_mail_is_stored_storable_or_listed_with_a_reason(synced, by_case, name):
    delivered, records, failed, _state = synced
    [uid] = [uid for uid, item in delivered.items() if item == name]
    if uid in failed:
        assert failed[uid].reason, f"{name} is listed as failed without a reason"
        return
    assert uid in records, f"{name} is neither a record nor listed as failed"
    record = records[uid]
    assert storability_problems(record) == []
    assert _failed_expectations(record, by_case) == []


# -- in hand, without the server ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_mail_in_hand_gives_a_storable_record(name):
    place = Place("INBOX", 1, 1, internal_date=datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC))
    record = record_from_bytes(build(name), place._replace(folder_role=FolderRole.INBOX))
    assert storability_problems(record) == []
