"""Moneybird JSON → the connector's domain. Unknown fields are ignored.

A record that cannot be used raises ``RecordError`` with the reason; ``""`` and
``null`` both mean "not set".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.domain import (
    CENT,
    Address,
    Debtor,
    DebtorKind,
    Invoice,
    InvoiceStatus,
    Payment,
    is_day,
)
from connector.errors import RecordError

OPEN_STATES = frozenset({"open", "late", "reminded", "pending_payment"})
CLOSED_STATES = {
    "paid": InvoiceStatus.PAID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}
UNSENT_STATES = frozenset({"draft", "scheduled"})
EMAIL_SPLIT = re.compile(r"[,;]\s*|\s+")
CURRENCY = re.compile(r"^[A-Z]{3}$")

Record = Mapping[str, Any]


def text(record: Record, key: str) -> str:
    """A text field, stripped; missing, ``None`` and ``""`` all give ``""``."""
    value = record.get(key)
    return "" if value is None else str(value).strip()


def amount(record: Record, key: str) -> Decimal:
    """An amount in cents: Moneybird writes "363.0" for 363.00."""
    raw = text(record, key)
    try:
        value = Decimal(raw.replace(",", "."))
        if not value.is_finite():
            raise InvalidOperation
        return value.quantize(CENT) if value.as_tuple().exponent != -2 else value
    except InvalidOperation:
        raise RecordError(f"{key} is not an amount: {raw!r}") from None


def day(record: Record, key: str) -> date:
    raw = text(record, key)
    if not raw:
        raise RecordError(f"{key} is missing")
    try:
        value = date.fromisoformat(raw[:10])
    except ValueError:
        raise RecordError(f"{key} is not a date: {raw!r}") from None
    if not is_day(value):
        raise RecordError(f"{key} is out of range: {raw!r}")
    return value


def status_of(invoice: Record) -> InvoiceStatus:
    """Where an invoice stands, from its ``state`` and how it was settled."""
    state = text(invoice, "state")
    if state in OPEN_STATES:
        return InvoiceStatus.OPEN
    if state == "paid" and _settled_by_credit(invoice):
        return InvoiceStatus.CREDITED
    if state in CLOSED_STATES:
        return CLOSED_STATES[state]
    if state in UNSENT_STATES:
        raise RecordError(f"invoice is {state}, not sent")
    raise RecordError(f"unknown invoice state {state!r}")


def _settled_by_credit(invoice: Record) -> bool:
    payments = _payments(invoice)
    return any(p.get("credit_invoice_id") for p in payments if isinstance(p, Mapping))


def _payments(invoice: Record) -> list[Any]:
    payments = invoice.get("payments") or []
    if not isinstance(payments, list):
        raise RecordError("payments is not a list")
    return payments


def invoice_from(record: Record) -> Invoice:
    """A sales invoice (negative totals: a credit note) as a domain ``Invoice``."""
    key = text(record, "id")
    if not key:
        raise RecordError("invoice has no id")
    status = status_of(record)
    currency = text(record, "currency").upper()
    if not CURRENCY.match(currency):
        raise RecordError(f"unknown currency {currency!r}")
    total = amount(record, "total_price_incl_tax")
    open_amount = amount(record, "total_unpaid")
    if total * open_amount < 0 or abs(open_amount) > abs(total):
        raise RecordError(f"open amount {open_amount} does not fit total {total}")
    debtor_key = text(record, "contact_id")
    if not debtor_key:
        raise RecordError("invoice has no contact")
    return Invoice(
        key=key,
        debtor_key=debtor_key,
        number=text(record, "invoice_id") or key,
        issue_date=day(record, "invoice_date"),
        due_date=day(record, "due_date"),
        currency=currency,
        total=total,
        open_amount=open_amount,
        status=status,
        payments=tuple(payment_from(p) for p in _payments(record)),
        paused_at_source=bool(record.get("paused")),
        pay_url=text(record, "payment_url"),
    )


def payment_from(record: Record) -> Payment:
    if not isinstance(record, Mapping):
        raise RecordError("a payment is not an object")
    return Payment(
        key=text(record, "id"),
        paid_on=day(record, "payment_date"),
        amount=amount(record, "price"),
    )


def emails(value: str) -> tuple[str, ...]:
    """Addresses from a field that may hold several, split by commas or semicolons."""
    found = [part.strip() for part in EMAIL_SPLIT.split(value) if "@" in part]
    return tuple(dict.fromkeys(found))


def debtor_from(contact: Record, *, language: str | None = None) -> Debtor:
    """A contact as a ``Debtor``: a business if it has a company name.

    Invoices go to ``send_invoices_to_email`` when set, else to ``email``.
    Moneybird keeps no language on a contact; pass the one of its invoices.
    """
    key = text(contact, "id")
    company = text(contact, "company_name")
    person = " ".join(
        filter(None, (text(contact, "firstname"), text(contact, "lastname")))
    )
    if not key:
        raise RecordError("contact has no id")
    if not (company or person):
        raise RecordError("contact has no name")
    addresses = emails(text(contact, "send_invoices_to_email")) or emails(
        text(contact, "email")
    )
    attention = text(contact, "send_invoices_to_attention") or text(
        contact, "attention"
    )
    lines = tuple(filter(None, (text(contact, "address1"), text(contact, "address2"))))
    return Debtor(
        key=key,
        name=company or person,
        kind=DebtorKind.BUSINESS if company else DebtorKind.PERSON,
        emails=addresses,
        language=language or None,
        customer_number=text(contact, "customer_id"),
        contact_person=attention or (person if company else ""),
        address=Address(
            lines=lines,
            postcode=text(contact, "zipcode"),
            city=text(contact, "city"),
            country=text(contact, "country").upper() or "NL",
        ),
    )


def note_ids(record: Record) -> dict[str, str]:
    """The text of each note on a record, by note id."""
    notes = record.get("notes") or []
    return {text(n, "id"): text(n, "note") for n in notes if isinstance(n, Mapping)}
