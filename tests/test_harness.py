"""The harness servers are real: log in, list, append and read back, over every security mode."""

from __future__ import annotations

import smtplib
import ssl

import pytest
from imapclient import IMAPClient

from tests.conftest import append
from tests.mail_factory import make_mail


def test_login_with_password_and_special_use_folders(dovecot, mail_user):
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
    client.login(mail_user.login, mail_user.password)
    folders = {name: set(flags) for flags, _delimiter, name in client.list_folders()}
    client.logout()
    assert b"\\Sent" in folders["Sent"]
    assert b"\\Trash" in folders["Trash"]
    assert b"\\Junk" in folders["Junk"]
    assert "INBOX" in folders


def test_append_then_fetch_reads_the_same_bytes(dovecot, mail_user, server_view):
    raw = make_mail(1, subject="Grüße aus Köln").replace(b"\n", b"\r\n")
    uid = append(server_view, "Sent", raw)
    server_view.select_folder("Sent", readonly=True)
    assert server_view.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"] == raw


def test_condstore_and_qresync_on_the_main_server_and_off_on_the_plain_one(dovecot, dovecot_plain):
    for server, expected in ((dovecot, True), (dovecot_plain, False)):
        user = server.add_user()
        client = IMAPClient(server.host, port=server.port, ssl=False)
        client.login(user.login, user.password)
        capabilities = set(client.capabilities())
        client.logout()
        assert (b"CONDSTORE" in capabilities) is expected
        assert (b"QRESYNC" in capabilities) is expected


def _insecure_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.mark.parametrize("mode", ["plain", "starttls", "ssl"])
def test_every_security_mode_logs_in(dovecot, mail_user, mode):
    port = dovecot.ssl_port if mode == "ssl" else dovecot.port
    client = IMAPClient(dovecot.host, port=port, ssl=mode == "ssl", ssl_context=_insecure_context())
    if mode == "starttls":
        client.starttls(_insecure_context())
    client.login(mail_user.login, mail_user.password)
    assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    client.logout()


def test_smtp_server_keeps_what_an_authenticated_client_sends(smtp_server):
    smtp_server.add_user("sales@example.test", "s3cret")
    raw = make_mail(7, sender="sales@example.test", to="client@client.example").replace(b"\n", b"\r\n")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused):
            client.sendmail("sales@example.test", ["client@client.example"], raw)
        client.login("sales@example.test", "s3cret")
        client.sendmail("sales@example.test", ["client@client.example"], raw)
    kept = [mail for mail in smtp_server.received if mail.rcpt_tos == ("client@client.example",)]
    assert len(kept) == 1
    assert kept[0].login == "sales@example.test"
    assert kept[0].data == raw


def test_smtp_server_refuses_a_wrong_password(smtp_server):
    smtp_server.add_user("bob@example.test", "right")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("bob@example.test", "wrong")
