# ruff: noqa: RUF001 - names and sentences in Cyrillic and with typographic dashes, on purpose
"""The words of the realistic benchmark mail (bench/realistic_mail.py): names, companies, subjects
and sentences of sales correspondence in seven languages.

Kept apart from the generator so that it reads as code. Names carry an ASCII spelling for the
address (``Łukasz Wójcik`` writes from ``lukasz.wojcik@...``); languages whose script PDF's
standard fonts cannot show (Cyrillic, Japanese) fall back to that spelling inside PDFs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Language:
    """How one language's correspondents are named, write and sign."""

    code: str
    first_names: tuple[tuple[str, str], ...]  # (as written, ASCII spelling for addresses)
    last_names: tuple[tuple[str, str], ...]
    family_first: bool  # 小林 花子: family name first
    company_forms: tuple[str, ...]  # "{name}" is a family name or a trade word
    trade_words: tuple[str, ...]
    tld: str
    utc_offset: int  # minutes, for the Date header
    greeting: str  # "{first}" is the addressee's first name
    closing: str
    reply_prefix: str
    titles: tuple[str, ...]
    subjects: tuple[str, ...]  # "{n}" is a document number
    sentences: tuple[str, ...]
    documents: tuple[str, ...]  # attachment file names, "{n}" is a document number


EN = Language(
    code="en",
    first_names=tuple(
        (name, name.lower())
        for name in (
            "James",
            "Emily",
            "Oliver",
            "Sarah",
            "Michael",
            "Olivia",
            "David",
            "Sophie",
            "Daniel",
            "Grace",
            "Thomas",
            "Hannah",
            "Robert",
            "Chloe",
            "William",
            "Megan",
            "Richard",
            "Laura",
            "Peter",
            "Rachel",
        )
    ),
    last_names=(
        ("Smith", "smith"),
        ("O'Connor", "oconnor"),
        ("Johnson", "johnson"),
        ("Brown", "brown"),
        ("Taylor", "taylor"),
        ("Walker", "walker"),
        ("Harris", "harris"),
        ("Clarke", "clarke"),
        ("Wright", "wright"),
        ("Mitchell", "mitchell"),
        ("Turner", "turner"),
        ("Hughes", "hughes"),
    ),
    family_first=False,
    company_forms=("{name} Ltd", "{name} & Sons", "{name} Industries Inc.", "{name} Consulting LLC"),
    trade_words=("Northwind", "Bluefield", "Harbour", "Summit", "Redwood", "Keystone", "Silverline"),
    tld="example",
    utc_offset=0,
    greeting="Hi {first},",
    closing="Best regards,",
    reply_prefix="Re: ",
    titles=("Purchasing Manager", "Head of Operations", "Sales Director", "IT Manager", "CFO", "Buyer"),
    subjects=(
        "Quote {n} for the spring order",
        "Follow-up on our call about project {n}",
        "Invoice {n} – payment terms",
        "Delivery schedule for order {n}",
        "Renewal of contract {n}",
        "Questions about your proposal {n}",
        "Meeting next week: agenda for {n}",
    ),
    sentences=(
        "Thank you for your time on the phone yesterday, it was good to go through the details together.",
        "As discussed, please find our revised proposal with the volume discount applied to all lines.",
        "Our finance team asked whether the payment terms could be extended from 30 to 45 days.",
        "The delivery to the Manchester warehouse would need to arrive before the end of the month.",
        "Could you confirm that the installation and the first year of support are included in the price?",
        "We compared your offer with two other suppliers and yours is the most complete so far.",
        "I have shared the document with our technical lead, who will come back to you with questions.",
        "Let me know if Tuesday at 10:00 works for you, otherwise Thursday afternoon is also possible.",
        "The board meets on the 14th and I would like to present a final figure by then.",
        "We noticed that the unit price on line 4 differs from the one in the previous quote.",
        "Please note that our offices will be closed on Friday for the bank holiday.",
        "If it helps, I can arrange a short demo for your team with one of our engineers.",
        "We are happy to keep the current prices for another twelve months if the order is placed now.",
        "I attach the signed purchase order; the reference must appear on every invoice.",
        "Shipping is free above 2,000 EUR, and we can split the delivery into two parts if needed.",
        "Regarding the training, two sessions of half a day each should be enough for ten people.",
    ),
    documents=("Quote-{n}.pdf", "Invoice {n}.pdf", "Proposal_{n}.pdf", "Order confirmation {n}.pdf"),
)

FR = Language(
    code="fr",
    first_names=(
        ("Chloé", "chloe"),
        ("Zoé", "zoe"),
        ("Hélène", "helene"),
        ("François", "francois"),
        ("Jérôme", "jerome"),
        ("Amélie", "amelie"),
        ("Noël", "noel"),
        ("Gaël", "gael"),
        ("Loïc", "loic"),
        ("Céline", "celine"),
        ("Timothée", "timothee"),
        ("Maëlle", "maelle"),
    ),
    last_names=(
        ("Dubois", "dubois"),
        ("Lefèvre", "lefevre"),
        ("Bénard", "benard"),
        ("Lemaître", "lemaitre"),
        ("Girard", "girard"),
        ("Faure", "faure"),
        ("Mercier", "mercier"),
        ("Chevalier", "chevalier"),
        ("Gauthier", "gauthier"),
        ("Rousseau", "rousseau"),
    ),
    family_first=False,
    company_forms=("{name} & Fils SARL", "Établissements {name}", "{name} Conseil SAS"),
    trade_words=("Atelier du Rhône", "Boulangerie Lumière", "Transports Étoile", "Vergers d'Anjou"),
    tld="fr.example",
    utc_offset=60,
    greeting="Bonjour {first},",
    closing="Bien cordialement,",
    reply_prefix="RE : ",
    titles=("Responsable des achats", "Directrice commerciale", "Gérant", "Chef de projet"),
    subjects=(
        "Devis n°{n} — révision",
        "Commande {n} : délai de livraison",
        "Relance facture {n}",
        "Proposition commerciale {n}",
    ),
    sentences=(
        "Merci pour notre échange téléphonique de ce matin, voici le devis révisé comme convenu.",
        "Pourriez-vous nous confirmer le délai de livraison pour la commande de la semaine prochaine ?",
        "Notre service comptable souhaiterait recevoir la facture au format PDF avec le numéro de commande.",
        "Nous avons bien reçu votre règlement, je vous en remercie.",
        "La remise de 8 % s'applique à l'ensemble des lignes à partir de cinquante unités.",
        "Je reste à votre disposition pour toute question complémentaire.",
        "L'installation pourrait avoir lieu le mardi 12, si cela convient à vos équipes.",
        "Nous préférons un paiement à quarante-cinq jours fin de mois.",
    ),
    documents=("Devis révisé {n}.pdf", "Facture {n}.pdf", "Bon de commande n°{n}.pdf"),
)

DE = Language(
    code="de",
    first_names=(
        ("Jürgen", "juergen"),
        ("Jörg", "joerg"),
        ("Björn", "bjoern"),
        ("Günther", "guenther"),
        ("Käthe", "kaethe"),
        ("Sören", "soeren"),
        ("Anja", "anja"),
        ("Lena", "lena"),
        ("Maximilian", "maximilian"),
        ("Ulrike", "ulrike"),
        ("Jörn", "joern"),
        ("Bärbel", "baerbel"),
    ),
    last_names=(
        ("Müller", "mueller"),
        ("Schäfer", "schaefer"),
        ("Köhler", "koehler"),
        ("Groß", "gross"),
        ("Weiß", "weiss"),
        ("Schröder", "schroeder"),
        ("Krüger", "krueger"),
        ("Fuchs", "fuchs"),
        ("Vogel", "vogel"),
        ("Hoffmann", "hoffmann"),
    ),
    family_first=False,
    company_forms=("{name} GmbH", "{name} & Söhne KG", "{name} Maschinenbau AG"),
    trade_words=("Bäckerei Sonnenschein", "Stahlwerk Süd", "Grünfeld Logistik", "Elbtal Möbel"),
    tld="de.example",
    utc_offset=60,
    greeting="Hallo {first},",
    closing="Mit freundlichen Grüßen",
    reply_prefix="AW: ",
    titles=("Einkaufsleiter", "Geschäftsführerin", "Projektleiter", "Leiterin Buchhaltung"),
    subjects=(
        "Angebot {n}: Änderungswünsche",
        "Rückfrage zur Bestellung {n}",
        "Lieferung {n} – Terminbestätigung",
        "Rechnung {n} – Zahlungsziel",
    ),
    sentences=(
        "Vielen Dank für Ihre Anfrage. Anbei finden Sie die überarbeiteten Unterlagen.",
        "Könnten Sie uns bitte den Liefertermin für die zweite Teillieferung bestätigen?",
        "Die Preise verstehen sich zuzüglich der gesetzlichen Mehrwertsteuer und frei Haus.",
        "Unser Techniker kann die Anlage in der Kalenderwoche 12 in Betrieb nehmen.",
        "Bitte geben Sie bei jeder Rechnung unsere Bestellnummer an, sonst können wir sie nicht buchen.",
        "Für Rückfragen stehe ich Ihnen gerne telefonisch zur Verfügung.",
        "Wir würden gerne über einen Rahmenvertrag für die nächsten zwei Jahre sprechen.",
        "Die Schulung für zehn Mitarbeiter könnte an zwei Vormittagen stattfinden.",
    ),
    documents=("Angebot_{n}.pdf", "Rechnung {n}.pdf", "Übersicht {n}.pdf", "Auftragsbestätigung {n}.pdf"),
)

ES = Language(
    code="es",
    first_names=(
        ("José", "jose"),
        ("María", "maria"),
        ("Núria", "nuria"),
        ("Andrés", "andres"),
        ("Inés", "ines"),
        ("Sebastián", "sebastian"),
        ("Lucía", "lucia"),
        ("Álvaro", "alvaro"),
        ("Begoña", "begona"),
        ("Íñigo", "inigo"),
    ),
    last_names=(
        ("Núñez", "nunez"),
        ("García", "garcia"),
        ("Martínez", "martinez"),
        ("Peña", "pena"),
        ("Ibáñez", "ibanez"),
        ("López", "lopez"),
        ("Fernández", "fernandez"),
        ("Muñoz", "munoz"),
    ),
    family_first=False,
    company_forms=("{name} y Asociados S.L.", "Distribuciones {name} S.A.", "{name} Ingeniería S.L."),
    trade_words=("Cerámicas del Sur", "Aceites Peñalara", "Logística Ibérica"),
    tld="es.example",
    utc_offset=60,
    greeting="Hola {first}:",
    closing="Un saludo,",
    reply_prefix="RE: ",
    titles=("Jefa de compras", "Director comercial", "Responsable de logística"),
    subjects=("Re: Fw: Presupuesto {n} año 2026", "Pedido {n}: confirmación", "Factura {n} pendiente"),
    sentences=(
        "El presupuesto incluye instalación, formación y un año de mantenimiento.",
        "¿Podrían enviarnos la ficha técnica de los equipos antes del jueves?",
        "Hemos revisado las condiciones y estamos de acuerdo con el plazo de entrega propuesto.",
        "Le adjunto el pedido firmado; por favor, indique la referencia en la factura.",
        "La reunión con dirección será el día 14 y me gustaría presentar una cifra cerrada.",
        "Quedo a su disposición para cualquier aclaración.",
    ),
    documents=("Presupuesto {n}.pdf", "Factura_{n}.pdf", "Pedido nº{n}.pdf"),
)

PL = Language(
    code="pl",
    first_names=(
        ("Łukasz", "lukasz"),
        ("Małgorzata", "malgorzata"),
        ("Paweł", "pawel"),
        ("Zofia", "zofia"),
        ("Wojciech", "wojciech"),
        ("Agnieszka", "agnieszka"),
        ("Michał", "michal"),
        ("Jędrzej", "jedrzej"),
    ),
    last_names=(
        ("Wójcik", "wojcik"),
        ("Nowak", "nowak"),
        ("Żak", "zak"),
        ("Dąbrowski", "dabrowski"),
        ("Wiśniewski", "wisniewski"),
        ("Zieliński", "zielinski"),
        ("Woźniak", "wozniak"),
    ),
    family_first=False,
    company_forms=("{name} Sp. z o.o.", "Przedsiębiorstwo {name}", "{name} i Wspólnicy S.A."),
    trade_words=("Mleczarnia Łąkowa", "Stolarnia Dąb", "Transport Wisła"),
    tld="pl.example",
    utc_offset=60,
    greeting="Dzień dobry {first},",
    closing="Z poważaniem,",
    reply_prefix="Odp: ",
    titles=("Kierownik zakupów", "Dyrektor handlowy", "Specjalista ds. logistyki"),
    subjects=("Zamówienie {n} – potwierdzenie", "Oferta {n} – pytania"),
    sentences=(
        "Dziękujemy za zamówienie; termin realizacji to około dwóch tygodni.",
        "Prosimy o przesłanie faktury pro forma przed wysyłką towaru.",
        "Czy możliwa jest dostawa częściowa jeszcze w tym miesiącu?",
        "W załączeniu przesyłam podpisaną umowę oraz harmonogram płatności.",
        "W razie pytań pozostaję do dyspozycji.",
    ),
    documents=("Faktura {n}.pdf", "Oferta_{n}.pdf", "Zamówienie {n}.pdf"),
)

RU = Language(
    code="ru",
    first_names=(
        ("Анна", "anna"),
        ("Дмитрий", "dmitry"),
        ("Ольга", "olga"),
        ("Сергей", "sergey"),
        ("Екатерина", "ekaterina"),
        ("Алексей", "alexey"),
        ("Наталья", "natalya"),
        ("Иван", "ivan"),
    ),
    last_names=(
        ("Смирнов", "smirnov"),
        ("Иванов", "ivanov"),
        ("Кузнецов", "kuznetsov"),
        ("Попов", "popov"),
        ("Соколов", "sokolov"),
        ("Лебедев", "lebedev"),
        ("Козлов", "kozlov"),
        ("Новиков", "novikov"),
    ),
    family_first=False,
    company_forms=("ООО «{name}»", "АО «{name}»"),
    trade_words=("Северный ветер", "Уралтехснаб", "Волга-Логистик"),
    tld="ru.example",
    utc_offset=180,
    greeting="Добрый день, {first}!",
    closing="С уважением,",
    reply_prefix="RE: ",
    titles=("Менеджер по закупкам", "Генеральный директор", "Главный бухгалтер"),
    subjects=("Счёт {n} на оплату", "Договор {n}: согласование", "Поставка по заказу {n}"),
    sentences=(
        "Добрый день! Направляем вам счёт на оплату и акт выполненных работ.",
        "Просим подтвердить сроки поставки по второй партии оборудования.",
        "Оплата будет произведена в течение пяти рабочих дней после получения оригиналов.",
        "Во вложении договор с нашими правками, выделенными цветом.",
        "Готовы обсудить скидку при заказе от ста единиц.",
    ),
    documents=("Счёт {n}.pdf", "Договор {n}.pdf", "Акт_{n}.pdf"),
)

JA = Language(
    code="ja",
    first_names=(
        ("花子", "hanako"),
        ("太郎", "taro"),
        ("由美", "yumi"),
        ("健", "ken"),
        ("さくら", "sakura"),
        ("大輔", "daisuke"),
    ),
    last_names=(
        ("小林", "kobayashi"),
        ("佐藤", "sato"),
        ("鈴木", "suzuki"),
        ("高橋", "takahashi"),
        ("田中", "tanaka"),
        ("渡辺", "watanabe"),
    ),
    family_first=True,
    company_forms=("株式会社{name}", "{name}商事株式会社"),
    trade_words=("富士精機", "青空物流", "桜電子"),
    tld="jp.example",
    utc_offset=540,
    greeting="{first}様",
    closing="よろしくお願いいたします。",
    reply_prefix="Re: ",
    titles=("購買部 部長", "営業部", "経理課"),
    subjects=("見積書 {n} の件", "ご注文 {n} の納期について", "請求書 {n} 送付のご案内"),
    sentences=(
        "いつもお世話になっております。見積書をお送りいたします。",
        "納期につきまして、来週中にご連絡いたします。",
        "ご不明な点がございましたら、お気軽にお問い合わせください。",
        "先日はお打ち合わせのお時間をいただき、誠にありがとうございました。",
        "請求書を添付いたしましたので、ご確認のほどお願い申し上げます。",
    ),
    documents=("見積書_{n}.pdf", "請求書 {n}.pdf"),
)

# How often each language is a correspondent's: most business mail here is in English.
LANGUAGES: tuple[tuple[Language, float], ...] = (
    (EN, 0.52),
    (FR, 0.12),
    (DE, 0.12),
    (ES, 0.07),
    (PL, 0.06),
    (RU, 0.06),
    (JA, 0.05),
)

# The mailbox owner's side: a salesman writing English, and colleagues now and then in Cc.
OWNER = ("Sam Carter", "me@example.test")
COLLEAGUES = (("Priya Raman", "priya.raman@example.test"), ("Tomás Olsen", "tomas.olsen@example.test"))
OWNER_TITLE = "Account Executive, Example Test Ltd · +44 20 7946 0000"
STRANGER_DOMAINS = ("gmail.example", "outlook.example", "yahoo.example", "web.de.example", "mail.ru.example")
