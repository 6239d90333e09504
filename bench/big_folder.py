"""The first sync of a very big folder, run by run as the addon runs it (issue 24).

    python bench/big_folder.py [--count 1000000] [--batches-per-run 20] [--batch-size 500]
                               [--hide-esearch]

Starts a private Dovecot and fills one INBOX with ``--count`` tiny messages, written straight into
its maildir (``DovecotServer.fill``). Then syncs it as mail.sync.account does (BATCHES_PER_RUN,
BATCH_SIZE): each run connects, takes at most ``--batches-per-run`` batches from the FolderState
saved after the previous run's last batch, with the UIDs stored so far for the gone check, and
stops; the next run resumes. Until the folder is read whole, and one more run that finds nothing.

Prints the fill, then the sync's runs, minutes, msg/s and peak RSS (the kernel's high-water mark,
reset when the sync starts: what the engine holds, plus the 4 bytes a UID this script keeps as
the addon's stored UIDs), and checks that every message arrived once. ``--hide-esearch`` runs it
against a Dovecot that does not offer ESEARCH: plain SEARCH answers, in UID ranges.
"""

from __future__ import annotations

import argparse
import array
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psutil  # noqa: E402

from bench.engine_sync import PeakRss  # noqa: E402
from mail_crm_sync_engine import ConnectionSettings, Security, connect, sync_folder  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer  # noqa: E402

# The addon's figures (mail_crm_sync/models/mail_sync_account.py), which imports Odoo.
BATCHES_PER_RUN = 20
BATCH_SIZE = 500


def sync_in_runs(settings: ConnectionSettings, batches_per_run: int, batch_size: int) -> dict:
    """Runs until one finds nothing new: the runs, messages, seconds and search commands."""
    stored = array.array("I")  # the UIDs the addon would have stored
    state = None
    runs = messages = searches = 0
    openings = []  # per run: seconds from connecting to its first batch
    started = time.perf_counter()
    while True:
        runs += 1
        opened = time.perf_counter()
        with connect(settings) as mailbox:
            original = mailbox._imap._command

            def counting(name, *args, original=original):
                nonlocal searches
                searches += args[:1] == ("SEARCH",)
                return original(name, *args)

            mailbox._imap._command = counting
            batches = sync_folder(
                mailbox, "INBOX", state, None, known_uids=lambda: stored, batch_size=batch_size
            )
            taken = 0
            for batch in batches:
                if not taken:
                    openings.append(time.perf_counter() - opened)
                stored.extend(record.uid for record in batch.messages)
                messages += len(batch.messages)
                state = batch.state
                taken += 1
                if taken == batches_per_run:
                    break
            batches.close()
        if runs % 10 == 0:
            print(f"  run {runs}: {messages} messages, {time.perf_counter() - started:.0f} s", flush=True)
        if not taken:
            break
    return {
        "runs": runs,
        "messages": messages,
        "seconds": time.perf_counter() - started,
        "searches": searches,
        "opening": statistics.median(openings) if openings else 0.0,
        "stored": stored,
        "state": state,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--batches-per-run", type=int, default=BATCHES_PER_RUN)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--hide-esearch", action="store_true")
    args = parser.parse_args()

    hidden = ("ESEARCH",) if args.hide_esearch else ()
    # Dovecot's 256 MB per process do not index a million messages.
    with DovecotServer(hide_capabilities=hidden, memory_limit="2G") as server:
        user = server.add_user()
        started = time.perf_counter()
        server.fill(user, args.count)
        filled = time.perf_counter() - started
        print(f"filled {args.count} messages in {filled:.0f} s ({args.count / filled:.0f} msg/s)")
        settings = ConnectionSettings(
            server.host, server.port, Security.NONE, user.login, password=user.password
        )
        started = time.perf_counter()
        with connect(settings) as mailbox:
            mailbox.select("INBOX", readonly=True)
        print(f"indexed by Dovecot (first SELECT) in {time.perf_counter() - started:.1f} s")

        before = psutil.Process().memory_info().rss
        with PeakRss() as rss:
            result = sync_in_runs(settings, args.batches_per_run, args.batch_size)
    stored = sorted(result.pop("stored"))
    complete = stored == list(range(1, args.count + 1))
    minutes = result["seconds"] / 60
    print(
        f"first sync: {result['messages']} messages in {result['runs']} runs "
        f"({args.batches_per_run} batches of {args.batch_size} a run, then one finding nothing), "
        f"{minutes:.1f} minutes, {result['messages'] / result['seconds']:.0f} msg/s"
    )
    print(
        f"peak RSS during the sync: {rss.peak / 2**20:.0f} MB{'' if rss.exact else ' (sampled)'} "
        f"(before it: {before / 2**20:.0f} MB); UID SEARCH commands: {result['searches']} "
        f"({'plain SEARCH' if args.hide_esearch else 'ESEARCH'})"
    )
    print(
        f"per run, from connecting to its first batch (STATUS, SELECT, searches, gone check, the "
        f"first FETCH): median {result['opening']:.1f} s"
    )
    print(f"every message once: {complete}; final state: {result['state']}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
