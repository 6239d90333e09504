"""Writing from the CRM: the bytes composed, submitted by SMTP and filed in Sent, on real servers."""

from __future__ import annotations

import dataclasses
import datetime
import email
import re
import socket
import threading
from email import policy

import pytest

from mail_crm_sync_engine import (
    Address,
    AuthenticationFailed,
    DeliveryUncertain,
    Draft,
    FolderRole,
    MessageRefused,
    RecipientsRefused,
    Security,
    ServerUnreachable,
    SmtpSettings,
    Timeout,
    TlsFailure,
    append_to_sent,
    blocked_attachments,
    compose,
    connect,
    fetch_part,
    file_extensions,
    is_blocked,
    list_folders,
    plain_name,
    provider_files_sent_mail,
    reply_headers,
    send_message,
    sync_folder,
)
from mail_crm_sync_engine.compose import MAX_REFERENCES, format_addresses, read_addresses
from mail_crm_sync_engine.parse import normalize_message_id
from mail_crm_sync_engine.testing import SmtpServer, free_port
from tests.conftest import imap_view, settings_for

SALES = Address("Zoë Müller, Vertrieb", "sales@example.test")
CLIENT = Address("Jürgen Ærø", "juergen@client.example")
BOSS = Address("", "boss@client.example")
HIDDEN = Address("Secret Keeper", "archive@example.test")
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
OUTLOOK_ID = "<AM0PR07MB6145D6E1B2A3C4F5A6B7C8D9E0F1A2B3C4D5@AM0PR07MB6145.eurprd07.prod.outlook.com>"
SENT_AT = datetime.datetime(2026, 11, 3, 9, 30, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))


def draft(**changes) -> Draft:
    values = {
        "from_": SALES,
        "to": (CLIENT,),
        "cc": (BOSS,),
        "bcc": (HIDDEN,),
        "subject": "Angebot für Köln: Ihre Anfrage (Größe XL)",
        "html": "<p>Guten Tag Herr Ærø,</p><p>anbei das <b>Angebot</b>.</p>",
        "attachments": (
            ("Angebot Müller & Söhne 2026 (ÉTÉ).pdf", "application/pdf", PDF),
            ("Preisliste.csv", "text/csv", "Artikel;Preis\nÖl;3,50\n".encode()),
        ),
        "date": SENT_AT,
    }
    return Draft(**{**values, **changes})


def read_back(mailbox, folder="Sent"):
    batches = list(sync_folder(mailbox, folder, None, None, own_addresses={SALES.email}))
    return [record for batch in batches for record in batch.messages]


# -- compose -----------------------------------------------------------------------------------


def test_composed_bytes_read_back_through_the_engine_with_headers_text_and_attachments(
    dovecot, mail_user, settings
):
    reply = reply_headers(OUTLOOK_ID, "<root@client.example> <second@client.example>")
    outgoing = compose(draft(in_reply_to=reply.in_reply_to, references=reply.references))
    with connect(settings) as mailbox:
        location = append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
        [record] = read_back(mailbox)
        attachment_bytes = [
            fetch_part(mailbox, "Sent", location.uidvalidity, location.uid, attachment.part)
            for attachment in record.attachments
        ]
    assert record.message_id == outgoing.message_id
    assert record.subject == "Angebot für Köln: Ihre Anfrage (Größe XL)"
    assert record.from_ == (SALES,)
    assert record.to == (CLIENT,) and record.cc == (BOSS,)
    assert record.bcc == (HIDDEN,), "the copy in Sent keeps whom it was sent to in Bcc"
    assert record.in_reply_to == normalize_message_id(OUTLOOK_ID)  # the domain lowercased
    assert record.references == ("<root@client.example>", "<second@client.example>", record.in_reply_to)
    assert record.date == SENT_AT
    assert record.html.strip() == "<p>Guten Tag Herr Ærø,</p><p>anbei das <b>Angebot</b>.</p>"
    assert record.text == "Guten Tag Herr Ærø,\n\nanbei das Angebot."
    assert [(a.filename, a.content_type) for a in record.attachments] == [
        ("Angebot Müller & Söhne 2026 (ÉTÉ).pdf", "application/pdf"),
        ("Preisliste.csv", "text/csv"),
    ]
    assert attachment_bytes == [PDF, "Artikel;Preis\nÖl;3,50\n".encode()]  # byte for byte
    assert record.warnings == ()


def test_bcc_is_an_envelope_recipient_and_only_the_senders_copy_names_it():
    outgoing = compose(draft())
    assert outgoing.recipients == (CLIENT.email, BOSS.email, HIDDEN.email)
    assert outgoing.envelope_from == SALES.email
    kept = email.message_from_bytes(outgoing.data, policy=policy.default)
    assert [address.addr_spec for address in kept["Bcc"].addresses] == [HIDDEN.email]


def test_bytes_are_seven_bit_with_crlf_and_parse_as_mixed_over_alternative():
    data = compose(draft()).data
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    message = email.message_from_bytes(data, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    body, *files = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in body.iter_parts()] == ["text/plain", "text/html"]
    assert [part.get_filename() for part in files] == [
        "Angebot Müller & Söhne 2026 (ÉTÉ).pdf",
        "Preisliste.csv",
    ]
    assert str(message["From"]) == '"Zoë Müller, Vertrieb" <sales@example.test>'
    assert str(message["To"]) == "Jürgen Ærø <juergen@client.example>"


def test_without_attachments_the_message_is_one_alternative_and_a_given_text_is_kept():
    outgoing = compose(draft(attachments=(), text="Guten Tag,\nhier in Klartext."))
    message = email.message_from_bytes(outgoing.data, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content() == "Guten Tag,\r\nhier in Klartext.\r\n"


def test_message_id_is_made_at_the_sender_domain_unless_given_and_the_date_is_now_by_default():
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    first, second = compose(draft(date=None)), compose(draft(date=None))
    assert first.message_id.endswith("@example.test>") and first.message_id != second.message_id
    assert before <= first.date <= datetime.datetime.now(datetime.UTC)
    given = compose(draft(message_id="crm-42@example.test"))
    assert given.message_id == "<crm-42@example.test>"
    assert b"Message-ID: <crm-42@example.test>\r\n" in given.data


def test_long_reply_ids_stay_ids_and_are_not_encoded_words():
    reply = reply_headers(OUTLOOK_ID, [OUTLOOK_ID.replace("AM0", "XX0")])
    data = compose(draft(in_reply_to=reply.in_reply_to, references=reply.references)).data
    assert b"=?" not in data.split(b"\r\n\r\n")[0].split(b"Subject:")[1].split(b"\r\nMessage-ID")[1]
    message = email.message_from_bytes(data, policy=policy.default)
    assert str(message["In-Reply-To"]) == OUTLOOK_ID
    assert str(message["References"]).split() == [OUTLOOK_ID.replace("AM0", "XX0"), OUTLOOK_ID]


def test_header_injection_through_subject_or_names_is_impossible():
    outgoing = compose(draft(subject="Hello\r\nBcc: victim@evil.example", bcc=()))
    assert b"\r\nBcc:" not in outgoing.data
    assert b"Subject: Hello Bcc: victim@evil.example\r\n" in outgoing.data
    with pytest.raises(ValueError):
        compose(draft(to=(Address("x", "not-an-address"),)))
    with pytest.raises(ValueError):
        compose(draft(message_id="<a b@c>"))


def test_reply_headers_append_the_parent_once_and_keep_the_thread_root_when_trimmed():
    assert reply_headers("<p@x.test>") == ("<p@x.test>", ("<p@x.test>",))
    reply = reply_headers("p@x.test", "<a@x.test>\r\n <b@X.TEST> <a@x.test> <p@x.test>")
    assert reply.in_reply_to == "<p@x.test>"
    assert reply.references == ("<b@X.TEST>", "<a@x.test>", "<p@x.test>")
    long_thread = [f"<m{index}@x.test>" for index in range(40)]
    trimmed = reply_headers("<p@x.test>", long_thread).references
    assert len(trimmed) == MAX_REFERENCES
    assert trimmed[0] == "<m0@x.test>" and trimmed[-2:] == ("<m39@x.test>", "<p@x.test>")


@pytest.mark.parametrize(
    ("filename", "blocked"),
    [
        ("invoice.pdf", False),
        ("invoice.pdf.exe", True),
        ("Setup.EXE", True),
        ("evil.exe.", True),
        ("evil.exe . ", True),
        ("report.js.txt", True),  # every extension of the chain counts
        ("C:\\Users\\x\\tool.msi", True),
        ("../../script.PS1", True),
        ("php", False),  # no extension at all
        ("notes.phpx", False),
        ("archive.tar.gz", False),
    ],
)
def test_blocked_attachments(filename, blocked):
    assert blocked_attachments([filename]) == ((filename,) if blocked else ())


# Names as Windows reads them: what it drops at the end of a name, alternate data streams,
# invisible characters, look-alike letters. Refused when sent, never opened by a browser.
WINDOWS_NAMES = [
    ("a.exe ", True),  # Windows drops trailing spaces and dots
    ("a.pdf. exe", True),
    ("a.exe . .", True),
    ("a.exe::$DATA", True),  # the file a.exe itself (NTFS stream syntax)
    ("a.exe:Zone.Identifier", True),
    ("a.pdf:payload.exe", True),  # browsers save it as a.pdf_payload.exe
    ("invoice\u202efdp.exe", True),  # right-to-left override: shows as invoiceexe.pdf
    ("a.e\u200bxe", True),  # a zero-width space shows nothing
    ("a.\uff45\uff58\uff45", True),  # full-width letters
    ("a.exe\x00.pdf", True),  # C's file functions stop at NUL
    ("a.exe\n.txt", True),
    ("a.pdf::$DATA", False),
    ("quote\u202eexe.pdf", False),  # shows as quotefdp.exe, but it is a PDF
]


@pytest.mark.parametrize(("filename", "blocked"), WINDOWS_NAMES)
def test_names_are_read_as_windows_reads_them(filename, blocked):
    assert blocked_attachments([filename]) == ((filename,) if blocked else ())
    assert is_blocked(filename) is blocked


def test_the_extensions_of_a_name_in_order_the_last_one_opening_the_file():
    assert file_extensions("Report.Final.PDF") == ("final", "pdf")
    assert file_extensions("a.pdf::$DATA") == ("pdf", "$data")
    assert file_extensions("a.pdf. ") == ("pdf",)
    assert file_extensions("..\\x/Scan") == ()
    assert file_extensions("quote\u202eexe.pdf") == ("pdf",)


def test_blocked_extensions_may_be_written_in_any_case_with_or_without_the_dot():
    assert is_blocked("a.ZIP", [".zip", "DOCM", " "])
    assert not is_blocked("a.zip", [])
    assert is_blocked("a.docm", ["\uff24\uff2f\uff23\uff2d"])


def test_a_plain_name_reads_in_the_order_its_characters_are():
    assert plain_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert plain_name("\u2067\u05d3\u05d5\u05d7.pdf\u2069") == "\u05d3\u05d5\u05d7.pdf"
    assert plain_name("Angebot für Müller.pdf") == "Angebot für Müller.pdf"


def test_blocked_attachments_takes_the_administrators_list():
    names = ["a.ZIP", "b.exe", "c.docm"]
    assert blocked_attachments(names, [".zip", "DOCM", " "]) == ("a.ZIP", "c.docm")


# -- SMTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(Security))
def any_smtp(request):
    """The harness SMTP server over plain, STARTTLS and implicit TLS, with one login."""
    with SmtpServer(request.param) as server:
        server.add_user("sales@example.test", "s3cret")
        yield server


def smtp_settings(server: SmtpServer, **changes) -> SmtpSettings:
    values = {
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "login": "sales@example.test",
        "password": "s3cret",
        "verify_certificate": False,
        "connect_timeout": 5,
        "read_timeout": 5,
    }
    return SmtpSettings(**{**values, **changes})


def test_send_over_every_security_mode_with_a_login(any_smtp):
    outgoing = compose(draft(subject=f"over {any_smtp.security}"))
    reply = send_message(smtp_settings(any_smtp), outgoing.envelope_from, outgoing.recipients, outgoing.data)
    [kept] = [mail for mail in any_smtp.received if outgoing.message_id.encode() in mail.data]
    assert kept.data == outgoing.data.replace(b"Bcc: Secret Keeper <archive@example.test>\r\n", b"")
    assert kept.login == "sales@example.test"
    assert kept.mail_from == SALES.email
    assert kept.rcpt_tos == (CLIENT.email, BOSS.email, HIDDEN.email)
    assert reply.startswith("250")


def test_wrong_password_is_an_authentication_failure(any_smtp):
    outgoing = compose(draft())
    settings = smtp_settings(any_smtp, password="wrong")
    with pytest.raises(
        AuthenticationFailed, match=re.escape("refused the login of sales@example.test")
    ) as caught:
        send_message(settings, outgoing.envelope_from, outgoing.recipients, outgoing.data)
    assert caught.value.counts_as_connection_failure


@pytest.mark.parametrize("security", [Security.SSL, Security.STARTTLS])
def test_unverifiable_certificate_is_a_tls_failure_by_default(security):
    outgoing = compose(draft())
    with SmtpServer(security) as server:
        settings = smtp_settings(server, verify_certificate=True)
        with pytest.raises(TlsFailure, match="could not be verified"):
            send_message(settings, outgoing.envelope_from, outgoing.recipients, outgoing.data)
        assert server.received == []


def test_starttls_asked_of_a_server_without_it_is_refused_before_the_login(smtp_server):
    outgoing = compose(draft())
    settings = smtp_settings(smtp_server, security=Security.STARTTLS)
    with pytest.raises(TlsFailure, match="does not offer STARTTLS"):
        send_message(settings, outgoing.envelope_from, outgoing.recipients, outgoing.data)


def test_a_refused_recipient_sends_to_no_one_and_names_the_address():
    outgoing = compose(draft())
    with SmtpServer() as server:
        server.add_user("sales@example.test", "s3cret")
        server.refuse_recipient(BOSS.email)
        with pytest.raises(RecipientsRefused, match=re.escape("boss@client.example: 550 5.1.1")) as caught:
            send_message(smtp_settings(server), outgoing.envelope_from, outgoing.recipients, outgoing.data)
        assert server.received == []
    assert list(caught.value.refused) == [BOSS.email]
    assert "sent to no one" in str(caught.value)
    assert not caught.value.counts_as_connection_failure


def test_a_refused_message_says_so_with_the_servers_words():
    outgoing = compose(draft(html="<p>CHEAP-PILLS</p>"))
    with SmtpServer() as server:
        server.add_user("sales@example.test", "s3cret")
        server.refuse_messages_containing(b"CHEAP-PILLS")
        with pytest.raises(MessageRefused, match=re.escape("refused the message: 554 5.7.1")) as caught:
            send_message(smtp_settings(server), outgoing.envelope_from, outgoing.recipients, outgoing.data)
    assert not caught.value.counts_as_connection_failure


def test_sending_without_a_login_where_one_is_required_is_an_authentication_failure(smtp_server):
    outgoing = compose(draft())
    settings = smtp_settings(smtp_server, login=None, password=None)
    with pytest.raises(AuthenticationFailed, match="wants a login first"):
        send_message(settings, outgoing.envelope_from, outgoing.recipients, outgoing.data)


def test_closed_port_is_unreachable_and_a_silent_server_times_out():
    outgoing = compose(draft())
    closed = SmtpSettings("127.0.0.1", free_port(), Security.NONE, "x", password="y")
    with pytest.raises(ServerUnreachable, match="Could not connect to the SMTP server"):
        send_message(closed, outgoing.envelope_from, outgoing.recipients, outgoing.data)
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts, never greets
        silent = dataclasses.replace(closed, port=listener.getsockname()[1], connect_timeout=0.5)
        with pytest.raises(Timeout, match="did not answer in time"):
            send_message(silent, outgoing.envelope_from, outgoing.recipients, outgoing.data)


def test_a_server_quiet_before_data_never_had_the_message_one_quiet_after_may_have_it(smtp_server):
    outgoing = compose(draft())
    accepted = []

    def greet_then_go_quiet(listener):
        accepted.append(listener.accept()[0])
        accepted[0].sendall(b"220 quiet.example ESMTP\r\n")

    with socket.create_server(("127.0.0.1", 0)) as listener:  # greets, then never answers EHLO
        greeter = threading.Thread(target=greet_then_go_quiet, args=(listener,), daemon=True)
        greeter.start()
        quiet = SmtpSettings("127.0.0.1", listener.getsockname()[1], Security.NONE, None, read_timeout=0.5)
        with pytest.raises(Timeout, match="did not answer in time"):  # safe to try again later
            send_message(quiet, outgoing.envelope_from, outgoing.recipients, outgoing.data)
        greeter.join()
        accepted[0].close()

    smtp_server.add_user("sales@example.test", "s3cret")
    settings = dataclasses.replace(smtp_settings(smtp_server), read_timeout=0.5)
    smtp_server.confirm_after(2)
    try:
        with pytest.raises(DeliveryUncertain, match="may have been sent"):
            send_message(settings, outgoing.envelope_from, outgoing.recipients, outgoing.data)
    finally:
        smtp_server.confirm_after(0)
    assert [mail.data for mail in smtp_server.received if outgoing.message_id.encode() in mail.data], (
        "it has it"
    )


def test_password_and_token_never_show_in_the_settings_repr():
    settings = SmtpSettings("h", 1, Security.SSL, "u", password="pw-secret", oauth_token="tok-secret")
    assert "secret" not in repr(settings)


# -- the Sent copy -----------------------------------------------------------------------------


def test_sent_copy_is_filed_once_seen_at_the_send_time_with_its_appenduid(dovecot, mail_user, settings):
    outgoing = compose(draft())
    with connect(settings) as mailbox:
        first = append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
        again = append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
    assert first == again
    assert first.folder == "Sent" and first.uid is not None
    with imap_view(dovecot, mail_user) as view:
        view.normalise_times = False
        selected = view.select_folder("Sent", readonly=True)
        [uid] = view.search("ALL")
        fetched = view.fetch([uid], ["FLAGS", "INTERNALDATE", "BODY.PEEK[]"])[uid]
    assert (selected[b"UIDVALIDITY"], uid) == (first.uidvalidity, first.uid)
    assert b"\\Seen" in fetched[b"FLAGS"]
    assert fetched[b"INTERNALDATE"] == SENT_AT
    assert fetched[b"BODY[]"] == outgoing.data


def test_sent_folder_is_created_when_missing_then_found_by_name(dovecot_bare):
    user = dovecot_bare.add_user()
    settings = settings_for(dovecot_bare, user)
    first, second = compose(draft()), compose(draft(subject="second"))
    with connect(settings) as mailbox:
        assert [folder.name for folder in list_folders(mailbox)] == ["INBOX"]
        one = append_to_sent(mailbox, first.data, first.message_id, first.date)
        two = append_to_sent(mailbox, second.data, second.message_id, second.date)
        folders = {folder.name: folder.role for folder in list_folders(mailbox)}
    assert one.folder == two.folder == "Sent"
    assert (one.uid, two.uid) == (1, 2)
    assert folders == {"INBOX": FolderRole.INBOX, "Sent": FolderRole.SENT}
    with imap_view(dovecot_bare, user) as view:
        assert [name for _flags, _delimiter, name in view.list_sub_folders()] == ["Sent"]


def test_sent_copy_is_filed_once_on_a_server_without_uidplus(dovecot_without_uidplus):
    user = dovecot_without_uidplus.add_user()
    outgoing = compose(draft())
    with connect(settings_for(dovecot_without_uidplus, user)) as mailbox:
        assert not mailbox.has("UIDPLUS")
        location = append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
        again = append_to_sent(mailbox, outgoing.data, outgoing.message_id, outgoing.date)
    # Dovecot still answers APPENDUID when told not to advertise UIDPLUS; the engine takes it.
    assert location == again
    with imap_view(dovecot_without_uidplus, user) as view:
        view.select_folder("Sent", readonly=True)
        assert view.search("ALL") == [1]


@pytest.mark.parametrize(
    ("host", "files"),
    [
        ("imap.gmail.com", True),
        ("imap.googlemail.com", True),
        ("outlook.office365.com", True),
        ("IMAP-MAIL.OUTLOOK.COM.", True),
        ("imap.mail.example.test", False),
        ("evil-gmail.com", False),
        ("mail.zoho.eu", True),  # listed by the administrator below
        ("imap.zoho.eu", True),
    ],
)
def test_providers_that_file_sent_mail_themselves(host, files):
    assert provider_files_sent_mail(host, extra_hosts=["zoho.eu", " "]) is files


# -- Addresses: names are data, never recipients ------------------------------------------------


@pytest.mark.parametrize(
    ("addresses", "shown"),
    [
        ((Address("Jürgen Zöllner", "j@client.example"),), "Jürgen Zöllner <j@client.example>"),
        ((Address("Buyer, Alice", "alice@client.example"),), '"Buyer, Alice" <alice@client.example>'),
        (
            (Address("Mallory\r\nBcc: evil@evil.example", "m@client.example"), BOSS),
            '"Mallory Bcc: evil@evil.example" <m@client.example>, boss@client.example',
        ),
        (
            (Address("evil@evil.example, Nina", "nina@client.example"),),
            '"evil@evil.example, Nina" <nina@client.example>',
        ),
    ],
)
def test_addresses_are_shown_as_people_read_them_and_read_back_as_the_same_addresses(addresses, shown):
    assert format_addresses(addresses) == shown
    assert [address.email for address in read_addresses(shown)] == [address.email for address in addresses]


@pytest.mark.parametrize(
    "typed",
    [
        "Buyer, Alice <alice@client.example>",  # an unquoted comma: "Buyer" is no address
        "Mallory\r\nBcc: evil@evil.example <m@client.example>",
        "team: a@client.example, b@client.example;",
        "a@client.example b@client.example",
        "nina <=?utf-8?q?evil=40evil.example?=@client.example>",
    ],
)
def test_a_list_that_is_not_plainly_addresses_is_refused(typed):
    with pytest.raises(ValueError):
        read_addresses(typed)


def test_typed_lists_give_exactly_the_addresses_written_outside_names():
    assert read_addresses("=?utf-8?q?evil=40evil.example=2C_Nina?= <nina@client.example>") == (
        Address("evil@evil.example, Nina", "nina@client.example"),
    )
    assert read_addresses('"Buyer, Alice" <alice@client.example>, bob@client.example') == (
        Address("Buyer, Alice", "alice@client.example"),
        Address("", "bob@client.example"),
    )
    assert read_addresses("  ") == ()


def test_control_characters_in_names_never_reach_a_header(smtp_server):
    smtp_server.add_user("sales@example.test", "s3cret")
    outgoing = compose(
        draft(
            to=(Address("Mallory\r\nBcc: evil@evil.example", "mallory@client.example"),),
            cc=(Address("Nina\x00\x0b\u2028Cc: evil2@evil.example", "nina@client.example"),),
            bcc=(),
        )
    )
    assert outgoing.recipients == ("mallory@client.example", "nina@client.example")
    send_message(smtp_settings(smtp_server), outgoing.envelope_from, outgoing.recipients, outgoing.data)
    [kept] = [mail for mail in smtp_server.received if outgoing.message_id.encode() in mail.data]
    assert kept.rcpt_tos == ("mallory@client.example", "nina@client.example")
    parsed = email.message_from_bytes(kept.data, policy=policy.default)
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["mallory@client.example"]
    assert [a.addr_spec for a in parsed["Cc"].addresses] == ["nina@client.example"]
    assert str(parsed["To"].addresses[0].display_name) == "Mallory Bcc: evil@evil.example"


def test_the_bcc_header_of_the_senders_copy_never_goes_to_the_smtp_server(smtp_server):
    smtp_server.add_user("sales@example.test", "s3cret")
    outgoing = compose(draft(bcc=(HIDDEN, Address("Second, Hidden", "second@example.test"))))
    assert b"Bcc:" in outgoing.data
    send_message(smtp_settings(smtp_server), outgoing.envelope_from, outgoing.recipients, outgoing.data)
    [kept] = [mail for mail in smtp_server.received if outgoing.message_id.encode() in mail.data]
    assert set(kept.rcpt_tos) == {CLIENT.email, BOSS.email, HIDDEN.email, "second@example.test"}
    assert b"archive@example.test" not in kept.data and b"second@example.test" not in kept.data
    assert b"Bcc" not in kept.data.partition(b"\r\n\r\n")[0]
