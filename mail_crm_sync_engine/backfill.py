"""Older mail and completeness: find UIDs by date or by address, count what a folder holds, and
fetch chosen UIDs, without touching the folder's incremental state.

``sync_folder`` goes forward from a saved state; what lies below it (mail older than the first
sync's window, or one person's older mail) is found here by SEARCH and fetched by UID, newest
first, with the same records and the same failure handling. Like the sync, nothing here changes
the mailbox: folders are opened with EXAMINE and bodies fetched with BODY.PEEK.

    found = search_folder(mailbox, "INBOX", since=six_months_ago, before=first_window_start)
    for batch in fetch_uids(mailbox, "INBOX", found.uidvalidity, found.uids - stored_uids):
        store(batch.messages)  # batch.incremental is False: keep the folder's saved state

UIDs are only meaningful with their UIDVALIDITY: ``fetch_uids`` raises UidValidityChanged when
the folder's differs from the one the UIDs were taken at.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from email.utils import getaddresses

from .connection import Mailbox
from .errors import UidValidityChanged
from .folders import folder_role as guess_role
from .imap_response import as_text, imap_date, parse_internaldate
from .sync import WindowStart, _build, _FolderSync, _not_before, _pipeline
from .types import Batch, FolderRole, FolderState

_logger = logging.getLogger(__name__)

# UIDs whose INTERNALDATE is asked at once to settle a window's edges.
_DATE_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class FolderSearch:
    """The UIDs a SEARCH found in a folder, at the UIDVALIDITY they belong to."""

    folder: str
    uidvalidity: int
    uids: frozenset[int]
    uidnext: int = 0  # UIDs from here on arrived after the search
    messages: int = 0  # all messages in the folder


@dataclass(frozen=True, slots=True)
class FolderCensus:
    """What the server holds in a folder beside a window: a completeness check's figures.

    ``in_window``: the UIDs whose arrival (INTERNALDATE) is inside the window; ``outgoing``: those
    of them the engine reads as sent by the account (a Sent folder's, or from one of its own
    addresses), which a "keep received" filter leaves out.
    """

    folder: str
    uidvalidity: int
    uidnext: int
    messages: int
    in_window: frozenset[int]
    outgoing: frozenset[int]

    @property
    def outside_window(self) -> int:
        return self.messages - len(self.in_window)


def search_folder(  # noqa: PLR0913 - the public entry point: each criterion is an explicit keyword
    mailbox: Mailbox,
    folder: str,
    *,
    since: WindowStart = None,
    before: WindowStart = None,
    addresses: Collection[str] = (),
    folder_role: FolderRole | None = None,
) -> FolderSearch:
    """UIDs of ``folder`` that arrived in [since, before) (a day: from its midnight UTC; a datetime:
    that moment; None: no bound), and when ``addresses`` are given, with one of them in From, To or
    Cc (Bcc too in a Sent folder). The window's edges are exact (INTERNALDATE), not the server's
    day. Raises FolderError for this folder only."""
    role = folder_role or guess_role(folder, ())
    with mailbox.folder_errors(folder):
        selected = mailbox.select(folder, readonly=True)
    try:
        with mailbox.folder_errors(folder):
            uids = _uids_between(mailbox, since, before)
            if addresses:
                fields = ("FROM", "TO", "CC", "BCC") if role == FolderRole.SENT else ("FROM", "TO", "CC")
                uids &= _search_addresses(mailbox, addresses, fields)
    finally:
        mailbox.unselect()
    return FolderSearch(
        folder,
        selected[b"UIDVALIDITY"],
        frozenset(uids),
        selected.get(b"UIDNEXT") or 0,
        selected.get(b"EXISTS") or 0,
    )


def census_folder(
    mailbox: Mailbox,
    folder: str,
    window_start: WindowStart,
    own_addresses: Collection[str] = (),
    folder_role: FolderRole | None = None,
) -> FolderCensus:
    """The folder's messages inside the window, and which of them are sent mail, by SEARCH: the
    server's side of a completeness check. Raises FolderError for this folder only."""
    role = folder_role or guess_role(folder, ())
    own = frozenset(address.lower() for address in own_addresses)
    with mailbox.folder_errors(folder):
        selected = mailbox.select(folder, readonly=True)
    try:
        with mailbox.folder_errors(folder):
            in_window = _uids_between(mailbox, window_start, None)
            if role == FolderRole.SENT:
                outgoing = set(in_window)
            elif own and in_window:
                # SEARCH FROM matches parts of addresses: read the From of what it found.
                candidates = sorted(in_window & _search_addresses(mailbox, own, ("FROM",)))
                outgoing = _sent_by(mailbox, candidates, own)
            else:
                outgoing = set()
    finally:
        mailbox.unselect()
    return FolderCensus(
        folder,
        selected[b"UIDVALIDITY"],
        selected.get(b"UIDNEXT") or 0,
        selected.get(b"EXISTS") or 0,
        frozenset(in_window),
        frozenset(outgoing),
    )


def fetch_uids(  # noqa: PLR0913 - the public entry point: its settings are explicit keywords
    mailbox: Mailbox,
    folder: str,
    uidvalidity: int,
    uids: Collection[int],
    own_addresses: Collection[str] = (),
    folder_role: FolderRole | None = None,
    batch_size: int = 200,
    extra_headers: Collection[str] = (),
    not_before: WindowStart = None,
) -> Iterator[Batch]:
    """Batches of the messages ``uids`` of ``folder``, newest (highest UID) first, built as
    ``sync_folder`` builds them; with ``not_before``, messages that arrived before it are left out.

    Each batch has ``incremental=False`` and a state naming only ``uidvalidity``: store its
    records, keep the folder's saved state. A UID no longer on the server yields nothing; one the
    server would not hand over is in the batch's ``failed``. Raises UidValidityChanged if the
    folder's UIDVALIDITY is no longer ``uidvalidity``, FolderError for other refusals.
    """
    job = _FolderSync(
        name=folder,
        role=folder_role or guess_role(folder, ()),
        own_addresses=frozenset(address.lower() for address in own_addresses),
        window_start=None,
        known_uids=(),
        batch_size=batch_size,
        extra_headers=tuple(sorted({name.lower() for name in extra_headers})),
        server_ids=mailbox.has("X-GM-EXT-1"),
    )
    newest_first = sorted(set(uids), reverse=True)
    if not newest_first:
        return
    with mailbox.folder_errors(folder):
        selected = mailbox.select(folder, readonly=True)
    try:
        if selected[b"UIDVALIDITY"] != uidvalidity:
            raise UidValidityChanged(
                f"Folder {folder!r} was renumbered by the server (UIDVALIDITY {uidvalidity} -> "
                f"{selected[b'UIDVALIDITY']}): search again."
            )
        chunks = [
            newest_first[start : start + batch_size] for start in range(0, len(newest_first), batch_size)
        ]
        floor = _not_before(not_before) if not_before else None
        state = FolderState(uidvalidity=uidvalidity)
        for fetched in _pipeline(mailbox, folder, chunks, floor, job.head_items):
            records, failed = _build(fetched, job, uidvalidity)
            yield Batch(folder, records, state, failed=failed, incremental=False)
    finally:
        mailbox.unselect()


# -- searching ---------------------------------------------------------------------------------


def _uids_between(mailbox: Mailbox, since: WindowStart, before: WindowStart) -> set[int]:
    """UIDs of the selected folder that arrived in [since, before), to the second.

    SEARCH SINCE/BEFORE compare days in the server's time zone: what is surely inside is found by
    SEARCH, the few days at each edge are settled by their INTERNALDATE.
    """
    since = since() if callable(since) else since
    before = before() if callable(before) else before
    low = _not_before(since) if since else None
    high = _not_before(before) if before else None
    if low and high and low >= high:
        return set()
    day = datetime.timedelta(days=1)
    loose, sure = [], []
    if low:
        loose += ["SINCE", imap_date(low.date() - day)]
        sure += ["SINCE", imap_date(low.date() + 2 * day)]
    if high:
        loose += ["BEFORE", imap_date(high.date() + 2 * day)]
        sure += ["BEFORE", imap_date(high.date() - day)]
    found = set(mailbox.search_uids(*(loose or ["ALL"])))
    if not (low or high):
        return found
    inside = set(mailbox.search_uids(*sure)) & found
    edges = sorted(found - inside)
    for start in range(0, len(edges), _DATE_CHUNK):
        for uid, data in mailbox.fetch(edges[start : start + _DATE_CHUNK], ["INTERNALDATE"]).items():
            arrived = parse_internaldate(data.get(b"INTERNALDATE"))
            if arrived is None:
                inside.add(uid)  # no date to judge by: the server's SEARCH put it here
                continue
            arrived = arrived.astimezone(datetime.UTC)
            if (not low or arrived >= low) and (not high or arrived < high):
                inside.add(uid)
    return inside


def _search_addresses(mailbox: Mailbox, addresses: Collection[str], fields: Sequence[str]) -> set[int]:
    """UIDs with one of ``addresses`` in one of ``fields``: one SEARCH of ORed keys."""
    keys = [(field, _quoted(address)) for address in sorted(set(addresses)) for field in fields]
    keys = [key for key in keys if key[1]]
    if not keys:
        return set()
    criteria: list[str] = [*keys[-1]]
    for key in reversed(keys[:-1]):
        criteria = ["OR", *key, *criteria]
    return set(mailbox.search_uids(*criteria))


def _quoted(address: str) -> str | None:
    """An address as an IMAP quoted string; None for what cannot be sent as one (non-ASCII)."""
    address = address.strip().lower()
    if not address or not address.isascii() or any(char in address for char in "\r\n"):
        return None
    return '"' + address.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sent_by(mailbox: Mailbox, uids: Sequence[int], own: frozenset[str]) -> set[int]:
    """Those of ``uids`` whose From is one of the account's own addresses."""
    sent = set()
    for start in range(0, len(uids), _DATE_CHUNK):
        heads = mailbox.fetch(uids[start : start + _DATE_CHUNK], ["BODY.PEEK[HEADER.FIELDS (FROM)]"])
        for uid, data in heads.items():
            header = next((value for key, value in data.items() if key.startswith(b"BODY[HEADER")), b"")
            value = as_text(header).partition(":")[2].replace("\r\n", " ").replace("\n", " ")
            if any(email.lower() in own for _name, email in getaddresses([value])):
                sent.add(uid)
    return sent


__all__ = ["FolderCensus", "FolderSearch", "census_folder", "fetch_uids", "search_folder"]
