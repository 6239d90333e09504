"""Older mail and completeness against the real Dovecot: search by window and address, census,
fetching chosen UIDs newest first without moving the folder's state."""

from __future__ import annotations

import datetime
import time

import pytest

from mail_crm_sync_engine import (
    Direction,
    FolderRole,
    UidValidityChanged,
    census_folder,
    connect,
    fetch_uids,
    search_folder,
    sync_folder,
)
from tests.conftest import imap_view, sent_commands
from tests.mail_factory import make_mail

DAY = 86400
ME = "me@example.test"


def days_ago(days: float) -> float:
    return time.time() - days * DAY


def moment_ago(days: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)


def today_minus(days: int) -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=days)


def deliver_aged(dovecot, user, ages, folder="INBOX", **mail):
    for index, age in enumerate(ages):
        dovecot.deliver(
            user, make_mail(index, subject=f"aged {age}", **mail), folder=folder, when=days_ago(age)
        )


def test_search_by_window_finds_the_older_mail_to_the_second(dovecot, mail_user, settings):
    deliver_aged(dovecot, mail_user, (200, 170, 100, 15.5, 14.2, 13.8, 2))
    with connect(settings) as mailbox:
        older = search_folder(mailbox, "INBOX", since=moment_ago(180), before=moment_ago(14))
        everything = search_folder(mailbox, "INBOX")
    # UIDs follow arrival here: 1 is 200 days old, 7 is 2 days old.
    assert sorted(older.uids) == [2, 3, 4, 5]
    assert older.messages == 7 and older.uidvalidity == everything.uidvalidity
    assert sorted(everything.uids) == [1, 2, 3, 4, 5, 6, 7]


def test_search_by_address_finds_from_to_and_cc_only(dovecot, mail_user, settings):
    dovecot.deliver(mail_user, make_mail(1, sender="Bob <bob@client.example>", subject="from bob"))
    dovecot.deliver(mail_user, make_mail(2, sender="Eve <eve@other.example>", subject="not bob"))
    dovecot.deliver(mail_user, make_mail(3, sender="Eve <eve@other.example>", cc="bob@client.example"))
    dovecot.deliver(mail_user, make_mail(4, sender="Jimbob <jimbob@client.example.org>", subject="jim"))
    dovecot.deliver(mail_user, make_mail(5, sender=ME, to="Bob <bob@client.example>"), folder="Sent")
    dovecot.deliver(
        mail_user,
        make_mail(6, sender=ME, to="x@y.example", extra_headers={"Bcc": "bob@client.example"}),
        folder="Sent",
    )
    with connect(settings) as mailbox:
        inbox = search_folder(mailbox, "INBOX", addresses=["bob@client.example"])
        sent = search_folder(mailbox, "Sent", addresses=["Bob@Client.example"], folder_role=FolderRole.SENT)
    # SEARCH matches substrings: "jimbob@client.example.org" is the server's answer too; the CRM
    # links by exact address, so such mail is stored but not shown on Bob.
    assert {1, 3} <= set(inbox.uids) and 2 not in inbox.uids
    assert sorted(sent.uids) == [1, 2]


def test_fetch_uids_newest_first_in_batches_without_state_or_side_effects(dovecot, mail_user, settings):
    deliver_aged(dovecot, mail_user, (100, 90, 80, 70, 60))
    with connect(settings) as mailbox:
        first = list(sync_folder(mailbox, "INBOX", None, today_minus(14), own_addresses={ME}))
        state = first[-1].state
        with sent_commands(mailbox) as commands:
            batches = list(fetch_uids(mailbox, "INBOX", state.uidvalidity, [1, 2, 3, 5], {ME}, batch_size=2))
    assert [{record.uid for record in batch.messages} for batch in batches] == [{5, 3}, {2, 1}]
    assert all(not batch.incremental and batch.state.uidvalidity == state.uidvalidity for batch in batches)
    assert all(batch.state.last_uid == 0 for batch in batches)  # nothing to save as the folder's state
    assert batches[0].messages[0].direction == Direction.INCOMING
    assert [command[0] for command in commands if command[0] not in ("UID", "UNSELECT")] == ["EXAMINE"]
    assert not [command for command in commands if "STORE" in command or "EXPUNGE" in command]
    assert all("BODY[" not in str(command) for command in commands)
    with imap_view(dovecot, mail_user) as view:
        view.select_folder("INBOX", readonly=True)
        assert not any(b"\\Seen" in flags for flags in view.get_flags([1, 2, 3, 4, 5]).values())


def test_fetch_uids_drops_mail_before_the_floor(dovecot, mail_user, settings):
    deliver_aged(dovecot, mail_user, (100, 50, 10))
    with connect(settings) as mailbox:
        found = search_folder(mailbox, "INBOX")
        batches = list(
            fetch_uids(mailbox, "INBOX", found.uidvalidity, found.uids, not_before=today_minus(60))
        )
    assert sorted(record.subject for batch in batches for record in batch.messages) == ["aged 10", "aged 50"]


def test_fetch_uids_refuses_uids_of_another_uidvalidity(dovecot, mail_user, settings):
    deliver_aged(dovecot, mail_user, (1,))
    with connect(settings) as mailbox:
        found = search_folder(mailbox, "INBOX")
        with pytest.raises(UidValidityChanged):
            list(fetch_uids(mailbox, "INBOX", found.uidvalidity + 1, found.uids))


def test_census_counts_the_window_and_the_sent_mail(dovecot, mail_user, settings):
    deliver_aged(dovecot, mail_user, (40, 30, 5, 1))
    dovecot.deliver(mail_user, make_mail(7, sender=f"Me <{ME}>", to="bob@client.example"), when=days_ago(2))
    dovecot.deliver(mail_user, make_mail(8, sender="notme@example.test"), when=days_ago(2))
    deliver_aged(dovecot, mail_user, (50, 3), folder="Sent", sender=ME)
    with connect(settings) as mailbox:
        inbox = census_folder(mailbox, "INBOX", today_minus(14), {ME})
        sent = census_folder(mailbox, "Sent", today_minus(14), {ME}, FolderRole.SENT)
    assert inbox.messages == 6 and sorted(inbox.in_window) == [3, 4, 5, 6] and inbox.outside_window == 2
    assert sorted(inbox.outgoing) == [5]  # not notme@: SEARCH FROM's substring match is checked
    assert sorted(sent.in_window) == [2] and sorted(sent.outgoing) == [2] and sent.outside_window == 1


def test_an_address_with_quotes_is_searched_as_one_string(dovecot, mail_user, settings):
    dovecot.deliver(mail_user, make_mail(1, sender='"odd" <we"ird@client.example>'))
    dovecot.deliver(mail_user, make_mail(2, sender="bob@client.example"))
    with connect(settings) as mailbox:
        odd = search_folder(
            mailbox, "INBOX", addresses=['we"ird@client.example', "\u00e9t\u00e9@client.example"]
        )
        bob = search_folder(mailbox, "INBOX", addresses=["bob@client.example"])
    assert 2 not in odd.uids  # the quote did not end the string: no other mail matched
    assert sorted(bob.uids) == [2]
