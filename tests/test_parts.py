"""Attachments on demand: exact bytes, relocation by Message-ID, a clear 'gone'."""

from __future__ import annotations

import os

import pytest

from mail_crm_sync_engine import MessageGone, connect, fetch_message, fetch_part, sync_folder
from tests.conftest import append
from tests.mail_factory import make_mail

PDF = b"%PDF-1.7\n" + os.urandom(70_000)
IMAGE = os.urandom(5_000)


def _sync(mailbox, folder="INBOX"):
    return [record for batch in sync_folder(mailbox, folder, None, None) for record in batch.messages]


def test_part_download_returns_the_exact_bytes(dovecot, mail_user, settings, server_view):
    dovecot.deliver(
        mail_user,
        make_mail(
            1, attachments=(("offre signée.pdf", "application/pdf", PDF), ("logo.png", "image/png", IMAGE))
        ),
    )
    with connect(settings) as mailbox:
        [record] = _sync(mailbox)
        by_name = {attachment.filename: attachment for attachment in record.attachments}
        assert set(by_name) == {"offre signée.pdf", "logo.png"}
        pdf = fetch_part(mailbox, "INBOX", record.uidvalidity, record.uid, by_name["offre signée.pdf"].part)
        png = fetch_part(mailbox, "INBOX", record.uidvalidity, record.uid, by_name["logo.png"].part)
    assert pdf == PDF
    assert png == IMAGE
    server_view.select_folder("INBOX", readonly=True)
    assert b"\\Seen" not in server_view.fetch([record.uid], ["FLAGS"])[record.uid][b"FLAGS"]


def test_part_download_finds_a_message_whose_uid_changed(dovecot, mail_user, settings, server_view):
    raw = make_mail(2, message_id="<moved@client.example>", attachments=(("a.pdf", "application/pdf", PDF),))
    server_view.create_folder("Clients")
    old_uid = append(server_view, "Clients", raw)
    with connect(settings) as mailbox:
        [record] = _sync(mailbox, "Clients")
        # Another client copies it back in and deletes the original: same mail, new UID.
        server_view.select_folder("Clients")
        server_view.copy([old_uid], "Clients")
        server_view.delete_messages([old_uid])
        server_view.expunge()
        server_view.unselect_folder()
        data = fetch_part(
            mailbox, "Clients", record.uidvalidity, record.uid, record.attachments[0].part, record.message_id
        )
    assert data == PDF


def test_part_download_says_clearly_when_the_message_is_gone(dovecot, mail_user, settings, server_view):
    dovecot.deliver(mail_user, make_mail(3, attachments=(("a.pdf", "application/pdf", PDF),)))
    with connect(settings) as mailbox:
        [record] = _sync(mailbox)
        server_view.select_folder("INBOX")
        server_view.delete_messages([record.uid])
        server_view.expunge()
        with pytest.raises(MessageGone, match="no longer in folder 'INBOX'"):
            fetch_part(mailbox, "INBOX", record.uidvalidity, record.uid, "2", record.message_id)


def test_whole_message_download_is_the_servers_bytes_and_leaves_it_unseen(
    dovecot, mail_user, settings, server_view
):
    raw = make_mail(4, attachments=(("a.pdf", "application/pdf", PDF),))
    dovecot.deliver(mail_user, raw)
    with connect(settings) as mailbox:
        [record] = _sync(mailbox)
        data = fetch_message(mailbox, "INBOX", record.uidvalidity, record.uid, record.message_id)
        server_view.select_folder("INBOX")
        assert b"\\Seen" not in server_view.get_flags([record.uid])[record.uid]
        server_view.delete_messages([record.uid])
        server_view.expunge()
        with pytest.raises(MessageGone, match="no longer in folder 'INBOX'"):
            fetch_message(mailbox, "INBOX", record.uidvalidity, record.uid, record.message_id)
    assert data.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


def test_a_message_with_a_hashed_long_id_is_found_again_by_its_whole_id(
    dovecot, mail_user, settings, server_view
):
    long_id = "<" + "l" * 3_000 + "@client.example>"
    raw = make_mail(5, message_id=long_id, attachments=(("a.pdf", "application/pdf", PDF),))
    server_view.create_folder("Long")
    old_uid = append(server_view, "Long", raw)
    with connect(settings) as mailbox:
        [record] = _sync(mailbox, "Long")
        assert record.message_id != long_id and record.message_id_header == long_id
        server_view.select_folder("Long")
        server_view.copy([old_uid], "Long")
        server_view.delete_messages([old_uid])
        server_view.expunge()
        server_view.unselect_folder()
        part = record.attachments[0].part
        data = fetch_part(mailbox, "Long", record.uidvalidity, record.uid, part, record.message_id_header)
        # The key is in no header: looking it up would find nothing, so it is not asked for.
        with pytest.raises(MessageGone):
            fetch_part(mailbox, "Long", record.uidvalidity, record.uid, part, record.message_id)
    assert data == PDF
