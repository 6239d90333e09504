"""What IDLE on many INBOXes costs: one IdleWatcher (the engine's, as ``odoo-bin mail_sync_idle``
runs it) watching N mailboxes of a private Dovecot.

    python bench/idle.py [--accounts 100] [--idle-seconds 60] [--samples 20] [--security none|ssl]
    ~/odoo18/venv/bin/python bench/idle.py --odoo [--accounts 100] ...

With ``--odoo``, the watcher measured is the real one: ``odoo-bin mail_sync_idle`` in a process of
its own, on a fresh copy of the host's ``crm18`` with mail_crm_sync installed, N users each with a
primary account (Instant Inbox on), and the delay is until the account is flagged in the database
with the sync's scheduled action triggered (what a cron worker then picks up). "Before" is that
process started with Instant Inbox off (Odoo loaded, nothing watched).

Otherwise, measured in this process (the watcher's):

- sockets and threads open, and resident memory (RSS), before the accounts are watched and once
  every INBOX is in IDLE; the difference divided by N is the memory of one watched account;
- time until all N are in IDLE (logins by the pool of 4 threads);
- CPU time (user + system) of the process over ``--idle-seconds`` of IDLE with no mail;
- delay from an APPEND (by another connection, already logged in) to the watcher's ``poll``
  returning that account, for ``--samples`` accounts.

And on the server's side: Dovecot's IMAP processes (one per connection) and their total RSS.
Figures only: nothing is asserted. Print ``uptime`` beside them: the machine is shared.

Dovecot waits about 500 ms after a change before it tells IDLE sessions (NOTIFY_DELAY_MSECS), which
the delays include. With ``--security ssl``, Dovecot's login processes carry each TLS session (100
at most by default): keep ``--accounts`` under 100 there.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from imapclient import IMAPClient  # noqa: E402

from mail_crm_sync_engine import ConnectionSettings, Security  # noqa: E402
from mail_crm_sync_engine.idle import IdleWatcher, WatchState  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer, build_mail  # noqa: E402


def _snapshot(process: psutil.Process) -> dict:
    connections = getattr(process, "net_connections", None) or process.connections  # psutil < 6
    return {
        "rss_mib": process.memory_info().rss / 2**20,
        "tcp_sockets": len(connections(kind="tcp")),
        "threads": process.num_threads(),
        "fds": process.num_fds(),
    }


def _dovecot_imap(server: DovecotServer) -> tuple[int, float]:
    """Dovecot's imap processes (one per session) and their total RSS in MiB."""
    children = psutil.Process(server._process.pid).children(recursive=True)
    imap = [child for child in children if child.name() == "imap"]
    return len(imap), sum(child.memory_info().rss for child in imap) / 2**20


def _idle_cpu(watcher: IdleWatcher, seconds: float, me: psutil.Process) -> tuple[float, int]:
    """CPU seconds the process spends over ``seconds`` of IDLE, and the wake-ups reported."""
    start, began, woken = me.cpu_times(), time.monotonic(), 0
    while time.monotonic() - began < seconds:
        woken += len(watcher.poll(1.0))
    end = me.cpu_times()
    return (end.user - start.user) + (end.system - start.system), woken


def _delays(watcher: IdleWatcher, server: DovecotServer, users) -> list[float]:
    """Seconds from APPEND (on a connection already logged in) to ``poll`` reporting the account."""
    delays = []
    for user in users:
        client = IMAPClient(server.host, port=server.port, ssl=False)
        client.login(user.login, user.password)
        mail = build_mail(sender="alice@client.example", to=user.email, subject="Bench", text="Hi")
        appended = time.monotonic()
        client.append("INBOX", mail)
        arrived: set = set()
        while user.login not in arrived and time.monotonic() - appended < 30:
            arrived |= watcher.poll(0.5)
        delays.append(time.monotonic() - appended)
        client.logout()
    return delays


def _print(args, figures: dict) -> None:
    before, after, delays = figures["before"], figures["after"], figures["delays"]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    per_account_kib = (after["rss_mib"] - before["rss_mib"]) * 1024 / args.accounts
    what = "odoo-bin mail_sync_idle" if args.odoo else "IDLE watcher"
    print(f"{what}, {args.accounts} accounts, security={args.security}, one thread + 4 login threads")
    print(f"  all INBOXes in IDLE after: {figures['all_in_idle']:.2f} s")
    for when, snapshot in (("before", before), ("after: ", after)):
        print(
            f"  watcher process {when} RSS {snapshot['rss_mib']:.1f} MiB, {snapshot['tcp_sockets']} TCP "
            f"sockets, {snapshot['threads']} threads, {snapshot['fds']} fds"
        )
    print(f"  memory per watched account: {per_account_kib:.1f} KiB")
    cpu = figures["cpu"]
    print(
        f"  CPU over {args.idle_seconds:.0f} s of IDLE with no mail: {cpu:.3f} s "
        f"({100 * cpu / args.idle_seconds:.2f} % of one core); wake-ups reported: {figures['woken']}"
    )
    median, worst = statistics.median(delays) * 1000, max(delays) * 1000
    print(f"  APPEND to new-mail report, {len(delays)} samples: median {median:.1f} ms, max {worst:.1f} ms")
    print(
        f"  Dovecot: {figures['imap_processes']} imap processes, {figures['imap_rss']:.1f} MiB RSS in total"
    )
    print(f"  uptime: {uptime}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--security", choices=["none", "ssl"], default="none")
    parser.add_argument("--odoo", action="store_true", help="measure odoo-bin mail_sync_idle")
    args = parser.parse_args()
    if args.odoo:
        from bench.idle_odoo import bench_odoo  # noqa: PLC0415 - needs Odoo's Python

        _print(args, bench_odoo(args))
        return
    security = Security(args.security)
    me = psutil.Process()
    figures: dict = {}

    with DovecotServer(max_connections=args.accounts + 16) as server:
        users = [server.add_user() for _ in range(args.accounts)]
        port = server.ssl_port if security == Security.SSL else server.port

        def settings_of(user):
            return lambda: ConnectionSettings(
                server.host, port, security, user.login, password=user.password, verify_certificate=False
            )

        figures["before"] = _snapshot(me)
        watcher = IdleWatcher()
        started = time.monotonic()
        for user in users:
            watcher.watch(user.login, settings_of(user))
        while time.monotonic() - started < 300 and not all(
            watcher.status(user.login).state == WatchState.WATCHING for user in users
        ):
            watcher.poll(0.5)
        figures["all_in_idle"] = time.monotonic() - started
        figures["after"] = _snapshot(me)
        figures["imap_processes"], figures["imap_rss"] = _dovecot_imap(server)
        figures["cpu"], figures["woken"] = _idle_cpu(watcher, args.idle_seconds, me)
        figures["delays"] = _delays(watcher, server, users[: args.samples])
        watcher.close()
    _print(args, figures)


if __name__ == "__main__":
    main()
