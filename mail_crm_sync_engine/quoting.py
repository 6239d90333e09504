"""The text a writer typed in a reply, without the history it quotes.

Full-text search indexes this part of each email: the quoted history is the text of earlier
emails, which are indexed themselves when they are synced. Forwarded messages are kept whole: the
forwarded mail is usually not in the mailbox, and searching it is why people forward.
"""

from __future__ import annotations

import re

# "On Tue, 3 Nov 2026 at 10:12, Zoë <zoe@x> wrote:" and its kin in the languages mail clients use;
# the attribution line may wrap once.
_ATTRIBUTION_RE = re.compile(
    r"^(?:on\b.{0,200}\bwrote|le\b.{0,200}\ba écrit|am\b.{0,200}\bschrieb\b.{0,200}|el\b.{0,200}\bescribió"
    r"|il\b.{0,200}\bha scritto|op\b.{0,200}\bschreef\b.{0,200}|em\b.{0,200}\bescreveu"
    r"|w dniu\b.{0,200}\bpisze|den\b.{0,200}\bskrev\b.{0,200})\s*:\s*$",
    re.IGNORECASE,
)
# No attribution line matched above is longer (two stretches of 200 characters and the words).
_MAX_ATTRIBUTION_CHARS = 500
_FORWARD_RE = re.compile(
    r"^(?:-+\s*(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado)\s*-+"
    r"|begin forwarded message:)\s*$",
    re.IGNORECASE,
)
# Outlook's reply separators: "-----Original Message-----", a line of underscores, or a header
# block ("From: … / Sent: … / To: … / Subject: …", in English, German, French, Spanish …).
_SEPARATOR_RE = re.compile(
    r"^(?:-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_RE = re.compile(r"^\*?(?:from|von|de|van|od|från|fra)\s*:\*?\s", re.IGNORECASE)
_HEADER_NEXT_RE = re.compile(
    r"^\*?(?:sent|date|gesendet|datum|envoyé|enviado|fecha|verzonden|wysłano|skickat|sendt|to|an|à|para|aan|do)"
    r"\s*:\*?\s",
    re.IGNORECASE,
)


def new_text(text: str) -> str:
    """``text`` without quoted lines ("> …") and without the history after a reply's attribution
    line or Outlook separator. Returns ``text`` unchanged when nothing looks quoted."""
    if not text:
        return text
    lines = text.splitlines()
    kept = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _FORWARD_RE.match(stripped):
            kept += lines[index:]  # the forwarded mail is kept whole
            break
        if _attribution(stripped) or _joined_attribution(stripped, lines, index):
            break
        if _SEPARATOR_RE.match(stripped) or (_HEADER_RE.match(stripped) and _header_block(lines, index)):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _attribution(line: str) -> bool:
    """An attribution line: one that ends with a colon and is short is tested against the
    pattern, whose backtracking would cost much on every long line of a large body."""
    return line.endswith(":") and len(line) <= _MAX_ATTRIBUTION_CHARS and bool(_ATTRIBUTION_RE.match(line))


def _joined_attribution(stripped: str, lines: list[str], index: int) -> bool:
    """An attribution line wrapped over two lines by the sender's client."""
    if index + 1 >= len(lines) or not stripped:
        return False
    following = lines[index + 1].strip()
    return following.endswith(":") and _attribution(f"{stripped} {following}")


def _header_block(lines: list[str], index: int) -> bool:
    """ "From:" starts a quoted header block when a Sent/Date/To line follows within three lines."""
    return any(_HEADER_NEXT_RE.match(line.strip()) for line in lines[index + 1 : index + 4])
