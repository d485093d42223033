"""Extrajudicial collection costs: the statutory scale and what a contract says.

The scale is the *Besluit vergoeding voor buitengerechtelijke incassokosten*
(BIK, Stb. 2012, 141), art. 2: marginal percentages over slices of the unpaid
principal, at least 40.00 and at most 6,775.00 euro. VAT is added only for a
creditor who cannot deduct it (BIK art. 2 lid 3), so only when asked.

For consumers the scale is mandatory. Businesses may agree on other costs, but
never less than the fixed 40.00 of the Late Payment Directive (2011/7/EU, art.
6). All amounts are euro. The scale itself sets no rounding; we compute exactly
and round the result half up to cents.
"""

from __future__ import annotations

import enum
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from connector.domain import CENT

STATUTORY_MINIMUM = Decimal("40.00")
STATUTORY_MAXIMUM = Decimal("6775.00")
NL_VAT_RATE = Decimal("0.21")

# BIK art. 2 lid 1: (size of the slice, rate); the last slice has no end.
SCALE: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)

RECURRING_CLAIM_LIMIT = Decimal("266.67")
RECURRING_CAP = Decimal("140.00")
RECURRING_CAP_MONTHS = 6
RECURRING_CAP_SINCE = date(2024, 10, 1)

ZERO = Decimal("0")


class CostsBasis(enum.StrEnum):
    """How an amount of collection costs was arrived at."""

    SCALE = "scale"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    CONTRACT_FIXED = "contract_fixed"
    CONTRACT_PERCENT = "contract_percent"
    CONTRACT_RAISED_TO_MINIMUM = "contract_raised_to_minimum"
    RECURRING_CAP = "recurring_cap"
    NOTHING_OWED = "nothing_owed"


@dataclass(frozen=True, slots=True)
class CollectionCosts:
    """Collection costs on a principal, with how they were computed."""

    principal: Decimal
    net: Decimal
    vat: Decimal
    basis: CostsBasis
    vat_rate: Decimal | None = None

    @property
    def total(self) -> Decimal:
        """The costs including VAT, as charged to the debtor."""
        return self.net + self.vat


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """Collection costs agreed with a business: a fixed amount or a percent."""

    fixed: Decimal | None = None
    percent: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.fixed is None) == (self.percent is None):
            raise ValueError("contract terms need either a fixed amount or a percent")


@dataclass(frozen=True, slots=True)
class CostsCharge:
    """Costs (without VAT) charged to a debtor earlier, for the recurring cap."""

    charged_on: date
    net: Decimal


def statutory_costs(principal: Decimal, *, vat_rate: Decimal | None = None) -> Decimal:
    """The BIK costs on `principal`, with VAT at `vat_rate` if one is given."""
    return assess_statutory_costs(principal, vat_rate=vat_rate).total


def assess_statutory_costs(
    principal: Decimal, *, vat_rate: Decimal | None = None
) -> CollectionCosts:
    """The BIK costs on `principal`, saying whether the minimum or maximum hit."""
    _check_principal(principal)
    if principal == ZERO:
        return CollectionCosts(principal, ZERO, ZERO, CostsBasis.NOTHING_OWED)
    net = _cents(scale_amount(principal))
    basis = CostsBasis.SCALE
    if net < STATUTORY_MINIMUM:
        net, basis = STATUTORY_MINIMUM, CostsBasis.MINIMUM
    elif net > STATUTORY_MAXIMUM:
        net, basis = STATUTORY_MAXIMUM, CostsBasis.MAXIMUM
    return _with_vat(principal, net, basis, vat_rate)


def scale_amount(principal: Decimal) -> Decimal:
    """The scale's slices summed over `principal`, exact, before min and max."""
    amount = ZERO
    rest = principal
    for size, rate in SCALE:
        slice_ = rest if size is None else min(rest, size)
        amount += slice_ * rate
        rest -= slice_
        if rest <= ZERO:
            break
    return amount


def business_costs(
    principal: Decimal,
    terms: ContractTerms | None,
    *,
    vat_rate: Decimal | None = None,
) -> CollectionCosts:
    """The costs a business owes: the contract's if agreed, else the scale."""
    if terms is None:
        return assess_statutory_costs(principal, vat_rate=vat_rate)
    _check_principal(principal)
    if principal == ZERO:
        return CollectionCosts(principal, ZERO, ZERO, CostsBasis.NOTHING_OWED)

    net, basis = _contract_amount(principal, terms)
    if net < STATUTORY_MINIMUM:
        net, basis = STATUTORY_MINIMUM, CostsBasis.CONTRACT_RAISED_TO_MINIMUM
    return _with_vat(principal, net, basis, vat_rate)


def _contract_amount(
    principal: Decimal, terms: ContractTerms
) -> tuple[Decimal, CostsBasis]:
    if terms.percent is not None:
        net = _cents(principal * terms.percent / 100)
        return net, CostsBasis.CONTRACT_PERCENT
    return _cents(terms.fixed or ZERO), CostsBasis.CONTRACT_FIXED


def consumer_costs(
    principal: Decimal,
    *,
    on: date,
    recurring: bool = False,
    earlier: Sequence[CostsCharge] = (),
    vat_rate: Decimal | None = None,
) -> CollectionCosts:
    """What a consumer owes on `on`: the scale, capped for recurring claims."""
    costs = assess_statutory_costs(principal, vat_rate=vat_rate)
    if not recurring:
        return costs
    return cap_recurring_costs(costs, on=on, earlier=earlier)


def cap_recurring_costs(
    costs: CollectionCosts, *, on: date, earlier: Sequence[CostsCharge]
) -> CollectionCosts:
    """Cap costs on a small recurring claim at 140.00 per six months.

    The Wki cumulation cap (reference §1.3, sources R2 and R3; in force from
    1 October 2024): for recurring claims, such as monthly bills or
    instalments, below 266.67 euro, a debtor owes at most 140.00 euro of
    collection costs per six months. `earlier` are the costs charged to the
    same debtor on such claims; those within the six months up to and
    including `on` count. The cap is applied to costs without VAT, because the
    sources read do not say whether it includes VAT.
    """
    if on < RECURRING_CAP_SINCE or costs.principal >= RECURRING_CLAIM_LIMIT:
        return costs
    window_start = months_before(on, RECURRING_CAP_MONTHS)
    used = sum(
        (c.net for c in earlier if window_start < c.charged_on <= on), start=ZERO
    )
    room = max(RECURRING_CAP - used, ZERO)
    if costs.net <= room:
        return costs
    return _with_vat(costs.principal, room, CostsBasis.RECURRING_CAP, costs.vat_rate)


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, or that month's last day."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _with_vat(
    principal: Decimal, net: Decimal, basis: CostsBasis, vat_rate: Decimal | None
) -> CollectionCosts:
    vat = ZERO if vat_rate is None else _cents(net * vat_rate)
    return CollectionCosts(principal, net, vat, basis, vat_rate)


def _check_principal(principal: Decimal) -> None:
    if principal < ZERO:
        raise ValueError(f"principal must not be negative: {principal}")


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
