"""The FETCH reader on byte-exact server answers: shapes, literals, other responses, refusals."""

from __future__ import annotations

import datetime
import imaplib
import io

import pytest

from mail_crm_sync_engine.connection import _read_responses, uid_set
from mail_crm_sync_engine.imap_response import imap_date, parse_fetch, parse_internaldate


class _Wire:
    """Just enough of imaplib.IMAP4 for the reader: a byte stream and imaplib's bookkeeping."""

    def __init__(self, data: bytes):
        self._stream = io.BytesIO(data)
        self.untagged_responses: dict[str, list] = {}
        self.tagged_commands: dict[bytes, object] = {}

    def readline(self) -> bytes:
        return self._stream.readline()

    def read(self, size: int) -> bytes:
        return self._stream.read(size)

    def _append_untagged(self, kind, data):
        self.untagged_responses.setdefault(kind, []).append(data)


def test_reader_splits_fetch_data_from_other_responses_and_reports_refusals():
    wire = _Wire(
        b"* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[1] {5}\r\nhello FLAGS ())\r\n"
        b"* 2 EXISTS\r\n"
        b"* VANISHED (EARLIER) 3:4\r\n"
        b'* 2 FETCH (UID 9 BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 1'
        b" NIL NIL NIL NIL))\r\n"
        b"A1 OK done\r\n"
        b"A2 NO [EXPUNGEISSUED] Some messages could not be FETCHed\r\n"
    )
    pieces, refused = _read_responses(wire, [b"A1", b"A2"])
    data = parse_fetch(pieces)
    assert data[7][b"BODY[1]"] == b"hello" and data[7][b"FLAGS"] == []
    assert data[9][b"BODYSTRUCTURE"][:2] == [b"text", b"plain"]
    assert refused == {b"A2": "[EXPUNGEISSUED] Some messages could not be FETCHed"}
    assert wire.untagged_responses == {"EXISTS": [b"2"], "VANISHED": [b"(EARLIER) 3:4"]}


def test_reader_says_when_the_connection_drops():
    wire = _Wire(b"* 1 FETCH (UID 7 FLAGS ())\r\n")
    with pytest.raises(imaplib.IMAP4.abort, match="EOF"):  # the engine reports it as ServerRefused
        _read_responses(wire, [b"A1"])


def test_quoted_strings_nil_numbers_and_sections():
    data = parse_fetch([b'3 (UID 12 RFC822.SIZE 2048 X "a \\"quoted\\" \\\\ word" Y NIL BODY[1.2]<0> "")'])[
        12
    ]
    assert data[b"RFC822.SIZE"] == 2048
    assert data[b"X"] == b'a "quoted" \\ word'
    assert data[b"Y"] is None
    assert data[b"BODY[1.2]<0>"] == b""


def test_internaldate_and_uid_sets():
    assert parse_internaldate(b"23-Nov-2026 18:36:43 +0100") == datetime.datetime(
        2026, 11, 23, 17, 36, 43, tzinfo=datetime.UTC
    )
    assert parse_internaldate(b"garbage") is None
    assert imap_date(datetime.date(2026, 11, 1)) == "1-Nov-2026"
    assert uid_set([5, 1, 2, 3, 9, 10]) == "1:3,5,9:10"
