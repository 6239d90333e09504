"""Back-fill of older mail beside the regular first sync, on the same realistic mailbox in one run.

    PYTHONPATH=$PWD ~/odoo18/venv/bin/python bench/backfill.py [--count 6000] [--days 120] \\
        [--seed 1] [--keep-db]

A fresh database as bench/odoo_sync.py makes one (a copy of the host's ``crm18`` with mail_crm_sync
installed, and its contacts, companies and opportunities); a private Dovecot holding a realistic
mailbox (bench/realistic_mail.py: INBOX and Sent, threads, HTML, PDFs) spread over ``--days`` days,
indexed before anything is timed.

Timed, and printed:

1. the first sync of an account whose First Sync starts half-way (a date ``--days``/2 ago), as
   its scheduled action runs it (``_sync_accounts()`` until it stops answering "pending");
2. First Sync then widened to the whole period: the back-fill job it queues, as its scheduled
   action runs it (``mail.sync.backfill._cron_backfill()`` until the job is done; quiet hours: any
   time): the search, then the older mail newest first;
3. both speeds in messages stored per second, and their ratio.

``uptime`` is printed beside the figures. The database is dropped at the end unless
``--keep-db``; Odoo's log goes to /tmp/mcs_bench_backfill_<time>.log. Figures only.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from odoo.modules.registry import Registry  # noqa: E402

from bench.odoo_host import configure, create_database, database_name, drop_database, environment, say  # noqa: E402
from bench.odoo_sync import CONTACTS, create_crm_records, index_folders  # noqa: E402
from bench.realistic_mail import RealisticMailbox, make_population  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer, MailUser  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=6000, help="messages in the mailbox")
    parser.add_argument("--days", type=float, default=120.0, help="the period the mail is spread over")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    log_path = Path(f"/tmp/{database_name('mcs_bench_backfill')}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    name = database_name("mcs_bench_backfill")
    say(f"database {name}: mail_crm_sync installed in {create_database(name, log_path):.0f} s")
    try:
        registry = Registry(name)
        population = make_population(CONTACTS, seed=args.seed)
        create_crm_records(registry, population, args.seed, easy=False)
        with DovecotServer() as server:
            user = server.add_user()
            started = time.perf_counter()
            box = RealisticMailbox(args.count, args.seed, population=population, days=args.days)
            say(f"mailbox: {box.fill(server, user).summary()}")
            index_folders(server, user)
            say(f"  written and indexed in {time.perf_counter() - started:.0f} s")
            say(f"uptime: {_uptime()}")
            account_id = connect_account(registry, server, user, args.days / 2)
            sync_rate = bench_first_sync(registry, account_id)
            backfill_rate = bench_backfill(registry, account_id, args.days)
        say(f"uptime: {_uptime()}")
        say(
            f"\nfirst sync {sync_rate:.0f} msg/s, back-fill {backfill_rate:.0f} msg/s: "
            f"ratio back-fill/first sync {backfill_rate / sync_rate:.2f}"
        )
    finally:
        if not args.keep_db:
            drop_database(name)
    return 0


def connect_account(registry: Registry, server: DovecotServer, user: MailUser, days: float) -> int:
    since = datetime.date.today() - datetime.timedelta(days=days)
    with environment(registry) as env:
        Param = env["ir.config_parameter"]
        for key in ("mail_crm_sync.backfill_from_hour", "mail_crm_sync.backfill_to_hour"):
            Param.set_param(key, 0)  # the same hour twice: older mail at any time
        account = env["mail.sync.account"].create(
            {
                "name": "Benchmark",
                "email": "me@example.test",
                "username": user.login,
                "user_id": env.ref("base.user_admin").id,
                "imap_host": server.host,
                "imap_port": server.port,
                "imap_security": "none",
                "password": user.password,
                "sync_window": "date",
                "sync_window_date": since,
            }
        )
        account.action_test_connection()
        return account.id


def _count(env, account_id: int) -> int:
    env.cr.execute("SELECT COUNT(*) FROM mail_sync_account_message_rel WHERE account_id = %s", [account_id])
    return env.cr.fetchone()[0]


def bench_first_sync(registry: Registry, account_id: int) -> float:
    with environment(registry) as env:
        account = env["mail.sync.account"].browse(account_id)
        runs = 0
        started = time.perf_counter()
        while True:
            runs += 1
            if account._sync_accounts()[account.id] != "pending":
                break
        elapsed = time.perf_counter() - started
        env.cr.rollback()
        stored = _count(env, account_id)
    say(f"first sync: {stored} messages in {elapsed:.1f} s ({runs} scheduled-action runs)")
    say(f"  speed: {stored / elapsed:.0f} messages/second")
    return stored / elapsed


def bench_backfill(registry: Registry, account_id: int, days: float) -> float:
    with environment(registry) as env:
        before = _count(env, account_id)
        account = env["mail.sync.account"].browse(account_id)
        account.sync_window_date = datetime.date.today() - datetime.timedelta(days=days + 2)
        job_id = account.backfill_ids[:1].id
    calls, state = 0, "queued"
    started = time.perf_counter()
    while state in ("queued", "running"):
        calls += 1
        with environment(registry) as env:
            env["mail.sync.backfill"]._cron_backfill()
        with environment(registry) as env:
            state = env["mail.sync.backfill"].browse(job_id).state
    elapsed = time.perf_counter() - started
    with environment(registry) as env:
        job = env["mail.sync.backfill"].browse(job_id)
        stored = _count(env, account_id) - before
        say(
            f"back-fill: {stored} messages in {elapsed:.1f} s ({calls} scheduled-action calls; job "
            f"{job.state}, {job.done_count} of {job.total_count} UIDs, {job.read_count} emails read)"
        )
    say(f"  speed: {stored / elapsed:.0f} messages/second")
    return stored / elapsed


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    sys.exit(main())
