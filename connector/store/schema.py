"""The tables of the state store (SQLAlchemy Core), shared by code and migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class Money(TypeDecorator[Decimal]):
    """A Decimal kept as text, so no database rounds or floats it."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(
        self, value: str | None, dialect: Dialect
    ) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("cursor", Text),
    Column("last_full_sync_at", UtcDateTime),
    Column("state", String(40), nullable=False, default="ok"),
)

debtors = Table(
    "debtors",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("emails", JSON, nullable=False),
    Column("language", String(10)),
    Column("tags", JSON, nullable=False),
    Column("customer_number", String(100), nullable=False, default=""),
    Column("contact_person", Text, nullable=False, default=""),
    Column("address", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("debtor_key", String(200), nullable=False),
    Column("number", String(100), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", Money, nullable=False),
    Column("open_amount", Money, nullable=False),
    Column("status", String(20), nullable=False),
    Column("paused_at_source", Boolean, nullable=False, default=False),
    Column("pay_url", Text, nullable=False, default=""),
    Column("payments", JSON, nullable=False),
    Column("version", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Local only: what is still owed after the source called the invoice paid,
    # because its payment went to costs and interest first. Syncs never touch it.
    Column("residual", Money),
    Index("ix_invoices_open", "source", "status"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("invoice_key", String(200)),
    Column("debtor_key", String(200)),
    Column("kind", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("until", Date),
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime),
    Column("released_by", String(200)),
    Column("instalments", JSON),
    Index("ix_holds_source", "source", "released_at"),
)

cycles = Table(
    "cycles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(20), nullable=False),
    Column("summary", JSON, nullable=False),
)

actions = Table(
    "actions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("debtor_key", String(200), nullable=False),
    Column("plan", String(100), nullable=False),
    Column("step_id", String(100), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("scheduled_on", Date, nullable=False),
    Column("taken_on", Date, nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("payload", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("reason", Text),
    Column("error", Text),
    Column("note_state", String(20), nullable=False, default="none"),
    Column("note_id", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_actions_state", "source", "state"),
)

action_invoices = Table(
    "action_invoices",
    metadata,
    Column("action_key", String(64), ForeignKey("actions.key"), nullable=False),
    Column("source", String(100), nullable=False),
    Column("invoice_key", String(200), nullable=False),
    Column("step_id", String(100), nullable=False),
    Column("open_amount", Money, nullable=False),
    UniqueConstraint("source", "invoice_key", "step_id", name="uq_step_once"),
    Index("ix_action_invoices_key", "action_key"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
