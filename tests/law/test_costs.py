"""Collection costs: the BIK scale, contracts and the recurring-claim cap."""

from datetime import date
from decimal import Decimal

import pytest

from connector.law.costs import (
    NL_VAT_RATE,
    ContractTerms,
    CostsBasis,
    CostsCharge,
    assess_statutory_costs,
    business_costs,
    cap_recurring_costs,
    consumer_costs,
    months_before,
    statutory_costs,
)

D = Decimal


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        # 15% x 100.00 = 15.00, below the minimum of 40.00
        ("100.00", "40.00"),
        # 15% x 266.67 = 40.0005, which rounds to 40.00
        ("266.67", "40.00"),
        # 15% x 1,000 = 150.00
        ("1000.00", "150.00"),
        # 15% x 2,500 = 375.00
        ("2500.00", "375.00"),
        # 375.00 + 10% x 2,500 = 625.00
        ("5000.00", "625.00"),
        # 625.00 + 5% x 5,000 = 875.00
        ("10000.00", "875.00"),
        # 875.00 + 1% x 190,000 = 2,775.00
        ("200000.00", "2775.00"),
        # 2,775.00 + 0.5% x 800,000 = 6,775.00, the maximum
        ("1000000.00", "6775.00"),
        # 2,775.00 + 0.5% x 1,800,000 = 11,775.00, capped at 6,775.00
        ("2000000.00", "6775.00"),
    ],
)
def test_statutory_costs_follow_the_bik_scale(principal: str, expected: str) -> None:
    assert statutory_costs(D(principal)) == D(expected)


def test_statutory_costs_add_vat_only_when_asked() -> None:
    # 40.00 x 1.21 = 48.40
    assert statutory_costs(D("100.00"), vat_rate=NL_VAT_RATE) == D("48.40")


def test_statutory_costs_without_a_vat_rate_carry_no_vat() -> None:
    costs = assess_statutory_costs(D("100.00"))
    assert (costs.net, costs.vat, costs.total) == (D("40.00"), D(0), D("40.00"))


def test_vat_is_rounded_half_up_to_cents() -> None:
    # 15% x 1,000.10 = 150.015 -> 150.02; 21% x 150.02 = 31.5042 -> 31.50
    costs = assess_statutory_costs(D("1000.10"), vat_rate=NL_VAT_RATE)
    assert (costs.net, costs.vat, costs.total) == (D("150.02"), D("31.50"), D("181.52"))


def test_the_assessment_says_the_minimum_applied() -> None:
    assert assess_statutory_costs(D("100.00")).basis is CostsBasis.MINIMUM


def test_the_assessment_says_the_maximum_applied() -> None:
    assert assess_statutory_costs(D("2000000.00")).basis is CostsBasis.MAXIMUM


def test_the_assessment_says_the_scale_applied() -> None:
    assert assess_statutory_costs(D("1000.00")).basis is CostsBasis.SCALE


def test_a_paid_claim_carries_no_costs() -> None:
    costs = assess_statutory_costs(D("0.00"))
    assert (costs.total, costs.basis) == (D(0), CostsBasis.NOTHING_OWED)


def test_a_negative_principal_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        statutory_costs(D("-1.00"))


def test_business_costs_without_a_contract_follow_the_scale() -> None:
    # 15% x 1,000 = 150.00
    costs = business_costs(D("1000.00"), None)
    assert (costs.total, costs.basis) == (D("150.00"), CostsBasis.SCALE)


def test_business_costs_use_a_contractual_fixed_amount() -> None:
    costs = business_costs(D("1000.00"), ContractTerms(fixed=D("95.00")))
    assert (costs.total, costs.basis) == (D("95.00"), CostsBasis.CONTRACT_FIXED)


def test_business_costs_use_a_contractual_percentage() -> None:
    # 12.5% x 2,345.67 = 293.20875 -> 293.21
    costs = business_costs(D("2345.67"), ContractTerms(percent=D("12.5")))
    assert (costs.total, costs.basis) == (D("293.21"), CostsBasis.CONTRACT_PERCENT)


def test_a_contractual_percentage_is_not_capped_by_the_scale_maximum() -> None:
    # 1% x 1,000,000 = 10,000.00: a contract may exceed 6,775.00
    costs = business_costs(D("1000000.00"), ContractTerms(percent=D("1")))
    assert costs.total == D("10000.00")


def test_a_contractual_fixed_amount_below_forty_is_raised_to_forty() -> None:
    costs = business_costs(D("1000.00"), ContractTerms(fixed=D("25.00")))
    assert costs.total == D("40.00")
    assert costs.basis is CostsBasis.CONTRACT_RAISED_TO_MINIMUM


def test_a_contractual_percentage_below_forty_is_raised_to_forty() -> None:
    # 10% x 150.00 = 15.00 -> 40.00
    costs = business_costs(D("150.00"), ContractTerms(percent=D("10")))
    assert costs.total == D("40.00")


def test_business_costs_add_vat_on_the_contractual_amount() -> None:
    # 100.00 x 21% = 21.00
    terms = ContractTerms(fixed=D("100.00"))
    costs = business_costs(D("1000.00"), terms, vat_rate=NL_VAT_RATE)
    assert costs.total == D("121.00")


def test_contract_terms_need_exactly_one_way_of_computing() -> None:
    with pytest.raises(ValueError):
        ContractTerms(fixed=D("50"), percent=D("10"))
    with pytest.raises(ValueError):
        ContractTerms()


def test_consumer_costs_on_a_single_claim_follow_the_scale() -> None:
    earlier = [CostsCharge(date(2025, 3, 1), D("140.00"))]
    costs = consumer_costs(D("100.00"), on=date(2025, 3, 2), earlier=earlier)
    assert costs.total == D("40.00")


def test_the_recurring_cap_leaves_room_up_to_140_per_six_months() -> None:
    # charged before: 40 + 40 + 40 = 120; room is 140 - 120 = 20
    earlier = [
        CostsCharge(date(2025, 1, 10), D("40.00")),
        CostsCharge(date(2025, 2, 10), D("40.00")),
        CostsCharge(date(2025, 3, 10), D("40.00")),
    ]
    costs = consumer_costs(
        D("100.00"), on=date(2025, 4, 10), recurring=True, earlier=earlier
    )
    assert (costs.net, costs.basis) == (D("20.00"), CostsBasis.RECURRING_CAP)


def test_the_recurring_cap_allows_nothing_once_140_is_reached() -> None:
    earlier = [CostsCharge(date(2025, 2, 1), D("140.00"))]
    costs = consumer_costs(
        D("100.00"), on=date(2025, 4, 10), recurring=True, earlier=earlier
    )
    assert costs.total == D("0.00")


def test_the_recurring_cap_forgets_charges_older_than_six_months() -> None:
    # On 2025-07-10 the window is 2025-01-11 .. 2025-07-10; the charge of
    # 2025-01-10 falls outside it, so the full 40.00 is allowed.
    earlier = [CostsCharge(date(2025, 1, 10), D("140.00"))]
    costs = consumer_costs(
        D("100.00"), on=date(2025, 7, 10), recurring=True, earlier=earlier
    )
    assert costs.total == D("40.00")


def test_the_recurring_cap_counts_a_charge_just_inside_six_months() -> None:
    # On 2025-07-10 a charge of 2025-01-11 is inside the window: room 0.
    earlier = [CostsCharge(date(2025, 1, 11), D("140.00"))]
    costs = consumer_costs(
        D("100.00"), on=date(2025, 7, 10), recurring=True, earlier=earlier
    )
    assert costs.total == D("0.00")


def test_the_recurring_cap_does_not_touch_claims_of_266_67_or_more() -> None:
    # 15% x 300.00 = 45.00, claim not below 266.67, so no cap
    earlier = [CostsCharge(date(2025, 2, 1), D("140.00"))]
    costs = consumer_costs(
        D("300.00"), on=date(2025, 4, 10), recurring=True, earlier=earlier
    )
    assert costs.total == D("45.00")


def test_the_recurring_cap_does_not_apply_before_1_october_2024() -> None:
    earlier = [CostsCharge(date(2024, 8, 1), D("140.00"))]
    costs = consumer_costs(
        D("100.00"), on=date(2024, 9, 30), recurring=True, earlier=earlier
    )
    assert costs.total == D("40.00")


def test_the_recurring_cap_recomputes_vat_on_the_capped_amount() -> None:
    # room 140 - 120 = 20.00; VAT 21% x 20.00 = 4.20; total 24.20
    costs = assess_statutory_costs(D("100.00"), vat_rate=NL_VAT_RATE)
    earlier = [CostsCharge(date(2025, 3, 1), D("120.00"))]
    capped = cap_recurring_costs(costs, on=date(2025, 3, 2), earlier=earlier)
    assert (capped.net, capped.vat, capped.total) == (
        D("20.00"),
        D("4.20"),
        D("24.20"),
    )


def test_six_months_before_the_31st_falls_on_the_months_last_day() -> None:
    # 2025-08-31 minus six months is February 2025, which has 28 days
    assert months_before(date(2025, 8, 31), 6) == date(2025, 2, 28)


def test_six_months_before_march_crosses_into_the_previous_year() -> None:
    assert months_before(date(2025, 3, 15), 6) == date(2024, 9, 15)
