"""Reading broken and foreign mail: what can be read is kept, the rest becomes a warning."""

from __future__ import annotations

import base64

from mail_crm_sync_engine import Direction, FolderRole, connect, sync_folder
from mail_crm_sync_engine.parse import (
    BodyPart,
    Place,
    _params,
    build_record,
    decode_transfer,
    decode_words,
    html_to_text,
    normalize_message_id,
)

PLACE = Place(folder="INBOX", uid=7, uidvalidity=1, size=123, folder_role=FolderRole.INBOX)


def _leaf(charset=None, encoding="8bit", content_type="text/plain"):
    params = {"charset": charset} if charset else {}
    return BodyPart("1", content_type, params, None, encoding, 10, None, {})


def record(headers: bytes, body: bytes = b"", leaf=None):
    return build_record(
        headers, [(leaf or _leaf(), body)] if body else [], [], PLACE, frozenset({"me@x.test"})
    )


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
