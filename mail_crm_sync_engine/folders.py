"""Folders: list them with their special-use roles, and pick the ones a first sync takes."""

from __future__ import annotations

import dataclasses
import logging

from .connection import Mailbox
from .errors import MailSyncError
from .types import FolderInfo, FolderRole

_logger = logging.getLogger(__name__)

_ROLE_BY_FLAG = {
    "\\SENT": FolderRole.SENT,
    "\\TRASH": FolderRole.TRASH,
    "\\JUNK": FolderRole.JUNK,
    "\\DRAFTS": FolderRole.DRAFTS,
    "\\ARCHIVE": FolderRole.ARCHIVE,
    "\\ALL": FolderRole.ALL,
}

# Names servers without SPECIAL-USE give these folders (last path segment, case-insensitive).
_ROLE_BY_NAME = {
    FolderRole.SENT: (
        "sent",
        "sent items",
        "sent messages",
        "sent mail",
        "gesendet",
        "gesendete elemente",
        "gesendete objekte",
        "envoyés",
        "éléments envoyés",
        "enviados",
        "elementos enviados",
        "posta inviata",
        "inviata",
        "verzonden items",
    ),
    FolderRole.TRASH: (
        "trash",
        "deleted items",
        "deleted messages",
        "deleted",
        "bin",
        "papierkorb",
        "gelöschte elemente",
        "corbeille",
        "éléments supprimés",
        "papelera",
        "cestino",
    ),
    FolderRole.JUNK: ("junk", "spam", "junk e-mail", "junk email", "bulk mail", "courrier indésirable"),
    FolderRole.DRAFTS: ("drafts", "draft", "entwürfe", "brouillons", "borradores", "bozze"),
    FolderRole.ARCHIVE: ("archive", "archives", "archiv"),
    FolderRole.ALL: ("all mail",),
}
_NAME_TO_ROLE = {name: role for role, names in _ROLE_BY_NAME.items() for name in names}


def folder_role(name: str, flags: tuple[str, ...], delimiter: str = "/") -> FolderRole:
    """The role from LIST attributes (RFC 6154), else from a well-known name."""
    if name.upper() == "INBOX":
        return FolderRole.INBOX
    for flag in flags:
        role = _ROLE_BY_FLAG.get(flag.upper())
        if role:
            return role
    leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
    return _NAME_TO_ROLE.get(leaf.strip().lower(), FolderRole.OTHER)


def list_folders(mailbox: Mailbox, *, with_counts: bool = False) -> list[FolderInfo]:
    """Every folder of the account, roles resolved, names decoded from modified UTF-7.

    With ``with_counts``, each selectable folder gets its message count from STATUS; a folder
    whose STATUS fails keeps ``messages=None`` instead of failing the list.
    """
    with mailbox.errors():
        listed = mailbox.list_folders()
    folders = []
    for flags, delimiter, name in listed:
        selectable = not any(flag.upper() in ("\\NOSELECT", "\\NONEXISTENT") for flag in flags)
        folders.append(FolderInfo(name, folder_role(name, flags, delimiter), flags, delimiter, selectable))
    # A name-guessed role must not steal the role the server flagged on another folder.
    folders = [
        folder
        if folder.role in (FolderRole.OTHER, FolderRole.INBOX)
        or any(flag.upper() in _ROLE_BY_FLAG for flag in folder.flags)
        or not _flagged_elsewhere(folders, folder)
        else dataclasses.replace(folder, role=FolderRole.OTHER)
        for folder in folders
    ]
    if with_counts:
        folders = [
            dataclasses.replace(folder, messages=folder_message_count(mailbox, folder.name))
            for folder in folders
        ]
    return sorted(folders, key=lambda f: (list(FolderRole).index(f.role), f.name.lower()))


def _flagged_elsewhere(folders: list[FolderInfo], folder: FolderInfo) -> bool:
    return any(
        other is not folder
        and other.role == folder.role
        and any(flag.upper() in _ROLE_BY_FLAG for flag in other.flags)
        for other in folders
    )


def folder_message_count(mailbox: Mailbox, name: str) -> int | None:
    try:
        with mailbox.errors():
            return mailbox.status(name, ["MESSAGES"])[b"MESSAGES"]
    except MailSyncError as error:
        _logger.info("STATUS of folder %s failed: %s", name, error)
        return None


def default_selection(folders: list[FolderInfo]) -> list[FolderInfo]:
    """What a first sync takes unless the user picks otherwise: inbox and sent, never trash or junk."""
    return [folder for folder in folders if folder.selectable and folder.default_active]


def special_folder(folders: list[FolderInfo], role: FolderRole) -> FolderInfo | None:
    """The selectable folder with ``role``: one the server flagged first, then the one nearest
    the top (``Sent`` before ``Projects/Sent``), then the shortest name."""
    candidates = [folder for folder in folders if folder.role == role and folder.selectable]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda folder: (
            not any(flag.upper() in _ROLE_BY_FLAG for flag in folder.flags),
            folder.name.count(folder.delimiter) if folder.delimiter else 0,
            len(folder.name),
            folder.name,
        ),
    )
