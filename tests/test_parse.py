"""Reading broken and foreign mail: what can be read is kept, the rest becomes a warning."""

from __future__ import annotations

import base64

from mail_crm_sync_engine import Direction, FolderRole, connect, sync_folder
from mail_crm_sync_engine.parse import (
    MAX_ADDRESSES,
    MAX_ATTACHMENTS,
    MAX_ID_BYTES,
    MAX_MIME_DEPTH,
    MAX_NAME_CHARS,
    MAX_REFERENCES,
    MAX_SUBJECT_CHARS,
    MAX_TEXT_PARTS,
    MAX_WARNINGS,
    BodyPart,
    Place,
    _params,
    attachment_of,
    build_record,
    decode_lines,
    decode_text,
    decode_transfer,
    decode_words,
    html_to_text,
    message_id_key,
    normalize_message_id,
    plan_parts,
    walk_bodystructure,
)

PLACE = Place(folder="INBOX", uid=7, uidvalidity=1, size=123, folder_role=FolderRole.INBOX)
# The headers every mail should have, so that a test sees only the warnings it is about.
WELL_FORMED = b"Message-ID: <t@x.test>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n"


def _leaf(charset=None, encoding="8bit", content_type="text/plain"):
    params = {"charset": charset} if charset else {}
    return BodyPart("1", content_type, params, None, encoding, 10, None, {})


def record(headers: bytes, body: bytes = b"", leaf=None):
    return build_record(
        headers, [(leaf or _leaf(), body)] if body else [], [], PLACE, frozenset({"me@x.test"})
    )


def test_line_endings_are_made_newlines_in_every_charset_as_the_text_reads():
    """decode_lines replaces CR/LF in the bytes where the charset allows it: the text and the
    warnings must be those of decoding first, whatever the bytes (CR inside a broken UTF-8
    sequence, lone CRs, bytes a charset lacks, charsets whose characters hold 0x0D)."""
    samples = [
        "Grüße\r\nline two\rthree\n\r\n".encode(),
        b"\xc3\r\n\xa9 broken utf-8 around a line end\r",
        b"\x81\x8d\x8f\x90\x9d undefined in Windows-1252\r\n\xe9",
        "ｼｬ\r\nﾟ日本\r".encode("shift_jis"),
        "line\r\nend".encode("utf-16"),
        b"+AGEAYgBj-\r\n+AGE\r\nb",  # utf-7 with a shift that a line ends
        "\r\n".join(["Привет", "мир"]).encode("koi8-r"),
        b"\r\r\n\n\r",
    ]
    charsets = [None, "utf-8", "us-ascii", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis"]
    charsets += ["utf-16", "utf-7", "gb2312", "iso-2022-jp", "x-martian", "cp037"]
    for charset in charsets:
        for data in samples:
            expected_notes, notes = [], []
            expected = decode_text(data, charset, expected_notes).replace("\r\n", "\n").replace("\r", "\n")
            assert decode_lines(data, charset, notes) == expected, (charset, data)
            assert notes == expected_notes, (charset, data)


def test_eight_bit_text_without_charset_is_read_with_a_warning():
    result = record(b"From: a@b.test\r\nSubject: x\r\n\r\n", "Grüße".encode(), _leaf(None))
    assert result.text == "Grüße"
    assert "8-bit text without a charset" in result.warnings


def test_wrong_charset_falls_back_and_says_so():
    latin = "Déjà vu".encode("latin-1")
    result = record(b"From: a@b.test\r\n\r\n", latin, _leaf("x-martian"))
    assert result.text == "Déjà vu"
    assert "unknown charset 'x-martian'" in result.warnings
    mislabelled = record(b"From: a@b.test\r\n\r\n", latin, _leaf("utf-8"))
    assert mislabelled.text == "Déjà vu"
    assert "text is not valid utf-8" in mislabelled.warnings


def test_missing_message_id_gets_a_stable_id_from_the_headers():
    headers = (
        b"From: a@b.test\r\nTo: c@d.test\r\nSubject: no id\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n\r\n"
    )
    first, again = record(headers), record(headers + b"X-Other: y\r\n")
    other = record(headers.replace(b"no id", b"other"))
    assert first.message_id_synthetic
    assert first.message_id == again.message_id != other.message_id
    assert first.message_id.endswith("@mail-crm-sync.invalid>")


def test_without_a_message_id_gmails_own_id_keeps_labels_from_duplicating_mail():
    headers = b"From: a@b.test\r\nSubject: twins\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n\r\n"
    in_inbox, in_label, other = (
        build_record(headers, [], [], PLACE._replace(folder=folder, server_id=server_id), frozenset())
        for folder, server_id in (
            ("INBOX", "1278455344230334865"),
            ("Work", "1278455344230334865"),
            ("INBOX", "99"),
        )
    )
    assert in_inbox.message_id == in_label.message_id == "<1278455344230334865@x-gm-msgid.invalid>"
    assert other.message_id != in_inbox.message_id, "same headers, another Gmail message"
    with_id = build_record(
        b"Message-ID: <real@b.test>\r\n" + headers, [], [], PLACE._replace(server_id="1"), frozenset()
    )
    assert with_id.message_id == "<real@b.test>", "a Message-ID stays the key: sent mail and replies name it"


def test_message_id_is_normalized():
    assert normalize_message_id("  < Abc.123@Mail.Example.COM >") == "<Abc.123@mail.example.com>"
    assert normalize_message_id("abc@EXAMPLE.com") == "<abc@example.com>"
    assert normalize_message_id("") is None


def test_duplicated_and_encoded_headers():
    headers = (
        b"From: =?utf-8?q?Zo=C3=AB?= <ZOE@Client.Example>\r\n"
        b"Subject: =?iso-8859-1?q?R=E9union?=\r\nSubject: second\r\n"
        b"To: a@b.test, undisclosed-recipients:;\r\n"
        b"Date: Tue, 3 Nov 2026 10:00:00 +0100\r\n\r\n"
    )
    result = record(headers)
    assert result.subject == "Réunion"
    assert [(a.name, a.email) for a in result.from_] == [("Zoë", "zoe@client.example")]
    assert [a.email for a in result.to] == ["a@b.test"]
    assert "duplicated subject header: the first one is used" in result.warnings
    assert result.date.isoformat() == "2026-11-03T09:00:00+00:00"


def test_broken_date_and_garbage_addresses_do_not_raise():
    headers = b"From: <<<@@>>>, ok@fine.test\r\nDate: yesterday-ish\r\nTo: ;;;\r\n\r\n"
    result = record(headers)
    assert [a.email for a in result.from_] == ["ok@fine.test"]
    assert result.date is None
    assert any("Date" in warning for warning in result.warnings)


def test_huge_headers_are_read():
    headers = b"From: a@b.test\r\n" + b"".join(b"X-Trace-%d: %s\r\n" % (i, b"y" * 900) for i in range(300))
    result = record(headers + b"Subject: still here\r\n\r\n")
    assert result.subject == "still here"


def test_own_address_makes_mail_outgoing():
    assert record(b"From: Me <ME@x.test>\r\n\r\n").direction == Direction.OUTGOING
    assert record(b"From: you@y.test\r\n\r\n").direction == Direction.INCOMING


def test_html_only_mail_gets_a_readable_text():
    html = (
        "<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>there</b></p><p>Line 2</p></body></html>"
    )
    assert html_to_text(html) == "Hello there\n\nLine 2"
    result = record(b"From: a@b.test\r\n\r\n", html.encode(), _leaf("utf-8", content_type="text/html"))
    assert result.html == html and result.text == "Hello there\n\nLine 2"


def test_broken_base64_gives_what_could_be_read():
    encoded = base64.b64encode(b"hello world, readable part") + b"\r\n!!garbage=="
    assert decode_transfer(encoded, "base64").startswith(b"hello world, readable part")
    assert decode_transfer(b"abc", "base64") == b"i\xb7"


def test_a_truncated_encoded_word_gives_what_could_be_read_as_a_body_does():
    # "Hello!" is SGVsbG8h; one more character is a group cut short, dropped in both places.
    assert decode_transfer(b"SGVsbG8hI", "base64") == b"Hello!"
    assert decode_words("=?utf-8?B?SGVsbG8hI?=") == "Hello!"


def test_rfc2231_and_rfc2047_filenames():
    assert _params(["filename*", "utf-8''offre%20sign%C3%A9e.pdf"]) == {"filename": "offre signée.pdf"}
    assert _params(["name*0*", "utf-8''a%C3%A9", "name*1", "b.txt"]) == {"name": "aéb.txt"}
    assert _params(["name", "=?utf-8?b?w6l0w6kucGRm?="]) == {"name": "été.pdf"}


def test_broken_multipart_through_the_server_is_stored_with_a_warning(dovecot, mail_user, settings):
    broken = (
        b"From: a@b.test\r\nSubject: broken\r\nMessage-ID: <broken@b.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst part, never closed\r\n"
        b"--XX\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE"
    )
    no_body = b"From: c@d.test\r\nSubject: empty\r\n"
    dovecot.deliver(mail_user, broken)
    dovecot.deliver(mail_user, no_body)
    with connect(settings) as mailbox:
        records = [r for batch in sync_folder(mailbox, "INBOX", None, None) for r in batch.messages]
    assert [r.subject for r in records] == ["broken", "empty"]
    assert records[0].text.startswith("first part, never closed")
    assert [a.filename for a in records[0].attachments] == ["a.pdf"]
    assert records[1].message_id_synthetic and records[1].warnings


def test_encoded_words_decode_like_rfc_2047_says():
    assert decode_words("=?utf-8?q?caf=C3=A9_cr=C3=A8me?=") == "café crème"
    # One character split over two words, and the white space between them dropped.
    assert decode_words("=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=") == "éé"
    assert decode_words("=?UTF-8?B?4pyT?=\r\n =?UTF-8?Q?_done?=") == "✓ done"
    assert decode_words("Re: =?iso-8859-1?q?R=E9union?= demain") == "Re: Réunion demain"
    assert decode_words("=?x-unknown?q?plain?= text") == "plain text"
    assert decode_words("no words here") == "no words here"


# -- addresses as mail clients read them -------------------------------------------------------


def _emails(addresses):
    return [address.email for address in addresses]


def test_an_address_in_angle_brackets_wins_over_a_display_name_that_looks_like_one():
    result = record(
        b"From: a@real.example <evil@evil.example>\r\n"
        b"To: boss@real.example <x@evil.example>, b@c.test\r\n\r\n"
    )
    assert [(a.name, a.email) for a in result.from_] == [("a@real.example", "evil@evil.example")]
    assert _emails(result.to) == ["x@evil.example", "b@c.test"]
    assert "the From address list was malformed: read as evil@evil.example" in result.warnings
    assert "the To address list was malformed: read as x@evil.example, b@c.test" in result.warnings


def test_well_formed_address_lists_are_read_as_the_email_package_reads_them_without_a_warning():
    result = record(
        WELL_FORMED + b'From: "a@real.example" <real@real.example>\r\n'
        b'To: "Doe, John" <john@x.test>, Team: ann@x.test, bob@x.test;, "Q. (Quoted)" <q@x.test>\r\n\r\n'
    )
    assert _emails(result.from_) == ["real@real.example"]
    assert _emails(result.to) == ["john@x.test", "ann@x.test", "bob@x.test", "q@x.test"]
    assert not result.warnings


def test_a_malformed_list_keeps_aliases_and_quoted_names_and_drops_garbage():
    result = record(
        b'To: "xxxxx@xxxxx" <matmail>, <<<@@>>>, Group: Ann <ann@x.test>, Big Bug bb@bug.test\r\n'
        b"Cc: " + b"(" * 3000 + b"hidden@x.test\r\n\r\n"
    )
    assert [(a.name, a.email) for a in result.to[:2]] == [("xxxxx@xxxxx", "matmail"), ("Ann", "ann@x.test")]
    assert len(result.to) == 3  # the last read as the email package reads it alone
    assert result.cc == ()  # all of it is an unclosed comment
    assert any(warning.startswith("the Cc address list was malformed") for warning in result.warnings)


def test_address_lists_and_names_are_bounded():
    to = b", ".join(b"P%d <p%d@x.test>" % (i, i) for i in range(1_500))
    result = record(
        b"From: " + b"N" * 1_000 + b" <n@x.test>, " + b"l" * 400 + b"@x.test\r\nTo: " + to + b"\r\n\r\n"
    )
    assert [(len(a.name), a.email) for a in result.from_] == [(MAX_NAME_CHARS, "n@x.test")]
    assert len(result.to) == MAX_ADDRESSES and result.to[-1].email == "p999@x.test"
    assert "the To list is cut to its first 1000 of 1500 addresses" in result.warnings
    assert "1 display names in From cut at 255 characters" in result.warnings
    assert "1 addresses in From longer than 254 characters dropped" in result.warnings


# -- storable records --------------------------------------------------------------------------


def test_nul_and_control_characters_are_removed_from_headers_however_encoded():
    result = build_record(
        b"From: =?utf-8?q?Bob=00=01?= <bob@x.test>\r\nSubject: =?utf-8?q?x=00y?= =?utf-8?b?AQI=?=\r\n"
        b"Message-ID: <a\x01b@x.test>\r\nReferences: <r=00@x.test>\r\n\r\n",
        [(_leaf("utf-8"), b"body\x00text")],
        [
            attachment_of(
                BodyPart(
                    "2",
                    "application/pdf",
                    {},
                    None,
                    "base64",
                    10,
                    "attachment",
                    _params(["filename*", "utf-8''a%00b%07.pdf"]),
                )
            )
        ],
        PLACE,
        frozenset(),
    )
    assert result.subject == "xy"
    assert [(a.name, a.email) for a in result.from_] == [("Bob", "bob@x.test")]
    assert result.message_id == "<ab@x.test>"
    assert result.references == ("<r=00@x.test>",)  # no encoded words in ids: kept as written
    assert [(a.filename, a.name) for a in result.attachments] == [("ab.pdf", "ab.pdf")]
    assert result.text == result.new_text == "bodytext"
    for field in ("subject", "From", "Message-ID", "attachment names"):
        assert (
            f"control characters removed from {'the ' if field == 'subject' else ''}{field}"
            in result.warnings
        )
    assert "NUL characters removed from the text" in result.warnings


def test_a_long_message_id_is_keyed_by_its_hash_wherever_it_appears():
    long_id = "<" + "x" * 3_000 + "@Long.Example>"
    original = record(b"Message-ID: " + long_id.encode() + b"\r\n\r\n")
    reply = record(
        b"Message-ID: <reply@x.test>\r\nIn-Reply-To: "
        + long_id.lower().encode()
        + b"\r\nReferences: <first@x.test>\r\n "
        + long_id.encode()
        + b"\r\n\r\n"
    )
    assert original.message_id == message_id_key(normalize_message_id(long_id))
    assert original.message_id.startswith("<sha256-") and original.message_id.endswith(
        "@long-message-id.invalid>"
    )
    assert len(original.message_id.encode()) <= MAX_ID_BYTES
    assert original.message_id_header == normalize_message_id(long_id)  # whole, for display and replies
    assert reply.in_reply_to == original.message_id  # the domain's case does not matter
    assert reply.references == ("<first@x.test>", original.message_id)
    assert reply.message_id == "<reply@x.test>" and reply.message_id_header is None
    assert "the Message-ID is longer than 500 bytes: it is stored as a hash of it" in original.warnings
    # Measured in bytes: 400 two-byte characters are over the limit too.
    assert message_id_key("<" + "é" * 400 + "@x.test>").endswith("@long-message-id.invalid>")


def test_long_subjects_references_and_warnings_are_cut():
    subject = b" ".join(b"w%d" % i for i in range(200_000))
    references = b"\r\n ".join(b"<r%d@x.test>" % i for i in range(500))
    result = record(b"Subject: " + subject + b"\r\nReferences: " + references + b"\r\n\r\n")
    assert len(result.subject) <= MAX_SUBJECT_CHARS and result.subject.startswith("w0 w1 w2")
    assert len(result.references) == MAX_REFERENCES
    assert result.references[0] == "<r0@x.test>" and result.references[-1] == "<r499@x.test>"
    assert result.references[1] == "<r401@x.test>"
    assert "subject cut at 1000 characters (it had 1488889 as sent)" in result.warnings
    assert "References names 500 ids: the first and the last 99 are kept" in result.warnings


def test_warnings_are_summed_up_and_bounded():
    malformed = b"".join(b"not a header %d\r\n" % i for i in range(5_000))
    assert record(WELL_FORMED + malformed + b"\r\n").warnings == (
        *(f"malformed header line: 'not a header {i}'" for i in range(5)),
        "and 4995 more malformed header lines",
    )
    many = [f"warning {i}" for i in range(200)]
    result = build_record(WELL_FORMED, [], [], PLACE, frozenset(), [*many, "warning 0", "a\x00b\nc" * 200])
    assert len(result.warnings) == MAX_WARNINGS
    assert result.warnings[-1] == "and 152 more warnings"


def test_python_codecs_named_as_charsets_read_as_utf8():
    result = record(
        b"Subject: =?hex?q?41?= =?undefined?q?b?= =?unicode_escape?q?=5Cx00?=\r\n\r\n",
        b"body\\x00",
        _leaf("unicode_escape"),
    )
    assert result.subject == "41b\\x00"
    assert result.text == "body\\x00"
    assert "unknown charset 'unicode_escape'" in result.warnings
    assert _params(["filename*", "undefined''x.pdf", "name*", "hex''y.pdf"]) == {
        "filename": "x.pdf",
        "name": "y.pdf",
    }


# -- MIME bombs --------------------------------------------------------------------------------


def _structure_leaf(content_type: str) -> list:
    main, sub = content_type.split("/")
    extra = [1] if main == "text" else []
    return [main.encode(), sub.encode(), [b"charset", b"utf-8"], None, None, b"7bit", 10, *extra]


def test_thousands_of_parts_give_the_text_and_one_warning():
    parts = [_structure_leaf("text/plain")] + [_structure_leaf("application/pdf") for _ in range(4_999)]
    body, attachments = plan_parts(walk_bodystructure([*parts, b"mixed"]))
    assert [leaf.part for leaf in body] == ["1"]
    result = build_record(
        WELL_FORMED + b"Subject: bomb\r\n\r\n",
        [(body[0], b"the text")],
        [attachment_of(a) for a in attachments],
        PLACE,
        frozenset(),
    )
    assert result.text == "the text"
    assert len(result.attachments) == MAX_ATTACHMENTS
    assert result.warnings == ("4999 attachments: the first 1000 are listed",)


def test_text_parts_past_the_bound_are_listed_as_attachments():
    body, attachments = plan_parts(walk_bodystructure([*([_structure_leaf("text/plain")] * 300), b"mixed"]))
    assert len(body) == MAX_TEXT_PARTS
    assert [leaf.part for leaf in attachments[:2]] == ["101", "102"] and len(attachments) == 200


def test_deep_nesting_keeps_the_text_and_lists_no_part_deeper_than_the_bound():
    structure = [_structure_leaf("text/plain"), _structure_leaf("image/png"), b"mixed"]
    for _level in range(3_000):  # far deeper than Python's recursion limit
        structure = [structure, _structure_leaf("image/png"), b"mixed"]
    body, attachments = plan_parts(walk_bodystructure(structure))
    assert len(body) == 1 and body[0].part == ".".join(["1"] * 3_001)
    result = build_record(
        b"Subject: deep\r\n\r\n",
        [(body[0], b"deep text")],
        [attachment_of(a) for a in attachments],
        PLACE,
        frozenset(),
    )
    assert result.text == "deep text"
    assert len(result.attachments) == MAX_MIME_DEPTH
    assert max(len(a.name) for a in result.attachments) <= MAX_NAME_CHARS
    assert "parts nested deeper than 50 levels are not listed (2951)" in result.warnings
