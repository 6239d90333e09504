"""Where the realistic first sync's time goes: each step and SQL statement of a stored batch.

    ~/odoo18/venv/bin/python bench/sync_profile.py [--count 10000] [--seed 1] [--keep-db] \\
        [--explain-batches 1,20] [--text-heavy]

The set-up of bench/odoo_sync.py (a fresh database with the addon, 5,000 contacts, 1,000 open
opportunities, the realistic mailbox on a private Dovecot; ``--text-heavy``: its mail of people who
write more and quote less), then one first sync as the scheduled
action runs it, with instruments fitted in this process only (no file of the addon changes):

- each step of ``mail.sync.message._store_batch`` (inserting the emails, reading their ids,
  attachments, places, linking, the folder's state) and the batch's commit, timed;
- every SQL statement run inside a step, timed and named by its step and rank in it (the rest of a
  step's time is Python: building the arrays, the ORM);
- for the batches of ``--explain-batches`` (1: the first, on a fresh database), the statements of
  ``_link_messages`` run once more under ``EXPLAIN (ANALYZE, BUFFERS)`` in a savepoint rolled
  back before the real run; their plans are printed.

Afterwards, the price of what the emails' INSERT maintains: the INSERT of batch 2, as the sync
sent it (its bodies staged again), replayed after its 500 rows are deleted (a) as the table is,
(b) without the GIN index of ``address_emails``, each rolled back (median of three); ``to_tsvector``
of those emails' whole text alone (what the search-index job pays, after the sync); and the size
of the documents' table.
The instruments slow the sync: read its speed in bench/odoo_sync.py.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import odoo  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import SQL  # noqa: E402

from bench.odoo_host import (  # noqa: E402
    configure,
    create_database,
    database_name,
    drop_database,
    environment,
    explain,
    say,
    without_id_lists,
    wrapped,
)
from bench.odoo_sync import CONTACTS, bench_first_sync, create_crm_records, fill_ours  # noqa: E402
from bench.realistic_mail import make_population  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer  # noqa: E402

STEPS = {
    "mail.sync.account": ("_store_and_commit",),
    "mail.sync.message": (
        "_store_batch",
        "_forget_folder_uids",
        "_apart_from_namesakes",
        "_insert_messages",
        "_stage_bodies",
        "_ids_by_message_id",
        "_insert_attachments",
        "_insert_locations",
        "_link_messages",
        "_mark_gone",
        "_create_sender_contacts",
        "_cron_index_search",
        "_build_search_documents",
    ),
    "mail.sync.folder": ("_save_batch_state",),
}
WHOLE = ("_store_and_commit", "_store_batch")  # around the others: reported apart
# Steps timed whole; any other step's time leaves out the steps it calls (``_stage_bodies`` within
# ``_insert_messages``), which have rows of their own.
INCLUSIVE = (*WHOLE, "_cron_index_search")
INDEX_JOB = ("_cron_index_search", "_build_search_documents")  # after the sync: reported apart
CAPTURED_BATCH = 2  # a full batch, on a table that is no longer empty


@dataclass
class Timings:
    """Seconds per step and per statement, batch by batch, gathered from the sync's threads."""

    batches: int = 0
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    texts: dict[tuple[str, int], str] = field(default_factory=dict)
    plans: list[tuple[int, list[str]]] = field(default_factory=list)
    insert: tuple | None = None  # (query, params) of the emails' INSERT of batch CAPTURED_BATCH
    insert_ids: list[str] = field(default_factory=list)  # and their Message-IDs
    lock: threading.Lock = field(default_factory=threading.Lock)


class Instruments:
    """Step timers and a statement timer, installed on the registry's classes for a block."""

    def __init__(self, registry: Registry, explain_batches: set[int]):
        self.registry = registry
        self.explain_batches = explain_batches
        self.timings = Timings()
        self.local = threading.local()

    @contextlib.contextmanager
    def installed(self) -> Iterator[Timings]:
        with contextlib.ExitStack() as stack:
            stack.enter_context(wrapped(odoo.sql_db.Cursor, "execute", self._timed_execute))
            stack.enter_context(wrapped(odoo.sql_db.Cursor, "commit", self._timed_step("commit")))
            for model, names in STEPS.items():
                cls = self.registry[model]
                for name in names:
                    if hasattr(cls, name):
                        stack.enter_context(wrapped(cls, name, self._timed_step(name)))
            yield self.timings

    def _stack(self) -> list[list]:
        if not hasattr(self.local, "stack"):
            self.local.stack = []
        return self.local.stack

    def _timed_step(self, name: str):
        instruments = self

        def wrapper(original):
            def step(*args, **kwargs):
                stack = instruments._stack()
                if name == "commit" and not stack:
                    return original(*args, **kwargs)
                if name == "_store_batch":
                    with instruments.timings.lock:
                        instruments.timings.batches += 1
                if name == "_ids_by_message_id" and instruments.timings.batches == CAPTURED_BATCH:
                    instruments.timings.insert_ids = list(args[1])
                if name == "_link_messages" and instruments.timings.batches in instruments.explain_batches:
                    instruments._explain(original, args)
                frame = [name, 0, 0.0]  # step, statements so far, seconds in the steps it called
                stack.append(frame)
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    seconds = time.perf_counter() - started
                    stack.pop()
                    if stack:
                        stack[-1][2] += seconds
                    with instruments.timings.lock:
                        instruments.timings.steps[name].append(
                            seconds if name in INCLUSIVE else seconds - frame[2]
                        )

            return step

        return wrapper

    def _timed_execute(self, original):
        instruments = self

        def execute(cursor, query, params=None, log_exceptions=True):
            stack = instruments._stack()
            if not stack or getattr(instruments.local, "explaining", False):
                return original(cursor, query, params, log_exceptions)
            frame = stack[-1]
            frame[1] += 1
            key = (frame[0], frame[1])
            if key == ("_insert_messages", 1) and instruments.timings.batches == CAPTURED_BATCH:
                instruments.timings.insert = (query, params)
            started = time.perf_counter()
            try:
                return original(cursor, query, params, log_exceptions)
            finally:
                seconds = time.perf_counter() - started
                with instruments.timings.lock:
                    instruments.timings.statements[key].append(seconds)
                    if key not in instruments.timings.texts:
                        text = query.code if isinstance(query, SQL) else str(query)
                        instruments.timings.texts[key] = " ".join(text.split())[:90]

        return execute

    def _explain(self, original, args) -> None:
        """Run ``_link_messages`` once under EXPLAIN (ANALYZE, BUFFERS), in a savepoint rolled back."""
        model, message_ids = args[0], args[1]
        self.local.explaining = True
        try:
            plans = explain(model.env, lambda: original(model, message_ids))
        finally:
            self.local.explaining = False
        with self.timings.lock:
            self.timings.plans.append((self.timings.batches, plans))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--explain-batches", default="1,20", help="batches whose linking is explained")
    parser.add_argument("--text-heavy", action="store_true", help="1-20 KB of text per email, few quotes")
    args = parser.parse_args()
    args.easy = False
    name = database_name("mcs_profile")
    log_path = Path(f"/tmp/{name}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    say(f"database {name}: mail_crm_sync installed in {create_database(name, log_path):.0f} s")
    try:
        registry = Registry(name)
        population = make_population(CONTACTS, seed=args.seed)
        create_crm_records(registry, population, args.seed, easy=False)
        instruments = Instruments(registry, {int(n) for n in args.explain_batches.split(",") if n})
        with DovecotServer() as server:
            user = server.add_user()
            fill_ours(server, user, population, args)
            with instruments.installed() as timings:
                bench_first_sync(registry, server, user, index_worker=False)
                index_chunks = run_index_job(registry)
        print_steps(timings)
        print_index_job(timings, index_chunks)
        print_plans(timings)
        with environment(registry) as env:
            print_insert_costs(env, timings)
    finally:
        if not args.keep_db:
            drop_database(name)
    return 0


def run_index_job(registry: Registry) -> int:
    """The search-index job after the sync, in this process and instrumented, one chunk per
    transaction as the scheduler calls it, until no email waits; the number of chunks."""
    chunks = 0
    while True:
        with environment(registry) as env:
            env.cr.execute("SELECT count(*) FROM mail_sync_message_search_pending")
            if not env.cr.fetchone()[0]:
                return chunks
            env["mail.sync.message"]._cron_index_search()
            chunks += 1


def print_index_job(timings: Timings, chunks: int) -> None:
    """The search-index job's chunks, as print_steps shows the batches."""
    if not chunks:
        return
    job = sum(timings.steps.get("_cron_index_search", ()))
    say(
        f"\nsearch-index job after the sync: {chunks} chunks, {job:.1f} s in all, "
        f"{job / chunks * 1000:.0f} ms a chunk"
    )
    _print_step_rows(timings, INDEX_JOB, chunks, job)


def print_steps(timings: Timings) -> None:
    batches = max(1, timings.batches)
    store = sum(timings.steps.get("_store_and_commit", ())) or sum(timings.steps.get("_store_batch", ()))
    say(
        f"\nstoring: {timings.batches} batches, {store:.1f} s in all, {store / batches * 1000:.0f} ms a batch"
    )
    names = [name for name in timings.steps if name not in WHOLE + INDEX_JOB]
    _print_step_rows(timings, names, batches, store)


def _print_step_rows(timings: Timings, names, batches: int, store: float) -> None:
    say(f"{'step / statement':<34}{'ms/batch':>9}{'first':>8}{'last':>8}{'max':>8}{'share':>7}  SQL")
    for name, seconds in sorted(
        ((name, timings.steps[name]) for name in names if name in timings.steps),
        key=lambda item: -sum(item[1]),
    ):
        say(_row(name, seconds, batches, store, ""))
        sql = 0.0
        for key in sorted(k for k in timings.statements if k[0] == name):
            values = timings.statements[key]
            sql += sum(values)
            say(_row(f"  #{key[1]}", values, batches, store, timings.texts[key]))
        say(f"  {'(Python, ORM: the rest)':<32}{(sum(seconds) - sql) / batches * 1000:>9.1f}")


def _row(label: str, seconds: list[float], batches: int, store: float, text: str) -> str:
    share = sum(seconds) / max(store, 1e-9)
    return (
        f"{label:<34}{sum(seconds) / batches * 1000:>9.1f}{seconds[0] * 1000:>8.1f}"
        f"{seconds[-1] * 1000:>8.1f}{max(seconds) * 1000:>8.1f}{share:>7.0%}  {text}"
    )


def print_plans(timings: Timings) -> None:
    for batch, plans in timings.plans:
        for number, plan in enumerate(plans, start=1):
            say(
                f"\nEXPLAIN (ANALYZE, BUFFERS), batch {batch}, _link_messages statement {number}:\n"
                f"{without_id_lists(plan)}"
            )


def print_insert_costs(env, timings: Timings) -> None:
    """Replay the INSERT of batch ``CAPTURED_BATCH``: what the address GIN index adds, and what the
    tsvector of the same emails would cost.

    Its 500 rows are deleted first (so the replay inserts rather than meets its conflicts), and
    everything is rolled back afterwards.
    """
    if not (timings.insert and timings.insert_ids):
        say("\n(the INSERT of the emails was not captured)")
        return
    cr = env.cr
    variants = {
        "(a) as the table is": [],
        "(b) without the address_emails GIN index": ["DROP INDEX IF EXISTS mail_sync_message_address_idx"],
    }
    say(
        f"\nthe INSERT of batch {CAPTURED_BATCH} replayed (its rows deleted first; median of 3, rolled back):"
    )
    cr.execute("SAVEPOINT mcs_replay")
    try:
        # The INSERT reads the bodies from this connection's temporary table: staged again, from
        # the rows about to be deleted, each under its number in the INSERT's arrays.
        env["mail.sync.message"]._stage_bodies([])
        cr.execute(
            """INSERT INTO pg_temp.mail_sync_message_bodies
               SELECT u.staged_row, m.body_text, m.body_html_source
                 FROM unnest(%s::text[]) WITH ORDINALITY AS u(message_id, staged_row)
                 JOIN mail_sync_message m USING (message_id)""",
            [timings.insert_ids],
        )
        cr.execute("DELETE FROM mail_sync_message WHERE message_id = ANY(%s)", [timings.insert_ids])
        results = {label: [] for label in variants}
        for _round in range(3):
            for label, changes in variants.items():
                results[label].append(_rolled_back_insert(cr, changes, timings.insert))
        for label, values in results.items():
            say(f"  {label}: {statistics.median(values):.0f} ms")
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT mcs_replay")
    cr.execute(
        "EXPLAIN ANALYZE SELECT to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || "
        "coalesce(email_from, '') || ' ' || coalesce(email_to, '') || ' ' || coalesce(email_cc, '') || ' ' "
        "|| left(coalesce(body_text, ''), 200000)) FROM mail_sync_message WHERE message_id = ANY(%s)",
        [timings.insert_ids],
    )
    alone = _execution_ms(cr.fetchall())
    say(f"  to_tsvector of these emails' whole text (quotes included), alone: {alone:.0f} ms")
    cr.execute(
        "SELECT pg_size_pretty(pg_total_relation_size('mail_sync_message_search')), "
        "pg_size_pretty(pg_total_relation_size('mail_sync_message'))"
    )
    documents, table = cr.fetchone()
    say(
        f"  after the sync: the search documents with their GIN index {documents}; "
        f"the emails' table with its TOAST and indexes {table}"
    )


def _rolled_back_insert(cr, changes: list[str], insert) -> float:
    cr.execute("SAVEPOINT mcs_cost")
    try:
        for change in changes:
            cr.execute(change)
        query, params = insert
        if isinstance(query, SQL):
            cr.execute(SQL("EXPLAIN ANALYZE %s", query))
        else:
            cr.execute(f"EXPLAIN ANALYZE {query}", params)
        return _execution_ms(cr.fetchall())
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT mcs_cost")


def _execution_ms(plan_rows) -> float:
    for (line,) in plan_rows:
        if line.startswith("Execution Time:"):
            return float(line.split()[2])
    return float("nan")


if __name__ == "__main__":
    sys.exit(main())
