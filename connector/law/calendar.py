"""Business days in the Netherlands: Monday to Friday, except public holidays.

The holidays are those the Algemene termijnenwet (art. 3) recognises for legal
terms: New Year's Day, Easter Monday, Ascension Day, Whit Monday, King's Day,
Liberation Day (5 May, every year) and both Christmas days. The dates come from
the `holidays` package; Good Friday, which it also lists, is not a holiday under
that act, and 5 May is added in the years the package leaves it out. They are
looked up once per year and kept, because the planner asks about the same few
years for every invoice it plans.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays
from dateutil.easter import easter

ONE_DAY = timedelta(days=1)
SATURDAY = 5
SUNDAY = 6
MONDAY = 0


@cache
def public_holidays(year: int) -> frozenset[date]:
    """The Dutch public holidays of one year, as the Algemene termijnenwet has them."""
    listed = holidays.country_holidays("NL", years=year)
    good_friday = easter(year) - timedelta(days=2)
    days = {day for day in listed if day != good_friday}
    days.add(date(year, 5, 5))
    return frozenset(days)


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
