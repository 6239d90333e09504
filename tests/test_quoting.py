from mail_crm_sync_engine.quoting import new_text


def test_quoted_lines_and_the_attribution_go():
    text = (
        "Thanks, Tuesday works.\nBest, Zoë\n\n"
        "On Mon, 3 Nov 2026 at 10:12, Jürgen <j@x.example> wrote:\n> Does Tuesday work?\n> J."
    )
    assert new_text(text) == "Thanks, Tuesday works.\nBest, Zoë"


def test_inline_replies_keep_the_answers():
    text = "> Price?\n12 EUR a piece.\n> Delivery?\nIn two weeks."
    assert new_text(text) == "12 EUR a piece.\nIn two weeks."


def test_attribution_wrapped_over_two_lines_and_other_languages():
    wrapped = "Ja, gerne.\n\nAm 03.11.2026 um 10:12 schrieb Zoë Martin\n<zoe@client.example>:\nHallo"
    assert new_text(wrapped) == "Ja, gerne."
    french = "D'accord.\nLe lun. 3 nov. 2026 à 10:12, Zoë <zoe@x.example> a écrit :\nBonjour"
    assert new_text(french) == "D'accord."


def test_outlook_history_after_a_header_block_or_separator_goes():
    header_block = (
        "See attached.\n\nFrom: Zoë Martin <zoe@x.example>\nSent: Monday, November 3, 2026 10:12\n"
        "To: me\nSubject: Plan\n\nOld text"
    )
    assert new_text(header_block) == "See attached."
    separator = "Agreed.\n-----Original Message-----\nFrom: x\nOld text"
    assert new_text(separator) == "Agreed."


def test_forwarded_mail_and_plain_text_stay_whole():
    forward = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Zoë <zoe@x.example>\nDate: Mon\n"
        "Subject: Plan\n\nThe plan"
    )
    assert new_text(forward) == forward
    plain = "From: the warehouse, all good.\nNothing quoted here."
    assert new_text(plain) == plain
