"""bench/idle.py --odoo: the cost of ``odoo-bin mail_sync_idle`` itself, in its own process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
from imapclient import IMAPClient
from odoo.modules.registry import Registry

from bench.idle import _dovecot_imap, _snapshot
from bench.odoo_host import (
    ADDONS_PATH,
    HOST,
    REPO,
    configure,
    create_database,
    database_name,
    drop_database,
    environment,
    say,
)
from mail_crm_sync_engine.testing import DovecotServer, build_mail


def _watch_states(registry) -> dict[int, str]:
    with environment(registry) as env:
        env.cr.execute("SELECT account_id, state FROM mail_sync_inbox_watch")
        return dict(env.cr.fetchall())


def _new_mail_flagged(registry, account_id) -> bool:
    with environment(registry) as env:
        env.cr.execute("SELECT new_mail FROM mail_sync_inbox_watch WHERE account_id = %s", [account_id])
        row = env.cr.fetchone()
        return bool(row and row[0])


def _set_instant_inbox(registry, on: bool) -> None:
    with environment(registry) as env:
        env["ir.config_parameter"].set_param("mail_crm_sync.instant_inbox", "True" if on else False)
    registry.signal_changes()  # as Odoo does after a request: other processes drop their caches


def _create_accounts(registry, server, users) -> list[int]:
    """One Sales user per mailbox, whose primary account it is, connected."""
    with environment(registry) as env:
        # Only the Instant Inbox scheduled action would run: no cron worker runs anyway.
        salesman = env.ref("sales_team.group_sale_salesman")
        people = env["res.users"].create(
            [
                {"name": f"Bench {i}", "login": user.login, "groups_id": [(6, 0, salesman.ids)]}
                for i, user in enumerate(users)
            ]
        )
        accounts = env["mail.sync.account"].create(
            [
                {
                    "name": user.login,
                    "email": user.email,
                    "user_id": person.id,
                    "is_primary": True,
                    "imap_host": server.host,
                    "imap_port": server.port,
                    "imap_security": "none",
                    "password": user.password,
                }
                for user, person in zip(users, people, strict=True)
            ]
        )
        for account in accounts:
            account.action_test_connection()
        return accounts.ids


def _start_watcher(registry, database: str, log_path: Path) -> subprocess.Popen:
    """``odoo-bin mail_sync_idle`` as an administrator starts it; returns once it runs (holds the
    database's watcher lock). Its log goes to ``log_path``."""
    command = [
        str(HOST / "venv/bin/python"),
        str(HOST / "src/odoo-bin"),
        f"--addons-path={ADDONS_PATH}",
        "mail_sync_idle",
        "-d",
        database,
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log, stderr=log
        )
    while True:
        with environment(registry) as env:
            if env["mail.sync.inbox.watch"]._watcher_running():
                return process
        if process.poll() is not None:
            raise RuntimeError(f"odoo-bin mail_sync_idle exited; see {log_path}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    if process.poll() is None:
        process.kill()


def _wait_until_watching(registry, count: int) -> float:
    """Seconds until every account is in IDLE (the watcher reads the accounts every minute)."""
    started = time.monotonic()
    while time.monotonic() - started < 600:
        states = _watch_states(registry)
        if len(states) == count and set(states.values()) == {"watching"}:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def _delays(registry, server, users, account_ids) -> list[float]:
    """Seconds from APPEND to the account flagged (and the sync's scheduled action triggered)."""
    delays = []
    for user, account_id in zip(users, account_ids, strict=False):
        client = IMAPClient(server.host, port=server.port, ssl=False)
        client.login(user.login, user.password)
        mail = build_mail(sender="a@client.example", to=user.email, subject="Bench", text="Hi")
        appended = time.monotonic()
        client.append("INBOX", mail)
        while not _new_mail_flagged(registry, account_id) and time.monotonic() - appended < 30:
            time.sleep(0.01)
        delays.append(time.monotonic() - appended)
        client.logout()
    return delays


def bench_odoo(args) -> dict:
    log_path = Path(f"/tmp/mcs_bench_idle_{os.getpid()}.log")
    configure(log_path)
    database = database_name("mcs_bench_idle")
    say(f"database {database}, Odoo log {log_path}")
    create_database(database, log_path)
    figures: dict = {"woken": 0}
    process = None
    try:
        with DovecotServer(max_connections=args.accounts + 16) as server:
            users = [server.add_user() for _ in range(args.accounts)]
            registry = Registry(database)
            account_ids = _create_accounts(registry, server, users)
            process = _start_watcher(registry, database, log_path)
            watcher = psutil.Process(process.pid)
            time.sleep(2)  # its first look at the accounts, with Instant Inbox off
            figures["before"] = _snapshot(watcher)
            _set_instant_inbox(registry, True)
            figures["all_in_idle"] = _wait_until_watching(registry, len(account_ids))
            figures["after"] = _snapshot(watcher)
            figures["imap_processes"], figures["imap_rss"] = _dovecot_imap(server)
            cpu_start = watcher.cpu_times()
            time.sleep(args.idle_seconds)
            cpu_end = watcher.cpu_times()
            figures["cpu"] = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
            figures["delays"] = _delays(registry, server, users[: args.samples], account_ids)
    finally:
        if process is not None:
            _stop(process)
        drop_database(database)
    return figures
