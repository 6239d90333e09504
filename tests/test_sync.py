"""Folder sync against the real Dovecot: window, increments, UIDVALIDITY, deletions, no side effects."""

from __future__ import annotations

import contextlib
import datetime
import re
import time

import pytest

from mail_crm_sync_engine import (
    Direction,
    FailedMessage,
    FolderError,
    FolderRole,
    FolderState,
    connect,
    default_selection,
    fetch_uids,
    folder_role,
    list_folders,
    sync_folder,
)
from mail_crm_sync_engine.sync import LISTED_NOT_SENT, _not_sent
from tests.conftest import append, imap_view, sent_commands, settings_for
from tests.mail_factory import make_mail
from tests.test_deadline import load_mailbox_reader

DAY = 86400
ME = "me@example.test"


def run(mailbox, folder="INBOX", state=None, window=None, known=(), **options):
    """All batches of one sync, plus the records, the final state and the gone UIDs."""
    batches = list(
        sync_folder(mailbox, folder, state, window, own_addresses={ME}, known_uids=known, **options)
    )
    records = [record for batch in batches for record in batch.messages]
    final = batches[-1].state if batches else state
    gone = [uid for batch in batches for uid in batch.gone_uids]
    return batches, records, final, gone


def days_ago(days: float) -> float:
    return time.time() - days * DAY


def test_first_sync_takes_only_mail_inside_the_window(dovecot, mail_user, settings):
    for index, age in enumerate((40, 20, 13, 2, 0.1)):
        dovecot.deliver(mail_user, make_mail(index, subject=f"aged {age}"), when=days_ago(age))
    window = datetime.date.today() - datetime.timedelta(days=14)
    with connect(settings) as mailbox:
        _batches, records, state, _gone = run(mailbox, window=window)
    assert sorted(record.subject for record in records) == ["aged 0.1", "aged 13", "aged 2"]
    # Everything below UIDNEXT was considered, so older mail never comes back in a later run.
    assert state.last_uid == 5 and state.uidnext == 6


def test_a_moment_as_window_start_takes_only_mail_from_that_moment(dovecot, mail_user, settings):
    connected = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    for index, hours in enumerate((3, 2, 0.5, 0)):
        dovecot.deliver(mail_user, make_mail(index, subject=f"{hours} hours ago"), when=days_ago(hours / 24))
    with connect(settings) as mailbox:
        _batches, records, _state, _gone = run(mailbox, window=connected)
        _batches, naive_records, _state, _gone = run(mailbox, window=connected.replace(tzinfo=None))
    assert sorted(record.subject for record in records) == ["0 hours ago", "0.5 hours ago"]
    assert sorted(record.subject for record in naive_records) == ["0 hours ago", "0.5 hours ago"]


def test_second_run_returns_only_new_mail_and_an_idle_poll_nothing(dovecot, mail_user, settings):
    for index in range(3):
        dovecot.deliver(mail_user, make_mail(index))
    with connect(settings) as mailbox:
        _, first, state, _ = run(mailbox)
        dovecot.deliver(mail_user, make_mail(10, subject="the new one"))
        _batches, second, state2, _ = run(mailbox, state=state)
        idle_batches, idle, _, _ = run(mailbox, state=state2)
    assert len(first) == 3
    assert [record.subject for record in second] == ["the new one"]
    assert second[0].uid == 4 and state2.last_uid == 4
    assert idle_batches == [] and idle == []


def test_highest_uid_is_not_taken_again_when_the_search_is_forced(dovecot, mail_user, settings):
    # `UID n:*` returns the highest UID even when it is below n (RFC 3501 6.4.8).
    dovecot.deliver(mail_user, make_mail(1))
    with connect(settings) as mailbox:
        _, _, state, _ = run(mailbox)
        forced = FolderState(state.uidvalidity, state.last_uid, None, None, None)  # no poll shortcut
        _, records, _, _ = run(mailbox, state=forced)
    assert records == []


def test_idle_poll_costs_one_status_round_trip(dovecot, mail_user, settings):
    dovecot.deliver(mail_user, make_mail(1))
    with connect(settings) as mailbox:
        _, _, state, _ = run(mailbox)
        with sent_commands(mailbox) as sent:
            run(mailbox, state=state)
    assert [name for name, *_ in sent] == ["STATUS"]


def test_batches_carry_the_state_to_save_after_each(dovecot, mail_user, settings):
    for index in range(7):
        dovecot.deliver(mail_user, make_mail(index))
    with connect(settings) as mailbox:
        batches, records, _, _ = run(mailbox, batch_size=3)
    assert [len(batch.messages) for batch in batches] == [3, 3, 1]
    assert [batch.state.last_uid for batch in batches] == [3, 6, 7]
    # Only the last batch says "up to date"; a crash before it resumes instead of skipping.
    assert batches[0].state.uidnext is None and batches[-1].state.uidnext == 8
    assert len({record.message_id for record in records}) == 7


def test_uidvalidity_change_starts_over_and_says_so(dovecot, mail_user, settings, server_view):
    server_view.create_folder("Projects")
    raws = [make_mail(index, message_id=f"<p{index}@client.example>") for index in range(3)]
    for raw in raws:
        append(server_view, "Projects", raw)
    with connect(settings) as mailbox:
        _, first, state, _ = run(mailbox, "Projects")
        server_view.delete_folder("Projects")
        server_view.create_folder("Projects")
        for raw in raws:
            append(server_view, "Projects", raw)
        append(server_view, "Projects", make_mail(9, message_id="<p9@client.example>"))
        batches, second, state2, _ = run(mailbox, "Projects", state=state, known=[r.uid for r in first])
    assert batches[0].reset
    assert state2.uidvalidity != state.uidvalidity
    ids_first = {record.message_id for record in first}
    ids_second = {record.message_id for record in second}
    # The caller re-keys by message_id: the three old ones are the same mail, one is new.
    assert ids_first < ids_second and ids_second - ids_first == {"<p9@client.example>"}


@pytest.mark.parametrize("server_name", ["dovecot", "dovecot_plain"])
def test_message_deleted_on_the_server_is_reported_gone(request, server_name):
    server = request.getfixturevalue(server_name)
    user = server.add_user()
    settings = settings_for(server, user)
    for index in range(4):
        server.deliver(user, make_mail(index))
    with connect(settings) as mailbox:
        _, records, state, _ = run(mailbox)
        assert mailbox.qresync is (server_name == "dovecot")
        with imap_view(server, user) as other:
            other.select_folder("INBOX")
            other.delete_messages([records[1].uid])
            other.expunge()
        server.deliver(user, make_mail(20))
        _, new, _, gone = run(mailbox, state=state, known=[record.uid for record in records])
    assert gone == [records[1].uid]
    assert len(new) == 1


def test_server_without_condstore_syncs_exactly(dovecot_plain):
    user = dovecot_plain.add_user()
    settings = settings_for(dovecot_plain, user)
    for index in range(5):
        dovecot_plain.deliver(user, make_mail(index))
    with connect(settings) as mailbox:
        assert not mailbox.condstore
        _, first, state, _ = run(mailbox, batch_size=2)
        assert state.highest_modseq is None
        idle_batches, _, _, _ = run(mailbox, state=state)
        dovecot_plain.deliver(user, make_mail(5, subject="sixth"))
        _, second, _, _ = run(mailbox, state=state)
    assert len(first) == 5 and len({r.message_id for r in first}) == 5
    assert idle_batches == []
    assert [record.subject for record in second] == ["sixth"]


def test_same_message_in_two_folders_gives_one_message_id(dovecot, mail_user, settings):
    raw = make_mail(1, sender=f"Me <{ME}>", to="client@client.example", message_id=None)
    dovecot.deliver(mail_user, raw, folder="INBOX")
    dovecot.deliver(mail_user, raw, folder="Sent")
    with connect(settings) as mailbox:
        _, inbox, _, _ = run(mailbox, "INBOX")
        _, sent, _, _ = run(mailbox, "Sent", folder_role=FolderRole.SENT)
    assert inbox[0].message_id == sent[0].message_id
    assert inbox[0].message_id_synthetic
    assert sent[0].folder == "Sent" and inbox[0].folder == "INBOX"


def test_direction_from_own_addresses_and_folder_role(dovecot, mail_user, settings):
    dovecot.deliver(mail_user, make_mail(1, sender="client@client.example", to=ME))
    dovecot.deliver(mail_user, make_mail(2, sender=f"Me <{ME.upper()}>", to="client@client.example"))
    dovecot.deliver(
        mail_user, make_mail(3, sender="alias@example.test", to="x@client.example"), folder="Sent"
    )
    with connect(settings) as mailbox:
        _, inbox, _, _ = run(mailbox)
        _, sent, _, _ = run(mailbox, "Sent", folder_role=FolderRole.SENT)
    assert [record.direction for record in inbox] == [Direction.INCOMING, Direction.OUTGOING]
    assert sent[0].direction == Direction.OUTGOING


def test_sync_changes_nothing_on_the_server(dovecot, mail_user, settings, server_view):
    for index in range(3):
        dovecot.deliver(
            mail_user, make_mail(index, attachments=(("a.pdf", "application/pdf", b"%PDF" * 50),))
        )
    dovecot.deliver(mail_user, make_mail(9), flags="F")
    server_view.select_folder("INBOX", readonly=True)
    before = server_view.fetch(server_view.search("ALL"), ["FLAGS"])
    with connect(settings) as mailbox:
        run(mailbox)
    after = server_view.fetch(server_view.search("ALL"), ["FLAGS"])
    assert {uid: set(v[b"FLAGS"]) - {b"\\Recent"} for uid, v in before.items()} == {
        uid: set(v[b"FLAGS"]) - {b"\\Recent"} for uid, v in after.items()
    }
    assert all(b"\\Seen" not in v[b"FLAGS"] for v in after.values())
    assert len(after) == 4  # nothing expunged


def test_attachment_bytes_are_never_fetched_during_sync(dovecot, mail_user, settings):
    dovecot.deliver(
        mail_user,
        make_mail(
            1, html="<p>Hi</p>", attachments=(("big.bin", "application/octet-stream", b"x" * 300_000),)
        ),
    )
    with connect(settings) as mailbox:
        asked = []
        original = mailbox.send_fetch
        mailbox.send_fetch = lambda uids, items: asked.extend(items) or original(uids, items)
        _, records, _, _ = run(mailbox)
    body_items = [item for item in asked if item.startswith("BODY.PEEK[") and "HEADER" not in item]
    assert body_items == ["BODY.PEEK[1.1]", "BODY.PEEK[1.2]"]
    record = records[0]
    assert record.text.strip() == "Bonjour, voici le devis."
    assert record.html.strip() == "<p>Hi</p>"
    [attachment] = record.attachments
    assert (attachment.filename, attachment.content_type, attachment.part) == (
        "big.bin",
        "application/octet-stream",
        "2",
    )
    assert abs(attachment.size - 300_000) < 300  # the decoded size, not the base64 one


def test_one_broken_folder_does_not_stop_the_others(dovecot, mail_user, settings):
    dovecot.deliver(mail_user, make_mail(1))
    with connect(settings) as mailbox:
        folders = default_selection(list_folders(mailbox))
        results, errors = {}, {}
        for name in ["Does/Not/Exist", *(folder.name for folder in folders)]:
            try:
                results[name] = run(mailbox, name)[1]
            except FolderError as error:
                errors[name] = str(error)
    assert list(errors) == ["Does/Not/Exist"]
    assert "Does/Not/Exist" in errors["Does/Not/Exist"]
    assert len(results["INBOX"]) == 1 and results["Sent"] == []


def test_folder_roles_and_default_selection(dovecot, mail_user, settings, server_view):
    server_view.create_folder("Clients/Müller & Söhne")
    with connect(settings) as mailbox:
        folders = {folder.name: folder for folder in list_folders(mailbox, with_counts=True)}
    assert folders["INBOX"].role == FolderRole.INBOX
    assert folders["Sent"].role == FolderRole.SENT
    assert folders["Trash"].role == FolderRole.TRASH
    assert folders["Junk"].role == FolderRole.JUNK
    assert folders["Clients/Müller & Söhne"].role == FolderRole.OTHER
    assert folders["INBOX"].messages == 0
    assert {f.name for f in folders.values() if f.default_active} == {"INBOX", "Sent"}


@pytest.mark.parametrize(
    ("name", "flags", "role"),
    [
        ("Sent Items", (), FolderRole.SENT),  # Exchange without SPECIAL-USE
        ("INBOX.Gesendet", (), FolderRole.SENT),
        ("[Gmail]/Spam", ("\\HasNoChildren",), FolderRole.JUNK),
        ("Deleted Items", (), FolderRole.TRASH),
        ("[Gmail]/All Mail", ("\\All",), FolderRole.ALL),
        ("Ablage", ("\\Archive",), FolderRole.ARCHIVE),
        ("Projects/Sent", ("\\Sent",), FolderRole.SENT),
        ("Kunden", (), FolderRole.OTHER),
        ("inbox", (), FolderRole.INBOX),
    ],
)
def test_folder_role_from_attributes_else_well_known_names(name, flags, role):
    delimiter = "." if name.startswith("INBOX.") else "/"
    assert folder_role(name, flags, delimiter) == role


def test_known_uids_are_asked_for_only_when_the_folder_changed(dovecot, mail_user, settings):
    for index in range(3):
        dovecot.deliver(mail_user, make_mail(index))
    asked = []

    def known():
        asked.append(True)
        return [1, 2, 3]

    with connect(settings) as mailbox:
        _, _, state, _ = run(mailbox)
        run(mailbox, state=state, known=known)
        assert asked == []
        dovecot.deliver(mail_user, make_mail(9))
        _, new, _, gone = run(mailbox, state=state, known=known)
    assert asked == [True]
    assert len(new) == 1 and gone == []


def test_extra_headers_are_fetched_when_asked_for(dovecot, mail_user, settings):
    dovecot.deliver(
        mail_user,
        make_mail(
            1, extra_headers={"X-Priority": "1 (Highest)", "X-Campaign": "=?utf-8?q?Hiver_=C3=A9t=C3=A9?="}
        ),
    )
    dovecot.deliver(mail_user, make_mail(2))
    with connect(settings) as mailbox:
        _, plain, _, _ = run(mailbox)
        _, asked, _, _ = run(mailbox, extra_headers=("X-Priority", "x-campaign", "X-Absent"))
    assert [record.extra_headers for record in plain] == [(), ()]
    by_uid = {record.uid: dict(record.extra_headers) for record in asked}
    assert by_uid == {1: {"x-priority": "1 (Highest)", "x-campaign": "Hiver été"}, 2: {}}


# -- a server that lists a message and never sends it ------------------------------------------


@contextlib.contextmanager
def omitting(mailbox, uid: int):
    """What the connection reads from the real Dovecot, minus every FETCH answer about ``uid``:
    a server that lists a message and then never sends it. (A fake, only to force that path.)"""
    imap = mailbox._imap
    readline, read = imap.readline, imap.read
    about_uid = re.compile(rb"^\* \d+ FETCH \(.*\bUID %d\b" % uid)

    def filtered() -> bytes:
        line = readline()
        while about_uid.match(line):
            while literal := re.search(rb"\{(\d+)\}\r\n$", line):
                read(int(literal.group(1)))
                line = readline()
            line = readline()
        return line

    imap.readline = filtered
    try:
        yield
    finally:
        del imap.readline


def test_a_message_listed_but_never_sent_is_failed_and_can_be_asked_for_again(dovecot, mail_user, settings):
    for index in range(5):
        dovecot.deliver(mail_user, make_mail(index))
    with connect(settings) as mailbox:
        with omitting(mailbox, 3):
            batches, records, state, _ = run(mailbox, batch_size=2)
        failed = [item for batch in batches for item in batch.failed]
        again = list(fetch_uids(mailbox, "INBOX", state.uidvalidity, [item.uid for item in failed]))
    assert [record.uid for record in records] == [1, 2, 4, 5]
    # Said in the batch whose state passes it: stored together, nothing is skipped silently.
    assert [(batch.state.last_uid, batch.failed) for batch in batches] == [
        (2, ()),
        (4, (FailedMessage(3, LISTED_NOT_SENT),)),
        (5, ()),
    ]
    assert [record.uid for batch in again for record in batch.messages] == [3]


def test_a_message_listed_but_expunged_before_it_was_read_is_not_a_failure(dovecot, mail_user, settings):
    for index in range(3):
        dovecot.deliver(mail_user, make_mail(index))
    with connect(settings) as mailbox:
        mailbox.select("INBOX", readonly=True)
        assert _not_sent(mailbox, [2, 7]) == (FailedMessage(2, LISTED_NOT_SENT),)


def test_the_reader_asks_again_for_the_messages_it_is_given_to_retry(dovecot, mail_user, settings):
    reader_module = load_mailbox_reader()
    for index in range(4):
        dovecot.deliver(mail_user, make_mail(index))
    with connect(settings) as mailbox:
        with omitting(mailbox, 2):
            _, _, state, _ = run(mailbox)
    folder = reader_module.FolderToRead(None, "INBOX", FolderRole.INBOX, state, retry_uids=(2,))
    with reader_module.MailboxReader(settings, [folder], lambda: None, lambda _folder: (1, 3, 4)) as reader:
        items = list(reader)
    assert [
        (kind, [record.uid for record in batch.messages], batch.incremental) for kind, _, batch in items
    ] == [("batch", [2], False)]


# -- a server whose SELECT gives no UIDNEXT (Courier) --------------------------------------------


@pytest.mark.parametrize("esearch", [True, False], ids=["esearch", "fetch"])
@pytest.mark.parametrize(
    ("ages", "in_window"),
    [((40, 30), []), ((40, 2, 30), ["aged 2"])],
    ids=["nothing-in-window", "newest-uid-outside-window"],
)
def test_without_uidnext_in_select_the_window_still_holds_at_the_next_sync(  # noqa: PLR0913 - fixtures
    dovecot, mail_user, settings, esearch, ages, in_window
):
    # The highest UID may be older than the window: mail moved in from another folder.
    for index, age in enumerate(ages):
        dovecot.deliver(mail_user, make_mail(index, subject=f"aged {age}"), when=days_ago(age))
    window = datetime.date.today() - datetime.timedelta(days=14)
    with connect(settings) as mailbox:
        if not esearch:
            mailbox.capabilities -= {"ESEARCH"}  # the highest UID by FETCH 1,* (UID) instead
        client = mailbox._client
        select_folder = client.select_folder
        # Courier answers SELECT without UIDNEXT: the same server, its answer read without it.
        client.select_folder = lambda folder, readonly=False: {
            key: value for key, value in select_folder(folder, readonly=readonly).items() if key != b"UIDNEXT"
        }
        _, first, state, _ = run(mailbox, window=window)
        dovecot.deliver(mail_user, make_mail(9, subject="new"))
        _, second, _, _ = run(mailbox, state=state)
    assert [record.subject for record in first] == in_window
    assert state.last_uid == len(ages)
    assert [record.subject for record in second] == ["new"]
