"""Exact's JSON rows to the connector's domain, and domain notes to Exact bodies.

An invoice is one financial entry (``TransactionEntryID``) with its payment
terms: a partial payment splits a term, so the open amount is the sum of the
terms not yet fully paid, in the invoice's own currency (the FC amounts), and
every settled term is a payment.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from adapters.base import Note, Task
from adapters.exact.odata import Row, iso, parse_amount, parse_date, text
from connector.domain import (
    Address,
    Debtor,
    DebtorKind,
    Invoice,
    InvoiceStatus,
    Payment,
)
from connector.errors import RecordError

SALES_ENTRY = 20
SALES_CREDIT_NOTE = 21
CALL = 1  # Tasks.TaskType
_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def marker(key: str) -> str:
    """The tag that makes a note or task findable by its action key."""
    return f"[dunning:{key}]"


def group_by_entry(terms: Iterable[Row]) -> dict[str, list[Row]]:
    """Payment terms per financial entry (one entry is one invoice)."""
    grouped: dict[str, list[Row]] = defaultdict(list)
    for term in terms:
        grouped[str(term["TransactionEntryID"]).lower()].append(term)
    return dict(grouped)


def invoice_from_terms(entry_id: str, terms: Sequence[Row]) -> Invoice:
    """One invoice from all its terms; RecordError if it makes no sense."""
    first = terms[0]
    kind = first.get("TransactionType")
    if kind not in (SALES_ENTRY, SALES_CREDIT_NOTE):
        raise RecordError(f"entry type {kind} is not a sales invoice")
    currency = text(first.get("Currency"))
    if not _CURRENCY.match(currency):
        raise RecordError(f"unknown currency {currency!r}")
    open_terms = [t for t in terms if not t.get("IsFullyPaid")]
    due = [parse_date(t.get("DueDate")) for t in open_terms or terms]
    due_dates = [d for d in due if d is not None]
    issued = parse_date(first.get("InvoiceDate"))
    if not due_dates or issued is None:
        raise RecordError("no invoice or due date")
    open_amount = sum(
        (parse_amount(_field(t, "AmountFC")) for t in open_terms), parse_amount(0)
    )
    return Invoice(
        key=entry_id,
        debtor_key=text(_field(first, "Account")).lower(),
        number=str(first.get("InvoiceNumber") or first.get("EntryNumber")),
        issue_date=issued,
        due_date=min(due_dates),
        currency=currency,
        total=parse_amount(_field(first, "TransactionAmountFC")),
        open_amount=open_amount,
        status=InvoiceStatus.OPEN if open_terms else InvoiceStatus.PAID,
        payments=tuple(_payments(terms)),
    )


def _payments(terms: Sequence[Row]) -> Iterable[Payment]:
    paid = [(parse_date(t.get("LastPaymentDate")), t) for t in terms]
    settled = [(on, t) for on, t in paid if on is not None and t.get("IsFullyPaid")]
    for paid_on, term in sorted(settled, key=lambda pair: pair[0]):
        amount = parse_amount(_field(term, "AmountFC"))
        yield Payment(text(_field(term, "ID")), paid_on, amount)


def _field(row: Row, key: str) -> Any:
    """A value the record cannot do without; RecordError when it is not there."""
    value = row.get(key)
    if value is None or value == "":
        raise RecordError(f"{key} is missing")
    return value


def debtor_from_account(row: Row, bill_to: Row | None = None) -> Debtor:
    """A customer; reminders go to the invoice account's address first."""
    emails = _emails(bill_to.get("Email")) if bill_to else []
    emails += [e for e in _emails(row.get("Email")) if e not in emails]
    business = bool(text(row.get("VATNumber")) or text(row.get("ChamberOfCommerce")))
    language = text(row.get("Language")).lower()[:2] or None
    return Debtor(
        key=text(_field(row, "ID")).lower(),
        name=text(row.get("Name")),
        kind=DebtorKind.BUSINESS if business else DebtorKind.PERSON,
        emails=tuple(emails),
        language=language,
        customer_number=text(row.get("Code")),
        address=Address(
            lines=tuple(x for x in (text(row.get("AddressLine1")),) if x),
            postcode=text(row.get("Postcode")),
            city=text(row.get("City")),
            country=text(row.get("Country")) or "NL",
        ),
    )


def _emails(value: Any) -> list[str]:
    return [e.strip() for e in re.split(r"[;,]", text(value)) if "@" in e]


def note_body(note: Note, numbers: Sequence[str], on: datetime) -> dict[str, Any]:
    """A CommunicationNote naming the invoices and carrying the action key."""
    which = ", ".join(numbers) if numbers else "—"
    headline = (
        note.text.strip().splitlines()[0][:80] if note.text.strip() else "Dunning"
    )
    return {
        "Account": note.debtor_key,
        "Subject": f"{headline} (invoice {which}) {marker(note.key)}",
        "Notes": _with_marker(f"{note.text}\n\nInvoices: {which}", note.key),
        "Date": iso(on),
    }


def letter_subject(key: str, filename: str, numbers: Sequence[str]) -> str:
    """A stored letter's subject: its file first, then invoices and action key."""
    which = ", ".join(numbers) if numbers else "—"
    return f"{filename} (invoice {which}) {marker(key)}"


def is_letter(subject: str, key: str, filename: str) -> bool:
    """Whether a document's subject is that of this action's letter.

    A note's document carries the same marker, so the file name must lead.
    """
    return subject.startswith(filename) and marker(key) in subject


def _with_marker(text: str, key: str) -> str:
    """The text with the action key's marker, once."""
    tag = marker(key)
    return text if tag in text else f"{text}\n{tag}"


def task_body(task: Task, numbers: Sequence[str], today: date) -> dict[str, Any]:
    """A task for a colleague; assigned when the assignee is an Exact user ID."""
    which = ", ".join(numbers) if numbers else "—"
    headline = (
        task.text.strip().splitlines()[0][:80] if task.text.strip() else "Dunning"
    )
    body: dict[str, Any] = {
        "Account": task.debtor_key,
        "Description": f"{headline} {marker(task.key)}",
        "Notes": f"{task.text}\n\nInvoices: {which}",
        "ActionDate": iso(task.due_on or today),
    }
    if task.assignee and _GUID.match(task.assignee):
        body["User"] = task.assignee
    elif task.assignee:
        body["Notes"] += f"\nFor: {task.assignee}"
    return body
