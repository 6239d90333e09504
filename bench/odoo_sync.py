"""First sync of a 10,000-message mailbox into Odoo, linking against 5,000 contacts and 1,000 leads.

Run it in an Odoo shell against a scratch database that has mail_crm_sync installed:

    createdb -T crm18 bench && ~/odoo18/odoo --addons-path=...,/path/to/repo -d bench -i mail_crm_sync \\
        --stop-after-init
    ~/odoo18/odoo shell --addons-path=...,/path/to/repo -d bench --no-http < bench/odoo_sync.py

MCS_BENCH_COUNT (default 10000) changes the mailbox size. The script starts a private Dovecot,
fills one mailbox with bench/mailgen.py (the engine benchmark's generator), creates the contacts
and leads, connects an account, then times the sync exactly as the scheduled action runs it
(claim, one transaction per 200-message batch, set-based linking) and prints messages/second,
links made and the peak resident memory of the process during the sync. Everything it creates
stays in the database for inspection; use a scratch database.
"""

import os
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd()
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.mailgen import PEOPLE, fill_mailbox  # noqa: E402
from mail_crm_sync_engine.testing import DovecotServer  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


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


def make_contacts(env, partners: int, leads: int, tag: str):
    """``partners`` contacts (the generator's correspondents among them, some with a company) and
    ``leads`` leads and opportunities on them, a fifth of them lost."""
    Partner = env["res.partner"]
    companies = Partner.create(
        [{"name": f"Bench Co {i} {tag}", "is_company": True} for i in range(partners // 10)]
    )
    values = [
        {"name": name, "email": email, "parent_id": companies[i % len(companies)].id}
        for i, (name, email) in enumerate(PEOPLE)
    ]
    values += [
        {
            "name": f"Contact {i} {tag}",
            "email": f"contact{i}.{tag}@bench.example",
            "parent_id": companies[i % len(companies)].id if i % 3 else False,
        }
        for i in range(partners - len(companies) - len(values))
    ]
    people = Partner.create(values)
    lead_values = [
        {
            "name": f"Deal {i} {tag}",
            "type": "opportunity" if i % 2 else "lead",
            "partner_id": people[i % len(people)].id,
            "email_from": people[i % len(people)].email,
        }
        for i in range(leads)
    ]
    created = env["crm.lead"].create(lead_values)
    created.filtered(lambda lead: lead.id % 5 == 0).action_set_lost()
    return companies | people, created


def run(env, count: int):
    tag = hex(int(time.time()))[2:]
    print(f"Mailbox of {count} messages, 5,000 contacts, 1,000 leads (tag {tag})", flush=True)
    server = DovecotServer().start()
    try:
        box = server.add_user()
        started = time.perf_counter()
        written = fill_mailbox(server, box, count, seed=1)
        print(
            f"  mailbox filled: {written / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s", flush=True
        )

        started = time.perf_counter()
        partners, leads = make_contacts(env, 5000, 1000, tag)
        env.cr.commit()
        print(
            f"  {len(partners)} contacts, {len(leads)} leads in {time.perf_counter() - started:.1f} s",
            flush=True,
        )

        account = env["mail.sync.account"].create(
            {
                "name": f"Bench {tag}",
                "email": "me@example.test",
                "username": box.login,
                "user_id": env.uid,
                "imap_host": server.host,
                "imap_port": server.port,
                "imap_security": "none",
                "password": box.password,
                "sync_window": "1_month",
            }
        )
        account.action_test_connection()
        env.cr.commit()

        runs = 0
        with PeakRss() as memory:
            started = time.perf_counter()
            while True:
                runs += 1
                if account._sync_accounts()[account.id] != "pending":
                    break
            elapsed = time.perf_counter() - started
        env.cr.rollback()  # a fresh snapshot: the sync committed on cursors of its own
        env.invalidate_all()
        if account.state != "active":
            raise SystemExit(f"sync failed: {account.last_error}")
        stored = account.message_count
        env.cr.execute(
            """SELECT COUNT(*) FILTER (WHERE k.partner_id IS NOT NULL),
                      COUNT(*) FILTER (WHERE k.lead_id IS NOT NULL)
                 FROM mail_sync_message_link k
                 JOIN mail_sync_account_message_rel r ON r.message_id = k.message_id
                WHERE r.account_id = %s""",
            [account.id],
        )
        partner_links, lead_links = env.cr.fetchone()
        print(f"  first sync: {stored} messages in {elapsed:.1f} s ({runs} cron-sized runs)")
        print(
            f"  links: {partner_links} to contacts and companies, {lead_links} to leads; "
            f"assigned: {account.assigned_count}"
        )
        print(f"  speed: {stored / elapsed:.0f} messages/second")
        print(
            f"  memory: peak RSS {memory.peak / 2**20:.0f} MiB during the sync "
            f"(+{(memory.peak - memory.before) / 2**20:.0f} MiB over the "
            f"{memory.before / 2**20:.0f} MiB before it)"
        )
        started = time.perf_counter()
        account._sync_accounts()
        print(f"  next run with nothing new: {(time.perf_counter() - started) * 1000:.0f} ms")
        return stored / elapsed
    finally:
        server.stop()


if "env" in globals():  # inside `odoo shell`
    run(env, int(os.environ.get("MCS_BENCH_COUNT", "10000")))  # noqa: F821 - the shell's environment
