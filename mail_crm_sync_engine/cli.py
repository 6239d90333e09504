"""``mail-crm-sync``: see what a mailbox looks like to the engine, without Odoo.

    mail-crm-sync check --host imap.example.com --user ana@example.com
    mail-crm-sync dump --host imap.example.com --user ana@example.com --folder INBOX --since 2026-11-01

The password comes from ``MAIL_CRM_SYNC_PASSWORD``, else a prompt. On failure the command prints
one line saying what failed and exits with a status that tells the kind of failure (see EXIT_CODES).
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from .connection import Mailbox, connect
from .errors import (
    AuthenticationFailed,
    FolderError,
    MailSyncError,
    ServerRefused,
    ServerUnreachable,
    Throttled,
    Timeout,
    TlsFailure,
)
from .folders import folder_message_count, folder_role, list_folders
from .sync import sync_folder
from .types import DEFAULT_IMAP_PORTS, Address, ConnectionSettings, FolderRole, MessageRecord, Security

PASSWORD_VARIABLE = "MAIL_CRM_SYNC_PASSWORD"

# 2 is argparse's usage error. The most specific class wins (checked in this order).
EXIT_CODES: tuple[tuple[type[MailSyncError], int], ...] = (
    (ServerUnreachable, 3),
    (TlsFailure, 4),
    (AuthenticationFailed, 5),
    (Throttled, 6),
    (Timeout, 7),
    (ServerRefused, 8),
    (FolderError, 9),
    (MailSyncError, 1),
)
EXIT_SOME_MESSAGES_FAILED = 10
EXIT_INTERRUPTED = 130


def exit_code_for(error: MailSyncError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


# -- arguments ---------------------------------------------------------------------------------


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {value!r}") from None


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    connection = argparse.ArgumentParser(add_help=False)
    group = connection.add_argument_group("connection")
    group.add_argument("--host", required=True, help="IMAP server name or address")
    group.add_argument("--port", type=int, help="IMAP port (default: 993 with ssl, else 143)")
    group.add_argument(
        "--security",
        choices=[s.value for s in Security],
        default=Security.SSL.value,
        help="ssl (implicit TLS), starttls, or none (default: ssl)",
    )
    group.add_argument(
        "--insecure", action="store_true", help="accept a certificate that cannot be verified (self-signed)"
    )
    group.add_argument("--user", required=True, help="login: the email address, or the server's user name")
    group.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the server (default: 30)"
    )

    parser = argparse.ArgumentParser(
        prog="mail-crm-sync",
        description="Look at an IMAP mailbox the way the CRM sync engine sees it. "
        f"The password is read from ${PASSWORD_VARIABLE}, else asked for.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "check",
        parents=[connection],
        help="log in, list capabilities and folders",
        description="Log in; print the server's capabilities and each folder's role and message count.",
    )
    dump = commands.add_parser(
        "dump",
        parents=[connection],
        help="print the messages of a folder as JSON lines",
        description="Read a folder without changing it and print one JSON object per message.",
    )
    dump.add_argument("--folder", required=True, help="folder name as listed by `check`, e.g. INBOX")
    dump.add_argument("--since", type=_date, help="only mail that arrived on or after this day (YYYY-MM-DD)")
    dump.add_argument("--limit", type=_positive, help="stop after this many messages")
    return parser


def settings_from(args: argparse.Namespace, password: str) -> ConnectionSettings:
    security = Security(args.security)
    return ConnectionSettings(
        host=args.host,
        port=args.port or DEFAULT_IMAP_PORTS[security],
        security=security,
        login=args.user,
        password=password,
        verify_certificate=not args.insecure,
        connect_timeout=args.timeout,
        read_timeout=args.timeout,
    )


def read_password(user: str) -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is not None:
        return password
    return getpass.getpass(f"Password for {user}: ")


# -- check -------------------------------------------------------------------------------------


def run_check(mailbox: Mailbox, out: TextIO) -> int:
    out.write(f"Capabilities: {' '.join(sorted(mailbox.capabilities))}\n")
    folders = list_folders(mailbox, with_counts=True)
    width = max((len(folder.name) for folder in folders), default=6)
    out.write(f"{'Folder':<{width}}  {'Role':<8}  {'Messages':>8}\n")
    for folder in folders:
        count = "-" if folder.messages is None else str(folder.messages)
        if not folder.selectable:
            count = "(no select)"
        out.write(f"{folder.name:<{width}}  {folder.role.value:<8}  {count:>8}\n")
    return 0


# -- dump --------------------------------------------------------------------------------------


def _addresses(addresses: tuple[Address, ...]) -> list[dict[str, str]]:
    return [{"name": address.name, "email": address.email} for address in addresses]


def record_to_json(record: MessageRecord) -> dict:
    """The record as plain JSON data; dates in ISO 8601, UTC."""
    return {
        "message_id": record.message_id,
        "message_id_synthetic": record.message_id_synthetic,
        "subject": record.subject,
        "date": record.date.astimezone(datetime.UTC).isoformat() if record.date else None,
        "from": _addresses(record.from_),
        "to": _addresses(record.to),
        "cc": _addresses(record.cc),
        "bcc": _addresses(record.bcc),
        "reply_to": _addresses(record.reply_to),
        "in_reply_to": record.in_reply_to,
        "references": list(record.references),
        "text": record.text,
        "html": record.html,
        "attachments": [
            {
                "filename": attachment.filename,
                "name": attachment.name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "part": attachment.part,
                "content_id": attachment.content_id,
                "inline": attachment.inline,
            }
            for attachment in record.attachments
        ],
        "size": record.size,
        "flags": list(record.flags),
        "direction": record.direction.value,
        "folder": record.folder,
        "uid": record.uid,
        "uidvalidity": record.uidvalidity,
        "warnings": list(record.warnings),
    }


class Progress:
    """A one-line progress bar on a terminal; nothing at all when the stream is not one."""

    def __init__(self, stream: TextIO, total: int | None, label: str):
        self.stream = stream
        self.total = total
        self.label = label
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self._shown_at = 0.0

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._shown_at < 0.1):
            return
        self._shown_at = now
        rate = done / max(now - self.started, 1e-6)
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            line = f"{self.label} [{bar:<30}] {done}/{self.total} {rate:.0f} msg/s"
        else:
            line = f"{self.label} {done} {rate:.0f} msg/s"
        self.stream.write(f"\r{line}\x1b[K")
        self.stream.flush()

    def close(self, done: int) -> None:
        if self.enabled:
            self.update(done, force=True)
            self.stream.write("\n")
            self.stream.flush()


def _role_of(mailbox: Mailbox, folder: str) -> FolderRole:
    """The folder's role as the server lists it (direction depends on it); a guess if not listed."""
    for info in list_folders(mailbox):
        if info.name == folder:
            return info.role
    return folder_role(folder, ())


def iter_records(
    mailbox: Mailbox, folder: str, since: datetime.date | None, limit: int | None, failures: list[str]
) -> Iterator[MessageRecord]:
    batch_size = min(200, limit) if limit else 200
    count = 0
    for batch in sync_folder(
        mailbox, folder, None, since, folder_role=_role_of(mailbox, folder), batch_size=batch_size
    ):
        failures.extend(f"UID {failed.uid}: {failed.reason}" for failed in batch.failed)
        for record in batch.messages:
            yield record
            count += 1
            if limit and count >= limit:
                return


def run_dump(mailbox: Mailbox, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    total = folder_message_count(mailbox, args.folder)
    if args.limit and total is not None:
        total = min(total, args.limit)
    progress = Progress(err, total, args.folder)
    failures: list[str] = []
    done = 0
    try:
        for record in iter_records(mailbox, args.folder, args.since, args.limit, failures):
            out.write(json.dumps(record_to_json(record), ensure_ascii=False))
            out.write("\n")
            done += 1
            progress.update(done)
    finally:
        progress.close(done)
    out.flush()
    for failure in failures:
        err.write(f"mail-crm-sync: message not read: {failure}\n")
    return EXIT_SOME_MESSAGES_FAILED if failures else 0


# -- entry point -------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # JSON stays valid even for text the engine could not make proper Unicode of (lone
    # surrogates come out as \\udcXX escapes); a non-UTF-8 terminal cannot break the output.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="backslashreplace")
    try:
        password = read_password(args.user)
        settings = settings_from(args, password)
        with connect(settings) as mailbox:
            if args.command == "check":
                return run_check(mailbox, sys.stdout)
            return run_dump(mailbox, args, sys.stdout, sys.stderr)
    except MailSyncError as error:
        sys.stderr.write(f"mail-crm-sync: {_one_line(error)}\n")
        return exit_code_for(error)
    except KeyboardInterrupt:
        sys.stderr.write("mail-crm-sync: interrupted\n")
        return EXIT_INTERRUPTED
    except (EOFError, BrokenPipeError):
        # No terminal to prompt on, or the reader of our output went away (`| head`).
        with open(os.devnull, "w") as devnull:
            sys.stdout = devnull
        return 1


if __name__ == "__main__":
    sys.exit(main())
