"""The plans PostgreSQL runs for the Emails menu as it opens, as the bench's salesman: the first
page of 80 rows, and the count up to 10,001 (EXPLAIN ANALYZE, BUFFERS), on a database kept by
``bench/chatter.py --keep-db``.

    ~/odoo18/venv/bin/python bench/list_plans.py DATABASE [--login bench_salesman]

The queries are the ORM's own (``_search(...)``), record rules included, explained in the
salesman's transaction, with whatever the rule's search set in it (``SET LOCAL``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import SQL  # noqa: E402

from bench.chatter import list_domain  # noqa: E402
from bench.odoo_host import configure, environment, say  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--login", default="bench_salesman")
    args = parser.parse_args()
    configure(Path(f"/tmp/list_plans_{args.database}.log"))
    registry = Registry(args.database)
    with environment(registry) as admin_env:
        uid = admin_env["res.users"].search([("login", "=", args.login)]).id
        env = admin_env(user=uid)
        Email = env["mail.sync.message"]
        page = Email._search(list_domain(env), limit=80, order="date desc, id desc").select()
        count = Email._search(list_domain(env), limit=10_001)
        count = SQL("SELECT COUNT(*) FROM (%s) t", count.select(""))
        for title, query in (("first page, 80 rows", page), ("count, up to 10,001", count)):
            for _warm in range(2):  # the second run is the one shown: what a repeated page costs
                env.cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query))
                plan = [line for (line,) in env.cr.fetchall()]
            say(f"\n== {title}\n{env.cr.mogrify(query.code, query.params).decode()}\n")
            say("\n".join(plan))
        env.cr.rollback()
    return 0


if __name__ == "__main__":
    sys.exit(main())
