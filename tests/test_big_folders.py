"""Folders of any size: no UID SEARCH answer may pass imaplib's 1,000,000-byte line limit.

imaplib refuses a longer line ("got more than 1000000 bytes") and drops the connection: a folder of
300,000 messages was never read. Most tests here lower the limit (``imaplib._MAXLINE``, read by
imaplib at each line) so that a folder of a few thousand messages crosses it; one crosses the
real limit with real UIDs. Figures for a 1,000,000-message folder: bench/big_folder.py.
"""

from __future__ import annotations

import dataclasses
import imaplib

import pytest
from imapclient import IMAPClient

from mail_crm_sync_engine import FolderState, connect, sync_folder
from mail_crm_sync_engine.imap_response import parse_esearch, sequence_set
from mail_crm_sync_engine.testing import DovecotServer
from tests.conftest import imap_view, sent_commands, settings_for

# Below this, a folder of MESSAGES messages (UIDs of 4 digits) cannot answer UID SEARCH ALL in one line.
SMALL_LIMIT = 4_000
MESSAGES = 2_000


@pytest.fixture(scope="session")
def dovecot_without_esearch():
    """A Dovecot that does not offer ESEARCH: plain SEARCH answers, one UID after the other."""
    with DovecotServer(hide_capabilities=("ESEARCH",)) as server:
        yield server


@pytest.fixture(params=["dovecot", "dovecot_without_esearch"])
def big_folder(request):
    """(server, user) with MESSAGES messages in INBOX, whatever the server offers for SEARCH."""
    server = request.getfixturevalue(request.param)
    user = server.add_user()
    server.fill(user, MESSAGES)
    return server, user


@pytest.fixture
def small_line_limit(monkeypatch):
    monkeypatch.setattr(imaplib, "_MAXLINE", SMALL_LIMIT)


def test_esearch_answers_and_their_uid_sets_are_read():
    assert parse_esearch(b'(TAG "A5") UID ALL 1:3,7,10:9 MAX 10') == {b"ALL": b"1:3,7,10:9", b"MAX": b"10"}
    assert parse_esearch(b'(TAG "A6") UID') == {}
    assert sequence_set(b"1:3,7,10:9") == [1, 2, 3, 7, 9, 10]
    assert sequence_set(b"") == []


def _sync(mailbox, state=None, known=()):
    batches = list(sync_folder(mailbox, "INBOX", state, None, known_uids=known, batch_size=300))
    return batches, [record for batch in batches for record in batch.messages]


def test_the_limit_is_real_one_plain_search_of_the_folder_is_refused(big_folder, small_line_limit):
    server, user = big_folder
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user.login, user.password)
    client.select_folder("INBOX", readonly=True)
    with pytest.raises(imaplib.IMAP4.error, match="got more than"):
        client._imap.uid("SEARCH", "ALL")
    client.shutdown()


def test_a_folder_whose_search_answer_passes_the_line_limit_is_synced_whole(big_folder, small_line_limit):
    server, user = big_folder
    with connect(settings_for(server, user)) as mailbox, sent_commands(mailbox) as sent:
        batches, records = _sync(mailbox)
    searches = [command for command in sent if command[:2] == ("UID", "SEARCH")]
    assert sorted(record.uid for record in records) == list(range(1, MESSAGES + 1))
    assert len({record.message_id for record in records}) == MESSAGES
    assert batches[-1].state.last_uid == MESSAGES
    assert len(searches) > 1, "searched in UID ranges"
    if server.hide_capabilities:
        assert not any("RETURN" in command for command in searches)
    else:
        assert all("RETURN" in command for command in searches), "ESEARCH where the server has it"


def test_mail_gone_from_a_folder_past_the_line_limit_is_found(big_folder, small_line_limit):
    server, user = big_folder
    settings = settings_for(server, user)
    with connect(settings) as mailbox:
        _batches, records = _sync(mailbox)
        state = _batches[-1].state
    with imap_view(server, user) as view:
        view.select_folder("INBOX")
        view.delete_messages([7, 1_500])
        view.expunge()
    known = [record.uid for record in records]
    with connect(settings) as mailbox:
        # VANISHED (QRESYNC), and the UID SEARCH of servers without it.
        vanished = [uid for batch in _sync(mailbox, state, known)[0] for uid in batch.gone_uids]
        plain = dataclasses.replace(state, highest_modseq=None, uidnext=None)
        searched = [uid for batch in _sync(mailbox, plain, known)[0] for uid in batch.gone_uids]
    assert vanished == [7, 1_500]
    assert searched == [7, 1_500]


def test_a_later_sync_of_a_folder_past_the_line_limit_takes_only_new_mail(big_folder, small_line_limit):
    server, user = big_folder
    settings = settings_for(server, user)
    with connect(settings) as mailbox:
        state = _sync(mailbox)[0][-1].state
    server.fill(user, 3)
    with connect(settings) as mailbox:
        _batches, records = _sync(mailbox, state)
    assert [record.uid for record in records] == [MESSAGES + 1, MESSAGES + 2, MESSAGES + 3]


def test_a_first_sync_cut_into_runs_resumes_from_each_saved_state(big_folder, small_line_limit):
    # As the addon runs it: a few batches per run, then the next run from the state saved.
    server, user = big_folder
    state, seen, runs = None, [], 0
    while runs < 20:
        runs += 1
        with connect(settings_for(server, user)) as mailbox:
            batches = sync_folder(mailbox, "INBOX", state, None, known_uids=seen, batch_size=300)
            taken = [batch for _, batch in zip(range(2), batches, strict=False)]
            batches.close()
        if not taken:
            break
        seen += [record.uid for batch in taken for record in batch.messages]
        state = taken[-1].state
    assert sorted(seen) == list(range(1, MESSAGES + 1))
    assert runs == 5, "2 batches of 300 a run: 4 runs, and a last one finding nothing new"


# -- the real limit, with real UIDs ------------------------------------------------------------

# UIDs of 10 digits: 92,000 of them make a SEARCH answer of 1,012,000 bytes.
REAL_FIRST_UID = 4_000_000_000
REAL_MESSAGES = 92_000


@pytest.fixture(scope="module")
def megabyte_folder(dovecot):
    user = dovecot.add_user()
    dovecot.fill(user, REAL_MESSAGES, first_uid=REAL_FIRST_UID)
    return dovecot, user


def test_the_real_limit_is_crossed_with_real_uids(megabyte_folder):
    server, user = megabyte_folder
    client = IMAPClient(server.host, port=server.port, ssl=False)
    client.login(user.login, user.password)
    client.select_folder("INBOX", readonly=True)
    with pytest.raises(imaplib.IMAP4.error, match="got more than 1000000 bytes"):
        client._imap.uid("SEARCH", "ALL")
    client.shutdown()


@pytest.mark.parametrize("esearch", [True, False], ids=["esearch", "plain-search"])
def test_a_search_answer_over_a_megabyte_is_read_whole(megabyte_folder, esearch):
    server, user = megabyte_folder
    expected = list(range(REAL_FIRST_UID, REAL_FIRST_UID + REAL_MESSAGES))
    with connect(settings_for(server, user)) as mailbox:
        if not esearch:
            mailbox.capabilities -= {"ESEARCH"}  # the same server, read as one without it
        mailbox.select("INBOX", readonly=True)
        assert mailbox.search_uids("ALL") == expected
        assert mailbox.search_uids("ALL", low=REAL_FIRST_UID + 5, high=REAL_FIRST_UID + 9) == expected[5:10]
        mailbox.unselect()
        # The gone check searches the whole known range: over a megabyte too.
        state = FolderState(mailbox.status("INBOX", ["UIDVALIDITY"])[b"UIDVALIDITY"], expected[-1])
        known = [REAL_FIRST_UID - 2, *expected]  # and one long gone
        batches = list(sync_folder(mailbox, "INBOX", state, None, known_uids=known))
    assert [batch.gone_uids for batch in batches] == [(REAL_FIRST_UID - 2,)]


def test_a_first_sync_of_a_folder_with_a_megabyte_search_answer_takes_every_message(megabyte_folder):
    server, user = megabyte_folder
    count, last = 0, None
    with connect(settings_for(server, user)) as mailbox:
        for batch in sync_folder(mailbox, "INBOX", None, None, batch_size=1000):
            count += len(batch.messages)
            last = batch.state
    assert count == REAL_MESSAGES
    assert last.last_uid == REAL_FIRST_UID + REAL_MESSAGES - 1
