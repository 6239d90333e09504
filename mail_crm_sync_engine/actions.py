"""Changes asked for from the CRM: delete or move one synced message on the server.

Each action first checks that (folder, UIDVALIDITY, UID) still names the message, then touches
that UID alone: never an EXPUNGE of the whole folder and never a CLOSE of a folder opened for
writing, both of which would also remove what other mail clients marked \\Deleted. A refusal
leaves the mailbox as it was.
"""

from __future__ import annotations

import contextlib
import logging

from .connection import Mailbox
from .errors import FolderError, MailSyncError, MessageGone, Unsupported
from .folders import list_folders, special_folder
from .types import FolderInfo, FolderRole, MessageLocation

_logger = logging.getLogger(__name__)

_DELETED = "\\Deleted"


def delete_message(mailbox: Mailbox, location: MessageLocation) -> MessageLocation | None:
    """Move the message to the Trash folder; where there is none, or the message is already in
    Trash, mark it \\Deleted and expunge that UID alone.

    Returns where the message is in Trash (uid None if the server did not say), or None when it
    was expunged. Raises MessageGone, FolderError (the server refused; nothing changed), or
    Unsupported (expunging one message needs UIDPLUS; without it nothing is done).
    """
    trash = special_folder(list_folders(mailbox), FolderRole.TRASH)
    if trash and not _inside(location.folder, trash):
        return _move(mailbox, location, trash.name, "Moving the message to the trash")
    if not mailbox.has("UIDPLUS"):
        raise Unsupported(
            f"The server offers no trash folder and no way to remove one message alone (UIDPLUS): "
            f"the message was left in {location.folder!r}; delete it in your mail client."
        )
    flags = _select(mailbox, location)
    try:
        _expunge_one(mailbox, location, flags, f"Deleting the message from {location.folder!r}")
    finally:
        mailbox.leave_folder(location.folder)
    return None


def move_message(mailbox: Mailbox, location: MessageLocation, to_folder: str) -> MessageLocation:
    """Move the message to ``to_folder``: MOVE where the server offers it, else COPY then
    \\Deleted and an expunge of that UID alone (UIDPLUS).

    Returns the new location (uid None if the server did not say). Raises MessageGone,
    FolderError (the server refused, e.g. no such folder; nothing changed) or Unsupported.
    """
    if to_folder == location.folder:
        return location
    return _move(mailbox, location, to_folder, f"Moving the message to {to_folder!r}")


def _move(mailbox: Mailbox, location: MessageLocation, to_folder: str, what: str) -> MessageLocation:
    use_move = mailbox.has("MOVE")
    if not use_move and not mailbox.has("UIDPLUS"):
        raise Unsupported(
            "The server can neither move a message (MOVE) nor remove one message alone (UIDPLUS): "
            f"the message was left in {location.folder!r}."
        )
    flags = _select(mailbox, location)
    try:
        if use_move:
            with mailbox.refusals(what):
                copied = mailbox.move([location.uid], to_folder)
        else:
            with mailbox.refusals(what):
                copied = mailbox.copy([location.uid], to_folder)
            try:
                _expunge_one(mailbox, location, flags, what)
            except MailSyncError:
                _remove_copy(mailbox, to_folder, copied)
                raise
    finally:
        mailbox.leave_folder(location.folder)
    if copied:
        return MessageLocation(to_folder, *copied)
    with mailbox.refusals(f"Reading folder {to_folder!r}"):
        status = mailbox.status(to_folder, ["UIDVALIDITY"])
    return MessageLocation(to_folder, status[b"UIDVALIDITY"], None)


def _inside(folder: str, parent: FolderInfo) -> bool:
    return folder == parent.name or (
        bool(parent.delimiter) and folder.startswith(parent.name + parent.delimiter)
    )


def _select(mailbox: Mailbox, location: MessageLocation) -> set[str]:
    """Open the message's folder for writing; its flags. MessageGone unless it is still there."""
    folder = location.folder
    try:
        with mailbox.refusals(f"Opening folder {folder!r}"):
            selected = mailbox.select(folder)
    except FolderError as error:
        if "[NONEXISTENT]" in str(error).upper() or not _folder_exists(mailbox, folder):
            raise MessageGone(f"Folder {folder!r} no longer exists on the server.") from error
        raise
    try:
        if selected[b"UIDVALIDITY"] != location.uidvalidity:
            raise MessageGone(
                f"Folder {folder!r} was renumbered on the server (its UIDVALIDITY changed): "
                "the message is found again by the next sync."
            )
        if not selected.get(b"READ-WRITE"):
            raise FolderError(f"Folder {folder!r} is read-only on the server; nothing was changed.")
        with mailbox.refusals(f"Reading folder {folder!r}"):
            flags = mailbox.get_flags([location.uid])
        if location.uid not in flags:
            raise MessageGone(f"The message is no longer in folder {folder!r} on the server.")
    except MailSyncError:
        mailbox.leave_folder(folder)
        raise
    return flags[location.uid]


def _folder_exists(mailbox: Mailbox, folder: str) -> bool:
    """Whether LIST still shows the folder (RFC 5530's NONEXISTENT code is not sent by all servers)."""
    try:
        with mailbox.errors():
            return mailbox.folder_exists(folder)
    except MailSyncError:
        return True  # unknown: report the refusal itself


def _expunge_one(mailbox: Mailbox, location: MessageLocation, flags: set[str], what: str) -> None:
    """\\Deleted and UID EXPUNGE of this UID alone; the flag is taken back if the expunge fails."""
    added = _DELETED not in flags
    try:
        with mailbox.refusals(what):
            if added:
                mailbox.add_flags([location.uid], [_DELETED])
            mailbox.uid_expunge([location.uid])
    except MailSyncError:
        if added:
            with contextlib.suppress(MailSyncError), mailbox.errors():
                mailbox.remove_flags([location.uid], [_DELETED])
        raise


def _remove_copy(mailbox: Mailbox, folder: str, copied: tuple[int, int] | None) -> None:
    """Undo a COPY whose source could not be expunged, so a failed move leaves one message."""
    if not copied:
        _logger.warning("a copy left in %s after a failed move: the server gave no COPYUID", folder)
        return
    try:
        with mailbox.errors():
            mailbox.select(folder)
            mailbox.add_flags([copied[1]], [_DELETED])
            mailbox.uid_expunge([copied[1]])
    except MailSyncError as error:
        _logger.warning(
            "the copy %s in %s could not be removed after a failed move: %s", copied, folder, error
        )
    finally:
        mailbox.leave_folder(folder)
