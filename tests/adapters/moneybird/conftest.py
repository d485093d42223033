"""Fixtures for the Moneybird adapter: an emulator on loopback and adapters on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest

from adapters.base import SourceContext
from adapters.moneybird.adapter import MoneybirdAdapter, MoneybirdOptions
from adapters.moneybird.client import MoneybirdClient, SlidingWindowLimiter, Timeouts
from adapters.moneybird.emulator import (
    Administration,
    RunningEmulator,
    generate_administration,
    serve_emulator,
)

TODAY = date(2026, 3, 2)


class FakeClock:
    """Time that moves only when someone sleeps on it."""

    def __init__(self, start: float = 1_772_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def admin() -> Administration:
    """260 invoices, 130 of them open."""
    return generate_administration(260, seed=1, today=TODAY)


@pytest.fixture
def emulator(admin: Administration) -> Iterator[RunningEmulator]:
    running = serve_emulator(admin)
    yield running
    running.stop()


@pytest.fixture
def waits() -> list[float]:
    """The sleeps the client asked for, instead of sleeping."""
    return []


@pytest.fixture
def make_client(
    emulator: RunningEmulator, waits: list[float]
) -> Callable[..., MoneybirdClient]:
    def make(read_s: float = 5.0, **kwargs: object) -> MoneybirdClient:
        options: dict[str, object] = {
            "base_url": emulator.base_url,
            "timeouts": Timeouts(connect_s=2.0, read_s=read_s),
            "sleep": waits.append,
        }
        options.update(kwargs)
        return MoneybirdClient(
            lambda: emulator.token,
            emulator.admin.id,
            **options,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def context(emulator: RunningEmulator, tmp_path: object) -> SourceContext:
    secrets = {"MONEYBIRD_TOKEN": emulator.token}
    return SourceContext(
        name="acme",
        secret=secrets.__getitem__,
        now=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        state_dir=str(tmp_path),
    )


@pytest.fixture
def make_adapter(
    emulator: RunningEmulator,
    context: SourceContext,
    make_client: Callable[..., MoneybirdClient],
) -> Iterator[Callable[..., MoneybirdAdapter]]:
    made: list[MoneybirdAdapter] = []

    def make(
        read_s: float = 5.0, client_options: dict | None = None, **options: object
    ):
        settings = MoneybirdOptions(
            administration=emulator.admin.id,
            token_secret="MONEYBIRD_TOKEN",
            base_url=emulator.base_url,
            **options,  # type: ignore[arg-type]
        )
        client = make_client(read_s, **(client_options or {}))
        adapter = MoneybirdAdapter(settings, context, client)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter_on(fake_clock: FakeClock) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(clock=fake_clock, sleep=fake_clock.sleep)
