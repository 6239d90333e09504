"""The nightly relink at a million: 1,000,000 unassigned emails against 1,000,000 contacts and
200,000 opportunities, and a contact import of 10,000 rows with and without the addon, on that data.

    ~/odoo18/venv/bin/python bench/relink_big.py [--contacts 1000000] [--leads 200000] \\
        [--messages 1000000] [--import-rows 10000] [--keep-db | --reuse STEM] [--explain]

Set-up (made in SQL: the ORM would take hours at this size), in two copies of the host's ``crm18``:
``STEM_addon`` with mail_crm_sync installed and ``STEM_plain`` without it, both with the same CRM:

- companies of about ten people each (names from word lists, a domain of their own, a website for
  half of them, info@ their domain), 85% of the people at their company's domain
  (first.last@domain), 15% on free mail with no company;
- opportunities: 60% on a contact (and its address), 10% with a contact's address only, 30% of
  prospects known only by their address (a domain of their own);
- in STEM_addon only, ``--messages`` synced emails of one account, none linked (the state after a
  sync whose contacts and leads came later), with From/To/Cc headers and Message-IDs like real ones:
  5% from or to a contact, 2% a prospect with an opportunity, 2% an unknown colleague at a contact's
  company (matched only by the opt-in domain rule), 3% replies in a thread to one of the contact
  emails from an unknown colleague (matched by the thread rule), 88% strangers (companies and free
  mail that no contact has, newsletters), a quarter of all with one or two strangers in Cc.

Then the tables are analyzed (as autovacuum would have) and:

1. Relink: the nightly scheduled action is made due and run as Odoo's cron worker runs it
   (``_acquire_one_job`` then ``_process_job``: a call per chunk, a commit after each, again while
   it reports work left), timed; printed as it goes: the progress the job reports; at the end the
   seconds, emails/s, links made by reason and emails assigned.
2. Import: a CSV of ``--import-rows`` new contacts (40% of them strangers whose mail waits) through
   ``base_import.import.execute_import`` in steps of 2,000 rows, a transaction each, first into
   STEM_plain, then into STEM_addon; printed: both times and the ratio.

``--reuse STEM`` runs on databases kept by ``--keep-db``: the links, the imported contacts and the
relink's place are removed first, so every run starts from the same state. ``--drop STEM`` drops them.
Odoo's log goes to /tmp/relink_big_<time>.log. Figures only: nothing here asserts a speed.
"""

# ruff: noqa: E501 - the set-up's SQL reads better unwrapped
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from odoo import fields  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

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
from bench.relink import bench_import  # noqa: E402

OWNER = ("Clara Hoffmann", "clara.hoffmann@northwind-trading.example")
FIRST = (  # noqa: SIM905 - a list of words, read as one
    "Anna Ben Carla David Elena Farid Greta Hugo Ines Jonas Kerstin Lukas Maria Nils Olga Pablo "
    "Quentin Rosa Sven Tanja Ugo Vera Walter Ximena Yusuf Zoe Amelie Bruno Chiara Dmitri Emma "
    "Felix Giulia Hannah Ivan Julia Karim Lea Marco Nina Oscar Paula Rafael Sofia Tomas Ursula "
    "Viktor Wiebke Yara Zeynep Aiko Björn Céline Dörte Élodie François Jürgen Łucja Søren Zoë"
).split()
LAST = (  # noqa: SIM905 - a list of words, read as one
    "Müller Schmidt Rossi Dubois Martin García López Novak Kowalski Jansen Peeters Nielsen Berg "
    "Andersson Virtanen Horvat Popescu Ivanov Papadopoulos Silva Costa Ferreira Moreau Lefebvre "
    "Bianchi Romano Fischer Weber Wagner Becker Hoffmann Schulz Koch Richter Klein Wolf Schröder "
    "Neumann Braun Zimmermann Hartmann Krüger Lange Werner Schmitt Meier Lehmann Köhler Walter "
    "König Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel Friedrich Keller"
).split()
WORD = (  # noqa: SIM905 - a list of words, read as one
    "Alpine Blue Cedar Delta Eagle Falcon Granite Harbor Iron Juniper Kestrel Lumen Maple Nordic "
    "Oak Pioneer Quartz River Summit Titan Union Vertex Willow Zenith Amber Birch Coral Dune "
    "Ember Fjord Glacier Horizon Indigo Jade Krypton Lotus Meridian Nova Orchid Prairie"
).split()
TRADE = (  # noqa: SIM905 - a list of words, read as one
    "Logistics Tools Foods Textiles Software Systems Pharma Energy Metals Print Media Robotics "
    "Optics Furniture Plastics Marine Aero Chemicals Paper Glass"
).split()
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de", "web.de", "orange.fr", "libero.it")
NEWSLETTERS = ("news", "noreply", "info", "billing", "support", "notifications")


def _array(values) -> str:
    return "ARRAY[" + ",".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def _ascii(expression: str) -> str:
    return f"lower(translate({expression}, 'äöüßéèçłøëåÉÖÜÄ', 'aouseecloeaeoua'))"


def main() -> int:  # noqa: PLR0915 - the steps of the bench, in order
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse", metavar="STEM", help="databases kept by --keep-db")
    parser.add_argument("--drop", metavar="STEM", help="drop the databases kept by --keep-db, and stop")
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--emails-into", metavar="STEM", help="(set-up resumed) only add the emails to STEM")
    parser.add_argument(
        "--dump", metavar="FILE", help="write the relink's links, sorted, to FILE (to compare)"
    )
    parser.add_argument("--build-only", action="store_true", help="make the databases (kept), run nothing")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the first chunk's linking, and stop"
    )
    args = parser.parse_args()
    stem = args.reuse or args.drop or args.emails_into or database_name("relink2_big")
    log_path = Path(f"/tmp/relink_big_{time.strftime('%Y%m%d_%H%M%S')}.log")
    configure(log_path)
    with_addon, plain = f"{stem}_addon", f"{stem}_plain"
    if args.emails_into:
        build_emails(f"{stem}_addon", f"{stem}_plain", args)
        return 0
    if args.drop:
        drop_database(with_addon)
        drop_database(plain)
        return 0
    say(f"Odoo's log: {log_path}")
    kept = bool(args.reuse or args.keep_db or args.build_only)
    try:
        if args.reuse:
            reset(Registry(with_addon))
            reset(Registry(plain))
        else:
            build(with_addon, plain, log_path, args)
            if args.build_only:
                return 0
        registry = Registry(with_addon)
        with environment(registry) as env:
            # The indexes this version's init() makes, as an upgrade would (IF NOT EXISTS).
            for model in ("res.partner", "crm.lead", "mail.sync.message", "mail.sync.message.link"):
                env[model].init()
        if args.explain:
            explain_first_chunk(registry)
            return 0
        bench_relink(registry, args.messages)
        if args.dump:
            _dump_links(registry, args.dump)
        if not args.no_import:
            rows = _import_rows(Registry(with_addon), args.import_rows)
            plain_seconds = bench_import(Registry(plain), rows, "without the addon")
            before = _link_counts(registry)
            addon_seconds = bench_import(registry, rows, f"with the addon ({args.messages} emails stored)")
            made, assigned = (a - b for a, b in zip(_link_counts(registry), before, strict=True))
            say(f"  the import linked {assigned} waiting emails ({made} links)")
            say(f"import ratio with/without the addon: {addon_seconds / plain_seconds:.2f}")
    finally:
        if not kept:
            drop_database(with_addon)
            drop_database(plain)
        else:
            close_database(with_addon)
            close_database(plain)
            say(f"kept: {with_addon}, {plain} (--reuse {stem}; --drop {stem} to drop them)")
    return 0


# -- set-up ------------------------------------------------------------------------------------


def build(with_addon: str, plain: str, log_path: Path, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    seconds = create_database(with_addon, log_path, addon=True)
    create_database(plain, log_path, addon=False)
    say(f"set-up: {with_addon} with mail_crm_sync ({seconds:.0f} s), {plain} without")
    for name in (plain, with_addon):
        begun = time.perf_counter()
        with environment(Registry(name)) as env:
            fill_crm(env.cr, args.contacts, args.leads)
        say(f"set-up: CRM of {name} in {time.perf_counter() - begun:.0f} s")
    build_emails(with_addon, plain, args)
    say(f"set-up: done in {time.perf_counter() - started:.0f} s")


def build_emails(with_addon: str, plain: str, args: argparse.Namespace) -> None:
    begun = time.perf_counter()
    with environment(Registry(with_addon)) as env:
        fill_emails(env, args.messages)
    say(f"set-up: {args.messages} emails in {time.perf_counter() - begun:.0f} s")
    for name in (plain, with_addon):
        with environment(Registry(name)) as env:
            env.cr.execute("SELECT max(id) FROM res_partner")
            env["ir.config_parameter"].set_param("bench.relink_big.partner_max", env.cr.fetchone()[0])
            env.cr.execute("SELECT max(id) FROM crm_lead")
            env["ir.config_parameter"].set_param("bench.relink_big.lead_max", env.cr.fetchone()[0] or 0)
        _vacuum(name)


def _vacuum(name: str) -> None:
    close_database(name)
    import subprocess  # noqa: PLC0415

    subprocess.run(["vacuumdb", "--analyze", "--quiet", name], check=True)


def reset(registry: Registry) -> None:
    """Back to the state the set-up left: no link, no imported contact, no relink under way."""
    with environment(registry) as env:
        param = env["ir.config_parameter"]
        partner_max = int(param.get_param("bench.relink_big.partner_max"))
        lead_max = int(param.get_param("bench.relink_big.lead_max"))
        env.cr.execute("DELETE FROM crm_lead WHERE id > %s", [lead_max])
        env.cr.execute("DELETE FROM res_partner WHERE id > %s", [partner_max])
        if "mail.sync.message.link" in env:
            env.cr.execute("TRUNCATE mail_sync_message_link")
            env.cr.execute("DELETE FROM ir_config_parameter WHERE key = 'mail_crm_sync.relink_after_id'")
            env.cr.execute(
                "DELETE FROM ir_cron_progress WHERE cron_id = %s",
                [env.ref("mail_crm_sync.ir_cron_mail_relink").id],
            )
            # Indexes a later version adds are dropped, so that the code under test makes its own.
            env.cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'mail_crm_sync_relink%'")
            for (index,) in env.cr.fetchall():
                env.cr.execute(f'DROP INDEX "{index}"')
    _vacuum(registry.db_name)


def fill_crm(cr, contacts: int, leads: int) -> None:
    """Companies, people and opportunities, the same in every database (derived from row numbers)."""
    companies = max(1, contacts // 10)
    cr.execute("SELECT coalesce(max(id), 0) FROM res_partner")
    base = cr.fetchone()[0] + 1000
    cr.execute("SELECT id FROM res_country WHERE code IN ('DE', 'FR', 'IT', 'ES', 'NL', 'PL') ORDER BY id")
    countries = [row[0] for row in cr.fetchall()]
    words, trades = _array(WORD), _array(TRADE)
    cr.execute(
        f"""CREATE TEMP TABLE bench_company AS
            SELECT i, {base} + i AS id,
                   w[1 + i %% array_length(w, 1)] || ' ' || t[1 + (i / array_length(w, 1)) %% array_length(t, 1)]
                     || (ARRAY[' GmbH', ' SA', ' Srl', ' BV', ' Ltd', ''])[1 + i %% 6] AS name,
                   lower(w[1 + i %% array_length(w, 1)]) || '-' || lower(t[1 + (i / array_length(w, 1))
                     %% array_length(t, 1)]) || (i / (array_length(w, 1) * array_length(t, 1)))::text
                     || (ARRAY['.de', '.fr', '.it', '.com', '.nl', '.eu'])[1 + i %% 6] AS domain
              FROM generate_series(0, %s - 1) i, (SELECT {words} AS w, {trades} AS t) k""",
        [companies],
    )
    audit = "1, 1, now() at time zone 'UTC', now() at time zone 'UTC'"
    cr.execute(
        f"""INSERT INTO res_partner (id, name, complete_name, is_company, commercial_partner_id, email,
                   email_normalized, website, type, active, lang, country_id, city, phone,
                   create_uid, write_uid, create_date, write_date)
            SELECT id, name, name, true, id, 'info@' || domain, 'info@' || domain,
                   CASE WHEN i %% 2 = 0 THEN 'https://www.' || domain END, 'contact', true, 'en_US',
                   (%s::int[])[1 + i %% %s], 'City ' || (i %% 500), '+49 30 ' || (1000000 + i), {audit}
              FROM bench_company""",
        [countries, len(countries)],
    )
    first, last = _array(FIRST), _array(LAST)
    cr.execute(
        f"""CREATE TEMP TABLE bench_person AS
            SELECT j, {base} + %s + j AS id, c.id AS company_id, c.name AS company_name, c.domain,
                   f[1 + j %% array_length(f, 1)] AS first,
                   l[1 + (j / array_length(f, 1) + j / 7) %% array_length(l, 1)] AS last
              FROM generate_series(0, %s - 1) j
              JOIN bench_company c ON c.i = j %% %s, (SELECT {first} AS f, {last} AS l) k""",
        [companies, contacts, companies],
    )
    free = _array(FREE_MAIL)
    cr.execute(
        f"""ALTER TABLE bench_person ADD COLUMN email text;
            UPDATE bench_person SET email = CASE
                WHEN j %% 20 < 17 THEN {_ascii("first")} || '.' || {_ascii("last")}
                                       || CASE WHEN j >= %s * 7 THEN (j / %s)::text ELSE '' END || '@' || domain
                ELSE {_ascii("first")} || '.' || {_ascii("last")} || j::text || '@'
                     || ({free})[1 + j %% {len(FREE_MAIL)}] END""",
        [companies, companies],
    )
    cr.execute(
        f"""INSERT INTO res_partner (id, name, complete_name, is_company, parent_id, commercial_partner_id,
                   email, email_normalized, type, active, lang, function, phone, create_uid, write_uid,
                   create_date, write_date)
            SELECT id, first || ' ' || last,
                   CASE WHEN j % 20 < 17 THEN company_name || ', ' ELSE '' END || first || ' ' || last, false,
                   CASE WHEN j % 20 < 17 THEN company_id END,
                   CASE WHEN j % 20 < 17 THEN company_id ELSE id END,
                   email, email, 'contact', true, 'en_US',
                   (ARRAY['Buyer', 'CEO', 'Sales Manager', 'Accountant', 'Engineer'])[1 + j % 5],
                   '+49 89 ' || (2000000 + j), {audit}
              FROM bench_person""",
    )
    cr.execute("SELECT setval('res_partner_id_seq', (SELECT max(id) FROM res_partner))")
    cr.execute("SELECT id FROM crm_stage WHERE NOT coalesce(is_won, false) ORDER BY sequence, id LIMIT 1")
    stage = (cr.fetchone() or [None])[0]
    cr.execute("SELECT id FROM crm_team ORDER BY id LIMIT 1")
    team = (cr.fetchone() or [None])[0]
    # 60% on a contact, 10% a contact's address only, 30% prospects with a domain of their own.
    cr.execute(
        f"""INSERT INTO crm_lead (name, type, active, stage_id, team_id, user_id, company_id, priority,
                   partner_id, email_from, email_normalized, contact_name, partner_name, probability,
                   create_uid, write_uid, create_date, write_date, date_open, date_last_stage_update)
            SELECT 'Opportunity ' || n, 'opportunity', true, %s, %s, 2, 1, '1',
                   CASE WHEN n %% 10 < 6 THEN p.id END,
                   CASE WHEN n %% 10 < 7 THEN p.email ELSE 'contact@prospect' || n || '-' || {_ascii("p.last")}
                        || '.example' END,
                   CASE WHEN n %% 10 < 7 THEN p.email ELSE 'contact@prospect' || n || '-' || {_ascii("p.last")}
                        || '.example' END,
                   p.first || ' ' || p.last, CASE WHEN n %% 10 >= 7 THEN 'Prospect ' || n END, 10,
                   {audit}, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM generate_series(0, %s - 1) n JOIN bench_person p ON p.j = (n * 7919) %% %s""",
        [stage, team, leads, contacts],
    )
    cr.execute("DROP TABLE bench_company; DROP TABLE bench_person")


def fill_emails(env, messages: int) -> None:
    """The unassigned emails of one account, made in SQL with the columns _insert_messages writes."""
    cr = env.cr
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
    cr.execute(
        "CREATE TEMP TABLE bench_contact AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, "
        "email_normalized AS email, name FROM res_partner WHERE NOT is_company AND parent_id IS NOT NULL"
    )
    cr.execute("CREATE UNIQUE INDEX ON bench_contact (n)")
    cr.execute("SELECT count(*) FROM bench_contact")
    contacts = cr.fetchone()[0]
    cr.execute(
        "CREATE TEMP TABLE bench_prospect AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, "
        "email_normalized AS email, contact_name AS name FROM crm_lead WHERE partner_id IS NULL"
    )
    cr.execute("CREATE UNIQUE INDEX ON bench_prospect (n)")
    cr.execute("SELECT count(*) FROM bench_prospect")
    prospects = cr.fetchone()[0]
    # The bulk load goes faster without the email table's indexes; they are made again after.
    cr.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'mail_sync_message' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(f'DROP INDEX "{name}"')
    first, last, words, trades = _array(FIRST), _array(LAST), _array(WORD), _array(TRADE)
    free, news = _array(FREE_MAIL), _array(NEWSLETTERS)
    owner = f'"{OWNER[0]}" <{OWNER[1]}>'
    # k % 100: 0-4 a contact, 5-6 a prospect, 7-8 a colleague at a contact's company, 9-11 a reply
    # (from an unknown colleague) to the contact email of its hundred, the rest strangers.
    cr.execute(
        f"""CREATE TEMP TABLE bench_mail AS
            SELECT k, k %% 100 AS kind,
                   f[1 + (k * 31) %% array_length(f, 1)] || ' ' || l[1 + (k * 17) %% array_length(l, 1)] AS name,
                   {_ascii("f[1 + (k * 31) %% array_length(f, 1)]")} AS local,
                   {_ascii("l[1 + (k * 17) %% array_length(l, 1)]")} AS surname,
                   lower(w[1 + (k * 13) %% array_length(w, 1)]) || lower(t[1 + (k * 7) %% array_length(t, 1)])
                     || '-' || (k %% 40000)::text || (ARRAY['.com', '.de', '.co.uk', '.fr', '.io'])[1 + k %% 5]
                     AS stranger_domain
              FROM generate_series(0::bigint, %s - 1) k,
                   (SELECT {first} AS f, {last} AS l, {words} AS w, {trades} AS t) a""",
        [messages],
    )
    cr.execute(
        f"""ALTER TABLE bench_mail ADD COLUMN address text, ADD COLUMN header text;
            UPDATE bench_mail b SET address = CASE
                  WHEN kind < 5 THEN (SELECT email FROM bench_contact c WHERE c.n = (b.k * 7919) % {contacts})
                  WHEN kind < 7 THEN (SELECT email FROM bench_prospect c WHERE c.n = (b.k * 104729) % {prospects})
                  WHEN kind < 9 THEN b.local || '.' || b.surname || '.new@' || (SELECT split_part(email, '@', 2)
                                     FROM bench_contact c WHERE c.n = (b.k * 7919) % {contacts})
                  WHEN kind < 12 THEN b.local || '.' || b.surname || '@' || (SELECT split_part(email, '@', 2)
                                     FROM bench_contact c WHERE c.n = ((b.k - b.kind) * 7919) % {contacts})
                  WHEN kind < 30 THEN ({news})[1 + b.k % 6] || '@' || b.stranger_domain
                  WHEN kind < 45 THEN b.local || '.' || b.surname || (b.k % 300000)::text || '@'
                                      || ({free})[1 + b.k % {len(FREE_MAIL)}]
                  ELSE b.local || '.' || b.surname || '@' || b.stranger_domain END;
            UPDATE bench_mail SET header = '"' || name || '" <' || address || '>'""",
    )
    audit = "1, 1, now() at time zone 'UTC', now() at time zone 'UTC'"
    cr.execute(
        f"""INSERT INTO mail_sync_message (message_id, message_id_header, subject, date, email_from, email_to,
                   email_cc, address_emails, in_reply_to, message_references, thread_key, body_text,
                   direction, size, attachment_count, message_id_synthetic, gone_from_server,
                   create_uid, write_uid, create_date, write_date)
            SELECT mid, mid, subject, date, sender, recipient, cc,
                   concat_ws(E'\\n', address, '{OWNER[1]}', cc_address), reply, reply,
                   coalesce(reply, mid), body, direction, 1500 + length(body), 0, false, false, {audit}
              FROM (
                SELECT b.k, b.address,
                       '<' || md5(b.k::text) || '.' || b.k || '@' || split_part(b.address, '@', 2) || '>' AS mid,
                       CASE WHEN b.kind BETWEEN 9 AND 11 THEN '<' || md5((b.k - b.kind)::text) || '.'
                            || (b.k - b.kind) || '@' || split_part(r.address, '@', 2) || '>' END AS reply,
                       CASE WHEN b.kind BETWEEN 9 AND 11 THEN 'Re: ' ELSE '' END
                         || (ARRAY['Order ', 'Invoice ', 'Quote request ', 'Meeting on ', 'Delivery '])[1 + b.k % 5]
                         || (b.k % 9973)::text AS subject,
                       timestamp '2026-12-05 22:00' - (b.k % 31536000) * interval '1 second' AS date,
                       CASE WHEN b.k % 5 < 2 THEN '{owner}' ELSE b.header END AS sender,
                       CASE WHEN b.k % 5 < 2 THEN b.header ELSE '{owner}' END AS recipient,
                       CASE WHEN b.k % 4 = 0 THEN c.header END AS cc,
                       CASE WHEN b.k % 4 = 0 THEN c.address END AS cc_address,
                       'Hello ' || b.name || E',\\n\\nplease find the details below.\\n\\nBest regards' AS body,
                       CASE WHEN b.k % 5 < 2 THEN 'outgoing' ELSE 'incoming' END AS direction
                  FROM bench_mail b
                  LEFT JOIN bench_mail r ON r.k = b.k - b.kind AND b.kind BETWEEN 9 AND 11
                  LEFT JOIN bench_mail c ON c.k = (b.k * 48271 + 13) % {messages} AND c.kind >= 45
                 ORDER BY b.k) AS e""",
    )
    cr.execute(
        "INSERT INTO mail_sync_account_message_rel (account_id, message_id) "
        "SELECT %s, id FROM mail_sync_message",
        [account.id],
    )
    # Each email's search document, as the search-index job leaves it (their subjects: enough here).
    cr.execute(
        "INSERT INTO mail_sync_message_search (email_id, document) "
        "SELECT id, to_tsvector('simple', subject) FROM mail_sync_message"
    )
    for _name, definition in indexes:
        cr.execute(definition)
    cr.execute("DROP TABLE bench_mail; DROP TABLE bench_contact; DROP TABLE bench_prospect")


# -- part 1: relink ----------------------------------------------------------------------------


def _link_counts(registry: Registry) -> tuple[int, int]:
    with environment(registry) as env:
        env.cr.execute(
            "SELECT COUNT(*), COUNT(DISTINCT email_id) FILTER (WHERE active) FROM mail_sync_message_link"
        )
        return env.cr.fetchone()


def explain_first_chunk(registry: Registry, chunk: int = 5000) -> None:
    with environment(registry) as env:
        env.cr.execute("SELECT id FROM mail_sync_message ORDER BY id LIMIT %s", [chunk])
        ids = [message_id for (message_id,) in env.cr.fetchall()]
        started = time.perf_counter()
        plans = explain(env, lambda: env["mail.sync.message"]._link_messages(ids))
        say(
            f"EXPLAIN of the first chunk's linking ({len(ids)} emails, {time.perf_counter() - started:.1f} s):"
        )
        for number, plan in enumerate(plans, start=1):
            say(f"\n_link_messages statement {number}:\n{without_id_lists(plan)}\n")
        env.cr.rollback()


def bench_relink(registry: Registry, messages: int) -> None:
    with environment(registry) as env:
        cron_id = env.ref("mail_crm_sync.ir_cron_mail_relink").id
        env["ir.cron"].browse(cron_id).nextcall = fields.Datetime.now() - timedelta(seconds=1)
    before = _link_counts(registry)
    started = time.perf_counter()
    calls = []

    def recording(original):
        def _notify_progress(self, *, done, remaining, deactivate=False):
            calls.append(done)
            if len(calls) % 10 == 1 or not remaining:
                say(
                    f"  progress at {time.perf_counter() - started:6.1f} s: call {len(calls)}, "
                    f"done {done}, remaining {remaining}"
                )
            return original(self, done=done, remaining=remaining, deactivate=deactivate)

        return _notify_progress

    with wrapped(registry["ir.cron"], "_notify_progress", recording):
        jobs = run_as_scheduled(registry, cron_id)
    elapsed = time.perf_counter() - started
    links, assigned = (a - b for a, b in zip(_link_counts(registry), before, strict=True))
    with environment(registry) as env:
        env.cr.execute("SELECT reason, count(*) FROM mail_sync_message_link GROUP BY reason ORDER BY reason")
        reasons = ", ".join(f"{reason} {count}" for reason, count in env.cr.fetchall())
    say(
        f"relink of {messages} unassigned emails (nightly scheduled action, {jobs} job runs, "
        f"{len(calls)} calls): {elapsed:.1f} s, {sum(calls) / elapsed:.0f} emails/s"
    )
    say(f"  links made: {links} ({reasons}); emails assigned: {assigned}")


def _dump_links(registry: Registry, path: str) -> None:
    with environment(registry) as env, open(path, "w") as out:
        env.cr.execute(
            "SELECT email_id, coalesce(partner_id, 0), coalesce(lead_id, 0), reason, coalesce(email, ''), active "
            "FROM mail_sync_message_link ORDER BY 1, 2, 3"
        )
        for row in env.cr.fetchall():
            out.write("\t".join(map(str, row)) + "\n")
    say(f"  links written to {path}")


def _import_rows(registry: Registry, count: int) -> list[list[str]]:
    """New contacts: 40% strangers whose mail waits unassigned, the rest new people."""
    with environment(registry) as env:
        env.cr.execute(
            """SELECT DISTINCT ON (e) e FROM mail_sync_message m,
                      unnest(string_to_array(m.address_emails, E'\\n')) e
                WHERE e LIKE '%%.%%@%%' AND e <> %s
                  AND NOT EXISTS (SELECT 1 FROM mail_sync_message_link k WHERE k.email_id = m.id)
                  AND m.id %% 97 = 0
                LIMIT %s""",
            [OWNER[1], count * 4 // 10],
        )
        waiting = [email for (email,) in env.cr.fetchall()]
    rows = []
    for index in range(count):
        first, last = FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)]
        email = waiting[index] if index < len(waiting) else f"{first}.{last}.{index}@import.example".lower()
        rows.append(
            [
                f"{first} {last}",
                email,
                f"+49 40 {3000000 + index}",
                f"{index % 200 + 1} {WORD[index % len(WORD)]} Street",
                "Hamburg",
                f"{20000 + index % 900}",
                "Germany",
                "Buyer",
                f"{WORD[index % len(WORD)]} {TRADE[index % len(TRADE)]}",
            ]
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
