"""The mirror: what the connector last saw at each source, plus local holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine

from adapters.base import Changes, version_of
from connector.domain import (
    Address,
    Debtor,
    DebtorKind,
    Hold,
    HoldKind,
    Instalment,
    Invoice,
    InvoiceStatus,
    Payment,
)
from connector.faults import crash_point
from connector.store.schema import debtors, holds, invoices, sources


@dataclass(frozen=True, slots=True)
class MirrorStats:
    """What one pull changed in the mirror."""

    debtors: int
    invoices: int
    closed: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The mirrored debtors and open invoices of one source."""

    debtors: Mapping[str, Debtor]
    invoices: list[Invoice]


class Mirror:
    """Reads and writes the mirrored source data."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def sources(self) -> list[str]:
        """The names of the sources mirrored so far."""
        with self._engine.connect() as conn:
            return [row.name for row in conn.execute(select(sources.c.name))]

    def cursor(self, source: str) -> str | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(sources.c.cursor).where(sources.c.name == source))
            found = row.first()
        return None if found is None else found.cursor

    def known_versions(self, source: str) -> dict[str, str]:
        """Open mirrored invoices and the version stored for each."""
        query = select(invoices.c.key, invoices.c.version).where(
            invoices.c.source == source, invoices.c.status == InvoiceStatus.OPEN.value
        )
        with self._engine.connect() as conn:
            return {row.key: row.version for row in conn.execute(query)}

    def apply(self, source: str, changes: Changes, now: datetime) -> MirrorStats:
        """Upsert what the pull found and store the new cursor, in one transaction."""
        with self._engine.begin() as conn:
            _ensure_source(conn, source)
            for debtor in changes.debtors:
                _upsert(conn, debtors, source, debtor.key, _debtor_row(debtor, now))
            seen: set[str] = set()
            for invoice in changes.invoices:
                seen.add(invoice.key)
                _upsert(conn, invoices, source, invoice.key, _invoice_row(invoice, now))
            closed = dict(changes.closed)
            if changes.complete_snapshot:
                # A record skipped as unreadable is not gone from the open list.
                unreadable = {record for record, _ in changes.skipped}
                for key in _open_keys(conn, source) - seen - unreadable:
                    closed.setdefault(key, InvoiceStatus.PAID)
            for key, status in closed.items():
                _close(conn, source, key, status, now)
            crash_point("mirror_before_cursor")
            conn.execute(
                update(sources)
                .where(sources.c.name == source)
                .values(cursor=changes.cursor)
            )
        return MirrorStats(len(changes.debtors), len(changes.invoices), len(closed))

    def record_confirmed(
        self, source: str, fresh: Mapping[str, Invoice | InvoiceStatus], now: datetime
    ) -> None:
        """Store what a confirm re-read, so the mirror is never staler than it."""
        with self._engine.begin() as conn:
            for key, value in fresh.items():
                if isinstance(value, Invoice):
                    _upsert(conn, invoices, source, key, _invoice_row(value, now))
                else:
                    _close(conn, source, key, value, now)

    def snapshot(self, source: str) -> Snapshot:
        """The debtors and open invoices of a source."""
        with self._engine.connect() as conn:
            debtor_rows = conn.execute(
                select(debtors).where(debtors.c.source == source)
            )
            found = {row.key: _debtor(row) for row in debtor_rows}
            invoice_rows = conn.execute(
                select(invoices).where(
                    invoices.c.source == source,
                    (invoices.c.status == InvoiceStatus.OPEN.value)
                    | invoices.c.residual.is_not(None),
                )
            )
            open_rows = [_invoice(row) for row in invoice_rows]
            return Snapshot(found, [i for i in open_rows if i.is_open])

    def set_residual(self, source: str, key: str, amount: Decimal | None) -> None:
        """Keep, or with None end, the claim left on an invoice paid at the source."""
        with self._engine.begin() as conn:
            conn.execute(
                update(invoices)
                .where(invoices.c.source == source, invoices.c.key == key)
                .values(residual=amount)
            )

    def issued_since(self, source: str, first: date) -> list[Invoice]:
        """Every invoice of a source issued on or after ``first``, in any status."""
        query = select(invoices).where(
            invoices.c.source == source, invoices.c.issue_date >= first
        )
        with self._engine.connect() as conn:
            return [_invoice(row) for row in conn.execute(query)]

    def invoice(self, source: str, key: str) -> Invoice | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(invoices).where(
                    invoices.c.source == source, invoices.c.key == key
                )
            ).first()
        return None if row is None else _invoice(row)

    def find_invoice(self, source: str, reference: str) -> Invoice | None:
        """An invoice by its key at the source or by its number."""
        query = select(invoices).where(
            invoices.c.source == source,
            (invoices.c.key == reference) | (invoices.c.number == reference),
        )
        with self._engine.connect() as conn:
            rows = list(conn.execute(query))
        return _invoice(rows[0]) if len(rows) == 1 else None

    def debtor(self, source: str, key: str) -> Debtor | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(debtors).where(debtors.c.source == source, debtors.c.key == key)
            ).first()
        return None if row is None else _debtor(row)


class Holds:
    """Local holds: they live only here, so no re-sync can undo them."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def add(
        self,
        source: str,
        kind: HoldKind,
        reason: str,
        set_by: str,
        now: datetime,
        *,
        invoice_key: str | None = None,
        debtor_key: str | None = None,
        until: date | None = None,
        instalments: tuple[Instalment, ...] = (),
    ) -> Hold:
        """Set a hold on one invoice or on all of a debtor's invoices."""
        if (invoice_key is None) == (debtor_key is None):
            raise ValueError("a hold is on an invoice or on a debtor")
        values = {
            "source": source,
            "invoice_key": invoice_key,
            "debtor_key": debtor_key,
            "kind": kind.value,
            "reason": reason,
            "set_by": set_by,
            "until": until,
            "created_at": now,
            "instalments": [
                {"due_on": i.due_on.isoformat(), "amount": str(i.amount)}
                for i in instalments
            ],
        }
        with self._engine.begin() as conn:
            result = conn.execute(insert(holds).values(**values))
            assert result.inserted_primary_key is not None
            hold_id = int(result.inserted_primary_key[0])
        return Hold(
            hold_id, kind, reason, set_by, invoice_key, debtor_key, until, instalments
        )

    def release(self, hold_id: int, released_by: str, now: datetime) -> bool:
        with self._engine.begin() as conn:
            done = conn.execute(
                update(holds)
                .where(holds.c.id == hold_id, holds.c.released_at.is_(None))
                .values(released_at=now, released_by=released_by)
            ).rowcount
        return bool(done)

    def active(self, source: str) -> list[Hold]:
        """Holds not released; those whose ``until`` has passed are filtered later."""
        query = select(holds).where(
            holds.c.source == source, holds.c.released_at.is_(None)
        )
        with self._engine.connect() as conn:
            return [_hold(row) for row in conn.execute(query)]


def _ensure_source(conn: Connection, source: str) -> None:
    found = conn.execute(select(sources.c.name).where(sources.c.name == source))
    if found.first() is None:
        conn.execute(insert(sources).values(name=source, state="ok"))


def _upsert(
    conn: Connection, table: Any, source: str, key: str, row: dict[str, Any]
) -> None:
    done = conn.execute(
        update(table).where(table.c.source == source, table.c.key == key).values(**row)
    ).rowcount
    if not done:
        conn.execute(insert(table).values(source=source, key=key, **row))


def _open_keys(conn: Connection, source: str) -> set[str]:
    query = select(invoices.c.key).where(
        invoices.c.source == source, invoices.c.status == InvoiceStatus.OPEN.value
    )
    return {row.key for row in conn.execute(query)}


def _close(
    conn: Connection, source: str, key: str, status: InvoiceStatus, now: datetime
) -> None:
    conn.execute(
        update(invoices)
        .where(invoices.c.source == source, invoices.c.key == key)
        .values(status=status.value, updated_at=now)
    )


def _debtor_row(debtor: Debtor, now: datetime) -> dict[str, Any]:
    return {
        "name": debtor.name,
        "kind": debtor.kind.value,
        "emails": list(debtor.emails),
        "language": debtor.language,
        "tags": sorted(debtor.tags),
        "customer_number": debtor.customer_number,
        "contact_person": debtor.contact_person,
        "address": {
            "lines": list(debtor.address.lines),
            "postcode": debtor.address.postcode,
            "city": debtor.address.city,
            "country": debtor.address.country,
        },
        "updated_at": now,
    }


def _debtor(row: Any) -> Debtor:
    address = row.address or {}
    return Debtor(
        key=row.key,
        name=row.name,
        kind=DebtorKind(row.kind),
        emails=tuple(row.emails),
        language=row.language,
        tags=frozenset(row.tags),
        customer_number=row.customer_number,
        contact_person=row.contact_person,
        address=Address(
            lines=tuple(address.get("lines", ())),
            postcode=address.get("postcode", ""),
            city=address.get("city", ""),
            country=address.get("country", "NL"),
        ),
    )


def _invoice_row(invoice: Invoice, now: datetime) -> dict[str, Any]:
    return {
        "debtor_key": invoice.debtor_key,
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "currency": invoice.currency,
        "total": invoice.total,
        "open_amount": invoice.open_amount,
        "status": invoice.status.value,
        "paused_at_source": invoice.paused_at_source,
        "pay_url": invoice.pay_url,
        "payments": _payments_json(invoice.payments),
        "version": version_of(invoice),
        "updated_at": now,
    }


def _payments_json(payments: Iterable[Payment]) -> list[dict[str, str]]:
    return [
        {"key": p.key, "paid_on": p.paid_on.isoformat(), "amount": str(p.amount)}
        for p in payments
    ]


def _invoice(row: Any) -> Invoice:
    residual = getattr(row, "residual", None)
    if residual is not None and row.status != InvoiceStatus.OPEN.value:
        # Paid at the source, yet still owed here: chased for what is left.
        return replace(
            _from_row(row),
            status=InvoiceStatus.OPEN,
            open_amount=residual,
            residual_claim=True,
        )
    return _from_row(row)


def _from_row(row: Any) -> Invoice:
    return Invoice(
        key=row.key,
        debtor_key=row.debtor_key,
        number=row.number,
        issue_date=row.issue_date,
        due_date=row.due_date,
        currency=row.currency,
        total=row.total,
        open_amount=row.open_amount,
        status=InvoiceStatus(row.status),
        payments=tuple(
            Payment(p["key"], date.fromisoformat(p["paid_on"]), Decimal(p["amount"]))
            for p in row.payments
        ),
        paused_at_source=row.paused_at_source,
        pay_url=row.pay_url,
    )


def _hold(row: Any) -> Hold:
    return Hold(
        id=row.id,
        kind=HoldKind(row.kind),
        reason=row.reason,
        set_by=row.set_by,
        invoice_key=row.invoice_key,
        debtor_key=row.debtor_key,
        until=row.until,
        instalments=tuple(
            Instalment(date.fromisoformat(i["due_on"]), Decimal(i["amount"]))
            for i in row.instalments or ()
        ),
    )
