"""The state store, on SQLite and (when the CI provides it) PostgreSQL."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from adapters.base import Changes
from connector.domain import (
    Address,
    Debtor,
    DebtorKind,
    HoldKind,
    Invoice,
    InvoiceStatus,
    Payment,
)
from connector.store import ActionRecord, State, Store
from connector.store.db import Leases
from connector.store.migrate import alembic_config
from connector.store.schema import metadata

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
SOURCE = "acme"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def a_debtor(key: str = "d1") -> Debtor:
    return Debtor(
        key=key,
        name="Bakkerij de Vries B.V.",
        kind=DebtorKind.BUSINESS,
        emails=("ap@devries.example", "boss@devries.example"),
        language="nl",
        tags=frozenset({"key-account", "bakery"}),
        customer_number="K1001",
        contact_person="J. de Vries",
        address=Address(("Kerkstraat 1",), "1234 AB", "Utrecht", "NL"),
    )


def an_invoice(
    key: str, open_amount: str, *, total: str | None = None, debtor_key: str = "d1"
) -> Invoice:
    return Invoice(
        key=key,
        debtor_key=debtor_key,
        number=f"2026-{key}",
        issue_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        currency="EUR",
        total=Decimal(total if total is not None else open_amount),
        open_amount=Decimal(open_amount),
        pay_url=f"https://pay.example/{key}",
    )


def an_action(
    key: str,
    invoices: tuple[str, ...] = ("i1",),
    *,
    step: str = "reminder",
    state: State = State.PENDING,
    source: str = SOURCE,
) -> ActionRecord:
    return ActionRecord(
        key=key,
        source=source,
        debtor_key="d1",
        plan="b2b",
        step_id=step,
        channel="email",
        state=state,
        scheduled_on=date(2027, 1, 15),
        taken_on=date(2027, 1, 15),
        invoice_amounts=tuple((i, Decimal("121.00")) for i in invoices),
        payload={"subject": "Herinnering", "to": ["ap@devries.example"]},
    )


def dead_pid() -> int:
    """The id of a process that has just ended on this host."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# Migrations


def test_opening_creates_every_table_at_the_alembic_head(store):
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()

    with store.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(store.engine).get_table_names())

    assert current == head
    assert set(metadata.tables) <= tables


def test_opening_a_store_again_changes_nothing(store, store_url):
    store.save_credentials(SOURCE, {"token": "t1"})
    before = set(inspect(store.engine).get_table_names())

    again = Store.open(store_url)
    try:
        with again.engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
        assert set(inspect(again.engine).get_table_names()) == before
        assert again.load_credentials(SOURCE) == {"token": "t1"}
    finally:
        again.close()
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert revision == head


# Mirror


def test_mirror_round_trips_amounts_exactly_and_dates(store):
    paid = Payment("p1", date(2026, 12, 20), Decimal("0.10"))
    invoices = [
        an_invoice("i1", "1210.00"),
        Invoice(
            key="i2",
            debtor_key="d1",
            number="2026-i2",
            issue_date=date(2026, 11, 30),
            due_date=date(2026, 12, 31),
            currency="EUR",
            total=Decimal("0.20"),
            open_amount=Decimal("0.10"),
            payments=(paid,),
        ),
        an_invoice("c1", "-200.00"),
    ]
    changes = Changes(cursor="cursor-1", debtors=[a_debtor()], invoices=invoices)

    stats = store.mirror.apply(SOURCE, changes, NOW)
    snapshot = store.mirror.snapshot(SOURCE)

    assert (stats.debtors, stats.invoices, stats.closed) == (1, 3, 0)
    assert store.mirror.cursor(SOURCE) == "cursor-1"
    assert snapshot.debtors == {"d1": a_debtor()}
    by_key = {i.key: i for i in snapshot.invoices}
    assert by_key == {i.key: i for i in invoices}
    assert str(by_key["i1"].open_amount) == "1210.00"
    assert str(by_key["i2"].open_amount) == "0.10"
    assert str(by_key["c1"].open_amount) == "-200.00"
    assert str(by_key["i2"].payments[0].amount) == "0.10"
    assert by_key["i2"].due_date == date(2026, 12, 31)
    assert by_key["i2"].payments[0].paid_on == date(2026, 12, 20)


def test_a_source_sees_only_its_own_mirror(store):
    store.mirror.apply(SOURCE, Changes("c", [a_debtor()], [an_invoice("i1", "5")]), NOW)

    assert store.mirror.snapshot("other").invoices == []
    assert store.mirror.cursor("other") is None


def test_complete_snapshot_closes_missing_invoices_but_not_unreadable_ones(store):
    first = [an_invoice("i1", "10.00"), an_invoice("i2", "20.00")]
    store.mirror.apply(
        SOURCE, Changes("c1", [a_debtor()], [*first, an_invoice("i3", "30.00")]), NOW
    )
    later = Changes(
        cursor="c2",
        invoices=[an_invoice("i1", "10.00")],
        complete_snapshot=True,
        skipped=[("i3", "the due date cannot be read")],
    )

    stats = store.mirror.apply(SOURCE, later, NOW)

    assert stats.closed == 1
    assert sorted(i.key for i in store.mirror.snapshot(SOURCE).invoices) == [
        "i1",
        "i3",
    ]
    gone = store.mirror.invoice(SOURCE, "i2")
    assert gone is not None and gone.status is InvoiceStatus.PAID


def test_an_incremental_pull_closes_only_what_it_names(store):
    invoices = [an_invoice("i1", "10.00"), an_invoice("i2", "20.00")]
    store.mirror.apply(SOURCE, Changes("c1", [a_debtor()], invoices), NOW)

    store.mirror.apply(
        SOURCE, Changes("c2", closed={"i2": InvoiceStatus.CREDITED}), NOW
    )

    assert [i.key for i in store.mirror.snapshot(SOURCE).invoices] == ["i1"]
    closed = store.mirror.invoice(SOURCE, "i2")
    assert closed is not None and closed.status is InvoiceStatus.CREDITED


def test_a_local_hold_survives_a_resync_that_changed_the_invoice(store):
    store.mirror.apply(
        SOURCE, Changes("c1", [a_debtor()], [an_invoice("i1", "500.00")]), NOW
    )
    hold = store.holds.add(
        SOURCE, HoldKind.DISPUTE, "disputes the hours", "anna", NOW, invoice_key="i1"
    )
    changed = an_invoice("i1", "250.00", total="500.00")

    store.mirror.apply(SOURCE, Changes("c2", [a_debtor()], [changed]), NOW)

    assert store.holds.active(SOURCE) == [hold]
    assert store.mirror.snapshot(SOURCE).invoices == [changed]


def test_a_released_hold_is_no_longer_active(store):
    hold = store.holds.add(
        SOURCE, HoldKind.PROMISE, "pays Friday", "anna", NOW, debtor_key="d1"
    )

    assert store.holds.release(hold.id, "anna", NOW)
    assert not store.holds.release(hold.id, "anna", NOW)
    assert store.holds.active(SOURCE) == []


# Ledger


def test_ledger_refuses_a_second_action_for_the_same_invoice_and_step(store):
    assert store.ledger.record(an_action("k1", ("i1", "i2")), NOW)

    assert not store.ledger.record(an_action("k2", ("i2",)), NOW)
    assert not store.ledger.record(an_action("k1", ("i9",), step="call"), NOW)
    assert store.ledger.get("k2") is None
    assert [a.key for a in store.ledger.find()] == ["k1"]


def test_ledger_takes_the_next_step_for_the_same_invoice(store):
    assert store.ledger.record(an_action("k1"), NOW)

    assert store.ledger.record(an_action("k2", step="second-reminder"), NOW)
    assert set(store.ledger.progress(SOURCE)["i1"]) == {"reminder", "second-reminder"}


def test_ledger_round_trips_an_action(store):
    action = an_action("k1", ("i1", "i2"))

    store.ledger.record(action, NOW)
    found = store.ledger.get("k1")

    assert found is not None
    assert found.invoice_amounts == (
        ("i1", Decimal("121.00")),
        ("i2", Decimal("121.00")),
    )
    assert found.payload == action.payload
    assert found.state is State.PENDING
    assert found.created_at == NOW


@pytest.mark.parametrize("round_", range(5))
def test_two_threads_racing_record_the_step_only_once(store, round_):
    barrier = threading.Barrier(2)
    invoice = f"i{round_}"

    def record(key: str) -> bool:
        barrier.wait(timeout=10)
        return store.ledger.record(an_action(key, (invoice,)), NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(record, [f"a{round_}", f"b{round_}"]))

    assert sorted(results) == [False, True]
    assert len(store.ledger.find()) == 1


def test_transition_moves_only_from_the_expected_states(store):
    store.ledger.record(an_action("k1"), NOW)
    later = NOW + timedelta(minutes=1)

    refused = store.ledger.transition(
        "k1", [State.AWAITING_APPROVAL], State.REJECTED, later
    )
    moved = store.ledger.transition("k1", [State.PENDING], State.SENDING, later)
    again = store.ledger.transition("k1", [State.PENDING], State.SENDING, later)
    unknown = store.ledger.transition("nope", [State.PENDING], State.SENDING, later)

    assert (refused, moved, again, unknown) == (False, True, False, False)
    found = store.ledger.get("k1")
    assert found is not None
    assert found.state is State.SENDING
    assert found.updated_at == later


def test_interrupted_turns_sending_into_needs_review(store):
    store.ledger.record(an_action("sending", ("i1",), state=State.SENDING), NOW)
    store.ledger.record(an_action("pending", ("i2",), state=State.PENDING), NOW)
    store.ledger.record(
        an_action("elsewhere", ("i1",), state=State.SENDING, source="other"), NOW
    )

    marked = store.ledger.interrupted(SOURCE, NOW)

    assert marked == ["sending"]
    stuck = store.ledger.get("sending")
    assert stuck is not None and stuck.state is State.NEEDS_REVIEW
    assert stuck.reason and "outcome unknown" in stuck.reason
    assert store.ledger.get("pending").state is State.PENDING
    assert store.ledger.get("elsewhere").state is State.SENDING


# Leases


def test_a_lease_has_one_holder_at_a_time(store):
    first, second = Leases(store.engine), Leases(store.engine)

    assert first.try_acquire("cycle:acme", 60)
    assert not second.try_acquire("cycle:acme", 60)
    assert first.try_acquire("cycle:acme", 60)  # renewing is allowed
    first.release("cycle:acme")
    assert second.try_acquire("cycle:acme", 60)


def test_an_expired_lease_can_be_taken(store):
    clock = FakeClock()
    first, second = Leases(store.engine, clock), Leases(store.engine, clock)
    assert first.try_acquire("cycle:acme", 60)

    clock.advance(59)
    assert not second.try_acquire("cycle:acme", 60)
    clock.advance(2)
    assert second.try_acquire("cycle:acme", 60)
    assert not first.try_acquire("cycle:acme", 60)


def test_a_lease_of_a_dead_process_on_this_host_can_be_taken(store):
    dead = Leases(store.engine)
    dead.owner = f"{socket.gethostname()}:{dead_pid()}:deadbeef"
    assert dead.try_acquire("cycle:acme", 3600)

    assert Leases(store.engine).try_acquire("cycle:acme", 60)


@pytest.mark.parametrize(
    "owner",
    [f"{socket.gethostname()}:{os.getpid()}:cafebabe", "some-other-host:1:cafebabe"],
    ids=["alive-here", "elsewhere"],
)
def test_a_lease_of_a_live_or_remote_process_is_not_taken(store, owner):
    holder = Leases(store.engine)
    holder.owner = owner
    assert holder.try_acquire("cycle:acme", 3600)

    assert not Leases(store.engine).try_acquire("cycle:acme", 60)


def test_holding_a_lease_times_out_while_another_holds_it(store):
    Leases(store.engine).try_acquire("cycle:acme", 60)

    with pytest.raises(TimeoutError), store.lease("cycle:acme", wait_s=0.2):
        pass


# Credentials


def test_credentials_are_saved_loaded_and_replaced(store):
    assert store.load_credentials(SOURCE) is None

    store.save_credentials(SOURCE, {"access": "a1", "refresh": "r1", "n": [1, 2]})
    assert store.load_credentials(SOURCE) == {
        "access": "a1",
        "refresh": "r1",
        "n": [1, 2],
    }
    store.save_credentials(SOURCE, {"access": "a2", "refresh": "r2"})
    assert store.load_credentials(SOURCE) == {"access": "a2", "refresh": "r2"}
    assert store.load_credentials("other") is None


# Cycles


def test_cycles_are_recorded_newest_first(store):
    first = store.start_cycle(SOURCE, NOW)
    store.finish_cycle(first, "ok", {"planned": 2}, NOW + timedelta(seconds=3))
    second = store.start_cycle(SOURCE, NOW + timedelta(minutes=15))

    cycles = store.last_cycles()

    assert [c["id"] for c in cycles] == [second, first]
    assert cycles[1]["status"] == "ok"
    assert cycles[1]["summary"] == {"planned": 2}
    assert cycles[1]["finished_at"] == NOW + timedelta(seconds=3)


# SQLite specifics


def test_sqlite_file_is_owner_only_and_in_wal_mode(tmp_path):
    path = tmp_path / "new" / "dunning.db"
    old_umask = os.umask(0o022)
    try:
        store = Store.open(f"sqlite:///{path}")
        store.save_credentials(SOURCE, {"token": "t"})
    finally:
        os.umask(old_umask)
    try:
        with store.engine.connect() as conn:
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
    finally:
        store.close()

    assert mode == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists():
            assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0
