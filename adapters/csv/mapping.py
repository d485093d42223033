"""The open-items CSV: its columns, and its rows mapped to debtors and invoices.

A bookkeeping package that can only export its open items writes one row per open
invoice or credit note. The columns of the debtor are repeated on every row of that
debtor. The first row is the header; the order of the columns is free, their names
are matched without regard to case, and columns not listed here are ignored.

| column | required | content |
| --- | --- | --- |
| `invoice_id` | yes | the invoice's id at the source, unique in the file |
| `invoice_number` | no | the number printed on the invoice (default: the id) |
| `debtor_id` | yes | the customer's id at the source |
| `debtor_name` | yes | the customer's name |
| `debtor_kind` | no | `person` or `business` (also `b2c` or `b2b`) |
| `email` | no | one or more addresses, separated by `;` or `,` |
| `language` | no | `nl`, `en`, ...; empty means the policy's default |
| `tags` | no | labels separated by `;`, such as `key-account;no-dunning` |
| `customer_number` | no | the customer number the customer knows |
| `contact_person` | no | whom to address at a business |
| `address` | no | street and number; line breaks give several lines |
| `postcode` | no | postal code |
| `city` | no | town or city |
| `country` | no | two-letter code (`NL`, `BE`, `GB`); empty means `NL` |
| `issue_date` | yes | `YYYY-MM-DD` (`DD-MM-YYYY` is accepted too) |
| `due_date` | yes | written like `issue_date` |
| `currency` | yes | ISO 4217 code, such as `EUR` |
| `total` | yes | the invoice total; negative for a credit note |
| `open_amount` | yes | what is still unpaid; negative for an unused credit |
| `pay_url` | no | a link where the customer can pay online |

An empty `debtor_kind` means `person`: the consumer rules are the stricter ones, so
a debtor of unknown kind is protected as a consumer.

Amounts are written `1234.56`, `1,234.56`, `1234,56` or `1.234,56`: the
separator followed by one or two digits at the end is the decimal mark, and a
separator followed by three digits groups thousands. An amount has at most two
decimals, so `1.234` means one thousand two hundred and thirty-four.

The delimiter is `,`, `;` or a tab, found from the header line. The file is
UTF-8, with or without a byte-order mark; a file that is not valid UTF-8 is read as
Windows-1252, which is what Excel writes for "CSV (semicolon separated)".

A row with an open amount of zero is an invoice that has been paid: it is listed
with status `paid`. A row that cannot be used is skipped with a reason, and the
other rows still count. Rows are skipped when a required value is missing, a date,
an amount, the currency, the kind, the language, the country or an email address is
not valid, the open amount is larger than the total or of the opposite sign, the
`invoice_id` was already used on an earlier row (the first row counts), or the
debtor columns differ from an earlier row of the same `debtor_id`. Blank rows are
ignored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from babel.numbers import list_currencies

from connector.domain import (
    Address,
    Debtor,
    DebtorKind,
    Invoice,
    InvoiceStatus,
    is_amount,
    is_day,
)
from connector.errors import FatalSourceError, RecordError

COLUMNS = (
    "invoice_id",
    "invoice_number",
    "debtor_id",
    "debtor_name",
    "debtor_kind",
    "email",
    "language",
    "tags",
    "customer_number",
    "contact_person",
    "address",
    "postcode",
    "city",
    "country",
    "issue_date",
    "due_date",
    "currency",
    "total",
    "open_amount",
    "pay_url",
)
REQUIRED_COLUMNS = frozenset(
    {
        "invoice_id",
        "debtor_id",
        "debtor_name",
        "issue_date",
        "due_date",
        "currency",
        "total",
        "open_amount",
    }
)
DELIMITERS = (",", ";", "\t")

_KINDS = {
    "person": DebtorKind.PERSON,
    "b2c": DebtorKind.PERSON,
    "business": DebtorKind.BUSINESS,
    "b2b": DebtorKind.BUSINESS,
}
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_AMOUNT = re.compile(r"([+-]?)(\d[\d.,]*?)(?:([.,])(\d{1,2}))?")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class OpenItems:
    """What one open-items file holds: usable debtors and invoices, and the rest.

    `skipped` pairs a record key (the `invoice_id`, or `line N` when a row has
    none) with the reason the row was left out.
    """

    debtors: tuple[Debtor, ...]
    invoices: tuple[Invoice, ...]
    skipped: tuple[tuple[str, str], ...]


def decode_text(data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FatalSourceError("the file is neither UTF-8 nor Windows-1252") from exc


def detect_delimiter(text: str) -> str:
    """The delimiter that occurs most often in the header line (`,` on a tie)."""
    header = text.split("\n", 1)[0]
    return max(DELIMITERS, key=header.count)


def read_open_items(text: str, delimiter: str | None = None) -> OpenItems:
    """Map the rows of an open-items file; FatalSourceError if the file is unusable."""
    rows = _records(text, delimiter or detect_delimiter(text))
    first = next(rows, None)
    if first is None:
        raise FatalSourceError("the file is empty; expected a header line")
    header = [name.strip().lower() for name in first[1]]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if missing:
        raise FatalSourceError(f"missing required columns: {', '.join(missing)}")
    collector = _Collector()
    for line, row in rows:
        collector.add(line, header, row)
    return collector.result()


def debtor_from_row(fields: dict[str, str]) -> Debtor:
    """The debtor described by the debtor columns of one row."""
    return Debtor(
        key=_required(fields, "debtor_id"),
        name=_required(fields, "debtor_name"),
        kind=parse_kind(fields.get("debtor_kind", "")),
        emails=parse_emails(fields.get("email", "")),
        language=parse_language(fields.get("language", "")),
        tags=frozenset(_split(fields.get("tags", ""), ";")),
        customer_number=fields.get("customer_number", ""),
        contact_person=fields.get("contact_person", ""),
        address=Address(
            lines=tuple(_split(fields.get("address", ""), "\n")),
            postcode=fields.get("postcode", ""),
            city=fields.get("city", ""),
            country=parse_country(fields.get("country", "")),
        ),
    )


def invoice_from_row(fields: dict[str, str]) -> Invoice:
    """The invoice (or credit note) described by the invoice columns of one row."""
    key = _required(fields, "invoice_id")
    total = parse_amount(_required(fields, "total"), "total")
    open_amount = parse_amount(_required(fields, "open_amount"), "open_amount")
    if abs(open_amount) > abs(total):
        raise RecordError(f"open_amount {open_amount} is larger than total {total}")
    if open_amount * total < 0:
        raise RecordError("open_amount and total have opposite signs")
    return Invoice(
        key=key,
        debtor_key=_required(fields, "debtor_id"),
        number=fields.get("invoice_number") or key,
        issue_date=parse_date(_required(fields, "issue_date"), "issue_date"),
        due_date=parse_date(_required(fields, "due_date"), "due_date"),
        currency=parse_currency(_required(fields, "currency")),
        total=total,
        open_amount=open_amount,
        status=InvoiceStatus.PAID if open_amount == 0 else InvoiceStatus.OPEN,
        pay_url=fields.get("pay_url", ""),
    )


def parse_amount(text: str, column: str = "amount") -> Decimal:
    """An amount in English or Dutch notation; RecordError if it is not one."""
    compact = text.replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT.fullmatch(compact)
    if match is None:
        raise RecordError(f"{column} {text!r} is not an amount")
    sign, whole, mark, cents = match.groups()
    if not _is_grouped(whole, _grouping_mark(whole, mark)):
        raise RecordError(f"{column} {text!r} is not an amount")
    digits = re.sub(r"[.,]", "", whole)
    value = Decimal(f"{sign}{digits}.{cents}" if cents else f"{sign}{digits}")
    if not is_amount(value):
        raise RecordError(f"{column} {text!r} is too large to be an amount")
    return value


def parse_date(text: str, column: str = "date") -> date:
    """A date written YYYY-MM-DD or DD-MM-YYYY; RecordError otherwise."""
    iso = _ISO_DATE.fullmatch(text)
    dutch = _DUTCH_DATE.fullmatch(text)
    try:
        if iso:
            day = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif dutch:
            day = date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
        else:
            day = None
    except ValueError:
        day = None
    if day is not None and is_day(day):
        return day
    raise RecordError(f"{column} {text!r} is not a date (YYYY-MM-DD)")


def parse_currency(text: str) -> str:
    """An ISO 4217 currency code in capitals; RecordError if it is unknown."""
    code = text.upper()
    if code not in _known_currencies():
        raise RecordError(f"currency {text!r} is not an ISO 4217 code")
    return code


def parse_kind(text: str) -> DebtorKind:
    """The debtor kind; an empty value means a person (see the module docstring)."""
    if not text:
        return DebtorKind.PERSON
    kind = _KINDS.get(text.lower())
    if kind is None:
        raise RecordError(f"debtor_kind {text!r} is not person or business")
    return kind


def parse_emails(text: str) -> tuple[str, ...]:
    """The addresses in an email column, in order, without repeats."""
    emails = tuple(dict.fromkeys(_split(text.replace(",", ";"), ";")))
    for email in emails:
        local, at, domain = email.partition("@")
        if not (local and at and domain) or " " in email:
            raise RecordError(f"email {email!r} is not an address")
    return emails


def parse_language(text: str) -> str | None:
    """A lower-case language code, or None when the column is empty."""
    if not text:
        return None
    code = text.lower().replace("_", "-")
    if not _LANGUAGE.fullmatch(code):
        raise RecordError(f"language {text!r} is not a language code")
    return code


def parse_country(text: str) -> str:
    """A two-letter country code in capitals; NL when the column is empty."""
    code = text.upper() or "NL"
    if not _COUNTRY.fullmatch(code):
        raise RecordError(f"country {text!r} is not a two-letter code")
    return code


class _Collector:
    """Collects rows, skipping broken ones, repeats and contradicting debtors."""

    def __init__(self) -> None:
        self.debtors: dict[str, tuple[Debtor, int]] = {}
        self.invoices: dict[str, tuple[Invoice, int]] = {}
        self.skipped: list[tuple[str, str]] = []

    def add(self, line: int, header: list[str], row: list[str]) -> None:
        if not any(value.strip() for value in row):
            return
        fields = dict(zip(header, (value.strip() for value in row), strict=False))
        key = fields.get("invoice_id") or f"line {line}"
        try:
            self._check_width(header, row)
            debtor = debtor_from_row(fields)
            invoice = invoice_from_row(fields)
            self._check_unique(invoice)
            self._check_same_debtor(debtor)
        except RecordError as exc:
            self.skipped.append((key, f"line {line}: {exc}"))
            return
        self.debtors.setdefault(debtor.key, (debtor, line))
        self.invoices[invoice.key] = (invoice, line)

    def result(self) -> OpenItems:
        return OpenItems(
            debtors=tuple(debtor for debtor, _ in self.debtors.values()),
            invoices=tuple(invoice for invoice, _ in self.invoices.values()),
            skipped=tuple(self.skipped),
        )

    def _check_width(self, header: list[str], row: list[str]) -> None:
        if len(row) != len(header):
            raise RecordError(f"row has {len(row)} fields, the header {len(header)}")

    def _check_unique(self, invoice: Invoice) -> None:
        if invoice.key in self.invoices:
            first = self.invoices[invoice.key][1]
            raise RecordError(f"invoice_id repeats the one on line {first}")

    def _check_same_debtor(self, debtor: Debtor) -> None:
        if debtor.key not in self.debtors:
            return
        earlier, line = self.debtors[debtor.key]
        mine, theirs = _debtor_columns(debtor), _debtor_columns(earlier)
        differ = [name for name in mine if mine[name] != theirs[name]]
        if differ:
            names = ", ".join(differ)
            raise RecordError(f"debtor columns differ from line {line}: {names}")


def _debtor_columns(debtor: Debtor) -> dict[str, object]:
    """A debtor's values under the names of the columns they came from."""
    return {
        "debtor_name": debtor.name,
        "debtor_kind": debtor.kind,
        "email": debtor.emails,
        "language": debtor.language,
        "tags": debtor.tags,
        "customer_number": debtor.customer_number,
        "contact_person": debtor.contact_person,
        "address": debtor.address.lines,
        "postcode": debtor.address.postcode,
        "city": debtor.address.city,
        "country": debtor.address.country,
    }


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the number of the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FatalSourceError(f"line {start}: malformed CSV: {exc}") from exc


def _required(fields: dict[str, str], column: str) -> str:
    value = fields.get(column, "")
    if not value:
        raise RecordError(f"{column} missing")
    return value


def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def _grouping_mark(whole: str, decimal_mark: str | None) -> str:
    """The thousands separator: the mark that is not the decimal one."""
    if decimal_mark:
        return "." if decimal_mark == "," else ","
    return "," if "," in whole else "."


def _is_grouped(whole: str, separator: str) -> bool:
    """Whether the integer part is plain digits or thousands grouped by separator."""
    if whole.isdigit():
        return True
    head, *tail = whole.split(separator)
    return (
        bool(tail)
        and head.isdigit()
        and len(head) <= 3
        and all(len(group) == 3 and group.isdigit() for group in tail)
    )


@cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())
