"""The aging report: open receivables by how many days they are past due.

Pure: it reads no store and no clock, so the report for any day can be built
from a snapshot of the mirror and checked by hand.

Every amount stays in its own currency: a report holds one set of rows and one
total per currency, and euros are never added to dollars. Open credit notes
(and any other negative open amount, such as an overpayment) are not aged:
they sit in their own ``credit`` column and are netted in ``total``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from connector.domain import Debtor, Invoice, InvoiceStatus

ZERO = Decimal("0.00")  # keeps cents in sums and in the CSV
TENTH = Decimal("0.1")

#: Column names of the buckets, youngest first.
BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
#: How the buckets read in a table or a chart legend.
BUCKET_LABELS = ("not due", "1-30", "31-60", "61-90", "over 90")
# The last day past due that still falls in each bucket but the oldest.
_BUCKET_ENDS = (0, 30, 60, 90)

#: How far back the DSO countback looks for sales before it gives up.
DSO_WINDOW_DAYS = 365

CSV_COLUMNS = (
    "as_of",
    "source",
    "currency",
    "row",
    "debtor_key",
    "debtor",
    *BUCKETS,
    "credit",
    "total",
    "overdue",
    "oldest_days_past_due",
    "invoices",
)


def bucket_of(days_past_due: int) -> int:
    """The index in ``BUCKETS`` for an invoice this many days past due."""
    for index, last_day in enumerate(_BUCKET_ENDS):
        if days_past_due <= last_day:
            return index
    return len(_BUCKET_ENDS)


@dataclass(frozen=True, slots=True)
class AgingRow:
    """The open amounts of one debtor, or of all debtors, in one currency."""

    currency: str
    debtor_key: str  # empty for the total of a currency
    debtor_name: str
    buckets: tuple[Decimal, ...]  # one amount per entry of BUCKETS
    credit: Decimal  # open credit notes; zero or negative
    invoices: int  # open invoices and credit notes counted
    oldest_days: int  # days past due of the oldest open invoice; 0 if none is late

    @property
    def is_total(self) -> bool:
        return not self.debtor_key

    @property
    def receivable(self) -> Decimal:
        """What is owed before credit notes: the sum of the buckets."""
        return sum(self.buckets, ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum(self.buckets[1:], ZERO)

    @property
    def total(self) -> Decimal:
        """What is owed net of open credit notes."""
        return self.receivable + self.credit


@dataclass(frozen=True, slots=True)
class AgingReport:
    """Aged open receivables on one day, per debtor and per currency."""

    today: date
    rows: tuple[AgingRow, ...]  # per debtor and currency, worst exposure first
    totals: tuple[AgingRow, ...]  # one per currency, in currency order
    dso: Mapping[str, Decimal | None] = field(default_factory=dict)
    source: str = ""

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(row.currency for row in self.totals)

    def rows_in(self, currency: str) -> tuple[AgingRow, ...]:
        return tuple(row for row in self.rows if row.currency == currency)

    def total_in(self, currency: str) -> AgingRow:
        return next(row for row in self.totals if row.currency == currency)


@dataclass(slots=True)
class _Sums:
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * len(BUCKETS))
    credit: Decimal = ZERO
    invoices: int = 0
    oldest_days: int = 0

    def add(self, invoice: Invoice, today: date) -> None:
        self.invoices += 1
        if invoice.is_credit_note or invoice.open_amount < 0:
            self.credit += invoice.open_amount
            return
        days = (today - invoice.due_date).days
        self.buckets[bucket_of(days)] += invoice.open_amount
        self.oldest_days = max(self.oldest_days, days)

    def row(self, currency: str, key: str, name: str) -> AgingRow:
        return AgingRow(
            currency,
            key,
            name,
            tuple(self.buckets),
            self.credit,
            self.invoices,
            self.oldest_days,
        )


def aging(
    invoices: Iterable[Invoice],
    debtors: Mapping[str, Debtor],
    today: date,
    *,
    sales: Iterable[Invoice] | None = None,
    source: str = "",
) -> AgingReport:
    """Age the open invoices as of ``today``; with ``sales``, add the DSO.

    Days past due are ``today - due_date``: an invoice due today is not due yet.
    ``sales`` are the invoices, open or closed, that the store knows were issued
    in the last ``DSO_WINDOW_DAYS`` days; see ``dso_countback`` for the method.
    """
    per_debtor: dict[tuple[str, str], _Sums] = {}
    per_currency: dict[str, _Sums] = {}
    for invoice in invoices:
        if not invoice.is_open:
            continue
        key = (invoice.currency, invoice.debtor_key)
        per_debtor.setdefault(key, _Sums()).add(invoice, today)
        per_currency.setdefault(invoice.currency, _Sums()).add(invoice, today)

    rows = [
        sums.row(currency, key, _name(debtors, key))
        for (currency, key), sums in per_debtor.items()
    ]
    rows.sort(key=_exposure_order)
    totals = tuple(
        per_currency[currency].row(currency, "", "total")
        for currency in sorted(per_currency)
    )
    dso: dict[str, Decimal | None] = {}
    if sales is not None:
        sold = tuple(sales)
        for total in totals:
            dso[total.currency] = dso_countback(
                total.total, sold, total.currency, today
            )
    return AgingReport(today, tuple(rows), totals, dso, source)


def _name(debtors: Mapping[str, Debtor], key: str) -> str:
    debtor = debtors.get(key)
    return debtor.name if debtor is not None else key


def _exposure_order(row: AgingRow) -> tuple[object, ...]:
    """Per currency: the oldest debt first, then the most overdue, then the most."""
    oldest = bucket_of(row.oldest_days) if row.overdue > 0 else 0
    return (
        row.currency,
        -oldest,
        -row.overdue,
        -row.total,
        row.debtor_name.casefold(),
        row.debtor_key,
    )


def dso_countback(
    receivable: Decimal,
    sales: Iterable[Invoice],
    currency: str,
    today: date,
    window: int = DSO_WINDOW_DAYS,
) -> Decimal | None:
    """Days sales outstanding by the countback method, counted day by day.

    Starting with ``today`` and going back one day at a time, each day's sales
    (the totals, VAT included, of the invoices issued that day) are taken off
    the open receivable (net of open credit notes) and the day counts as one.
    On the day whose sales cover what is left, only the covered fraction of
    the day counts. The result, rounded to a tenth of a day, says how many of
    the most recent days of sales are still unpaid; unlike open receivables
    divided by average daily sales, it does not move when sales grow or fall.

    Sales are invoices with a positive total in ``currency``, whatever their
    status now, except deleted and fully credited ones. Credit notes are not
    taken off sales, so a partly credited month makes the DSO a little low.

    Limit: the store knows only the invoices the connector has mirrored. Any
    invoice issued in the window but paid before the first pull is missing from
    sales, which makes the DSO too high until the connector has run for as long
    as the DSO. ``None`` when the receivable is more than all sales the store
    knows of in the last ``window`` days: the DSO cannot be told.
    """
    if receivable <= 0:
        return Decimal(0)
    daily = _daily_sales(sales, currency, today, window)
    remaining = receivable
    days = Decimal(0)
    for offset in range(window):
        sold = daily.get(offset, ZERO)
        if sold > 0 and remaining <= sold:
            days += remaining / sold
            return days.quantize(TENTH, rounding=ROUND_HALF_UP)
        remaining -= sold
        days += 1
    return None


_NOT_SALES = frozenset({InvoiceStatus.DELETED, InvoiceStatus.CREDITED})


def _daily_sales(
    sales: Iterable[Invoice], currency: str, today: date, window: int
) -> dict[int, Decimal]:
    """Sales per day, keyed by days before ``today`` (0 is today)."""
    first = today - timedelta(days=window - 1)
    daily: dict[int, Decimal] = {}
    for invoice in sales:
        if (
            invoice.currency != currency
            or invoice.total <= 0
            or invoice.status in _NOT_SALES
            or not first <= invoice.issue_date <= today
        ):
            continue
        offset = (today - invoice.issue_date).days
        daily[offset] = daily.get(offset, ZERO) + invoice.total
    return daily


def to_csv(report: AgingReport) -> str:
    """The report as CSV: every debtor row, then one total row per currency.

    The ``row`` column says ``debtor`` or ``total``, so that a spreadsheet can
    filter the totals out before adding a column up. Amounts are plain decimals
    with a point.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for currency in report.currencies:
        for row in (*report.rows_in(currency), report.total_in(currency)):
            writer.writerow(_csv_values(report, row))
    return buffer.getvalue()


def _csv_values(report: AgingReport, row: AgingRow) -> list[object]:
    return [
        report.today.isoformat(),
        report.source,
        row.currency,
        "total" if row.is_total else "debtor",
        row.debtor_key,
        row.debtor_name,
        *row.buckets,
        row.credit,
        row.total,
        row.overdue,
        row.oldest_days,
        row.invoices,
    ]


def to_text(report: AgingReport, by_debtor: bool = False) -> str:
    """The report as terminal tables, one per currency."""
    from connector.report import table

    title = f"aging as of {report.today.isoformat()}"
    if report.source:
        title = f"{report.source}: {title}"
    if not report.totals:
        return f"{title}: no open receivables"
    headers = ("debtor", *BUCKET_LABELS, "credit", "total", "oldest")
    parts = [title]
    for currency in report.currencies:
        total = report.total_in(currency)
        shown = [*report.rows_in(currency), total] if by_debtor else [total]
        rows = [_text_cells(row) for row in shown]
        parts.append(f"\n{currency}{_dso_text(report, currency)}")
        parts.append(table(headers, rows))
    return "\n".join(parts)


def _text_cells(row: AgingRow) -> Sequence[object]:
    name = "TOTAL" if row.is_total else row.debtor_name[:32]
    amounts = [*row.buckets, row.credit, row.total]
    oldest = f"{row.oldest_days}d" if row.oldest_days > 0 else "-"
    return (name, *(format_amount(a) for a in amounts), oldest)


def _dso_text(report: AgingReport, currency: str) -> str:
    if currency not in report.dso:
        return ""
    days = report.dso[currency]
    if days is None:
        return f" (DSO: more than the {DSO_WINDOW_DAYS} days of sales known)"
    return f" (DSO {days} days, countback)"


def format_amount(amount: Decimal) -> str:
    """An amount with thousands separators and cents, ``-`` for zero."""
    return "-" if amount == 0 else f"{amount:,.2f}"
