"""Business days: weekends and Dutch public holidays."""

from datetime import date

from connector.law.calendar import (
    add_business_days,
    business_day_on_or_after,
    is_business_day,
    is_public_holiday,
    next_business_day,
    public_holidays,
)


def test_an_ordinary_wednesday_is_a_business_day() -> None:
    assert is_business_day(date(2025, 3, 12))


def test_saturday_and_sunday_are_no_business_days() -> None:
    assert not is_business_day(date(2025, 3, 15))
    assert not is_business_day(date(2025, 3, 16))


def test_christmas_is_no_business_day() -> None:
    assert not is_business_day(date(2025, 12, 25))
    assert not is_business_day(date(2025, 12, 26))


def test_kings_day_2025_is_held_on_saturday_26_april() -> None:
    # 27 April 2025 is a Sunday, so King's Day moves back to the Saturday.
    assert is_public_holiday(date(2025, 4, 26))
    assert not is_public_holiday(date(2025, 4, 27))


def test_ascension_day_2025_is_no_business_day() -> None:
    # Easter 2025 is 20 April; Ascension is 39 days later, Thursday 29 May.
    assert not is_business_day(date(2025, 5, 29))


def test_the_next_business_day_after_a_friday_is_monday() -> None:
    assert next_business_day(date(2025, 3, 14)) == date(2025, 3, 17)


def test_the_next_business_day_skips_christmas_and_the_weekend() -> None:
    # Wed 24 Dec 2025 -> Thu 25, Fri 26 holidays; Sat 27, Sun 28 -> Mon 29
    assert next_business_day(date(2025, 12, 24)) == date(2025, 12, 29)


def test_a_business_day_is_its_own_first_business_day() -> None:
    assert business_day_on_or_after(date(2025, 3, 12)) == date(2025, 3, 12)


def test_a_saturday_rolls_forward_to_monday() -> None:
    assert business_day_on_or_after(date(2025, 3, 15)) == date(2025, 3, 17)


def test_adding_business_days_skips_a_holiday() -> None:
    # Wed 28 May 2025 + 1 -> Thu 29 is Ascension -> Fri 30 May
    assert add_business_days(date(2025, 5, 28), 1) == date(2025, 5, 30)


def test_adding_ten_business_days_spans_two_weekends() -> None:
    # Mon 3 Mar 2025: Tue 4 .. Fri 7 (4), Mon 10 .. Fri 14 (9), Mon 17 (10)
    assert add_business_days(date(2025, 3, 3), 10) == date(2025, 3, 17)


def test_adding_zero_business_days_keeps_the_date() -> None:
    assert add_business_days(date(2025, 3, 15), 0) == date(2025, 3, 15)


def test_subtracting_business_days_goes_back_over_holidays() -> None:
    # Mon 29 Dec 2025 - 1: Sun 28, Sat 27, Fri 26, Thu 25 skipped -> Wed 24
    assert add_business_days(date(2025, 12, 29), -1) == date(2025, 12, 24)


def test_business_days_cross_into_the_next_year() -> None:
    # Wed 31 Dec 2025 + 1: Thu 1 Jan 2026 is New Year's Day -> Fri 2 Jan
    assert add_business_days(date(2025, 12, 31), 1) == date(2026, 1, 2)


def test_the_holidays_of_a_year_are_looked_up_once() -> None:
    assert public_holidays(2031) is public_holidays(2031)


def test_good_friday_is_a_business_day_under_the_termijnenwet():
    # Good Friday 2026 is 3 April; the Algemene termijnenwet does not list it.
    assert is_business_day(date(2026, 4, 3))


def test_liberation_day_is_a_holiday_every_year():
    # 5 May 2026 is a Tuesday, not a lustrum year; the act lists 5 May every year.
    assert not is_business_day(date(2026, 5, 5))
