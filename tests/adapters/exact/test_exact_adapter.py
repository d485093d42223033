"""The adapter's protocol against the emulated administration, over real HTTP."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from adapters.base import Adapter, Note, Task
from adapters.exact.adapter import ExactAdapter, SyncCursor
from adapters.exact.emulator import EmulatorState
from connector.domain import DebtorKind, InvoiceStatus

DIVISION, OTHER = 1234567, 7654321
TODAY = date(2026, 3, 2)


@pytest.fixture
def small(clock):
    """One customer with 61 open invoices; another company beside it."""
    state = EmulatorState(clock=clock)
    for code in (DIVISION, OTHER):
        state.add_division(code, f"Company {code}")
        account = state.add_account(code, "Dekker Bouw B.V.", Email="ap@dekker.nl")
        for n in range(61):
            state.add_invoice(
                code,
                account,
                26700000 + n,
                Decimal("121.00"),
                invoice_date=TODAY - timedelta(days=40),
                due_date=TODAY - timedelta(days=10),
            )
    state.current_division = OTHER
    return state


def entries(state, division=DIVISION):
    terms = state.divisions[division].terms.values()
    return sorted({t["TransactionEntryID"] for t in terms if t["LineType"] == 20})


def paths(state, resource):
    return [r for r in state.requests if r.path.endswith(resource)]


def test_the_adapter_implements_the_protocol(world):
    assert isinstance(world.adapter(), Adapter)


def test_61_invoices_over_two_pages_all_arrive(make_world, small, clock):
    world = make_world(state=small)
    adapter = world.adapter()
    adapter.pull_changes(None, {})
    clock.advance(7 * 86400)

    changes = adapter.pull_changes(SyncCursor(1, 1, 1, str(TODAY)).dumps(), {})

    assert changes.complete_snapshot
    assert len(changes.invoices) == 61
    open_list = paths(small, "ReceivablesList")
    assert len(open_list) == 2 and "skiptoken" in open_list[1].query


def test_the_current_division_is_another_company_and_nothing_of_it_is_touched(
    make_world, small
):
    world = make_world(state=small)
    adapter = world.adapter()
    first = adapter.pull_changes(None, {})
    invoice = first.invoices[0]
    adapter.confirm_invoices([invoice.key])
    adapter.write_note(Note("n1", invoice.debtor_key, (invoice.key,), "Reminder sent"))
    adapter.create_task(Task("t1", invoice.debtor_key, (invoice.key,), "Call them"))

    assert small.current_division == OTHER
    api_paths = [p for p in small.paths() if not p.startswith("/api/oauth2/")]
    assert api_paths and all(p.startswith(f"/api/v1/{DIVISION}/") for p in api_paths)
    assert not small.divisions[OTHER].notes and not small.divisions[OTHER].tasks


def test_the_first_pull_is_a_complete_snapshot_of_open_customer_invoices(world):
    changes = world.adapter().pull_changes(None, {})

    state = world.state
    open_entries = {
        t["TransactionEntryID"]
        for t in state.divisions[DIVISION].terms.values()
        if t["LineType"] == 20 and not t["IsFullyPaid"]
    }
    assert changes.complete_snapshot
    assert {i.key for i in changes.invoices} == open_entries
    assert changes.debtors and all(i.is_open for i in changes.invoices)


def test_the_sync_feeds_are_read_from_the_stored_timestamps(world):
    adapter = world.adapter()
    first = adapter.pull_changes(None, {})
    stamp = SyncCursor.loads(first.cursor).terms

    adapter.pull_changes(first.cursor, {})

    assert f"Timestamp+gt+{stamp}L" in paths(world.state, "PaymentTerms")[-1].query


def test_a_deleted_invoice_is_reported_deleted(world):
    adapter = world.adapter()
    first = adapter.pull_changes(None, {})
    gone = first.invoices[0]
    world.state.delete_invoice(DIVISION, gone.key)

    changes = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert changes.closed == {gone.key: InvoiceStatus.DELETED}


def test_a_paid_invoice_is_closed_and_a_partial_payment_lowers_the_open_amount(world):
    adapter = world.adapter()
    first = adapter.pull_changes(None, {})
    paid, partly = first.invoices[0], first.invoices[1]
    world.state.pay(DIVISION, paid.key, paid.open_amount, TODAY)
    world.state.pay(DIVISION, partly.key, Decimal("10.00"), TODAY)

    changes = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert changes.closed == {paid.key: InvoiceStatus.PAID}
    (fresh,) = changes.invoices
    assert fresh.open_amount == partly.open_amount - Decimal("10.00")
    assert fresh.payments[-1].amount == Decimal("10.00")


def test_the_open_amount_is_in_the_invoices_own_currency(make_world, clock):
    state = EmulatorState(clock=clock)
    state.add_division(DIVISION, "Export B.V.")
    account = state.add_account(DIVISION, "Acme Inc.", VATNumber="US1")
    state.add_invoice(
        DIVISION, account, 1, Decimal("250.00"), invoice_date=TODAY, due_date=TODAY,
        currency="USD",
    )  # fmt: skip
    world = make_world(state=state)

    (invoice,) = world.adapter().pull_changes(None, {}).invoices

    assert (invoice.currency, invoice.open_amount) == ("USD", Decimal("250.00"))


def test_supplier_terms_never_become_invoices(world):
    changes = world.adapter().pull_changes(None, {})

    assert all(int(i.number) > 1000 for i in changes.invoices)


def test_an_invoice_in_an_unknown_currency_is_skipped_with_a_reason(world):
    terms = world.state.divisions[DIVISION].terms.values()
    odd = next(t for t in terms if t["LineType"] == 20 and not t["IsFullyPaid"])
    odd["Currency"] = "??"

    changes = world.adapter().pull_changes(None, {})

    assert (odd["TransactionEntryID"], "unknown currency '??'") in changes.skipped


def test_accounts_become_debtors_with_email_language_and_kind(make_world, clock):
    state = EmulatorState(clock=clock)
    state.add_division(DIVISION, "Shop")
    payer = state.add_account(DIVISION, "Holding", Email="ap@holding.nl", VATNumber="X")
    state.add_account(
        DIVISION, "Jan Jansen", Email="jan@example.nl", Language="EN        ",
        InvoiceAccount=payer,
    )  # fmt: skip
    world = make_world(state=state)

    debtors = {d.name: d for d in world.adapter().pull_changes(None, {}).debtors}

    jan = debtors["Jan Jansen"]
    assert jan.kind is DebtorKind.PERSON and jan.language == "en"
    assert jan.emails == ("ap@holding.nl", "jan@example.nl")
    assert debtors["Holding"].kind is DebtorKind.BUSINESS


def test_a_full_reconcile_runs_on_its_cadence_only(world, clock):
    adapter = world.adapter(full_reconcile_days=7)
    cursor = adapter.pull_changes(None, {}).cursor
    clock.advance(86400)
    cursor = adapter.pull_changes(cursor, {}).cursor
    assert not paths(world.state, "ReceivablesList")

    clock.advance(6 * 86400)
    adapter.pull_changes(cursor, {})

    assert paths(world.state, "ReceivablesList")


def test_a_reconcile_reports_what_left_the_open_list(world, clock):
    adapter = world.adapter()
    first = adapter.pull_changes(None, {})
    known = {i.key: "v" for i in first.invoices}
    gone = first.invoices[0]
    world.state.pay(DIVISION, gone.key, gone.open_amount, TODAY)
    clock.advance(7 * 86400)

    changes = adapter.pull_changes(first.cursor, known)

    assert changes.complete_snapshot
    assert changes.closed == {gone.key: InvoiceStatus.PAID}
    assert gone.key not in {i.key for i in changes.invoices}


def test_confirming_invoices_rereads_them_in_one_batch(world):
    adapter = world.adapter()
    invoices = adapter.pull_changes(None, {}).invoices[:3]
    world.state.pay(DIVISION, invoices[0].key, invoices[0].open_amount, TODAY)
    world.state.delete_invoice(DIVISION, invoices[1].key)
    before = len(paths(world.state, "cashflow/Receivables"))

    fresh = adapter.confirm_invoices([i.key for i in invoices])

    assert fresh[invoices[0].key] is InvoiceStatus.PAID
    assert fresh[invoices[1].key] is InvoiceStatus.DELETED
    assert fresh[invoices[2].key] == invoices[2]
    assert len(paths(world.state, "cashflow/Receivables")) == before + 1


def test_a_note_names_the_invoice_and_is_written_once_per_key(world):
    adapter = world.adapter()
    invoice = adapter.pull_changes(None, {}).invoices[0]
    note = Note("act-1", invoice.debtor_key, (invoice.key,), "Reminder e-mailed")

    first, again = adapter.write_note(note), adapter.write_note(note)

    (written,) = world.state.divisions[DIVISION].notes.values()
    assert first == again == written["ID"]
    assert invoice.number in written["Subject"] and "act-1" in written["Subject"]


def test_a_note_whose_answer_was_lost_is_looked_up_before_writing_again(
    world, monkeypatch
):
    adapter = world.adapter()
    invoice = adapter.pull_changes(None, {}).invoices[0]
    adapter.resources.client.timeout = (1, 0.3)
    post = adapter.resources.create_note

    def lose_the_answer(body):
        world.state.faults.hang_after_next, world.state.faults.hang_s = 1, 10
        return post(body)

    monkeypatch.setattr(adapter.resources, "create_note", lose_the_answer)
    note = Note("act-2", invoice.debtor_key, (invoice.key,), "Demand letter sent")

    note_id = adapter.write_note(note)

    (written,) = world.state.divisions[DIVISION].notes.values()
    assert note_id == written["ID"]
    methods = [r.method for r in paths(world.state, "CommunicationNotes")]
    assert methods == ["GET", "POST", "GET"]


def test_a_note_can_carry_a_document(world):
    adapter = world.adapter(note_documents=True)
    invoice = adapter.pull_changes(None, {}).invoices[0]

    adapter.write_note(Note("act-3", invoice.debtor_key, (invoice.key,), "Letter"))

    (document,) = world.state.divisions[DIVISION].documents.values()
    (note,) = world.state.divisions[DIVISION].notes.values()
    assert note["Document"] == document["ID"]


def test_a_task_is_created_once_per_key_with_its_due_date(world):
    adapter = world.adapter()
    invoice = adapter.pull_changes(None, {}).invoices[0]
    task = Task(
        "call-1", invoice.debtor_key, (invoice.key,), "Call about the invoice",
        due_on=TODAY + timedelta(days=2),
    )  # fmt: skip

    assert adapter.create_task(task) == adapter.create_task(task)
    (written,) = world.state.divisions[DIVISION].tasks.values()
    assert written["ActionDate"].date() == TODAY + timedelta(days=2)


def test_a_source_without_a_division_is_a_configuration_error():
    with pytest.raises(ValidationError, match="division"):
        ExactAdapter.Options()
    with pytest.raises(ValidationError, match="country"):
        ExactAdapter.Options(division=1, country="xx")
