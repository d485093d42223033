"""What a step charges on top of the principal: collection costs and interest.

Consumers (and small businesses the policy treats as consumers) owe collection
costs only after a correct 14-day letter whose term ran out unpaid (art. 6:96 lid
6 BW); until then the costs are not charged and the reason says so. Businesses owe
the statutory scale, or the contract's costs, from the day after the due date.
Interest runs from the day after the due date for businesses and from the day of
default for consumers: the day after the 14-day letter's last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.domain import Debtor, DebtorKind, Invoice
from connector.law.costs import (
    CollectionCosts,
    ContractTerms,
    assess_statutory_costs,
    business_costs,
)
from connector.law.interest import (
    BalanceChange,
    InterestResult,
    commercial_interest,
    consumer_interest,
)
from connector.planner import PlannedAction
from connector.policy import Policy

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Charges:
    """Costs and interest added to an action's claim, and why they are (not)."""

    principal: Decimal
    costs: CollectionCosts | None = None
    interest: InterestResult | None = None
    note: str = ""

    @property
    def total(self) -> Decimal:
        """The principal plus what is charged."""
        costs = self.costs.net + self.costs.vat if self.costs else ZERO
        interest = self.interest.total if self.interest else ZERO
        return self.principal + costs + interest

    def ledger_record(self) -> dict[str, str]:
        """The amounts as the ledger keeps them (strings, never floats)."""
        record = {"principal": str(self.principal), "total": str(self.total)}
        if self.costs is not None:
            record["costs"] = str(self.costs.net + self.costs.vat)
            record["costs_basis"] = self.costs.basis.value
        if self.interest is not None:
            record["interest"] = str(self.interest.total)
        if self.note:
            record["charges_note"] = self.note
        return record


def treated_as_consumer(debtor: Debtor, policy: Policy) -> bool:
    """Whether the consumer rules apply to this debtor."""
    if debtor.kind is DebtorKind.PERSON:
        return True
    tag = policy.law.small_business_tag
    return tag is not None and tag in debtor.tags


def vat_rate(policy: Policy) -> Decimal | None:
    """The VAT added to costs: only when the creditor cannot deduct it."""
    return None if policy.law.creditor_deducts_vat else policy.law.vat_rate


def costs_if_unpaid(principal: Decimal, policy: Policy) -> CollectionCosts:
    """The costs a 14-day letter must state: the statutory scale on the principal."""
    return assess_statutory_costs(principal, vat_rate=vat_rate(policy))


def charges_for(action: PlannedAction, policy: Policy, today: date) -> Charges:
    """The costs and interest the action's step charges today."""
    principal = action.total_open
    charge = action.step.charge
    if charge is None or principal <= 0:
        return Charges(principal)
    if any(i.residual_claim for i in action.invoices):
        # Costs and interest were charged and paid first; none are added again.
        return Charges(principal, note="charges were paid before the principal")
    consumer = treated_as_consumer(action.debtor, policy)
    notes: list[str] = []
    costs = None
    if charge.costs != "none":
        if consumer and not action.notice_expired(today):
            notes.append("no collection costs: no 14-day letter whose term ran out")
        else:
            costs = _costs(principal, charge.costs, consumer, policy)
    interest = None
    if charge.interest != "none":
        interest = _interest(action, consumer, today)
        if interest is None:
            notes.append("no interest yet: no whole day of default has passed")
    return Charges(principal, costs, interest, "; ".join(notes))


def _costs(
    principal: Decimal, kind: str, consumer: bool, policy: Policy
) -> CollectionCosts:
    rate = vat_rate(policy)
    contract = policy.law.contract_costs
    if consumer or kind == "statutory" or contract is None:
        return assess_statutory_costs(principal, vat_rate=rate)
    terms = ContractTerms(fixed=contract.fixed, percent=contract.percent)
    return business_costs(principal, terms, vat_rate=rate)


def _interest(
    action: PlannedAction, consumer: bool, today: date
) -> InterestResult | None:
    """Interest on each invoice, added up, until yesterday."""
    until = today - timedelta(days=1)
    notices = dict(action.notices)
    results = []
    for invoice in action.invoices:
        changes = _balance(invoice)
        if consumer:
            last_day = notices.get(invoice.key)
            if last_day is None or last_day >= until:
                continue
            default_on = last_day + timedelta(days=1)
            results.append(
                consumer_interest(changes, default_on=default_on, until=until)
            )
        elif invoice.due_date < until:
            results.append(
                commercial_interest(changes, due_date=invoice.due_date, until=until)
            )
    if not results:
        return None
    return _sum(results)


def _balance(invoice: Invoice) -> list[BalanceChange]:
    """What was outstanding on the invoice from its due date, payment by payment.

    Payments the source dates are taken off on their day; what was paid without a
    known date is taken off from the start, so interest is never overstated.
    """
    dated = [p for p in invoice.payments if p.paid_on > invoice.due_date]
    later = sum((p.amount for p in dated), ZERO)
    start = invoice.open_amount + later
    changes = [BalanceChange(invoice.due_date, start)]
    changes += [BalanceChange(p.paid_on, -p.amount) for p in dated]
    return changes


def _sum(results: list[InterestResult]) -> InterestResult:
    first = results[0]
    if len(results) == 1:
        return first
    return InterestResult(
        kind=first.kind,
        first_day=min(r.first_day for r in results),
        last_day=max(r.last_day for r in results),
        periods=tuple(p for r in results for p in r.periods),
        capitalised=sum((r.capitalised for r in results), ZERO),
    )
