"""The engine reading a mailbox in a thread of its own, for the thread that owns the database cursor.

The engine has no Odoo in it, so it is the part that can run in another thread: it reads and parses
the next batch while the cursor's thread stores the current one. Everything the engine needs from
the database (a folder's stored UIDs, the first day of the window) is asked of the cursor's thread
through the same queue, so no ORM call ever runs outside it.
"""

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from mail_crm_sync_engine import (
    ConnectionSettings,
    FolderError,
    FolderRole,
    FolderState,
    connect,
    sync_folder,
)

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderToRead:
    """A folder as the sync reads it; ``record`` goes back with its batches, untouched."""

    record: Any
    name: str
    role: FolderRole
    state: FolderState | None


class _Stopped(Exception):
    """Told to the reader thread when the cursor's thread no longer listens."""


class MailboxReader:
    """Iterate over what the engine reads: ("batch", folder, Batch) and ("folder_error", folder,
    FolderError) items, in order; a MailSyncError that ends the connection is raised.

    ``window_start`` and ``known_uids(folder)`` are called in the iterating thread when the engine
    needs them. ``stop()`` (or leaving a ``with`` block) ends the reading where it is.
    """

    def __init__(
        self, settings: ConnectionSettings, folders, window_start, known_uids, limit=None, **options
    ):
        self._settings = settings
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
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def __iter__(self):
        while True:
            item = self._items.get()
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
            try:
                item = self._items.get(timeout=0.1)
            except queue.Empty:
                continue
            if item[0] == "ask":
                item[2].put((None, _Stopped()))
        self._thread.join()

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
        """The engine's batches for one folder, read in the reader's thread: what is new since its
        saved state. A reader of other batches (backfill) overrides this alone."""
        return sync_folder(
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
            with connect(self._settings) as mailbox:
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
