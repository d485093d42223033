"""The main job through the core's Runtime and Cycle, against the emulated Exact.

Every request crosses real HTTP on loopback. One fake clock serves the cycle,
the token manager, the client's back-off sleeps and the emulator's token
lifetimes and rate-limit windows, so a test moves a week ahead without waiting.
It starts on Monday 2 March 2026, 10:00 in Amsterdam: inside the send window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapters.base import SourceContext
from adapters.exact.adapter import ExactAdapter, ExactOptions
from adapters.exact.emulator import (
    DEFAULT_CLIENT,
    EmulatorState,
    FakeClock,
    RunningEmulator,
    generate_administration,
    serve_emulator,
)
from adapters.exact.mapping import marker
from adapters.exact.tokens import Credentials
from connector.cycle import CycleResult
from connector.domain import InvoiceStatus
from connector.policy import load_policy
from connector.runtime import Runtime
from connector.settings import Secrets
from connector.store import ActionRecord, State, Store
from tests.factories import policy_text, write_policy

DIVISION = 1234567
DAY = 24 * 3600
CSV_SOURCE = "  - {name: acme, adapter: csv, path: open_items.csv}"
EXACT_SOURCE = """\
  - name: acme
    adapter: exact
    division: {division}
    base_url: {base_url}
    client_id_secret: EXACT_CLIENT_ID
    client_secret_secret: EXACT_CLIENT_SECRET
    read_timeout_s: 0.3
    full_reconcile_days: {reconcile_days}"""


@dataclass
class World:
    """One emulated Exact Online, a state store and a way to run cycles."""

    directory: Path
    clock: FakeClock
    state: EmulatorState
    emulator: RunningEmulator
    store: Store

    def run(self, reconcile_days: int = 7) -> CycleResult:
        """One cycle of source ``acme`` at the clock's moment."""
        source = EXACT_SOURCE.format(
            division=DIVISION,
            base_url=self.emulator.base_url,
            reconcile_days=reconcile_days,
        )
        text = policy_text().replace(CSV_SOURCE, source)
        policy = load_policy(write_policy(self.directory, text))
        runtime = Runtime(
            policy,
            self.store,
            Secrets(),
            clock=self.clock.now,
            state_dir=self.directory / "state",
        )
        return runtime.run_source("acme")

    @property
    def division(self) -> Any:
        return self.state.divisions[DIVISION]

    def open_entries(self) -> set[str]:
        """The entries with an open customer term, as Exact has them now."""
        terms = self.division.terms.values()
        return {
            str(t["TransactionEntryID"]).lower()
            for t in terms
            if t["LineType"] == 20 and not t["IsFullyPaid"]
        }

    def mirrored_open(self) -> set[str]:
        return {i.key for i in self.store.mirror.snapshot("acme").invoices}

    def mirrored_statuses(self) -> dict[str, InvoiceStatus]:
        keys = self.open_entries() | self.mirrored_open()
        found = {k: self.store.mirror.invoice("acme", k) for k in keys}
        return {k: i.status for k, i in found.items() if i is not None}

    def actions(self, **filters: Any) -> list[ActionRecord]:
        return self.store.ledger.find(source="acme", **filters)

    def outbox(self) -> list[Path]:
        return sorted((self.directory / "outbox").glob("*.eml"))

    def token_calls(self) -> int:
        return sum(1 for r in self.state.requests if r.path == "/api/oauth2/token")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = FakeClock()
    state = generate_administration(30, seed=3, divisions=(DIVISION,), clock=clock)
    emulator = serve_emulator(state)
    store = Store.open(f"sqlite:///{tmp_path}/state.db")
    grant = Credentials.from_token_response(state.grant(), clock.now())
    store.save_credentials("acme", grant.to_dict())
    monkeypatch.setenv("EXACT_CLIENT_ID", DEFAULT_CLIENT[0])
    monkeypatch.setenv("EXACT_CLIENT_SECRET", DEFAULT_CLIENT[1])

    original = ExactAdapter.create.__func__  # type: ignore[attr-defined]

    def create(
        cls: type[ExactAdapter], options: ExactOptions, context: SourceContext
    ) -> ExactAdapter:
        """The real factory, its back-off sleeping on the fake clock."""
        adapter: ExactAdapter = original(cls, options, context, sleep=clock.sleep)
        return adapter

    monkeypatch.setattr(ExactAdapter, "create", classmethod(create))
    yield World(tmp_path, clock, state, emulator, store)
    emulator.stop()
    store.close()


def test_a_cold_cycle_mirrors_every_open_receivable_and_reminds_with_notes(world):
    result = world.run()

    assert result.status == "ok", result.error
    assert world.mirrored_open() == world.open_entries()
    emails = world.actions(states=[State.DONE])
    emails = [a for a in emails if a.channel == "email"]
    assert emails and result.counts["email_done"] == len(emails)
    assert len(world.outbox()) == len(emails)
    notes = list(world.division.notes.values())
    assert len(notes) == result.counts["notes_written"] == len(emails)
    assert {marker(a.key) for a in emails} == {
        n["Subject"][n["Subject"].index("[dunning:") :] for n in notes
    }
    assert all(a.note_state == "done" for a in world.actions(states=[State.DONE]))


def test_a_second_cycle_the_same_day_sends_and_writes_nothing_again(world):
    world.run()
    outbox, notes = world.outbox(), len(world.division.notes)
    world.clock.advance(3600)

    again = world.run()

    assert again.status == "ok", again.error
    assert world.outbox() == outbox
    assert len(world.division.notes) == notes
    assert again.counts["recorded"] == 0


def test_an_invoice_deleted_in_exact_is_not_chased_any_further(world):
    world.run(reconcile_days=30)
    first = {a.key for a in world.actions()}
    reminded = [a for a in world.actions() if a.step_id == "reminder"]
    gone = reminded[0].invoice_keys[0]
    world.state.delete_invoice(DIVISION, gone)
    world.clock.advance(7 * DAY)  # the call is due; a day later the second mail

    calls = world.run(reconcile_days=30)
    world.clock.advance(DAY)
    seconds = world.run(reconcile_days=30)

    assert (calls.status, seconds.status) == ("ok", "ok"), seconds.error
    assert world.store.mirror.invoice("acme", gone).status is InvoiceStatus.DELETED
    later = [a for a in world.actions() if a.key not in first]
    assert {"call", "second"} <= {a.step_id for a in later}
    assert not [a for a in later if gone in a.invoice_keys]


def test_a_hanging_server_fails_the_cycle_cleanly_and_the_next_run_succeeds(world):
    world.state.faults.hang_s = 1.0
    world.state.faults.hang_next = 1000

    with capture_logs() as logs:
        hung = world.run()

    assert hung.status == "failed"
    assert hung.error is not None and hung.error.startswith("temporary:")
    assert "cycle_crashed" not in [e["event"] for e in logs]
    assert world.actions() == [] and world.mirrored_open() == set()
    assert world.store.last_cycles(1)[0]["status"] == "failed"

    world.state.faults.hang_next = 0
    world.clock.advance(900)
    recovered = world.run()

    assert recovered.status == "ok", recovered.error
    assert world.mirrored_open() == world.open_entries()
    assert recovered.counts["email_done"] > 0


def test_a_grant_that_cannot_be_refreshed_fails_the_cycle_with_one_clear_error(
    world,
):
    world.run()
    before = (world.mirrored_statuses(), len(world.actions()))
    world.state.grant()  # consent given again elsewhere: our token set is dead
    world.clock.advance(7 * DAY)  # the second reminders would be due now

    with capture_logs() as logs:
        refused = world.run()

    assert refused.status == "failed"
    assert "dunning auth exact" in (refused.error or "")
    assert (world.mirrored_statuses(), len(world.actions())) == before
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["event"] for e in errors] == [
        "exact_reauthorisation_needed",
        "cycle_finished",
    ]

    calls = world.token_calls()
    world.clock.advance(900)
    again = world.run()
    assert again.status == "failed" and again.error == refused.error
    assert world.token_calls() == calls  # the dead grant is not tried again


def test_the_daily_limit_reached_mid_pull_leaves_the_cycle_incomplete_undecided(
    world,
):
    world.run()
    paid = sorted(world.mirrored_open())[0]
    amount = world.store.mirror.invoice("acme", paid).open_amount
    world.state.pay(DIVISION, paid, amount, world.clock.now().date())
    before = (world.mirrored_statuses(), len(world.actions()))
    cursor = world.store.mirror.cursor("acme")
    world.clock.advance(DAY)  # a new UTC day: a fresh budget of one call
    world.state.limits.daily = 1

    short = world.run()

    assert short.status == "incomplete"
    assert "daily" in (short.error or "")
    assert "planned" not in short.counts
    assert (world.mirrored_statuses(), len(world.actions())) == before
    assert world.store.mirror.cursor("acme") == cursor

    world.state.limits.daily = 5000
    world.clock.advance(900)
    full = world.run()
    assert full.status == "ok", full.error
    assert world.store.mirror.invoice("acme", paid).status is InvoiceStatus.PAID
