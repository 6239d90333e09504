"""Sync one folder: saved state in, batches of message records and the state to save out.

Reading never changes the mailbox: the folder is opened with EXAMINE, bodies are fetched with
BODY.PEEK, no flag is set and nothing is expunged.
"""

from __future__ import annotations

import datetime
import logging
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .connection import COMMAND_REFUSED, CONNECTION_LOST, Mailbox, uid_set
from .folders import folder_role as guess_role
from .imap_response import imap_date, parse_internaldate
from .parse import (
    NEEDED_HEADERS,
    BodyPart,
    Place,
    attachment_of,
    build_record,
    plan_parts,
    walk_bodystructure,
)
from .types import Batch, FailedMessage, FolderRole, FolderState, MessageRecord

_logger = logging.getLogger(__name__)

# Only the header fields a record needs: real headers are mostly Received, DKIM and ARC lines.
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({' '.join(name.upper() for name in NEEDED_HEADERS)})]"
HEAD_ITEMS = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODYSTRUCTURE", HEADER_ITEM]


def _header_item(extra_headers: Sequence[str]) -> str:
    if not extra_headers:
        return HEADER_ITEM
    names = dict.fromkeys(name.upper() for name in (*NEEDED_HEADERS, *extra_headers))
    return f"BODY.PEEK[HEADER.FIELDS ({' '.join(names)})]"


# The UIDs the caller stored for a folder, or a function giving them: called only when the folder
# changed, so an idle poll does not load them.
KnownUids = Collection[int] | Callable[[], Collection[int]]
# Where the window starts: a day (mail from its midnight UTC on), or an exact moment (a datetime,
# UTC when naive: mail that arrived from then on), or a function giving either: called only for a
# first sync or a reset, so an idle poll does not work out the owner's today.
WindowStart = datetime.date | None | Callable[[], datetime.date | None]
# Body text beyond this is cut (with a warning): a CRM history needs the words, not a 50 MB log.
MAX_TEXT_BYTES = 2_000_000
# The reason of a FailedMessage the server listed (UID SEARCH) and then left out of its FETCH
# answers, even asked for alone: nothing in the message itself is wrong, so it is worth asking
# for again at a later run (``backfill.fetch_uids``), which a message that could not be read is not.
LISTED_NOT_SENT = "the server listed it but did not send it"


def _status(mailbox: Mailbox, folder: str) -> dict[bytes, int]:
    items = ["UIDNEXT", "UIDVALIDITY", "MESSAGES"]
    if mailbox.condstore:
        items.append("HIGHESTMODSEQ")
    return mailbox.status(folder, items)


def _unchanged(state: FolderState | None, status: dict[bytes, int]) -> bool:
    return (
        state is not None
        and state.uidnext is not None
        and status.get(b"UIDVALIDITY") == state.uidvalidity
        and status.get(b"UIDNEXT") == state.uidnext
        and status.get(b"MESSAGES") == state.messages
        and status.get(b"HIGHESTMODSEQ") == state.highest_modseq
    )


def _search_since(mailbox: Mailbox, window_start: datetime.date | None) -> list[int]:
    if window_start is None:
        return mailbox.search_uids("ALL")
    # SINCE has day granularity in the server's time zone: ask a day early, filter exactly later.
    day = _not_before(window_start).date()
    return mailbox.search_uids("SINCE", imap_date(day - datetime.timedelta(days=1)))


def _not_before(window_start: datetime.date) -> datetime.datetime:
    """The first moment of the window, aware in UTC: a day's midnight UTC, or the moment given."""
    if isinstance(window_start, datetime.datetime):
        if window_start.tzinfo is None:
            return window_start.replace(tzinfo=datetime.UTC)
        return window_start.astimezone(datetime.UTC)
    return datetime.datetime.combine(window_start, datetime.time(), datetime.UTC)


def _search_above(mailbox: Mailbox, last_uid: int) -> list[int]:
    return mailbox.search_uids("ALL", low=last_uid + 1)


def _gone(mailbox: Mailbox, state: FolderState, known_uids: KnownUids) -> list[int]:
    """Known UIDs no longer in the folder: VANISHED with QRESYNC, else a UID SEARCH over their range.

    Asked range by range (``Mailbox.uid_ranges``), skipping ranges where nothing is known: no
    answer line outgrows imaplib's limit, and beside the known UIDs only one range's are held.
    """
    uids = known_uids() if callable(known_uids) else known_uids
    known = sorted(uid for uid in uids if uid <= state.last_uid)
    if not known:
        return []
    vanished = bool(mailbox.qresync and state.highest_modseq)
    gone: list[int] = []
    for low, high in mailbox.uid_ranges(known[0], state.last_uid, present=not vanished):
        inside = known[bisect_left(known, low) : bisect_right(known, high)]
        if not inside:
            continue
        if vanished:
            expunged = mailbox.vanished_since(low, high, state.highest_modseq)
            gone.extend(uid for uid in inside if uid in expunged)
        else:
            present = set(mailbox.search_uids("ALL", low=low, high=high))
            gone.extend(uid for uid in inside if uid not in present)
    return gone


def sync_folder(  # noqa: PLR0913 - the public entry point: its settings are explicit keywords
    mailbox: Mailbox,
    folder: str,
    state: FolderState | None,
    window_start: WindowStart,
    own_addresses: Collection[str] = (),
    known_uids: KnownUids = (),
    folder_role: FolderRole | None = None,
    batch_size: int = 200,
    extra_headers: Collection[str] = (),
) -> Iterator[Batch]:
    """Batches of what is new in ``folder`` since ``state``, each with the state to save after it.

    The first sync (no state) takes mail that arrived since ``window_start`` (a day, or an exact
    moment as a datetime; all mail if None; a function giving it is called only then); later ones
    take only UIDs above the saved one.
    A changed UIDVALIDITY starts over from the window and sets ``reset`` on the first batch.
    ``known_uids`` (the UIDs the caller stored for this folder at ``state.uidvalidity``, or a
    function returning them, called only when the folder changed) let the engine report those gone
    from the server. ``extra_headers`` are fetched besides the engine's own and given on each
    record (``MessageRecord.extra_headers``).
    Nothing new costs one STATUS and yields nothing. Raises FolderError for this folder only.
    """
    job = _FolderSync(
        name=folder,
        role=folder_role or guess_role(folder, ()),
        own_addresses=frozenset(address.lower() for address in own_addresses),
        window_start=window_start,
        known_uids=known_uids,
        batch_size=batch_size,
        extra_headers=tuple(sorted({name.lower() for name in extra_headers})),
        server_ids=mailbox.has("X-GM-EXT-1"),
    )
    with mailbox.folder_errors(folder):
        status = _status(mailbox, folder)
        if _unchanged(state, status):
            return
        selected = mailbox.select(folder, readonly=True)
    try:
        yield from _sync_selected(mailbox, job, selected, state)
    finally:
        # STATUS of a selected folder may show the session's stale view: leave nothing selected.
        mailbox.unselect()


# -- the data between the stages ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FolderSync:
    """What the caller asked of one folder's sync; shared by all its batches."""

    name: str
    role: FolderRole
    own_addresses: frozenset[str]
    window_start: WindowStart
    known_uids: KnownUids
    batch_size: int
    extra_headers: tuple[str, ...] = ()
    server_ids: bool = False  # Gmail: each message's X-GM-MSGID, the same in every label

    @property
    def head_items(self) -> list[str]:
        return [
            *HEAD_ITEMS[:-1],
            *(["X-GM-MSGID"] if self.server_ids else []),
            _header_item(self.extra_headers),
        ]


class MessagePlan(NamedTuple):
    """One message once its head is read: what the server said of it, and its text parts to fetch.

    A named tuple rather than a frozen dataclass: a sync makes one per message.
    """

    uid: int
    head: Mapping[bytes, Any]  # the FETCH data of HEAD_ITEMS
    internal_date: datetime.datetime | None  # UTC
    body: tuple[BodyPart, ...]  # the text parts to fetch
    attachments: tuple[BodyPart, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _HeadsSent:
    """A batch whose head FETCH is on its way."""

    uids: Sequence[int]
    tag: bytes


@dataclass(frozen=True, slots=True)
class _Planned:
    """A batch whose heads are read: its messages inside the window, and those the server refused."""

    uids: Sequence[int]
    plans: tuple[MessagePlan, ...]
    failed: tuple[FailedMessage, ...]


@dataclass(frozen=True, slots=True)
class _TextsSent:
    """A planned batch whose text FETCHes (one per group of messages needing the same parts) are sent."""

    planned: _Planned
    groups: Mapping[TextSpec, list[int]]
    tags: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A planned batch with its text parts: {UID: {part number: bytes}}."""

    planned: _Planned
    texts: Mapping[int, Mapping[str, bytes]]


# -- the stages --------------------------------------------------------------------------------


class _Slices(Sequence):
    """``uids`` in slices of ``size``, each cut when asked for: a big folder's UIDs are held once."""

    def __init__(self, uids: Sequence[int], size: int):
        self._uids = uids
        self._size = size

    def __len__(self) -> int:
        return (len(self._uids) + self._size - 1) // self._size

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._uids[index * self._size : (index + 1) * self._size]


def _sync_selected(
    mailbox: Mailbox,
    job: _FolderSync,
    selected: Mapping[bytes, Any],
    state: FolderState | None,
) -> Iterator[Batch]:
    uidvalidity = selected[b"UIDVALIDITY"]
    uidnext = selected.get(b"UIDNEXT")
    if uidnext:
        highest = uidnext - 1
    else:
        # Courier's SELECT gives no UIDNEXT: saving 0 would have the next sync take all the
        # folder's mail, the window's and older. Everything up to its highest UID is considered.
        with mailbox.folder_errors(job.name):
            highest = mailbox.highest_uid()
    final = FolderState(
        uidvalidity=uidvalidity,
        last_uid=max(highest, 0),
        highest_modseq=selected.get(b"HIGHESTMODSEQ"),
        # A server whose SELECT gives no UIDNEXT (Courier) gets none here, so every poll selects
        # the folder: Courier's STATUS counts a new message before it gives it a UID, so an
        # expunge and an arrival between two polls leave MESSAGES and UIDNEXT as they were.
        uidnext=uidnext,
        messages=selected.get(b"EXISTS"),
    )
    reset = state is not None and state.uidvalidity != uidvalidity
    if reset:
        _logger.info(
            "UIDVALIDITY of %s changed (%s -> %s): rescanning", job.name, state.uidvalidity, uidvalidity
        )
    fresh = state is None or reset
    window_start = job.window_start() if fresh and callable(job.window_start) else job.window_start
    with mailbox.folder_errors(job.name):
        uids = _search_since(mailbox, window_start) if fresh else _search_above(mailbox, state.last_uid)
        gone = () if fresh else tuple(_gone(mailbox, state, job.known_uids))
    not_before = _not_before(window_start) if fresh and window_start else None
    if not uids:
        yield Batch(job.name, (), _final_state(final, state, fresh), gone, reset)
        return
    previous = state if not fresh else FolderState(uidvalidity=uidvalidity)
    chunks = _Slices(uids, job.batch_size)
    for index, fetched in enumerate(_pipeline(mailbox, job.name, chunks, not_before, job.head_items)):
        records, failed = _build(fetched, job, uidvalidity)
        last_uid = max(fetched.planned.uids)
        if index + 1 == len(chunks):
            batch_state = _final_state(final, state, fresh, last_uid)
        else:
            batch_state = FolderState(uidvalidity, last_uid, previous.highest_modseq)
        first = index == 0
        yield Batch(job.name, records, batch_state, gone if first else (), reset and first, failed)


def _pipeline(
    mailbox: Mailbox,
    folder: str,
    chunks: Sequence[Sequence[int]],
    not_before: datetime.datetime | None,
    head_items: Sequence[str] = tuple(HEAD_ITEMS),
) -> Iterator[_Fetched]:
    """Each batch with its heads and text parts, with the server always a step ahead.

    While the caller builds and stores batch N, the server already works on the text parts of
    N+1 and the heads of N+2: commands are pipelined (RFC 3501 5.5) and read back in one go.
    """
    mailbox.discard_untagged("FETCH")  # leftovers of an abandoned run

    def send_heads(index: int) -> _HeadsSent | None:
        if index >= len(chunks):
            return None
        return _HeadsSent(chunks[index], mailbox.send_fetch(chunks[index], head_items))

    with mailbox.folder_errors(folder):
        first = send_heads(0)
        data, refused = mailbox.collect(first.uids, [first.tag])
        current = _send_texts(mailbox, _take_heads(mailbox, first, (data, refused), not_before, head_items))
        following = send_heads(1)
    for index in range(len(chunks)):
        # In flight now: the text parts of `current` and the heads of `following`.
        with mailbox.folder_errors(folder):
            tags = [*current.tags, following.tag] if following else list(current.tags)
            wanted = [*current.planned.uids, *(following.uids if following else ())]
            data, refused = mailbox.collect(wanted, tags)
            fetched = _take_texts(mailbox, current, data, refused)
            after_texts = after_heads = None
            if following:
                planned = _take_heads(mailbox, following, (data, refused), not_before, head_items)
                after_texts = _send_texts(mailbox, planned)
                after_heads = send_heads(index + 2)
        yield fetched
        current, following = after_texts, after_heads


def _take_heads(
    mailbox: Mailbox,
    sent: _HeadsSent,
    collected: tuple[Mapping[int, dict], Mapping[bytes, str]],
    not_before: datetime.datetime | None,
    head_items: Sequence[str],
) -> _Planned:
    data, refused = collected
    failed: tuple[FailedMessage, ...] = ()
    if sent.tag in refused:
        _logger.warning("batch FETCH refused (%s): fetching one by one", refused[sent.tag])
        heads, failed = _heads_one_by_one(mailbox, sent.uids, head_items)
    else:
        heads = {uid: data[uid] for uid in sent.uids if uid in data}
    answered = heads.keys() | {item.uid for item in failed}
    if omitted := [uid for uid in sent.uids if uid not in answered]:
        # Listed by the SEARCH, and the FETCH answer said nothing of them: ask once more, alone.
        _logger.warning("the server sent no FETCH answer for UIDs %s: asking again", uid_set(omitted))
        again, failed_again = _heads_one_by_one(mailbox, omitted, head_items)
        heads.update(again)
        answered = again.keys() | {item.uid for item in failed_again}
        failed += failed_again + _not_sent(mailbox, [uid for uid in omitted if uid not in answered])
    return _Planned(sent.uids, _plan(heads, not_before), failed)


def _not_sent(mailbox: Mailbox, uids: Sequence[int]) -> tuple[FailedMessage, ...]:
    """UIDs with no FETCH answer even asked for alone: failed if still in the folder (the batch's
    state passes them; the caller keeps them to ask again), nothing if expunged meanwhile."""
    if not uids:
        return ()
    there = set(mailbox.search_uids("UID", uid_set(uids), low=min(uids), high=max(uids)))
    for uid in uids:
        if uid not in there:
            _logger.info("UID %s was expunged while it was being read", uid)
    return tuple(FailedMessage(uid, LISTED_NOT_SENT) for uid in uids if uid in there)


def _send_texts(mailbox: Mailbox, planned: _Planned) -> _TextsSent:
    groups = _text_groups(planned.plans)
    tags = tuple(mailbox.send_fetch(uids, _text_items(spec)) for spec, uids in groups.items())
    return _TextsSent(planned, groups, tags)


def _take_texts(
    mailbox: Mailbox, sent: _TextsSent, data: Mapping[int, dict], refused: Mapping[bytes, str]
) -> _Fetched:
    if any(tag in refused for tag in sent.tags):
        # One group was refused: ask again for the whole batch, one group at a time.
        data = {}
        for spec, uids in sent.groups.items():
            try:
                data.update(mailbox.fetch(uids, _text_items(spec)))
            except CONNECTION_LOST:
                raise
            except COMMAND_REFUSED as error:
                _logger.warning("text parts of %s could not be fetched: %s", uids, error)
    return _Fetched(sent.planned, _texts_from(sent.groups, data))


def _final_state(
    final: FolderState, state: FolderState | None, fresh: bool, last_uid: int = 0
) -> FolderState:
    # After a first sync everything below UIDNEXT has been considered, in the window or not.
    floor = 0 if fresh or state is None else state.last_uid
    return FolderState(
        final.uidvalidity,
        max(final.last_uid, last_uid, floor),
        final.highest_modseq,
        final.uidnext,
        final.messages,
    )


def _plan(
    heads: Mapping[int, Mapping[bytes, Any]], not_before: datetime.datetime | None
) -> tuple[MessagePlan, ...]:
    """From each message's structure, the text parts to fetch; mail before the window is dropped."""
    plans = []
    for uid, head in heads.items():
        internal_date = _utc(parse_internaldate(head.get(b"INTERNALDATE")))
        if not_before and internal_date and internal_date < not_before:
            continue
        warnings = []
        try:
            body, attachments = plan_parts(walk_bodystructure(head.get(b"BODYSTRUCTURE")))
        except (IndexError, TypeError, ValueError, AttributeError) as error:
            warnings.append(f"unreadable MIME structure ({error}): body not shown")
            body, attachments = [], []
        if b"BODYSTRUCTURE" not in head:
            warnings.append("the server gave no MIME structure: body not shown")
        plans.append(MessagePlan(uid, head, internal_date, tuple(body), tuple(attachments), tuple(warnings)))
    return tuple(plans)


def _build(
    fetched: _Fetched, job: _FolderSync, uidvalidity: int
) -> tuple[tuple[MessageRecord, ...], tuple[FailedMessage, ...]]:
    """The batch's records, and its messages that could not be read (a poison message never
    aborts its batch)."""
    records = []
    failed = list(fetched.planned.failed)
    for plan in fetched.planned.plans:
        try:
            records.append(_record(plan, fetched.texts.get(plan.uid, {}), job, uidvalidity))
        except Exception as error:  # whatever the mail, the batch goes on
            _logger.exception("message UID %s in %s could not be read", plan.uid, job.name)
            failed.append(FailedMessage(plan.uid, f"could not be read: {error}"))
    return tuple(records), tuple(failed)


def _record(
    plan: MessagePlan, fetched: Mapping[str, bytes], job: _FolderSync, uidvalidity: int
) -> MessageRecord:
    head = plan.head
    place = Place(
        folder=job.name,
        uid=plan.uid,
        uidvalidity=uidvalidity,
        size=head.get(b"RFC822.SIZE") or 0,
        # \Recent belongs to one session, not to the message.
        flags=tuple(_flag(flag) for flag in head.get(b"FLAGS") or () if _flag(flag) != "\\Recent"),
        internal_date=plan.internal_date,
        folder_role=job.role,
        server_id=str(head[b"X-GM-MSGID"]) if head.get(b"X-GM-MSGID") else None,
    )
    warnings = list(plan.warnings)
    body_texts = []
    for leaf in plan.body:
        data = fetched.get(leaf.part)
        if data is None:
            warnings.append(f"text part {leaf.part} could not be fetched")
            continue
        if leaf.size > MAX_TEXT_BYTES:
            warnings.append(f"text part {leaf.part} cut at {MAX_TEXT_BYTES} bytes of {leaf.size}")
        body_texts.append((leaf, data))
    return build_record(
        _header_block(head),
        body_texts,
        [attachment_of(a) for a in plan.attachments],
        place,
        job.own_addresses,
        warnings,
        job.extra_headers,
    )


def _heads_one_by_one(
    mailbox: Mailbox, uids: Sequence[int], head_items: Sequence[str]
) -> tuple[dict[int, dict], tuple[FailedMessage, ...]]:
    """Heads one message at a time, without the structure if need be: one bad message is one failure."""
    heads, failed = {}, []
    for uid in uids:
        for items in (head_items, [item for item in head_items if item != "BODYSTRUCTURE"]):
            try:
                heads.update(mailbox.fetch([uid], items))
                break
            except CONNECTION_LOST:
                raise
            except (*COMMAND_REFUSED, ValueError, IndexError) as error:
                reason = str(error)
        else:
            failed.append(FailedMessage(uid, f"the server would not hand it over: {reason}"))
    return heads, tuple(failed)


TextSpec = tuple[tuple[str, bool], ...]  # (part number, cut at MAX_TEXT_BYTES) per body text part


def _text_groups(plans: Sequence[MessagePlan]) -> dict[TextSpec, list[int]]:
    """Messages grouped by the set of text parts they need: one FETCH per group."""
    groups: dict[TextSpec, list[int]] = defaultdict(list)
    for plan in plans:
        if plan.body:
            groups[tuple((leaf.part, leaf.size > MAX_TEXT_BYTES) for leaf in plan.body)].append(plan.uid)
    return groups


def _text_items(spec: TextSpec) -> list[str]:
    return [f"BODY.PEEK[{part}]<0.{MAX_TEXT_BYTES}>" if cut else f"BODY.PEEK[{part}]" for part, cut in spec]


def _texts_from(
    groups: Mapping[TextSpec, list[int]], fetched: Mapping[int, dict]
) -> dict[int, dict[str, bytes]]:
    texts: dict[int, dict[str, bytes]] = defaultdict(dict)
    for spec, uids in groups.items():
        for uid in uids:
            data = fetched.get(uid, {})
            for part, cut in spec:
                value = data.get((f"BODY[{part}]<0>" if cut else f"BODY[{part}]").encode())
                if value is not None:
                    texts[uid][part] = value
    return texts


def _header_block(head: Mapping[bytes, object]) -> bytes:
    # The server echoes the section it was asked for; match it loosely, not byte for byte.
    return next((value for key, value in head.items() if key.startswith(b"BODY[HEADER")), None) or b""


def _flag(flag) -> str:
    return flag.decode() if isinstance(flag, bytes) else str(flag)


def _utc(value: datetime.datetime | None) -> datetime.datetime | None:
    return value.astimezone(datetime.UTC) if value is not None else None
