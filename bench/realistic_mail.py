"""A seeded mailbox as a salesman has it, for the Odoo benchmarks: threads, quotes, HTML, PDFs.

    from bench.realistic_mail import RealisticMailbox, make_population
    people = make_population(5000, seed=1)          # the contacts the CRM knows, and who it does not
    mailbox = RealisticMailbox(10_000, seed=1, population=people)
    mailbox.fill(server, user)                       # maildir files, fast (INBOX and Sent)
    for raw in RealisticMailbox(1000, seed=2, population=people, folders=("INBOX",)).raw_messages():
        ...                                          # RFC 5322 bytes, CRLF, e.g. for message_process

What the mail is like:

- threads of 2 to 8 messages between the owner (me@example.test) and one correspondent, sometimes
  with the correspondent's colleagues or the owner's in Cc; a reply answers the message before
  it: Re: subject, In-Reply-To and References, and its text quotes that message's whole text
  under an "On <date>, <name> wrote:" line with "> " (so quotes nest), its HTML in a
  <blockquote>. Text parts average about 6 KB;
- 60% multipart/alternative (text and HTML), the rest plain text; a third carry one or two real
  PDFs of 10-300 KB (a page of the document's own text over a scan-like image, so that every
  file differs and opens in a viewer);
- correspondents from a pool of companies and their people (the contacts a CRM holds), plus
  prospects known only to a lead and strangers (free-mail and unknown companies), in seven
  languages with their scripts (RFC 2047 headers, RFC 2231 file names, quoted-printable or
  base64 bodies), real-looking Received, DKIM and Authentication-Results headers on received mail;
- received mail in INBOX, the owner's in Sent, dated over the last ``days`` days (INTERNALDATE
  too); UID order follows arrival.

``style=TEXT_HEAVY`` writes the mail of people who write more and quote less: text parts spread
evenly over 1-20 KB, real sentences (the translated strings of the Odoo host's apps, some 9,000 a
language, 15,000 distinct words: a vocabulary as wide as a business's mail), threads of 1 to 5
messages of which a tenth of the replies quote.

The same seed and population give the same bytes. ``count`` counts the messages of ``folders``:
with ``folders=("INBOX",)`` the owner's messages are still written (to be quoted) but not given.
"""

from __future__ import annotations

import base64
import datetime
import functools
import html
import os
import random
import re
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.mail_texts import (
    COLLEAGUES,
    LANGUAGES,
    OWNER,
    OWNER_TITLE,
    STRANGER_DOMAINS,
    Language,
)
from bench.mailgen import address, b64, encoded, multipart, rfc2231, text_part, write_maildir
from mail_crm_sync_engine.testing import DovecotServer, MailUser
from mail_crm_sync_engine.testing.pdf import pdf_file, show_line

HTML_SHARE = 0.6
META = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
PDF_SHARE = 1 / 3
PDF_SIZES = (10_000, 300_000)
THREAD_LENGTHS = (2, 8)
# Sentences of new text per message: with quotes growing along a thread, text parts average ~6 KB.
NEW_SENTENCES = (7, 28)
ODOO_ADDONS = Path(os.environ.get("MCS_ODOO_HOST", Path.home() / "odoo18")) / "src/addons"


@dataclass(frozen=True, slots=True)
class TextStyle:
    """How much people write and quote.

    ``text_sizes``: the bytes of each text part, drawn evenly from this range (None: 7-28 of the
    language's sentences, plus what a reply quotes); ``quote_share``: of replies, those that quote
    the message they answer; ``prose``: sentences from the Odoo host's translations rather than the
    few of bench/mail_texts.py.
    """

    thread_lengths: tuple[int, int] = THREAD_LENGTHS
    text_sizes: tuple[int, int] | None = None
    quote_share: float = 1.0
    prose: bool = False


CONVERSATIONS = TextStyle()
TEXT_HEAVY = TextStyle(thread_lengths=(1, 5), text_sizes=(1000, 20_000), quote_share=0.1, prose=True)


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    domain: str
    language: Language


@dataclass(frozen=True, slots=True)
class Person:
    """A correspondent, with the header form of the address ready (it is written thousands of times)."""

    name: str
    first: str
    email: str
    language: Language
    company: Company | None = None
    title: str = ""
    phone: str = ""
    header: str = field(default="", compare=False)

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def partner_values(self, company_ids: dict[str, int]) -> dict:
        """res.partner values of this contact, under its company's id (``company_ids`` by domain)."""
        return {
            "name": self.name,
            "email": self.email,
            "parent_id": company_ids[self.domain],
            "function": self.title,
            "phone": self.phone,
        }


@dataclass(frozen=True, slots=True)
class Population:
    """Who writes: the owner and colleagues, the CRM's companies and their people (``contacts``),
    prospects a CRM knows only from a lead's email, and strangers it does not know at all."""

    owner: Person
    colleagues: tuple[Person, ...]
    companies: tuple[Company, ...]
    contacts: tuple[Person, ...]
    prospects: tuple[Person, ...]
    strangers: tuple[Person, ...]
    by_company: dict[str, tuple[Person, ...]] = field(default_factory=dict, compare=False, repr=False)

    def colleagues_of(self, person: Person) -> tuple[Person, ...]:
        """The other contacts of ``person``'s company."""
        return tuple(other for other in self.by_company.get(person.domain, ()) if other is not person)


def _by_company(people: tuple[Person, ...]) -> dict[str, tuple[Person, ...]]:
    index: dict[str, list[Person]] = {}
    for person in people:
        if person.company:
            index.setdefault(person.domain, []).append(person)
    return {domain: tuple(members) for domain, members in index.items()}


def make_population(contacts: int = 5000, seed: int = 1) -> Population:
    """``contacts`` people in companies of about eight, a sixteenth as many prospects (people of
    companies the CRM does not hold) and half as many strangers (free mail), all reproducible."""
    rnd = random.Random(f"population/{seed}")
    taken: set[str] = set()
    companies = tuple(_company(rnd, index, "") for index in range(max(1, contacts // 8)))
    people = tuple(_person(rnd, taken, companies[rnd.randrange(len(companies))]) for _ in range(contacts))
    prospect_companies = [_company(rnd, index, "p") for index in range(max(1, contacts // 40))]
    prospects = tuple(_person(rnd, taken, rnd.choice(prospect_companies)) for _ in range(contacts // 16))
    strangers = tuple(_person(rnd, taken, None) for _ in range(contacts // 2))
    colleagues = tuple(_fixed(*colleague) for colleague in COLLEAGUES)
    return Population(
        _fixed(*OWNER), colleagues, companies, people, prospects, strangers, _by_company(people)
    )


def _language(rnd: random.Random) -> Language:
    return rnd.choices([language for language, _ in LANGUAGES], [weight for _, weight in LANGUAGES])[0]


def _company(rnd: random.Random, index: int, kind: str) -> Company:
    language = _language(rnd)
    family, ascii_family = rnd.choice(language.last_names)
    trade = rnd.random() < 0.3
    name = rnd.choice(language.company_forms).format(
        name=rnd.choice(language.trade_words) if trade else family
    )
    slug = "".join(char if char.isalnum() else "-" for char in (f"co{index}" if trade else ascii_family))
    return Company(name, f"{slug}-{kind}{index}.{language.tld}", language)


def _person(rnd: random.Random, taken: set[str], company: Company | None) -> Person:
    language = company.language if company else _language(rnd)
    first, ascii_first = rnd.choice(language.first_names)
    last, ascii_last = rnd.choice(language.last_names)
    name = f"{last} {first}" if language.family_first else f"{first} {last}"
    domain = company.domain if company else rnd.choice(STRANGER_DOMAINS)
    local = f"{ascii_first}.{ascii_last}"
    email, serial = f"{local}@{domain}", 1
    while email in taken:  # namesakes at one domain: jose.nunez2@...
        serial += 1
        email = f"{local}{serial}@{domain}"
    taken.add(email)
    phone = f"+{rnd.randint(30, 89)} {rnd.randint(100, 999)} {rnd.randint(100_000, 999_999)}"
    title = rnd.choice(language.titles) if company else ""
    return Person(name, first, email, language, company, title, phone, address((name, email)))


def _fixed(name: str, email: str) -> Person:
    english = LANGUAGES[0][0]
    return Person(
        name, name.split(maxsplit=1)[0], email, english, None, OWNER_TITLE, "", address((name, email))
    )


# -- planning: who writes to whom, when --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Thread:
    index: int
    correspondent: Person
    cc: tuple[Person, ...]
    language: Language
    subject: str
    length: int


@dataclass(frozen=True, slots=True)
class Planned:
    """One message of a thread before its words are written."""

    thread: Thread
    position: int
    when: float
    sender: Person
    to: Person
    outgoing: bool
    html: bool
    pdf_sizes: tuple[int, ...]

    @property
    def folder(self) -> str:
        return "Sent" if self.outgoing else "INBOX"


@dataclass(frozen=True, slots=True)
class Mail:
    """A generated message: where it is filed, when it arrived, its bytes (CRLF), and what it is."""

    folder: str
    when: float
    raw: bytes
    text_size: int
    html: bool
    pdfs: int
    quoted: bool = False
    correspondent: Person | None = None  # the other side


class RealisticMailbox:
    """``count`` messages of ``folders``, planned at once, written one by one in arrival order."""

    def __init__(  # noqa: PLR0913 - the generator's knobs, each with a default
        self,
        count: int = 10_000,
        seed: int = 1,
        *,
        population: Population | None = None,
        folders: tuple[str, ...] = ("INBOX", "Sent"),
        days: float = 20.0,
        now: float | None = None,
        style: TextStyle = CONVERSATIONS,
    ):
        self.count = count
        self.seed = seed
        self.population = population or make_population(seed=seed)
        self.folders = folders
        self.days = days
        self.now = time.time() if now is None else now
        self.style = style
        self.pdfs = PdfMaker(seed)

    def __iter__(self) -> Iterator[Mail]:
        writer = _ThreadWriter(self.seed, self.pdfs, self.style)
        for planned in self.plan():
            mail = writer.write(planned)
            if planned.folder in self.folders:
                yield mail

    def raw_messages(self) -> Iterator[bytes]:
        """The messages' bytes as a mail server hands them out (CRLF)."""
        return (mail.raw for mail in self)

    def fill(self, server: DovecotServer, user: MailUser) -> MailboxFigures:
        """Write the mailbox into ``user``'s maildir; returns what was written."""
        figures = MailboxFigures()
        written = write_maildir(
            server,
            user,
            ((mail.folder, mail.when, mail.raw) for mail in figures.count(self)),
            f"R{self.seed}",
        )
        figures.bytes = written
        return figures

    def plan(self) -> list[Planned]:
        """Every message of the mailbox in arrival order; threads stop once ``count`` is reached."""
        rnd = random.Random(f"plan/{self.seed}")
        planned: list[Planned] = []
        kept = index = 0
        while kept < self.count:
            for message in self._thread_messages(rnd, self._thread(rnd, index)):
                planned.append(message)
                kept += message.folder in self.folders
                if kept == self.count:
                    break
            index += 1
        return sorted(planned, key=lambda m: (m.when, m.thread.index, m.position))

    def _thread(self, rnd: random.Random, index: int) -> Thread:
        people = self.population
        kind = rnd.random()
        if kind < 0.80:  # a customer's people, the busiest first
            correspondent = people.contacts[int(len(people.contacts) * rnd.random() ** 1.6)]
        elif kind < 0.86:
            correspondent = rnd.choice(people.prospects)
        else:
            correspondent = rnd.choice(people.strangers)
        cc: list[Person] = []
        if rnd.random() < 0.45:
            colleagues = people.colleagues_of(correspondent) if correspondent.company else ()
            pool = [*colleagues[:6], *people.colleagues, rnd.choice(people.strangers)]
            cc = rnd.sample(pool, min(len(pool), rnd.randint(1, 2)))
        language = correspondent.language if rnd.random() < 0.5 else LANGUAGES[0][0]
        subject = rnd.choice(language.subjects).format(n=f"{2026}-{index:05d}")
        length = rnd.randint(*self.style.thread_lengths)
        return Thread(index, correspondent, tuple(cc), language, subject, length)

    def _thread_messages(self, rnd: random.Random, thread: Thread) -> list[Planned]:
        times = self._times(rnd, thread.length)
        owner = self.population.owner
        outgoing = rnd.random() >= 0.65  # most threads start with the customer
        messages = []
        for position, when in enumerate(times):
            if position:
                outgoing = outgoing != (rnd.random() < 0.8)  # mostly an answer from the other side
            correspondent = thread.correspondent
            sender, to = (owner, correspondent) if outgoing else (correspondent, owner)
            pdfs = ()
            if rnd.random() < PDF_SHARE:
                pdfs = tuple(rnd.randint(*PDF_SIZES) for _ in range(1 if rnd.random() < 0.8 else 2))
            html_part = rnd.random() < HTML_SHARE
            messages.append(Planned(thread, position, when, sender, to, outgoing, html_part, pdfs))
        return messages

    def _times(self, rnd: random.Random, length: int) -> list[float]:
        """Arrival times: a start in the window, answers minutes to two days apart, all in the past."""
        window = self.days * 86_400
        gaps = [min(120 + rnd.expovariate(1 / 21_600), 2 * 86_400) for _ in range(length - 1)]
        if sum(gaps) > window / 2:
            gaps = [gap * window / 2 / sum(gaps) for gap in gaps]
        start = self.now - 60 - rnd.uniform(sum(gaps), window)
        times = [start]
        for gap in gaps:
            times.append(times[-1] + gap)
        return times


@dataclass
class MailboxFigures:
    """What a filled mailbox holds."""

    messages: int = 0
    by_folder: dict[str, int] = field(default_factory=dict)
    text_bytes: int = 0
    text_sizes: list[int] = field(default_factory=list)
    quoted: int = 0
    html: int = 0
    with_pdf: int = 0
    pdfs: int = 0
    bytes: int = 0
    correspondents: set[str] = field(default_factory=set)

    def count(self, mail: RealisticMailbox) -> Iterator[Mail]:
        for message in mail:
            self.messages += 1
            self.by_folder[message.folder] = self.by_folder.get(message.folder, 0) + 1
            self.text_bytes += message.text_size
            self.text_sizes.append(message.text_size)
            self.quoted += message.quoted
            self.html += message.html
            self.with_pdf += bool(message.pdfs)
            self.pdfs += message.pdfs
            if message.correspondent:
                self.correspondents.add(message.correspondent.email)
            yield message

    def summary(self) -> str:
        folders = ", ".join(f"{name} {count}" for name, count in sorted(self.by_folder.items()))
        sizes = sorted(self.text_sizes) or [0]
        deciles = "/".join(f"{sizes[len(sizes) * tenth // 10] / 1000:.0f}" for tenth in (1, 5, 9))
        share = max(1, self.messages)
        return (
            f"{self.messages} messages ({folders}), {self.bytes / 1e6:.0f} MB; text parts "
            f"{self.text_bytes / share / 1000:.1f} KB on average (10th/50th/90th percentile "
            f"{deciles} KB, {self.quoted / share:.0%} quoting); {self.html / share:.0%} with HTML; "
            f"{self.with_pdf / share:.0%} with PDFs ({self.pdfs} files); "
            f"{len(self.correspondents)} correspondents"
        )


# -- writing: words, quotes, MIME --------------------------------------------------------------


@dataclass(slots=True)
class _Said:
    """What the next message of a thread needs of the one before: its ids, author, date and words."""

    references: tuple[str, ...]
    sender: Person
    when: float
    text: str
    html: str


class _ThreadWriter:
    """Writes planned messages in arrival order, remembering each open thread's last message."""

    def __init__(self, seed: int, pdfs: PdfMaker, style: TextStyle = CONVERSATIONS):
        self.seed = seed
        self.pdfs = pdfs
        self.style = style
        self.threads: dict[int, _Said] = {}

    def write(self, planned: Planned) -> Mail:
        thread = planned.thread
        rnd = random.Random(f"message/{self.seed}/{thread.index}/{planned.position}")
        earlier = self.threads.pop(thread.index, None)
        quoting = self.style.quote_share >= 1 or rnd.random() < self.style.quote_share
        quote = earlier if earlier and quoting else None
        text, markup = _new_words(rnd, planned, self.style, quote)
        if quote:
            said = _attribution(quote)
            text += f"\n\n{said}\n" + "\n".join(
                f"> {line}" if line else ">" for line in quote.text.split("\n")
            )
            markup += (
                f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{html.escape(said)}</div>'
                '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                f'border-left:1px solid rgb(204,204,204);padding-left:1ex">{quote.html}</blockquote></div>'
            )
        message_id = f"<{rnd.getrandbits(64):016x}.{thread.index}.{planned.position}@{planned.sender.domain}>"
        references = earlier.references if earlier else ()
        raw = _message(rnd, planned, message_id, references, text, markup, self.pdfs)
        if planned.position + 1 < thread.length:
            self.threads[thread.index] = _Said(
                (*references, message_id), planned.sender, planned.when, text, markup
            )
        return Mail(
            planned.folder,
            planned.when,
            raw,
            len(text.encode()),
            planned.html,
            len(planned.pdf_sizes),
            bool(quote),
            planned.sender if not planned.outgoing else planned.to,
        )


def _attribution(earlier: _Said) -> str:
    offset = earlier.sender.language.utc_offset if earlier.sender.company else 0
    when = datetime.datetime.fromtimestamp(
        earlier.when, datetime.timezone(datetime.timedelta(minutes=offset))
    )
    return f"On {when:%a, %d %b %Y at %H:%M}, {earlier.sender.name} <{earlier.sender.email}> wrote:"


def _new_words(
    rnd: random.Random, planned: Planned, style: TextStyle, quote: _Said | None
) -> tuple[str, str]:
    """The message's own text and HTML: greeting, paragraphs, closing and signature. With
    ``style.text_sizes``, paragraphs are added until the text part (with its ``quote``) is as long
    as a size drawn from that range."""
    language = planned.thread.language
    sender = planned.sender
    signature = [language.closing, sender.name, *(line for line in (sender.title, sender.phone) if line)]
    if sender.company:
        signature.insert(3, sender.company.name)
    greeting = language.greeting.format(first=planned.to.first)
    paragraphs: list[str] = []
    if style.text_sizes is None:
        sentences = rnd.randint(*NEW_SENTENCES)
        while sentences > 0:
            size = min(sentences, rnd.randint(2, 4))
            paragraphs.append(" ".join(rnd.sample(language.sentences, size)))
            sentences -= size
    else:
        pool = prose(language.code) if style.prose else language.sentences
        quoted = len(quote.text.encode()) + 100 if quote else 0
        left = rnd.randint(*style.text_sizes) - quoted - len("\n".join([greeting, *signature]).encode())
        while left > 0 or not paragraphs:
            paragraph = " ".join(rnd.choice(pool) for _ in range(rnd.randint(2, 5)))
            paragraphs.append(paragraph)
            left -= len(paragraph.encode()) + 2
    text = "\n\n".join([greeting, *paragraphs, "\n".join(signature)])
    markup = (
        '<div dir="ltr">'
        + "".join(f"<div>{html.escape(block)}</div><div><br></div>" for block in (greeting, *paragraphs))
        + f'<div class="signature">{"<br>".join(map(html.escape, signature))}</div></div><br>'
    )
    return text, markup


PO_ENTRY = re.compile(r'^(msgid|msgstr) ((?:".*"\n)+)', re.MULTILINE)


@functools.cache
def prose(code: str) -> tuple[str, ...]:
    """Sentences people wrote, in language ``code``: the Odoo host's translated strings (the
    English originals for "en") of 40-300 characters without markup or placeholders, in a fixed
    order; bench/mail_texts.py's few sentences where the host has none."""
    pattern = "*.pot" if code == "en" else f"{code}.po"
    wanted = "msgid" if code == "en" else "msgstr"
    found: set[str] = set()
    for path in sorted(ODOO_ADDONS.glob(f"*/i18n/{pattern}")):
        for kind, quoted in PO_ENTRY.findall(path.read_text(encoding="utf-8")):
            if kind != wanted:
                continue
            sentence = "".join(re.findall(r'"(.*)"', quoted)).replace("\\n", " ").replace('\\"', '"')
            if 40 <= len(sentence) <= 300 and not any(char in sentence for char in "<>%{}\\"):
                found.add(sentence)
    if found:
        return tuple(sorted(found))
    return next(language.sentences for language, _ in LANGUAGES if language.code == code)


def _message(  # noqa: PLR0913 - one message from the plan and the shared pools it draws on
    rnd: random.Random,
    planned: Planned,
    message_id: str,
    references: tuple[str, ...],
    text: str,
    markup: str,
    pdfs: PdfMaker,
) -> bytes:
    language = planned.thread.language
    body = _text(text, "plain", language)
    if planned.html:
        page = f"<html><head>{META}</head><body>{markup}</body></html>"
        body = multipart("alternative", _boundary(rnd), [body, _text(page, "html", language)])
    if planned.pdf_sizes:
        files = [_pdf_part(rnd, planned, size, pdfs) for size in planned.pdf_sizes]
        body = multipart("mixed", _boundary(rnd), [body, *files])
    return _headers(rnd, planned, message_id, references) + body


def _text(text: str, subtype: str, language: Language) -> bytes:
    """A text part as mail clients send it: quoted-printable for Latin scripts, base64 for others."""
    if language.code not in ("ru", "ja"):
        return text_part(text, subtype)
    head = f"Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    return head.encode() + b64(text.replace("\n", "\r\n").encode())


def _boundary(rnd: random.Random) -> str:
    return f"000000000000{rnd.getrandbits(64):016x}"


def _headers(rnd: random.Random, planned: Planned, message_id: str, references: tuple[str, ...]) -> bytes:
    thread, sender = planned.thread, planned.sender
    offset = datetime.timedelta(minutes=sender.language.utc_offset if sender.company else 0)
    date = datetime.datetime.fromtimestamp(planned.when, datetime.timezone(offset))
    stamp = date.strftime("%a, %d %b %Y %H:%M:%S %z")
    lines = [] if planned.outgoing else _transport(rnd, sender, stamp)
    subject = thread.subject if not planned.position else f"{thread.language.reply_prefix}{thread.subject}"
    lines += [
        "MIME-Version: 1.0",
        f"Date: {stamp}",
        f"Message-ID: {message_id}",
        f"Subject: {encoded(subject)}",
        f"From: {sender.header}",
        f"To: {planned.to.header}",
    ]
    if thread.cc:
        lines.append("Cc: " + ", ".join(person.header for person in thread.cc))
    if references:
        lines += [f"In-Reply-To: {references[-1]}", "References: " + "\r\n ".join(references)]
    lines.append(f"Content-Language: {thread.language.code}")
    return ("\r\n".join(lines) + "\r\n").encode()


def _transport(rnd: random.Random, sender: Person, stamp: str) -> list[str]:
    """What the receiving server adds: Return-Path, two Received, DKIM and Authentication-Results."""
    host = f"mail-{rnd.getrandbits(16):04x}.{sender.domain}"
    ip = f"192.0.2.{rnd.randint(1, 254)}"
    signature = base64.b64encode(rnd.randbytes(256)).decode()
    folded = "\r\n\t ".join(signature[i : i + 72] for i in range(0, len(signature), 72))
    return [
        f"Return-Path: <{sender.email}>",
        f"Received: from {host} ({host} [{ip}])\r\n\tby mx.example.test (Postfix) with ESMTPS id "
        f"{rnd.getrandbits(40):010X}\r\n\tfor <me@example.test>; {stamp}",
        f"Received: by {host} with SMTP id {rnd.getrandbits(64):016x}; {stamp}",
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={sender.domain}; s=s2026;\r\n\t"
        "h=to:subject:message-id:date:from:mime-version:from:to:cc:subject;\r\n\t"
        f"bh={base64.b64encode(rnd.randbytes(32)).decode()};\r\n\tb={folded}",
        f"Authentication-Results: mx.example.test; dkim=pass header.d={sender.domain};\r\n\t"
        f"spf=pass (sender IP is {ip}) smtp.mailfrom={sender.domain}",
    ]


def _pdf_part(rnd: random.Random, planned: Planned, size: int, pdfs: PdfMaker) -> bytes:
    thread = planned.thread
    number = f"{thread.index:05d}-{planned.position}{rnd.randint(10, 99)}"
    filename = rnd.choice(thread.language.documents).format(n=number)
    data = pdfs.make(rnd, size, _document_lines(rnd, planned, filename))
    if filename.isascii():
        disposition = f'attachment; filename="{filename}"'
    else:
        disposition = f"attachment; filename*=utf-8''{rfc2231(filename)}"
    head = (
        f'Content-Type: application/pdf; name="{encoded(filename)}"\r\n'
        f"Content-Disposition: {disposition}; size={len(data)}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode() + b64(data)


def _document_lines(rnd: random.Random, planned: Planned, filename: str) -> list[str]:
    """The visible text of a quote or invoice: parties, items and a total (differs per file)."""
    correspondent = planned.thread.correspondent
    customer = correspondent.company.name if correspondent.company else correspondent.name
    lines = [
        filename.removesuffix(".pdf"),
        "",
        "Example Test Ltd, 1 Sample Street, London",
        f"To: {customer}",
        "",
    ]
    total = 0.0
    for item in range(rnd.randint(3, 14)):
        quantity, price = rnd.randint(1, 40), rnd.randint(500, 250_000) / 100
        total += quantity * price
        lines.append(f"{item + 1:>3}  Item {rnd.getrandbits(20):05X}  {quantity:>4} x {price:>10,.2f} EUR")
    lines += ["", f"Total: {total:,.2f} EUR", "Payment within 30 days."]
    return lines


class PdfMaker:
    """Real PDFs of a chosen size: a page of text over an embedded image.

    The image looks like a grey scan; its Flate stream, taken from a pool built once, sets the
    size (to the next 4 KB). The text makes every file different, as attachments are.
    """

    STEP = 4096
    WIDTH = 256

    def __init__(self, seed: int):
        rnd = random.Random(f"pdf/{seed}")
        noise = rnd.randbytes(PDF_SIZES[1] + self.STEP)
        self.images = [
            (rows, zlib.compress(noise[: rows * self.WIDTH], 1))
            for rows in range(self.STEP // self.WIDTH, len(noise) // self.WIDTH, self.STEP // self.WIDTH)
        ]

    def make(self, rnd: random.Random, size: int, lines: list[str]) -> bytes:
        rows, image = self.images[min(len(self.images) - 1, max(0, size // self.STEP - 1))]
        content = "BT /F2 15 Tf 20 TL 56 800 Td " + show_line(lines[0]) + "/F1 9 Tf 12 TL\n"
        content += "".join(show_line(line) for line in lines[1:]) + "ET\n"
        content += f"q 483 0 0 {min(400, rows)} 56 80 cm /Im1 Do Q"
        stream = content.encode("cp1252", "replace")
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R /Resources "
            b"<< /Font << /F1 4 0 R /F2 5 0 R >> /XObject << /Im1 7 0 R >> >> >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
            % (self.WIDTH, rows, len(image), image),
            b"<< /Title %s /Producer (Example Office %d) >>"
            % (show_line(lines[0])[:-3].encode("cp1252", "replace"), rnd.randint(5, 9)),
        ]
        return pdf_file(objects)
