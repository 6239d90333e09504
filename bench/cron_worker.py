"""One scheduled action run as Odoo's cron worker runs it, in a process of its own, until stopped.

    ~/odoo18/venv/bin/python bench/cron_worker.py DATABASE XMLID [--held]

Woken by Odoo's ``cron_trigger`` notification (what ``ir.cron._trigger`` sends once its
transaction commits), or every second, it runs the job while it is due: ``_acquire_one_job`` and
``_process_job``, as bench/relink.py does (up to ten calls of its code, a commit after each, again
while it reports more to do). Only that job: the benchmark drives the sync itself. It prints
"ready" once listening; with ``--held`` it then waits for a line on its standard input before
running anything. The benchmarks start it beside a sync (bench/odoo_sync.py: the search-index job)
and stop it with SIGTERM, which lets a running job finish.
"""

from __future__ import annotations

import select
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import odoo  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

from bench.odoo_host import configure, environment, run_as_scheduled  # noqa: E402


def main() -> int:
    database, xmlid = sys.argv[1], sys.argv[2]
    configure(Path(f"/tmp/{database}_cron_worker.log"))
    registry = Registry(database)
    with environment(registry) as env:
        cron_id = env.ref(xmlid).id
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_args: stopping.append(True))
    listener = odoo.sql_db.db_connect("postgres").cursor()
    listener.execute("LISTEN cron_trigger")
    listener.commit()
    connection = listener._cnx
    print("ready", flush=True)
    if "--held" in sys.argv[3:]:
        sys.stdin.readline()
    while not stopping:
        run_as_scheduled(registry, cron_id)
        try:
            select.select([connection], [], [], 1.0)
        except InterruptedError:
            continue
        connection.poll()
        connection.notifies.clear()
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
