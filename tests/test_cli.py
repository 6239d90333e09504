"""The `mail-crm-sync` command, run as a subprocess against the harness Dovecot."""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys

from mail_crm_sync_engine.cli import EXIT_CODES, Progress
from mail_crm_sync_engine.errors import AuthenticationFailed, FolderError, ServerUnreachable, TlsFailure
from mail_crm_sync_engine.testing import free_port
from tests.mail_factory import make_mail

EXIT = dict(EXIT_CODES)
REQUIRED_KEYS = {"message_id", "subject", "date", "from", "to", "cc", "text", "html", "attachments"}
REQUIRED_KEYS |= {"uid", "folder", "warnings"}


def run_cli(  # noqa: PLR0913 - the command line's options as keywords
    server, user, *args, port=None, security="none", password=None, module=False
):
    """Run the command with the given arguments; returns the CompletedProcess (text mode)."""
    port = port or (server.ssl_port if security == "ssl" else server.port)
    program = [sys.executable, "-m", "mail_crm_sync_engine"] if module else ["mail-crm-sync"]
    command = [*program, args[0], "--host", server.host, "--port", str(port), "--security", security]
    command += ["--user", user.login, *args[1:]]
    env = {**os.environ, "MAIL_CRM_SYNC_PASSWORD": user.password if password is None else password}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def one_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    return lines[0]


def test_check_prints_capabilities_and_folders_with_roles_and_counts(dovecot, mail_user):
    for index in range(2):
        dovecot.deliver(mail_user, make_mail(index))
    dovecot.deliver(mail_user, make_mail(9, sender="me@example.test"), folder="Sent")

    result = run_cli(dovecot, mail_user, "check")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Capabilities: ")
    assert {"IMAP4REV1", "IDLE", "CONDSTORE"} <= set(lines[0].split()[1:])
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["INBOX"] == ["inbox", "2"]
    assert rows["Sent"] == ["sent", "1"]
    assert rows["Trash"] == ["trash", "0"]
    assert rows["Junk"] == ["junk", "0"]


def test_dump_writes_one_json_object_per_message(dovecot, mail_user):
    sent = datetime.datetime(2026, 11, 20, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    dovecot.deliver(
        mail_user,
        make_mail(
            1,
            sender='"Zoë Martin" <Zoe@Client.Example>',
            to="Ana <ana@example.test>, bob@example.test",
            cc="Chloé <chloe@client.example>",
            subject="Devis n°42 — révision",
            text="Bonjour, voici le devis révisé.",
            html="<p>Bonjour, voici le <b>devis</b> révisé.</p>",
            attachments=(("devis-42.pdf", "application/pdf", b"%PDF-1.4 " * 100),),
            message_id="<devis-42@Client.Example>",
            date=sent,
        ),
    )
    dovecot.deliver(mail_user, make_mail(2, subject="Second"))

    result = run_cli(dovecot, mail_user, "dump", "--folder", "INBOX", module=True)

    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "no progress output when stderr is not a terminal"
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["subject"] for record in records] == ["Devis n°42 — révision", "Second"]
    record = records[0]
    assert set(record) >= REQUIRED_KEYS
    assert record["message_id"] == "<devis-42@client.example>"
    assert record["date"] == "2026-11-20T07:30:00+00:00"
    assert record["from"] == [{"name": "Zoë Martin", "email": "zoe@client.example"}]
    assert record["to"] == [
        {"name": "Ana", "email": "ana@example.test"},
        {"name": "", "email": "bob@example.test"},
    ]
    assert record["cc"] == [{"name": "Chloé", "email": "chloe@client.example"}]
    assert record["text"].strip() == "Bonjour, voici le devis révisé."
    assert "<b>devis</b>" in record["html"]
    [attachment] = record["attachments"]
    assert attachment["filename"] == "devis-42.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["part"] == "2"
    assert attachment["size"] == 900  # the decoded size, as a file manager would show it
    assert record["uid"] == 1
    assert records[1]["uid"] == 2
    assert record["folder"] == "INBOX"
    assert record["warnings"] == []


def test_dump_honours_since_and_limit(dovecot, mail_user):
    old = dovecot.deliver(mail_user, make_mail(1, subject="Old"))
    month_ago = (datetime.datetime.now() - datetime.timedelta(days=30)).timestamp()
    os.utime(old, (month_ago, month_ago))  # maildir INTERNALDATE is the file's mtime
    for index in range(2, 5):
        dovecot.deliver(mail_user, make_mail(index, subject=f"New {index}"))
    since = (datetime.date.today() - datetime.timedelta(days=7)).isoformat()

    recent = run_cli(dovecot, mail_user, "dump", "--folder", "INBOX", "--since", since)
    limited = run_cli(dovecot, mail_user, "dump", "--folder", "INBOX", "--limit", "2")

    assert recent.returncode == 0, recent.stderr
    assert [json.loads(line)["subject"] for line in recent.stdout.splitlines()] == ["New 2", "New 3", "New 4"]
    assert limited.returncode == 0, limited.stderr
    assert [json.loads(line)["subject"] for line in limited.stdout.splitlines()] == ["Old", "New 2"]


def test_wrong_password_fails_with_one_line(dovecot, mail_user):
    result = run_cli(dovecot, mail_user, "check", password="not-the-password")

    assert result.returncode == EXIT[AuthenticationFailed]
    assert result.stdout == ""
    assert mail_user.login in one_line(result)


def test_unreachable_port_fails_with_one_line(dovecot, mail_user):
    result = run_cli(dovecot, mail_user, "check", port=free_port())

    assert result.returncode == EXIT[ServerUnreachable]
    assert "Could not connect" in one_line(result)


def test_self_signed_certificate_fails_unless_insecure(dovecot, mail_user):
    strict = run_cli(dovecot, mail_user, "check", security="ssl")
    insecure = run_cli(dovecot, mail_user, "check", "--insecure", security="ssl")
    starttls = run_cli(dovecot, mail_user, "check", "--insecure", security="starttls")

    assert strict.returncode == EXIT[TlsFailure]
    assert "certificate" in one_line(strict)
    assert insecure.returncode == 0, insecure.stderr
    assert "INBOX" in insecure.stdout
    assert starttls.returncode == 0, starttls.stderr


def test_unknown_folder_fails_with_one_line(dovecot, mail_user):
    result = run_cli(dovecot, mail_user, "dump", "--folder", "No such folder")

    assert result.returncode == EXIT[FolderError]
    assert "No such folder" in one_line(result)


def test_bad_arguments_exit_with_usage_error(dovecot, mail_user):
    result = run_cli(dovecot, mail_user, "dump", "--folder", "INBOX", "--since", "23/11/2026")

    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_and_stays_silent_otherwise():
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream, 200, "INBOX")
        progress.update(50, force=True)
        progress.close(200)

    assert "\r" in terminal.getvalue()
    assert "200/200" in terminal.getvalue()
    assert pipe.getvalue() == ""
