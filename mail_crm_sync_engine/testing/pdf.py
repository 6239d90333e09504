"""A small, real PDF for test and demo attachments: any viewer opens it."""

from __future__ import annotations

from collections.abc import Sequence


def one_page_pdf(lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF showing ``lines`` in Courier (columns line up), the first as a bold
    Helvetica title.

    Text is limited to Windows-1252, the character set of PDF's standard fonts.
    """

    title, *rest = lines
    content = (
        f"BT /F2 16 Tf 20 TL 56 800 Td {show_line(title)}/F1 9.5 Tf 14 TL\n{''.join(map(show_line, rest))}ET"
    )
    stream = content.encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Title (%s) /Producer (mail_crm_sync) >>" % _escape(title).encode("cp1252"),
    ]
    return pdf_file(objects)


def pdf_file(objects: Sequence[bytes]) -> bytes:
    """A PDF of ``objects`` numbered from 1, with its cross-reference table and trailer (the last
    object is the /Info dictionary)."""
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    pdf += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(pdf)


def show_line(line: str) -> str:
    """A content-stream operator that shows ``line`` on the next line."""
    return f"({_escape(line)}) '\n"


def _escape(text: str) -> str:
    """A PDF string literal's content: backslashes and parentheses escaped."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
