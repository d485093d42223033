"""Business days in the Netherlands: Monday to Friday, except public holidays.

The public holidays come from the `holidays` package (its "public" category for
NL), looked up once per year and kept, because the planner asks about the same
few years for every invoice it plans.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

ONE_DAY = timedelta(days=1)
SATURDAY = 5
SUNDAY = 6
MONDAY = 0


@cache
def public_holidays(year: int) -> frozenset[date]:
    """The Dutch public holidays of one year."""
    return frozenset(holidays.country_holidays("NL", years=year))


def is_public_holiday(day: date) -> bool:
    """Whether `day` is a Dutch public holiday."""
    return day in public_holidays(day.year)


def is_business_day(day: date) -> bool:
    """Whether `day` is a weekday that is no public holiday."""
    return day.weekday() < SATURDAY and day not in public_holidays(day.year)


def next_business_day(day: date) -> date:
    """The first business day after `day`."""
    day += ONE_DAY
    while not is_business_day(day):
        day += ONE_DAY
    return day


def business_day_on_or_after(day: date) -> date:
    """`day` itself if it is a business day, else the next business day."""
    if is_business_day(day):
        return day
    return next_business_day(day)


def add_business_days(day: date, count: int) -> date:
    """The date `count` business days after `day` (before it when negative)."""
    step = ONE_DAY if count >= 0 else -ONE_DAY
    for _ in range(abs(count)):
        day += step
        while not is_business_day(day):
            day += step
    return day
