"""The Instant Inbox watcher of one database: the engine's IdleWatcher, fed with the accounts to
watch, telling the database which of them got new mail.

It runs in a process of its own, ``odoo-bin mail_sync_idle -d <db>`` (``cli/mail_sync_idle.py``),
beside Odoo's HTTP and cron workers: one thread holding IDLE on every watched INBOX, plus a few
threads that log in. It never syncs: for new mail it flags the account and triggers the scheduled
action "download new mail now", which a cron worker runs through the regular sync (accounts
claimed with advisory locks, batches committed as they go). A session advisory lock makes it the only
watcher of its database, whichever machine it runs on; a second one waits to take over.
"""

import dataclasses
import logging
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

from mail_crm_sync_engine.idle import IdleWatcher

from .mail_sync_inbox_watch import WATCHER_LOCK

_logger = logging.getLogger(__name__)

# How often the list of accounts to watch is read again (added, removed, changed settings).
RECONCILE_INTERVAL = 60.0
# How long the watcher's commands may wait for the server (EXAMINE, DONE, IDLE's continuation).
ANSWER_TIMEOUT = 60.0


class InboxWatchService:
    """``run(stop)`` until ``stop`` is set; everything that touches the database is in that thread,
    except the account settings, which the watcher's login threads read on cursors of their own."""

    def __init__(self, registry, *, reconcile_interval=RECONCILE_INTERVAL, watcher_options=None):
        self.registry = registry
        self.reconcile_interval = reconcile_interval
        self.watcher_options = watcher_options or {}

    def run(self, stop: threading.Event):
        lock_cr = self.registry.cursor()
        try:
            while not self._lock(lock_cr):
                _logger.info(
                    "Another Instant Inbox watcher runs for %s; waiting to take over", self.registry.db_name
                )
                if stop.wait(self.reconcile_interval):
                    return
            _logger.info("Instant Inbox watcher started for %s", self.registry.db_name)
            watcher = IdleWatcher(**self.watcher_options)
            try:
                self._loop(watcher, stop)
            finally:
                watcher.close()
                lock_cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", *WATCHER_LOCK))
                lock_cr.commit()
                _logger.info("Instant Inbox watcher stopped for %s", self.registry.db_name)
        finally:
            lock_cr.close()

    def _lock(self, lock_cr):
        # A session lock: it lasts after this transaction, while the cursor's connection lives.
        lock_cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", *WATCHER_LOCK))
        locked = lock_cr.fetchone()[0]
        lock_cr.commit()
        return locked

    def _loop(self, watcher, stop):
        next_reconcile = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_reconcile:
                    self._reconcile(watcher)
                    next_reconcile = time.monotonic() + self.reconcile_interval
                arrived = watcher.poll(1.0)
                changes = watcher.changes()
                if arrived or changes:
                    self._report(arrived, changes)
            except Exception:
                # The database restarting, say: the IDLE connections live on; try again shortly.
                _logger.exception("Instant Inbox watcher of %s failed; going on", self.registry.db_name)
                stop.wait(5.0)

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _reconcile(self, watcher):
        # What other processes changed (the setting, an upgrade of the addon), as cron workers do.
        self.registry = self.registry.check_signaling()
        with self.registry.cursor() as cr:
            wanted = self._env(cr)["mail.sync.inbox.watch"]._accounts_to_watch()
        for account_id in watcher.watched() - set(wanted):
            watcher.unwatch(account_id)
        for account_id, version in wanted.items():
            watcher.watch(account_id, self._settings_reader(account_id), version)

    def _settings_reader(self, account_id):
        def settings():
            # In a login thread, on its own cursor; may refresh and save an OAuth token.
            with self.registry.cursor() as cr:
                account = self._env(cr)["mail.sync.account"].browse(account_id)
                return dataclasses.replace(account._connection_settings(), read_timeout=ANSWER_TIMEOUT)

        return settings

    def _report(self, arrived, changes):
        with self.registry.cursor() as cr:
            Watch = self._env(cr)["mail.sync.inbox.watch"]
            if changes:
                Watch._record_states(changes)
            if arrived:
                _logger.info("New mail in the INBOX of mail accounts %s", sorted(arrived))
                Watch._mark_new_mail(arrived)
