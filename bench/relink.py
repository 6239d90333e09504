"""The nightly relink of 100,000 unassigned emails, and a contact import with and without the addon.

    ~/odoo18/venv/bin/python bench/relink.py [--messages 100000] [--contacts 100000] \\
        [--leads 20000] [--import-rows 10000] [--seed 1] [--keep-db]

Set-up, from nothing: a copy of the host's ``crm18`` gets the CRM, through the ORM in batches (so
``email_normalized`` and every other computed column is what Odoo writes): ``--contacts`` people
in companies of eight and ``--leads`` open opportunities (60% on a contact, 10% with a contact's
address and no contact, 30% of prospects known only by their address). That database is copied
twice: one copy gets mail_crm_sync installed (``odoo-bin -i``), the other stays plain.

1. Relink. Into the copy with the addon, ``--messages`` synced emails are inserted with SQL (rows of
   ``mail_sync_message`` with the columns ``_insert_messages`` writes, ``address_emails`` among
   them, and ``mail_sync_account_message_rel`` rows for one account), none linked: the state after
   a sync whose contacts and leads came later. Their correspondents are contacts for 30% of them,
   prospects with an opportunity for 10%, strangers otherwise, so about 40% can be matched. The
   tables are analyzed, as autovacuum would have by night (``--explain`` then prints the plans of
   the linking of the relink's first chunk of 5,000, run in a savepoint rolled back). Then the
   nightly scheduled action is made due and run exactly as Odoo's cron worker runs it (its
   ``_acquire_one_job`` and ``_process_job``, again while it stays due), timed without the worker's
   sleeps; printed: seconds, job runs, links made, emails assigned, and the progress the job
   reported (``ir.cron._notify_progress`` calls, and its last ``ir.cron.progress`` record): what
   tells Odoo's scheduler to call again, and whether a job cut short by its time limit made headway.
2. Import. A CSV of ``--import-rows`` new contacts (name, email, phone, address, country, job
   position, company name; 40% of them strangers whose mail waits unassigned) goes through Odoo's
   import as the web client drives it: ``base_import.import.execute_import`` in steps of 2,000 rows,
   each in a transaction of its own, with ``tracking_disable``. Timed in the plain copy and in the
   copy with the addon (after part 1: 100,000 emails stored); printed: both times and the ratio.

Bodies are short (about 1 KB): relinking reads addresses only, and the set-up stays in minutes.
Odoo's log goes to /tmp/mcs_relink_<time>.log. Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from odoo import fields  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

from bench.mail_texts import LANGUAGES, OWNER  # noqa: E402
from bench.odoo_host import (  # noqa: E402
    close_database,
    configure,
    create_database,
    database_name,
    drop_database,
    environment,
    explain,
    run_as_scheduled,
    say,
    without_id_lists,
    wrapped,
)
from bench.realistic_mail import Person, Population, make_population  # noqa: E402

BATCH = 2000  # ORM creates per transaction during the set-up, and rows per import step (the web client's)
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
IMPORT_FIELDS = ("name", "email", "phone", "street", "city", "zip", "country_id", "function", "company_name")
IMPORT_COLUMNS = (
    "Name",
    "Email",
    "Phone",
    "Street",
    "City",
    "Zip",
    "Country",
    "Job Position",
    "Company Name",
)
COUNTRIES = {"en": "United Kingdom", "fr": "France", "de": "Germany", "es": "Spain", "pl": "Poland"}
COUNTRIES |= {"ru": "Russian Federation", "ja": "Japan"}


@dataclass
class Crm:
    """Who the CRM holds, as the generator's people: what the emails and the import draw from."""

    population: Population
    lead_on_contact: list[Person] = field(default_factory=list)
    lead_by_address: list[Person] = field(default_factory=list)  # contacts' addresses, no contact
    lead_of_prospect: list[Person] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the linking of the first chunk"
    )
    args = parser.parse_args()
    stem = database_name("mcs_relink")
    log_path = Path(f"/tmp/{stem}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    base, with_addon, plain = f"{stem}_base", f"{stem}_addon", f"{stem}_plain"
    created = []
    try:
        created.append(base)
        crm = seed_base(base, log_path, args)
        for name, addon in ((plain, False), (with_addon, True)):
            created.append(name)
            seconds = _copy(base, name, log_path, addon)
            say(
                f"database {name}: copy of the set-up"
                + (f", mail_crm_sync installed in {seconds:.0f} s" if addon else "")
            )
        stranger_addresses = bench_relink(Registry(with_addon), crm, args)
        rows = import_rows(crm, stranger_addresses, args.import_rows, args.seed)
        plain_seconds = bench_import(Registry(plain), rows, "without the addon")
        registry = Registry(with_addon)
        with environment(registry) as env:
            links = _link_counts(env)
        addon_seconds = bench_import(registry, rows, f"with the addon ({args.messages} emails stored)")
        with environment(registry) as env:
            made, assigned = (after - first for after, first in zip(_link_counts(env), links, strict=True))
        say(f"  the import linked {assigned} waiting emails ({made} links)")
        say(f"import ratio with/without the addon: {addon_seconds / plain_seconds:.2f}")
    finally:
        for name in created if not args.keep_db else ():
            drop_database(name)
        if args.keep_db:
            say(f"kept: {', '.join(created)}")
    return 0


def _copy(base: str, name: str, log_path: Path, addon: bool) -> float:
    close_database(base)
    return create_database(name, log_path, addon=addon, template=base)


def seed_base(name: str, log_path: Path, args: argparse.Namespace) -> Crm:
    """A crm18 copy with the contacts and opportunities, created through the ORM."""
    create_database(name, log_path, addon=False)
    population = make_population(args.contacts, seed=args.seed)
    crm = _choose_leads(population, args.leads, args.seed)
    registry = Registry(name)
    started = time.perf_counter()
    company_ids = _create_companies(registry, population)
    contact_ids = _create_contacts(registry, population, company_ids)
    say(
        f"set-up: {len(company_ids)} companies and {len(contact_ids)} contacts "
        f"in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    _create_leads(registry, crm, contact_ids)
    say(
        f"set-up: {args.leads} open opportunities ({len(crm.lead_on_contact)} on a contact, "
        f"{len(crm.lead_by_address)} by a contact's address, {len(crm.lead_of_prospect)} of prospects) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return crm


def _choose_leads(population: Population, leads: int, seed: int) -> Crm:
    rnd = random.Random(f"relink-leads/{seed}")
    on_contact, by_address = leads * 6 // 10, leads // 10
    contacts = rnd.sample(population.contacts, on_contact + by_address)
    prospects = list(population.prospects[: leads - on_contact - by_address])
    return Crm(population, contacts[:on_contact], contacts[on_contact:], prospects)


def _batches(values: list, size: int = BATCH):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _create_companies(registry: Registry, population: Population) -> dict[str, int]:
    ids = []
    for chunk in _batches([{"name": c.name, "is_company": True} for c in population.companies]):
        with environment(registry, QUIET) as env:
            ids += env["res.partner"].create(chunk).ids
    return dict(zip((c.domain for c in population.companies), ids, strict=True))


def _create_contacts(
    registry: Registry, population: Population, company_ids: dict[str, int]
) -> dict[str, int]:
    values = [person.partner_values(company_ids) for person in population.contacts]
    ids = []
    for chunk in _batches(values):
        with environment(registry, QUIET) as env:
            ids += env["res.partner"].create(chunk).ids
    return dict(zip((p.email for p in population.contacts), ids, strict=True))


def _create_leads(registry: Registry, crm: Crm, contact_ids: dict[str, int]) -> None:
    values = [
        {"name": f"Opportunity {p.name}", "type": "opportunity", "partner_id": contact_ids[p.email]}
        for p in crm.lead_on_contact
    ]
    values += [
        {
            "name": f"Opportunity {p.name}",
            "type": "opportunity",
            "email_from": p.email,
            "contact_name": p.name,
        }
        for p in (*crm.lead_by_address, *crm.lead_of_prospect)
    ]
    for chunk in _batches(values, 1000):
        with environment(registry, QUIET) as env:
            env["crm.lead"].create(chunk)


# -- part 1: relink -------------------------------------------------------------------------


def bench_relink(registry: Registry, crm: Crm, args: argparse.Namespace) -> list[str]:
    """Insert the unassigned emails, run the nightly job, print what it did; returns the strangers'
    addresses the emails use (the import draws from them)."""
    started = time.perf_counter()
    rows, strangers = _email_rows(crm, args.messages, args.seed)
    with environment(registry) as env:
        account = env["mail.sync.account"].create(
            {
                "name": "Relink benchmark",
                "email": OWNER[1],
                "user_id": env.ref("base.user_admin").id,
                "imap_host": "127.0.0.1",
                "imap_port": 993,
                "password": "unused",
            }
        )
        _insert_emails(env, account.id, rows)
    with environment(registry) as env:
        env.cr.execute("ANALYZE mail_sync_message, mail_sync_account_message_rel, res_partner, crm_lead")
    say(f"set-up: {args.messages} unassigned emails inserted in {time.perf_counter() - started:.0f} s")
    if args.explain:
        explain_first_chunk(registry)
    with environment(registry) as env:
        cron_id = env.ref("mail_crm_sync.ir_cron_mail_relink").id
        env["ir.cron"].browse(cron_id).nextcall = fields.Datetime.now() - timedelta(seconds=1)  # due now
        before = _link_counts(env)
    progress: list[tuple[float, int, int]] = []
    started = time.perf_counter()
    with wrapped(registry["ir.cron"], "_notify_progress", _recording(progress, started)):
        jobs = run_as_scheduled(registry, cron_id)
    elapsed = time.perf_counter() - started
    with environment(registry) as env:
        links, assigned = (after - first for after, first in zip(_link_counts(env), before, strict=True))
        record = env["ir.cron.progress"].search([("cron_id", "=", cron_id)], order="id desc", limit=1)
        done, remaining = record.done, record.remaining
    say(f"relink (nightly scheduled action, {jobs} job runs of the cron scheduler): {elapsed:.1f} s")
    share = assigned / args.messages
    say(f"  links made: {links}; emails assigned: {assigned} of {args.messages} ({share:.0%})")
    say(f"  progress reported: {len(progress)} call(s) to _notify_progress")
    for at, done_then, left in progress:
        say(f"    at {at:6.1f} s: done {done_then}, remaining {left}")
    say(f"  last ir.cron.progress: done {done}, remaining {remaining}")
    return strangers


def explain_first_chunk(registry: Registry, chunk: int = 5000) -> None:
    """The plans of ``_link_messages`` for the relink's first chunk (its default size), rolled back."""
    with environment(registry) as env:
        env.cr.execute("SELECT id FROM mail_sync_message ORDER BY id LIMIT %s", [chunk])
        ids = [message_id for (message_id,) in env.cr.fetchall()]
        started = time.perf_counter()
        plans = explain(env, lambda: env["mail.sync.message"]._link_messages(ids))
        seconds = time.perf_counter() - started
        say(f"EXPLAIN of the first chunk's linking ({len(ids)} emails, {seconds:.1f} s):")
        for number, plan in enumerate(plans, start=1):
            say(f"\n_link_messages statement {number}:\n{without_id_lists(plan)}\n")


def _recording(calls: list, started: float):
    def wrapper(original):
        def _notify_progress(self, *, done, remaining, deactivate=False):
            calls.append((time.perf_counter() - started, done, remaining))
            return original(self, done=done, remaining=remaining, deactivate=deactivate)

        return _notify_progress

    return wrapper


def _link_counts(env) -> tuple[int, int]:
    env.cr.execute(
        "SELECT COUNT(*), COUNT(DISTINCT email_id) FILTER (WHERE active) FROM mail_sync_message_link"
    )
    return env.cr.fetchone()


def _email_rows(crm: Crm, count: int, seed: int) -> tuple[dict[str, list], list[str]]:
    """Column arrays of ``count`` emails to or from the owner, and the strangers they name."""
    rnd = random.Random(f"relink-mail/{seed}")
    people = crm.population
    contacts, prospects, strangers = people.contacts, crm.lead_of_prospect, people.strangers
    sentences = [s for language, _ in LANGUAGES for s in language.sentences]
    owner = f"{OWNER[0]} <{OWNER[1]}>"
    now = time.time()
    rows: dict[str, list] = {name: [] for name in _COLUMNS}
    used: dict[str, None] = {}
    for index in range(count):
        kind = rnd.random()
        pool = contacts if kind < 0.30 else prospects if kind < 0.40 else strangers
        correspondent = rnd.choice(pool)
        cc = rnd.sample(strangers, rnd.choice((0, 0, 0, 1, 2)))
        used.update(dict.fromkeys(person.email for person in cc))
        if pool is strangers:
            used.setdefault(correspondent.email)
        outgoing = rnd.random() < 0.4
        sender, recipient = (owner, correspondent.header) if outgoing else (correspondent.header, owner)
        body = " ".join(rnd.choices(sentences, k=12))
        values = {
            "message_id": f"<relink.{seed}.{index}@{correspondent.domain}>",
            "subject": f"Re: order {index}",
            "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - rnd.uniform(0, 365 * 86_400))),
            "email_from": sender,
            "email_to": recipient,
            "email_cc": ", ".join(person.header for person in cc),
            "address_emails": "\n".join(
                dict.fromkeys([correspondent.email, OWNER[1], *(p.email for p in cc)])
            ),
            "body_text": body,
            "direction": "outgoing" if outgoing else "incoming",
            "size": len(body) + 1500,
        }
        for name, value in values.items():
            rows[name].append(value)
    return rows, list(used)


_COLUMNS = {
    "message_id": "text",
    "subject": "text",
    "date": "timestamp",
    "email_from": "text",
    "email_to": "text",
    "email_cc": "text",
    "address_emails": "text",
    "body_text": "text",
    "direction": "text",
    "size": "int4",
}


def _insert_emails(env, account_id: int, rows: dict[str, list], chunk: int = 10_000) -> None:
    """The rows ``mail.sync.message._insert_messages`` writes, and the account's relation, by SQL."""
    names = ", ".join(_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _COLUMNS.values())
    for start in range(0, len(rows["message_id"]), chunk):
        env.cr.execute(
            f"""INSERT INTO mail_sync_message ({names}, attachment_count, message_id_synthetic,
                       gone_from_server, create_uid, write_uid, create_date, write_date)
                SELECT *, 0, false, false, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
                  FROM unnest({arrays})
             RETURNING id""",
            [values[start : start + chunk] for values in rows.values()],
        )
        ids = [message_id for (message_id,) in env.cr.fetchall()]
        env.cr.execute(
            "INSERT INTO mail_sync_account_message_rel (account_id, message_id) "
            "SELECT %s, unnest(%s::int4[])",
            [account_id, ids],
        )


# -- part 2: import -------------------------------------------------------------------------


def import_rows(crm: Crm, waiting: list[str], count: int, seed: int) -> list[list[str]]:
    """New contacts as a CSV's rows: 40% of them people whose mail waits unassigned."""
    rnd = random.Random(f"relink-import/{seed}")
    known = rnd.sample(waiting, min(len(waiting), count * 4 // 10))
    rows = []
    for index in range(count):
        language = rnd.choices([lang for lang, _ in LANGUAGES], [weight for _, weight in LANGUAGES])[0]
        first, ascii_first = rnd.choice(language.first_names)
        last, ascii_last = rnd.choice(language.last_names)
        email = known[index] if index < len(known) else f"{ascii_first}.{ascii_last}.{index}@import.example"
        rows.append(
            [
                f"{first} {last}",
                email,
                f"+{rnd.randint(30, 89)} {rnd.randint(100, 999)} {rnd.randint(100_000, 999_999)}",
                f"{rnd.randint(1, 200)} {rnd.choice(language.trade_words)} Street",
                rnd.choice(("London", "Lyon", "Hamburg", "Sevilla", "Kraków", "Kazan", "Osaka")),
                f"{rnd.randint(10_000, 99_999)}",
                COUNTRIES[language.code],
                rnd.choice(language.titles),
                rnd.choice(crm.population.companies).name,
            ]
        )
    rnd.shuffle(rows)
    return rows


def bench_import(registry: Registry, rows: list[list[str]], label: str) -> float:
    """Import the rows as the web client does, step by step; the seconds the steps took."""
    data = io.StringIO()
    writer = csv.writer(data)
    writer.writerow(IMPORT_COLUMNS)
    writer.writerows(rows)
    with environment(registry) as env:
        wizard = env["base_import.import"].create(
            {
                "res_model": "res.partner",
                "file": data.getvalue().encode(),
                "file_name": "contacts.csv",
                "file_type": "text/csv",
            }
        )
        options = _import_options()
        preview = wizard.parse_preview(dict(options))
        if preview.get("error"):
            raise SystemExit(f"import preview failed: {preview['error']}")
        wizard_id = wizard.id
    skip, steps, imported = 0, 0, 0
    started = time.perf_counter()
    while True:
        with environment(registry, {"tracking_disable": True}) as env:  # one RPC, one transaction
            result = (
                env["base_import.import"]
                .browse(wizard_id)
                .execute_import(list(IMPORT_FIELDS), list(IMPORT_COLUMNS), dict(options, skip=skip))
            )
        steps += 1
        if result.get("messages"):
            raise SystemExit(f"import {label} failed: {result['messages'][:3]}")
        imported += len(result["ids"])
        if not result.get("nextrow"):
            break
        skip = result["nextrow"]
    seconds = time.perf_counter() - started
    say(
        f"import of {imported} contacts {label}: {seconds:.1f} s in {steps} steps "
        f"({imported / seconds:.0f} rows/s)"
    )
    return seconds


def _import_options() -> dict:
    """The options the web client sends for a CSV file (base_import's import_model.js defaults)."""
    return {
        "import_skip_records": [],
        "import_set_empty_fields": [],
        "fallback_values": {},
        "name_create_enabled_fields": {},
        "encoding": "utf-8",
        "separator": ",",
        "quoting": '"',
        "date_format": "",
        "datetime_format": "",
        "float_thousand_separator": ",",
        "float_decimal_separator": ".",
        "advanced": True,
        "has_headers": True,
        "keep_matches": False,
        "limit": BATCH,
        "sheets": [],
        "sheet": "",
        "skip": 0,
        "tracking_disable": True,
    }


if __name__ == "__main__":
    sys.exit(main())
