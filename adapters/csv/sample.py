"""A realistic open-items sample for demos and tests, and a way to rebase its dates.

The sample is made up: about sixty debtors (Dutch businesses and consumers, a few
English-speaking debtors in Belgium and the United Kingdom) with two hundred open
invoices and credit notes, due from 120 days before the anchor date to 30 days
after it. The same anchor and seed always give the same text::

    python -m adapters.csv.sample --anchor 2026-12-01 > config/sample/open_items.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from adapters.csv.mapping import COLUMNS, detect_delimiter, parse_date

INVOICE_COUNT = 200
CREDIT_NOTE_COUNT = 8
PARTIAL_COUNT = 30
EARLIEST_DUE = -120  # days from the anchor
LATEST_DUE = 30
CENT = Decimal("0.01")

# (name, city, tags, VAT rate in percent)
BUSINESSES = [
    ("Bakkerij Verhoeven B.V.", "Tilburg", "", 9),
    ("Installatiebedrijf Kok & Zn.", "Zwolle", "", 21),
    ("Bouwbedrijf Van der Linden B.V.", "Amersfoort", "key-account", 21),
    ("Drukkerij De Zwaluw", "Haarlem", "", 21),
    ("Transportbedrijf Mulder Logistiek B.V.", "Rotterdam", "key-account", 21),
    ("Hoveniersbedrijf Groenrijk", "Apeldoorn", "", 21),
    ("Schildersbedrijf Jansen V.O.F.", "Deventer", "", 21),
    ("Autobedrijf De Brug B.V.", "Breda", "", 21),
    ("Tandartspraktijk Smit", "Leiden", "", 21),
    ("Restaurant De Gouden Leeuw", "Maastricht", "", 9),
    ("Café 't Hoekje", "Groningen", "", 9),
    ("Fietsenmakerij Van Dijk", "Delft", "", 21),
    ("Loodgietersbedrijf Bakker", "Alkmaar", "", 21),
    ("Kapsalon Knipperlicht", "Nijmegen", "", 21),
    ("Architectenbureau Visser & De Boer", "Utrecht", "key-account", 21),
    ("Administratiekantoor Meijer", "Leeuwarden", "", 21),
    ("Elektrotechniek Hendriks B.V.", "Eindhoven", "", 21),
    ("Timmerfabriek Peters B.V.", "Arnhem", "", 21),
    ("Zorgboerderij De Hooiberg", "Apeldoorn", "no-dunning", 21),
    ("Dierenkliniek Waterland", "Amsterdam", "", 21),
    ("Bloemenhuis Verbeek", "'s-Gravenhage", "", 9),
    ("Slagerij Van den Berg", "Tilburg", "", 9),
    ("Kinderopvang Het Zonnetje B.V.", "Utrecht", "", 21),
    ("Reclamebureau Blauwdruk", "Amsterdam", "", 21),
    ("Houthandel Dekker B.V.", "Zwolle", "key-account", 21),
    ("Metaalbewerking Brouwer B.V.", "Eindhoven", "", 21),
    ("Sportschool Vitaal", "Breda", "", 21),
    ("Kaashandel De Graaf", "Alkmaar", "", 9),
    ("Koeltechniek Noord B.V.", "Groningen", "", 21),
    ("Glashandel Willems", "Nijmegen", "", 21),
    ("Stichting Buurthuis De Pijler", "Rotterdam", "no-dunning", 21),
    ("Vishandel Bos", "'s-Gravenhage", "", 9),
    ("Dakdekkersbedrijf Vos", "Arnhem", "", 21),
    ("Softwarebureau Pixelwerk B.V.", "Delft", "key-account", 21),
]
# (name, address, postcode, city, country); invoiced without VAT
FOREIGN_BUSINESSES = [
    ("Scheldt Harbour Services NV", "Italiëlei 120", "2000", "Antwerpen", "BE"),
    ("Northwind Supplies Ltd", "12 Deansgate", "M3 2BW", "Manchester", "GB"),
    ("Thames Print Works Ltd", "48 Southwark Street", "SE1 9HP", "London", "GB"),
]
PEOPLE = [
    "Jan Jansen",
    "Sanne de Vries",
    "Pieter van den Berg",
    "Lotte Bakker",
    "Mohamed El Amrani",
    "Fleur Visser",
    "Daan Smit",
    "Emma Meijer",
    "Bram de Boer",
    "Anouk Mulder",
    "Thijs de Groot",
    "Noor Bos",
    "Ruben Vos",
    "Femke Peters",
    "Sem Hendriks",
    "Iris van Leeuwen",
    "Lucas Dekker",
    "Julia Brouwer",
    "Milan de Wit",
    "Sophie Dijkstra",
    "Kevin Smits",
    "Eva de Graaf",
    "Oliver Bennett",  # an English-speaking consumer living in Amsterdam
]
CONTACTS = ["M. de Jong", "A. Koster", "R. Prins", "S. Kuipers", "L. Willemsen"]
STREETS = [
    "Dorpsstraat",
    "Kerkstraat",
    "Stationsweg",
    "Industrieweg",
    "Hoofdstraat",
    "Molenweg",
    "Nijverheidsweg",
    "Julianalaan",
    "Havenkade",
    "Beukenlaan",
    "Schoolstraat",
    "Ambachtsweg",
]
# the range of the four digits of Dutch postcodes in each city
CITIES = {
    "Amsterdam": (1011, 1098),
    "Rotterdam": (3011, 3089),
    "Utrecht": (3511, 3585),
    "'s-Gravenhage": (2511, 2597),
    "Eindhoven": (5611, 5658),
    "Groningen": (9711, 9747),
    "Zwolle": (8011, 8045),
    "Haarlem": (2011, 2037),
    "Amersfoort": (3811, 3829),
    "Nijmegen": (6511, 6546),
    "Tilburg": (5011, 5049),
    "Leeuwarden": (8911, 8939),
    "Breda": (4811, 4839),
    "Apeldoorn": (7311, 7339),
    "Maastricht": (6211, 6229),
    "Deventer": (7411, 7429),
    "Arnhem": (6811, 6846),
    "Delft": (2611, 2629),
    "Leiden": (2311, 2334),
    "Alkmaar": (1811, 1826),
}
POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"
FLOWER_SHOP = "Bloemenhuis Verbeek"  # has the invoice of 1,210.00 with 710.00 open


@dataclass
class _Debtor:
    fields: dict[str, str]
    vat: int
    term: int  # payment term in days
    weight: int  # how many invoices, relatively
    invoices: list[_Invoice] = field(default_factory=list)


@dataclass
class _Invoice:
    due: date
    total: Decimal
    open: Decimal
    currency: str = "EUR"
    pay_url: str = ""


def generate_sample(anchor: date, seed: int = 7) -> str:
    """The sample open-items CSV, as text, with due dates around ``anchor``."""
    rng = random.Random(seed)
    debtors = _debtors(rng)
    _add_invoices(rng, debtors, anchor)
    _mark_credit_notes(rng, debtors)
    _mark_partial_payments(rng, debtors)
    return _render(rng, debtors)


def shift_dates(csv_text: str, days: int) -> str:
    """The same open-items CSV with every issue and due date ``days`` later."""
    delimiter = detect_delimiter(csv_text.lstrip("\ufeff"))
    bom = "\ufeff" if csv_text.startswith("\ufeff") else ""
    source = io.StringIO(csv_text[len(bom) :], newline="")
    rows = list(csv.reader(source, delimiter=delimiter))
    if not rows:
        return csv_text
    header = [name.strip().lower() for name in rows[0]]
    dated = [i for i, name in enumerate(header) if name in ("issue_date", "due_date")]
    for row in rows[1:]:
        for i in dated:
            if i < len(row) and row[i].strip():
                moved = parse_date(row[i].strip()) + timedelta(days=days)
                row[i] = moved.isoformat()
    ending = "\r\n" if "\r\n" in csv_text else "\n"
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(rows)
    return bom + out.getvalue()


def _debtors(rng: random.Random) -> list[_Debtor]:
    debtors = [_business(rng, *entry) for entry in BUSINESSES]
    debtors += [_foreign(*entry) for entry in FOREIGN_BUSINESSES]
    debtors += [_person(rng, name) for name in PEOPLE]
    for number, debtor in enumerate(debtors, start=1001):
        debtor.fields["debtor_id"] = str(number)
        debtor.fields["customer_number"] = f"K{number}"
    return debtors


def _business(rng: random.Random, name: str, city: str, tags: str, vat: int) -> _Debtor:
    domain = _slug(name.removesuffix(" B.V.")) + ".example"
    emails = f"administratie@{domain}"
    if "key-account" in tags:
        emails += f";crediteuren@{domain}"
    language = "" if rng.random() < 0.1 else "nl"
    fields = _fields(name, "business", emails, language, tags, city, rng)
    fields["contact_person"] = rng.choice(CONTACTS)
    weight = 4 if "key-account" in tags else 2
    return _Debtor(fields, vat, term=30, weight=weight)


def _foreign(name: str, street: str, postcode: str, city: str, country: str) -> _Debtor:
    email = f"accounts@{_slug(name)}.example"
    fields = _fields(name, "business", email, "en", "", city, None)
    fields.update(address=street, postcode=postcode, country=country)
    return _Debtor(fields, vat=0, term=30, weight=2)


def _person(rng: random.Random, name: str) -> _Debtor:
    first, _, last = name.partition(" ")
    provider = rng.choice(["mail", "post", "inbox"])
    email = f"{_slug(first)}.{_slug(last)}@{provider}.example"
    language = "en" if name == "Oliver Bennett" else rng.choice(["nl"] * 5 + [""])
    city = "Amsterdam" if language == "en" else rng.choice(list(CITIES))
    fields = _fields(name, "person", email, language, "", city, rng)
    return _Debtor(fields, vat=21, term=14, weight=1)


def _fields(
    name: str,
    kind: str,
    email: str,
    language: str,
    tags: str,
    city: str,
    rng: random.Random | None,
) -> dict[str, str]:
    fields = dict.fromkeys(COLUMNS, "")
    fields.update(
        debtor_name=name,
        debtor_kind=kind,
        email=email,
        language=language,
        tags=tags,
        city=city,
        country="NL",
    )
    if rng is not None:
        low, high = CITIES[city]
        letters = "".join(rng.choice(POSTCODE_LETTERS) for _ in range(2))
        fields["postcode"] = f"{rng.randint(low, high)} {letters}"
        fields["address"] = f"{rng.choice(STREETS)} {rng.randint(1, 180)}"
    return fields


def _add_invoices(rng: random.Random, debtors: list[_Debtor], anchor: date) -> None:
    counts = [1] * len(debtors)
    weights = [debtor.weight for debtor in debtors]
    for index in rng.choices(range(len(debtors)), weights, k=INVOICE_COUNT - 60):
        counts[index] += 1
    for debtor, count in zip(debtors, counts, strict=True):
        for _ in range(count):
            offset = rng.randint(EARLIEST_DUE, LATEST_DUE)
            total = _total(rng, debtor)
            token = f"{rng.getrandbits(48):012x}"
            url = f"https://pay.example/i/{token}"
            invoice = _Invoice(anchor + timedelta(days=offset), total, total)
            invoice.pay_url = url
            debtor.invoices.append(invoice)
    _pin_special_invoices(debtors, anchor)


def _total(rng: random.Random, debtor: _Debtor) -> Decimal:
    """A VAT-inclusive total between 15.00 and 25,000.00 with a plausible net."""
    ceiling = 2_000 if debtor.fields["debtor_kind"] == "person" else 20_000
    while True:
        net = math.exp(rng.uniform(math.log(12), math.log(ceiling)))
        rounded = round(net / 5) * 5 if net > 100 else round(net * 20) / 20
        total = (Decimal(str(rounded)) * (100 + debtor.vat) / 100).quantize(CENT)
        if Decimal(15) <= total <= Decimal(25_000):
            return total


def _pin_special_invoices(debtors: list[_Debtor], anchor: date) -> None:
    """The invoices a demo or a test points at by their amounts."""
    by_name = {debtor.fields["debtor_name"]: debtor for debtor in debtors}
    flowers = by_name[FLOWER_SHOP].invoices[0]
    flowers.total, flowers.open = Decimal("1210.00"), Decimal("710.00")
    flowers.due = anchor - timedelta(days=20)
    smallest = by_name["Noor Bos"].invoices[0]
    smallest.total = smallest.open = Decimal("15.00")  # 12.40 plus VAT
    largest = by_name["Bouwbedrijf Van der Linden B.V."].invoices[0]
    largest.total = largest.open = Decimal("25000.00")  # 20,661.16 plus VAT
    dollars = by_name["Northwind Supplies Ltd"].invoices[0]
    dollars.currency, dollars.pay_url = "USD", ""


def _mark_credit_notes(rng: random.Random, debtors: list[_Debtor]) -> None:
    candidates = [
        invoice
        for debtor in debtors
        if debtor.fields["debtor_name"] != FLOWER_SHOP
        for invoice in debtor.invoices[1:]
    ]
    for invoice in rng.sample(candidates, CREDIT_NOTE_COUNT):
        credit = max(invoice.total / 4, Decimal(15)).quantize(CENT)
        invoice.total = invoice.open = -credit
        invoice.pay_url = ""


def _mark_partial_payments(rng: random.Random, debtors: list[_Debtor]) -> None:
    candidates = [
        invoice
        for debtor in debtors
        for invoice in debtor.invoices
        if invoice.total >= 50 and invoice.open == invoice.total
    ]
    for invoice in rng.sample(candidates, PARTIAL_COUNT - 1):  # plus the flowers
        paid = Decimal(round(float(invoice.total) * rng.uniform(0.2, 0.8)))
        invoice.open = invoice.total - paid


def _render(rng: random.Random, debtors: Sequence[_Debtor]) -> str:
    rows = [(debtor, invoice) for debtor in debtors for invoice in debtor.invoices]
    rows.sort(key=lambda pair: (_issued(*pair), pair[0].fields["debtor_id"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    numbers: dict[str, int] = {}
    for serial, (debtor, invoice) in enumerate(rows, start=100_001):
        issued = _issued(debtor, invoice)
        series = f"{'C' if invoice.total < 0 else ''}{issued.year}"
        # paid invoices are not exported, so the numbers listed have gaps
        numbers[series] = numbers.get(series, 100) + rng.randint(1, 4)
        fields = dict(debtor.fields)
        fields.update(
            invoice_id=str(serial),
            invoice_number=f"{series}-{numbers[series]:04d}",
            issue_date=issued.isoformat(),
            due_date=invoice.due.isoformat(),
            currency=invoice.currency,
            total=f"{invoice.total:.2f}",
            open_amount=f"{invoice.open:.2f}",
            pay_url=invoice.pay_url,
        )
        writer.writerow([fields[name] for name in COLUMNS])
    return out.getvalue()


def _issued(debtor: _Debtor, invoice: _Invoice) -> date:
    return invoice.due - timedelta(days=debtor.term)


def _slug(text: str) -> str:
    kept = "".join(c for c in text.lower() if c.isalnum() or c == " ")
    ascii_only = kept.replace("é", "e").replace("ë", "e").encode("ascii", "ignore")
    return ascii_only.decode().replace(" ", "")


def main(argv: Sequence[str] | None = None) -> None:
    """Write the sample to standard output."""
    parser = argparse.ArgumentParser(description="Write the sample open items.")
    parser.add_argument("--anchor", type=date.fromisoformat, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sys.stdout.write(generate_sample(args.anchor, args.seed))


if __name__ == "__main__":
    main()
