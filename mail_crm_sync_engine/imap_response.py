"""A fast reader for FETCH responses, as imaplib hands them over.

imapclient's pure-Python lexer costs more than the server and the network together on a large
first sync (BODYSTRUCTURE has dozens of tokens a message). A regular expression does the same
tokenizing in C; this module builds the same shapes imapclient does: NIL is None, numbers are
ints, strings and atoms are bytes, parenthesized lists are lists.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

# An atom may carry a section and a partial, as in BODY[1.2]<0>; `{n}` ends a line before a literal.
_TOKEN_RE = re.compile(rb'[()]|"(?:[^"\\]|\\.)*"|\{\d+\+?\}$|[^\s()"\[]+(?:\[[^\]]*\](?:<\d+>)?)?')
_ESCAPE_RE = re.compile(rb"\\(.)")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_INTERNALDATE_RE = re.compile(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def as_text(value: bytes | str | None) -> str:
    """A value the server sent (bytes, or text imapclient already decoded) as text; None is ""."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class ResponseError(ValueError):
    """The response does not have the shape of FETCH data."""


def _tokens_into(stack: list[list], text: bytes) -> None:
    current = stack[-1]
    for token in _TOKEN_RE.findall(text):
        first = token[0]
        if first == 0x22:  # "string": the most frequent token in a BODYSTRUCTURE
            inner = token[1:-1]
            current.append(_ESCAPE_RE.sub(rb"\1", inner) if b"\\" in inner else inner)
        elif first == 0x28:  # (
            child: list = []
            current.append(child)
            stack.append(child)
            current = child
        elif first == 0x29:  # )
            if len(stack) == 1:
                raise ResponseError("unbalanced parenthesis")
            stack.pop()
            current = stack[-1]
        elif first == 0x7B:  # {n}: the literal follows as its own piece
            continue
        elif 0x30 <= first <= 0x39 and token.isdigit():
            current.append(int(token))
        elif token == b"NIL":
            current.append(None)
        else:
            current.append(token)


def parse_fetch(pieces: list) -> dict[int, dict[bytes, Any]]:
    """imaplib's untagged FETCH data (lines, and (line, literal) pairs) to {UID: {ITEM: value}}."""
    stack: list[list] = [[]]
    for piece in pieces:
        if isinstance(piece, tuple):
            _tokens_into(stack, piece[0])
            stack[-1].append(piece[1])
        elif piece is not None:
            _tokens_into(stack, piece)
    if len(stack) != 1:
        raise ResponseError("unclosed parenthesis")
    top = stack[0]
    messages: dict[int, dict[bytes, Any]] = {}
    for index in range(0, len(top) - 1, 2):
        items = top[index + 1]
        if not isinstance(top[index], int) or not isinstance(items, list) or len(items) % 2:
            raise ResponseError("not FETCH data")
        data = {items[i].upper(): items[i + 1] for i in range(0, len(items), 2)}
        uid = data.get(b"UID")
        if isinstance(uid, int):
            messages[uid] = data
    return messages


def sequence_set(text: bytes | str) -> list[int]:
    """An IMAP sequence set of UIDs ("1:3,7,9:8") as the numbers it names, ascending; "" is []."""
    numbers: list[int] = []
    for piece in as_text(text).split(","):
        first, _, last = piece.strip().partition(":")
        if not first.isdigit() or not (last.isdigit() or not last):
            continue  # "*" has no meaning in a server's answer
        low, high = sorted((int(first), int(last or first)))
        numbers.extend(range(low, high + 1))
    numbers.sort()
    return numbers


def parse_esearch(data: bytes) -> dict[bytes, bytes]:
    """An ESEARCH answer (RFC 4731) as imaplib stores it, without the word ESEARCH:
    b'(TAG "A5") UID ALL 1:3,5 MAX 5' -> {b"ALL": b"1:3,5", b"MAX": b"5"} (names upper-cased;
    the correlator and the UID marker are left out)."""
    words = data.split()
    if words and words[0].startswith(b"("):
        # The correlator: (TAG "A5"), whose string holds no space.
        while words and not words[0].endswith(b")"):
            words.pop(0)
        words = words[1:]
    if words and words[0].upper() == b"UID":
        words = words[1:]
    return {words[i].upper(): words[i + 1] for i in range(0, len(words) - 1, 2)}


def zoned_datetime(  # noqa: PLR0913 - takes a date pattern's groups as they come
    day: str,
    month: str,
    year: str,
    hour: str,
    minute: str,
    second: str | None,
    sign: str,
    zone_hours: str,
    zone_minutes: str,
) -> datetime.datetime | None:
    """An aware datetime from the pieces IMAP and RFC 5322 dates are written in; None if impossible."""
    number = _MONTHS.get(month.title())
    if number is None:
        return None
    try:
        return datetime.datetime(
            int(year),
            number,
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=_zone(sign, zone_hours, zone_minutes),
        )
    except ValueError:
        return None


@functools.lru_cache(maxsize=256)  # a mailbox's mail comes from a few time zones
def _zone(sign: str, zone_hours: str, zone_minutes: str) -> datetime.timezone:
    """The fixed offset "+0100" names; ValueError for one a timezone cannot be (24 hours or more)."""
    offset = datetime.timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
    return datetime.timezone(-offset if sign == "-" else offset)


def imap_date(day: datetime.date) -> str:
    """1-Nov-2026, with English month names whatever the process locale."""
    return f"{day.day}-{_MONTH_NAMES[day.month - 1]}-{day.year}"


def parse_internaldate(value: bytes | str | None) -> datetime.datetime | None:
    """ "23-Nov-2026 18:36:43 +0100" to an aware datetime; None when unreadable."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    match = _INTERNALDATE_RE.match(value)
    return zoned_datetime(*match.groups()) if match else None
