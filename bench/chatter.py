"""What synced mail adds to the chatter of a contact, a company and an opportunity, beside what the
chatter costs without it, on a realistic CRM.

    ~/odoo18/venv/bin/python bench/chatter.py [--messages 50000] [--contacts 20000] [--leads 4000] \\
        [--notes 30] [--runs 7] [--seed 1] [--own-total 500000 --db-total 5000000] [--keep-db] \\
        [--interleave] [--name DATABASE] [--menu-as LOGIN] [--menu-only]
    ~/odoo18/venv/bin/python bench/chatter.py --reuse DATABASE [--runs 7]   # measure a kept one again

Set-up, from nothing (the relink bench's, bench/relink.py): a copy of the host's ``crm18`` with
``--contacts`` people in companies of eight and ``--leads`` open opportunities, through the ORM;
mail_crm_sync installed; ``--messages`` synced emails of one mailbox inserted with SQL, dated over a
year, grouped into conversations of up to three emails with the same correspondent; then linked by
the nightly scheduled action, as Odoo's cron worker runs it. The mailbox belongs to a salesman,
with the visibility a new mailbox gets (Owner, and on Linked Records), so every email goes through
the visibility rules. The contact, the company and the opportunity with the most emails get
``--notes`` notes each, dated over the last 30 days (the chatter's first page spans them), and the
opportunity is the salesman's.

With ``--own-total`` and ``--db-total``, the mail is then multiplied in SQL (generate_series over
the originals, in rounds: each round keeps their conversations, dates, texts and addresses under
new Message-IDs; not linked: mail waiting for its contacts). The copies fill the salesman's two
mailboxes (a third in the second) up to ``--own-total`` emails, and the mailboxes of nine
colleagues up to ``--db-total`` in the database: three of them in the salesman's sales team, their
visibilities mixed (``COLLEAGUES``), and one email in twenty of his team mates' also in his main
mailbox. Each mailbox's copies follow each other, as a first sync stores a mailbox; with
``--interleave``, each copy goes to a mailbox drawn from its id (hashed, in proportion to each
mailbox's share), as mail that arrived over years is stored: every mailbox spread thinly among the
others' (the salesman's original emails stay where the set-up stored them). The records
measured keep their own emails. The copied tables' indexes are dropped for the copying and made
again, then the database is vacuumed and analyzed, as a production one is, with index clean-up
forced: the set-up updates its original emails after inserting them (their conversation keys, then
``_index_stored``), which leaves two dead rows an email that the sync's INSERT never leaves. They
are on under 2 % of the table's pages, so a vacuum would skip cleaning the indexes and keep those
pages, the oldest emails', off the visibility map: the Emails menu's count, which reads the oldest
emails first, then read 10,000 rows from the table (35 ms against 17 ms at 5,000,000 emails).
``--name`` names the database (``--keep-db`` keeps it; the set-up's base copy is dropped).

Measured as that salesman, each ``--runs`` times with the ORM's cache emptied before each, median:
- Odoo: what its route /mail/thread/messages does for the chatter's first page (``_message_fetch``
  of 30 messages and their ``Store``), and for a search of one word;
- ours: what the same route adds (``mail.sync.message._timeline_domain`` and ``_timeline`` for that
  page's dates, and for the last page, which reaches the oldest email), and the chatter search of
  the same word (``_timeline_search``);
- the Emails menu as the web client opens it (its default filter, Shown in My Emails, as the
  installed search view writes it): the list's first 80 rows with their columns and its count up
  to 10,001 (``web_search_read``); then its three steps apart: the page's search (with its
  stored columns), reading its columns, the count; with ``--menu-as LOGIN`` (repeated), the
  Emails menu also as these users (``bench_colleague_9``: a mailbox of colleagues' only);
  ``--menu-only`` measures the Emails menu alone.
Figures only: nothing here asserts a speed. Odoo's log goes to /tmp/mcs_chatter_<time>.log.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402
from odoo import fields  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools.safe_eval import safe_eval  # noqa: E402

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


def list_domain(env) -> list:
    """The Emails menu's default filter (Shown in My Emails) for ``env``'s user, as the installed
    search view writes it (what the web client sends, whichever version of the addon runs)."""
    arch = etree.fromstring(env.ref("mail_crm_sync.mail_sync_message_view_search").sudo().arch)
    (node,) = arch.xpath("//filter[@name='filter_dashboard']")
    return safe_eval(node.get("domain"), {"uid": env.uid})


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
    parser.add_argument(
        "--interleave", action="store_true", help="copies spread among the mailboxes, not in blocks"
    )
    parser.add_argument(
        "--menu-as", action="append", default=[], metavar="LOGIN", help="the Emails menu also as this user"
    )
    parser.add_argument("--menu-only", action="store_true", help="the Emails menu only, not the chatter")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a database kept by --keep-db")
    parser.add_argument("--name", help="the database's name (kept with --keep-db)")
    args = parser.parse_args()
    stem = args.name or database_name("mcs_chatter")
    log_path = Path(f"/tmp/{stem}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    if args.reuse:
        registry = Registry(args.reuse)
        measure(registry, *_kept_set_up(registry), args.runs, tuple(args.menu_as), args.menu_only)
        return 0
    base, name = f"{stem}_base", stem
    created = [base]
    try:
        crm = seed_base(base, log_path, args)
        created.append(name)
        _copy(base, name, log_path, addon=True)
        drop_database(base)
        created.remove(base)
        registry = Registry(name)
        salesman_id, targets = set_up_mail(registry, crm, args)
        if args.own_total or args.db_total:
            multiply_mail(registry, salesman_id, args)
        measure(registry, salesman_id, targets, args.runs, tuple(args.menu_as), args.menu_only)
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


# Colleagues' mailboxes as people set them (the default is 'Owner, and on Linked Records'): who is
# in the salesman's sales team, and each one's visibility.
COLLEAGUES = [
    (True, "records"),
    (True, "records"),
    (True, "owner"),
    (False, "records"),
    (False, "records"),
    (False, "owner"),
    (False, "owner"),
    (False, "owner_and_managers"),
    (False, "records"),
]
CHUNK = 500_000  # copies per transaction


def multiply_mail(registry: Registry, salesman_id: int, args) -> None:
    """Copies of the emails, in SQL, up to ``--own-total`` in the salesman's mailboxes and
    ``--db-total`` in the database (nine other salesmen's mailboxes).

    Each round of copies keeps the originals' conversations, dates, texts and addresses under new
    Message-IDs. The salesman's copies are spread over his two mailboxes; one email in twenty of
    his team mates' is also in his main mailbox (they wrote to him, or copied him). The tables'
    indexes and foreign keys are dropped for the copying and made again afterwards, then the
    database is vacuumed and analyzed, as autovacuum leaves a production database (index clean-up
    forced: see the module's docstring)."""
    started = time.perf_counter()
    with environment(registry) as env:
        salesman_group = env.ref("sales_team.group_sale_salesman").id
        colleagues = [
            env["res.users"]
            .create(
                {
                    "name": f"Bench Colleague {index}",
                    "login": f"bench_colleague_{index}",
                    "groups_id": [fields.Command.set([salesman_group])],
                }
            )
            .id
            for index in range(1, len(COLLEAGUES) + 1)
        ]
        team_mates = [uid for uid, (in_team, _v) in zip(colleagues, COLLEAGUES, strict=True) if in_team]
        env["crm.team"].create(
            {
                "name": "Bench Team",
                "user_id": salesman_id,
                "crm_team_member_ids": [
                    fields.Command.create({"user_id": uid}) for uid in [salesman_id, *team_mates]
                ],
            }
        )
        main = env["mail.sync.account"].search([("user_id", "=", salesman_id)], limit=1)
        second = env["mail.sync.account"].create(
            {
                "name": "Salesman's old mailbox",
                "email": "owner.old@example.test",
                "user_id": salesman_id,
                "imap_host": "127.0.0.1",
                "imap_port": 993,
                "password": "unused",
            }
        )
        accounts = [
            env["mail.sync.account"]
            .create(
                {
                    "name": f"Mailbox {index}",
                    "email": f"colleague{index}@example.test",
                    "user_id": uid,
                    "visibility": visibility,
                    "imap_host": "127.0.0.1",
                    "imap_port": 993,
                    "password": "unused",
                }
            )
            .id
            for index, (uid, (_in_team, visibility)) in enumerate(zip(colleagues, COLLEAGUES, strict=True), 1)
        ]
        env.cr.execute("SELECT count(*) FROM mail_sync_message")
        (originals,) = env.cr.fetchone()
        env.cr.execute(
            "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
            "WHERE table_name = 'mail_sync_message' AND column_name NOT IN ('id', 'message_id', 'thread_key')"
        )
        (columns,) = env.cr.fetchone()
        env.cr.execute(
            "CREATE TABLE bench_seed AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id "
            "FROM mail_sync_message; ALTER TABLE bench_seed ADD PRIMARY KEY (n)"
        )
    own_copies = max(args.own_total - originals, 0)
    other_copies = max(args.db_total - originals - own_copies, 0)
    plan = [(main.id, own_copies - own_copies // 3, None), (second.id, own_copies // 3, None)] + [
        (
            account_id,
            other_copies // len(accounts) + (index < other_copies % len(accounts)),
            main.id if COLLEAGUES[index][0] else None,
        )
        for index, account_id in enumerate(accounts)
    ]
    rebuild = _drop_indexes(registry)
    say(f"set-up: indexes dropped for the copying ({len(rebuild)})")
    if args.interleave:
        _copy_interleaved(registry, plan, columns, originals, started)
    else:
        _copy_in_blocks(registry, plan, columns, originals, started)
    with environment(registry) as env:  # each copy as searchable as its original
        env.cr.execute(
            """INSERT INTO mail_sync_message_search (email_id, document)
               SELECT m.id, d.document
                 FROM mail_sync_message m
                 JOIN mail_sync_message o
                   ON o.message_id = substr(m.message_id, strpos(m.message_id, '.') + 1)
                 JOIN mail_sync_message_search d ON d.email_id = o.id
                WHERE m.message_id LIKE 'c%%' AND o.id IN (SELECT id FROM bench_seed)"""
        )
    with environment(registry) as env:
        env.cr.execute("DROP TABLE bench_seed")
        env.cr.execute("SET maintenance_work_mem = '1GB'")
        for statement in rebuild:
            env.cr.execute(statement)
    say(f"set-up: indexes made again, {time.perf_counter() - started:.0f} s")
    subprocess.run(
        ["vacuumdb", "--analyze", "--quiet", "--force-index-cleanup", registry.db_name], check=True
    )
    with environment(registry) as env:
        env.cr.execute(
            "SELECT count(*) FILTER (WHERE a.user_id = %s), count(DISTINCT r.message_id) "
            "FROM mail_sync_account_message_rel r JOIN mail_sync_account a ON a.id = r.account_id",
            [salesman_id],
        )
        own, everyone = env.cr.fetchone()
    say(
        f"set-up: {own} emails in the salesman's mailboxes, {everyone} in the database "
        f"({time.perf_counter() - started:.0f} s)"
    )


def _copied(columns: str) -> str:
    """The start of a copying statement: ``copied``, the ids of copies %(first)s to %(last)s of the
    %(originals)s originals (bench_seed), numbered apart by their Message-IDs."""
    return f"""WITH copied AS (
                INSERT INTO mail_sync_message ({columns}, message_id, thread_key)
                SELECT {columns}, 'c' || g / %(originals)s || '.' || m.message_id,
                       'c' || g / %(originals)s || '.' || m.thread_key
                  FROM generate_series(%(first)s, %(last)s) g
                  JOIN bench_seed s ON s.n = g %% %(originals)s
                  JOIN mail_sync_message m ON m.id = s.id
              ORDER BY g
                RETURNING id
            )"""


def _copy_in_blocks(registry: Registry, plan: list, columns: str, originals: int, started: float) -> None:
    """Each mailbox's copies in one run of ids, one mailbox after the other (a first sync)."""
    made = 0
    for account_id, copies, also in plan:
        for start in range(0, copies, CHUNK):
            with environment(registry) as env:
                env.cr.execute(
                    f"""{_copied(columns)}, held AS (
                            INSERT INTO mail_sync_account_message_rel (account_id, message_id)
                            SELECT %(account)s, id FROM copied
                        )
                        INSERT INTO mail_sync_account_message_rel (account_id, message_id)
                        SELECT %(also)s, id FROM copied WHERE %(also)s IS NOT NULL AND id %% 20 = 0""",
                    {
                        "first": originals + made + start,
                        "last": originals + made + start + min(CHUNK, copies - start) - 1,
                        "originals": originals,
                        "account": account_id,
                        "also": also,
                    },
                )
            done = made + start + min(CHUNK, copies - start)
            say(f"set-up: {done} copies, {time.perf_counter() - started:.0f} s")
        made += copies


def _copy_interleaved(registry: Registry, plan: list, columns: str, originals: int, started: float) -> None:
    """All the copies in one run, each to a mailbox drawn from a hash of its id, in proportion to
    the mailboxes' shares in ``plan`` (mail that arrived over years, among the colleagues')."""
    total = sum(copies for _account, copies, _also in plan)
    bounds, accounts, also_held, reached = [], [], [], 0
    for account_id, copies, also in plan:
        bounds.append(reached * 1_000_000 // total)
        accounts.append(account_id)
        also_held.append(also)
        reached += copies
    for start in range(0, total, CHUNK):
        with environment(registry) as env:
            env.cr.execute(
                f"""{_copied(columns)}, placed AS (
                        SELECT id, width_bucket(
                                   (hashint4(id)::int8 & 2147483647) %% 1000000, %(bounds)s::int[]) AS slot
                          FROM copied
                    ), held AS (
                        INSERT INTO mail_sync_account_message_rel (account_id, message_id)
                        SELECT (%(accounts)s::int[])[slot], id FROM placed
                    )
                    INSERT INTO mail_sync_account_message_rel (account_id, message_id)
                    SELECT (%(also)s::int[])[slot], id FROM placed
                     WHERE (%(also)s::int[])[slot] IS NOT NULL AND id %% 20 = 0""",
                {
                    "first": originals + start,
                    "last": originals + start + min(CHUNK, total - start) - 1,
                    "originals": originals,
                    "bounds": bounds,
                    "accounts": accounts,
                    "also": also_held,
                },
            )
        done = start + min(CHUNK, total - start)
        say(f"set-up: {done} copies, interleaved, {time.perf_counter() - started:.0f} s")


def _drop_indexes(registry: Registry) -> list[str]:
    """Drops the copied tables' indexes and constraints but the emails' primary key; returns the
    statements that make them again."""
    tables = ("mail_sync_message", "mail_sync_account_message_rel", "mail_sync_message_search")
    with environment(registry) as env:
        env.cr.execute(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                 FROM pg_constraint c
                WHERE c.conrelid::regclass::text IN %s AND c.contype IN ('p', 'u', 'f')
                  AND c.conname <> 'mail_sync_message_pkey'""",
            [tables],
        )
        constraints = env.cr.fetchall()
        env.cr.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.tablename IN %s
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [tables],
        )
        indexes = env.cr.fetchall()
        for table, name, _definition in constraints:
            env.cr.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            env.cr.execute(f'DROP INDEX "{name}"')
    # primary and unique keys first, then foreign keys (which need them), then the other indexes
    constraints.sort(key=lambda row: row[2].startswith("FOREIGN KEY"))
    return [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in constraints
    ] + [definition for _name, definition in indexes]


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


def measure(  # noqa: PLR0913 - what to measure, each with its default
    registry: Registry,
    salesman_id: int,
    targets: dict[str, tuple[str, int]],
    runs: int,
    menu_logins: tuple[str, ...] = (),
    menu_only: bool = False,
) -> None:
    from odoo.addons.mail.tools.discuss import Store  # noqa: PLC0415 - once the registry is loaded

    say(f"addon measured: {Path(sys.modules['odoo.addons.mail_crm_sync'].__file__).parent}")
    say(f"\nmedian of {runs} runs, ms, as the salesman (ORM cache emptied before each):")
    say(
        f"{'record':<12} {'Odoo page':>10} {'ours page':>10} {'ours last':>10} "
        f"{'Odoo search':>12} {'ours search':>12}  shown"
    )
    with environment(registry) as admin_env:
        env = admin_env(user=salesman_id)
        Message, Email = env["mail.message"], env["mail.sync.message"]
        word = _common_word(env)
        for kind, (model, record_id) in () if menu_only else targets.items():
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
        measure_menu(env, runs, "the salesman")
    for login in menu_logins:
        with environment(registry) as admin_env:
            user = admin_env["res.users"].search([("login", "=", login)])
            admin_env.cr.execute(
                "SELECT count(*) FROM mail_sync_account_message_rel r JOIN mail_sync_account a "
                "ON a.id = r.account_id WHERE a.user_id = %s",
                [user.id],
            )
            measure_menu(admin_env(user=user.id), runs, f"{login} ({admin_env.cr.fetchone()[0]} emails)")


def measure_menu(env, runs: int, who: str) -> None:
    """The Emails menu as ``env``'s user opens it, whole, then its three steps apart."""
    Email = env["mail.sync.message"]
    found = {}

    def emails_list():
        found.update(Email.web_search_read(list_domain(env), LIST_FIELDS, limit=80, count_limit=10_001))

    say(
        f"Emails menu as {who} (Shown in My Emails, first 80 rows and the count): "
        f"{_median_ms(env, emails_list, runs):.1f} ms, {len(found['records'])} rows of {found['length']}"
    )
    parts = {"page": [], "columns": [], "count": []}
    for _ in range(runs):  # the same three steps as web_search_read, each timed
        env.invalidate_all()
        domain = list_domain(env)
        started = time.perf_counter()
        page = Email.search_fetch(domain, LIST_FIELDS, limit=80)
        found_at = time.perf_counter()
        page.web_read(LIST_FIELDS)
        read_at = time.perf_counter()
        Email.search_count(domain, limit=10_001)
        counted_at = time.perf_counter()
        parts["page"].append((found_at - started) * 1000)
        parts["columns"].append((read_at - found_at) * 1000)
        parts["count"].append((counted_at - read_at) * 1000)
    say(
        "  of which: "
        + ", ".join(f"{part} {statistics.median(times):.1f} ms" for part, times in parts.items())
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
