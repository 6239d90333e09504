"""Scale-out benchmark: the scheduled mail sync of many accounts run by 1, 2, 4 Odoo server processes.

Run with the Odoo host's Python (it needs psycopg2 and the engine, both there):

    ~/odoo18/venv/bin/python bench/workers.py [--accounts 500] [--messages 20] [--workers 1,2,4] \\
        [--runs-per-worker 3] [--crons single,copies]

DESIGN.md ("Scale") says several cron workers share the accounts without syncing one twice, because
each account is claimed with an advisory lock the others skip. This script checks that the way a user
scales out: several real Odoo servers (``odoo-bin --max-cron-threads=1``) on one database, woken
the way Odoo wakes them (``NOTIFY cron_trigger``) when the sync's scheduled action is due.

Set-up, once: a template database from the host's ``crm18`` with mail_crm_sync installed, one
private Dovecot with ``--accounts`` mailboxes of ``--messages`` small new emails each, one account
per mailbox owned by the administrator (an active user: the sync skips accounts whose owner is
archived, and the superuser is) whose connection is tested, so it is active and due. Every other
scheduled action is switched off so that nothing else competes for the workers. The engine then
reads every mailbox once, outside Odoo, so that Dovecot's indexes and caches are built before the
first timed run instead of during it (the first worker count would pay for them otherwise).

Then, for each way of scheduling (``--crons``) and each worker count W, from a fresh copy of the
template (the same starting state every time): W Odoo servers start; ``--runs-per-worker`` times,
every account is made due and the scheduled action is set due and announced; the run ends when
every account was attempted and no scheduled action is due or running any more; with
``--messages 0`` (idle accounts, due again two minutes after their poll: a cycle longer than that
keeps the job busy) when every account was polled once. Between runs the jobs are stopped and
waited for. Measured:

- wall time from the first announcement until all accounts x messages are stored;
- IMAP logins, counted per mailbox in Dovecot's log (each sync logs in once per account), and the
  accounts logged into more than once within one due run: synced twice;
- messages stored, and duplicates: Message-IDs stored twice, and server places (folder,
  UIDVALIDITY, UID) stored twice;
- what the Odoo logs say: errors, warnings, tracebacks, accounts skipped as busy, batches retried
  after a concurrent update.

Ways of scheduling:

- ``single``: the addon's one scheduled action, as installed. Odoo 18 runs one scheduled action in
  one worker at a time (``ir.cron._acquire_one_job`` locks its row for the whole job; other workers
  skip it), so W servers take turns rather than share one run.
- ``copies``: W copies of the scheduled action (the installed one plus W-1 identical ones), the
  usual way to make Odoo run one job in several workers at once: each worker takes a copy, and all
  of them sync the same due accounts concurrently, relying on the per-account claim.

Everything runs on loopback; the databases are dropped and the servers stopped at the end, the
Odoo logs stay in a temporary folder whose path is printed. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from mail_crm_sync_engine import (
    ConnectionSettings,
    Security,
    connect,
    default_selection,
    list_folders,
    sync_folder,
)
from mail_crm_sync_engine.testing import DovecotServer, build_mail, free_port

REPO = Path(__file__).resolve().parents[1]
ODOO_HOST = Path(os.environ.get("ODOO_HOST", "~/odoo18")).expanduser()
ODOO_BIN = ODOO_HOST / "odoo"
ADDONS_PATH = f"{ODOO_HOST}/src/addons,{ODOO_HOST}/src/odoo/addons,{REPO}"
SYNC_CRON_XMLID = ("mail_crm_sync", "ir_cron_mail_sync")
RUN_TIMEOUT = 30 * 60  # seconds; a run that takes longer is reported as stuck, not waited for
LOGIN_RE = re.compile(r"imap-login: Info: Login: user=<([^>]+)>")

# Executed by `odoo shell` in the template database: the accounts, the scheduled actions.
SETUP_SCRIPT = """
import json, os
from datetime import timedelta
from odoo import fields

spec = json.loads(open(os.environ["BENCH_WORKERS_SPEC"]).read())
owner = env.ref("base.user_admin")
Account = env["mail.sync.account"].with_context(tracking_disable=True, mail_create_nolog=True)
accounts = Account.create([
    {
        "name": "Bench " + box["login"],
        "email": box["email"],
        "user_id": owner.id,
        "imap_host": spec["host"],
        "imap_port": spec["port"],
        "imap_security": "none",
        "password": box["password"],
        "sync_window": "1_month",
    }
    for box in spec["boxes"]
])
for account in accounts:
    account.action_test_connection()
env.cr.commit()
sync = env.ref("mail_crm_sync.ir_cron_mail_sync")
later = fields.Datetime.now() + timedelta(days=1)
Cron = env["ir.cron"].with_context(active_test=False)
Cron.search([("id", "!=", sync.id)]).write({"active": False})
sync.write({"active": True, "interval_number": 1, "interval_type": "days", "nextcall": later})
for number in range(spec["copies"]):
    Cron.create({
        "name": "%s (copy %s)" % (sync.name, number + 1),
        "model_id": sync.model_id.id,
        "state": "code",
        "code": sync.code,
        "user_id": sync.user_id.id,
        "priority": sync.priority,
        "interval_number": 1,
        "interval_type": "days",
        "nextcall": later,
        "active": False,
    })
env.cr.commit()
print("BENCH-SETUP-DONE", len(accounts), sum(a.state == "active" for a in accounts))
"""

CORRESPONDENTS = [
    ("Ana Ribeiro", "ana.ribeiro@acme-logistics.example"),
    ("Jonas Weber", "j.weber@weber-bau.example"),
    ("Mei Lin", "mei.lin@lotus-trading.example"),
    ("Pierre Martin", "pierre.martin@martin-et-fils.example"),
    ("Sofia Rossi", "sofia@rossi-design.example"),
    ("Tom Baker", "tom.baker@bakery-supplies.example"),
    ("Priya Nair", "priya.nair@nair-consulting.example"),
    ("Lars Nilsson", "lars@nordic-timber.example"),
]
SUBJECTS = [
    "Quote for the spring order",
    "Re: delivery dates",
    "Invoice 2026-{n:04d}",
    "Meeting next week?",
    "Re: Re: pallet count",
    "New price list",
    "Question about the contract",
    "Samples arrived",
]
PARAGRAPH = (
    "Thanks for getting back to us so quickly. As discussed on the phone, we would like to go ahead "
    "with the quantities in the attached plan, provided the delivery can be split over two weeks. "
    "Could you confirm the prices and let me know who will handle the paperwork on your side?\n"
)


def mailbox_message(box_email: str, box_index: int, index: int, tag: str) -> tuple[bytes, float]:
    """One small, realistic email (a few hundred bytes of text, a quarter with an HTML part), and
    its arrival time within the last ten days."""
    name, address = CORRESPONDENTS[(box_index + index) % len(CORRESPONDENTS)]
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=index * 11 + box_index % 7)
    text = f"Hello,\n\n{PARAGRAPH * (1 + index % 3)}\nBest regards,\n{name}\n"
    html = None
    if index % 4 == 0:
        html = (
            "<html><body>"
            + "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
            + "</body></html>"
        )
    raw = build_mail(
        sender=f"{name} <{address}>",
        to=box_email,
        subject=SUBJECTS[index % len(SUBJECTS)].format(n=box_index * 100 + index),
        text=text,
        html=html,
        message_id=f"<{tag}.{box_index}.{index}@bench.example>",
        date=when,
    )
    return raw, when.timestamp()


# -- processes and databases ------------------------------------------------------------------------


def odoo_command(database: str, *options: str, subcommand: str | None = None) -> list[str]:
    return [
        str(ODOO_BIN),
        *([subcommand] if subcommand else []),
        f"--addons-path={ADDONS_PATH}",
        "-d",
        database,
        *options,
    ]


def run_logged(command: list[str], log: Path, stdin: str | None = None, env: dict | None = None) -> None:
    """Run a command to completion with its output in ``log``; fail with the log's tail."""
    with open(log, "w") as out:
        result = subprocess.run(
            command, input=stdin, stdout=out, stderr=subprocess.STDOUT, text=True, env=env, check=False
        )
    if result.returncode:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-40:])
        raise SystemExit(f"{' '.join(command)} exited with {result.returncode}:\n{tail}")


def drop_database(name: str) -> None:
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=False, capture_output=True)


@dataclass
class OdooServer:
    """One Odoo server process on loopback with one cron thread, its output in a file."""

    database: str
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> OdooServer:
        command = odoo_command(
            self.database,
            "--http-interface=127.0.0.1",
            f"--http-port={free_port()}",
            "--workers=0",
            "--max-cron-threads=1",
        )
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        return self

    def ready(self, monitor) -> bool:
        """The registry is loaded and the cron thread holds its LISTEN connection to ``postgres``."""
        if self.process.poll() is not None:
            raise SystemExit(f"Odoo exited at start (code {self.process.returncode}); see {self.log}")
        if "Registry loaded in" not in self.log.read_text(errors="replace"):
            return False
        monitor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres' AND application_name = %s",
            [f"odoo-{self.process.pid}"],
        )
        return monitor.fetchone()[0] > 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- measurements -----------------------------------------------------------------------------------


@dataclass
class Run:
    """One due run: how long until every account was attempted, and Dovecot's logins per mailbox."""

    seconds: float
    logins: Counter


@dataclass
class Result:
    """Everything measured for one way of scheduling and one worker count."""

    crons: str
    workers: int
    first_sync_seconds: float | None = None
    runs: list[Run] = field(default_factory=list)
    messages: int = 0
    duplicate_message_ids: int = 0
    duplicate_places: int = 0
    incomplete_accounts: int = 0
    not_active_accounts: int = 0
    log_counts: Counter = field(default_factory=Counter)
    log_samples: list[str] = field(default_factory=list)
    jobs_per_server: list[int] = field(default_factory=list)

    @property
    def logins(self) -> int:
        return sum(sum(run.logins.values()) for run in self.runs)

    @property
    def synced_twice(self) -> list[int]:
        return [sum(1 for count in run.logins.values() if count > 1) for run in self.runs]


LOG_PATTERNS = {
    "errors": re.compile(r" ERROR "),
    "warnings": re.compile(r" WARNING (?!.*secrets of mail accounts .* are stored unencrypted)"),
    "tracebacks": re.compile(r"^Traceback "),
    "busy skips": re.compile(r"is being synced by another worker"),
    "claimed, then found polled meanwhile": re.compile(r"was synced meanwhile or is not active"),
    "batch retries": re.compile(r"met a concurrent update; retrying"),
    "serialization failures": re.compile(r"could not serialize|SerializationFailure"),
    "crashed syncs": re.compile(r"Sync of mail account \d+ crashed"),
    "failed syncs": re.compile(r"Sync of mail account \d+ failed"),
    "cron jobs run": re.compile(r"Job '.*' \(\d+\) done in"),
}


SAMPLED = {"errors", "tracebacks", "serialization failures", "crashed syncs"}


def jobs_before_shutdown(log: Path) -> int:
    """How many sync jobs this server ran: with the single scheduled action, they take turns."""
    text = log.read_text(errors="replace").split("odoo.service.server: Initiating shutdown")[0]
    return len(LOG_PATTERNS["cron jobs run"].findall(text))


def read_odoo_logs(result: Result, logs: list[Path]) -> None:
    """Count what matters in each server's log, up to its shutdown (stopping a server makes its cron
    thread print a traceback as the interpreter exits: not a sync anomaly)."""
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if "odoo.service.server: Initiating shutdown" in line:
                break
            matched = {name for name, pattern in LOG_PATTERNS.items() if pattern.search(line)}
            result.log_counts.update(matched)
            if matched & SAMPLED and len(result.log_samples) < 6:
                result.log_samples.append(f"{log.name}: {line[:300]}")
        result.jobs_per_server.append(jobs_before_shutdown(log))


def database_figures(cursor, result: Result, accounts: int, messages: int) -> None:
    """Stored messages and duplicates, counted in SQL: the unique constraints should make both
    duplicate counts 0; counting shows it rather than assumes it."""
    cursor.execute("SELECT count(*), count(DISTINCT message_id) FROM mail_sync_message")
    stored, distinct = cursor.fetchone()
    result.messages, result.duplicate_message_ids = stored, stored - distinct
    cursor.execute(
        "SELECT count(*) - count(DISTINCT (folder_id, uidvalidity, uid)) FROM mail_sync_message_location"
    )
    result.duplicate_places = cursor.fetchone()[0]
    cursor.execute(
        """SELECT count(*) FROM mail_sync_account a
            WHERE (SELECT count(*) FROM mail_sync_message_location l WHERE l.account_id = a.id) < %s""",
        [messages],
    )
    result.incomplete_accounts = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM mail_sync_account WHERE state != 'active'")
    result.not_active_accounts = cursor.fetchone()[0]


# -- the benchmark ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.tag = f"{os.getpid()}x{int(time.time()) % 100000}"
        self.template = f"bench_workers_{self.tag}_tpl"
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
        self.databases: list[str] = []
        self.servers: list[OdooServer] = []
        self.dovecot: DovecotServer | None = None
        self.boxes = []

    # -- set-up -------------------------------------------------------------------------------------

    def set_up(self) -> None:
        args = self.args
        started = time.perf_counter()
        self.databases.append(self.template)
        subprocess.run(["createdb", "-T", "crm18", self.template], check=True)
        run_logged(
            odoo_command(self.template, "-i", "mail_crm_sync", "--stop-after-init", "--no-http"),
            self.workdir / "install.log",
        )
        print(f"  template {self.template}: mail_crm_sync installed in {time.perf_counter() - started:.0f} s")

        started = time.perf_counter()
        self.dovecot = DovecotServer().start()
        for box_index in range(args.accounts):
            box = self.dovecot.add_user(f"bench{box_index:04d}-{self.tag}@example.test")
            for index in range(args.messages):
                raw, when = mailbox_message(box.email, box_index, index, self.tag)
                self.dovecot.deliver(box, raw, when=when)
            self.boxes.append(box)
        print(
            f"  Dovecot on {self.dovecot.host}:{self.dovecot.port}: {args.accounts} mailboxes x "
            f"{args.messages} messages in {time.perf_counter() - started:.0f} s"
        )

        started = time.perf_counter()
        spec = self.workdir / "spec.json"
        spec.write_text(
            json.dumps(
                {
                    "host": self.dovecot.host,
                    "port": self.dovecot.port,
                    "copies": max(self.args.workers) - 1,
                    "boxes": [
                        {"login": box.login, "email": box.email, "password": box.password}
                        for box in self.boxes
                    ],
                }
            )
        )
        setup_log = self.workdir / "setup.log"
        run_logged(
            odoo_command(self.template, "--no-http", subcommand="shell"),
            setup_log,
            stdin=SETUP_SCRIPT,
            env={**os.environ, "BENCH_WORKERS_SPEC": str(spec)},
        )
        done = [line for line in setup_log.read_text().splitlines() if line.startswith("BENCH-SETUP-DONE")]
        if not done:
            raise SystemExit(f"account set-up printed no result; see {setup_log}")
        _, created, active = done[-1].split()
        print(
            f"  {created} accounts (owner: admin), {active} active after Test Connection, "
            f"in {time.perf_counter() - started:.0f} s; other scheduled actions switched off"
        )

        started = time.perf_counter()
        self.warm_up()
        print(
            "  Dovecot warmed up (every mailbox read once by the engine) in "
            f"{time.perf_counter() - started:.0f} s"
        )

    def warm_up(self) -> None:
        """Read every mailbox as the sync will, so that Dovecot builds its indexes and caches now."""
        since = datetime.date.today() - datetime.timedelta(days=31)
        for box in self.boxes:
            settings = ConnectionSettings(
                self.dovecot.host, self.dovecot.port, Security.NONE, box.login, password=box.password
            )
            with connect(settings) as mailbox:
                for folder in default_selection(list_folders(mailbox)):
                    for _batch in sync_folder(mailbox, folder.name, None, since):
                        pass

    # -- one measurement ----------------------------------------------------------------------------

    def measure(self, crons: str, workers: int) -> Result:
        args = self.args
        result = Result(crons, workers)
        database = f"bench_workers_{self.tag}_{crons}_w{workers}"
        self.databases.append(database)
        subprocess.run(["createdb", "-T", self.template, database], check=True)
        connection = psycopg2.connect(dbname=database)
        connection.autocommit = True
        notifier = psycopg2.connect(dbname="postgres")
        notifier.autocommit = True
        try:
            cursor = connection.cursor()
            cron_ids = self.arm_crons(cursor, workers if crons == "copies" else 1)
            logs = [self.workdir / f"odoo-{crons}-w{workers}-{number}.log" for number in range(workers)]
            self.servers = [OdooServer(database, log).start() for log in logs]
            deadline = time.monotonic() + 300
            while not all(server.ready(cursor) for server in self.servers):
                if time.monotonic() > deadline:
                    raise SystemExit(f"Odoo servers not ready after 300 s; see {self.workdir}")
                time.sleep(0.2)
            time.sleep(1)  # the cron threads LISTEN right after connecting
            for number in range(1, args.runs_per_worker + 1):
                result.runs.append(self.due_run(cursor, notifier, cron_ids, result, first=number == 1))
                print(
                    f"    {crons} W={workers} run {number}: {result.runs[-1].seconds:.1f} s, "
                    f"{sum(result.runs[-1].logins.values())} logins",
                    flush=True,
                )
            database_figures(cursor, result, args.accounts, args.messages)
        finally:
            for server in self.servers:
                server.stop()
            self.servers = []
            connection.close()
            notifier.close()
            drop_database(database)
            self.databases.remove(database)
        read_odoo_logs(result, logs)
        return result

    def arm_crons(self, cursor, count: int) -> list[int]:
        """Switch on the addon's scheduled action and ``count - 1`` copies of it; return their ids."""
        cursor.execute(
            "SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s AND model = 'ir.cron'",
            SYNC_CRON_XMLID,
        )
        sync_id = cursor.fetchone()[0]
        cursor.execute(
            """SELECT c.id FROM ir_cron c JOIN ir_act_server a ON a.id = c.ir_actions_server_id
                WHERE c.id != %s AND a.code = 'model._cron_sync()' ORDER BY c.id""",
            [sync_id],
        )
        copies = [row[0] for row in cursor.fetchall()][: count - 1]
        cursor.execute("UPDATE ir_cron SET active = (id = ANY(%s))", [[sync_id, *copies]])
        return [sync_id, *copies]

    def due_run(self, cursor, notifier, cron_ids: list[int], result: Result, *, first: bool) -> Run:
        """Make every account and the armed scheduled actions due, wake the workers, wait for the end."""
        expected = self.args.accounts * self.args.messages
        offset = self.dovecot.log_file.stat().st_size
        cursor.execute("SELECT date_trunc('second', now() AT TIME ZONE 'UTC')")
        run_start = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE mail_sync_account "
            "SET last_attempt_date = (now() AT TIME ZONE 'UTC') - interval '10 minutes'"
        )
        cursor.execute(
            "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC') - interval '1 minute' "
            "WHERE id = ANY(%s)",
            [cron_ids],
        )
        started = time.perf_counter()
        notifier.cursor().execute("SELECT pg_notify('cron_trigger', %s)", [cursor.connection.info.dbname])
        while True:
            time.sleep(0.1)
            cursor.execute("SELECT count(*) FROM mail_sync_message")
            stored = cursor.fetchone()[0]
            if first and result.first_sync_seconds is None and stored >= expected:
                result.first_sync_seconds = time.perf_counter() - started
            cursor.execute(
                "SELECT count(*) FROM mail_sync_account "
                "WHERE last_attempt_date IS NULL OR last_attempt_date < %s",
                [run_start],
            )
            waiting = cursor.fetchone()[0]
            cursor.execute(
                """SELECT count(*) FROM ir_cron
                    WHERE id = ANY(%s) AND nextcall <= (now() AT TIME ZONE 'UTC')""",
                [cron_ids],
            )
            due = cursor.fetchone()[0]
            if not waiting and (not due or not self.args.messages):
                # With mail to store, the run ends when no job is left to do. Idle accounts are due
                # again two minutes after their poll, so a cycle longer than that never leaves the
                # job idle: it ends when every account was polled once.
                break
            if time.perf_counter() - started > RUN_TIMEOUT:
                print(f"    run stuck: {waiting} accounts not attempted, {due} scheduled actions due")
                break
        seconds = time.perf_counter() - started
        self.stop_jobs(cursor)  # idle accounts polled two minutes ago are due again
        time.sleep(0.5)  # Dovecot's log process writes asynchronously
        end = self.dovecot.log_file.stat().st_size
        self.wait_for_jobs(cursor, cron_ids)
        with open(self.dovecot.log_file, "rb") as log:
            log.seek(offset)
            text = log.read(end - offset).decode(errors="replace")
        return Run(seconds, Counter(LOGIN_RE.findall(text)))

    def stop_jobs(self, cursor) -> None:
        """No account due any more: a job under way finds every account polled, and ends."""
        cursor.execute(
            "UPDATE mail_sync_account SET last_attempt_date = now() AT TIME ZONE 'UTC', sync_pending = false"
        )

    def wait_for_jobs(self, cursor, cron_ids: list[int]) -> None:
        """Wait until no worker runs one of the jobs (a running job holds its row's lock)."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM (SELECT id FROM ir_cron WHERE id = ANY(%s) "
                "FOR NO KEY UPDATE SKIP LOCKED) free",
                [cron_ids],
            )
            if cursor.fetchone()[0] == len(cron_ids):
                break
            time.sleep(0.2)
        # Now that none runs (deleting a trigger under a running job fails its reschedule).
        cursor.execute(
            "UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC') + interval '1 day' WHERE id = ANY(%s)",
            [cron_ids],
        )
        cursor.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", [cron_ids])

    # -- clean-up -----------------------------------------------------------------------------------

    def clean_up(self) -> None:
        for server in self.servers:
            server.stop()
        for database in self.databases:
            drop_database(database)
        if self.dovecot:
            self.dovecot.stop()


def print_table(results: list[Result], accounts: int, messages: int) -> None:
    header = (
        "crons",
        "workers",
        "wall time",
        "sync logins",
        "logins run 1",
        "synced >1x per run",
        "messages stored",
        "duplicates",
    )
    rows = [header]
    for result in results:
        rows.append(
            (
                result.crons,
                str(result.workers),
                f"{result.first_sync_seconds:.1f} s" if result.first_sync_seconds is not None else "not all",
                str(result.logins),
                str(sum(result.runs[0].logins.values())),
                "/".join(map(str, result.synced_twice)),
                f"{result.messages}/{accounts * messages}",
                f"{result.duplicate_message_ids} + {result.duplicate_places}",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for number, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("-+-".join("-" * width for width in widths))


def addon_version() -> str:
    """The addon's last commit, and whether the addon differs from it: every server started loads the
    working tree, so a change in the middle of a run would mix two versions."""
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run(
        [*git, "log", "-1", "--format=%h %s", "--", "mail_crm_sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "mail_crm_sync"], capture_output=True, text=True, check=False
    )
    return commit.stdout.strip() + (" (addon modified)" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20, help="new messages in each mailbox")
    parser.add_argument("--workers", default="1,2,4", help="Odoo server processes, comma-separated")
    parser.add_argument("--runs-per-worker", type=int, default=3, help="due runs per worker count")
    parser.add_argument(
        "--crons",
        default="single,copies",
        help="single: the addon's one scheduled action; copies: one copy of it per worker",
    )
    args = parser.parse_args()
    args.workers = [int(value) for value in args.workers.split(",")]
    modes = [value.strip() for value in args.crons.split(",")]
    if not ODOO_BIN.exists():
        raise SystemExit(f"no Odoo host at {ODOO_HOST} (set ODOO_HOST)")
    code = addon_version()
    print(f"Addon under test (its last commit): {code[:100]}")
    print(
        f"{args.accounts} accounts x {args.messages} new messages; workers {args.workers}; "
        f"{args.runs_per_worker} due runs each; scheduling {modes}; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    bench = Bench(args)
    results = []
    try:
        bench.set_up()
        for crons in modes:
            for workers in args.workers:
                results.append(bench.measure(crons, workers))
    finally:
        bench.clean_up()
    print()
    print(
        "wall time: first run, until all messages are stored; sync logins: Dovecot logins of all runs "
        "(ideal: accounts x runs);\nsynced >1x per run: accounts logged into more than once in one due "
        "run; duplicates: Message-IDs + server places stored twice"
    )
    print_table(results, args.accounts, args.messages)
    print()
    for result in results:
        runs = ", ".join(f"{run.seconds:.1f} s" for run in result.runs)
        counts = ", ".join(f"{name} {count}" for name, count in sorted(result.log_counts.items()))
        jobs = "/".join(map(str, result.jobs_per_server))
        print(
            f"{result.crons} W={result.workers}: runs took {runs}; sync jobs run per server {jobs}; "
            f"Odoo logs: {counts or 'nothing notable'}"
        )
        if result.incomplete_accounts or result.not_active_accounts:
            print(
                f"  {result.incomplete_accounts} accounts without all their messages, "
                f"{result.not_active_accounts} accounts not active"
            )
        for sample in result.log_samples:
            print(f"  {sample}")
    print(f"Odoo logs: {bench.workdir}; load average now {os.getloadavg()[0]:.1f}")
    if addon_version() != code:
        print(f"The addon changed during the run: now {addon_version()[:100]}; figures mix two versions")
    sys.stdout.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
