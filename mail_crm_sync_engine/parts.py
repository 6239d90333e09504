"""Download one attachment's bytes, or a whole message, on demand, relocating the message if its
UID moved. Read-only: the folder is opened with EXAMINE and nothing sets \\Seen."""

from __future__ import annotations

import logging

from .connection import Mailbox
from .errors import MessageGone
from .parse import LONG_ID_DOMAIN, decode_transfer, walk_bodystructure

_logger = logging.getLogger(__name__)


def _locate(
    mailbox: Mailbox, uidvalidity: int, uid: int, message_id: str | None, current_validity: int
) -> int | None:
    if current_validity == uidvalidity and mailbox.search(["UID", str(uid)]) == [uid]:
        return uid
    # A hashed key (parse.message_id_key) is in no header: only the whole id finds the message.
    if not message_id or message_id.endswith(f"@{LONG_ID_DOMAIN}>"):
        return None
    found = mailbox.search(["HEADER", "Message-ID", message_id])
    return max(found) if found else None


def fetch_part(  # noqa: PLR0913 - public: where a part was stored, as the addon keeps it
    mailbox: Mailbox,
    folder: str,
    uidvalidity: int,
    uid: int,
    part: str,
    message_id: str | None = None,
) -> bytes:
    """The decoded bytes of one MIME part of one message, read without setting \\Seen.

    If (UIDVALIDITY, UID) no longer points at the message, it is looked up by ``message_id`` in
    the same folder: give the id as the header has it (``MessageRecord.message_id_header`` where
    set, else ``message_id``). Raises MessageGone when it is not there any more.
    """
    key = f"BODY[{part}]".encode()
    response = _fetch(mailbox, folder, uidvalidity, uid, message_id, ["BODYSTRUCTURE", f"BODY.PEEK[{part}]"])
    if key not in response:
        raise MessageGone(f"Part {part} of the message is not on the server.")
    leaves = {leaf.part: leaf for leaf in walk_bodystructure(response.get(b"BODYSTRUCTURE"))}
    leaf = leaves.get(part)
    return decode_transfer(response[key], leaf.encoding if leaf else "7bit")


def fetch_message(
    mailbox: Mailbox, folder: str, uidvalidity: int, uid: int, message_id: str | None = None
) -> bytes:
    """The whole message as the server holds it (RFC 5322 bytes), read without setting \\Seen:
    what an export saves as an .eml file. Relocated and MessageGone as ``fetch_part``."""
    response = _fetch(mailbox, folder, uidvalidity, uid, message_id, ["BODY.PEEK[]"])
    if b"BODY[]" not in response:
        raise MessageGone("The message is not on the server.")
    return response[b"BODY[]"]


def _fetch(  # noqa: PLR0913 - where the message was stored, and what to fetch
    mailbox: Mailbox, folder: str, uidvalidity: int, uid: int, message_id: str | None, items: list[str]
) -> dict:
    """FETCH ``items`` of the message, in ``folder`` opened read-only, found by UID or Message-ID."""
    with mailbox.folder_errors(folder):
        selected = mailbox.select(folder, readonly=True)
        found = _locate(mailbox, uidvalidity, uid, message_id, selected[b"UIDVALIDITY"])
        if found is None:
            raise MessageGone(f"The message is no longer in folder {folder!r} on the server.")
        if found != uid:
            _logger.info("message %s moved from UID %s to %s in %s", message_id, uid, found, folder)
        return mailbox.fetch([found], items).get(found, {})
