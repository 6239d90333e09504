"""Back-fill of older mail beside the regular sync, on the same realistic mailbox in one run.

    PYTHONPATH=$PWD ~/odoo18/venv/bin/python bench/backfill.py [--count 6000] [--days 120] \\
        [--new 300] [--seed 1] [--keep-db]

A fresh database as bench/odoo_sync.py makes one (a copy of the host's ``crm18`` with mail_crm_sync
installed, and its contacts, companies and opportunities); a private Dovecot holding a realistic
mailbox (bench/realistic_mail.py: INBOX and Sent, threads, HTML, PDFs) spread over ``--days`` days,
indexed before anything is timed.

Timed, and printed, in messages stored per second:

1. the first sync of an account whose First Sync starts half-way (a date ``--days``/2 ago), as
   its scheduled action runs it (``_sync_accounts()`` until it stops answering "pending");
2. the regular sync of ``--new`` messages that arrived since, alone;
3. First Sync widened to three quarters of the period: the back-fill job it queues, as its
   scheduled action runs it (``mail.sync.backfill._cron_backfill()`` until the job is done; quiet
   hours: any time), alone: the search, then the older mail newest first;
4. ``--new`` more messages arrive and First Sync is widened to the whole period: the regular sync of
   the new mail timed while that back-fill runs in another thread (does it slow the sync of new
   mail?), and the back-fill's own speed.

``uptime`` is printed beside the figures (the machine may be shared). The database is dropped at
the end unless ``--keep-db``; Odoo's log goes to /tmp/mcs_bench_backfill_<time>.log. Figures only.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import threading
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
    parser.add_argument("--new", type=int, default=300, help="new messages for the regular sync")
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
            first = bench_first_sync(registry, account_id)
            arrive(server, user, population, args.new, args.seed + 100)
            alone = bench_regular_sync(registry, account_id, "regular sync of new mail, alone")
            widen(registry, account_id, args.days * 0.75)
            backfill_alone = bench_backfill(registry, account_id, "back-fill, alone")
            arrive(server, user, population, args.new, args.seed + 200)
            widen(registry, account_id, args.days + 2)
            beside, backfill_beside = bench_both(registry, account_id)
        say(f"uptime: {_uptime()}")
        say(
            f"\nmsg/s: first sync {first:.0f}; back-fill {backfill_alone:.0f} alone, {backfill_beside:.0f} "
            f"beside the regular sync (ratio back-fill/first sync {backfill_alone / first:.2f}); "
            f"regular sync of new mail {alone:.0f} alone, {beside:.0f} beside a running back-fill"
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


def _count(env, account_id: int, recent: bool = False) -> int:
    """The account's emails; with ``recent``, those dated in the last two days only (the new mail,
    not the older mail a back-fill stores meanwhile)."""
    env.cr.execute(
        """SELECT COUNT(*)
             FROM mail_sync_account_message_rel r JOIN mail_sync_message m ON m.id = r.message_id
            WHERE r.account_id = %s AND (NOT %s OR m.date > now() at time zone 'UTC' - interval '2 days')""",
        [account_id, recent],
    )
    return env.cr.fetchone()[0]


def bench_first_sync(registry: Registry, account_id: int) -> float:
    return bench_regular_sync(registry, account_id, "first sync", recent=False)


def bench_regular_sync(registry: Registry, account_id: int, label: str, recent: bool = True) -> float:
    """The scheduled action's sync of the account until it has nothing pending; msg/s (of the
    mail of the last two days only with ``recent``)."""
    with environment(registry) as env:
        before = _count(env, account_id, recent)
    with environment(registry) as env:
        account = env["mail.sync.account"].browse(account_id)
        runs = 0
        started = time.perf_counter()
        while True:
            runs += 1
            if account._sync_accounts()[account.id] != "pending":
                break
        elapsed = time.perf_counter() - started
    with environment(registry) as env:
        stored = _count(env, account_id, recent) - before
    say(f"{label}: {stored} messages in {elapsed:.2f} s ({runs} scheduled-action runs)")
    say(f"  speed: {stored / elapsed:.0f} messages/second")
    return stored / elapsed


def arrive(server: DovecotServer, user: MailUser, population, count: int, seed: int) -> None:
    """``count`` new messages, arrived in the last few hours, indexed by the server."""
    RealisticMailbox(count, seed, population=population, days=0.2).fill(server, user)
    index_folders(server, user)


def widen(registry: Registry, account_id: int, days: float) -> None:
    with environment(registry) as env:
        account = env["mail.sync.account"].browse(account_id)
        account.sync_window_date = datetime.date.today() - datetime.timedelta(days=days)


def _job_id(registry: Registry, account_id: int) -> int:
    with environment(registry) as env:
        return env["mail.sync.account"].browse(account_id).backfill_ids[:1].id


def _job_state(registry: Registry, job_id: int) -> str:
    with environment(registry) as env:
        return env["mail.sync.backfill"].browse(job_id).state


def bench_backfill(registry: Registry, account_id: int, label: str) -> float:
    """The back-fill job the last widening queued, run by its scheduled action until done; msg/s."""
    job_id = _job_id(registry, account_id)
    calls, state = 0, "queued"
    started = time.perf_counter()
    while state in ("queued", "running"):
        calls += 1
        with environment(registry) as env:
            env["mail.sync.backfill"]._cron_backfill()
        state = _job_state(registry, job_id)
    elapsed = time.perf_counter() - started
    with environment(registry) as env:
        job = env["mail.sync.backfill"].browse(job_id)
        stored = job.read_count  # its own: the regular sync may store new mail meanwhile
        say(
            f"{label}: {stored} messages in {elapsed:.2f} s ({calls} scheduled-action calls; job "
            f"{job.state}, {job.done_count} of {job.total_count} UIDs)"
        )
    say(f"  speed: {stored / elapsed:.0f} messages/second")
    return stored / elapsed


def bench_both(registry: Registry, account_id: int) -> tuple[float, float]:
    """The back-fill in a thread of its own; once it fetches, the regular sync of the new mail."""
    job_id = _job_id(registry, account_id)
    result: list[float] = []
    thread = threading.Thread(
        target=lambda: result.append(
            bench_backfill(registry, account_id, "back-fill, beside the regular sync")
        )
    )
    thread.start()
    while _job_state(registry, job_id) == "queued":
        time.sleep(0.01)
    rate = bench_regular_sync(registry, account_id, "regular sync of new mail, beside a running back-fill")
    say(f"  the back-fill was {_job_state(registry, job_id)} when that sync ended")
    thread.join()
    return rate, result[0]


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    sys.exit(main())
