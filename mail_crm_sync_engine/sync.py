"""Sync one folder: saved state in, batches of message records and the state to save out.

Reading never changes the mailbox: the folder is opened with EXAMINE, bodies are fetched with
BODY.PEEK, no flag is set and nothing is expunged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import imaplib
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence

from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from .connection import Mailbox
from .errors import FolderError, MailSyncError
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
# The UIDs the caller stored for a folder, or a function giving them: called only when the folder
# changed, so an idle poll does not load them.
KnownUids = Collection[int] | Callable[[], Collection[int]]
# The first day of the window, or a function giving it: called only for a first sync or a reset,
# so an idle poll does not work out the owner's today.
WindowStart = datetime.date | None | Callable[[], datetime.date | None]
# Body text beyond this is cut (with a warning): a CRM history needs the words, not a 50 MB log.
MAX_TEXT_BYTES = 2_000_000


@contextlib.contextmanager
def folder_errors(mailbox: Mailbox, folder: str) -> Iterator[None]:
    """A NO or BAD about this folder becomes FolderError; losing the connection stays fatal."""
    try:
        with mailbox.errors():
            yield
    except MailSyncError as error:
        cause = error.__cause__
        if isinstance(cause, imaplib.IMAP4.error) and not isinstance(
            cause, imaplib.IMAP4.abort | IMAPClientAbortError
        ):
            raise FolderError(f"Folder {folder!r} could not be read: {error}") from cause
        raise


def _status(mailbox: Mailbox, folder: str) -> dict[bytes, int]:
    items = ["UIDNEXT", "UIDVALIDITY", "MESSAGES"]
    if mailbox.condstore:
        items.append("HIGHESTMODSEQ")
    return mailbox.client.folder_status(folder, items)


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
    return mailbox.search_uids("SINCE", imap_date(window_start - datetime.timedelta(days=1)))


def _search_above(mailbox: Mailbox, last_uid: int) -> list[int]:
    # `n:*` always includes the highest UID, even below n: drop what we already have.
    return [uid for uid in mailbox.search_uids("UID", f"{last_uid + 1}:*") if uid > last_uid]


def _gone(mailbox: Mailbox, state: FolderState, known_uids: KnownUids) -> list[int]:
    """Known UIDs no longer in the folder: VANISHED with QRESYNC, else a UID SEARCH over their range."""
    known = {uid for uid in (known_uids() if callable(known_uids) else known_uids) if uid <= state.last_uid}
    if not known:
        return []
    low, high = min(known), state.last_uid
    if mailbox.qresync and state.highest_modseq:
        vanished = mailbox.vanished_since(low, high, state.highest_modseq)
        return sorted(known & vanished)
    present = set(mailbox.search_uids("UID", f"{low}:{high}"))
    return sorted(known - present)


def sync_folder(
    mailbox: Mailbox,
    folder: str,
    state: FolderState | None,
    window_start: WindowStart,
    own_addresses: Collection[str] = (),
    known_uids: KnownUids = (),
    folder_role: FolderRole | None = None,
    batch_size: int = 200,
) -> Iterator[Batch]:
    """Batches of what is new in ``folder`` since ``state``, each with the state to save after it.

    The first sync (no state) takes mail that arrived since ``window_start`` (all mail if None; a
    function giving the date is called only then); later ones take only UIDs above the saved one.
    A changed UIDVALIDITY starts over from the window and sets ``reset`` on the first batch.
    ``known_uids`` (the UIDs the caller stored for this folder at ``state.uidvalidity``, or a
    function returning them, called only when the folder changed) let the engine report those gone
    from the server.
    Nothing new costs one STATUS and yields nothing. Raises FolderError for this folder only.
    """
    role = folder_role or guess_role(folder, ())
    own = frozenset(address.lower() for address in own_addresses)
    with folder_errors(mailbox, folder):
        status = _status(mailbox, folder)
        if _unchanged(state, status):
            return
        selected = mailbox.client.select_folder(folder, readonly=True)
    try:
        yield from _sync_selected(
            mailbox, folder, selected, state, window_start, own, known_uids, role, batch_size
        )
    finally:
        # STATUS of a selected folder may show the session's stale view: leave nothing selected.
        _unselect(mailbox)


def _sync_selected(mailbox, folder, selected, state, window_start, own, known_uids, role, batch_size):
    uidvalidity = selected[b"UIDVALIDITY"]
    final = FolderState(
        uidvalidity=uidvalidity,
        last_uid=max(selected.get(b"UIDNEXT", 1) - 1, 0),
        highest_modseq=selected.get(b"HIGHESTMODSEQ"),
        uidnext=selected.get(b"UIDNEXT"),
        messages=selected.get(b"EXISTS"),
    )
    reset = state is not None and state.uidvalidity != uidvalidity
    if reset:
        _logger.info(
            "UIDVALIDITY of %s changed (%s -> %s): rescanning", folder, state.uidvalidity, uidvalidity
        )
    fresh = state is None or reset
    if fresh and callable(window_start):
        window_start = window_start()
    with folder_errors(mailbox, folder):
        uids = _search_since(mailbox, window_start) if fresh else _search_above(mailbox, state.last_uid)
        gone = [] if fresh else _gone(mailbox, state, known_uids)
    not_before = (
        datetime.datetime.combine(window_start, datetime.time(), datetime.UTC)
        if fresh and window_start
        else None
    )
    if not uids:
        yield Batch(folder, (), _final_state(final, state, fresh), tuple(gone), reset)
        return
    previous = state if not fresh else FolderState(uidvalidity=uidvalidity)
    chunks = [uids[start : start + batch_size] for start in range(0, len(uids), batch_size)]
    for index, (chunk, heads, plans, texts, failed) in enumerate(
        _pipeline(mailbox, folder, chunks, not_before)
    ):
        records = _build(folder, uidvalidity, heads, plans, texts, own, role, failed)
        if index + 1 == len(chunks):
            batch_state = _final_state(final, state, fresh, max(chunk))
        else:
            batch_state = FolderState(uidvalidity, max(chunk), previous.highest_modseq)
        first = index == 0
        yield Batch(
            folder, tuple(records), batch_state, tuple(gone) if first else (), reset and first, tuple(failed)
        )


@dataclasses.dataclass
class _InFlight:
    """One batch on its way: its UIDs, then its heads and plans, then its text FETCHes."""

    uids: list[int]
    head_tag: bytes = b""
    heads: dict[int, dict] = dataclasses.field(default_factory=dict)
    failed: list[FailedMessage] = dataclasses.field(default_factory=list)
    plans: dict[int, Plan] = dataclasses.field(default_factory=dict)
    text_groups: dict = dataclasses.field(default_factory=dict)
    text_tags: list[bytes] = dataclasses.field(default_factory=list)


def _pipeline(mailbox: Mailbox, folder: str, chunks: list[list[int]], not_before):
    """(chunk, heads, plans, texts, failed) per batch, with the server always a step ahead.

    While the caller builds and stores batch N, the server already works on the text parts of
    N+1 and the heads of N+2: commands are pipelined (RFC 3501 5.5) and read back in one go.
    """
    mailbox.client._imap.untagged_responses.pop("FETCH", None)  # leftovers of an abandoned run

    def send_heads(index: int) -> _InFlight | None:
        return (
            _InFlight(chunks[index], mailbox.send_fetch(chunks[index], HEAD_ITEMS))
            if index < len(chunks)
            else None
        )

    with folder_errors(mailbox, folder):
        current = send_heads(0)
        data, refused = mailbox.collect(current.uids, [current.head_tag])
        _take_heads(mailbox, current, data, refused, not_before)
        _send_texts(mailbox, current)
        following = send_heads(1)
    for index in range(len(chunks)):
        # In flight now: the text parts of `current` and the heads of `following`.
        with folder_errors(mailbox, folder):
            tags = current.text_tags + ([following.head_tag] if following else [])
            wanted = current.uids + (following.uids if following else [])
            data, refused = mailbox.collect(wanted, tags)
            texts = _take_texts(mailbox, current, data, refused)
            after = None
            if following:
                _take_heads(mailbox, following, data, refused, not_before)
                _send_texts(mailbox, following)
                after = send_heads(index + 2)
        yield current.uids, current.heads, current.plans, texts, current.failed
        current, following = following, after


def _take_heads(mailbox: Mailbox, batch: _InFlight, data: dict, refused: dict, not_before) -> None:
    if batch.head_tag in refused:
        _logger.warning("batch FETCH refused (%s): fetching one by one", refused[batch.head_tag])
        batch.heads, batch.failed = _heads_one_by_one(mailbox, batch.uids)
    else:
        batch.heads = {uid: data[uid] for uid in batch.uids if uid in data}
    batch.plans = _plan(batch.heads, not_before)


def _send_texts(mailbox: Mailbox, batch: _InFlight) -> None:
    batch.text_groups = _text_groups(batch.plans)
    batch.text_tags = [
        mailbox.send_fetch(uids, _text_items(spec)) for spec, uids in batch.text_groups.items()
    ]


def _take_texts(mailbox: Mailbox, batch: _InFlight, data: dict, refused: dict) -> dict[int, dict[str, bytes]]:
    if any(tag in refused for tag in batch.text_tags):
        # One group was refused: ask again for the whole batch, one group at a time.
        data = {}
        for spec, uids in batch.text_groups.items():
            try:
                data.update(mailbox.fetch(uids, _text_items(spec)))
            except (IMAPClientError, imaplib.IMAP4.error) as error:
                if isinstance(error, IMAPClientAbortError | imaplib.IMAP4.abort):
                    raise
                _logger.warning("text parts of %s could not be fetched: %s", uids, error)
    return _texts_from(batch.text_groups, data)


def _unselect(mailbox: Mailbox) -> None:
    with contextlib.suppress(MailSyncError), mailbox.errors():
        if mailbox.has("UNSELECT"):
            mailbox.client.unselect_folder()
        else:
            mailbox.client.close_folder()  # read-only: CLOSE expunges nothing


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


Plan = tuple[list[BodyPart], list[BodyPart], list[str]]  # body text parts, attachments, warnings


def _plan(heads: dict[int, dict], not_before: datetime.datetime | None) -> dict[int, Plan]:
    """From each message's structure, the text parts to fetch; mail before the window is dropped."""
    plans: dict[int, Plan] = {}
    for uid, head in heads.items():
        head[b"INTERNALDATE"] = _utc(parse_internaldate(head.get(b"INTERNALDATE")))
        if not_before and head[b"INTERNALDATE"] and head[b"INTERNALDATE"] < not_before:
            continue
        warnings: list[str] = []
        try:
            body, attachments = plan_parts(walk_bodystructure(head.get(b"BODYSTRUCTURE")))
        except (IndexError, TypeError, ValueError, AttributeError) as error:
            warnings.append(f"unreadable MIME structure ({error}): body not shown")
            body, attachments = [], []
        if b"BODYSTRUCTURE" not in head:
            warnings.append("the server gave no MIME structure: body not shown")
        plans[uid] = (body, attachments, warnings)
    return plans


def _build(
    folder: str,
    uidvalidity: int,
    heads: dict[int, dict],
    plans: dict[int, Plan],
    texts: dict[int, dict[str, bytes]],
    own_addresses: frozenset[str],
    role: FolderRole,
    failed: list[FailedMessage],
) -> list[MessageRecord]:
    records = []
    for uid, (body, attachments, warnings) in plans.items():
        head = heads[uid]
        place = Place(
            folder=folder,
            uid=uid,
            uidvalidity=uidvalidity,
            size=head.get(b"RFC822.SIZE") or 0,
            # \Recent belongs to one session, not to the message.
            flags=tuple(_flag(flag) for flag in head.get(b"FLAGS") or () if _flag(flag) != "\\Recent"),
            internal_date=head.get(b"INTERNALDATE"),
            folder_role=role,
        )
        fetched = texts.get(uid, {})
        body_texts = []
        for leaf in body:
            data = fetched.get(leaf.part)
            if data is None:
                warnings.append(f"text part {leaf.part} could not be fetched")
                continue
            if leaf.size > MAX_TEXT_BYTES:
                warnings.append(f"text part {leaf.part} cut at {MAX_TEXT_BYTES} bytes of {leaf.size}")
            body_texts.append((leaf, data))
        try:
            records.append(
                build_record(
                    _header_block(head),
                    body_texts,
                    [attachment_of(a) for a in attachments],
                    place,
                    own_addresses,
                    warnings,
                )
            )
        except Exception as error:  # a poison message never aborts its batch
            _logger.exception("message UID %s in %s could not be read", uid, folder)
            failed.append(FailedMessage(uid, f"could not be read: {error}"))
    return records


def _heads_one_by_one(mailbox: Mailbox, uids: Sequence[int]) -> tuple[dict[int, dict], list[FailedMessage]]:
    """Heads one message at a time, without the structure if need be: one bad message is one failure."""
    heads, failed = {}, []
    for uid in uids:
        for items in (HEAD_ITEMS, ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", HEADER_ITEM]):
            try:
                heads.update(mailbox.fetch([uid], items))
                break
            except (IMAPClientAbortError, imaplib.IMAP4.abort, OSError):
                raise
            except (IMAPClientError, imaplib.IMAP4.error, ValueError, IndexError) as error:
                reason = str(error)
        else:
            failed.append(FailedMessage(uid, f"the server would not hand it over: {reason}"))
    return heads, failed


TextSpec = tuple[tuple[str, bool], ...]  # (part number, cut at MAX_TEXT_BYTES) per body text part


def _text_groups(plans: dict[int, Plan]) -> dict[TextSpec, list[int]]:
    """Messages grouped by the set of text parts they need: one FETCH per group."""
    groups: dict[TextSpec, list[int]] = defaultdict(list)
    for uid, (body, _attachments, _warnings) in plans.items():
        if body:
            groups[tuple((leaf.part, leaf.size > MAX_TEXT_BYTES) for leaf in body)].append(uid)
    return groups


def _text_items(spec: TextSpec) -> list[str]:
    return [f"BODY.PEEK[{part}]<0.{MAX_TEXT_BYTES}>" if cut else f"BODY.PEEK[{part}]" for part, cut in spec]


def _texts_from(groups: dict[TextSpec, list[int]], fetched: dict[int, dict]) -> dict[int, dict[str, bytes]]:
    texts: dict[int, dict[str, bytes]] = defaultdict(dict)
    for spec, uids in groups.items():
        for uid in uids:
            data = fetched.get(uid, {})
            for part, cut in spec:
                value = data.get((f"BODY[{part}]<0>" if cut else f"BODY[{part}]").encode())
                if value is not None:
                    texts[uid][part] = value
    return texts


def _header_block(head: dict[bytes, object]) -> bytes:
    # The server echoes the section it was asked for; match it loosely, not byte for byte.
    return next((value for key, value in head.items() if key.startswith(b"BODY[HEADER")), None) or b""


def _flag(flag) -> str:
    return flag.decode() if isinstance(flag, bytes) else str(flag)


def _utc(value: datetime.datetime | None) -> datetime.datetime | None:
    return value.astimezone(datetime.UTC) if value is not None else None
