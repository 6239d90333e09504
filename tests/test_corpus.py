"""Real-world mail from other libraries' fixtures goes through `mail-crm-sync dump` against Dovecot.

The corpus lives outside the repository (../shared/corpora, or $MAIL_CRM_SYNC_CORPORA). Every file
must come out as a record; where dev-expected.tsv marks Python's reading as right (`ok`), the
addresses, subject and attachment names must match it.

How the reference's attachment column was computed (reproduced below, and checked against the
file so a change of method is noticed): ``msg.walk()`` with policy=default over *every* part,
listing ``get_filename()`` (or "(unnamed)") of each part that has a filename or
``Content-Disposition: attachment``. walk() descends into attached emails (message/rfc822), so
the column also names the files *inside* a forwarded email. The engine lists an attached email
as one attachment (its part number downloads the whole .eml), so the names that live inside an
enclosed message are not expected from it; everything else is compared as it stands.
"""

from __future__ import annotations

import csv
import email
import json
import os
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

CORPORA_VARIABLE = "MAIL_CRM_SYNC_CORPORA"
UNNAMED = "(unnamed)"

# Rows marked `ok` where Python's own reading is wrong; the engine must give the corrected value.
REFERENCE_CORRECTIONS = {
    # `filename==?utf-8?B?VGhpcyBpcyBhIHRlc3QucGRm?=`: an unquoted RFC 2047 word, which
    # get_filename() drops (None, so "(unnamed)"); the sender meant "This is a test.pdf".
    "mikel_mail__attachment_emails_attachment_with_base64_encoded_name.eml": {
        "attachments": ["This is a test.pdf"]
    },
    # `To: ..., Mikel@Lindsaar <raasdnil@gmail.com>, ...`: an unquoted display name that looks
    # like an address; mail clients (Thunderbird, Gmail) read the address in angle brackets.
    "mikel_mail__plain_emails_raw_email_with_at_display_name.eml": {
        "to": "smith@gmail.com;raasdnil@gmail.com;tom@gmail.com"
    },
}
# A subject is cut at the engine's bound (a 130,000-character one in flanker__long-header.eml).
SUBJECT_CHARS = 1_000


def corpora_dir() -> Path:
    configured = os.environ.get(CORPORA_VARIABLE)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Path], dict[str, dict[str, str]]]:
    root = corpora_dir()
    dev, expected_file = root / "dev", root / "dev-expected.tsv"
    if not dev.is_dir() or not expected_file.is_file():
        pytest.fail(
            f"The mail corpus is missing: expected {dev}/ and {expected_file}. "
            f"Put the shared corpora beside the repository or set ${CORPORA_VARIABLE}."
        )
    files = sorted(dev.glob("*.eml"))
    with expected_file.open(encoding="utf-8", newline="") as handle:
        expected = {
            row["file"]: row for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        }
    assert files, f"no .eml files in {dev}"
    assert {f.name for f in files} == set(expected), "dev/ and dev-expected.tsv list different files"
    return files, expected


@pytest.fixture(scope="module")
def dumped(dovecot, corpus) -> dict[str, dict]:
    """Deliver the corpus in file order and dump the folder once; records keyed by file name."""
    files, _ = corpus
    user = dovecot.add_user()
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
    client.login(user.login, user.password)
    try:
        for count, path in enumerate(files, 1):
            dovecot.deliver(user, path.read_bytes())
            # STATUS makes Dovecot index the new file now, so UID n is the n-th file.
            assert client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == count
    finally:
        client.logout()
    command = [sys.executable, "-m", "mail_crm_sync_engine", "dump", "--host", dovecot.host]
    command += ["--port", str(dovecot.port), "--security", "none", "--user", user.login, "--folder", "INBOX"]
    result = subprocess.run(
        command,
        env={**os.environ, "MAIL_CRM_SYNC_PASSWORD": user.password},
        capture_output=True,
        timeout=240,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, f"dump exited with {result.returncode}:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    records = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    by_uid = {record["uid"]: record for record in records}
    assert len(by_uid) == len(records)
    return {path.name: by_uid.get(uid) for uid, path in enumerate(files, 1)}


# -- the reference, recomputed ----------------------------------------------------------------


def _named(part: EmailMessage) -> str | None:
    filename = part.get_filename()
    if filename or part.get_content_disposition() == "attachment":
        return filename or UNNAMED
    return None


def reference_attachments(message: EmailMessage) -> list[str]:
    """The reference's method: every part walk() visits, attached emails' insides included."""
    return [name for part in message.walk() if (name := _named(part))]


def outer_attachments(message: EmailMessage) -> list[str]:
    """The same rule, but an attached email is one attachment: walk() stops at message/* parts."""

    def walk(part: EmailMessage):
        yield part
        if part.get_content_maintype() == "multipart":
            for child in part.iter_parts():
                yield from walk(child)

    return [name for part in walk(message) if (name := _named(part))]


def _split(value: str) -> list[str]:
    return [item for item in value.split(";") if item]


def _emails(record: dict, key: str) -> list[str]:
    return sorted(address["email"] for address in record[key])


# -- tests -------------------------------------------------------------------------------------


def test_every_corpus_file_comes_out_of_dump_as_a_record(dumped):
    missing = [name for name, record in dumped.items() if record is None]
    assert not missing, f"{len(missing)} files gave no record: {missing}"
    for name, record in dumped.items():
        assert record["message_id"], name
        assert isinstance(record["text"], str), name
        assert isinstance(record["warnings"], list), name


def test_reference_attachment_column_is_reproduced_by_walk(corpus):
    """Pins down how dev-expected.tsv listed attachments, so the comparison below stays honest."""
    files, expected = corpus
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert ";".join(reference_attachments(message)) == expected[path.name]["attachments"], path.name


def _differences(path: Path, row: dict[str, str], record: dict) -> list[str]:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    problems = []
    corrections = REFERENCE_CORRECTIONS.get(path.name, {})
    for key in ("from", "to", "cc"):
        want, got = sorted(_split(corrections.get(key, row[key]))), _emails(record, key)
        if want != got:
            problems.append(f"{key}: expected {want}, engine {got}")
    want_subject = " ".join(row["subject"].split())[:SUBJECT_CHARS].rstrip()
    if record["subject"] != want_subject:
        problems.append(f"subject: expected {want_subject!r}, engine {record['subject']!r}")
    want_names = corrections.get("attachments") or outer_attachments(message)
    got_names = [attachment["filename"] for attachment in record["attachments"]]
    # Named attachments must match in order; every "(unnamed)" one needs a nameless engine part.
    # The engine also lists nameless non-body parts the reference rule skips (delivery reports).
    named_want = [name for name in want_names if name != UNNAMED]
    named_got = [name for name in got_names if name]
    if named_want != named_got or want_names.count(UNNAMED) > got_names.count(""):
        problems.append(f"attachments: expected {want_names}, engine {got_names}")
    return problems


def test_ok_rows_match_addresses_subject_and_attachment_names(corpus, dumped):
    files, expected = corpus
    failures = {}
    checked = 0
    for path in files:
        row = expected[path.name]
        if row["reference"] != "ok":
            continue
        checked += 1
        problems = _differences(path, row, dumped[path.name])
        if problems:
            failures[path.name] = problems
    assert checked >= 100, f"only {checked} rows marked ok: has dev-expected.tsv changed?"
    report = "\n".join(f"{name}:\n  " + "\n  ".join(problems) for name, problems in failures.items())
    assert not failures, f"{len(failures)} of {checked} reference files differ:\n{report}"


def _lone_surrogates(value, where: str = "") -> list[str]:
    """Paths of strings holding lone surrogates: text PostgreSQL and UTF-8 JSON cannot store."""
    if isinstance(value, str):
        return [where] if any("\ud800" <= char <= "\udfff" for char in value) else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _lone_surrogates(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [
            found for index, item in enumerate(value) for found in _lone_surrogates(item, f"{where}[{index}]")
        ]
    return []


def test_no_record_holds_text_that_cannot_be_stored(dumped):
    bad = {name: found for name, record in dumped.items() if record and (found := _lone_surrogates(record))}
    assert not bad, f"{len(bad)} records hold lone surrogates (undecoded 8-bit bytes): {bad}"
