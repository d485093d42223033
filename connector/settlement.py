"""Invoices paid at the source while costs or interest were charged on them.

The bookkeeping package calls an invoice paid when its principal came in. By art.
6:44 BW that payment went to the costs first, then the interest, and only then to
the principal, so part of the principal is still owed. What happens then is the
policy's choice, and it is never silent: with ``after_paid: claim`` the ledger gets
a claim for the rest, which the plan goes on chasing from the step it reached (and
a note goes into the books); with ``waive`` the ledger records the waiver with the
amounts. The books cannot see a payment of the rest: ``dunning settle`` ends it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import structlog

from connector.domain import InvoiceStatus
from connector.law.allocation import ClaimBalance, allocate_payment
from connector.planner import action_key
from connector.policy import Policy
from connector.store import ActionRecord, State, Store

STEP = "after-payment"
ZERO = Decimal("0")
log = structlog.get_logger("dunning.settlement")


def settle_paid(
    store: Store, policy: Policy, source: str, now: datetime, today: date
) -> Counter[str]:
    """Record what is left open on paid invoices that had costs or interest."""
    counts: Counter[str] = Counter()
    charged = _charged_per_invoice(store, source)
    for invoice_key, (costs, interest, record) in charged.items():
        invoice = store.mirror.invoice(source, invoice_key)
        if invoice is None or invoice.status is not InvoiceStatus.PAID:
            continue
        principal = invoice.total
        split = allocate_payment(ClaimBalance(principal, interest, costs), principal)
        still_open = split.open.total
        if still_open <= ZERO:
            continue
        waive = policy.law.after_paid == "waive"
        reason = _reason(principal, costs, interest, still_open, waive)
        settlement = ActionRecord(
            key=action_key(source, record.debtor_key, STEP, [invoice_key]),
            source=source,
            debtor_key=record.debtor_key,
            plan=record.plan,
            step_id=STEP,
            channel="note",
            state=State.SKIPPED if waive else State.DONE,
            scheduled_on=today,
            taken_on=today,
            invoice_amounts=((invoice_key, still_open),),
            payload={
                "invoices": [[invoice.number, str(still_open)]],
                "costs": str(costs),
                "interest": str(interest),
                "paid": str(principal),
                "waived": waive,
                "note_text": f"Invoice {invoice.number}: {reason}",
            },
            reason=reason,
            note_state="pending",
        )
        if store.ledger.record(settlement, now):
            # Recorded once only: a claim settled later is never opened again.
            if not waive:
                store.mirror.set_residual(source, invoice_key, still_open)
            counts["charges_waived" if waive else "charges_open"] += 1
            log.info(
                "charges_after_payment",
                source=source,
                invoice=invoice.number,
                open=str(still_open),
                waived=waive,
            )
    return counts


def _charged_per_invoice(
    store: Store, source: str
) -> dict[str, tuple[Decimal, Decimal, ActionRecord]]:
    """The costs and interest last charged on each invoice, from the ledger."""
    found: dict[str, tuple[Decimal, Decimal, ActionRecord]] = {}
    # Only actions on invoices now paid: not the whole history, twice a cycle.
    for record in store.ledger.done_on_paid_invoices(source):  # latest charge wins
        costs = Decimal(str(record.result.get("costs", "0")))
        interest = Decimal(str(record.result.get("interest", "0")))
        if costs == ZERO and interest == ZERO:
            continue
        share = _shares(record)
        for invoice_key, part in share.items():
            found[invoice_key] = (_cents(costs * part), _cents(interest * part), record)
    return found


def _shares(record: ActionRecord) -> dict[str, Decimal]:
    """Each invoice's share of an action's claim, by its open amount."""
    total = sum((amount for _, amount in record.invoice_amounts), ZERO)
    if total <= ZERO:
        return {}
    return {key: amount / total for key, amount in record.invoice_amounts}


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _reason(
    paid: Decimal, costs: Decimal, interest: Decimal, still_open: Decimal, waive: bool
) -> str:
    split = (
        f"the payment of {paid} went to costs {costs} and interest {interest} first"
        f" (art. 6:44 BW), so {still_open} of the principal is still open"
    )
    if waive:
        return f"{split}; waived by policy"
    return f"{split}; the plan goes on for it"
