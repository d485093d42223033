"""The ledger: the append-only record of every action and the state it reached.

An action is recorded, with its deterministic key and one row per invoice and step,
before its channel runs. The unique (source, invoice, step) row is what makes a step
happen at most once per invoice, whatever processes race for it.

    pending ──► sending ──► done
       │           │  └───► deferred ──► sending (a later cycle)
       │           │  └───► failed
       │           └──────► needs_review   (the process died mid-send)
       ├──► awaiting_approval ──► pending | rejected
       └──► skipped (with a reason)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from connector.store.schema import action_invoices, actions, invoices


class State(enum.StrEnum):
    """Where an action stands."""

    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting_approval"
    SENDING = "sending"
    DEFERRED = "deferred"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"


#: States after which the next step of the plan may follow.
FINISHED = frozenset({State.DONE, State.SKIPPED, State.REJECTED})


@dataclass(frozen=True, slots=True)
class StepRecord:
    """How far one step got for one invoice, as the planner needs to know."""

    state: State
    taken_on: date


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One ledger entry."""

    key: str
    source: str
    debtor_key: str
    plan: str
    step_id: str
    channel: str
    state: State
    scheduled_on: date
    taken_on: date
    invoice_amounts: Sequence[tuple[str, Decimal]]
    late: bool = False
    payload: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    note_state: str = "none"
    note_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def invoice_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.invoice_amounts)


class Ledger:
    """Reads and writes ledger entries."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def record(self, action: ActionRecord, now: datetime) -> bool:
        """Insert an action; False if its key or any of its invoice steps exists."""
        row = _row(action, now)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(actions).values(**row))
                conn.execute(
                    insert(action_invoices),
                    [
                        {
                            "action_key": action.key,
                            "source": action.source,
                            "invoice_key": key,
                            "step_id": action.step_id,
                            "open_amount": amount,
                        }
                        for key, amount in action.invoice_amounts
                    ],
                )
        except IntegrityError:
            return False
        return True

    def transition(
        self,
        key: str,
        expected: Iterable[State],
        new: State,
        now: datetime,
        **values: Any,
    ) -> bool:
        """Move an action to ``new`` only if it is in one of ``expected``."""
        states = [s.value for s in expected]
        with self._engine.begin() as conn:
            done = conn.execute(
                update(actions)
                .where(actions.c.key == key, actions.c.state.in_(states))
                .values(state=new.value, updated_at=now, **values)
            ).rowcount
        return bool(done)

    def update(self, key: str, now: datetime, **values: Any) -> None:
        """Change fields of an action other than its state."""
        with self._engine.begin() as conn:
            conn.execute(
                update(actions)
                .where(actions.c.key == key)
                .values(updated_at=now, **values)
            )

    def get(self, key: str) -> ActionRecord | None:
        found = self.find(keys=[key])
        return found[0] if found else None

    def find(
        self,
        *,
        source: str | None = None,
        states: Iterable[State] | None = None,
        keys: Sequence[str] | None = None,
        note_state: str | None = None,
        debtor_key: str | None = None,
        limit: int | None = None,
    ) -> list[ActionRecord]:
        """Actions matching every filter given, newest first."""
        query = select(actions).order_by(actions.c.created_at.desc(), actions.c.key)
        if source is not None:
            query = query.where(actions.c.source == source)
        if debtor_key is not None:
            query = query.where(actions.c.debtor_key == debtor_key)
        if states is not None:
            query = query.where(actions.c.state.in_([s.value for s in states]))
        if keys is not None:
            query = query.where(actions.c.key.in_(list(keys)))
        if note_state is not None:
            query = query.where(actions.c.note_state == note_state)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            rows = list(conn.execute(query))
            amounts = _amounts(conn, [row.key for row in rows])
        return [_record(row, amounts.get(row.key, [])) for row in rows]

    def count_by_state(self) -> dict[State, int]:
        """How many actions are in each state."""
        query = select(actions.c.state, func.count()).group_by(actions.c.state)
        with self._engine.connect() as conn:
            return {State(state): n for state, n in conn.execute(query)}

    def done_on_paid_invoices(self, source: str) -> list[ActionRecord]:
        """Done actions on invoices the mirror now has as paid, oldest first."""
        paid = (
            select(action_invoices.c.action_key)
            .join(
                invoices,
                (invoices.c.source == action_invoices.c.source)
                & (invoices.c.key == action_invoices.c.invoice_key),
            )
            .where(
                action_invoices.c.source == source,
                invoices.c.status == "paid",
            )
        )
        query = (
            select(actions)
            .where(actions.c.state == State.DONE.value, actions.c.key.in_(paid))
            .order_by(actions.c.created_at, actions.c.key)
        )
        with self._engine.connect() as conn:
            rows = list(conn.execute(query))
            amounts = _amounts(conn, [row.key for row in rows])
        return [_record(row, amounts.get(row.key, [])) for row in rows]

    def progress(self, source: str) -> dict[str, dict[str, StepRecord]]:
        """For each invoice, the steps recorded for it and how far each got."""
        query = (
            select(
                action_invoices.c.invoice_key,
                action_invoices.c.step_id,
                actions.c.state,
                actions.c.taken_on,
            )
            .join(actions, actions.c.key == action_invoices.c.action_key)
            .where(action_invoices.c.source == source)
        )
        found: dict[str, dict[str, StepRecord]] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                record = StepRecord(State(row.state), row.taken_on)
                found.setdefault(row.invoice_key, {})[row.step_id] = record
        return found

    def interrupted(self, source: str, now: datetime) -> list[str]:
        """Mark actions whose channel was running when a process died."""
        stuck = self.find(source=source, states=[State.SENDING])
        marked = []
        for action in stuck:
            reason = "the process stopped while the channel ran; outcome unknown"
            if self.transition(
                action.key, [State.SENDING], State.NEEDS_REVIEW, now, reason=reason
            ):
                marked.append(action.key)
        return marked


def _row(action: ActionRecord, now: datetime) -> dict[str, Any]:
    return {
        "key": action.key,
        "source": action.source,
        "debtor_key": action.debtor_key,
        "plan": action.plan,
        "step_id": action.step_id,
        "channel": action.channel,
        "state": action.state.value,
        "scheduled_on": action.scheduled_on,
        "taken_on": action.taken_on,
        "late": action.late,
        "attempts": action.attempts,
        "next_attempt_at": action.next_attempt_at,
        "payload": action.payload,
        "result": action.result,
        "reason": action.reason,
        "error": action.error,
        "note_state": action.note_state,
        "note_id": action.note_id,
        "created_at": now,
        "updated_at": now,
    }


def _amounts(conn: Any, keys: list[str]) -> dict[str, list[tuple[str, Decimal]]]:
    found: dict[str, list[tuple[str, Decimal]]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        query = select(action_invoices).where(action_invoices.c.action_key.in_(chunk))
        for row in conn.execute(query.order_by(action_invoices.c.invoice_key)):
            found.setdefault(row.action_key, []).append(
                (row.invoice_key, row.open_amount)
            )
    return found


def _record(row: Any, amounts: list[tuple[str, Decimal]]) -> ActionRecord:
    return ActionRecord(
        key=row.key,
        source=row.source,
        debtor_key=row.debtor_key,
        plan=row.plan,
        step_id=row.step_id,
        channel=row.channel,
        state=State(row.state),
        scheduled_on=row.scheduled_on,
        taken_on=row.taken_on,
        invoice_amounts=tuple(amounts),
        late=row.late,
        payload=dict(row.payload),
        result=dict(row.result),
        reason=row.reason,
        error=row.error,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        note_state=row.note_state,
        note_id=row.note_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
