"""The 14-day letter: when it counts as received and when its term ends."""

from datetime import date

from connector.law.fourteen_day import (
    Delivery,
    fourteen_day_term,
    postal_receipt_day,
)


def test_an_email_counts_as_received_on_the_day_it_was_accepted() -> None:
    term = fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL)
    assert term.received_on == date(2025, 5, 20)
    assert term.first_day == date(2025, 5, 21)


def test_an_email_accepted_on_20_may_2025_ends_on_3_june() -> None:
    # Day 1 is Wed 21 May; day 14 is 21 + 13 = Tue 3 June, a business day.
    term = fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL)
    assert term.last_day == date(2025, 6, 3)


def test_costs_for_an_email_of_20_may_2025_are_due_from_4_june() -> None:
    term = fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL)
    assert term.costs_chargeable_from == date(2025, 6, 4)
    assert not term.has_expired(date(2025, 6, 3))
    assert term.has_expired(date(2025, 6, 4))


def test_a_letter_posted_before_kings_day_2025_arrives_on_30_april() -> None:
    # Posted Fri 25 April. Sat 26 is King's Day, Sun 27 and Mon 28 are no
    # delivery days; Tue 29 is the first delivery day, Wed 30 the second.
    assert postal_receipt_day(date(2025, 4, 25)) == date(2025, 4, 30)


def test_a_letter_posted_on_25_april_2025_ends_on_14_may() -> None:
    # Received Wed 30 April; day 1 is Thu 1 May; day 14 is Wed 14 May.
    term = fourteen_day_term(date(2025, 4, 25), Delivery.POST)
    assert term.received_on == date(2025, 4, 30)
    assert term.last_day == date(2025, 5, 14)
    assert term.costs_chargeable_from == date(2025, 5, 15)


def test_a_letter_posted_on_an_ordinary_friday_arrives_on_tuesday() -> None:
    # Posted Fri 7 March 2025: Sat 8 is the first delivery day; Sun 9 and
    # Mon 10 do not count; Tue 11 is the second.
    assert postal_receipt_day(date(2025, 3, 7)) == date(2025, 3, 11)


def test_a_letter_posted_on_tuesday_arrives_on_thursday() -> None:
    # Posted Tue 4 March 2025: Wed 5 (first), Thu 6 (second).
    assert postal_receipt_day(date(2025, 3, 4)) == date(2025, 3, 6)


def test_a_last_day_on_a_saturday_moves_to_monday() -> None:
    # Posted Thu 6 March 2025: Fri 7 (first delivery day), Sat 8 (second),
    # so received Sat 8 March. Day 1 is Sun 9; day 14 is 9 + 13 = Sat 22
    # March, which moves to Mon 24 March. Costs from Tue 25 March.
    term = fourteen_day_term(date(2025, 3, 6), Delivery.POST)
    assert term.received_on == date(2025, 3, 8)
    assert term.last_day == date(2025, 3, 24)
    assert term.costs_chargeable_from == date(2025, 3, 25)


def test_a_last_day_on_a_sunday_moves_to_monday() -> None:
    # E-mail accepted Sun 2 March 2025: day 1 is Mon 3; day 14 is Sun 16
    # March, which moves to Mon 17 March.
    term = fourteen_day_term(date(2025, 3, 2), Delivery.EMAIL)
    assert term.last_day == date(2025, 3, 17)


def test_a_last_day_on_ascension_day_moves_to_friday() -> None:
    # E-mail accepted Thu 15 May 2025: day 1 is Fri 16; day 14 is Thu 29
    # May, Ascension Day, which moves to Fri 30 May. Costs from Sat 31 May.
    term = fourteen_day_term(date(2025, 5, 15), Delivery.EMAIL)
    assert term.last_day == date(2025, 5, 30)
    assert term.costs_chargeable_from == date(2025, 5, 31)


def test_a_last_day_on_christmas_moves_past_the_weekend() -> None:
    # E-mail accepted Thu 11 Dec 2025: day 14 is Thu 25 Dec. Thu 25 and
    # Fri 26 are Christmas, Sat 27 and Sun 28 the weekend: Mon 29 Dec.
    term = fourteen_day_term(date(2025, 12, 11), Delivery.EMAIL)
    assert term.last_day == date(2025, 12, 29)


def test_a_letter_does_not_arrive_on_a_public_holiday() -> None:
    # Posted Wed 24 Dec 2025: Thu 25 and Fri 26 are holidays; Sat 27 is the
    # first delivery day, Sun 28 and Mon 29 do not count, Tue 30 the second.
    assert postal_receipt_day(date(2025, 12, 24)) == date(2025, 12, 30)
