"""Statutory interest: per day, split at rate changes, compounded yearly."""

from datetime import date
from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from connector.errors import ConfigError
from connector.law import interest
from connector.law.interest import (
    BalanceChange,
    RateKind,
    commercial_interest,
    consumer_interest,
    load_rate_table,
    parse_rate_table,
)

D = Decimal

FLAT_TEN_PERCENT = parse_rate_table(
    {
        "known_until": date(2030, 12, 31),
        "periods": [
            {
                "from": date(2020, 1, 1),
                "consumer": "10.00",
                "commercial": "10.00",
                "source": "test",
            }
        ],
    },
    origin="test",
)


def owed(amount: str, on: date) -> list[BalanceChange]:
    return [BalanceChange(on, D(amount))]


def test_commercial_interest_is_split_at_the_july_2023_rate_change() -> None:
    # 21..30 June 2023: 10 days at 10.50%: 10,000 x 0.105 x 10/365 = 28.7671
    # 1 July..31 Aug 2023: 62 days at 12.00%: 10,000 x 0.12 x 62/365 = 203.8356
    # together 232.6027 -> 232.60
    result = commercial_interest(
        owed("10000.00", date(2023, 6, 20)),
        due_date=date(2023, 6, 20),
        until=date(2023, 8, 31),
    )
    assert result.total == D("232.60")
    assert [p.percent for p in result.periods] == [D("10.50"), D("12.00")]


def test_commercial_interest_starts_the_day_after_the_due_date() -> None:
    result = commercial_interest(
        owed("10000.00", date(2023, 6, 20)),
        due_date=date(2023, 6, 20),
        until=date(2023, 8, 31),
    )
    assert result.periods[0].first_day == date(2023, 6, 21)


def test_nothing_is_due_on_the_due_date_itself() -> None:
    result = commercial_interest(
        owed("10000.00", date(2023, 6, 1)),
        due_date=date(2023, 6, 20),
        until=date(2023, 6, 20),
    )
    assert result.total == D("0.00")
    assert result.periods == ()


def test_interest_of_each_full_year_is_added_to_the_principal() -> None:
    # Commercial rate is 8.00% throughout 2017 and 2018.
    # Year 1, 2017-01-01..2017-12-31: 1,000.00 x 8% = 80.00
    # Year 2, 2018-01-01..2018-12-31: (1,000.00 + 80.00) x 8% = 86.40
    # together 166.40 (without compounding it would be 160.00)
    result = commercial_interest(
        owed("1000.00", date(2016, 12, 31)),
        due_date=date(2016, 12, 31),
        until=date(2018, 12, 31),
    )
    assert result.total == D("166.40")
    assert result.capitalised == D("80.00")


def test_a_third_year_runs_on_the_twice_increased_principal() -> None:
    # As above, plus 2019-01-01..2019-03-31 (31 + 28 + 31 = 90 days) on
    # 1,000.00 + 80.00 + 86.40 = 1,166.40 at 8%:
    # 1,166.40 x 0.08 x 90/365 = 23.0084; total 166.40 + 23.0084 -> 189.41
    result = commercial_interest(
        owed("1000.00", date(2016, 12, 31)),
        due_date=date(2016, 12, 31),
        until=date(2019, 3, 31),
    )
    assert result.total == D("189.41")


def test_consumer_interest_follows_the_balance_after_a_payment() -> None:
    # Default from 1 March 2024 at 7% (art. 6:119, 2024). 500.00 paid on
    # 1 April 2024, which earns no interest on that day.
    # 1..31 March: 31 days on 2,000.00: 2,000 x 0.07 x 31/365 = 11.8904
    # 1..30 April: 30 days on 1,500.00: 1,500 x 0.07 x 30/365 = 8.6301
    # together 20.5205 -> 20.52
    changes = [
        BalanceChange(date(2024, 1, 15), D("2000.00")),
        BalanceChange(date(2024, 4, 1), D("-500.00")),
    ]
    result = consumer_interest(
        changes, default_on=date(2024, 3, 1), until=date(2024, 4, 30)
    )
    assert result.total == D("20.52")


def test_consumer_interest_starts_on_the_day_of_default() -> None:
    # 1 March 2024 alone: 3,650.00 x 7% / 365 = 0.70
    result = consumer_interest(
        owed("3650.00", date(2024, 1, 1)),
        default_on=date(2024, 3, 1),
        until=date(2024, 3, 1),
    )
    assert result.total == D("0.70")


def test_changes_before_the_first_day_make_up_the_opening_balance() -> None:
    # 10,000.00 invoiced, 4,000.00 paid before the due date: 6,000.00 open.
    # 21..30 June 2023: 6,000 x 0.105 x 10/365 = 17.2603 -> 17.26
    changes = [
        BalanceChange(date(2023, 5, 1), D("10000.00")),
        BalanceChange(date(2023, 6, 1), D("-4000.00")),
    ]
    result = commercial_interest(
        changes, due_date=date(2023, 6, 20), until=date(2023, 6, 30)
    )
    assert result.total == D("17.26")


def test_a_leap_year_still_counts_365_days_a_year() -> None:
    # February 2024 has 29 days, at 12.50% commercial:
    # 36,500.00 x 0.125 x 29/365 = 362.50 (with 366 it would be 361.51)
    result = commercial_interest(
        owed("36500.00", date(2024, 1, 31)),
        due_date=date(2024, 1, 31),
        until=date(2024, 2, 29),
    )
    assert result.total == D("362.50")


def test_a_year_starting_on_29_february_ends_on_28_february() -> None:
    # Flat 10%. Year 1 is 2024-02-29..2025-02-28 (366 days):
    # 3,650.00 x 0.10 x 366/365 = 366.00, added to the principal on 1 March.
    # 2025-03-01: 4,016.00 x 0.10 / 365 = 1.1003; total 367.1003 -> 367.10
    result = consumer_interest(
        owed("3650.00", date(2024, 1, 1)),
        default_on=date(2024, 2, 29),
        until=date(2025, 3, 1),
        table=FLAT_TEN_PERCENT,
    )
    assert result.total == D("367.10")


def test_an_overpaid_claim_earns_no_interest() -> None:
    changes = [
        BalanceChange(date(2023, 5, 1), D("100.00")),
        BalanceChange(date(2023, 5, 2), D("-150.00")),
    ]
    result = commercial_interest(
        changes, due_date=date(2023, 6, 20), until=date(2023, 6, 30)
    )
    assert result.total == D("0.00")


def test_a_date_past_the_table_uses_the_last_rate() -> None:
    # 1..9 July 2026 at the last known 10.15%:
    # 1,000 x 0.1015 x 9/365 = 2.5027 -> 2.50
    result = commercial_interest(
        owed("1000.00", date(2026, 6, 30)),
        due_date=date(2026, 6, 30),
        until=date(2026, 7, 9),
    )
    assert result.total == D("2.50")


def test_a_date_past_the_table_warns_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interest, "_unknown_rate_warned", False)
    with capture_logs() as logs:
        for _ in range(3):
            commercial_interest(
                owed("1000.00", date(2026, 6, 30)),
                due_date=date(2026, 6, 30),
                until=date(2026, 12, 31),
            )
    warnings = [e for e in logs if e["event"] == "interest_rate_unknown"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["known_until"] == "2026-06-30"


def test_a_date_within_the_table_does_not_warn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interest, "_unknown_rate_warned", False)
    with capture_logs() as logs:
        commercial_interest(
            owed("1000.00", date(2026, 1, 1)),
            due_date=date(2026, 1, 1),
            until=date(2026, 6, 30),
        )
    assert logs == []


def test_the_commercial_rate_rose_to_8_75_on_16_march_2013() -> None:
    table = load_rate_table()
    assert table.period_on(date(2013, 3, 15)).commercial == D("7.75")
    assert table.period_on(date(2013, 3, 16)).commercial == D("8.75")


def test_the_consumer_rate_for_the_first_half_of_2026_is_4_percent() -> None:
    period = load_rate_table().period_on(date(2026, 3, 1))
    assert period.percent(RateKind.CONSUMER) == D("4.00")
    assert period.percent(RateKind.COMMERCIAL) == D("10.15")


def test_every_rate_period_names_its_source() -> None:
    assert all(p.source for p in load_rate_table().periods)


def test_no_rate_is_known_before_2012() -> None:
    with pytest.raises(ValueError, match="before 2012-01-01"):
        load_rate_table().period_on(date(2011, 12, 31))


def test_a_rate_written_as_a_bare_number_is_refused() -> None:
    data = {
        "known_until": "2030-12-31",
        "periods": [
            {"from": "2020-01-01", "consumer": 2.0, "commercial": "8", "source": "x"}
        ],
    }
    with pytest.raises(ConfigError, match="quoted string"):
        parse_rate_table(data, origin="rates.yaml")


def test_rate_periods_out_of_order_are_refused() -> None:
    row = {"consumer": "2", "commercial": "8", "source": "x"}
    data = {
        "known_until": "2030-12-31",
        "periods": [{"from": "2021-01-01", **row}, {"from": "2020-01-01", **row}],
    }
    with pytest.raises(ConfigError, match="date order"):
        parse_rate_table(data, origin="rates.yaml")
