"""The Odoo 18 host the Odoo benchmarks run in: fresh databases, an in-process registry, memory.

The benchmarks run as plain scripts with the host's Python (``~/odoo18/venv/bin/python``), which
has Odoo importable and this repository installed; ``MCS_ODOO_HOST`` points elsewhere. A
benchmark database is a copy of the host's ``crm18`` template, with mail_crm_sync installed the
way an administrator installs it (``odoo-bin -i mail_crm_sync --stop-after-init``, in a child
process), then opened in this process (``Registry(db)``) to time the addon's own methods.
Odoo's log goes to a file beside the databases' names in /tmp, never to the screen.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import odoo
from odoo.modules.registry import Registry
from odoo.tools import SQL

REPO = Path(__file__).resolve().parents[1]
HOST = Path(os.environ.get("MCS_ODOO_HOST", Path.home() / "odoo18"))
ADDONS_PATH = f"{HOST / 'src/addons'},{HOST / 'src/odoo/addons'},{REPO}"
TEMPLATE = "crm18"
PAGE = os.sysconf("SC_PAGE_SIZE")

_configured: list[Path] = []


class BenchError(RuntimeError):
    """A step of the set-up failed; the message says which and where its log is."""


def configure(log_path: Path) -> None:
    """Odoo's configuration for this process (once): the addons path, and its log in ``log_path``."""
    if _configured:
        return
    odoo.tools.config.parse_config([f"--addons-path={ADDONS_PATH}", "--no-http"], setup_logging=False)
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # what a production server logs
    _configured.append(log_path)


def database_name(prefix: str) -> str:
    return f"{prefix}_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"


def create_database(name: str, log_path: Path, *, addon: bool = True, template: str = TEMPLATE) -> float:
    """A copy of ``template``, with mail_crm_sync installed unless ``addon`` is false; the seconds
    the installation took. The template must have no open connection (``close_database``)."""
    subprocess.run(["createdb", "-T", template, name], check=True)
    if not addon:
        return 0.0
    started = time.perf_counter()
    command = [str(HOST / "odoo"), f"--addons-path={ADDONS_PATH}", "-d", name, "-i", "mail_crm_sync"]
    with log_path.open("ab") as log:
        result = subprocess.run(
            [*command, "--stop-after-init", "--no-http"], stdout=log, stderr=log, check=False
        )
    if result.returncode:
        raise BenchError(
            f"installing mail_crm_sync into {name} failed (exit {result.returncode}); see {log_path}"
        )
    return time.perf_counter() - started


def close_database(name: str) -> None:
    """Forget the database's registry and close this process's connections to it."""
    Registry.delete(name)
    odoo.sql_db.close_db(name)


def drop_database(name: str) -> None:
    close_database(name)
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True)


@contextlib.contextmanager
def environment(registry: Registry, context: dict | None = None) -> Iterator[odoo.api.Environment]:
    """A superuser environment on a new cursor, committed when the block ends without error."""
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, context or {})


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRss:
    """Samples this process's resident memory every few milliseconds while in use."""

    def __enter__(self):
        self.before = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.before


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int | str) -> float | None:
    """User and system CPU seconds a process has used so far (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuShares:
    """Where the machine's CPU went while in use, by who used it: this process (and, apart, the
    thread that entered the block), the PostgreSQL backends of this process and of ``workers``
    (processes named by their pid: their own CPU and their backends'), Dovecot, and the rest.
    Read from /proc every ``every`` seconds, so that a process that ends meanwhile (an IMAP
    session) counts up to its last reading; one born meanwhile counts whole. Backends are told
    apart by the ``application_name`` Odoo gives them (``odoo-<pid>``); a process not placed yet
    ("other": a backend born after pg_stat_activity was read) is placed again at each reading.
    ``summary()`` says it in one line. Linux only. A reading costs this process about 3 ms of CPU
    (a little over 1 % of a core at the default interval), counted in its own share."""

    def __init__(self, registry: Registry, workers: dict[str, int] | None = None, every: float = 0.25):
        self._registry = registry
        workers = workers or {}
        # Who a backend serves (by its application_name), and who a process is (by its pid).
        self._owners = {f"odoo-{os.getpid()}": "sync's PostgreSQL"} | {
            f"odoo-{pid}": f"{name}'s PostgreSQL" for name, pid in workers.items()
        }
        self._names = {os.getpid(): "sync's Python"} | {pid: name for name, pid in workers.items()}
        self._every = every
        self._seen: dict[int, tuple[str, float]] = {}  # pid: (who, CPU seconds at the last reading)

    def _read(self) -> None:
        with self._registry.cursor() as cr:
            cr.execute(
                "SELECT pid, application_name FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
            backends = dict(cr.fetchall())
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or (seconds := _cpu_seconds(entry)) is None:
                continue
            pid = int(entry)
            if pid in self._seen and self._seen[pid][0] != "other":
                who = self._seen[pid][0]
            elif pid in backends:
                who = self._owners.get(backends[pid], "other")
            elif pid in self._names:
                who = self._names[pid]
            else:
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                who = "Dovecot" if b"dovecot" in command.split(b"\0", 1)[0] else "other"
            self._seen[pid] = (who, seconds)

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self._read()

    def __enter__(self):
        self._read()
        self._before = dict(self._seen)
        self._thread_before = time.thread_time()
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self._started
        self.entering_thread = time.thread_time() - self._thread_before
        self._stop.set()
        self._thread.join()
        self._read()
        self.used: dict[str, float] = {}
        for pid, (who, seconds) in self._seen.items():
            before = self._before.get(pid, (who, 0.0))[1]
            self.used[who] = self.used.get(who, 0.0) + max(seconds - before, 0.0)

    def summary(self) -> str:
        cores = os.cpu_count() or 1
        parts = [
            f"{who} {seconds:.1f} s"
            + (f" (the storing thread {self.entering_thread:.1f} s)" if who == "sync's Python" else "")
            for who, seconds in sorted(self.used.items(), key=lambda item: -item[1])
            if seconds >= 0.05
        ]
        return (
            f"{sum(self.used.values()):.1f} CPU-seconds of the {cores * self.elapsed:.1f} that "
            f"{cores} cores had in {self.elapsed:.1f} s: " + ", ".join(parts)
        )


def say(text: str) -> None:
    print(text, flush=True)


@contextlib.contextmanager
def wrapped(cls: type, name: str, wrapper: Callable[[Callable], Callable]) -> Iterator[None]:
    """Replace method ``name`` of ``cls`` (a registry's model class) by ``wrapper(original)`` for the
    block: how a benchmark watches or times a method in its own process, touching no file."""
    own = cls.__dict__.get(name)
    setattr(cls, name, wrapper(getattr(cls, name)))
    try:
        yield
    finally:
        if own is None:
            delattr(cls, name)
        else:
            setattr(cls, name, own)


def explain(env: odoo.api.Environment, call: Callable[[], object]) -> list[str]:
    """The plans of the statements ``call`` sends from this thread, each run once under
    EXPLAIN (ANALYZE, BUFFERS) instead of as itself, inside a savepoint rolled back afterwards.

    EXPLAIN ANALYZE executes a statement, so each one sees what the ones before it wrote, as in
    the real run. What the ORM still holds is written first: nothing pending may land inside the
    savepoint. Code reading a statement's result gets the plan instead, and may stop: what was
    explained by then is returned, with the reason it stopped.
    """
    env.flush_all()
    plans: list[str] = []
    real_execute = odoo.sql_db.Cursor.execute
    me = threading.current_thread()

    def explained(cursor, query, params=None, log_exceptions=True):
        if threading.current_thread() is not me:  # other threads (the engine's) go on meanwhile
            return real_execute(cursor, query, params, log_exceptions)
        if not isinstance(query, SQL):
            query = SQL(query, **params) if isinstance(params, dict) else SQL(query, *(params or ()))
        real_execute(cursor, SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query))
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
        return None

    env.cr.execute("SAVEPOINT mcs_explain")
    try:
        with wrapped(odoo.sql_db.Cursor, "execute", lambda _original: explained):
            call()
    except Exception as error:  # a benchmark reports it and goes on
        plans.append(f"(explaining stopped: {error!r})")
    finally:
        env.cr.execute("ROLLBACK TO SAVEPOINT mcs_explain")
        env.invalidate_all()
    return plans


ID_LIST = re.compile(r"'\{[0-9,]{40,}\}'")


def without_id_lists(plan: str) -> str:
    """A plan with its long literal id arrays shown as their length (a batch's 500 ids)."""
    return ID_LIST.sub(lambda match: f"'{{<{match[0].count(',') + 1} ids>}}'", plan)


def run_as_scheduled(registry: Registry, cron_id: int) -> int:
    """Run a due scheduled action as Odoo's cron worker does (``_acquire_one_job``, then
    ``_process_job``: up to ten calls of its code, a commit after each, while it reports more to do),
    and again for as long as it stays due (a job that reported work left is due again at once);
    the number of job runs. The worker's sleep between two runs is left out."""
    cron = registry["ir.cron"]
    database = odoo.sql_db.db_connect(registry.db_name)
    runs = 0
    while runs < 1000:
        with database.cursor() as cron_cr:
            job = cron._acquire_one_job(cron_cr, cron_id)
            if not job:
                return runs
            cron._process_job(database, cron_cr, job)
        runs += 1
    return runs
