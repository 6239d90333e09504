"""Deleting and moving a synced message from the CRM, checked from a second IMAP connection."""

from __future__ import annotations

import dataclasses
import imaplib

import pytest

from mail_crm_sync_engine import (
    FolderError,
    MessageGone,
    MessageLocation,
    Unsupported,
    connect,
    delete_message,
    move_message,
)
from mail_crm_sync_engine.parse import decode_words
from tests.conftest import append, imap_view, sent_commands, settings_for
from tests.mail_factory import make_mail


def put(view, folder: str, index: int, flags=()) -> MessageLocation:
    """APPEND one message through the second connection; where it is."""
    uid = append(view, folder, make_mail(index), flags=flags)
    return MessageLocation(folder, view.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"], uid)


def contents(view, folder: str) -> dict[int, set[bytes]]:
    """UID to flags, as the server holds them now."""
    view.select_folder(folder, readonly=True)
    uids = view.search("ALL")
    fetched = view.fetch(uids, ["FLAGS"]) if uids else {}
    view.unselect_folder()
    return {uid: set(values[b"FLAGS"]) - {b"\\Recent"} for uid, values in fetched.items()}


def subjects(view, folder: str) -> list[str]:
    view.select_folder(folder, readonly=True)
    uids = view.search("ALL")
    fetched = view.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
    view.unselect_folder()
    return [
        decode_words(values[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip())
        for _uid, values in sorted(fetched.items())
    ]


@pytest.fixture
def bare_user(dovecot_bare):
    return dovecot_bare.add_user()


@pytest.fixture
def bare_view(dovecot_bare, bare_user):
    with imap_view(dovecot_bare, bare_user) as view:
        yield view


# -- delete ------------------------------------------------------------------------------------


def test_delete_moves_the_message_to_trash(settings, server_view):
    keep, target = put(server_view, "INBOX", 1), put(server_view, "INBOX", 2)
    with connect(settings) as mailbox:
        in_trash = delete_message(mailbox, target)
    assert list(contents(server_view, "INBOX")) == [keep.uid]
    trash_uidvalidity = server_view.folder_status("Trash", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    assert in_trash == MessageLocation("Trash", trash_uidvalidity, 1)
    assert subjects(server_view, "Trash") == ["Devis n°2"]


def test_delete_in_trash_expunges_that_message_alone(settings, server_view):
    other_deleted = put(server_view, "Trash", 1, flags=[b"\\Deleted"])
    target = put(server_view, "Trash", 2)
    with connect(settings) as mailbox:
        assert delete_message(mailbox, target) is None
    # Another client's \Deleted message is still there: no EXPUNGE of the folder, no CLOSE.
    assert contents(server_view, "Trash") == {other_deleted.uid: {b"\\Deleted"}}


def test_delete_without_trash_expunges_that_message_alone(dovecot_bare, bare_user, bare_view):
    other_deleted = put(bare_view, "INBOX", 1, flags=[b"\\Deleted", b"\\Seen"])
    target, keep = put(bare_view, "INBOX", 2), put(bare_view, "INBOX", 3)
    with connect(settings_for(dovecot_bare, bare_user)) as mailbox:
        assert delete_message(mailbox, target) is None
    assert contents(bare_view, "INBOX") == {other_deleted.uid: {b"\\Deleted", b"\\Seen"}, keep.uid: set()}
    assert [name for _flags, _delimiter, name in bare_view.list_folders()] == ["INBOX"]


def test_delete_without_trash_or_uidplus_is_refused_and_changes_nothing(dovecot_without_uidplus):
    user = dovecot_without_uidplus.add_user()
    with imap_view(dovecot_without_uidplus, user) as view:
        other_deleted = put(view, "INBOX", 1, flags=[b"\\Deleted"])
        target = put(view, "INBOX", 2)
        with connect(settings_for(dovecot_without_uidplus, user)) as mailbox:
            with pytest.raises(Unsupported, match="no trash folder and no way to remove one message alone"):
                delete_message(mailbox, target)
        assert contents(view, "INBOX") == {other_deleted.uid: {b"\\Deleted"}, target.uid: set()}


# -- move --------------------------------------------------------------------------------------


def test_move_uses_move_and_returns_the_new_uid(settings, server_view):
    server_view.create_folder("Clients/Müller")
    target = put(server_view, "INBOX", 1, flags=[b"\\Seen", b"\\Flagged"])
    put(server_view, "Clients/Müller", 9)
    with connect(settings) as mailbox:
        assert mailbox.has("MOVE")
        with sent_commands(mailbox) as sent:
            moved = move_message(mailbox, target, "Clients/Müller")
    assert ("UID", "MOVE") in [command[:2] for command in sent]
    assert not any(name in ("CLOSE", "EXPUNGE") for name, *_ in sent)
    uidvalidity = server_view.folder_status("Clients/Müller", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    assert moved == MessageLocation("Clients/Müller", uidvalidity, 2)
    assert contents(server_view, "INBOX") == {}
    assert contents(server_view, "Clients/Müller")[2] == {b"\\Seen", b"\\Flagged"}


def test_move_without_move_copies_then_expunges_that_message_alone(dovecot_bare, bare_user, bare_view):
    bare_view.create_folder("Archive 2026")
    other_deleted = put(bare_view, "INBOX", 1, flags=[b"\\Deleted"])
    target = put(bare_view, "INBOX", 2, flags=[b"\\Answered"])
    with connect(settings_for(dovecot_bare, bare_user)) as mailbox:
        assert not mailbox.has("MOVE") and mailbox.has("UIDPLUS")
        moved = move_message(mailbox, target, "Archive 2026")
    uidvalidity = bare_view.folder_status("Archive 2026", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    assert moved == MessageLocation("Archive 2026", uidvalidity, 1)
    assert contents(bare_view, "INBOX") == {other_deleted.uid: {b"\\Deleted"}}
    assert contents(bare_view, "Archive 2026") == {1: {b"\\Answered"}}
    assert subjects(bare_view, "Archive 2026") == ["Devis n°2"]


@pytest.mark.parametrize("server_name", ["dovecot", "dovecot_bare"])  # MOVE, and COPY + EXPUNGE
def test_move_to_a_folder_that_does_not_exist_is_refused_and_changes_nothing(request, server_name):
    server = request.getfixturevalue(server_name)
    user = server.add_user()
    with imap_view(server, user) as view:
        target = put(view, "INBOX", 1, flags=[b"\\Seen"])
        with connect(settings_for(server, user)) as mailbox:
            with pytest.raises(FolderError, match=r"Moving the message to 'Nowhere' was refused: .*Nowhere"):
                move_message(mailbox, target, "Nowhere")
        assert contents(view, "INBOX") == {target.uid: {b"\\Seen"}}
        assert "Nowhere" not in [name for _flags, _delimiter, name in view.list_folders()]


def test_a_failed_expunge_after_the_copy_takes_the_copy_back(dovecot_bare, bare_user, bare_view):
    bare_view.create_folder("Archive")
    target = put(bare_view, "INBOX", 1)
    with connect(settings_for(dovecot_bare, bare_user)) as mailbox:
        real_expunge = mailbox.uid_expunge
        calls = []

        def expunge_refused_once(uids):
            # Forces the one error path a real Dovecot does not take: the source's expunge refused.
            calls.append(uids)
            if len(calls) == 1:
                raise imaplib.IMAP4.error("EXPUNGE failed: [SERVERBUG] disk full")
            return real_expunge(uids)

        mailbox.uid_expunge = expunge_refused_once
        with pytest.raises(FolderError, match="disk full"):
            move_message(mailbox, target, "Archive")
    assert contents(bare_view, "INBOX") == {target.uid: set()}
    assert contents(bare_view, "Archive") == {}


def test_move_without_move_or_uidplus_is_refused(dovecot_without_uidplus):
    user = dovecot_without_uidplus.add_user()
    with imap_view(dovecot_without_uidplus, user) as view:
        view.create_folder("Archive")
        target = put(view, "INBOX", 1)
        with connect(settings_for(dovecot_without_uidplus, user)) as mailbox:
            with pytest.raises(Unsupported, match="neither move a message"):
                move_message(mailbox, target, "Archive")
        assert list(contents(view, "INBOX")) == [target.uid]


# -- the message must still be where the CRM saw it --------------------------------------------


def test_a_changed_uidvalidity_means_the_message_is_gone(settings, server_view):
    server_view.create_folder("Projects")
    target = put(server_view, "Projects", 1)
    server_view.delete_folder("Projects")
    server_view.create_folder("Projects")
    again = put(server_view, "Projects", 1)
    assert (again.uid, again.uidvalidity) != (target.uid, 0) and again.uidvalidity != target.uidvalidity
    with connect(settings) as mailbox:
        with pytest.raises(MessageGone, match="UIDVALIDITY changed"):
            delete_message(mailbox, target)
        with pytest.raises(MessageGone, match="UIDVALIDITY changed"):
            move_message(mailbox, target, "Archive")
    assert list(contents(server_view, "Projects")) == [again.uid]


def test_a_uid_no_longer_there_or_a_folder_deleted_means_the_message_is_gone(settings, server_view):
    server_view.create_folder("Old")
    target = put(server_view, "Old", 1)
    with connect(settings) as mailbox:
        with pytest.raises(MessageGone, match="no longer in folder 'Old'"):
            move_message(mailbox, dataclasses.replace(target, uid=target.uid + 5), "Archive")
        server_view.delete_folder("Old")
        with pytest.raises(MessageGone, match="'Old' no longer exists"):
            delete_message(mailbox, target)
    assert contents(server_view, "Archive") == {}
