"""The aging report, its CSV and its chart, checked against sums done by hand."""

from __future__ import annotations

import csv
import io
import struct
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from connector.aging import (
    BUCKETS,
    CSV_COLUMNS,
    AgingReport,
    aging,
    bucket_of,
    dso_countback,
    to_csv,
    to_text,
)
from connector.aging_chart import chart_size, write_chart
from connector.domain import Debtor, DebtorKind, Invoice, InvoiceStatus

TODAY = date(2026, 3, 31)
D = Decimal


def debtor(key: str, name: str) -> Debtor:
    return Debtor(key, name, DebtorKind.BUSINESS)


DEBTORS = {
    "d1": debtor("d1", "Bakkerij de Vries B.V."),
    "d2": debtor("d2", "Jansen Installatie"),
    "d3": debtor("d3", "P. de Boer"),
}


def invoice(
    key: str,
    days_past_due: int,
    open_amount: str,
    *,
    debtor_key: str = "d1",
    currency: str = "EUR",
    total: str | None = None,
    issued: date | None = None,
    status: InvoiceStatus = InvoiceStatus.OPEN,
) -> Invoice:
    due = TODAY - timedelta(days=days_past_due)
    return Invoice(
        key=key,
        debtor_key=debtor_key,
        number=f"2026-{key}",
        issue_date=issued or due - timedelta(days=30),
        due_date=due,
        currency=currency,
        total=D(total if total is not None else open_amount),
        open_amount=D(open_amount),
        status=status,
    )


def amounts(*values: str) -> tuple[Decimal, ...]:
    return tuple(D(v) for v in values)


@pytest.fixture
def report() -> AgingReport:
    """Three debtors in euros, one of them also in dollars, one credit note."""
    invoices = [
        invoice("a", -10, "100.00", debtor_key="d1"),
        invoice("b", 45, "200.00", debtor_key="d1"),
        invoice("c", 100, "300.00", debtor_key="d2"),
        invoice("d", 10, "50.00", debtor_key="d2"),
        invoice("e", 5, "75.00", debtor_key="d3"),
        invoice("f", 5, "-25.00", debtor_key="d3"),
        invoice("g", 31, "40.00", debtor_key="d1", currency="USD"),
    ]
    return aging(invoices, DEBTORS, TODAY)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-1, "not_due"),
        (0, "not_due"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "days_over_90"),
    ],
)
def test_each_boundary_day_falls_in_its_bucket(days: int, bucket: str) -> None:
    assert BUCKETS[bucket_of(days)] == bucket


def test_invoices_on_the_boundaries_are_summed_in_the_right_buckets() -> None:
    days_and_amounts = [
        (-5, "1.00"),
        (0, "2.00"),
        (1, "4.00"),
        (30, "8.00"),
        (31, "16.00"),
        (60, "32.00"),
        (61, "64.00"),
        (90, "128.00"),
        (91, "256.00"),
    ]
    invoices = [invoice(f"i{d}", d, a) for d, a in days_and_amounts]
    result = aging(invoices, DEBTORS, TODAY)
    total = result.total_in("EUR")
    # not due 1+2, 1-30 4+8, 31-60 16+32, 61-90 64+128, over 90 256
    assert total.buckets == amounts("3.00", "12.00", "48.00", "192.00", "256.00")
    assert total.overdue == D("508.00")
    assert total.total == D("511.00")
    assert total.oldest_days == 91
    assert total.invoices == 9


def test_currencies_are_kept_apart(report: AgingReport) -> None:
    assert report.currencies == ("EUR", "USD")
    usd = report.total_in("USD")
    assert usd.buckets == amounts("0", "0", "40.00", "0", "0")
    assert usd.total == D("40.00")
    assert report.total_in("EUR").total == D("700.00")
    assert [r.debtor_key for r in report.rows_in("USD")] == ["d1"]


def test_an_open_credit_note_has_its_own_column_and_is_netted(
    report: AgingReport,
) -> None:
    (d3,) = [r for r in report.rows_in("EUR") if r.debtor_key == "d3"]
    assert d3.buckets == amounts("0", "75.00", "0", "0", "0")
    assert d3.credit == D("-25.00")
    assert d3.total == D("50.00")
    total = report.total_in("EUR")
    assert total.credit == D("-25.00")
    # 100 + 200 + 300 + 50 + 75 owed, less the 25 credit
    assert total.receivable == D("725.00")
    assert total.total == D("700.00")


def test_per_debtor_sums_add_up_to_the_total(report: AgingReport) -> None:
    rows = {r.debtor_key: r for r in report.rows_in("EUR")}
    assert rows["d1"].buckets == amounts("100.00", "0", "200.00", "0", "0")
    assert rows["d2"].buckets == amounts("0", "50.00", "0", "0", "300.00")
    assert rows["d1"].oldest_days == 45
    assert rows["d2"].invoices == 2
    total = report.total_in("EUR")
    for index in range(len(BUCKETS)):
        assert sum(r.buckets[index] for r in rows.values()) == total.buckets[index]


def test_rows_come_oldest_debt_first_then_most_overdue(report: AgingReport) -> None:
    # d2 has debt over 90 days, d1 at 45 days, d3 only at 5 days.
    assert [r.debtor_key for r in report.rows_in("EUR")] == ["d2", "d1", "d3"]
    more = aging(
        [
            invoice("x", 40, "10.00", debtor_key="d1"),
            invoice("y", 35, "90.00", debtor_key="d2"),
        ],
        DEBTORS,
        TODAY,
    )
    assert [r.debtor_key for r in more.rows] == ["d2", "d1"]


def test_closed_and_settled_invoices_are_left_out() -> None:
    invoices = [
        invoice("open", 3, "10.00"),
        invoice("paid", 3, "10.00", status=InvoiceStatus.PAID),
        invoice("zero", 3, "0.00", total="10.00"),
    ]
    result = aging(invoices, DEBTORS, TODAY)
    assert result.total_in("EUR").total == D("10.00")
    assert result.total_in("EUR").invoices == 1


def test_an_unknown_debtor_is_shown_by_its_key() -> None:
    result = aging([invoice("a", 3, "10.00", debtor_key="zz")], DEBTORS, TODAY)
    assert result.rows[0].debtor_name == "zz"


def test_csv_has_its_columns_and_reads_back(report: AgingReport) -> None:
    text = to_csv(report)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert tuple(parsed[0]) == CSV_COLUMNS
    assert [(r["currency"], r["row"], r["debtor_key"]) for r in parsed] == [
        ("EUR", "debtor", "d2"),
        ("EUR", "debtor", "d1"),
        ("EUR", "debtor", "d3"),
        ("EUR", "total", ""),
        ("USD", "debtor", "d1"),
        ("USD", "total", ""),
    ]
    eur = parsed[3]
    assert eur["as_of"] == "2026-03-31"
    assert [D(eur[b]) for b in BUCKETS] == list(report.total_in("EUR").buckets)
    assert D(eur["credit"]) == D("-25.00")
    assert D(eur["total"]) == D("700.00")
    assert eur["days_over_90"] == "300.00"
    debtor_rows = [r for r in parsed if r["row"] == "debtor" and r["currency"] == "EUR"]
    assert sum(D(r["total"]) for r in debtor_rows) == D(eur["total"])


def test_text_lists_debtors_only_when_asked(report: AgingReport) -> None:
    short = to_text(report)
    assert "TOTAL" in short and "USD" in short
    assert "Jansen Installatie" not in short
    assert "Jansen Installatie" in to_text(report, by_debtor=True)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_chart_is_a_png_of_the_expected_size(
    report: AgingReport, tmp_path: Path
) -> None:
    path = tmp_path / "aging.png"
    write_chart(report, path)
    # 104 title and legend + per currency (86 total panel + 14 gap + debtor
    # panel of 30 heading + 30 per bar + 26 axis + 14 gap), less the last gap,
    # + 24 margin: EUR 3 bars 86+14+146+14, USD 1 bar 86+14+86+14.
    assert png_size(path) == (1000, 104 + 260 + 200 - 14 + 24)
    assert chart_size(report) == (1000, 574)
    with Image.open(path) as image:
        image.verify()


def test_the_chart_shows_at_most_ten_debtors(tmp_path: Path) -> None:
    invoices = [invoice(f"i{n}", n, "10.00", debtor_key=f"k{n}") for n in range(12)]
    path = tmp_path / "aging.png"
    write_chart(aging(invoices, {}, TODAY), path)
    assert png_size(path) == (1000, 104 + 86 + 14 + (30 + 10 * 30 + 26) + 24)


def test_the_chart_of_nothing_open_says_so(tmp_path: Path) -> None:
    path = tmp_path / "aging.png"
    write_chart(aging([], {}, TODAY), path)
    assert png_size(path) == (1000, 104 + 40 + 24)


def test_dso_counts_back_day_by_day_over_sales() -> None:
    # Sales: 1000 today, none yesterday, 2000 the day before. Open: 2400.
    # Today covers 1000 (1 day), yesterday nothing (1 day), and the
    # remaining 1400 is 0.7 of the 2000 sold the day before: 2.7 days.
    first = invoice("a", -30, "1400.00", total="2000.00", issued=date(2026, 3, 29))
    second = invoice("b", -30, "1000.00", issued=TODAY)
    not_sales = [
        invoice(
            "del",
            -30,
            "5000.00",
            issued=date(2026, 3, 30),
            status=InvoiceStatus.DELETED,
        ),
        invoice("usd", -30, "9000.00", issued=date(2026, 3, 30), currency="USD"),
        invoice("cn", -30, "-300.00", issued=date(2026, 3, 30)),
        invoice("late", -30, "700.00", issued=date(2026, 4, 1)),
    ]
    result = aging([first, second], DEBTORS, TODAY, sales=[first, second, *not_sales])
    assert result.dso == {"EUR": D("2.7")}


def test_paid_invoices_count_as_sales() -> None:
    paid = invoice(
        "p", -30, "0.00", total="4000.00", issued=TODAY, status=InvoiceStatus.PAID
    )
    # 1000 open of 4000 sold today: a quarter of a day, 0.25 rounded half up.
    assert dso_countback(D("1000.00"), [paid], "EUR", TODAY) == D("0.3")


def test_dso_cannot_be_told_beyond_the_known_sales() -> None:
    sale = invoice("s", -30, "1000.00", issued=TODAY - timedelta(days=2))
    assert dso_countback(D("1000.00"), [sale], "EUR", TODAY, window=3) == D("3.0")
    assert dso_countback(D("1000.00"), [sale], "EUR", TODAY, window=2) is None
    assert dso_countback(D("0.00"), [], "EUR", TODAY) == D("0")
