"""The main job through the core's Runtime and Cycle, against the emulated Moneybird.

Everything crosses real HTTP on loopback. Time is fake twice over: the cycle's
clock is a fixed moment per run, and the emulator's rate limiter, the client's
limiter and its back-off sleeps share one float clock that only moves when the
client sleeps, so no test waits for a rate-limit window.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapters.base import SourceContext
from adapters.moneybird.adapter import MoneybirdAdapter, MoneybirdOptions
from adapters.moneybird.client import SlidingWindowLimiter
from adapters.moneybird.emulator import (
    RunningEmulator,
    generate_administration,
    serve_emulator,
)
from adapters.moneybird.emulator.control import Fault
from connector.cycle import CycleResult
from connector.domain import InvoiceStatus
from connector.policy import load_policy
from connector.runtime import Runtime
from connector.settings import Secrets
from connector.store import State, Store
from tests.factories import policy_text, write_policy

TODAY = date(2026, 3, 2)  # a Monday
ADMINISTRATION = "123456789012345678"
CSV_SOURCE = "  - {name: acme, adapter: csv, path: open_items.csv}"
TAG = re.compile(r"\[dunning:([0-9a-f]+)\]")


class FloatClock:
    """Seconds that pass only when someone sleeps on them."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC).timestamp()
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)


@dataclass
class World:
    """Emulated administrations, a state store, and a way to run cycles."""

    directory: Path
    store: Store
    clock: FloatClock
    emulators: dict[str, RunningEmulator] = field(default_factory=dict)

    def serve(self, name: str, invoices: int = 260, seed: int = 1) -> RunningEmulator:
        admin = generate_administration(
            invoices, seed=seed, today=TODAY, administration_id=ADMINISTRATION
        )
        running = serve_emulator(admin, token=f"token-of-{name}", clock=self.clock)
        self.emulators[name] = running
        return running

    def source_yaml(self, name: str, **options: Any) -> str:
        settings = {
            "administration": f'"{ADMINISTRATION}"',
            "base_url": self.emulators[name].base_url,
            "token": f"{{secret: MB_TOKEN_{name.upper()}}}",
            "read_timeout_s": 0.5,
            **options,
        }
        lines = [f"  - name: {name}", "    adapter: moneybird"]
        lines += [f"    {key}: {value}" for key, value in settings.items()]
        return "\n".join(lines)

    def runtime(self, at: str, **options: Any) -> Runtime:
        """A runtime at ``at`` (local time on TODAY) over every emulator."""
        sources = "\n".join(self.source_yaml(n, **options) for n in self.emulators)
        text = policy_text().replace(CSV_SOURCE, sources)
        policy = load_policy(write_policy(self.directory, text))
        local = datetime.combine(TODAY, datetime.strptime(at, "%H:%M").time())
        moment = local.replace(tzinfo=policy.tz).astimezone(UTC)
        return Runtime(
            policy,
            self.store,
            Secrets(),
            clock=lambda: moment,
            state_dir=self.directory / "state",
        )

    def run(self, at: str, source: str = "acme", **options: Any) -> CycleResult:
        return self.runtime(at, **options).run_source(source)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = FloatClock()
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    made = World(tmp_path, store, clock)
    made.serve("acme")
    for name in ("acme", "beta"):
        monkeypatch.setenv(f"MB_TOKEN_{name.upper()}", f"token-of-{name}")

    original = MoneybirdAdapter.create.__func__  # type: ignore[attr-defined]

    def create(
        cls: type[MoneybirdAdapter], options: MoneybirdOptions, context: SourceContext
    ) -> MoneybirdAdapter:
        """The real factory, with the client's time on the shared fake clock."""
        adapter: MoneybirdAdapter = original(cls, options, context)
        adapter.client.sleep = clock.sleep
        adapter.client.wall_clock = clock
        adapter.client.limiter = SlidingWindowLimiter(clock=clock, sleep=clock.sleep)
        return adapter

    monkeypatch.setattr(MoneybirdAdapter, "create", classmethod(create))
    yield made
    for running in made.emulators.values():
        running.stop()
    store.close()


def open_keys(emulator: RunningEmulator) -> set[str]:
    return {i["id"] for i in emulator.admin.open_invoices()}


def notes_by_invoice(emulator: RunningEmulator) -> dict[str, list[str]]:
    return {
        key: [n["note"] for n in invoice["notes"]]
        for key, invoice in emulator.admin.invoices.items()
        if invoice["notes"]
    }


def test_a_cold_sync_mirrors_all_130_open_invoices(world):
    result = world.run("07:00")  # before the send window: pull and plan only

    mirrored = world.store.mirror.snapshot("acme").invoices
    assert result.status == "outside_window"
    assert {i.key for i in mirrored} == open_keys(world.emulators["acme"])
    assert len(mirrored) == 130
    assert result.counts["invoices_pulled"] == 130


def test_an_invoice_paid_after_the_pull_is_skipped_by_the_confirm(world, monkeypatch):
    emulator = world.emulators["acme"]
    paid: list[str] = []
    confirm = MoneybirdAdapter.confirm_invoices

    def pay_then_confirm(self: MoneybirdAdapter, keys: list[str]) -> Any:
        """The debtor pays at 08:30, between the pull and the confirm."""
        if keys and not paid:
            key = next(k for k in keys if _unpaid(emulator, k) > 0)
            emulator.admin.add_payment(key, _unpaid(emulator, key), TODAY)
            paid.append(key)
        return confirm(self, keys)

    monkeypatch.setattr(MoneybirdAdapter, "confirm_invoices", pay_then_confirm)

    result = world.run("09:00")

    assert result.status == "ok"
    entries = [
        a for a in world.store.ledger.find(source="acme") if paid[0] in a.invoice_keys
    ]
    assert [(a.state, a.reason) for a in entries] == [(State.SKIPPED, "paid")]
    assert world.store.mirror.invoice("acme", paid[0]).status is InvoiceStatus.PAID
    number = emulator.admin.invoices[paid[0]]["invoice_id"]
    assert not any(number in text for text in _outbox_texts(world))


def test_an_invoice_deleted_in_moneybird_stops_being_chased(world):
    emulator = world.emulators["acme"]
    planned = world.run("07:00").plan
    assert planned is not None and planned.actions
    gone = planned.actions[0].invoices[0].key
    del emulator.admin.invoices[gone]

    result = world.run("09:00")

    assert result.status == "ok"
    assert world.store.mirror.invoice("acme", gone).status is InvoiceStatus.DELETED
    assert not [
        a for a in world.store.ledger.find(source="acme") if gone in a.invoice_keys
    ]
    assert result.counts["invoices_closed"] == 1


def test_a_hanging_server_is_cut_off_and_the_next_run_succeeds(world):
    emulator = world.emulators["acme"]
    emulator.control.hang(5, 3.0, method="GET", path_contains="synchronization")

    with capture_logs() as logs:
        hung = world.run("07:00")
    recovered = world.run("07:15")

    assert hung.status == "failed"
    assert hung.error is not None and "timed out" in hung.error
    finished = [e for e in logs if e["event"] == "cycle_finished"]
    assert [e["status"] for e in finished] == ["failed"]
    assert recovered.status == "outside_window"
    assert len(world.store.mirror.snapshot("acme").invoices) == 130
    statuses = [c["status"] for c in world.store.last_cycles()]
    assert statuses == ["outside_window", "failed"]


def test_a_429_storm_slows_the_cycle_down_without_losing_an_invoice(world):
    emulator = world.emulators["acme"]
    emulator.control.rate_limit_storm(4)
    emulator.control.add(Fault("rate_limit", 3, method="POST"))

    result = world.run("07:00")

    refused = [r for r in emulator.control.requests if r.status == 429]
    assert result.status == "outside_window"
    assert len(refused) == 7
    assert len(world.clock.slept) >= 7 and sum(world.clock.slept) >= 7
    mirrored = world.store.mirror.snapshot("acme").invoices
    assert {i.key for i in mirrored} == open_keys(emulator)


def test_a_lost_note_answer_does_not_write_a_second_note(world):
    emulator = world.emulators["acme"]
    emulator.control.hang_after(1, 2.0, method="POST", path_contains="/notes")

    result = world.run("09:00")

    assert result.status == "ok"
    assert result.counts["notes_failed"] == 0
    lost = emulator.control.requests_to("POST", "/notes")[0]
    invoice = lost.path.split("/")[-2]
    assert emulator.control.requests_to("GET", f"/sales_invoices/{invoice}")  # looked
    tags = Counter(
        t for n in notes_by_invoice(emulator)[invoice] for t in TAG.findall(n)
    )
    assert tags and set(tags.values()) == {1}
    posted = Counter(r.path for r in emulator.control.requests_to("POST", "/notes"))
    assert sum(posted.values()) == sum(
        len(n) for n in notes_by_invoice(emulator).values()
    )


def test_a_revoked_token_stops_that_source_and_the_other_goes_on(world):
    beta = world.serve("beta", seed=2)
    world.emulators["acme"].control.revoke_token()

    with capture_logs() as logs:
        results = world.runtime("07:00").run_all()

    assert [(r.source, r.status) for r in results] == [
        ("acme", "failed"),
        ("beta", "outside_window"),
    ]
    finished = [e for e in logs if e["event"] == "cycle_finished"]
    failed = [e for e in finished if e["status"] == "failed"]
    assert [e["source"] for e in failed] == ["acme"]
    assert "401" in failed[0]["error"]
    assert "token-of-acme" not in str(logs)
    assert len(world.store.mirror.snapshot("beta").invoices) == len(open_keys(beta))


def test_taking_over_reminders_pauses_every_chased_invoice(world):
    emulator = world.emulators["acme"]

    result = world.run("09:00", take_over_reminders="true")

    done = world.store.ledger.find(source="acme", states=[State.DONE])
    chased = {k for a in done for k in a.invoice_keys}
    assert result.status == "ok" and chased
    assert all(emulator.admin.invoices[k]["paused"] for k in chased)
    untouched = open_keys(emulator) - chased
    assert not any(emulator.admin.invoices[k]["paused"] for k in untouched)


def test_every_note_carries_its_action_key_once(world):
    emulator = world.emulators["acme"]

    result = world.run("09:00")
    world.run("09:15")  # a second cycle writes nothing again

    done = world.store.ledger.find(source="acme", states=[State.DONE])
    notes = [n for texts in notes_by_invoice(emulator).values() for n in texts]
    assert result.status == "ok" and notes
    assert all(len(TAG.findall(n)) == 1 for n in notes)
    by_key = Counter(TAG.findall("\n".join(notes)))
    expected = Counter({a.key: len(a.invoice_keys) for a in done})
    assert by_key == expected


def _unpaid(emulator: RunningEmulator, key: str) -> Decimal:
    return Decimal(emulator.admin.invoices[key]["total_unpaid"])


def _outbox_texts(world: World) -> list[str]:
    outbox = world.directory / "outbox"
    return [p.read_text(errors="replace") for p in outbox.rglob("*") if p.is_file()]
