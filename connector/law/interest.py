"""Dutch statutory interest (art. 6:119, 6:119a BW): per day, compounded yearly.

- Interest runs on what is outstanding each day. A balance change dated `d`
  counts from day `d` on, so a payment on `d` earns no interest on `d`.
- A period is split wherever the rate changes (the table in
  `rates/nl_statutory_interest.yaml`) and wherever the balance changes.
- After every full year, counted from the first day of interest, that year's
  interest is added to the amount interest is computed on (art. 6:119 lid 2,
  6:119a lid 3). A year that starts on 29 February ends on 28 February.
- Day count: actual days over 365, also in leap years. The reference names no
  convention; this is the one Dutch calculators commonly use.
- Nothing is rounded until the total, which is rounded half up to cents.

Commercial interest runs from the day after the due date; consumer interest
from the first day of default, which the caller determines.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

import structlog
import yaml

from connector.domain import CENT
from connector.errors import ConfigError

log = structlog.get_logger(__name__)

RATES_PACKAGE = "connector.law.rates"
RATES_FILE = "nl_statutory_interest.yaml"
DAYS_PER_YEAR = Decimal(365)
ZERO = Decimal("0")
ONE_DAY = timedelta(days=1)

_unknown_rate_warned = False


class RateKind(enum.StrEnum):
    """Which statutory rate applies."""

    CONSUMER = "consumer"  # art. 6:119 BW
    COMMERCIAL = "commercial"  # art. 6:119a BW


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """Statutory rates (percent per year) in force from `starts_on`."""

    starts_on: date
    consumer: Decimal
    commercial: Decimal
    source: str

    def percent(self, kind: RateKind) -> Decimal:
        """The rate of `kind` in this period."""
        if kind is RateKind.CONSUMER:
            return self.consumer
        return self.commercial


@dataclass(frozen=True, slots=True)
class RateTable:
    """The rate periods in date order, and the last day they are known for."""

    periods: tuple[RatePeriod, ...]
    known_until: date

    def period_on(self, day: date) -> RatePeriod:
        """The period in force on `day`."""
        index = bisect.bisect_right(self.periods, day, key=_starts_on) - 1
        if index < 0:
            first = self.periods[0].starts_on
            raise ValueError(f"no statutory interest rate known before {first}")
        return self.periods[index]

    def changes_between(self, first: date, last: date) -> list[date]:
        """The days after `first`, up to `last`, on which a new period starts."""
        return [p.starts_on for p in self.periods if first < p.starts_on <= last]


def _starts_on(period: RatePeriod) -> date:
    return period.starts_on


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """A change in the interest-bearing amount, counting from `on`."""

    on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    """A stretch of days with one base and one rate, and its interest."""

    first_day: date
    last_day: date
    base: Decimal
    percent: Decimal
    interest: Decimal

    @property
    def days(self) -> int:
        """The number of days, both ends included."""
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class InterestResult:
    """Interest over a range of days, period by period, and the rounded total."""

    kind: RateKind
    first_day: date
    last_day: date
    periods: tuple[InterestPeriod, ...]
    capitalised: Decimal

    @property
    def exact(self) -> Decimal:
        """The unrounded sum of the periods."""
        return sum((p.interest for p in self.periods), start=ZERO)

    @property
    def total(self) -> Decimal:
        """The interest, rounded half up to cents."""
        return self.exact.quantize(CENT, rounding=ROUND_HALF_UP)


def commercial_interest(
    changes: Sequence[BalanceChange],
    *,
    due_date: date,
    until: date,
    table: RateTable | None = None,
) -> InterestResult:
    """Commercial interest (6:119a) from the day after `due_date` to `until`."""
    return statutory_interest(
        changes,
        kind=RateKind.COMMERCIAL,
        first_day=due_date + ONE_DAY,
        until=until,
        table=table,
    )


def consumer_interest(
    changes: Sequence[BalanceChange],
    *,
    default_on: date,
    until: date,
    table: RateTable | None = None,
) -> InterestResult:
    """Consumer interest (6:119) from `default_on` to `until`, both included."""
    return statutory_interest(
        changes,
        kind=RateKind.CONSUMER,
        first_day=default_on,
        until=until,
        table=table,
    )


def statutory_interest(
    changes: Sequence[BalanceChange],
    *,
    kind: RateKind,
    first_day: date,
    until: date,
    table: RateTable | None = None,
) -> InterestResult:
    """Interest of `kind` from `first_day` up to and including `until`."""
    if table is None:
        table = load_rate_table()
    if first_day <= until and until > table.known_until:
        _warn_unknown_rate(kind, table, until)

    periods: list[InterestPeriod] = []
    capitalised = ZERO
    year_interest = ZERO
    anniversaries = set(_anniversaries(first_day, until))
    for start, end in _stretches(changes, table, first_day, until, anniversaries):
        if start in anniversaries:
            capitalised += year_interest
            year_interest = ZERO
        base = max(_balance_on(changes, start) + capitalised, ZERO)
        percent = table.period_on(start).percent(kind)
        interest = _day_interest(base, percent, (end - start).days + 1)
        periods.append(InterestPeriod(start, end, base, percent, interest))
        year_interest += interest
    return InterestResult(kind, first_day, until, tuple(periods), capitalised)


def _stretches(
    changes: Sequence[BalanceChange],
    table: RateTable,
    first_day: date,
    until: date,
    anniversaries: set[date],
) -> Iterator[tuple[date, date]]:
    """Consecutive (first, last) day ranges in which nothing changes."""
    if until < first_day:
        return
    cuts = {first_day, *anniversaries, *table.changes_between(first_day, until)}
    cuts.update(c.on for c in changes if first_day < c.on <= until)
    starts = sorted(cuts)
    ends = [day - ONE_DAY for day in starts[1:]] + [until]
    yield from zip(starts, ends, strict=True)


def _anniversaries(first_day: date, until: date) -> Iterator[date]:
    """The first day of every new interest year, up to `until`."""
    years = 1
    while (day := _years_later(first_day, years)) <= until:
        yield day
        years += 1


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return date(day.year + years, 3, 1)


def _balance_on(changes: Sequence[BalanceChange], day: date) -> Decimal:
    return sum((c.amount for c in changes if c.on <= day), start=ZERO)


def _day_interest(base: Decimal, percent: Decimal, days: int) -> Decimal:
    return base * percent * days / (100 * DAYS_PER_YEAR)


def _warn_unknown_rate(kind: RateKind, table: RateTable, until: date) -> None:
    global _unknown_rate_warned
    if _unknown_rate_warned:
        return
    _unknown_rate_warned = True
    log.warning(
        "interest_rate_unknown",
        kind=str(kind),
        until=until.isoformat(),
        known_until=table.known_until.isoformat(),
        percent_used=str(table.periods[-1].percent(kind)),
    )


@lru_cache(maxsize=1)
def load_rate_table() -> RateTable:
    """The Dutch statutory rate table shipped with the connector."""
    text = resources.files(RATES_PACKAGE).joinpath(RATES_FILE).read_text("utf-8")
    return parse_rate_table(yaml.safe_load(text), origin=RATES_FILE)


def parse_rate_table(data: Mapping[str, Any], *, origin: str) -> RateTable:
    """A rate table from its YAML form; a `ConfigError` names what is wrong."""
    try:
        periods = tuple(_parse_period(row) for row in data["periods"])
        known_until = _as_date(data["known_until"])
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ConfigError(f"bad rate table: {exc!r}", file=origin) from exc
    starts = [p.starts_on for p in periods]
    if not starts or starts != sorted(set(starts)):
        raise ConfigError("rate periods must be in strict date order", file=origin)
    if known_until < starts[-1]:
        raise ConfigError("known_until is before the last period", file=origin)
    return RateTable(periods, known_until)


def _parse_period(row: Mapping[str, Any]) -> RatePeriod:
    return RatePeriod(
        starts_on=_as_date(row["from"]),
        consumer=_as_percent(row["consumer"]),
        commercial=_as_percent(row["commercial"]),
        source=str(row["source"]),
    )


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_percent(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"rate {value!r} must be a quoted string, not a number")
    percent = Decimal(value)
    if not percent.is_finite() or percent < ZERO:
        raise ValueError(f"rate {value!r} is not a percentage")
    return percent
