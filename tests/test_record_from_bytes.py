"""A message in hand (one the CRM wrote and sent) gives the same record as the sync reads from the
server: same text, addresses and references, and attachments numbered as the server numbers them,
so that a later sync meets the same record and a download finds the right part."""

from __future__ import annotations

from imapclient import IMAPClient

from mail_crm_sync_engine import connect, sync_folder
from mail_crm_sync_engine.parse import Place, record_from_bytes
from tests.test_corpus import corpora_dir

ME = frozenset({"me@example.test"})

# Broken mail that Dovecot's MIME parser and Python's read differently. What matters here is mail
# this side writes (well formed); these are listed so that any other difference fails.
READ_DIFFERENTLY = {
    "flanker__broken-ctype.eml": "Content-Type without a type: Dovecot says '/', Python text/plain",
    "flanker__mailgun-rocks.wav.eml": "binary body with a broken Content-Type",
    "flanker__mailgun.png.eml": "binary body with a broken Content-Type",
    "flanker__small.png.eml": "binary body with a broken Content-Type",
    "flanker__outlook-express.eml": "raw 8-bit file name: Python's get_filename() replaces it",
    "flanker__russian-attachment-yahoo.eml": "raw 8-bit file name: Python's get_filename() replaces it",
    "mikel_mail__attachment_emails_attachment_nonascii_filename.eml": "raw 8-bit file name",
    "mikel_mail__attachment_emails_attachment_with_unquoted_name.eml": "unquoted name with spaces",
    "mikel_mail__.gitattributes.eml": "not an email",
    "mikel_mail__mime_emails_raw_email4.eml": "boundary oddities",
    "mikel_mail__mime_emails_raw_email_with_illegal_boundary.eml": "illegal boundary",
    "mikel_mail__plain_emails_raw_email_bad_time.eml": "boundary oddities",
    "mikel_mail__plain_emails_raw_email_incorrect_header.eml": "header block with invalid lines",
    "mikel_mail__rfc2822_example13.eml": "header names with spaces before the colon",
}


def _compared(record):
    return {
        "message_id": record.message_id,
        "subject": record.subject,
        "addresses": [(a.name, a.email) for a in record.from_ + record.to + record.cc + record.bcc],
        "in_reply_to": record.in_reply_to,
        "references": record.references,
        "text": record.text,
        "html": record.html,
        "attachments": [
            (a.filename, a.name, a.content_type, a.part, a.content_id, a.inline) for a in record.attachments
        ],
        "direction": record.direction,
    }


def test_real_world_mail_in_hand_reads_as_the_server_gives_it(dovecot, settings, mail_user):
    files = sorted((corpora_dir() / "dev").glob("*.eml"))
    assert files, "the shared corpus is missing"
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
    client.login(mail_user.login, mail_user.password)
    try:
        for count, path in enumerate(files, 1):
            dovecot.deliver(mail_user, path.read_bytes())
            assert client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == count
    finally:
        client.logout()
    with connect(settings) as mailbox:
        synced = {
            record.uid: record
            for batch in sync_folder(mailbox, "INBOX", None, None, own_addresses=ME)
            for record in batch.messages
        }
    assert len(synced) == len(files)
    differing = {}
    for uid, path in enumerate(files, 1):
        server = synced[uid]
        in_hand = _compared(record_from_bytes(path.read_bytes(), Place("INBOX", uid, server.uidvalidity), ME))
        theirs = _compared(server)
        keys = sorted(key for key in theirs if in_hand[key] != theirs[key])
        if keys and path.name not in READ_DIFFERENTLY:
            differing[path.name] = {key: (in_hand[key], theirs[key]) for key in keys}
    assert differing == {}
    assert len(files) - len(READ_DIFFERENTLY) >= 19, "most of the corpus is compared"
