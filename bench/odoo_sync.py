"""First sync of a realistic 10,000-message mailbox into Odoo, beside Odoo's own fetchmail.

    ~/odoo18/venv/bin/python bench/odoo_sync.py [--count 10000] [--fetchmail-count 1000] \\
        [--runs 3] [--seed 1] [--keep-db] [--easy | --text-heavy] [--index-after]

Each run starts from nothing, so runs compare: a new database copied from the host's ``crm18``
(``mcs_bench_<time>_<pid>_r<run>``) gets mail_crm_sync installed by ``odoo-bin -i``; then, in this
process, 5,000 contacts in 625 companies and 1,000 open opportunities (600 on a contact, 250 with
a contact's address but no contact, 150 of prospects the CRM knows only by their address) are
created, and a private Dovecot is filled with bench/realistic_mail.py: the salesman's mailbox
(``--count`` messages in INBOX and Sent, threads with quoted replies, HTML, PDFs) and a second
mailbox for fetchmail (``--fetchmail-count`` received messages from the same correspondents).
Dovecot indexes both before anything is timed, as a live server has them indexed.

Timed, and printed:

1. our first sync, exactly as the scheduled action runs it: ``account._sync_accounts()`` until it
   stops answering "pending"; messages/second, links made (by reason), the peak growth of this
   process's resident memory during the sync, and the idle poll afterwards beside the server's own
   time for it (median of 21). Where the machine's CPU went during the sync
   (bench/odoo_host.CpuShares): this process (the storing thread apart; the rest is mostly the
   thread that reads and parses), its PostgreSQL backend, Dovecot, the search-index job and its
   backend: what a first sync shares its cores with. The search-index job runs beside the sync as
   Odoo runs it, in a cron worker of its own (bench/cron_worker.py, woken by the sync's triggers:
   a run's end, or 30 s after a stored batch, mail_sync_message.SEARCH_INDEX_WAIT):
   printed, how many emails still waited for their search document when the sync ended, a search
   run then, and how long after the sync the last document was built (search trailed the sync by
   that much). With ``--index-after`` the worker waits for the sync to end: the sync alone is
   timed, and the job's whole work is the time search trailed it;
2. Odoo's own fetchmail (``fetchmail.server``, IMAP, "Create a New Record" = Lead/Opportunity, as
   users set it up) draining its mailbox the way its scheduled action does: ``fetch_mail()`` until
   no unseen message is left; messages/second and what it created;
3. the ratio of the two speeds.

With ``--runs N`` all of it is repeated N times, each in a fresh database, and the spread (min-max)
is printed. The databases are dropped at the end unless ``--keep-db``. ``--easy`` fills our mailbox
with bench/mailgen.py (the engine benchmark's mix, INBOX only, ten correspondents) instead;
``--text-heavy`` with the mail of people who write more and quote less (realistic_mail.TEXT_HEAVY:
INBOX only, text parts evenly over 1-20 KB of real sentences, a tenth of replies quoting), and
fetchmail's mailbox with the same kind of mail.
Odoo's log goes to /tmp/mcs_bench_<time>.log. Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from imapclient import IMAPClient  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

from bench.mailgen import PEOPLE, fill_mailbox  # noqa: E402
from bench.odoo_host import (  # noqa: E402
    CpuShares,
    PeakRss,
    configure,
    create_database,
    database_name,
    drop_database,
    environment,
    say,
)
from bench.realistic_mail import (  # noqa: E402
    CONVERSATIONS,
    TEXT_HEAVY,
    Population,
    RealisticMailbox,
    make_population,
)
from mail_crm_sync_engine.testing import DovecotServer, MailUser  # noqa: E402

CONTACTS = 5000
SEARCH_JOB = "mail_crm_sync.ir_cron_mail_index_search"
SEARCHED = "invoice"  # a word the benchmarks' mail holds in every language's subjects or text
LEADS_ON_CONTACT, LEADS_BY_CONTACT_EMAIL, LEADS_OF_PROSPECTS = 600, 250, 150
POLLS = 21


@dataclass
class RunFigures:
    """What one run measured; printed as it goes, kept for the summary of all runs."""

    database: str
    ours_rate: float = 0.0
    fetchmail_rate: float = 0.0
    search_lag: float = 0.0
    peak_rss: int = 0

    @property
    def ratio(self) -> float:
        return self.ours_rate / self.fetchmail_rate if self.fetchmail_rate else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages in our mailbox")
    parser.add_argument("--fetchmail-count", type=int, default=1000, help="messages in fetchmail's mailbox")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark databases")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--easy", action="store_true", help="our mailbox from bench/mailgen.py")
    kind.add_argument("--text-heavy", action="store_true", help="1-20 KB of text per email, few quotes")
    parser.add_argument(
        "--index-after", action="store_true", help="the search-index job waits for the sync to end"
    )
    args = parser.parse_args()
    log_path = Path(f"/tmp/{database_name('mcs_bench')}.log")
    configure(log_path)
    say(f"Odoo's log: {log_path}")
    runs = []
    for number in range(1, args.runs + 1):
        say(f"\n== run {number} of {args.runs}")
        runs.append(one_run(args, number, log_path))
    print_summary(runs)
    return 0


def one_run(args: argparse.Namespace, number: int, log_path: Path) -> RunFigures:
    """Everything from a fresh database to both speeds; the database is dropped unless kept."""
    figures = RunFigures(database_name("mcs_bench") + f"_r{number}")
    seconds = create_database(figures.database, log_path)
    say(f"database {figures.database}: mail_crm_sync installed in {seconds:.0f} s")
    try:
        registry = Registry(figures.database)
        population = make_population(CONTACTS, seed=args.seed)
        create_crm_records(registry, population, args.seed, easy=args.easy)
        with DovecotServer() as server:
            ours, theirs = server.add_user(), server.add_user()
            fill_ours(server, ours, population, args)
            fill_fetchmail(server, theirs, population, args)
            figures.ours_rate, figures.search_lag, figures.peak_rss = bench_first_sync(
                registry, server, ours, index_after=args.index_after
            )
            figures.fetchmail_rate = bench_fetchmail(registry, server, theirs)
        say(f"ratio ours/fetchmail: {figures.ratio:.1f}")
    finally:
        if not args.keep_db:
            drop_database(figures.database)
    return figures


def create_crm_records(registry: Registry, population: Population, seed: int, *, easy: bool) -> None:
    """The CRM the mail meets: companies, their people, and open opportunities."""
    started = time.perf_counter()
    with environment(registry, {"tracking_disable": True, "mail_create_nolog": True}) as env:
        partner = env["res.partner"]
        companies = partner.create([{"name": c.name, "is_company": True} for c in population.companies])
        company_ids = dict(zip((c.domain for c in population.companies), companies.ids, strict=True))
        people = [person.partner_values(company_ids) for person in population.contacts]
        if easy:  # bench/mailgen.py's correspondents
            people += [{"name": name, "email": email} for name, email in PEOPLE]
        contacts = partner.create(people)
        leads = _opportunities(env, population, contacts, seed)
    say(
        f"CRM: {len(companies)} companies, {len(contacts)} contacts, {len(leads)} open opportunities "
        f"({LEADS_ON_CONTACT} on a contact, {LEADS_BY_CONTACT_EMAIL} with a contact's address only, "
        f"{LEADS_OF_PROSPECTS} of prospects) in {time.perf_counter() - started:.0f} s"
    )


def _opportunities(env, population: Population, contacts, seed: int):
    """Open opportunities: on a contact (partner_id), or found by their email_from alone."""
    chosen = random.Random(f"leads/{seed}").sample(range(len(population.contacts)), 850)
    values = [
        {"name": f"Opportunity {index}", "type": "opportunity", "partner_id": contacts[index].id}
        for index in chosen[:LEADS_ON_CONTACT]
    ]
    values += [
        {
            "name": f"Opportunity {index}",
            "type": "opportunity",
            "email_from": population.contacts[index].email,
            "contact_name": population.contacts[index].name,
        }
        for index in chosen[LEADS_ON_CONTACT:]
    ]
    values += [
        {"name": f"Prospect {p.name}", "type": "opportunity", "email_from": p.email, "contact_name": p.name}
        for p in population.prospects[:LEADS_OF_PROSPECTS]
    ]
    return env["crm.lead"].create(values)


def fill_ours(
    server: DovecotServer, user: MailUser, population: Population, args: argparse.Namespace
) -> None:
    """The salesman's mailbox (INBOX and Sent; INBOX only with ``--easy`` or ``--text-heavy``),
    then indexed."""
    started = time.perf_counter()
    if args.easy:
        written = fill_mailbox(server, user, args.count, seed=args.seed)
        say(f"our mailbox (bench/mailgen.py): {args.count} messages, {written / 1e6:.0f} MB")
    else:
        box = RealisticMailbox(args.count, args.seed, population=population, **_kind(args))
        figures = box.fill(server, user)
        say(f"our mailbox: {figures.summary()}")
    _index(server, user, started)


def fill_fetchmail(
    server: DovecotServer, user: MailUser, population: Population, args: argparse.Namespace
) -> None:
    """Fetchmail's mailbox: received mail only (it reads INBOX), from the same correspondents."""
    started = time.perf_counter()
    kind = {**_kind(args), "folders": ("INBOX",)}
    box = RealisticMailbox(args.fetchmail_count, args.seed + 1000, population=population, **kind)
    say(f"fetchmail's mailbox: {box.fill(server, user).summary()}")
    _index(server, user, started)


def _kind(args: argparse.Namespace) -> dict:
    """RealisticMailbox's options for the mail asked for."""
    if getattr(args, "text_heavy", False):
        return {"style": TEXT_HEAVY, "folders": ("INBOX",)}
    return {"style": CONVERSATIONS}


def _index(server: DovecotServer, user: MailUser, started: float) -> None:
    written = time.perf_counter() - started
    started = time.perf_counter()
    index_folders(server, user)
    say(f"  written in {written:.0f} s, indexed by Dovecot in {time.perf_counter() - started:.0f} s")


def index_folders(server: DovecotServer, user: MailUser) -> None:
    """Open every folder and read flags and sizes, so that Dovecot builds its indexes now."""
    with _imap(server, user) as client:
        for _flags, _delimiter, name in client.list_folders():
            client.select_folder(name, readonly=True)
            uids = client.search("ALL")
            for start in range(0, len(uids), 5000):
                client.fetch(uids[start : start + 5000], ["FLAGS", "RFC822.SIZE"])


def _imap(server: DovecotServer, user: MailUser) -> IMAPClient:
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user.login, user.password)
    return client


def bench_first_sync(
    registry: Registry,
    server: DovecotServer,
    user: MailUser,
    *,
    index_worker: bool = True,
    index_after: bool = False,
) -> tuple[float, float, int]:
    """Connect an account and time its first sync as the scheduled action runs it, with the
    search-index job in a cron worker beside it (bench/cron_worker.py, a process of its own, as
    Odoo runs its scheduled actions; held until the sync ends with ``index_after``) unless
    ``index_worker`` is false; messages/second, the seconds search trailed the sync by, and the
    peak RSS growth."""
    with environment(registry) as env:
        account = env["mail.sync.account"].create(
            {
                "name": "Benchmark",
                "email": "me@example.test",
                "username": user.login,
                "user_id": env.ref("base.user_admin").id,
                "imap_host": server.host,
                "imap_port": server.port,
                "imap_security": "none",
                "password": user.password,
                "sync_window": "1_month",
            }
        )
        account.action_test_connection()
        account_id = account.id
    worker = _start_cron_worker(registry.db_name, held=index_after) if index_worker else None
    lag = 0.0
    try:
        with environment(registry) as env:
            account = env["mail.sync.account"].browse(account_id)
            runs = 0
            job = {"the search-index job": worker.pid} if worker else {}
            with PeakRss() as memory, CpuShares(registry, job) as cpu:
                started = time.perf_counter()
                while True:
                    runs += 1
                    if account._sync_accounts()[account.id] != "pending":
                        break
                elapsed = time.perf_counter() - started
            if worker and index_after:
                worker.stdin.write("go\n")
                worker.stdin.flush()
            env.cr.rollback()  # a fresh snapshot: the sync committed on cursors of its own
            env.invalidate_all()
            if account.state != "active":
                raise SystemExit(f"sync failed: {account.last_error}")
            stored = account.message_count
            say(f"ours, first sync: {stored} messages in {elapsed:.1f} s ({runs} scheduled-action runs)")
            say(f"  speed: {stored / elapsed:.0f} messages/second")
            say(f"  CPU during the sync: {cpu.summary()}")
            if worker:
                lag = _print_search_lag(registry, started, elapsed, stored)
            _print_links(env, account)
            say(
                f"  memory: peak RSS growth {memory.growth / 2**20:.0f} MiB during the sync "
                f"({memory.before / 2**20:.0f} MiB before, {memory.peak / 2**20:.0f} MiB at the peak)"
            )
            _print_idle_poll(account, server, user)
    finally:
        if worker:
            worker.terminate()
            worker.wait()
    return stored / elapsed, lag, memory.growth


def _start_cron_worker(database: str, *, held: bool) -> subprocess.Popen:
    """bench/cron_worker.py running the search-index job, once it listens for triggers (and,
    ``held``, waits for a line on its standard input before running anything)."""
    command = [sys.executable, str(REPO / "bench/cron_worker.py"), database, SEARCH_JOB]
    worker = subprocess.Popen(
        [*command, "--held"] if held else command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if worker.stdout.readline().strip() != "ready":
        worker.wait()
        raise SystemExit(f"the cron worker did not start (exit {worker.returncode})")
    return worker


def _print_search_lag(registry: Registry, started: float, elapsed: float, stored: int) -> float:
    """How many emails still waited for their search document when the sync ended, a search run
    then, and the seconds until the last one had its document; those seconds."""
    sync_end = started + elapsed
    pending = _pending_documents(registry)
    with environment(registry) as env:
        before = time.perf_counter()
        found = env["mail.sync.message"].search_count([("search_text", "ilike", SEARCHED)])
        searched = (time.perf_counter() - before) * 1000
    left = pending
    while left:
        if time.perf_counter() - sync_end > 1800:
            raise SystemExit(f"{left} emails still wait for their search document after 30 min")
        time.sleep(0.05)
        left = _pending_documents(registry)
    lag = time.perf_counter() - sync_end if pending else 0.0
    say(
        f"  search: {pending} of {stored} emails waited for their search document when the sync ended; "
        f"the search-index job (a cron worker) built the last one {lag:.1f} s later "
        f"(sync and search documents together: {stored / (elapsed + lag):.0f} messages/second)"
    )
    say(
        f"  a search as the sync ended ({SEARCHED!r}, administrator): {searched:.0f} ms, {found} emails found"
    )
    return lag


def _pending_documents(registry: Registry) -> int:
    with environment(registry) as env:
        env.cr.execute("SELECT count(*) FROM mail_sync_message_search_pending")
        return env.cr.fetchone()[0]


def _print_idle_poll(account, server: DovecotServer, user: MailUser) -> None:
    """The scheduled action's poll of the synced account with nothing new, beside what the server
    itself takes for the same conversation (connect, log in, STATUS of each synced folder, log out)
    measured the same way, alternately; the difference is ours."""
    folders = account.folder_ids.filtered("active").mapped("name")
    ours, servers = [], []
    for _ in range(POLLS):
        started = time.perf_counter()
        account._sync_accounts()
        ours.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with _imap(server, user) as client:
            for folder in folders:
                client.folder_status(folder, ["UIDNEXT", "UIDVALIDITY", "MESSAGES", "HIGHESTMODSEQ"])
        servers.append((time.perf_counter() - started) * 1000)
    ours_ms, server_ms = statistics.median(ours), statistics.median(servers)
    say(
        f"  idle poll afterwards: {ours_ms:.1f} ms for {len(folders)} folders (median of {POLLS}, "
        f"max {max(ours):.1f}); the server's own login and STATUS: {server_ms:.1f} ms; ours: "
        f"{(ours_ms - server_ms) / len(folders):.1f} ms per folder"
    )


def _print_links(env, account) -> None:
    env.cr.execute(
        """SELECT k.reason, COUNT(*)
             FROM mail_sync_message_link k
             JOIN mail_sync_account_message_rel r ON r.message_id = k.email_id
            WHERE r.account_id = %s AND k.active
         GROUP BY k.reason ORDER BY k.reason""",
        [account.id],
    )
    reasons = env.cr.fetchall()
    stored, assigned = account.message_count, account.assigned_count
    say(
        f"  links: {sum(count for _, count in reasons)} "
        f"({', '.join(f'{reason} {count}' for reason, count in reasons)}); "
        f"assigned emails: {assigned} of {stored} ({assigned / max(1, stored):.0%})"
    )


def bench_fetchmail(registry: Registry, server: DovecotServer, user: MailUser) -> float:
    """Odoo's incoming mail server creating opportunities, drained as its cron drains it; msg/s."""
    with environment(registry) as env:
        fetchmail = env["fetchmail.server"].create(
            {
                "name": "Benchmark fetchmail",
                "server_type": "imap",
                "server": server.host,
                "port": server.port,
                "is_ssl": False,
                "user": user.login,
                "password": user.password,
                "object_id": env["ir.model"]._get_id("crm.lead"),
            }
        )
        fetchmail.button_confirm_login()
        server_id = fetchmail.id
        before = _fetchmail_counts(env)
    unseen = _unseen(server, user)
    with environment(registry) as env:
        fetchmail = env["fetchmail.server"].browse(server_id)
        calls = 0
        started = time.perf_counter()
        while unseen:
            calls += 1
            fetchmail.fetch_mail(raise_exception=False)  # commits after each message, as in its cron
            left = _unseen(server, user)
            if left == unseen:
                break  # nothing moved: say so below rather than loop
            unseen = left
        elapsed = time.perf_counter() - started
    with environment(registry) as env:
        after = _fetchmail_counts(env)
    leads, messages, attachments = (now - then for now, then in zip(after, before, strict=True))
    total = _total(server, user)
    done = total - unseen
    say(f"fetchmail: {done} of {total} messages in {elapsed:.1f} s ({calls} fetch_mail calls)")
    say(f"  speed: {done / elapsed:.1f} messages/second")
    say(f"  created: {leads} opportunities, {messages} chatter messages, {attachments} attachments stored")
    return done / elapsed


def _fetchmail_counts(env) -> tuple[int, int, int]:
    env.cr.execute(
        """SELECT (SELECT COUNT(*) FROM crm_lead),
                  (SELECT COUNT(*) FROM mail_message WHERE model = 'crm.lead' AND message_type = 'email'),
                  (SELECT COUNT(*) FROM ir_attachment WHERE res_model = 'crm.lead')"""
    )
    return env.cr.fetchone()


def _unseen(server: DovecotServer, user: MailUser) -> int:
    with _imap(server, user) as client:
        client.select_folder("INBOX", readonly=True)
        return len(client.search("UNSEEN"))


def _total(server: DovecotServer, user: MailUser) -> int:
    with _imap(server, user) as client:
        return client.select_folder("INBOX", readonly=True)[b"EXISTS"]


def print_summary(runs: list[RunFigures]) -> None:
    say("\n== summary")
    for number, run in enumerate(runs, start=1):
        say(
            f"run {number}: ours {run.ours_rate:.0f} msg/s, fetchmail {run.fetchmail_rate:.1f} msg/s, "
            f"ratio {run.ratio:.1f}; search trailed the sync by {run.search_lag:.1f} s; "
            f"peak RSS +{run.peak_rss / 2**20:.0f} MiB"
        )
    if len(runs) > 1:
        for label, values, digits in (
            ("ours msg/s", [run.ours_rate for run in runs], 0),
            ("fetchmail msg/s", [run.fetchmail_rate for run in runs], 1),
            ("ratio", [run.ratio for run in runs], 1),
        ):
            say(
                f"{label}: median {statistics.median(values):.{digits}f}, "
                f"spread {min(values):.{digits}f}-{max(values):.{digits}f}"
            )


if __name__ == "__main__":
    sys.exit(main())
