"""Fixtures for the Exact adapter: the emulator over HTTP and the state store.

The store is the connector's own (SQLite in a file, so two processes share it),
with test hooks around saving credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

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
from connector.store import Store

DIVISION = 1234567
OTHER_DIVISION = 7654321


class HookedStore(Store):
    """The real state store, with two hooks on saving credentials.

    ``fail_saves`` makes the next N saves raise, as a locked database would;
    ``before_save`` sees each pair before it is written (the kill test uses it).
    """

    path: str
    fail_saves: int
    saves: int
    before_save: Callable[[dict[str, Any]], None] | None

    @classmethod
    def at(cls, path: str | Path) -> HookedStore:
        """Open (and create) the SQLite store in the file ``path``."""
        store = cls.open(f"sqlite:///{path}")
        assert isinstance(store, HookedStore)
        store.path = str(path)
        store.fail_saves = 0
        store.saves = 0
        store.before_save = None
        return store

    def save_credentials(self, source: str, data: dict[str, Any]) -> None:
        if self.before_save is not None:
            self.before_save(data)
        if self.fail_saves > 0:
            self.fail_saves -= 1
            raise OperationalError("UPDATE credentials", {}, Exception("locked"))
        super().save_credentials(source, data)
        self.saves += 1


@dataclass
class World:
    """One emulated Exact Online with its store, tokens and client."""

    state: EmulatorState
    emulator: RunningEmulator
    store: HookedStore
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
def store(tmp_path: Path) -> Iterator[HookedStore]:
    opened = HookedStore.at(tmp_path / "state.db")
    yield opened
    opened.close()


@pytest.fixture
def make_world(clock: FakeClock, store: HookedStore) -> Iterator[Callable[..., World]]:
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
