"""What a poll that finds nothing new costs the addon, beside the server's own login and STATUS.

    ~/odoo18/venv/bin/python bench/idle_poll.py [--accounts 300] [--rounds 3] [--profile] [--keep-db]

Set-up: a fresh copy of the host's ``crm18`` with mail_crm_sync installed; a private Dovecot with
``--accounts`` mailboxes of three emails each; one account per mailbox, owned by the administrator,
connected with Test Connection (its folders: Inbox and Sent), then synced once (untimed): every
account is then idle, its folders' state saved.

Each round, every account is made due and measured twice, in this process:

- the reference: the engine alone doing what a poll asks of the server, account after account:
  log in, ``sync_folder`` of each active folder from its saved state (one STATUS each, nothing
  new), log out;
- ours: the scheduled action's code (``mail.sync.account._cron_sync``, as a cron worker calls it),
  which polls the same accounts in the same way, claiming each, and records each outcome.

Printed, per account, median of the rounds: both times, and ours less the reference: what the addon
adds to a poll (claim, settings, runtime state, outcome, commits); with the SQL statements and
commits it sends per account. ``--profile`` prints where that time goes (cProfile, one round).
Figures only: nothing here asserts a speed. Odoo's log goes to /tmp/mcs_idle_poll_<time>.log.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import odoo  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

from bench.odoo_host import (  # noqa: E402
    configure,
    create_database,
    database_name,
    drop_database,
    environment,
    say,
    wrapped,
)
from mail_crm_sync_engine import ConnectionSettings, FolderState, Security, connect, sync_folder  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer, build_mail  # noqa: E402

QUIET = {"tracking_disable": True, "mail_create_nolog": True}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="where our time goes (cProfile)")
    parser.add_argument(
        "--statements", action="store_true", help="print the SQL of a call of the job that polls one account"
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    name = database_name("mcs_idle_poll")
    log_path = Path(f"/tmp/{name}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    try:
        seconds = create_database(name, log_path)
        say(f"database {name}: mail_crm_sync installed in {seconds:.0f} s")
        with DovecotServer(max_connections=64) as server:
            registry = Registry(name)
            account_ids, passwords = set_up(registry, server, args.accounts)
            ours, reference, statements, commits = [], [], [], []
            for _round in range(args.rounds):
                reference.append(poll_with_engine(registry, server, account_ids, passwords))
                seconds, counted = poll_with_addon(registry, account_ids)
                ours.append(seconds)
                statements.append(counted["statements"] / len(account_ids))
                commits.append(counted["commits"] / len(account_ids))
            if args.profile:
                profile(registry, account_ids)
            if args.statements:
                _seconds, counted = poll_with_addon(registry, account_ids[:1], record=True)
                say("\nthe statements of a call of the job that polls one account, in order:")
                for statement in counted["sql"]:
                    say(f"  {' '.join(statement.split())[:200]}")
        per_account = 1000 / len(account_ids)
        ref, own = statistics.median(reference) * per_account, statistics.median(ours) * per_account
        say(f"\n{len(account_ids)} idle accounts, median of {args.rounds} rounds, ms per account:")
        say(f"  engine alone (login, STATUS of each folder, logout): {ref:.2f}")
        say(f"  the scheduled sync (mail.sync.account._cron_sync):   {own:.2f}")
        say(f"  the addon's own time per poll:                       {own - ref:.2f}")
        say(
            f"  per poll: {statistics.median(statements):.1f} SQL statements, "
            f"{statistics.median(commits):.1f} commits"
        )
        say(
            "  rounds (engine / ours, s): "
            + ", ".join(f"{r:.2f} / {o:.2f}" for r, o in zip(reference, ours, strict=True))
        )
    finally:
        if args.keep_db:
            say(f"kept: {name}")
        else:
            drop_database(name)
    return 0


def set_up(registry: Registry, server: DovecotServer, count: int) -> tuple[list[int], dict[str, str]]:
    """The mailboxes, their accounts (tested, then synced once): the accounts' ids, and the
    mailboxes' passwords by address."""
    started = time.perf_counter()
    boxes = [server.add_user() for _ in range(count)]
    for box in boxes:
        for index in range(3):
            mail = build_mail(
                sender="ana.ribeiro@acme-logistics.example",
                to=box.email,
                subject=f"Quote {index}",
                text="Could you send the quote for the spring order?",
            )
            server.deliver(box, mail)
    with environment(registry, QUIET) as env:
        accounts = env["mail.sync.account"].create(
            [
                {
                    "name": f"Bench {box.login}",
                    "email": box.email,
                    "user_id": env.ref("base.user_admin").id,
                    "imap_host": server.host,
                    "imap_port": server.port,
                    "imap_security": "none",
                    "password": box.password,
                    "sync_window": "1_month",
                }
                for box in boxes
            ]
        )
        for account in accounts:
            account.action_test_connection()
        account_ids = accounts.ids
    with environment(registry) as env:
        env["mail.sync.account"].browse(account_ids)._sync_accounts()
        env.cr.execute(
            "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FROM mail_sync_account "
            "WHERE id = ANY(%s)",
            [account_ids],
        )
        active, total = env.cr.fetchone()
        env.cr.execute("SELECT count(*) FROM mail_sync_message")
        (stored,) = env.cr.fetchone()
    say(
        f"set-up: {total} accounts ({active} active), {stored} emails synced, "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return account_ids, {box.email: box.password for box in boxes}


def _make_due(registry: Registry, account_ids: list[int]) -> None:
    with environment(registry) as env:
        env.cr.execute(
            "UPDATE mail_sync_account "
            "SET last_attempt_date = (now() at time zone 'UTC') - interval '10 minutes' WHERE id = ANY(%s)",
            [account_ids],
        )


def poll_with_engine(
    registry: Registry, server: DovecotServer, account_ids: list[int], passwords: dict[str, str]
) -> float:
    """Seconds the engine alone takes to poll every account as the sync does (its saved states)."""
    with environment(registry) as env:
        accounts = env["mail.sync.account"].browse(account_ids)
        polls = [
            (
                ConnectionSettings(
                    server.host, server.port, Security.NONE, account.login or account.email, password=password
                ),
                [
                    (folder.name, FolderState.from_dict(folder.sync_state))
                    for folder in account.folder_ids.filtered("active")
                ],
            )
            for account in accounts
            for password in (passwords[account.email],)
        ]
    started = time.perf_counter()
    for settings, folders in polls:
        with connect(settings) as mailbox:
            for folder_name, state in folders:
                for _batch in sync_folder(mailbox, folder_name, state, lambda: None):
                    raise RuntimeError(f"{folder_name} of {settings.username} is not idle")
    return time.perf_counter() - started


def poll_with_addon(registry: Registry, account_ids: list[int], record=False) -> tuple[float, dict]:
    """Seconds the scheduled action's code takes to poll them all, and the statements and commits
    it sent."""
    if record:  # these accounts alone are due
        with environment(registry) as env:
            env.cr.execute(
                "UPDATE mail_sync_account SET last_attempt_date = now() at time zone 'UTC' "
                "WHERE id != ALL(%s)",
                [account_ids],
            )
    _make_due(registry, account_ids)
    counted = {"statements": 0, "commits": 0, "sql": []}

    def counting(original):
        def execute(cursor, query, params=None, log_exceptions=True):
            counted["statements"] += 1
            if record:
                counted["sql"].append(query.code if hasattr(query, "code") else str(query))
            return original(cursor, query, params, log_exceptions)

        return execute

    def committing(original):
        def commit(cursor):
            counted["commits"] += 1
            return original(cursor)

        return commit

    with (
        wrapped(odoo.sql_db.Cursor, "execute", counting),
        wrapped(odoo.sql_db.Cursor, "commit", committing),
        environment(registry) as env,
    ):
        started = time.perf_counter()
        env["mail.sync.account"]._cron_sync()
        seconds = time.perf_counter() - started
    with environment(registry) as env:  # a snapshot taken after the syncs' commits
        env.cr.execute(
            "SELECT count(*) FROM mail_sync_account WHERE id = ANY(%s) AND last_attempt_date "
            "< (now() at time zone 'UTC') - interval '5 minutes'",
            [account_ids],
        )
        (missed,) = env.cr.fetchone()
    if missed:
        raise RuntimeError(f"{missed} accounts were not polled")
    return seconds, counted


def profile(registry: Registry, account_ids: list[int]) -> None:
    _make_due(registry, account_ids)
    profiler = cProfile.Profile()
    with environment(registry) as env:
        profiler.enable()
        env["mail.sync.account"]._cron_sync()
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    say(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
