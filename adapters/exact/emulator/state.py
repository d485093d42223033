"""What the emulated Exact Online knows: divisions, their rows, limits, faults.

Rows are kept in Exact's own field names with Python values (``date``,
``datetime``, ``Decimal``); keys starting with ``_`` are internal and never
served. Every change stamps a fresh ``Timestamp`` from one rowversion counter,
as SQL Server does for the sync endpoints.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from adapters.exact.emulator.clock import FakeClock, SystemClock
from adapters.exact.emulator.oauth import OAuthServer

EXACT_TZ = ZoneInfo("Europe/Amsterdam")
DEFAULT_CLIENT = ("emulator-client", "emulator-secret")

Row = dict[str, Any]


@dataclass
class Division:
    """One administration (company) with its rows."""

    code: int
    description: str
    currency: str = "EUR"
    accounts: dict[str, Row] = field(default_factory=dict)
    contacts: dict[str, Row] = field(default_factory=dict)
    terms: dict[str, Row] = field(default_factory=dict)
    deleted: list[Row] = field(default_factory=list)
    notes: dict[str, Row] = field(default_factory=dict)
    tasks: dict[str, Row] = field(default_factory=dict)
    documents: dict[str, Row] = field(default_factory=dict)
    attachments: dict[str, Row] = field(default_factory=dict)  # by Document

    def attachments_of(self, document_id: str) -> list[Row]:
        """The files attached to one document, oldest first."""
        rows = self.attachments.values()
        return [r for r in rows if r["Document"] == document_id.lower()]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it (no headers, so no tokens)."""

    method: str
    path: str
    query: str
    status: int
    at: datetime


@dataclass
class Faults:
    """Switchable misbehaviour, consumed request by request."""

    status_next: list[int] = field(default_factory=list)  # 429 here: no headers
    refuse_until: datetime | None = None  # header-less 429s until then
    hang_next: int = 0
    hang_s: float = 30.0
    hang_after_next: int = 0  # do the work, then hang: the answer is lost


@dataclass
class RateLimits:
    """Exact's fixed windows: the minute, and the UTC day."""

    minutely: int = 60
    daily: int = 5000
    counts: dict[tuple[str, int, str], int] = field(default_factory=dict)


class EmulatorState:
    """Everything the emulator serves; thread-safe through one lock."""

    def __init__(
        self,
        clock: FakeClock | SystemClock | None = None,
        clients: dict[str, str] | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        self.divisions: dict[int, Division] = {}
        self.current_division = 0
        self.oauth = OAuthServer(self.now, clients or dict([DEFAULT_CLIENT]))
        self.limits = RateLimits()
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._rowversion = 10_000_000
        self._hid = 1000

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        """Exact's wall-clock time, naive, as ``Created``/``Modified`` carry it."""
        return self.now().astimezone(EXACT_TZ).replace(tzinfo=None)

    def stamp(self, row: Row) -> Row:
        """Give a row a new rowversion and modification time."""
        with self.lock:
            self._rowversion += 1
            row["Timestamp"] = self._rowversion
            row["Modified"] = self.local_now()
        return row

    def next_hid(self) -> int:
        with self.lock:
            self._hid += 1
            return self._hid

    def record(self, method: str, path: str, query: str, status: int) -> None:
        with self.lock:
            self.requests.append(
                RecordedRequest(method, path, query, status, self.now())
            )

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        with self.lock:
            return [r.path for r in self.requests]

    def add_division(self, code: int, description: str) -> Division:
        division = Division(code, description)
        self.divisions[code] = division
        return division

    def grant(self, divisions: tuple[int, ...] | None = None) -> dict[str, Any]:
        """Tokens for the default app, as after consent for ``divisions``."""
        chosen = frozenset(divisions or self.divisions)
        return self.oauth.issue_grant(DEFAULT_CLIENT[0], chosen)

    # -- changes a bookkeeper makes in Exact ------------------------------

    def add_account(self, division: int, name: str, **fields: Any) -> str:
        """A customer; returns its ID."""
        div = self.divisions[division]
        account_id = fields.pop("ID", None) or str(uuid.uuid4())
        code = fields.pop("Code", str(len(div.accounts) + 1001))
        row: Row = {
            "ID": account_id,
            "Code": code.rjust(18),
            "Name": name,
            "Email": None,
            "Language": "NL".ljust(10),
            "Country": "NL ",
            "AddressLine1": None,
            "Postcode": None,
            "City": None,
            "VATNumber": None,
            "ChamberOfCommerce": None,
            "Status": "C",
            "IsSales": True,
            "Blocked": False,
            "MainContact": None,
            "InvoiceAccount": None,
            "Division": division,
            "Created": self.local_now(),
        }
        row.update(fields)
        self.stamp(row)
        with self.lock:
            div.accounts[account_id] = row
        return account_id

    def add_invoice(
        self,
        division: int,
        account_id: str,
        number: int,
        amount: Decimal,
        *,
        invoice_date: date,
        due_date: date,
        currency: str = "EUR",
        entry_id: str | None = None,
        line_type: int = 20,
    ) -> str:
        """A booked sales invoice (or credit note) with one open term."""
        div = self.divisions[division]
        account = div.accounts[account_id]
        entry = entry_id or str(uuid.uuid4())
        rate = Decimal("1") if currency == div.currency else Decimal("0.9")
        term: Row = {
            "ID": str(uuid.uuid4()),
            "LineType": line_type,
            "Account": account_id,
            "AccountCode": account["Code"],
            "AccountName": account["Name"],
            "AmountFC": amount,
            "AmountDC": (amount * rate).quantize(Decimal("0.01")),
            "RateFC": rate,
            "Currency": currency,
            "Description": f"Invoice {number}",
            "DueDate": due_date,
            "EntryID": str(uuid.uuid4()),
            "EntryNumber": number,
            "InvoiceDate": invoice_date,
            "InvoiceNumber": number,
            "IsFullyPaid": False,
            "LastPaymentDate": None,
            "Status": 20,
            "Journal": "70" if line_type == 20 else "60",
            "JournalDescription": "Verkoopboek" if line_type == 20 else "Inkoopboek",
            "TransactionAmountFC": amount,
            "TransactionAmountDC": (amount * rate).quantize(Decimal("0.01")),
            "TransactionDueDate": due_date,
            "TransactionEntryID": entry,
            "TransactionType": 20 if amount >= 0 else 21,
            "YourRef": None,
            "Division": division,
            "Created": self.local_now(),
            "_hid": self.next_hid(),
        }
        self.stamp(term)
        with self.lock:
            div.terms[term["ID"]] = term
        return entry

    def terms_of(self, division: int, entry_id: str) -> list[Row]:
        with self.lock:
            terms = self.divisions[division].terms.values()
            return [t for t in terms if t["TransactionEntryID"] == entry_id]

    def pay(self, division: int, entry_id: str, amount: Decimal, on: date) -> None:
        """Match a payment: settle the open term, splitting it when partial."""
        with self.lock:
            open_terms = [
                t for t in self.terms_of(division, entry_id) if not t["IsFullyPaid"]
            ]
            term = open_terms[0]
            rest = term["AmountFC"] - amount
            if rest != 0:
                split = dict(term, ID=str(uuid.uuid4()), EntryID=str(uuid.uuid4()))
                split.update(AmountFC=rest, AmountDC=rest * term["RateFC"])
                split["_hid"] = self.next_hid()
                self.divisions[division].terms[split["ID"]] = self.stamp(split)
            term.update(AmountFC=amount, AmountDC=amount * term["RateFC"])
            term.update(IsFullyPaid=True, Status=50, LastPaymentDate=on)
            self.stamp(term)

    def delete_invoice(self, division: int, entry_id: str) -> None:
        """Remove an entry; ``sync/Deleted`` reports its terms and its invoice."""
        with self.lock:
            div = self.divisions[division]
            for term in self.terms_of(division, entry_id):
                del div.terms[term["ID"]]
                div.deleted.append(self._deletion(division, term["ID"], 10))
            div.deleted.append(self._deletion(division, entry_id, 13))

    def _deletion(self, division: int, key: str, entity_type: int) -> Row:
        row: Row = {
            "ID": str(uuid.uuid4()),
            "EntityKey": key,
            "EntityType": entity_type,
            "DeletedBy": str(uuid.UUID(int=1)),
            "DeletedDate": self.local_now(),
            "Division": division,
        }
        return self.stamp(row)

    # -- rate limits ------------------------------------------------------

    def take_call(self, client_id: str, division: int) -> tuple[bool, dict[str, str]]:
        """Count one call; whether it may pass, and the headers to send."""
        now = self.now()
        minute = now.replace(second=0, microsecond=0)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        minute_key = (client_id, division, minute.isoformat())
        day_key = (client_id, division, day.isoformat())
        with self.lock:
            used_minute = self.limits.counts.get(minute_key, 0)
            used_day = self.limits.counts.get(day_key, 0)
            if used_day >= self.limits.daily:
                return False, _daily_headers(self.limits.daily, 0, day)
            if used_minute >= self.limits.minutely:
                return False, _minutely_headers(self.limits.minutely, 0, minute)
            self.limits.counts[minute_key] = used_minute + 1
            self.limits.counts[day_key] = used_day + 1
        headers = _daily_headers(
            self.limits.daily, self.limits.daily - used_day - 1, day
        )
        left = self.limits.minutely - used_minute - 1
        headers.update(_minutely_headers(self.limits.minutely, left, minute))
        return True, headers


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.astimezone(UTC).timestamp() * 1000))


def _daily_headers(limit: int, left: int, day: datetime) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(left),
        "X-RateLimit-Reset": _epoch_ms(day + timedelta(days=1)),
    }


def _minutely_headers(limit: int, left: int, minute: datetime) -> dict[str, str]:
    return {
        "X-RateLimit-Minutely-Limit": str(limit),
        "X-RateLimit-Minutely-Remaining": str(left),
        "X-RateLimit-Minutely-Reset": _epoch_ms(minute + timedelta(minutes=1)),
    }
