"""What synced mail adds to the chatter of a contact, a company and an opportunity, beside what the
chatter costs without it, on a realistic CRM.

    ~/odoo18/venv/bin/python bench/chatter.py [--messages 50000] [--contacts 20000] [--leads 4000] \\
        [--notes 30] [--runs 7] [--seed 1] [--own-total 500000 --db-total 5000000] [--keep-db]
    ~/odoo18/venv/bin/python bench/chatter.py --reuse DATABASE [--runs 7]   # measure a kept one again

Set-up, from nothing (the relink bench's, bench/relink.py): a copy of the host's ``crm18`` with
``--contacts`` people in companies of eight and ``--leads`` open opportunities, through the ORM;
mail_crm_sync installed; ``--messages`` synced emails of one mailbox inserted with SQL, dated over a
year, grouped into conversations of up to three emails with the same correspondent; then linked by
the nightly scheduled action, as Odoo's cron worker runs it. The mailbox belongs to a salesman and is
his alone (visibility Owner Only), so every email goes through the visibility rules. The contact, the
company and the opportunity with the most emails get ``--notes`` notes each, dated over the last 30
days (the chatter's first page spans them), and the opportunity is the salesman's.

With ``--own-total`` and ``--db-total``, the mail is then multiplied in SQL (generate_series): copies
of those emails (new Message-IDs, same dates and texts, not linked: mail waiting for its contacts)
fill the salesman's mailbox up to ``--own-total`` emails and the mailboxes of nine other salesmen
(Owner Only too) up to ``--db-total`` in the database; the records measured keep their own emails.
This is what makes a visibility rule that reads the user's whole mailbox show.

Measured as that salesman, each ``--runs`` times with the ORM's cache emptied before each, median:
- Odoo: what its route /mail/thread/messages does for the chatter's first page (``_message_fetch``
  of 30 messages and their ``Store``), and for a search of one word;
- ours: what the same route adds (``mail.sync.message._timeline_domain`` and ``_timeline`` for that
  page's dates, and for the last page, which reaches the oldest email), and the chatter search of
  the same word (``_timeline_search``);
- the Emails menu as the web client opens it (its default filter, Shown in My Emails): the
  list's first 80 rows with their columns and its count up to 10,000 (``web_search_read``).
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


def list_domain(uid):
    """The Emails menu's default filter (Shown in My Emails) for user ``uid``."""
    return [("account_ids", "any", [("user_id", "=", uid), ("show_on_dashboard", "=", True)])]


# The Emails list's columns, as the web client asks for them.
LIST_FIELDS = {
    name: {}
    for name in ("date", "direction", "correspondent", "display_name", "attachment_count", "size_display")
} | {
    "send_state": {},
    "gone_from_server": {},
    "partner_ids": {"fields": {"display_name": {}}},
    "lead_ids": {"fields": {"display_name": {}}},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=4_000)
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--own-total", type=int, default=0, help="emails in the salesman's mailbox")
    parser.add_argument("--db-total", type=int, default=0, help="emails in the database")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a database kept by --keep-db")
    args = parser.parse_args()
    stem = database_name("mcs_chatter")
    log_path = Path(f"/tmp/{stem}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    if args.reuse:
        registry = Registry(args.reuse)
        measure(registry, *_kept_set_up(registry), args.runs)
        return 0
    base, name = f"{stem}_base", stem
    created = [base]
    try:
        crm = seed_base(base, log_path, args)
        created.append(name)
        _copy(base, name, log_path, addon=True)
        registry = Registry(name)
        salesman_id, targets = set_up_mail(registry, crm, args)
        if args.own_total or args.db_total:
            multiply_mail(registry, salesman_id, args)
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


def multiply_mail(registry: Registry, salesman_id: int, args) -> None:
    """Copies of the emails, in SQL, up to ``--own-total`` in the salesman's mailbox and
    ``--db-total`` in the database (nine other salesmen's mailboxes), in commits of 100,000."""
    started = time.perf_counter()
    with environment(registry) as env:
        salesman_group = env.ref("sales_team.group_sale_salesman").id
        owners = [salesman_id] + [
            env["res.users"]
            .create(
                {
                    "name": f"Bench Colleague {index}",
                    "login": f"bench_colleague_{index}",
                    "groups_id": [fields.Command.set([salesman_group])],
                }
            )
            .id
            for index in range(1, 10)
        ]
        accounts = [env["mail.sync.account"].search([("user_id", "=", salesman_id)], limit=1).id]
        accounts += [
            env["mail.sync.account"]
            .create(
                {
                    "name": f"Mailbox {index}",
                    "email": f"colleague{index}@example.test",
                    "user_id": owners[index],
                    "visibility": "owner",
                    "imap_host": "127.0.0.1",
                    "imap_port": 993,
                    "password": "unused",
                }
            )
            .id
            for index in range(1, 10)
        ]
        env.cr.execute("SELECT count(*), max(id) FROM mail_sync_message")
        originals, last_original = env.cr.fetchone()
        env.cr.execute(
            "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
            "WHERE table_name = 'mail_sync_message' AND column_name NOT IN ('id', 'message_id', 'thread_key')"
        )
        (columns,) = env.cr.fetchone()
    own_copies = max(args.own_total - originals, 0)
    other_copies = max(args.db_total - originals - own_copies, 0)
    plan = [(accounts[0], own_copies)] + [
        (account_id, other_copies // 9 + (index < other_copies % 9))
        for index, account_id in enumerate(accounts[1:])
    ]
    # The GIN indexes (full-text, addresses) are made again afterwards: faster than row by row.
    with environment(registry) as env:
        env.cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('mail_sync_message', 'mail_sync_message_search') "
            "AND indexdef LIKE '%% USING gin %%'"
        )
        gin = env.cr.fetchall()
        for index_name, _definition in gin:
            env.cr.execute(f'DROP INDEX "{index_name}"')
    made = 0
    for account_id, copies in plan:
        for start in range(0, copies, 100_000):
            with environment(registry) as env:
                env.cr.execute(
                    f"""WITH copied AS (
                            INSERT INTO mail_sync_message ({columns}, message_id, thread_key)
                            SELECT {columns}, 'c' || g || '.' || m.message_id, 'c' || g || '.' || m.thread_key
                              FROM generate_series(%(first)s, %(last)s) g
                              JOIN mail_sync_message m ON m.id = 1 + g %% %(originals)s
                            RETURNING id
                        )
                        INSERT INTO mail_sync_account_message_rel (account_id, message_id)
                        SELECT %(account)s, id FROM copied""",
                    {
                        "first": made + start,
                        "last": made + start + min(100_000, copies - start) - 1,
                        "originals": last_original,
                        "account": account_id,
                    },
                )
        made += copies
        say(f"set-up: {made} copies, {time.perf_counter() - started:.0f} s")
    with environment(registry) as env:  # each copy as searchable as its original
        env.cr.execute(
            """INSERT INTO mail_sync_message_search (email_id, document)
               SELECT m.id, s.document FROM mail_sync_message m
                 JOIN mail_sync_message_search s
                   ON s.email_id = 1 + split_part(substr(m.message_id, 2), '.', 1)::bigint %% %(originals)s
                WHERE m.id > %(originals)s AND m.message_id LIKE 'c%%'""",
            {"originals": last_original},
        )
    with environment(registry) as env:
        env.cr.execute("SET maintenance_work_mem = '512MB'")
        for _index_name, definition in gin:
            env.cr.execute(definition)
    with environment(registry) as env:
        env.cr.execute("ANALYZE")
    say(
        f"set-up: {originals + own_copies} emails in the salesman's mailbox, "
        f"{originals + made} in the database ({time.perf_counter() - started:.0f} s)"
    )


def _kept_set_up(registry: Registry) -> tuple[int, dict[str, tuple[str, int]]]:
    """The salesman and the records measured of a database kept by an earlier run."""
    with environment(registry) as env:
        salesman_id = env["res.users"].search([("login", "=", "bench_salesman")]).id
        targets = {}
        for kind, query in MOST_LINKED.items():
            env.cr.execute(query)
            record_id, count = env.cr.fetchone()
            targets[kind] = ("crm.lead" if kind == "opportunity" else "res.partner", record_id)
            say(f"{kind}: id {record_id}, {count} emails linked")
        env.cr.execute(
            "SELECT count(*) FILTER (WHERE a.user_id = %s), count(*) FROM mail_sync_account_message_rel r "
            "JOIN mail_sync_account a ON a.id = r.account_id",
            [salesman_id],
        )
        own, everyone = env.cr.fetchone()
        say(f"emails in the salesman's mailbox: {own}, in all mailboxes: {everyone}")
    return salesman_id, targets


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
        found = {}

        def emails_list():
            found.update(
                Email.web_search_read(list_domain(salesman_id), LIST_FIELDS, limit=80, count_limit=10_001)
            )

        say(
            f"Emails menu (Shown in My Emails, first 80 rows and the count): "
            f"{_median_ms(env, emails_list, runs):.1f} ms, {len(found['records'])} rows of {found['length']}"
        )


def _common_word(env) -> str:
    """A word of about one email in twenty: what a salesman might look for (counted in the first
    50,000 emails: the copies of ``--db-total`` say the same)."""
    env.cr.execute(
        "SELECT word FROM ts_stat("
        "'SELECT document FROM mail_sync_message_search ORDER BY email_id LIMIT 50000') "
        "WHERE length(word) > 5 ORDER BY abs(ndoc - "
        "(SELECT count(*) / 20 FROM (SELECT 1 FROM mail_sync_message LIMIT 50000) sample)) LIMIT 1"
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
