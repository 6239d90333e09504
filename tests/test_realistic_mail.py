"""The benchmarks' realistic mailbox (bench/realistic_mail.py) is reproducible and threads as mail does."""

from __future__ import annotations

import email
import email.policy

from bench.realistic_mail import RealisticMailbox, make_population

NOW = 1_800_000_000.0


def _mailbox(seed: int, **options) -> list:
    return list(RealisticMailbox(60, seed, population=make_population(200, seed=1), now=NOW, **options))


def test_same_seed_same_bytes_other_seed_other_mail():
    first, again, other = _mailbox(1), _mailbox(1), _mailbox(2)
    assert [mail.raw for mail in first] == [mail.raw for mail in again]
    assert [mail.raw for mail in first] != [mail.raw for mail in other]


def test_a_reply_quotes_and_references_the_message_it_answers():
    mail = {}
    for generated in _mailbox(1):
        message = email.message_from_bytes(generated.raw, policy=email.policy.default)
        mail[message["Message-ID"]] = message
    replies = [message for message in mail.values() if message["In-Reply-To"]]
    assert replies
    for reply in replies:
        earlier = mail[reply["In-Reply-To"]]
        assert reply["References"].split()[-1] == reply["In-Reply-To"]
        said = reply.get_body(("plain",)).get_content()
        assert f"{earlier['From'].addresses[0].display_name} <" in said
        first_line = earlier.get_body(("plain",)).get_content().splitlines()[0]
        assert f"> {first_line}" in said


def test_count_counts_the_folders_asked_for():
    inbox = _mailbox(1, folders=("INBOX",))
    assert len(inbox) == 60
    assert {mail.folder for mail in inbox} == {"INBOX"}
