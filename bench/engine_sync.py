"""How fast the engine's first sync is against the raw IMAP fetch it builds on, and what it costs.

    python bench/engine_sync.py [--count 10000] [--seed 1]

Starts a private Dovecot, fills one mailbox (bench/mailgen.py), then measures in one run:

a) raw imapclient: UID FETCH BODY.PEEK[HEADER] BODY.PEEK[1] for every message, 200 per FETCH:
   the bytes any client needs to show headers and a text body (median of three runs);
b) the engine's first sync of the folder (``sync_folder``, no window), records built and dropped
   batch by batch as the addon does after storing them;
c) a poll with nothing new (median of 20 ``sync_folder`` calls with the saved state), beside
   the bare STATUS command it sends: on a maildir, Dovecot's STATUS grows with the folder;
d) the growth of resident memory during (b): RSS before the sync vs. the peak during it (the
   kernel's high-water mark, reset when (b) starts).

(b), (c) and (d) run in a fresh child process, so its peak RSS is its own. Before (a) the folder
is indexed and the files read once (FETCH 1:* FLAGS RFC822.SIZE), so neither (a) nor (b) pays
Dovecot's first indexing; BODYSTRUCTURE is computed by the server during (b), as on first sync.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
from imapclient import IMAPClient  # noqa: E402

from bench.mailgen import fill_mailbox  # noqa: E402
from mail_crm_sync_engine import ConnectionSettings, Security, connect, sync_folder  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer  # noqa: E402

BATCH = 200
POLLS = 20


def raw_fetch(host: str, port: int, login: str, password: str, lean: bool = False) -> tuple[int, float, int]:
    """(messages, seconds, bytes) for the plain header + first text part FETCH.

    ``lean`` turns off the protocol trace imapclient asks imaplib for (debug level 5, which formats
    every line read before the logger drops it), as the engine does: the stricter reference.
    """
    client = IMAPClient(host, port=port, ssl=False)
    client.login(login, password)
    if lean:
        client._imap.debug = 0
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        started = time.perf_counter()
        count = size = 0
        for start in range(0, len(uids), BATCH):
            response = client.fetch(uids[start : start + BATCH], ["BODY.PEEK[HEADER]", "BODY.PEEK[1]"])
            for data in response.values():
                size += len(data.get(b"BODY[HEADER]") or b"") + len(data.get(b"BODY[1]") or b"")
            count += len(response)
        return count, time.perf_counter() - started, size
    finally:
        client.logout()


def warm_up(host: str, port: int, login: str, password: str) -> None:
    client = IMAPClient(host, port=port, ssl=False)
    client.login(login, password)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        for start in range(0, len(uids), 5000):
            client.fetch(uids[start : start + 5000], ["FLAGS", "RFC822.SIZE"])
    finally:
        client.logout()


def _high_water_mark() -> int | None:
    """The kernel's peak RSS of this process (VmHWM), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


class PeakRss:
    """Peak RSS during the block: the kernel's high-water mark, reset at the start.

    ru_maxrss would also count what imports and the connection briefly held before the block.
    Where /proc/self/clear_refs cannot be written, RSS is sampled every 50 ms instead.
    """

    def __init__(self, interval: float = 0.05):
        self.process = psutil.Process()
        self.interval = interval
        self.peak = self.process.memory_info().rss
        self.exact = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # resets VmHWM to the current RSS (Linux 4.0+)
            self.exact = _high_water_mark() is not None
        except OSError:
            self.exact = False
        if not self.exact:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.exact:
            self.peak = max(self.peak, _high_water_mark())
            return
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def child(host: str, port: int, login: str, password: str, profile: str | None) -> dict:
    """(b), (c) and (d), in a process of their own."""
    settings = ConnectionSettings(host, port, Security.NONE, login, password=password)
    with connect(settings) as mailbox:
        before = psutil.Process().memory_info().rss
        count = warnings = attachments = 0
        state = None
        profiler = None
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
        with PeakRss() as rss:
            started = time.perf_counter()
            for batch in sync_folder(mailbox, "INBOX", None, None, own_addresses=["me@example.test"]):
                count += len(batch.messages)
                warnings += sum(1 for record in batch.messages if record.warnings)
                attachments += sum(len(record.attachments) for record in batch.messages)
                state = batch.state
                del batch
            seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        polls = []
        for _ in range(POLLS):
            started = time.perf_counter()
            new = sum(len(batch.messages) for batch in sync_folder(mailbox, "INBOX", state, None))
            polls.append((time.perf_counter() - started) * 1000)
            assert new == 0, f"a poll with nothing new returned {new} messages"
        # The reference for (c): the server's own price for the one STATUS a poll sends.
        statuses = []
        for _ in range(POLLS):
            started = time.perf_counter()
            mailbox.status("INBOX", ["UIDNEXT", "UIDVALIDITY", "MESSAGES", "HIGHESTMODSEQ"])
            statuses.append((time.perf_counter() - started) * 1000)
    return {
        "messages": count,
        "seconds": seconds,
        "with_warnings": warnings,
        "attachments": attachments,
        "rss_before": before,
        "rss_peak": rss.peak,
        "poll_ms": statistics.median(polls),
        "poll_ms_max": max(polls),
        "status_ms": statistics.median(statuses),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", help="write a cProfile of (b) to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: host:port:login:password
    args = parser.parse_args()
    if args.child:
        host, port, login, password = args.child.split(":", 3)
        print(json.dumps(child(host, int(port), login, password, args.profile)))
        return 0

    with DovecotServer() as server:
        user = server.add_user()
        started = time.perf_counter()
        written = fill_mailbox(server, user, args.count, args.seed)
        print(
            f"filled {args.count} messages, {written / 1e6:.0f} MB, in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        warm_up(server.host, server.port, user.login, user.password)
        print(f"indexed by Dovecot in {time.perf_counter() - started:.1f} s")

        # The reference is cheap and noisy on a shared machine: its median of three runs.
        raw_runs = [raw_fetch(server.host, server.port, user.login, user.password) for _ in range(3)]
        raw_count, raw_seconds, raw_bytes = sorted(raw_runs, key=lambda run: run[1])[1]
        lean_runs = [
            raw_fetch(server.host, server.port, user.login, user.password, lean=True) for _ in range(3)
        ]
        lean_seconds = sorted(run[1] for run in lean_runs)[1]
        command = [
            sys.executable,
            __file__,
            "--child",
            f"{server.host}:{server.port}:{user.login}:{user.password}",
        ]
        if args.profile:
            command += ["--profile", args.profile]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    raw_rate = raw_count / raw_seconds
    engine_rate = result["messages"] / result["seconds"]
    growth = (result["rss_peak"] - result["rss_before"]) / 2**20
    print(f"(a) raw FETCH header + part 1: {raw_count} msgs in {raw_seconds:.2f} s = {raw_rate:.0f} msg/s "
          f"({raw_bytes / 1e6:.0f} MB)")  # fmt: skip
    print(f"(b) engine first sync:         {result['messages']} msgs in {result['seconds']:.2f} s = "
          f"{engine_rate:.0f} msg/s ({result['attachments']} attachments, "
          f"{result['with_warnings']} records with warnings)")  # fmt: skip
    print(f"    ratio (b)/(a): {engine_rate / raw_rate:.2f}   (target >= 0.5)")
    lean_rate = raw_count / lean_seconds
    print(f"    stricter reference, imapclient without imaplib's trace: {lean_rate:.0f} msg/s, "
          f"ratio {engine_rate / lean_rate:.2f}")  # fmt: skip
    print(f"(c) poll, nothing new: {result['poll_ms']:.2f} ms median of {POLLS} "
          f"(max {result['poll_ms_max']:.2f} ms)   (target <= 5 ms)")  # fmt: skip
    print(f"    the server's bare STATUS on this folder: {result['status_ms']:.2f} ms median "
          f"(engine's own share: {result['poll_ms'] - result['status_ms']:.2f} ms)")  # fmt: skip
    print(f"(d) RSS growth during (b): {growth:.1f} MB (before {result['rss_before'] / 2**20:.0f} MB, "
          f"peak {result['rss_peak'] / 2**20:.0f} MB)   (target <= 150 MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
