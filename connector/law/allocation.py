"""Payments against a claim: costs first, then interest, then principal.

Art. 6:44 lid 1 BW: a payment goes first to the costs, then to the interest
that has fallen due, and last to the principal and the running interest. What
is left after the whole claim is paid is a surplus, for the caller to refund
or to set against another claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class ClaimBalance:
    """What is open on a claim: principal, interest and collection costs."""

    principal: Decimal
    interest: Decimal = ZERO
    costs: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Everything still open on the claim."""
        return self.principal + self.interest + self.costs


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was divided, and what is open afterwards."""

    to_costs: Decimal
    to_interest: Decimal
    to_principal: Decimal
    surplus: Decimal
    open: ClaimBalance


def allocate_payment(claim: ClaimBalance, amount: Decimal) -> Allocation:
    """Apply a payment of `amount` to `claim` in the order of art. 6:44 BW."""
    if amount < ZERO:
        raise ValueError(f"a payment must not be negative: {amount}")
    to_costs, rest = _take(claim.costs, amount)
    to_interest, rest = _take(claim.interest, rest)
    to_principal, surplus = _take(claim.principal, rest)
    open_ = ClaimBalance(
        principal=claim.principal - to_principal,
        interest=claim.interest - to_interest,
        costs=claim.costs - to_costs,
    )
    return Allocation(to_costs, to_interest, to_principal, surplus, open_)


def _take(due: Decimal, available: Decimal) -> tuple[Decimal, Decimal]:
    """The part of `available` that goes to `due`, and what is left."""
    taken = min(max(due, ZERO), available)
    return taken, available - taken
