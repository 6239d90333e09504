"""The product's main job inside Odoo: salesmen's mailboxes synced into the CRM, served on loopback.

    .venv-demo/bin/python scripts/demo_odoo.py --odoo-host ~/odoo18 [--database NAME]

Run by ``scripts/demo`` where an Odoo 18 host exists, with the demo's venv (``demo_venv.py``: this
checkout and aiosmtpd over the host's packages), which also runs Odoo. It makes a fresh database
from the host's ``crm18`` template with mail_crm_sync installed; starts a private Dovecot holding
each salesman's demo mailbox (``mail_crm_sync_engine.testing.demo_mailbox``) and a private SMTP
server (aiosmtpd) that takes their logins and delivers nowhere; creates the salesmen, their
customers, opportunities and mail accounts (``demo_odoo_records``); runs the first sync through the
addon's scheduled action; then starts Odoo's server and prints its URL, the logins and the pages to
look at first. While Odoo runs, each message the SMTP server receives is told on stdout and saved
as an .eml file. Ctrl-C or SIGTERM stops the server, Dovecot and the SMTP server; the database
stays for another look, and the next run re-creates it.
"""

from __future__ import annotations

import argparse
import datetime
import email.parser
import email.policy
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import demo_odoo_records
import odoo
from cryptography.fernet import Fernet
from demo_odoo_records import (
    ADMIN_PASSWORD,
    LOGINS,
    OPPORTUNITIES,
    UNASSIGNED_PATH,
    DemoRecords,
    MailServers,
    SyncFigures,
)

from mail_crm_sync_engine.testing import DovecotServer, MailUser, SmtpServer, free_port
from mail_crm_sync_engine.testing.demo_mail_texts import Person
from mail_crm_sync_engine.testing.demo_mailbox import DemoMail, demo_mailboxes

_logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parents[1]
TEMPLATE = "crm18"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo-host", type=Path, default=Path.home() / "odoo18")
    parser.add_argument("--database", default="mail_crm_sync_demo", help="dropped and re-created")
    parser.add_argument("--started", type=float, default=time.time(), help="when the demo began (epoch)")
    args = parser.parse_args(argv)
    host = args.odoo_host.expanduser()
    # The host's odoo-bin with this Python (the demo's venv), and the addons path of the host's
    # wrapper ($ODOO_HOST/odoo) with this repository added.
    odoo_bin = [sys.executable, str(host / "src" / "odoo-bin")]
    addons_path = f"{host}/src/addons,{host}/src/odoo/addons,{REPOSITORY}"
    log_path = Path(tempfile.gettempdir()) / f"{args.database}.log"
    outbox = log_path.with_name(f"{args.database}-smtp")
    _log_to(log_path)
    config = _write_config(Path(tempfile.gettempdir()) / f"{args.database}.conf")
    # Also SIGINT: a shell starting us in the background leaves it ignored, and Ctrl-C must stop us.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _create_database(odoo_bin, config, args.database, addons_path, log_path)
        with DovecotServer() as dovecot, SmtpServer() as smtp:
            mail = demo_mailboxes()
            mailboxes = _fill(dovecot, smtp, mail)
            servers = MailServers(dovecot.host, dovecot.port, smtp.host, smtp.port)
            port = free_port()
            records, figures = _set_up_and_sync(config, args.database, addons_path, servers, mailboxes, port)
            server = _start_server(odoo_bin, config, args.database, addons_path, port, log_path)
            try:
                _wait_until_answering(f"http://127.0.0.1:{port}/web/login", server, log_path)
                _empty(outbox)
                _print_welcome(
                    f"http://127.0.0.1:{port}", records, figures, mail, servers, log_path, outbox, args
                )
                _serve(server, smtp, outbox)
                _logger.error("Odoo stopped by itself (exit %s); see %s", server.returncode, log_path)
                return 1
            finally:
                _stop(server)
    except KeyboardInterrupt:
        _logger.info("Stopped: Odoo, Dovecot and the SMTP server are down; database %s kept", args.database)
        return 0
    except DemoError as error:
        _logger.error("%s", error)
        return 1


class DemoError(Exception):
    """A step failed; the message says which and where its log is."""


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _log_to(log_path: Path) -> None:
    """Our steps on stdout and in the log; Odoo's own logging (in this process too) only in the log."""
    log_path.write_text("")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(log_path)],
    )
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name in (__name__, demo_odoo_records.__name__):
        logging.getLogger(name).addHandler(console)


def _write_config(path: Path) -> Path:
    """Odoo's configuration for the demo: the key that encrypts the mail accounts' passwords (README,
    'Passwords at rest'). Kept between runs, so the kept database stays readable."""
    if not path.exists():
        path.write_text(f"[options]\nmail_crm_sync_key = {Fernet.generate_key().decode()}\n")
        path.chmod(0o600)
    return path


def _create_database(
    odoo_bin: list[str], config: Path, database: str, addons_path: str, log_path: Path
) -> None:
    """A copy of the template with the addon installed, as an administrator installs it."""
    subprocess.run(["dropdb", "--if-exists", "--force", database], check=True)
    if subprocess.run(["createdb", "-T", TEMPLATE, database], check=False).returncode:
        raise DemoError(f"Could not copy the {TEMPLATE} database (see the host's install notes)")
    _logger.info("Installing mail_crm_sync into database %s (a copy of %s)", database, TEMPLATE)
    with log_path.open("ab") as log:
        install = [
            *odoo_bin,
            "-c",
            str(config),
            f"--addons-path={addons_path}",
            "-d",
            database,
            "-i",
            "mail_crm_sync",
        ]
        result = subprocess.run(
            [*install, "--stop-after-init", "--no-http"], stdout=log, stderr=log, check=False
        )
    if result.returncode:
        raise DemoError(f"Installing mail_crm_sync failed (exit {result.returncode}); see {log_path}")


def _fill(
    dovecot: DovecotServer, smtp: SmtpServer, mail: dict[Person, tuple[DemoMail, ...]]
) -> dict[Person, MailUser]:
    """One mailbox per salesman, each message arriving (INTERNALDATE) when its Date says; the SMTP
    server takes the mailbox's login and password, as a provider's does."""
    mailboxes = {}
    for salesman, messages in mail.items():
        mailboxes[salesman] = user = dovecot.add_user(salesman.email)
        smtp.add_user(user.login, user.password)
        for message in messages:
            dovecot.deliver(user, message.raw, folder=message.folder, when=message.date.timestamp())
    _logger.info(
        "Dovecot on %s:%s holds %s",
        dovecot.host,
        dovecot.port,
        ", ".join(f"{len(messages)} emails of {LOGINS[salesman]}" for salesman, messages in mail.items()),
    )
    return mailboxes


def _set_up_and_sync(  # noqa: PLR0913 - the demo's steps hand on what main() set up
    config, database, addons_path, servers, mailboxes, port
) -> tuple[DemoRecords, SyncFigures]:
    """The demo's records, then the first sync as the scheduled action runs it, in this process."""
    options = ["-c", str(config), f"--addons-path={addons_path}", "-d", database]
    odoo.tools.config.parse_config(options, setup_logging=False)
    registry = odoo.modules.registry.Registry(database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("web.base.url", f"http://127.0.0.1:{port}")
        records = demo_odoo_records.create_demo_records(env, servers, mailboxes)
    started = time.monotonic()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env.ref("mail_crm_sync.ir_cron_mail_sync").method_direct_trigger()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        figures = demo_odoo_records.sync_figures(env, records)
    odoo.sql_db.close_all()  # the server gets the database to itself
    if figures.errors:
        raise DemoError(f"The first sync failed: {figures.errors[0]}")
    _logger.info(
        "First sync by the scheduled action in %.1f s: %s",
        time.monotonic() - started,
        "; ".join(
            f"{LOGINS[salesman]} {total} emails, {assigned} assigned"
            for salesman, (total, assigned) in figures.accounts.items()
        ),
    )
    return records, figures


def _start_server(  # noqa: PLR0913 - the command line of odoo-bin, piece by piece
    odoo_bin, config, database, addons_path, port, log_path
) -> subprocess.Popen:
    """Odoo's server on loopback only, in a session of its own so that we stop it in order."""
    _logger.info("Starting Odoo on http://127.0.0.1:%s", port)
    command = [*odoo_bin, "-c", str(config), f"--addons-path={addons_path}", "-d", database]
    command += [f"--db-filter=^{database}$"]
    command += ["--http-interface=127.0.0.1", f"--http-port={port}", "--max-cron-threads=1"]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)


def _wait_until_answering(url: str, server: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    # No proxy, whatever the environment says: the server is on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DemoError(f"Odoo exited at start (exit {server.returncode}); see {log_path}")
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while starting, or an error page
            pass
        time.sleep(0.5)
    raise DemoError(f"Odoo did not answer {url} within {timeout:.0f} s; see {log_path}")


def _empty(outbox: Path) -> None:
    """The folder of what the SMTP server receives, emptied: it holds this run's mail only."""
    shutil.rmtree(outbox, ignore_errors=True)
    outbox.mkdir()


def _serve(server: subprocess.Popen, smtp: SmtpServer, outbox: Path) -> None:
    """Until Odoo stops: each message the SMTP server receives is saved in ``outbox`` and told."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    saved = 0
    while True:
        try:
            server.wait(timeout=1)
            return
        except subprocess.TimeoutExpired:
            pass
        for mail in smtp.received[saved:]:
            saved += 1
            path = outbox / f"{saved:03}.eml"
            path.write_bytes(mail.data)
            _logger.info(
                "SMTP server received, from %s (login %s) for %s: %r, saved as %s",
                mail.mail_from,
                mail.login,
                ", ".join(mail.rcpt_tos),
                parser.parsebytes(mail.data)["subject"],
                path,
            )


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's session (Odoo shuts down cleanly), SIGKILL if it lingers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _print_welcome(  # noqa: PLR0913 - all the demo tells, printed once
    url, records, figures, mail, servers, log_path, outbox, args
) -> None:
    """Where to go, who to be, what to look at first; then what the sync took and what it left."""
    salesman = OPPORTUNITIES[0][0]
    login = LOGINS[salesman]
    downloaded, assigned = figures.accounts[salesman]
    contact, opportunity = figures.contact, figures.opportunity
    pages = [
        (
            "a contact with mail",
            f"contacts/{records.contact_id}",
            f"{contact[0]}: {contact[1]} emails, Emails tab",
        ),
        (
            "an opportunity with mail",
            f"crm/{records.opportunity_id}",
            f"{opportunity[0]}: {opportunity[1]} emails, Emails tab",
        ),
        (
            "unassigned emails",
            f"{UNASSIGNED_PATH}?menu_id={records.crm_menu_id}",
            f"{downloaded - assigned} of {login}'s, {figures.unassigned} in all: mail from strangers, "
            "kept until a contact or opportunity matches it",
        ),
        (f"all {login}'s emails", "action-mail_crm_sync.mail_sync_message_action", ""),
    ]
    window_start = datetime.datetime.combine(figures.window_start, datetime.time(), datetime.UTC)
    on_server = [message for messages in mail.values() for message in messages]
    too_old = sum(message.date < window_start for message in on_server)
    junk = sum(message.folder == "Junk" for message in on_server)
    synced = ", ".join(
        f"{LOGINS[person]} {total} emails ({linked} assigned)"
        for person, (total, linked) in figures.accounts.items()
    )
    lines = [
        "",
        f"Mail CRM Sync demo ready in {time.time() - args.started:.0f} s: {url}/odoo",
        "",
        "Log in as (login / password):",
        *(
            f"  {name:5} / {name:5}  {person.name}, salesman, mailbox {person.email}"
            for person, name in LOGINS.items()
        ),
        f"  admin / {ADMIN_PASSWORD:5}  administrator, sees every account",
        "",
        f"Look first, logged in as {login}:",
    ]
    for label, path, note in pages:
        lines += [f"  {label:25} {url}/odoo/{path}", *([f"  {'':25} {note}"] if note else [])]
    lines += [
        "",
        f"First sync, by the scheduled action: {synced}; {figures.emails} stored (mail to both, once).",
        f"Left on the server, as they should be: {too_old} emails from before the first-sync window "
        f"(since {figures.window_start}), {junk} in Junk.",
        f"Sending: Write Email, Reply and Forward go through the demo's own SMTP server on "
        f"{servers.smtp_host}:{servers.smtp_port}, which delivers nowhere; each message it receives is "
        f"told here and saved in {outbox}/ (one .eml each). The copy goes to the mailbox's Sent folder "
        "over IMAP, and the email is on its contact and opportunity at once.",
        f"Database {args.database} stays after exit. Odoo's log: {log_path}; its configuration, with the key "
        f"that encrypts the mail passwords: {log_path.with_suffix('.conf')}",
        "Ctrl-C stops Odoo, the demo's Dovecot and its SMTP server.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
