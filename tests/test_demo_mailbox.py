"""The demo's mailboxes hold what the demo promises, and the engine reads them as a real mailbox."""

from __future__ import annotations

import datetime

from mail_crm_sync_engine import FolderRole, connect, sync_folder
from mail_crm_sync_engine.testing.demo_mail_texts import CUSTOMERS, MAIL_TEXTS, OTTO, SALESMEN, SALLY
from mail_crm_sync_engine.testing.demo_mailbox import demo_mailboxes
from mail_crm_sync_engine.testing.pdf import one_page_pdf
from tests.conftest import settings_for

WINDOW_DAYS = 14


def test_each_salesman_has_sent_old_foreign_and_threaded_mail():
    now = datetime.datetime.now(datetime.UTC)
    texts = {text.key: text for text in MAIL_TEXTS}
    for salesman, mailbox in demo_mailboxes(now).items():
        raw = b"".join(mail.raw for mail in mailbox)
        assert {mail.folder for mail in mailbox} >= {"INBOX", "Sent"}
        assert any(mail.date < now - datetime.timedelta(days=WINDOW_DAYS) for mail in mailbox)
        assert any(not mail.subject.isascii() for mail in mailbox)
        assert b"In-Reply-To: <demo." in raw and b"text/html" in raw and b"application/pdf" in raw
        strangers = [text for text in MAIL_TEXTS if salesman in text.to and text.sender not in CUSTOMERS]
        assert strangers, f"{salesman.name} has no mail from strangers"
    for text in MAIL_TEXTS:
        assert text.answers is None or texts[text.answers].age_days > text.age_days, text.key


def test_mail_to_both_salesmen_is_the_same_bytes_in_both_mailboxes():
    mailboxes = demo_mailboxes()
    shared = {mail.raw for mail in mailboxes[SALLY]} & {mail.raw for mail in mailboxes[OTTO]}
    assert len(shared) == 1


def test_pdf_is_a_pdf_with_a_valid_cross_reference_table():
    pdf = one_page_pdf(["Angebot (Entwurf) für Zöllner", "40 x Schreibtisch"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split()[0])
    assert pdf[xref:].startswith(b"xref\n0 8\n")
    offsets = [int(line[:10]) for line in pdf[xref:].split(b"\n")[3:10]]
    assert [pdf[offset:].split(b" ", 1)[0] for offset in offsets] == [b"%d" % n for n in range(1, 8)]
    assert b"(Angebot \\(Entwurf\\) f\xfcr Z\xf6llner)" in pdf


def test_first_sync_of_a_demo_mailbox_leaves_old_mail_on_the_server(dovecot):
    for salesman in SALESMEN:
        user = dovecot.add_user()
        mailbox = demo_mailboxes()[salesman]
        for mail in mailbox:
            dovecot.deliver(user, mail.raw, folder=mail.folder, when=mail.date.timestamp())
        window = datetime.date.today() - datetime.timedelta(days=WINDOW_DAYS)
        cutoff = datetime.datetime.combine(window, datetime.time(), datetime.UTC)
        with connect(settings_for(dovecot, user)) as server:
            records = [
                record
                for folder, role in (("INBOX", FolderRole.INBOX), ("Sent", FolderRole.SENT))
                for batch in sync_folder(
                    server, folder, None, window, own_addresses={salesman.email}, folder_role=role
                )
                for record in batch.messages
            ]
        expected = {mail.subject for mail in mailbox if mail.folder != "Junk" and mail.date >= cutoff}
        assert {record.subject for record in records} == expected
        assert len(expected) < len(mailbox)
