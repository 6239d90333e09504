"""Attachments a sender left unnamed get a name from their type, as the server gives them and as
record_from_bytes reads them; other renderings of the body (text/watch-html) are not attachments."""

from __future__ import annotations

import pytest

from mail_crm_sync_engine import connect, sync_folder
from mail_crm_sync_engine.parse import Place, name_for_part, record_from_bytes
from mail_crm_sync_engine.testing.mail import forwarding_mail


def test_names_come_from_the_type_the_part_number_and_a_forwarded_subject():
    assert name_for_part("image/png", "2") == "image-2.png"
    assert name_for_part("image/jpeg", "1.3") == "image-1-3.jpg"
    assert name_for_part("application/pdf", "4") == "attachment-4.pdf"
    assert name_for_part("message/rfc822", "3", "Re: a/b: quote?") == "Re a b quote.eml"
    assert name_for_part("message/rfc822", "3", "") == "message-3.eml"
    assert name_for_part("message/delivery-status", "2") == "delivery-status.txt"
    assert name_for_part("text/calendar", "2") == "invitation-2.ics"
    assert name_for_part("application/x-unknown", "5") == "attachment-5"


@pytest.fixture
def synced(dovecot, mail_user, settings):
    raw = forwarding_mail()
    dovecot.deliver(mail_user, raw)
    with connect(settings) as mailbox:
        (record,) = [
            record for batch in sync_folder(mailbox, "INBOX", None, None) for record in batch.messages
        ]
    return raw, record


def test_unnamed_parts_are_named_and_watch_html_is_no_attachment(synced):
    _raw, record = synced
    assert [(a.filename, a.name, a.content_type) for a in record.attachments] == [
        ("", "image-2.png", "image/png"),
        ("", "Offer for 40 chairs M\u00fcller.eml", "message/rfc822"),
        ("", "delivery-status.txt", "message/delivery-status"),
    ]
    assert record.html == "<p>See <b>below</b>.</p>"
    assert record.text == "See below."


def test_a_message_in_hand_names_its_parts_as_the_sync_does(synced):
    raw, record = synced
    in_hand = record_from_bytes(raw, Place("INBOX", record.uid, record.uidvalidity))
    # Sizes differ: the server's is estimated from the base64 it holds.
    named = [(a.filename, a.name, a.content_type, a.part, a.inline) for a in in_hand.attachments]
    assert named == [(a.filename, a.name, a.content_type, a.part, a.inline) for a in record.attachments]
