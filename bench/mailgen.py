"""Fill a harness mailbox with varied, reproducible mail, fast: the engine benchmark's mix.

    from bench.mailgen import fill_mailbox
    fill_mailbox(server, user, 10_000, seed=1)

(The realistic mailbox of the Odoo benchmarks, threads with quoted replies and real PDFs, is
``bench/realistic_mail.py``; it shares this module's MIME helpers and maildir writer.)

The mix: plain text, HTML only, multipart/alternative, and a third with one or two 10-300 KB
attachments; senders, subjects, bodies and file names in several scripts (RFC 2047 and RFC 2231
encoded). Dates and INTERNALDATEs (the maildir file's mtime) spread over the last ``days`` days.
The same seed gives the same messages.

Messages are written straight into the maildir (the way ``DovecotServer.deliver`` does, but
without re-owning the whole directory tree per message, which is quadratic in the mailbox size).
"""

from __future__ import annotations

import base64
import email.utils
import os
import quopri
import random
import time
from collections.abc import Iterable
from email.header import Header
from pathlib import Path

from mail_crm_sync_engine.testing import DovecotServer, MailUser

PEOPLE = (
    ("Zoë Martin", "zoe.martin@client.example"),
    ("Jürgen Müller", "j.mueller@kunde.example"),
    ("Łukasz Wójcik", "lukasz@klient.example"),
    ("小林 花子", "kobayashi@kaisha.example"),
    ("Анна Смирнова", "anna@klient.example"),
    ("José Núñez", "jose@cliente.example"),
    ("Sarah O'Connor", "sarah.oconnor@customer.example"),
    ("Ahmed Al-Farsi", "ahmed@partner.example"),
    ("Chloé Dubois", "chloe@client.example"),
    ("Support", "noreply@vendor.example"),
)
SUBJECTS = (
    "Devis n°{n} — révision",
    "Angebot {n}: Änderungswünsche",
    "Re: Zamówienie {n} – potwierdzenie",  # noqa: RUF001 - real subjects use typographic dashes
    "見積書 {n} の件",
    "Счёт {n} на оплату",
    "Re: Fw: Presupuesto {n} año 2026",
    "Quarterly report #{n}",
    "Meeting notes {n}",
)
PARAGRAPHS = (
    "Bonjour, voici le devis révisé comme convenu lors de notre échange téléphonique.",
    "Vielen Dank für Ihre Anfrage. Anbei finden Sie die überarbeiteten Unterlagen.",
    "Dziękujemy za zamówienie; termin realizacji to około dwóch tygodni.",
    "いつもお世話になっております。見積書をお送りいたします。",
    "Добрый день! Направляем вам счёт на оплату и акт выполненных работ.",
    "Please find the figures for the last quarter below; revenue grew by 12 %.",
    "Let me know if Tuesday at 10:00 works for you, otherwise Thursday afternoon.",
    "El presupuesto incluye instalación, formación y un año de mantenimiento.",
)
ATTACHMENTS = (
    ("application/pdf", "Devis révisé {n}.pdf"),
    ("application/pdf", "invoice-{n}.pdf"),
    ("image/jpeg", "photo_{n}.jpg"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Übersicht {n}.xlsx"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "договор {n}.docx"),
    ("application/zip", "plans-{n}.zip"),
)
OWNER = ("Me", "me@example.test")


def address(person: tuple[str, str]) -> str:
    return email.utils.formataddr(person, charset="utf-8")


def encoded(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def qp(text: str) -> bytes:
    return quopri.encodestring(text.replace("\n", "\r\n").encode("utf-8"))


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def text_part(text: str, subtype: str) -> bytes:
    head = (
        f"Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode() + qp(text)


def multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    return head + body + b"--" + boundary.encode() + b"--\r\n"


class MailGenerator:
    """Deterministic message bytes; attachment payloads come from a seeded pool so filling is fast."""

    def __init__(self, seed: int = 1):
        self.random = random.Random(seed)
        pool_random = random.Random(seed + 1)
        # 24 payloads of 10-300 KB; mail shares them, the way real mail reuses the same few files.
        self.payloads = [pool_random.randbytes(pool_random.randint(10_000, 300_000)) for _ in range(24)]
        self.encoded_payloads = [b64(payload) for payload in self.payloads]

    def message(self, index: int, when: float) -> bytes:
        rnd = self.random
        sender, recipient = rnd.choice(PEOPLE), OWNER
        if rnd.random() < 0.15:  # some mail the owner sent
            sender, recipient = OWNER, rnd.choice(PEOPLE)
        cc = rnd.sample(PEOPLE, rnd.randint(0, 2))
        subject = rnd.choice(SUBJECTS).format(n=index)
        text = "\n\n".join(rnd.choice(PARAGRAPHS) for _ in range(rnd.randint(2, 30)))
        html = "".join(f"<p>{paragraph}</p>\n" for paragraph in text.split("\n\n"))
        html = f"<html><body>{html}<p><b>{sender[0]}</b></p></body></html>"
        kind = rnd.random()
        boundary = f"=_mcs_{index}_{rnd.getrandbits(32):08x}"
        if kind < 1 / 3:
            parts = [
                multipart(
                    "alternative", boundary + "_alt", [text_part(text, "plain"), text_part(html, "html")]
                )
            ]
            for _ in range(rnd.choice((1, 1, 2))):
                parts.append(self._attachment(index))
            body = multipart("mixed", boundary, parts)
        elif kind < 0.55:
            body = multipart("alternative", boundary, [text_part(text, "plain"), text_part(html, "html")])
        elif kind < 0.75:
            body = text_part(html, "html")
        else:
            body = text_part(text, "plain")
        headers = [
            f"Return-Path: <{sender[1]}>",
            f"Received: from mx.example.test by imap.example.test; {email.utils.formatdate(when)}",
            f"From: {address(sender)}",
            f"To: {address(recipient)}",
        ]
        if cc:
            headers.append("Cc: " + ", ".join(address(person) for person in cc))
        headers += [
            f"Subject: {encoded(subject)}",
            f"Date: {email.utils.formatdate(when, localtime=False)}",
            f"Message-ID: <bench.{index}.{rnd.getrandbits(48):012x}@{sender[1].split('@')[1]}>",
            "MIME-Version: 1.0",
        ]
        if index > 0 and rnd.random() < 0.3:
            headers.append(f"In-Reply-To: <bench.{rnd.randrange(index)}@client.example>")
        return "\r\n".join(headers).encode() + b"\r\n" + body

    def _attachment(self, index: int) -> bytes:
        rnd = self.random
        content_type, name = rnd.choice(ATTACHMENTS)
        filename = name.format(n=index)
        slot = rnd.randrange(len(self.payloads))
        if filename.isascii():
            disposition = f'attachment; filename="{filename}"'
        else:
            disposition = f"attachment; filename*=utf-8''{email.utils.quote(rfc2231(filename))}"
        head = (
            f'Content-Type: {content_type}; name="{encoded(filename)}"\r\n'
            f"Content-Transfer-Encoding: base64\r\nContent-Disposition: {disposition}\r\n\r\n"
        )
        return head.encode() + self.encoded_payloads[slot]


def rfc2231(value: str) -> str:
    return "".join(
        char
        if char.isascii() and (char.isalnum() or char in "-._")
        else "".join(f"%{b:02X}" for b in char.encode())
        for char in value
    )


def fill_mailbox(  # noqa: PLR0913 - a benchmark's knobs, all keywords with defaults
    server: DovecotServer,
    user: MailUser,
    count: int,
    seed: int = 1,
    *,
    folder: str = "INBOX",
    days: float = 10.0,
    now: float | None = None,
) -> int:
    """Write ``count`` messages into ``folder`` of ``user``; returns the bytes written.

    Dates (header and INTERNALDATE) are spread over the ``days`` before ``now``, oldest first, so
    UID order follows arrival order as on a real server.
    """
    generator = MailGenerator(seed)
    now = time.time() if now is None else now
    spread = random.Random(seed + 2)
    times = sorted(now - spread.uniform(0, days * 86_400) for _ in range(count))
    mail = ((folder, when, generator.message(index, when)) for index, when in enumerate(times))
    return write_maildir(server, user, mail, tag=f"P{seed}")


def write_maildir(
    server: DovecotServer, user: MailUser, mail: Iterable[tuple[str, float, bytes]], tag: str = "bench"
) -> int:
    """Write each (folder, arrival time, CRLF bytes) straight into ``user``'s maildir, in the order
    given; returns the bytes written.

    The way ``DovecotServer.deliver`` does it (LF line ends, mtime as INTERNALDATE, owned by the
    mail user), minus its per-call re-owning of the folder tree, which is quadratic in the mailbox
    size. Dovecot indexes the files when a client first opens the folder.
    """
    directories: dict[str, tuple[Path, os.stat_result]] = {}
    as_root = os.geteuid() == 0
    written = 0
    for index, (folder, when, raw) in enumerate(mail):
        if folder not in directories:
            directories[folder] = _maildir_folder(server, user, folder)
        directory, owner = directories[folder]
        data = raw.replace(b"\r\n", b"\n")  # maildir files use LF
        name = f"{int(when)}.M{index:07d}{tag}.bench"
        tmp = directory / "tmp" / name
        tmp.write_bytes(data)
        target = directory / "cur" / f"{name},S={len(data)}:2,"
        os.rename(tmp, target)
        os.utime(target, (when, when))
        if as_root:
            os.lchown(target, owner.st_uid, owner.st_gid)
        written += len(data)
    return written


def _maildir_folder(server: DovecotServer, user: MailUser, folder: str) -> tuple[Path, os.stat_result]:
    """The folder's maildir directory (created through the harness when missing) and its owner."""
    directory = user.maildir if folder.upper() == "INBOX" else user.maildir / f".{folder}"
    if not (directory / "cur").is_dir():
        server.deliver(user, b"Subject: placeholder\r\n\r\n", folder=folder).unlink()
    return directory, os.stat(directory)
