"""The engine reading a mailbox in a thread of its own, for the thread that owns the database cursor.

The engine has no Odoo in it, so it is the part that can run in another thread: it reads and parses
the next batch while the cursor's thread stores the current one. Everything the engine needs from
the database (a folder's stored UIDs, the first day of the window) is asked of the cursor's thread
through the same queue, so no ORM call ever runs outside it.

A run has a deadline (``run_deadline`` seconds): the engine drops the connection when it comes,
the reader thread ends with RunDeadlineReached, and the cursor's thread gets it as any error.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from mail_crm_sync_engine import (
    ConnectionSettings,
    FolderError,
    FolderRole,
    FolderState,
    RunDeadlineReached,
    UidValidityChanged,
    connect,
    fetch_uids,
    sync_folder,
)

_logger = logging.getLogger(__name__)

# How long past the run's deadline the cursor's thread still waits for the reader before it gives
# it up (the engine's deadline ends the reader at once, but not while it is still logging in).
DEADLINE_GRACE_SECONDS = 5


@dataclass(frozen=True)
class FolderToRead:
    """A folder as the sync reads it; ``record`` goes back with its batches, untouched.

    ``retry_uids``: messages of the folder listed as failed at an earlier run that are worth
    asking for again (the engine's ``LISTED_NOT_SENT``); they are read first, as batches with
    ``incremental=False``, each stored message in ``batch.messages``, each failure again in
    ``batch.failed``.
    """

    record: Any
    name: str
    role: FolderRole
    state: FolderState | None
    retry_uids: tuple[int, ...] = ()


class _Stopped(Exception):
    """Told to the reader thread when the cursor's thread no longer listens."""


class MailboxReader:
    """Iterate over what the engine reads: ("batch", folder, Batch) and ("folder_error", folder,
    FolderError) items, in order; a MailSyncError that ends the connection is raised.

    ``window_start`` and ``known_uids(folder)`` are called in the iterating thread when the engine
    needs them. ``stop()`` (or leaving a ``with`` block) ends the reading where it is.
    ``run_deadline``: seconds the whole reading may take (None: no limit); past it the connection
    is dropped and RunDeadlineReached raised, so a slow server frees the account and the thread.
    """

    def __init__(  # noqa: PLR0913 - the run's settings, each a keyword the callers name
        self,
        settings: ConnectionSettings,
        folders,
        window_start,
        known_uids,
        limit=None,
        run_deadline=None,
        **options,
    ):
        self._settings = settings
        self._run_deadline = run_deadline
        self._give_up_at = None  # the deadline and its grace, on the monotonic clock, once started
        self._limit = limit  # batches to read; then ``truncated`` says whether the mailbox had more
        self.truncated = False
        self._folders = list(folders)
        self._window_start = window_start
        self._known_uids = known_uids
        self._options = options
        self._items: queue.Queue = queue.Queue(maxsize=1)  # one batch ahead: memory stays flat
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._read, name="mail-sync-reader", daemon=True)

    def __enter__(self):
        if self._run_deadline is not None:
            self._give_up_at = time.monotonic() + self._run_deadline + DEADLINE_GRACE_SECONDS
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def __iter__(self):
        while True:
            item = self._next_item()
            kind = item[0]
            if kind == "ask":
                self._answer(*item[1:])
            elif kind == "error":
                self._thread.join()
                raise item[1]
            elif kind == "end":
                self._thread.join()
                return
            else:
                yield item

    def stop(self):
        """End the reading: the thread closes the connection and ends; nothing more is read."""
        if not self._thread.is_alive():
            return
        self._stopped.set()
        while self._thread.is_alive():
            if self._past_deadline():
                _logger.warning("Mailbox reader still busy past the run's deadline: left to end alone")
                return
            try:
                item = self._items.get(timeout=0.1)
            except queue.Empty:
                continue
            if item[0] == "ask":
                item[2].put((None, _Stopped()))
        self._thread.join()

    def _past_deadline(self):
        return self._give_up_at is not None and time.monotonic() >= self._give_up_at

    def _next_item(self):
        """The reader's next item. Past the deadline and its grace, the reader is given up (the
        engine's deadline ends it once logged in; a server trickling the login could hold it)."""
        timeout = None if self._give_up_at is None else max(self._give_up_at - time.monotonic(), 0)
        try:
            return self._items.get(timeout=timeout)
        except queue.Empty:
            self._stopped.set()
            raise RunDeadlineReached.after(self._run_deadline) from None

    @staticmethod
    def _answer(question, reply):
        try:
            reply.put((question(), None))
        except Exception as error:  # handed back to the engine, which raises it in its thread
            reply.put((None, error))

    def _ask(self, question):
        """Run ``question`` in the cursor's thread and wait for its answer."""
        reply: queue.Queue = queue.Queue(maxsize=1)
        self._put(("ask", question, reply))
        answer, error = reply.get()
        if error is not None:
            raise error
        return answer

    def _batches(self, mailbox, folder):
        """The engine's batches for one folder, read in the reader's thread: its ``retry_uids``
        asked for again, then what is new since its saved state. A reader of other batches
        (backfill) overrides this alone."""
        retry = sorted(uid for uid in folder.retry_uids if folder.state and uid <= folder.state.last_uid)
        if retry:
            try:
                yield from fetch_uids(
                    mailbox,
                    folder.name,
                    folder.state.uidvalidity,
                    retry,
                    folder_role=folder.role,
                    **self._options,
                )
            except UidValidityChanged:
                _logger.info("Folder %s was renumbered: its failed messages are read with it", folder.name)
        yield from sync_folder(
            mailbox,
            folder.name,
            folder.state,
            lambda: self._ask(self._window_start),
            known_uids=lambda: self._ask(lambda: self._known_uids(folder)),
            folder_role=folder.role,
            **self._options,
        )

    def _put(self, item):
        if self._stopped.is_set():
            raise _Stopped
        self._items.put(item)

    def _read(self):
        read = 0
        try:
            with connect(self._settings, run_deadline=self._run_deadline) as mailbox:
                for folder in self._folders:
                    try:
                        for batch in self._batches(mailbox, folder):
                            self._put(("batch", folder, batch))
                            read += 1
                            if read == self._limit:  # stop before the engine reads one more
                                self.truncated = True
                                break
                    except FolderError as error:
                        self._put(("folder_error", folder, error))
                    if self.truncated:
                        break
        except _Stopped:
            _logger.debug("Reading stopped by the sync")
        except Exception as error:  # raised in the cursor's thread by __iter__
            if not self._stopped.is_set():
                self._items.put(("error", error))
                return
            _logger.debug("Reading stopped with %s", error)
        if not self._stopped.is_set():
            self._items.put(("end",))
