"""A salesman's "Download New Messages" on a folder of hundreds of thousands of messages (issue 24).

    ~/odoo18/venv/bin/python bench/big_folder_odoo.py [--count 300000] [--presses 3]

Fills one INBOX of a private Dovecot with ``--count`` tiny messages (``DovecotServer.fill``), starts
a production-mode Odoo (a real ``odoo-bin --workers=2`` on a fresh copy of the host's crm18 with the
addon: mail_crm_sync/tests/production.py), connects the mailbox as a salesman over JSON-RPC as the
web client does, and presses Download New Messages ``--presses`` times. Prints, for each press, what
the notice said, the emails the database holds then (counted on a connection of its own), the
seconds, and the account's state; then the folder's error, if any. Each press stores at most
BATCHES_PER_RUN batches of BATCH_SIZE: the notice must say exactly what that press added.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
HOST = Path.home() / "odoo18"

import odoo  # noqa: E402 - the host's Python: run this with ~/odoo18/venv/bin/python

from mail_crm_sync_engine.testing import DovecotServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--presses", type=int, default=3)
    parser.add_argument("--odoo-host", type=Path, default=HOST)
    args = parser.parse_args()

    host = args.odoo_host.expanduser()
    addons = f"{host}/src/addons,{host}/src/odoo/addons,{REPO}"
    odoo.tools.config.parse_config([f"--addons-path={addons}"], setup_logging=False)
    # The addons path first: the addon is found through it.
    from odoo.addons.mail_crm_sync.tests.production import ProductionOdoo  # noqa: PLC0415

    with DovecotServer() as dovecot:
        box = dovecot.add_user()
        started = time.perf_counter()
        dovecot.fill(box, args.count)
        print(f"Dovecot INBOX filled with {args.count} messages in {time.perf_counter() - started:.0f} s")
        server = ProductionOdoo(held_crons=("mail_crm_sync.ir_cron_mail_sync",)).start()
        try:
            admin = server.admin()
            admin.call(
                "res.users",
                "create",
                {
                    "name": "Big Folder",
                    "login": "bigfolder",
                    "password": "bigfolder-pass",
                    "groups_id": [(6, 0, [server.ref("sales_team.group_sale_salesman")])],
                },
            )
            salesman = server.session("bigfolder", "bigfolder-pass")
            values = {
                "name": "Shared inbox kept for years",
                "email": box.email,
                "imap_host": dovecot.host,
                "imap_port": dovecot.port,
                "imap_security": "none",
                "password": box.password,
            }
            (saved,) = salesman.call("mail.sync.account", "web_save", [], values, specification={})
            account = saved["id"]
            answer = salesman.button("mail.sync.account", "action_test_connection", [account])
            print(f"Test Connection: {answer['params']['message']}")
            before = 0
            for press in range(1, args.presses + 1):
                started = time.perf_counter()
                notice = salesman.button("mail.sync.account", "action_sync_now", [account])
                seconds = time.perf_counter() - started
                (stored,) = server.sql("SELECT count(*) FROM mail_sync_message")[0]
                (state, pending, warning, error) = server.sql(
                    "SELECT state, sync_pending, sync_warning, last_error "
                    "FROM mail_sync_account WHERE id = %s",
                    [account],
                )[0]
                print(
                    f"press {press}: notice ({notice['params']['type']}) {notice['params']['message']!r}; "
                    f"the database holds {stored} emails, {stored - before} more; {seconds:.1f} s; "
                    f"account {state}, more to come: {pending}, warning: {warning or 'none'}, "
                    f"error: {error or 'none'}",
                    flush=True,
                )
                before = stored
            for name, error, last_uid in server.sql(
                "SELECT name, last_error, sync_state->>'last_uid' FROM mail_sync_folder "
                "WHERE account_id = %s AND active",
                [account],
            ):
                print(f"folder {name}: read up to UID {last_uid}, error: {error or 'none'}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
