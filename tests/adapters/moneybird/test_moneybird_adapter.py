"""The adapter against the emulator, over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.base import Note, SourceContext, Task
from adapters.moneybird.adapter import MoneybirdAdapter, MoneybirdOptions, marker
from adapters.moneybird.emulator import OPEN_STATES
from connector.domain import DebtorKind, Invoice, InvoiceStatus
from connector.errors import FatalSourceError, RetriableError


def open_ids(admin):
    return sorted(i["id"] for i in admin.open_invoices())


def test_cold_sync_reads_all_130_open_invoices_in_three_requests(
    emulator, make_adapter
):
    changes = make_adapter().pull_changes(None, {})

    assert sorted(i.key for i in changes.invoices) == open_ids(emulator.admin)
    assert len(changes.invoices) == 130
    assert changes.complete_snapshot
    assert {i.debtor_key for i in changes.invoices} <= {d.key for d in changes.debtors}
    assert len(emulator.control.requests) == 3  # the id list + 2 fetches of ≤100


def test_a_pull_without_changes_costs_one_request_between_contact_checks(
    emulator, make_adapter
):
    adapter = make_adapter()
    first = adapter.pull_changes(None, {})
    known = {i.key: "v" for i in first.invoices}
    before = len(emulator.control.requests)

    second = adapter.pull_changes(first.cursor, known)

    assert second.invoices == [] and second.closed == {}
    assert not second.complete_snapshot
    new = emulator.control.requests[before:]
    assert [(r.method, r.path.rsplit("/", 2)[-2]) for r in new] == [
        ("GET", "sales_invoices")
    ]


def test_a_pull_lists_the_contacts_again_once_the_check_is_due(emulator, make_adapter):
    adapter = make_adapter(contact_check_minutes=0)
    first = adapter.pull_changes(None, {})
    before = len(emulator.control.requests)

    adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert len(emulator.control.requests) - before == 2
    assert emulator.control.requests[-1].path.endswith("contacts/synchronization")


def test_a_changed_invoice_is_fetched_again(emulator, make_adapter):
    adapter = make_adapter()
    first = adapter.pull_changes(None, {})
    key = first.invoices[0].key
    emulator.admin.add_payment(key, Decimal("1.00"))

    second = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert [i.key for i in second.invoices] == [key]
    assert len(second.invoices[0].payments) == len(first.invoices[0].payments) + 1


def test_an_invoice_paid_after_the_pull_is_confirmed_paid(emulator, make_adapter):
    adapter = make_adapter()
    invoice = adapter.pull_changes(None, {}).invoices[0]
    emulator.admin.add_payment(invoice.key, invoice.open_amount)

    confirmed = adapter.confirm_invoices([invoice.key])

    assert confirmed == {invoice.key: InvoiceStatus.PAID}


def test_an_open_invoice_is_confirmed_with_fresh_data(emulator, make_adapter):
    adapter = make_adapter()
    keys = open_ids(emulator.admin)[:3]

    confirmed = adapter.confirm_invoices(keys)

    assert all(isinstance(confirmed[k], Invoice) for k in keys)


def test_a_deleted_invoice_is_reported_deleted(emulator, make_adapter):
    adapter = make_adapter()
    first = adapter.pull_changes(None, {})
    key = first.invoices[0].key
    del emulator.admin.invoices[key]

    assert adapter.confirm_invoices([key]) == {key: InvoiceStatus.DELETED}
    second = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})
    assert second.closed == {key: InvoiceStatus.DELETED}


def test_an_invoice_that_left_the_open_list_is_reported_with_its_status(
    emulator, make_adapter
):
    adapter = make_adapter()
    first = adapter.pull_changes(None, {})
    positive = [i for i in first.invoices if i.total > 0]
    paid, credited = positive[0], positive[1]
    emulator.admin.add_payment(paid.key, paid.open_amount)
    emulator.admin.credit(credited.key)

    second = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert second.closed == {
        paid.key: InvoiceStatus.PAID,
        credited.key: InvoiceStatus.CREDITED,
    }


def test_a_contact_changed_on_its_own_refreshes_its_debtor(emulator, make_adapter):
    adapter = make_adapter(contact_check_minutes=0)
    first = adapter.pull_changes(None, {})
    debtor_key = first.invoices[0].debtor_key
    contact = emulator.admin.contacts[debtor_key]
    contact["send_invoices_to_email"] = "nieuw@example.nl"
    emulator.admin.touch(contact)

    second = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert [d.emails for d in second.debtors] == [("nieuw@example.nl",)]


def test_the_pull_maps_credit_notes_and_businesses(emulator, make_adapter):
    changes = make_adapter().pull_changes(None, {})

    assert any(i.is_credit_note for i in changes.invoices)
    assert {d.kind for d in changes.debtors} == {DebtorKind.PERSON, DebtorKind.BUSINESS}


def test_a_hanging_server_is_cut_off_and_the_next_call_succeeds(emulator, make_adapter):
    adapter = make_adapter(read_s=0.3, client_options={"max_attempts": 1})
    emulator.control.hang(1, seconds=3.0)
    key = open_ids(emulator.admin)[0]

    started = time.monotonic()
    with pytest.raises(RetriableError, match="timed out"):
        adapter.confirm_invoices([key])
    assert time.monotonic() - started < 2.0

    assert isinstance(adapter.confirm_invoices([key])[key], Invoice)


def test_a_read_that_times_out_is_retried(emulator, make_adapter, waits):
    adapter = make_adapter(read_s=0.3)
    emulator.control.hang(1, seconds=3.0)

    changes = adapter.pull_changes(None, {})

    assert len(changes.invoices) == 130
    assert len(waits) == 1


def test_a_429_storm_slows_the_pull_but_loses_no_invoice(emulator, make_adapter, waits):
    emulator.control.rate_limit_storm(3)

    changes = make_adapter().pull_changes(None, {})

    assert sorted(i.key for i in changes.invoices) == open_ids(emulator.admin)
    assert len(waits) == 3 and all(0 < w <= 2 for w in waits)


def test_server_errors_are_retried(emulator, make_adapter, waits):
    emulator.control.server_errors(2, status=502)

    assert len(make_adapter().pull_changes(None, {}).invoices) == 130
    assert len(waits) == 2


def test_a_lost_note_response_does_not_write_a_second_note(emulator, make_adapter):
    adapter = make_adapter(read_s=0.5)
    key = open_ids(emulator.admin)[0]
    emulator.control.hang_after(1, 3.0, method="POST", path_contains="/notes")
    note = Note("acme:d1:reminder:1", "d1", (key,), "Herinnering verstuurd")

    first = adapter.write_note(note)
    again = adapter.write_note(note)

    notes = emulator.admin.invoices[key]["notes"]
    assert len(notes) == 1 and marker(note.key) in notes[0]["note"]
    assert first == again == notes[0]["id"]
    assert len(emulator.control.requests_to("POST", "/notes")) == 1


def test_a_note_goes_on_every_invoice_and_pauses_them_when_taking_over(
    emulator, make_adapter
):
    adapter = make_adapter(take_over_reminders=True)
    keys = tuple(open_ids(emulator.admin)[:2])

    ids = adapter.write_note(Note("k2", "d1", keys, "Aanmaning verstuurd"))

    assert len(ids.split(",")) == 2
    for key in keys:
        assert emulator.admin.invoices[key]["paused"] is True
        assert "Aanmaning verstuurd" in emulator.admin.invoices[key]["notes"][0]["note"]


def test_a_task_is_a_todo_for_the_assignee(emulator, make_adapter):
    adapter = make_adapter(task_assignee="474244295440729940")
    key = open_ids(emulator.admin)[0]
    task = Task("k3", "d1", (key,), "Bel de klant", due_on=datetime(2026, 3, 5).date())

    adapter.create_task(task)

    (note,) = emulator.admin.invoices[key]["notes"]
    assert note["todo"] is True
    assert note["assignee_id"] == "474244295440729940"
    assert "2026-03-05" in note["note"]


def test_a_note_without_invoices_goes_on_the_contact(emulator, make_adapter):
    contact_id = next(iter(emulator.admin.contacts))

    make_adapter().write_note(Note("k4", contact_id, (), "Betalingsregeling"))

    assert len(emulator.admin.contacts[contact_id]["notes"]) == 1


def test_a_revoked_token_is_fatal_and_the_message_keeps_the_token_secret(
    emulator, make_adapter
):
    emulator.control.revoke_token()

    with pytest.raises(FatalSourceError) as caught:
        make_adapter().pull_changes(None, {})

    assert "token was refused" in str(caught.value)
    assert emulator.token not in str(caught.value)
    assert emulator.token not in repr(caught.value.__cause__)


def test_the_pdf_is_fetched_without_sending_the_token_to_storage(
    emulator, make_adapter
):
    pdf = make_adapter().download_pdf(open_ids(emulator.admin)[0])

    assert pdf.startswith(b"%PDF")
    (stored,) = [r for r in emulator.control.requests if r.path.startswith("/storage")]
    assert not stored.authorized


def test_a_full_reconcile_comes_after_the_configured_days(emulator, make_adapter):
    adapter = make_adapter(full_reconcile_days=7)
    first = adapter.pull_changes(None, {})
    known = {i.key: "v" for i in first.invoices}
    later = adapter.context.now() + timedelta(days=8)
    adapter.context = SourceContext("acme", adapter.context.secret, lambda: later, "")

    again = adapter.pull_changes(first.cursor, known)

    assert again.complete_snapshot and len(again.invoices) == 130


def test_create_reads_the_token_from_the_named_secret(emulator, context):
    options = MoneybirdOptions.model_validate(
        {
            "administration": int(emulator.admin.id),
            "token": {"secret": "MONEYBIRD_TOKEN"},
            "base_url": emulator.base_url,
        }
    )
    adapter = MoneybirdAdapter.create(options, context)
    try:
        assert len(adapter.confirm_invoices(open_ids(emulator.admin)[:1])) == 1
    finally:
        adapter.close()


def test_every_open_state_is_pulled(emulator, make_adapter):
    states = {i["state"] for i in emulator.admin.open_invoices()}
    assert states == set(OPEN_STATES)
    assert len(make_adapter().pull_changes(None, {}).invoices) == 130


def test_the_emulator_clock_is_utc(emulator):
    assert datetime.now(UTC) - emulator.admin.now() < timedelta(seconds=5)


def test_changed_invoices_and_those_that_left_are_fetched_together(
    emulator, make_adapter
):
    adapter = make_adapter()
    first = adapter.pull_changes(None, {})
    changed, paid = first.invoices[0], first.invoices[1]
    emulator.admin.add_payment(changed.key, Decimal("1.00"))
    emulator.admin.add_payment(paid.key, paid.open_amount)
    before = len(emulator.control.requests)

    second = adapter.pull_changes(first.cursor, {i.key: "v" for i in first.invoices})

    assert [i.key for i in second.invoices] == [changed.key]
    assert second.closed == {paid.key: InvoiceStatus.PAID}
    fetches = emulator.control.requests_to("POST", "synchronization")
    assert len(emulator.control.requests) - before == 2
    assert sorted(fetches[-1].body["ids"]) == sorted([changed.key, paid.key])


def test_a_note_on_an_invoice_confirmed_this_cycle_costs_one_post(
    emulator, make_adapter
):
    adapter = make_adapter()
    key = open_ids(emulator.admin)[0]
    adapter.confirm_invoices([key])
    before = len(emulator.control.requests)

    adapter.write_note(Note("k-one-post", "d", (key,), "Reminder sent."))

    new = emulator.control.requests[before:]
    assert [(r.method, r.path.endswith("/notes")) for r in new] == [("POST", True)]


def test_a_note_an_earlier_attempt_left_is_found_in_the_confirm_read(
    emulator, make_adapter
):
    key = open_ids(emulator.admin)[0]
    invoice = emulator.admin.invoices[key]
    emulator.admin.add_note(
        invoice, "SalesInvoice", f"Sent.\n{marker('k-old')}", todo=False, assignee=None
    )
    adapter = make_adapter()
    adapter.confirm_invoices([key])

    adapter.write_note(Note("k-old", "d", (key,), "Sent."))

    assert emulator.control.requests_to("POST", "/notes") == []
    assert len(invoice["notes"]) == 1
