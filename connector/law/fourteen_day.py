"""The 14-day letter (art. 6:96 lid 6 BW): when it is received and when it ends.

A consumer owes collection costs only if a letter after default gave them
fourteen days to pay, counted from the day after they received it (HR 25
November 2016, ECLI:NL:HR:2016:2704).

- E-mail counts as received on the day the receiving server accepted it, so the
  term starts the day after.
- Post counts as received on the second delivery day after posting. Sundays,
  Mondays and public holidays are no delivery days: they count neither as a day
  in between nor as the day of delivery (the rule of experience in the same
  judgment).
- A last day on a Saturday, Sunday or public holiday moves to the next business
  day (Algemene termijnenwet, art. 1).

Costs may be charged from the day after the (moved) last day.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from connector.law.calendar import (
    MONDAY,
    ONE_DAY,
    SUNDAY,
    business_day_on_or_after,
    is_public_holiday,
)

TERM_DAYS = 14
POSTAL_DELIVERY_DAYS = 2


class Delivery(enum.StrEnum):
    """How the letter reached the debtor."""

    EMAIL = "email"
    POST = "post"


@dataclass(frozen=True, slots=True)
class FourteenDayTerm:
    """When a 14-day letter counts as received and when its term ends."""

    sent_on: date
    delivery: Delivery
    received_on: date
    first_day: date
    last_day: date
    costs_chargeable_from: date

    def has_expired(self, today: date) -> bool:
        """Whether the term is over on `today`, so costs may be charged."""
        return today >= self.costs_chargeable_from


def fourteen_day_term(sent_on: date, delivery: Delivery) -> FourteenDayTerm:
    """The term of a letter sent on `sent_on`.

    For e-mail `sent_on` is the day the receiving server accepted the message;
    for post it is the day the letter was handed to the postal service.
    """
    received_on = receipt_day(sent_on, delivery)
    first_day = received_on + ONE_DAY
    nominal_last_day = first_day + timedelta(days=TERM_DAYS - 1)
    last_day = business_day_on_or_after(nominal_last_day)
    return FourteenDayTerm(
        sent_on=sent_on,
        delivery=delivery,
        received_on=received_on,
        first_day=first_day,
        last_day=last_day,
        costs_chargeable_from=last_day + ONE_DAY,
    )


def receipt_day(sent_on: date, delivery: Delivery) -> date:
    """The day a letter sent on `sent_on` counts as received."""
    if delivery is Delivery.EMAIL:
        return sent_on
    return postal_receipt_day(sent_on)


def postal_receipt_day(posted_on: date) -> date:
    """The second postal delivery day after `posted_on`."""
    day = posted_on
    for _ in range(POSTAL_DELIVERY_DAYS):
        day += ONE_DAY
        while not is_postal_delivery_day(day):
            day += ONE_DAY
    return day


def is_postal_delivery_day(day: date) -> bool:
    """Whether ordinary post is delivered on `day` (not Sun, Mon, holidays)."""
    return day.weekday() not in (SUNDAY, MONDAY) and not is_public_holiday(day)
