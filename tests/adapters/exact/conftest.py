"""Fixtures for the Exact adapter: the emulator over HTTP and a SQLite store.

``SqliteStore`` stands in for the state store until the lead's one exists: a
file database that two threads or two processes can share, with the token
lease as an atomic UPDATE on a row.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.base import SourceContext
from adapters.exact.adapter import ExactAdapter
from adapters.exact.client import ExactClient
from adapters.exact.emulator import (
    DEFAULT_CLIENT,
    EmulatorState,
    FakeClock,
    RunningEmulator,
    generate_administration,
    serve_emulator,
)
from adapters.exact.tokens import Credentials, TokenManager

DIVISION = 1234567
OTHER_DIVISION = 7654321


class SqliteStore:
    """Credentials and leases in one SQLite file, safe across processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.fail_saves = 0  # the next N saves raise, as a broken database would
        self.saves = 0
        self.before_save: Callable[[dict[str, Any]], None] | None = None
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS credentials (source TEXT PRIMARY KEY,"
                " data TEXT NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY,"
                " holder TEXT NOT NULL, expires REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    @contextmanager
    def lease(self, name: str, ttl_s: float, wait_s: float) -> Iterator[bool]:
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + wait_s
        while not self._take(name, holder, ttl_s):
            if time.monotonic() > deadline:
                raise TimeoutError(f"lease {name} is held elsewhere")
            time.sleep(0.01)
        try:
            yield True
        finally:
            with self._connect() as db:
                db.execute(
                    "UPDATE leases SET holder = '' WHERE name = ? AND holder = ?",
                    (name, holder),
                )

    def _take(self, name: str, holder: str, ttl_s: float) -> bool:
        now = time.time()
        db = self._connect()
        try:
            db.execute("INSERT OR IGNORE INTO leases VALUES (?, '', 0)", (name,))
            taken = db.execute(
                "UPDATE leases SET holder = ?, expires = ? WHERE name = ?"
                " AND (holder = '' OR expires < ?)",
                (holder, now + ttl_s, name, now),
            ).rowcount
        finally:
            db.close()
        return taken == 1

    def load_credentials(self, source: str) -> dict[str, Any] | None:
        db = self._connect()
        try:
            row = db.execute(
                "SELECT data FROM credentials WHERE source = ?", (source,)
            ).fetchone()
        finally:
            db.close()
        return json.loads(row[0]) if row else None

    def save_credentials(self, source: str, data: dict[str, Any]) -> None:
        if self.before_save is not None:
            self.before_save(data)
        if self.fail_saves > 0:
            self.fail_saves -= 1
            raise sqlite3.OperationalError("database is locked")
        db = self._connect()
        try:
            db.execute(
                "INSERT INTO credentials VALUES (?, ?) ON CONFLICT(source)"
                " DO UPDATE SET data = excluded.data",
                (source, json.dumps(data)),
            )
        finally:
            db.close()
        self.saves += 1


@dataclass
class World:
    """One emulated Exact Online with its store, tokens and client."""

    state: EmulatorState
    emulator: RunningEmulator
    store: SqliteStore
    clock: FakeClock
    division: int = DIVISION
    other_division: int = OTHER_DIVISION

    @property
    def token_url(self) -> str:
        return f"{self.emulator.base_url}/api/oauth2/token"

    def seed_tokens(self, source: str = "acme") -> Credentials:
        """Consent as if just given: the emulator's grant, saved in the store."""
        pair = self.state.grant((self.division,))
        creds = Credentials.from_token_response(pair, self.clock.now())
        self.store.save_credentials(source, creds.to_dict())
        return creds

    def token_manager(self, source: str = "acme", **kwargs: Any) -> TokenManager:
        kwargs.setdefault("sleep", lambda s: None)
        now = kwargs.pop("now", self.clock.now)
        client_id, secret = DEFAULT_CLIENT
        return TokenManager(
            self.store, source, client_id, secret, self.token_url, now, **kwargs
        )

    def adapter(self, **options: Any) -> ExactAdapter:
        """The adapter as the core would create it, tokens seeded."""
        if self.store.load_credentials("acme") is None:
            self.seed_tokens()
        options.setdefault("division", self.division)
        options.setdefault("base_url", self.emulator.base_url)
        client_id, secret = DEFAULT_CLIENT
        secrets = {"EXACT_CLIENT_ID": client_id, "EXACT_CLIENT_SECRET": secret}
        context = SourceContext(
            "acme", secrets.__getitem__, self.clock.now, "/nonexistent", self.store
        )
        return ExactAdapter.create(
            ExactAdapter.Options(**options), context, sleep=self.clock.sleep
        )

    def client(self, tokens: TokenManager, **kwargs: Any) -> ExactClient:
        kwargs.setdefault("clock", self.clock.now)
        kwargs.setdefault("sleep", self.clock.sleep)
        kwargs.setdefault("timeout", (2.0, 5.0))
        division = kwargs.pop("division", self.division)
        return ExactClient(self.emulator.base_url, division, tokens, **kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "state.db")


@pytest.fixture
def make_world(clock: FakeClock, store: SqliteStore) -> Iterator[Callable[..., World]]:
    """Start an emulator seeded with ``receivables`` invoices (default 30)."""
    running: list[RunningEmulator] = []

    def make(receivables: int = 30, seed: int = 1, **kwargs: Any) -> World:
        state = kwargs.pop("state", None) or generate_administration(
            receivables, seed, divisions=(DIVISION, OTHER_DIVISION), clock=clock
        )
        running.append(serve_emulator(state))
        return World(state, running[-1], store, clock)

    yield make
    for emulator in running:
        emulator.stop()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


@pytest.fixture
def state(world: World) -> EmulatorState:
    return world.state


@pytest.fixture
def emulator(world: World) -> RunningEmulator:
    return world.emulator


@pytest.fixture
def make_tokens(world: World) -> Callable[..., TokenManager]:
    return world.token_manager


@pytest.fixture
def tokens(world: World) -> TokenManager:
    world.seed_tokens()
    return world.token_manager()


@pytest.fixture
def client(world: World, tokens: TokenManager) -> Iterator[ExactClient]:
    made = world.client(tokens)
    yield made
    made.close()


@pytest.fixture
def run_in_threads() -> Callable[..., list[Any]]:
    """Run callables at the same moment in threads; their results or errors."""

    def run(*jobs: Callable[[], Any]) -> list[Any]:
        results: list[Any] = [None] * len(jobs)
        barrier = threading.Barrier(len(jobs))

        def work(i: int, job: Callable[[], Any]) -> None:
            barrier.wait()
            try:
                results[i] = job()
            except Exception as exc:
                results[i] = exc

        threads = [
            threading.Thread(target=work, args=(i, j)) for i, j in enumerate(jobs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results

    return run
