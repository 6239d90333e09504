"""What synced mail adds to the chatter of a contact, a company and an opportunity, beside what the
chatter costs without it, on a realistic CRM.

    ~/odoo18/venv/bin/python bench/chatter.py [--messages 50000] [--contacts 20000] [--leads 4000] \\
        [--notes 30] [--runs 7] [--seed 1] [--keep-db]

Set-up, from nothing (the relink bench's, bench/relink.py): a copy of the host's ``crm18`` with
``--contacts`` people in companies of eight and ``--leads`` open opportunities, through the ORM;
mail_crm_sync installed; ``--messages`` synced emails of one mailbox inserted with SQL, dated over a
year, grouped into conversations of up to three emails with the same correspondent; then linked by
the nightly scheduled action, as Odoo's cron worker runs it. The mailbox belongs to a salesman and is
his alone (visibility Owner Only), so every email goes through the visibility rules. The contact, the
company and the opportunity with the most emails get ``--notes`` notes each, dated over the last 30
days (the chatter's first page spans them), and the opportunity is the salesman's.

Measured as that salesman, each ``--runs`` times with the ORM's cache emptied before each, median:
- Odoo: what its route /mail/thread/messages does for the chatter's first page (``_message_fetch``
  of 30 messages and their ``Store``), and for a search of one word;
- ours: what the same route adds (``mail.sync.message._timeline_domain`` and ``_timeline`` for that
  page's dates, and for the last page, which reaches the oldest email), and the chatter search of
  the same word (``_timeline_search``).
Figures only: nothing here asserts a speed. Odoo's log goes to /tmp/mcs_chatter_<time>.log.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from odoo import fields  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

from bench.odoo_host import configure, database_name, drop_database, environment, say  # noqa: E402
from bench.relink import _copy, _email_rows, _insert_emails, run_as_scheduled, seed_base  # noqa: E402

# Conversations: the emails with one correspondent, by date, in threes.
THREADS = r"""
WITH numbered AS (
    SELECT id, message_id, who, date, (row_number() OVER (PARTITION BY who ORDER BY date) - 1) / 3 AS chunk
      FROM (SELECT id, message_id, date, split_part(address_emails, E'\n', 1) AS who FROM mail_sync_message) m
), keyed AS (
    SELECT id, first_value(message_id) OVER (PARTITION BY who, chunk ORDER BY date, id) AS key FROM numbered
)
UPDATE mail_sync_message m SET thread_key = keyed.key FROM keyed WHERE keyed.id = m.id
"""


MOST_LINKED = {
    "contact": """SELECT l.partner_id, count(*) FROM mail_sync_message_link l
                   JOIN res_partner p ON p.id = l.partner_id
                  WHERE l.active AND NOT p.is_company GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
    "company": """SELECT coalesce(p.parent_id, p.id), count(DISTINCT l.email_id) FROM mail_sync_message_link l
                   JOIN res_partner p ON p.id = l.partner_id
                  WHERE l.active GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
    "opportunity": """SELECT lead_id, count(*) FROM mail_sync_message_link
                       WHERE active AND lead_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1""",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=4_000)
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    stem = database_name("mcs_chatter")
    log_path = Path(f"/tmp/{stem}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    base, name = f"{stem}_base", stem
    created = [base]
    try:
        crm = seed_base(base, log_path, args)
        created.append(name)
        _copy(base, name, log_path, addon=True)
        registry = Registry(name)
        salesman_id, targets = set_up_mail(registry, crm, args)
        measure(registry, salesman_id, targets, args.runs)
    finally:
        for database in created if not args.keep_db else ():
            drop_database(database)
        if args.keep_db:
            say(f"kept: {', '.join(created)}")
    return 0


def set_up_mail(registry: Registry, crm, args) -> tuple[int, dict[str, tuple[str, int]]]:
    """The salesman's mailbox with its emails linked; the records measured, with notes."""
    started = time.perf_counter()
    rows, _strangers = _email_rows(crm, args.messages, args.seed)
    with environment(registry) as env:
        salesman = env["res.users"].create(
            {
                "name": "Bench Salesman",
                "login": "bench_salesman",
                "groups_id": [fields.Command.set([env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        account = env["mail.sync.account"].create(
            {
                "name": "Salesman's mailbox",
                "email": "owner@example.test",
                "user_id": salesman.id,
                "visibility": "owner",
                "imap_host": "127.0.0.1",
                "imap_port": 993,
                "password": "unused",
            }
        )
        _insert_emails(env, account.id, rows)
        env.cr.execute(THREADS)
        env["mail.sync.message"].search([])._index_stored()  # searchable, as the sync's INSERT makes them
        env.cr.execute("ANALYZE mail_sync_message, mail_sync_account_message_rel, res_partner, crm_lead")
        cron_id = env.ref("mail_crm_sync.ir_cron_mail_relink").id
        env["ir.cron"].browse(cron_id).nextcall = fields.Datetime.now()
    run_as_scheduled(registry, cron_id)
    say(f"set-up: {args.messages} emails inserted and linked in {time.perf_counter() - started:.0f} s")
    targets = {}
    with environment(registry) as env:
        env.cr.execute("ANALYZE mail_sync_message_link")
        for kind, query in MOST_LINKED.items():
            env.cr.execute(query)
            record_id, count = env.cr.fetchone()
            model = "crm.lead" if kind == "opportunity" else "res.partner"
            record = env[model].browse(record_id)
            if model == "crm.lead":
                record.user_id = salesman
            now = fields.Datetime.now()
            for index in range(args.notes):
                note = record.message_post(body=f"Note {index}", message_type="comment")
                note.date = now - timedelta(days=30 * index / args.notes)
            targets[kind] = (model, record_id)
            say(f"{kind}: {record.display_name} (id {record_id}), {count} emails linked, {args.notes} notes")
    return salesman.id, targets


def measure(registry: Registry, salesman_id: int, targets: dict[str, tuple[str, int]], runs: int) -> None:
    from odoo.addons.mail.tools.discuss import Store  # noqa: PLC0415 - once the registry is loaded

    say(f"\nmedian of {runs} runs, ms, as the salesman (ORM cache emptied before each):")
    say(
        f"{'record':<12} {'Odoo page':>10} {'ours page':>10} {'ours last':>10} "
        f"{'Odoo search':>12} {'ours search':>12}  shown"
    )
    with environment(registry) as admin_env:
        env = admin_env(user=salesman_id)
        Message, Email = env["mail.message"], env["mail.sync.message"]
        word = _common_word(env)
        for kind, (model, record_id) in targets.items():
            domain = [
                ("res_id", "=", record_id),
                ("model", "=", model),
                ("message_type", "!=", "user_notification"),
            ]

            def odoo_page(domain=domain):
                messages = Message._message_fetch(domain, limit=30)["messages"]
                Store(messages, for_current_user=True).get_result()
                return messages

            def ours(newer_than, not_newer_than, model=model, record_id=record_id):
                # what the route adds: the record's emails, then their conversations of those dates
                emails = Email._timeline_domain(model, record_id)
                return Email._timeline(model, record_id, emails, newer_than, not_newer_than)

            page = odoo_page()
            oldest = min(page.mapped("date"))
            timings = {
                "odoo": odoo_page,
                "page": lambda ours=ours, oldest=oldest: ours(oldest, None),
                "last": lambda ours=ours, oldest=oldest: ours(None, oldest),
                "odoo_search": lambda domain=domain: Message._message_fetch(
                    domain, search_term=word, limit=30
                ),
                "search": lambda model=model, record_id=record_id: Email._timeline_search(
                    model, record_id, word
                ),
            }
            medians = {key: _median_ms(env, call, runs) for key, call in timings.items()}
            first, last = ours(oldest, None), ours(None, oldest)
            found = Email._timeline_search(model, record_id, word)
            shown = (
                f"page {len(first['conversations'])} conv., last {len(last['conversations'])} conv. "
                f"(+{last['more']} left to the list), search '{word}' {found['count']} emails"
            )
            say(
                f"{kind:<12} {medians['odoo']:>10.1f} {medians['page']:>10.1f} {medians['last']:>10.1f} "
                f"{medians['odoo_search']:>12.1f} {medians['search']:>12.1f}  {shown}"
            )


def _common_word(env) -> str:
    """A word of about one email in twenty: what a salesman might look for."""
    env.cr.execute(
        "SELECT word FROM ts_stat('SELECT search_document FROM mail_sync_message') "
        "WHERE length(word) > 5 ORDER BY abs(ndoc - (SELECT count(*) / 20 FROM mail_sync_message)) LIMIT 1"
    )
    return env.cr.fetchone()[0]


def _median_ms(env, call, runs: int) -> float:
    times = []
    for _ in range(runs):
        env.invalidate_all()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
