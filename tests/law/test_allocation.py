"""Payments go to costs, then interest, then principal (art. 6:44 BW)."""

from decimal import Decimal

import pytest

from connector.law.allocation import ClaimBalance, allocate_payment

D = Decimal

# A business invoice of 1,000.00 with 150.00 costs (15% x 1,000) and 9.86
# interest charged on it.
INVOICE_WITH_COSTS = ClaimBalance(
    principal=D("1000.00"), interest=D("9.86"), costs=D("150.00")
)


def test_a_payment_clears_costs_and_interest_before_the_principal() -> None:
    # 1,000.00 paid: 150.00 to costs, 9.86 to interest, 840.14 to principal;
    # 1,000.00 - 840.14 = 159.86 of the principal stays open.
    allocation = allocate_payment(INVOICE_WITH_COSTS, D("1000.00"))
    assert allocation.open == ClaimBalance(
        principal=D("159.86"), interest=D("0.00"), costs=D("0.00")
    )
    assert (allocation.to_costs, allocation.to_interest, allocation.to_principal) == (
        D("150.00"),
        D("9.86"),
        D("840.14"),
    )


def test_a_payment_smaller_than_the_costs_goes_to_the_costs_only() -> None:
    # 100.00 against 150.00 costs: 50.00 costs left, the rest untouched.
    allocation = allocate_payment(INVOICE_WITH_COSTS, D("100.00"))
    assert allocation.open == ClaimBalance(D("1000.00"), D("9.86"), D("50.00"))


def test_a_payment_covering_costs_goes_next_to_interest() -> None:
    # 155.00: 150.00 to costs, 5.00 to interest; 4.86 interest left.
    allocation = allocate_payment(INVOICE_WITH_COSTS, D("155.00"))
    assert allocation.open == ClaimBalance(D("1000.00"), D("4.86"), D("0.00"))


def test_paying_more_than_the_claim_leaves_a_surplus() -> None:
    # 1,200.00 against 1,000.00 + 9.86 + 150.00 = 1,159.86: surplus 40.14
    allocation = allocate_payment(INVOICE_WITH_COSTS, D("1200.00"))
    assert allocation.surplus == D("40.14")
    assert allocation.open.total == D("0.00")


def test_a_claim_without_costs_or_interest_pays_off_principal() -> None:
    allocation = allocate_payment(ClaimBalance(principal=D("250.00")), D("100.00"))
    assert allocation.open.principal == D("150.00")


def test_a_negative_payment_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate_payment(ClaimBalance(principal=D("1.00")), D("-1.00"))
