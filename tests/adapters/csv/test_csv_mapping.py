"""Rows of an open-items CSV mapped to debtors and invoices, or skipped."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from adapters.csv.mapping import (
    decode_text,
    parse_amount,
    parse_date,
    read_open_items,
)
from connector.domain import Address, DebtorKind, InvoiceStatus
from connector.errors import FatalSourceError, RecordError

HEADER = [
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
]
GOOD = {
    "invoice_id": "9001",
    "invoice_number": "2026-0412",
    "debtor_id": "1001",
    "debtor_name": "Bakkerij Verhoeven B.V.",
    "debtor_kind": "business",
    "email": "administratie@verhoeven.example; inkoop@verhoeven.example",
    "language": "nl",
    "tags": "key-account;no-dunning",
    "customer_number": "K1001",
    "contact_person": "M. de Jong",
    "address": "Molenweg 12",
    "postcode": "5011 AB",
    "city": "Tilburg",
    "country": "NL",
    "issue_date": "2026-10-01",
    "due_date": "2026-10-31",
    "currency": "EUR",
    "total": "1210.00",
    "open_amount": "710.00",
    "pay_url": "https://pay.example/i/abc",
}


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def csv_text(*rows: dict[str, str], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(HEADER)
    for values in rows:
        writer.writerow([values[name] for name in HEADER])
    return out.getvalue()


def test_a_good_row_becomes_a_debtor_with_every_column():
    items = read_open_items(csv_text(row()))

    (debtor,) = items.debtors
    assert debtor.key == "1001"
    assert debtor.name == "Bakkerij Verhoeven B.V."
    assert debtor.kind is DebtorKind.BUSINESS
    assert debtor.emails == (
        "administratie@verhoeven.example",
        "inkoop@verhoeven.example",
    )
    assert debtor.language == "nl"
    assert debtor.tags == frozenset({"key-account", "no-dunning"})
    assert debtor.customer_number == "K1001"
    assert debtor.contact_person == "M. de Jong"
    assert debtor.address == Address(("Molenweg 12",), "5011 AB", "Tilburg", "NL")


def test_a_good_row_becomes_an_open_invoice_with_decimal_amounts_and_dates():
    items = read_open_items(csv_text(row()))

    (invoice,) = items.invoices
    assert invoice.key == "9001"
    assert invoice.debtor_key == "1001"
    assert invoice.number == "2026-0412"
    assert invoice.issue_date == date(2026, 10, 1)
    assert invoice.due_date == date(2026, 10, 31)
    assert invoice.currency == "EUR"
    assert invoice.total == Decimal("1210.00")
    assert invoice.open_amount == Decimal("710.00")
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.pay_url == "https://pay.example/i/abc"
    assert items.skipped == ()


def test_emails_separated_by_commas_are_split_too():
    items = read_open_items(csv_text(row(email="a@x.example,b@x.example")))

    assert items.debtors[0].emails == ("a@x.example", "b@x.example")


def test_an_empty_kind_makes_the_debtor_a_person():
    items = read_open_items(csv_text(row(debtor_kind="")))

    assert items.debtors[0].kind is DebtorKind.PERSON


def test_empty_optional_columns_give_defaults():
    blank = row(invoice_number="", language="", tags="", country="", email="")

    items = read_open_items(csv_text(blank))

    assert items.invoices[0].number == "9001"
    assert items.debtors[0].language is None
    assert items.debtors[0].tags == frozenset()
    assert items.debtors[0].emails == ()
    assert items.debtors[0].address.country == "NL"


def test_a_row_with_nothing_open_is_a_paid_invoice():
    items = read_open_items(csv_text(row(open_amount="0.00")))

    assert items.invoices[0].status is InvoiceStatus.PAID


def test_a_credit_note_has_a_negative_total_and_open_amount():
    items = read_open_items(csv_text(row(total="-121.00", open_amount="-121.00")))

    (credit,) = items.invoices
    assert credit.is_credit_note
    assert credit.open_amount == Decimal("-121.00")


def test_a_semicolon_file_with_dutch_amounts_is_read():
    dutch = row(total="1.210,00", open_amount="710,5")

    items = read_open_items(csv_text(dutch, delimiter=";"))

    assert items.invoices[0].total == Decimal("1210.00")
    assert items.invoices[0].open_amount == Decimal("710.5")
    assert items.debtors[0].tags == frozenset({"key-account", "no-dunning"})


def test_a_given_delimiter_wins_over_detection():
    commas = "remarks, " * 30  # a header with more commas than semicolons
    header, line = csv_text(row(), delimiter=";").splitlines()
    text = f"{header};{commas}\n{line};\n"

    items = read_open_items(text, delimiter=";")

    assert [invoice.key for invoice in items.invoices] == ["9001"]


def test_a_byte_order_mark_is_dropped():
    data = b"\xef\xbb\xbf" + csv_text(row()).encode("utf-8")

    items = read_open_items(decode_text(data))

    assert items.invoices[0].key == "9001"


def test_a_file_that_is_not_utf8_is_read_as_windows_1252():
    data = csv_text(row(debtor_name="Café 't Hoekje")).encode("cp1252")

    items = read_open_items(decode_text(data))

    assert items.debtors[0].name == "Café 't Hoekje"


def test_header_names_are_matched_without_case_and_extra_columns_are_ignored():
    text = csv_text(row()).replace("invoice_id,", "Invoice_ID,", 1)
    text = text.replace("pay_url\n", "pay_url,remarks\n").replace("/abc\n", "/abc,x\n")

    items = read_open_items(text)

    assert items.invoices[0].key == "9001"
    assert items.skipped == ()


def test_missing_required_columns_are_named():
    text = "invoice_id,debtor_id,total\n1,2,3\n"

    with pytest.raises(FatalSourceError) as caught:
        read_open_items(text)

    message = str(caught.value)
    assert "missing required columns: currency, debtor_name, due_date" in message
    assert "issue_date, open_amount" in message


def test_an_empty_file_is_an_error():
    with pytest.raises(FatalSourceError, match="empty"):
        read_open_items("")


def test_an_unterminated_quote_is_an_error_with_its_line():
    text = csv_text(row()) + '9002,"unclosed,1001\n'

    with pytest.raises(FatalSourceError, match="line 3"):
        read_open_items(text)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"due_date": ""}, "line 3: due_date missing"),
        ({"due_date": "2026-02-30"}, "line 3: due_date '2026-02-30' is not a date"),
        ({"issue_date": "1/10/2026"}, "line 3: issue_date '1/10/2026' is not a date"),
        ({"currency": "EUX"}, "line 3: currency 'EUX' is not an ISO 4217 code"),
        ({"currency": ""}, "line 3: currency missing"),
        ({"total": "12,3x"}, "line 3: total '12,3x' is not an amount"),
        ({"open_amount": "veel"}, "line 3: open_amount 'veel' is not an amount"),
        (
            {"total": "100.00", "open_amount": "150.00"},
            "line 3: open_amount 150.00 is larger than total 100.00",
        ),
        (
            {"total": "-100.00", "open_amount": "-150.00"},
            "line 3: open_amount -150.00 is larger than total -100.00",
        ),
        (
            {"total": "100.00", "open_amount": "-50.00"},
            "line 3: open_amount and total have opposite signs",
        ),
        ({"debtor_kind": "vennootschap"}, "line 3: debtor_kind 'vennootschap' is"),
        ({"email": "a@x.example;kantoor"}, "line 3: email 'kantoor' is not an address"),
        ({"language": "dutch!"}, "line 3: language 'dutch!' is not a language code"),
        ({"country": "Nederland"}, "line 3: country 'Nederland' is not a two-letter"),
        ({"debtor_name": ""}, "line 3: debtor_name missing"),
    ],
)
def test_a_broken_row_is_skipped_with_its_reason(changes, reason):
    broken = row(invoice_id="9002", debtor_id="1002", **changes)

    items = read_open_items(csv_text(row(), broken))

    assert [invoice.key for invoice in items.invoices] == ["9001"]
    assert [debtor.key for debtor in items.debtors] == ["1001"]
    ((key, why),) = items.skipped
    assert key == "9002"
    assert why.startswith(reason)


def test_a_row_without_invoice_id_is_skipped_under_its_line_number():
    items = read_open_items(csv_text(row(), row(invoice_id="")))

    assert items.skipped == (("line 3", "line 3: invoice_id missing"),)
    assert len(items.invoices) == 1


def test_a_repeated_invoice_id_keeps_the_first_row():
    items = read_open_items(csv_text(row(), row(open_amount="10.00")))

    assert items.invoices[0].open_amount == Decimal("710.00")
    assert items.skipped == (("9001", "line 3: invoice_id repeats the one on line 2"),)


def test_a_row_contradicting_its_debtor_on_an_earlier_row_is_skipped():
    other = row(invoice_id="9002", debtor_name="Verhoeven", city="Breda")

    items = read_open_items(csv_text(row(), other))

    reason = "line 3: debtor columns differ from line 2: debtor_name, city"
    assert items.skipped == (("9002", reason),)
    assert [invoice.key for invoice in items.invoices] == ["9001"]


def test_rows_of_one_debtor_that_agree_give_one_debtor_with_both_invoices():
    items = read_open_items(csv_text(row(), row(invoice_id="9002")))

    assert len(items.debtors) == 1
    assert [invoice.key for invoice in items.invoices] == ["9001", "9002"]


def test_a_row_with_too_few_fields_is_skipped():
    text = csv_text(row()) + "9002,2026-0413,1001\n"

    items = read_open_items(text)

    assert items.skipped == (("9002", "line 3: row has 3 fields, the header 20"),)


def test_blank_lines_are_ignored():
    text = csv_text(row()) + "\n" + ",,,,,,,,,,,,,,,,,,,\n"

    items = read_open_items(text)

    assert items.skipped == ()
    assert len(items.invoices) == 1


def test_line_numbers_count_the_lines_of_a_multiline_address():
    two_lines = row(address="Bedrijvenpark Noord\nMolenweg 12")
    broken = row(invoice_id="9002", debtor_id="1002", due_date="")

    items = read_open_items(csv_text(two_lines, broken))

    assert items.debtors[0].address.lines == ("Bedrijvenpark Noord", "Molenweg 12")
    assert items.skipped == (("9002", "line 4: due_date missing"),)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234.567,8", "1234567.8"),
        ("12,345", "12345"),
        ("1.234", "1234"),
        ("-1.210,00", "-1210.00"),
        ("1 234,56", "1234.56"),
        ("15", "15"),
    ],
)
def test_amounts_are_read_in_english_and_dutch_notation(text, amount):
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text", ["", "abc", "1.234.56", "1,234,56", "12.3456", ".5", "1..2", "€ 5"]
)
def test_text_that_is_no_amount_is_refused(text):
    with pytest.raises(RecordError):
        parse_amount(text)


def test_dates_may_be_written_day_first_with_dashes():
    assert parse_date("01-12-2026") == date(2026, 12, 1)
    assert parse_date("2026-12-01") == date(2026, 12, 1)
