"""What the opt-in "domain" link rule costs a batch: the contacts stage with it and without it.

    ~/odoo18/venv/bin/python bench/domain_link.py [--companies 5000] [--contacts 50000] \\
        [--messages 20000] [--batch 500] [--runs 5] [--keep-db]

Set-up: a copy of the host's ``crm18`` with mail_crm_sync installed gets, by SQL, ``--companies``
companies (half with a website, half known only by their contacts; one in five of those has
contacts at two domains) and ``--contacts`` people spread over them, then ``--messages`` emails
(bench/relink.py's rows): 40% from an unknown colleague at a company's domain, 20% from a
contact, 20% from a gmail.com stranger, 20% from a stranger at a domain no company has. Tables are
analyzed. Then, for the first ``--batch`` emails, ``mail.sync.message.link._link_emails`` is timed
``--runs`` times with the setting off and on (each run in a savepoint rolled back; median printed),
and the contacts stage's plan is printed (EXPLAIN ANALYZE, BUFFERS). Figures only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import odoo  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

from bench.odoo_host import (  # noqa: E402
    configure,
    create_database,
    database_name,
    drop_database,
    environment,
    explain,
    say,
    without_id_lists,
)
from bench.relink import _insert_emails  # noqa: E402

OWNER = "owner@our-company.example"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    name = database_name("mcs_domain_link")
    log_path = Path(f"/tmp/{name}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    try:
        seconds = create_database(name, log_path)
        say(f"database {name}: mail_crm_sync installed in {seconds:.0f} s")
        registry = Registry(name)
        with environment(registry) as env:
            started = time.perf_counter()
            seed(env, args)
            say(f"set-up by SQL in {time.perf_counter() - started:.1f} s")
        with environment(registry) as env:
            env.cr.execute("ANALYZE res_partner, mail_sync_message")
        measure(registry, args)
    finally:
        if args.keep_db:
            say(f"kept: {name}")
        else:
            drop_database(name)
    return 0


def seed(env: odoo.api.Environment, args: argparse.Namespace) -> None:
    cr = env.cr
    cr.execute(
        """INSERT INTO res_partner (name, complete_name, is_company, active, type, website, email,
                                    email_normalized, create_date, write_date)
           SELECT 'Company ' || i, 'Company ' || i, true, true, 'contact',
                  CASE WHEN i %% 2 = 0 THEN 'http://www.comp' || i || '.example' END,
                  'info@comp' || i || '.example', 'info@comp' || i || '.example', now(), now()
             FROM generate_series(1, %s) i""",
        [args.companies],
    )
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE commercial_partner_id IS NULL AND is_company"
    )
    cr.execute(
        """INSERT INTO res_partner (name, complete_name, is_company, active, type, parent_id,
                                    commercial_partner_id, email, email_normalized, create_date, write_date)
           SELECT 'Person ' || j, 'Person ' || j, false, true, 'contact', c.id, c.id, e.email, e.email,
                  now(), now()
             FROM generate_series(1, %(contacts)s) j
             JOIN res_partner c ON c.name = 'Company ' || (1 + j %% %(companies)s) AND c.is_company,
                  LATERAL (SELECT 'person' || j || '@' || CASE WHEN (1 + j %% %(companies)s) %% 10 = 1
                                  AND j %% 3 = 0 THEN 'other' ELSE '' END
                                  || 'comp' || (1 + j %% %(companies)s) || '.example' AS email) e""",
        {"contacts": args.contacts, "companies": args.companies},
    )
    account_id = (
        env["mail.sync.account"]
        .create(
            {
                "name": "Domain link benchmark",
                "email": OWNER,
                "user_id": env.ref("base.user_admin").id,
                "imap_host": "127.0.0.1",
                "imap_port": 993,
                "password": "unused",
            }
        )
        .id
    )
    rows = {key: [] for key in ("message_id", "subject", "date", "email_from", "email_to", "email_cc")}
    rows |= {"address_emails": [], "body_text": [], "direction": [], "size": []}
    for index in range(args.messages):
        company = 1 + index * 7 % args.companies
        sender = (
            f"new{index}@comp{company}.example",
            f"new{index}@comp{company}.example",
            f"person{company - 1 + args.companies}@comp{company}.example",
            f"someone{index}@gmail.com",
            f"x{index}@nobody{index}.example",
        )[index % 5]
        for key, value in (
            ("message_id", f"<domain.{index}@bench.example>"),
            ("subject", f"Order {index}"),
            ("date", "2026-01-01 10:00:00"),
            ("email_from", sender),
            ("email_to", OWNER),
            ("email_cc", ""),
            ("address_emails", f"{sender}\n{OWNER}"),
            ("body_text", "Hello"),
            ("direction", "incoming"),
            ("size", 1500),
        ):
            rows[key].append(value)
    _insert_emails(env, account_id, rows)


def measure(registry: Registry, args: argparse.Namespace) -> None:
    with environment(registry) as env:
        env.cr.execute("SELECT id FROM mail_sync_message ORDER BY id LIMIT %s", [args.batch])
        ids = [message_id for (message_id,) in env.cr.fetchall()]
        Param = env["ir.config_parameter"]
        Link = env["mail.sync.message.link"]
        for setting in (False, "True"):
            Param.set_param("mail_crm_sync.link_by_domain", setting)
            times, links = [], 0
            for _run in range(args.runs):
                env.cr.execute("SAVEPOINT bench")
                started = time.perf_counter()
                Link._link_emails(ids)
                times.append(time.perf_counter() - started)
                env.cr.execute("SELECT count(*) FROM mail_sync_message_link WHERE reason = 'domain'")
                links = env.cr.fetchone()[0]
                env.cr.execute("ROLLBACK TO SAVEPOINT bench")
            say(
                f"_link_emails of {len(ids)} emails, domain rule {'on' if setting else 'off'}: "
                f"median {statistics.median(times) * 1000:.0f} ms of {args.runs} runs "
                f"(min {min(times) * 1000:.0f} ms); links by domain: {links}"
            )
        plans = explain(env, lambda: Link._link_emails(ids))
        stage = next(plan for plan in plans if "Insert on mail_sync_message_link" in plan)
        say(f"\ncontacts stage, domain rule on:\n{without_id_lists(stage)}")
        Param.set_param("mail_crm_sync.link_by_domain", False)


if __name__ == "__main__":
    sys.exit(main())
