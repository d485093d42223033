"""The state store: mirror, holds, ledger, cycles, leases and credentials.

SQLite by default (one file, WAL, owner-only), PostgreSQL by URL. The schema is
managed by Alembic; opening a store brings it up to date.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from connector.store.db import Clock, Credentials, Leases, open_engine, utc_now
from connector.store.ledger import FINISHED, ActionRecord, Ledger, State, StepRecord
from connector.store.mirror import Holds, Mirror, MirrorStats, Snapshot
from connector.store.schema import cycles

__all__ = [
    "FINISHED",
    "ActionRecord",
    "Ledger",
    "MirrorStats",
    "Snapshot",
    "State",
    "StepRecord",
    "Store",
]


class Store:
    """One handle on the state store, with its parts as attributes."""

    def __init__(self, engine: Engine, clock: Clock = utc_now):
        self.engine = engine
        self.mirror = Mirror(engine)
        self.holds = Holds(engine)
        self.ledger = Ledger(engine)
        self.leases = Leases(engine, clock)
        self.credentials = Credentials(engine, clock)

    @classmethod
    def open(cls, url: str, clock: Clock = utc_now) -> Store:
        """Open (and if needed create and migrate) the store at ``url``."""
        return cls(open_engine(url), clock)

    def close(self) -> None:
        self.engine.dispose()

    # The three calls adapters that keep OAuth grants use.
    @contextmanager
    def lease(
        self,
        name: str,
        ttl_s: float = 60.0,
        wait_s: float = 30.0,
        *,
        renew: bool = False,
    ) -> Iterator[bool]:
        with self.leases.hold(name, ttl_s, wait_s, renew=renew) as held:
            yield held

    def load_credentials(self, source: str) -> dict[str, Any] | None:
        return self.credentials.load(source)

    def save_credentials(self, source: str, data: dict[str, Any]) -> None:
        self.credentials.save(source, data)

    def start_cycle(self, source: str, now: datetime) -> int:
        """Record a cycle as running; one left running by a dead process is closed."""
        with self.engine.begin() as conn:
            conn.execute(
                update(cycles)
                .where(cycles.c.source == source, cycles.c.status == "running")
                .values(status="interrupted", finished_at=now)
            )
            result = conn.execute(
                insert(cycles).values(
                    source=source, started_at=now, status="running", summary={}
                )
            )
            assert result.inserted_primary_key is not None
            return int(result.inserted_primary_key[0])

    def finish_cycle(
        self, cycle_id: int, status: str, summary: dict[str, Any], now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(cycles)
                .where(cycles.c.id == cycle_id)
                .values(status=status, summary=summary, finished_at=now)
            )

    def last_cycles(self, limit: int = 10) -> list[dict[str, Any]]:
        query = select(cycles).order_by(cycles.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
