"""The dossier handed to a collection agency: the claim and everything done so far.

`build_dossier` turns plain records (the caller maps ledger rows onto them) into
a JSON-ready dict: amounts as strings with two decimals, dates and times in ISO
8601, actions and letters in the order they happened. `dossier_json` writes it
with sorted keys, so the same dossier always gives the same text;
`dossier_pdf` prints a summary for people.

Times must carry their time zone: an agency, and a court after it, must be able
to tell exactly when the 14-day letter reached the debtor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.domain import CENT
from connector.law.fourteen_day import Delivery, FourteenDayTerm
from connector.letters.content import (
    CreditNoteLine,
    CreditorDetails,
    DebtorDetails,
    InvoiceLine,
    LetterCosts,
    LetterError,
    LetterInterest,
    LetterKind,
)

FORMAT = "dunning-dossier/1"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One action taken for the debtor, as the ledger recorded it."""

    key: str
    step: str
    channel: str
    state: str
    taken_at: datetime
    recipient: str = ""
    invoice_numbers: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SentLetter:
    """A letter that went out, and the file it is kept in."""

    kind: LetterKind
    sent_on: date
    file_name: str
    reference: str = ""
    delivery: Delivery | None = None


@dataclass(frozen=True, slots=True)
class FourteenDayProof:
    """When and how the 14-day letter reached the debtor, and when it ran out.

    For e-mail `accepted_at` is when the receiving server accepted the message
    (the SMTP reply to the data); for post it is left out.
    """

    sent_at: datetime
    address: str
    delivery: Delivery
    received_on: date
    last_day: date
    costs_chargeable_from: date
    costs_if_unpaid: Decimal
    accepted_at: datetime | None = None
    message_id: str = ""
    file_name: str = ""

    @classmethod
    def from_term(
        cls,
        term: FourteenDayTerm,
        *,
        sent_at: datetime,
        address: str,
        costs_if_unpaid: Decimal,
        accepted_at: datetime | None = None,
        message_id: str = "",
        file_name: str = "",
    ) -> FourteenDayProof:
        """The proof for a letter whose term `connector.law.fourteen_day` gave."""
        return cls(
            sent_at=sent_at,
            address=address,
            delivery=term.delivery,
            received_on=term.received_on,
            last_day=term.last_day,
            costs_chargeable_from=term.costs_chargeable_from,
            costs_if_unpaid=costs_if_unpaid,
            accepted_at=accepted_at,
            message_id=message_id,
            file_name=file_name,
        )


@dataclass(frozen=True, slots=True)
class Dossier:
    """A handover dossier as a JSON-ready dict."""

    data: dict[str, Any]

    @property
    def reference(self) -> str:
        return str(self.data["reference"])


def build_dossier(
    *,
    reference: str,
    prepared_on: date,
    creditor: CreditorDetails,
    debtor: DebtorDetails,
    invoices: Sequence[InvoiceLine],
    credit_notes: Sequence[CreditNoteLine] = (),
    currency: str = "EUR",
    costs: LetterCosts | None = None,
    interest: LetterInterest | None = None,
    actions: Sequence[LedgerEntry] = (),
    letters: Sequence[SentLetter] = (),
    fourteen_day: FourteenDayProof | None = None,
    language: str = "nl",
) -> Dossier:
    """The dossier of one debtor's claim, from the records the caller gathered."""
    for entry in actions:
        _check_aware(entry.taken_at, f"action {entry.key}")
    if fourteen_day is not None:
        _check_aware(fourteen_day.sent_at, "14-day letter sent_at")
        if fourteen_day.accepted_at is not None:
            _check_aware(fourteen_day.accepted_at, "14-day letter accepted_at")

    ordered = sorted(actions, key=lambda e: (e.taken_at, e.key))
    sent = sorted(letters, key=lambda s: (s.sent_on, s.file_name))
    data: dict[str, Any] = {
        "format": FORMAT,
        "reference": reference,
        "prepared_on": prepared_on.isoformat(),
        "language": language,
        "currency": currency,
        "creditor": _creditor(creditor),
        "debtor": _debtor(debtor),
        "claim": _claim(invoices, credit_notes, costs, interest),
        "invoices": [_invoice(i) for i in invoices],
        "credit_notes": [_credit_note(c) for c in credit_notes],
        "actions": [_action(e) for e in ordered],
        "letters": [_letter(s) for s in sent],
        "fourteen_day_letter": None if fourteen_day is None else _proof(fourteen_day),
    }
    return Dossier(data)


def dossier_json(dossier: Dossier) -> str:
    """The dossier as JSON text: sorted keys, two-space indent, UTF-8 as is."""
    return json.dumps(dossier.data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def load_dossier(text: str) -> Dossier:
    """A dossier read back from `dossier_json` text."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LetterError(f"not a {FORMAT} document")
    return Dossier(data)


def dossier_pdf(dossier: Dossier) -> bytes:
    """A printable summary of the dossier, in the dossier's language."""
    from connector.letters.dossier_layout import draw_dossier

    return draw_dossier(dossier.data)


def _creditor(creditor: CreditorDetails) -> dict[str, Any]:
    return {
        "name": creditor.name,
        "address_lines": list(creditor.address_lines),
        "country": creditor.country,
        "email": creditor.email,
        "phone": creditor.phone,
        "iban": creditor.iban,
        "bic": creditor.bic,
        "coc_number": creditor.coc_number,
        "vat_number": creditor.vat_number,
    }


def _debtor(debtor: DebtorDetails) -> dict[str, Any]:
    return {
        "name": debtor.name,
        "kind": debtor.kind,
        "contact_person": debtor.contact_person,
        "address_lines": list(debtor.address_lines),
        "postcode": debtor.postcode,
        "city": debtor.city,
        "country": debtor.country,
        "customer_number": debtor.customer_number,
        "email": debtor.email,
        "phone": debtor.phone,
    }


def _claim(
    invoices: Sequence[InvoiceLine],
    credit_notes: Sequence[CreditNoteLine],
    costs: LetterCosts | None,
    interest: LetterInterest | None,
) -> dict[str, Any]:
    principal = sum((i.open_amount for i in invoices), Decimal(0))
    principal += sum((c.amount for c in credit_notes), Decimal(0))
    costs_total = Decimal(0) if costs is None else costs.total
    interest_amount = Decimal(0) if interest is None else interest.amount
    claim: dict[str, Any] = {
        "principal": _amount(principal),
        "costs": _amount(costs_total),
        "costs_vat": _amount(Decimal(0) if costs is None else costs.vat),
        "costs_basis": "" if costs is None else costs.basis_text,
        "interest": _amount(interest_amount),
        "interest_terms": None,
        "total": _amount(principal + costs_total + interest_amount),
    }
    if interest is not None:
        claim["interest_terms"] = {
            "kind": interest.kind.value,
            "from": interest.from_day.isoformat(),
            "until": interest.until_day.isoformat(),
            "rate": None if interest.rate is None else str(interest.rate),
        }
    return claim


def _invoice(invoice: InvoiceLine) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "total": None if invoice.total is None else _amount(invoice.total),
        "open_amount": _amount(invoice.open_amount),
    }


def _credit_note(note: CreditNoteLine) -> dict[str, Any]:
    return {
        "number": note.number,
        "issue_date": None if note.issue_date is None else note.issue_date.isoformat(),
        "amount": _amount(note.amount),
    }


def _action(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "taken_at": entry.taken_at.isoformat(),
        "step": entry.step,
        "channel": entry.channel,
        "state": entry.state,
        "recipient": entry.recipient,
        "invoices": list(entry.invoice_numbers),
        "detail": entry.detail,
    }


def _letter(letter: SentLetter) -> dict[str, Any]:
    return {
        "kind": LetterKind(letter.kind).value,
        "sent_on": letter.sent_on.isoformat(),
        "file_name": letter.file_name,
        "reference": letter.reference,
        "delivery": None if letter.delivery is None else letter.delivery.value,
    }


def _proof(proof: FourteenDayProof) -> dict[str, Any]:
    accepted = proof.accepted_at
    return {
        "sent_at": proof.sent_at.isoformat(),
        "accepted_at": None if accepted is None else accepted.isoformat(),
        "address": proof.address,
        "delivery": proof.delivery.value,
        "received_on": proof.received_on.isoformat(),
        "last_day": proof.last_day.isoformat(),
        "costs_chargeable_from": proof.costs_chargeable_from.isoformat(),
        "costs_if_unpaid": _amount(proof.costs_if_unpaid),
        "message_id": proof.message_id,
        "file_name": proof.file_name,
    }


def _amount(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _check_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LetterError(f"{what}: a time without a time zone is ambiguous")
