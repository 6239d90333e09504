"""Who writes what in the demo's mail: the people and the words, as data.

``demo_mailbox`` turns these into messages (quoting, threading, attachments) and files them in each
salesman's mailbox. Ages are in days before the demo runs; two messages are older than the 14-day
first-sync window and one is spam in Junk: none of the three should reach the CRM.
"""

# Real mail in German, Japanese and Polish uses multiplication signs, fullwidth parentheses, dashes.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the demo's mail; ``company`` is the one their signature names."""

    name: str
    email: str
    company: str = ""

    @property
    def address(self) -> str:
        """The From/To form, quoted where needed (non-ASCII is encoded when the mail is built)."""
        return str(Address(display_name=self.name, addr_spec=self.email))


@dataclass(frozen=True, slots=True)
class MailText:
    """One message as its author wrote it. A reply names the message it ``answers`` by key, and is
    given its quote and thread headers when built. Attachments are (file name, type, lines)."""

    key: str
    sender: Person
    to: tuple[Person, ...]
    subject: str
    age_days: float
    text: str | None
    html: str | None = None
    cc: tuple[Person, ...] = ()
    answers: str | None = None
    attachments: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    folder: str = "INBOX"


# The salesmen, whose mailboxes these are.
SALLY = Person("Sally Becker", "sally@yourcompany.example.com", "YourCompany")
OTTO = Person("Otto Lindqvist", "otto@yourcompany.example.com", "YourCompany")
SALESMEN = (SALLY, OTTO)
# Customers: the Odoo demo has them as contacts of their companies.
JUERGEN = Person("Jürgen Zöllner", "juergen.zoellner@zoellner-moebel.example", "Zöllner Möbelwerk GmbH")
ANKE = Person("Anke Weiß", "anke.weiss@zoellner-moebel.example", "Zöllner Möbelwerk GmbH")
LEA = Person("Léa Dubois", "lea.dubois@atelier-dubois.example", "Atelier Dubois & Fils")
PRIYA = Person("Priya Raman", "priya.raman@northwind.example", "Northwind Traders")
TOM = Person("Tom O'Brien", "tom.obrien@northwind.example", "Northwind Traders")
MISAKI = Person("田中 美咲", "misaki.tanaka@sakura-office.example", "さくらオフィス株式会社")
CUSTOMERS = (JUERGEN, ANKE, LEA, PRIYA, TOM, MISAKI)
# Strangers: nobody in the CRM knows them, so their mail stays unassigned.
OLA = Person("Ola Nordmann", "ola@fjorddesign.example", "Fjord Design AS")
BLAZEJ = Person("Błażej Kowalski", "blazej@kowalski-studio.example", "Kowalski Studio")
NEWSLETTER = Person("Möbel-Weekly", "noreply@moebel-weekly.example")
SPAMMER = Person("Prize Desk", "winner@lucky-prize.example")

_DESKS = "Anfrage: 40 höhenverstellbare Schreibtische"
_RECEPTION = "Reception area refurbishment: request for proposal"
_MEETING_ROOM = "会議室の家具について（ご相談）"

MAIL_TEXTS = (
    MailText(
        "juergen-fair",
        JUERGEN,
        (SALLY,),
        "Messe Köln: Treffen im Frühjahr?",
        40,
        "Hallo Frau Becker,\n\nsehen wir uns auf der Orgatec? Ich würde Ihnen gern unsere neuen Büros "
        "zeigen.\n\nGrüße\nJürgen Zöllner",
    ),
    MailText(
        "priya-intro",
        PRIYA,
        (OTTO,),
        "Introduction: Northwind Traders",
        30,
        "Hello Otto,\n\nthanks for the chat at the trade fair. As promised, a short introduction: we "
        "run 14 offices and refurbish two or three a year.\n\nBest,\nPriya Raman\nFacilities, "
        "Northwind Traders",
    ),
    MailText(
        "priya-rfp",
        PRIYA,
        (OTTO,),
        _RECEPTION,
        10.4,
        "Hello Otto,\n\nwe are refurbishing the reception area of our Leeds office in March: a "
        "reception desk for two, seating for eight visitors and a coffee corner.\n\nCould you send us "
        "a proposal by the end of next week? Tom O'Brien will run the project on our side.\n\n"
        "Best regards,\nPriya Raman\nFacilities, Northwind Traders",
    ),
    MailText(
        "otto-proposal",
        OTTO,
        (PRIYA,),
        f"Re: {_RECEPTION}",
        9.6,
        "Dear Priya,\n\nthank you for thinking of us. Please find our proposal NW-2026-031 attached, "
        "with two options for the desk: A in white oak, B curved in walnut.\n\nBest regards,\n"
        "Otto Lindqvist\nYourCompany",
        cc=(TOM,),
        answers="priya-rfp",
        attachments=(
            (
                "Proposal NW-2026-031.pdf",
                "application/pdf",
                (
                    "Proposal NW-2026-031 - Northwind Traders, Leeds",
                    "",
                    "Option A  Reception desk for two, white oak             4,850.00 EUR",
                    "Option B  Curved reception desk for two, walnut         6,200.00 EUR",
                    "          8 visitor chairs 'Lounge 2' in grey felt       3,120.00 EUR",
                    "          Coffee corner: counter, 2 bar tables           2,480.00 EUR",
                    "",
                    "Delivery and assembly included. Valid 30 days.",
                    "YourCompany - Otto Lindqvist - otto@yourcompany.example.com",
                ),
            ),
        ),
    ),
    MailText(
        "juergen-desks",
        JUERGEN,
        (SALLY,),
        _DESKS,
        9.2,
        "Guten Tag Frau Becker,\n\nwir ziehen im Februar in unser neues Büro in der Südstadt und "
        "suchen 40 höhenverstellbare Schreibtische (160 × 80 cm) mit passenden Rollcontainern.\n\n"
        "Können Sie uns bis Ende nächster Woche ein Angebot schicken? Eine Lieferung bis zum "
        "15. Februar wäre ideal.\n\nMit freundlichen Grüßen\nJürgen Zöllner\nEinkauf · Zöllner "
        "Möbelwerk GmbH",
    ),
    MailText(
        "sally-offer",
        SALLY,
        (JUERGEN,),
        f"Re: {_DESKS}",
        8.9,
        "Guten Tag Herr Zöllner,\n\nvielen Dank für Ihre Anfrage. Anbei unser Angebot AN-2026-118 "
        "über 40 Schreibtische „Ergo Lift 160“ mit Rollcontainern, Lieferung und Montage "
        "inklusive. Ab 40 Stück gewähren wir 8 % Rabatt.\n\nViele Grüße\nSally Becker\nYourCompany",
        answers="juergen-desks",
        attachments=(
            (
                "Angebot AN-2026-118.pdf",
                "application/pdf",
                (
                    "Angebot AN-2026-118 - Zöllner Möbelwerk GmbH",
                    "",
                    "40 x  Schreibtisch 'Ergo Lift 160', 160 x 80 cm      à 590,00 EUR   23.600,00 EUR",
                    "40 x  Rollcontainer 'Rolli 3', abschließbar          à 145,00 EUR    5.800,00 EUR",
                    "      Rabatt 8 %                                                    -2.352,00 EUR",
                    "      Lieferung und Montage                                          inklusive",
                    "",
                    "Summe netto                                                        27.048,00 EUR",
                    "Gültig 30 Tage. YourCompany - Sally Becker - sally@yourcompany.example.com",
                ),
            ),
        ),
    ),
    MailText(
        "juergen-questions",
        JUERGEN,
        (SALLY,),
        f"AW: {_DESKS}",
        7.1,
        "Hallo Frau Becker,\n\ndanke für das schnelle Angebot! Zwei Fragen:\n1. Gibt es die "
        "Tischplatten auch in Eiche hell?\n2. Können Sie in zwei Etappen liefern, das 3. OG "
        "zuerst?\n\nDie Stückliste für das 3. OG hängt an. Frau Weiß (in Kopie) koordiniert die "
        "Lieferung.\n\nGrüße\nJürgen Zöllner",
        html="<p>Hallo Frau Becker,</p><p>danke für das <b>schnelle</b> Angebot! Zwei Fragen:</p>"
        "<ol><li>Gibt es die Tischplatten auch in <i>Eiche hell</i>?</li><li>Können Sie in zwei "
        "Etappen liefern, das 3.&nbsp;OG zuerst?</li></ol><p>Die Stückliste für das 3.&nbsp;OG hängt "
        "an. Frau Weiß (in Kopie) koordiniert die Lieferung.</p><p>Grüße<br>Jürgen Zöllner</p>",
        cc=(ANKE,),
        answers="sally-offer",
        attachments=(
            (
                "Stückliste 3. OG.csv",
                "text/csv",
                ("Raum;Schreibtische;Rollcontainer", "3.01 Einkauf;8;8", "3.02 Vertrieb;12;12"),
            ),
        ),
    ),
    MailText(
        "tom-questions",
        TOM,
        (OTTO,),
        f"Re: {_RECEPTION}",
        6.2,
        None,
        html="<p>Hi Otto,</p><p>thanks for the proposal. Our team likes <b>option B</b>, the curved "
        "walnut desk. Two questions before we decide:</p><ul><li>Can the desk take a wheelchair-height "
        "section?</li><li>Could you come to Leeds on Thursday to measure the space?</li></ul>"
        "<p>Cheers,<br>Tom O'Brien<br><span style='color:#888'>Northwind Traders</span></p>",
        cc=(PRIYA,),
        answers="otto-proposal",
    ),
    MailText(
        "lea-samples",
        LEA,
        (SALLY,),
        "Chaises pour le showroom — échantillons ?",
        5.3,
        None,
        html="<p>Bonjour Sally,</p><p>Pour notre nouveau showroom à Lyon, nous aimerions recevoir des "
        "échantillons de ces modèles :</p><table border='1' cellpadding='4' style='border-collapse:"
        "collapse'><tr><th>Modèle</th><th>Coloris</th><th>Quantité prévue</th></tr><tr><td>Lounge 2"
        "</td><td>gris chiné</td><td>24</td></tr><tr><td>Café Bistro</td><td>noyer</td><td>16</td>"
        "</tr><tr><td>Ergo Pro</td><td>noir</td><td>8</td></tr></table><p>Serait-il possible de les "
        "avoir avant le 20&nbsp;? Merci d'avance&nbsp;!</p><p>Bien à vous,<br>Léa Dubois<br>"
        "<i>Atelier Dubois &amp; Fils</i></p>",
    ),
    MailText(
        "sally-samples",
        SALLY,
        (LEA,),
        "Re: Chaises pour le showroom — échantillons ?",
        5.0,
        "Bonjour Léa,\n\nles trois échantillons partent demain par transporteur ; je vous envoie le "
        "numéro de suivi dès que je l'ai.\n\nBien cordialement,\nSally",
        html="<p>Bonjour Léa,</p><p>les trois échantillons partent <b>demain</b> par transporteur ; "
        "je vous envoie le numéro de suivi dès que je l'ai.</p><p>Bien cordialement,<br>Sally</p>",
        answers="lea-samples",
    ),
    MailText(
        "misaki-meeting-room",
        MISAKI,
        (OTTO,),
        _MEETING_ROOM,
        4.3,
        "リンドクヴィスト様\n\nいつもお世話になっております。さくらオフィスの田中です。\n来月、東京本社の"
        "会議室（12名）を改装する予定です。テーブルと椅子のご提案をいただけますでしょうか。\n\n"
        "よろしくお願いいたします。\n田中 美咲",
        html="<p>リンドクヴィスト様</p><p>いつもお世話になっております。さくらオフィスの田中です。<br>"
        "来月、東京本社の<b>会議室（12名）</b>を改装する予定です。テーブルと椅子のご提案をいただけます"
        "でしょうか。</p><p>よろしくお願いいたします。<br>田中 美咲</p>",
    ),
    MailText(
        "otto-meeting-room",
        OTTO,
        (MISAKI,),
        f"Re: {_MEETING_ROOM}",
        4.0,
        "Dear Ms Tanaka,\n\nthank you for your enquiry. For twelve people I suggest our 'Kaigi' "
        "table (480 × 140 cm) with twelve 'Ergo Pro' chairs; I will send a layout on Monday.\n\n"
        "Kind regards,\nOtto Lindqvist",
        answers="misaki-meeting-room",
    ),
    MailText(
        "ola-question",
        OLA,
        (SALLY,),
        "Spørsmål om kontormøbler til nytt kontor i Tromsø",
        3.4,
        "Hei!\n\nVi åpner et nytt kontor i Tromsø i mars og trenger 12 arbeidsplasser. Leverer dere "
        "til Nord-Norge, og hva koster frakt?\n\nMvh\nOla Nordmann\nFjord Design AS",
    ),
    MailText(
        "blazej-question",
        BLAZEJ,
        (OTTO,),
        "Zapytanie ofertowe – krzesła biurowe do biura w Łodzi",
        2.6,
        "Dzień dobry,\n\nprosimy o ofertę na 25 krzeseł biurowych z regulacją wysokości, z dostawą do "
        "Łodzi w lutym.\n\nZ poważaniem\nBłażej Kowalski\nKowalski Studio",
    ),
    MailText(
        "newsletter",
        NEWSLETTER,
        (SALLY,),
        "Möbel-Weekly: Die Bürotrends 2027",
        2.2,
        "Die Bürotrends 2027: Akustik, Holz und Pflanzen. Online lesen: https://moebel-weekly.example/2027",
        html="<h2 style='color:#2a6'>Die Bürotrends 2027</h2><p>Akustik, Holz und Pflanzen: was Büros "
        "im nächsten Jahr prägt.</p><p><a href='https://moebel-weekly.example/2027'>Online lesen</a>"
        "</p><p style='font-size:small'>Sie erhalten diese E-Mail, weil Sie Möbel-Weekly abonniert "
        "haben.</p>",
    ),
    MailText(
        "spam",
        SPAMMER,
        (SALLY,),
        "Congratulations!!! You won an ergonomic chair",
        2.0,
        "Click here to claim your prize within 24 hours!",
        folder="Junk",
    ),
    MailText(
        "anke-delivery",
        ANKE,
        (SALLY,),
        "Lieferadresse und Termin für die Schreibtische",
        1.2,
        "Liebe Frau Becker, lieber Herr Lindqvist,\n\ndie Lieferadresse für beide Etappen: Zöllner "
        "Möbelwerk GmbH, Südstraße 12, 50677 Köln, Anlieferung über den Hof. Die erste Etappe bitte "
        "am 3. Februar ab 8 Uhr.\n\nHerr Lindqvist, Sie hatten nach einem Empfangstresen gefragt: "
        "dazu melde ich mich nächste Woche.\n\nViele Grüße\nAnke Weiß\nVerwaltung · Zöllner "
        "Möbelwerk GmbH",
        cc=(JUERGEN, OTTO),
    ),
)
