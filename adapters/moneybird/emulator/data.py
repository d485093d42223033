"""The emulated administration: contacts and sales invoices as Moneybird shapes them.

Records are kept as plain dicts in the shape of the OpenAPI ``contact_response`` and
``sales_invoice_response`` schemas, so the routes can hand them out as they are.
Ids are 18-digit strings, amounts are decimal strings, ``version`` follows the epoch
seconds of ``updated_at`` and only ever grows.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

OPEN_STATES = ("open", "late", "reminded", "pending_payment")
USER_ID = "17664945013327"
WORKFLOW_ID = "474244165662672013"
DOCUMENT_STYLE_ID = "474244165880775831"
IDENTITY_ID = "474244165186618474"
TAX_RATE_ID = "474244165409965192"
LEDGER_ACCOUNT_ID = "474244165339710584"

Record = dict[str, Any]


def money(amount: Decimal) -> str:
    """Moneybird's amount notation: at least one decimal, at most two ("363.0")."""
    text = f"{amount.quantize(Decimal('0.01')):f}"
    return text[:-1] if text.endswith("0") else text


def parse_money(value: Any) -> Decimal:
    """An amount as the API accepts it: a number or a string, comma or point."""
    return Decimal(str(value).replace(",", "."))


def stamp(moment: datetime) -> str:
    """An ISO-8601 UTC timestamp with milliseconds, as the API writes them."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class Administration:
    """One administration's books, safe to share between server threads."""

    id: str
    name: str = "Parkietje B.V."
    today: date = field(default_factory=date.today)
    clock: Callable[[], float] = time.time
    contacts: dict[str, Record] = field(default_factory=dict)
    invoices: dict[str, Record] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(
        default_factory=lambda: itertools.count(474244300000000000, 7919)
    )

    def new_id(self) -> str:
        return str(next(self._ids))

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def touch(self, record: Record) -> None:
        """Mark a record changed: a fresh ``updated_at`` and a higher ``version``."""
        moment = self.now()
        record["updated_at"] = stamp(moment)
        record["version"] = max(int(record["version"]) + 1, int(moment.timestamp()))

    def response(self) -> Record:
        """The ``administration_response`` of this administration."""
        return {
            "id": self.id,
            "name": self.name,
            "language": "nl",
            "currency": "EUR",
            "country": "NL",
            "time_zone": "Europe/Amsterdam",
            "access": "user",
            "suspended": False,
            "period_locked_until": None,
        }

    # -- reading ---------------------------------------------------------------

    def contact(self, contact_id: str, *, with_events: bool = True) -> Record:
        record = dict(self.contacts[contact_id])
        if not with_events:
            record.pop("events", None)
        return record

    def invoice(self, invoice_id: str) -> Record:
        """The invoice with its contact embedded, as the API returns it."""
        record = dict(self.invoices[invoice_id])
        record["contact"] = self.contact(record["contact_id"], with_events=False)
        return record

    def open_invoices(self) -> list[Record]:
        return [i for i in self.invoices.values() if i["state"] in OPEN_STATES]

    # -- changing --------------------------------------------------------------

    def add_payment(
        self, invoice_id: str, price: Decimal, paid_on: date | None = None, **extra: Any
    ) -> Record:
        """Register a payment and recompute totals, state and ``paid_at``."""
        invoice = self.invoices[invoice_id]
        moment = self.now()
        payment = {
            "id": self.new_id(),
            "administration_id": self.id,
            "invoice_type": "SalesInvoice",
            "invoice_id": invoice_id,
            "financial_account_id": None,
            "user_id": USER_ID,
            "payment_transaction_id": None,
            "transaction_identifier": extra.get("transaction_identifier"),
            "price": money(price),
            "price_base": money(price),
            "payment_date": (paid_on or self.today).isoformat(),
            "credit_invoice_id": extra.get("credit_invoice_id"),
            "financial_mutation_id": None,
            "ledger_account_id": "474244165368022145",
            "linked_payment_id": None,
            "manual_payment_action": extra.get("manual_payment_action"),
            "created_at": stamp(moment),
            "updated_at": stamp(moment),
        }
        invoice["payments"] = [*invoice["payments"], payment]
        self._recompute(invoice)
        return payment

    def _recompute(self, invoice: Record) -> None:
        total = parse_money(invoice["total_price_incl_tax"])
        paid = sum((parse_money(p["price"]) for p in invoice["payments"]), Decimal(0))
        invoice["total_paid"] = money(paid)
        invoice["total_unpaid"] = money(total - paid)
        invoice["total_unpaid_base"] = invoice["total_unpaid"]
        if total - paid == 0 and invoice["state"] != "paid":
            invoice["state"] = "paid"
            invoice["paid_at"] = max(p["payment_date"] for p in invoice["payments"])
            self.add_event(invoice, "sales_invoice_state_changed_to_paid")
        self.touch(invoice)

    def credit(self, invoice_id: str) -> Record:
        """Credit an invoice in full: a paid credit invoice settles the original."""
        original = self.invoices[invoice_id]
        unpaid = parse_money(original["total_unpaid"])
        credit = self._clone_as_credit(original, unpaid)
        self.add_payment(invoice_id, unpaid, credit_invoice_id=credit["id"])
        return credit

    def _clone_as_credit(self, original: Record, amount: Decimal) -> Record:
        from adapters.moneybird.emulator.seed import build_invoice

        credit = build_invoice(
            self,
            self.contacts[original["contact_id"]],
            number=f"{original['invoice_id']}-C",
            state="paid",
            issued=self.today,
            days=0,
            total=-amount,
        )
        credit["original_sales_invoice_id"] = original["id"]
        credit["payments"] = []
        self.invoices[credit["id"]] = credit
        self.add_payment(credit["id"], -amount)
        return credit

    def add_note(
        self, entity: Record, entity_type: str, text: str, *, todo: bool, assignee: Any
    ) -> Record:
        """Attach a note (or to-do, with an assignee) to an invoice or contact."""
        moment = self.now()
        note = {
            "id": self.new_id(),
            "administration_id": self.id,
            "entity_id": entity["id"],
            "entity_type": entity_type,
            "user_id": USER_ID,
            "assignee_id": str(assignee) if assignee not in (None, "") else None,
            "todo": bool(todo or assignee not in (None, "")),
            "note": text,
            "completed_at": None,
            "completed_by_id": None,
            "todo_type": None,
            "data": {},
            "created_at": stamp(moment),
            "updated_at": stamp(moment),
        }
        # Whether a note bumps the invoice's version is not documented; here it
        # does not, so the connector's own write-back does not look like a change.
        entity["notes"] = [*entity["notes"], note]
        return note

    def delete_note(self, entity: Record, note_id: str) -> bool:
        kept = [n for n in entity["notes"] if n["id"] != note_id]
        found = len(kept) != len(entity["notes"])
        entity["notes"] = kept
        return found

    def set_paused(self, invoice_id: str, paused: bool) -> Record:
        invoice = self.invoices[invoice_id]
        invoice["paused"] = paused
        invoice["next_reminder"] = "2099-01-01" if paused else invoice["due_date"]
        action = "sales_invoice_paused" if paused else "sales_invoice_unpaused"
        self.add_event(invoice, action)
        self.touch(invoice)
        return invoice

    def add_event(self, record: Record, action: str) -> None:
        moment = stamp(self.now())
        event: Record = {
            "administration_id": self.id,
            "user_id": USER_ID,
            "action": action,
            "link_entity_id": None,
            "link_entity_type": None,
            "data": {},
            "created_at": moment,
            "updated_at": moment,
        }
        record["events"] = [*record["events"], event]


def public_code(*parts: object) -> str:
    """A stable 64-hex code like the ones in Moneybird's public URLs."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
