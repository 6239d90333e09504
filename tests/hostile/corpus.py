"""Hostile mail: what mail servers and spam let through, one message per case.

Generated rather than kept as files, so that a 1 MB subject or 5,000 MIME parts cost nothing on
disk. Each case is named by the file name it is written under:

    python3 -m tests.hostile.corpus DIRECTORY    # writes every case as DIRECTORY/<name>

Every message here must come out of a sync as a record the database can store (or, failing that,
as a FailedMessage with its reason); tests/test_hostile_mail.py delivers them between good emails.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable
from pathlib import Path

# The Message-ID of long-message-id.eml: 3,000 characters, answered by references-long-id.eml.
LONG_ID = "<" + "x" * 2_978 + "@long.example>"
LONG_REPLY_ID = "<" + "r" * 2_978 + "@long.example>"
HEADERS = (
    b"From: Spam Sender <spam@hostile.example>\r\n"
    b"To: me@example.test\r\n"
    b"Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n"
    b"MIME-Version: 1.0\r\n"
)


def _mail(
    name: str, headers: bytes = b"", body: bytes = b"plain words\r\n", subject: bytes | None = None
) -> bytes:
    """A message with the usual headers, a Message-ID named after the case, and ``headers`` last."""
    subject = name.encode() if subject is None else subject
    top = HEADERS + b"Message-ID: <" + name.encode() + b"@hostile.example>\r\nSubject: " + subject + b"\r\n"
    if b"content-type:" not in headers.lower():
        headers += b"Content-Type: text/plain; charset=utf-8\r\n"
    return top + headers + b"\r\n" + body


def _without(message: bytes, *names: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    lines = [
        line for line in head.split(b"\r\n") if not line.lower().startswith(tuple(n.lower() for n in names))
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _multipart(name: str, parts: list[bytes], subtype: bytes = b"mixed", headers: bytes = b"") -> bytes:
    boundary = b"b-" + name.encode()
    body = (
        b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"
    )
    content_type = b"Content-Type: multipart/" + subtype + b'; boundary="' + boundary + b'"\r\n'
    return _mail(name, headers + content_type, body)


TEXT_PART = b"Content-Type: text/plain; charset=utf-8\r\n\r\nthe text of the message\r\n"


def _attachment(filename_params: bytes, data: bytes = b"%PDF-1.4 tiny") -> bytes:
    return (
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
        + filename_params
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(data)
    )


def _with_attachment(name: str, filename_params: bytes) -> bytes:
    return _multipart(name, [TEXT_PART, _attachment(filename_params)])


def _distinct_words(size: int) -> bytes:
    words, total, index = [], 0, 0
    while total < size:
        word = b"w%x" % (index * 7919)
        words.append(word)
        total += len(word) + 1
        index += 1
    return b" ".join(words)


def _folded(value: bytes, width: int = 900) -> bytes:
    """A long header value folded at spaces, as a mailer would (RFC 5322 line length)."""
    lines, line = [], b""
    for word in value.split(b" "):
        if line and len(line) + len(word) > width:
            lines.append(line)
            line = b""
        line = line + b" " + word if line else word
    lines.append(line)
    return b"\r\n ".join(lines)


def _nested(depth: int) -> bytes:
    body = TEXT_PART
    for level in range(depth):
        boundary = b"n%d" % level
        body = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return body


def _many_parts(name: str, count: int, part: Callable[[int], bytes]) -> bytes:
    return _multipart(name, [TEXT_PART, *(part(index) for index in range(count - 1))])


CONTROLS = bytes(range(1, 32)).replace(b"\r", b"").replace(b"\n", b"") + b"\x7f"

# name -> builder of the message's bytes
CASES: dict[str, Callable[[str], bytes]] = {
    # NUL and control characters, raw and encoded, wherever a header carries them
    "subject-encoded-nul.eml": lambda n: _mail(n, subject=b"=?utf-8?q?x=00y?="),
    "subject-base64-nul.eml": lambda n: _mail(
        n, subject=b"=?utf-8?b?" + base64.b64encode(b"a\0b\0c") + b"?="
    ),
    "subject-raw-nul.eml": lambda n: _mail(n, subject=b"raw\0nul"),
    "subject-encoded-control-characters.eml": lambda n: _mail(
        n, subject=b"=?utf-8?q?" + b"".join(b"=%02X" % c for c in CONTROLS) + b"_end?="
    ),
    "headers-raw-control-characters.eml": lambda n: _without(
        _mail(
            n,
            b"From: Ev\x01il\x1b <ev\x02il@hostile.example>\r\nTo: a\x03b <to\x07@hostile.example>\r\n"
            b"In-Reply-To: <par\x01ent@hostile.example>\r\nReferences: <r\x08ef@hostile.example>\r\n",
            subject=b"con\x01tr\x1bol \x7f chars",
        ),
        b"From: Spam",
        b"To: me",
    ),
    "from-encoded-nul-in-name.eml": lambda n: _without(
        _mail(n, b"From: =?utf-8?q?Bob=00_the_builder?= <bob@hostile.example>\r\n"), b"From: Spam"
    ),
    "from-encoded-controls-in-quoted-name.eml": lambda n: _without(
        _mail(n, b'From: "=?utf-8?q?a=01=02b?=" <q@hostile.example>\r\n'), b"From: Spam"
    ),
    "message-id-encoded-nul.eml": lambda n: _without(
        _mail(n, b"Message-ID: <id=00nul@hostile.example>\r\nMessage-ID: <second@hostile.example>\r\n"),
        b"Message-ID: <message-id-encoded",
    ),
    "attachment-filename-percent-nul.eml": lambda n: _with_attachment(n, b"filename*=utf-8''a%00b.pdf"),
    "attachment-filename-encoded-nul.eml": lambda n: _with_attachment(n, b'filename="=?utf-8?q?c=00d.pdf?="'),
    "attachment-filename-control-characters.eml": lambda n: _with_attachment(
        n, b"filename*=utf-8''" + b"".join(b"%%%02X" % c for c in CONTROLS) + b"e.pdf"
    ),
    "body-nul.eml": lambda n: _mail(n, body=b"before\0after\r\nline two \0\0\r\n"),
    "body-html-nul.eml": lambda n: _mail(
        n, b"Content-Type: text/html; charset=utf-8\r\n", b"<p>html\0with nul</p>\r\n"
    ),
    "body-quoted-printable-nul.eml": lambda n: _mail(
        n, b"Content-Transfer-Encoding: quoted-printable\r\n", b"encoded=00nul and =01 control\r\n"
    ),
    # Over-long headers
    "subject-1mb-distinct-words.eml": lambda n: _mail(n, subject=_folded(_distinct_words(1_000_000))),
    "subject-1mb-encoded-words.eml": lambda n: _mail(
        n,
        subject=b"\r\n ".join(
            b"=?utf-8?b?" + base64.b64encode(f"é{i:05d}".encode()) + b"?=" for i in range(40_000)
        ),
    ),
    "long-message-id.eml": lambda n: _without(
        _mail(n, b"Message-ID: " + LONG_ID.encode() + b"\r\n"), b"Message-ID: <long"
    ),
    "references-long-id.eml": lambda n: _without(
        _mail(
            n,
            b"Message-ID: "
            + LONG_REPLY_ID.encode()
            + b"\r\nIn-Reply-To: "
            + LONG_ID.encode()
            # as a mailer folds it: the id alone on its line, too long to fold
            + b"\r\nReferences: <first@hostile.example>\r\n "
            + LONG_ID.encode()
            + b"\r\n",
        ),
        b"Message-ID: <references",
    ),
    "message-id-non-ascii-long.eml": lambda n: _without(
        _mail(n, b"Message-ID: <" + "é".encode() * 400 + b"@hostile.example>\r\n"), b"Message-ID: <message"
    ),
    "references-5000-ids.eml": lambda n: _mail(
        n, b"References: " + b"\r\n ".join(b"<ref%d@hostile.example>" % i for i in range(5_000)) + b"\r\n"
    ),
    "to-5000-addresses.eml": lambda n: _without(
        _mail(
            n,
            b"To: "
            + b",\r\n ".join(b"Person %d <p%d@hostile.example>" % (i, i) for i in range(5_000))
            + b"\r\n",
        ),
        b"To: me",
    ),
    "cc-long-display-names.eml": lambda n: _mail(
        n,
        b"Cc: "
        + b",\r\n ".join(
            b'"' + _folded(_distinct_words(3_000) + b" %d" % i, 200) + b'" <c%d@hostile.example>' % i
            for i in range(300)
        )
        + b"\r\n",
    ),
    "from-display-name-100k.eml": lambda n: _without(
        _mail(n, b"From: " + _folded(_distinct_words(100_000)) + b" <long@hostile.example>\r\n"),
        b"From: Spam",
    ),
    "from-address-too-long.eml": lambda n: _without(
        _mail(n, b"From: Long <" + b"l" * 3_000 + b"@hostile.example>, ok@hostile.example\r\n"), b"From: Spam"
    ),
    "attachment-filename-10k-characters.eml": lambda n: _with_attachment(
        n, b'filename="' + b"n" * 10_000 + b'.pdf"'
    ),
    "attachment-filename-rfc2231-continuations-1000.eml": lambda n: _with_attachment(
        n,
        b";\r\n ".join(
            b"filename*%d*=utf-8''%%C3%%A9%d" % (i, i) if i == 0 else b"filename*%d=p%d" % (i, i)
            for i in range(1_000)
        ),
    ),
    "header-line-1mb.eml": lambda n: _mail(n, b"X-Long: " + b"h" * 1_000_000 + b"\r\n"),
    "body-line-1mb.eml": lambda n: _mail(n, body=b"b" * 1_000_000 + b"\r\n"),
    "malformed-header-lines-5000.eml": lambda n: _mail(
        n, b"".join(b"not a header %d\r\n" % i for i in range(5_000))
    ),
    # Addresses a mail client reads otherwise than Python's parser
    "from-unquoted-address-as-display-name.eml": lambda n: _without(
        _mail(n, b"From: a@real.example <evil@evil.example>\r\n"), b"From: Spam"
    ),
    "to-unquoted-address-as-display-name.eml": lambda n: _without(
        _mail(n, b"To: boss@real.example <evil@evil.example>, me@example.test\r\n"), b"To: me"
    ),
    "from-two-angle-addresses.eml": lambda n: _without(
        _mail(n, b"From: Bob <bob@hostile.example> <other@hostile.example>\r\n"), b"From: Spam"
    ),
    "from-garbage.eml": lambda n: _without(_mail(n, b"From: <<<@@>>>, ;;; ,\r\n"), b"From: Spam"),
    "from-nested-comments-5000.eml": lambda n: _without(
        _mail(n, b"From: " + b"(" * 5_000 + b"deep@hostile.example\r\n"), b"From: Spam"
    ),
    "from-group-only.eml": lambda n: _without(_mail(n, b"From: undisclosed-recipients:;\r\n"), b"From: Spam"),
    # MIME bombs
    "mime-5000-parts.eml": lambda n: _many_parts(
        n, 5_000, lambda i: b"Content-Type: application/octet-stream\r\n\r\nx%d" % i
    ),
    "mime-5000-named-attachments.eml": lambda n: _many_parts(
        n, 5_000, lambda i: _attachment(b'filename="f%d.pdf"' % i, b"x")
    ),
    "mime-5000-text-parts.eml": lambda n: _many_parts(
        n, 5_000, lambda i: b"Content-Type: text/plain; charset=utf-8\r\n\r\ntext %d" % i
    ),
    "multipart-nested-200-deep.eml": lambda n: _mail(
        n, _nested(200).partition(b"\r\n\r\n")[0] + b"\r\n", _nested(200).partition(b"\r\n\r\n")[2]
    ),
    "multipart-nested-1000-deep.eml": lambda n: _mail(
        n, _nested(1_000).partition(b"\r\n\r\n")[0] + b"\r\n", _nested(1_000).partition(b"\r\n\r\n")[2]
    ),
    "multipart-nested-60-deep.eml": lambda n: _mail(
        n, _nested(60).partition(b"\r\n\r\n")[0] + b"\r\n", _nested(60).partition(b"\r\n\r\n")[2]
    ),
    "message-rfc822-nested-100-deep.eml": lambda n: _mail(
        n,
        b"Content-Type: message/rfc822\r\n",
        b"".join(b"Subject: inner %d\r\nContent-Type: message/rfc822\r\n\r\n" % i for i in range(100))
        + b"Subject: last\r\n\r\ninner text\r\n",
    ),
    # Broken MIME
    "boundary-missing-final.eml": lambda n: _mail(
        n,
        b'Content-Type: multipart/mixed; boundary="xx"\r\n',
        b"--xx\r\n" + TEXT_PART + b"--xx\r\n" + _attachment(b'filename="cut.pdf"'),
    ),
    "boundary-never-used.eml": lambda n: _mail(
        n, b'Content-Type: multipart/mixed; boundary="absent"\r\n', b"--other\r\n" + TEXT_PART
    ),
    "boundary-parameter-missing.eml": lambda n: _mail(n, b"Content-Type: multipart/mixed\r\n", TEXT_PART),
    "boundary-empty.eml": lambda n: _mail(
        n, b'Content-Type: multipart/mixed; boundary=""\r\n', b"--\r\n" + TEXT_PART
    ),
    "boundary-1000-characters.eml": lambda n: _mail(
        n,
        b'Content-Type: multipart/mixed; boundary="' + b"q" * 1_000 + b'"\r\n',
        b"--" + b"q" * 1_000 + b"\r\n" + TEXT_PART + b"--" + b"q" * 1_000 + b"--\r\n",
    ),
    "content-type-garbage.eml": lambda n: _mail(n, b"Content-Type: ;;;/\x01\r\n"),
    "base64-body-garbage.eml": lambda n: _mail(
        n, b"Content-Transfer-Encoding: base64\r\n", b"!!!!not base64 at all\x00\xff====\r\n"
    ),
    # Charsets and encoded words (RFC 2047, RFC 2231)
    "encoded-word-unknown-charset.eml": lambda n: _mail(n, subject=b"=?x-martian?q?caf=E9?="),
    "encoded-word-python-codec-names.eml": lambda n: _mail(
        n, subject=b"=?hex?q?41?= =?rot13?q?nopq?= =?undefined?q?x?= =?unicode_escape?q?=5Cx00=5Cud800?="
    ),
    "encoded-word-utf7-lone-surrogate.eml": lambda n: _mail(n, subject=b"=?utf-7?q?+2D3-_end?="),
    "encoded-word-unterminated.eml": lambda n: _mail(n, subject=b"=?utf-8?q?never_ends"),
    "encoded-word-split-multibyte.eml": lambda n: _mail(n, subject=b"=?utf-8?q?=C3?= x =?utf-8?q?=A9?="),
    "encoded-word-invalid-base64.eml": lambda n: _mail(n, subject=b"=?utf-8?b?!!*&^%?= =?utf-8?b?w6k?="),
    "encoded-word-invalid-utf8.eml": lambda n: _mail(n, subject=b"=?utf-8?q?=FF=FE=C3?="),
    "rfc2231-unknown-charset.eml": lambda n: _with_attachment(n, b"filename*=x-bogus''%E9t%E9.pdf"),
    "rfc2231-python-codec-charset.eml": lambda n: _with_attachment(n, b"filename*=undefined''x.pdf"),
    "rfc2231-bad-percent.eml": lambda n: _with_attachment(n, b"filename*=utf-8''%ZZ%4.pdf%"),
    "rfc2231-continuation-gaps.eml": lambda n: _with_attachment(
        n, b"filename*0=a; filename*2=c.pdf; filename*0=again; filename*9*=utf-8''%FF"
    ),
    "body-charset-python-codec.eml": lambda n: _mail(
        n, b"Content-Type: text/plain; charset=hex\r\n", b"4142\r\n"
    ),
    "body-charset-unicode-escape.eml": lambda n: _mail(
        n, b"Content-Type: text/plain; charset=unicode_escape\r\n", b"a\\x00b\\ud800c\r\n"
    ),
    "body-charset-undefined.eml": lambda n: _mail(n, b"Content-Type: text/plain; charset=undefined\r\n"),
    # 8-bit headers
    "headers-8bit-latin1.eml": lambda n: _without(
        _mail(n, b"From: Andr\xe9 <andre@hostile.example>\r\n", subject=b"R\xe9union \xe0 Z\xfcrich"),
        b"From: Spam",
    ),
    "headers-8bit-invalid-utf8.eml": lambda n: _mail(n, subject=b"bad \xc3\x28 \xff\xfe utf-8 \xed\xa0\x80"),
    # Dates
    "date-unparseable.eml": lambda n: _without(_mail(n, b"Date: the day after tomorrow\r\n"), b"Date: Mon"),
    "date-out-of-range.eml": lambda n: _without(
        _mail(n, b"Date: Mon, 2 Nov 99999 10:00:00 +9999\r\n"), b"Date: Mon"
    ),
    # Duplicates, emptiness
    "duplicate-headers.eml": lambda n: _mail(
        n,
        b"From: second@hostile.example\r\nSubject: second subject\r\nMessage-ID: <dup2@hostile.example>\r\n"
        b"Date: Tue, 3 Nov 2026 10:00:00 +0100\r\nTo: second-to@hostile.example\r\n",
    ),
    "empty-message.eml": lambda n: b"",
    "headers-only.eml": lambda n: (
        HEADERS + b"Subject: headers only\r\nMessage-ID: <headers-only@hostile.example>"
    ),
    "no-headers-body-only.eml": lambda n: b"\r\njust a body, no headers\r\n",
    "not-an-email.eml": lambda n: bytes(range(256)) * 40,
}


def build(name: str) -> bytes:
    return CASES[name](name.removesuffix(".eml"))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    directory = Path(argv[0])
    directory.mkdir(parents=True, exist_ok=True)
    for name in CASES:
        (directory / name).write_bytes(build(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
