"""Sent letters kept as documents with their PDF, against the emulator over HTTP."""

from __future__ import annotations

import uuid

import pytest

from adapters.base import Note
from adapters.exact.adapter import LETTER_DOCUMENT_TYPE
from connector.errors import FatalSourceError

DIVISION, OTHER = 1234567, 7654321
PDF = b"%PDF-1.7\n\x00\xff\xfe binary body\n%%EOF\n"
NAME = "aanmaning-2026-03-02.pdf"


@pytest.fixture
def keeping(world):
    """An adapter that keeps letters, and the first open invoice it pulled."""
    adapter = world.adapter(letter_documents=True)
    return adapter, adapter.pull_changes(None, {}).invoices[0]


def requests_to(state, resource):
    return [(r.method, r.path) for r in state.requests if r.path.endswith(resource)]


def test_a_letter_arrives_on_the_account_with_its_file_name_and_bytes(world, keeping):
    adapter, invoice = keeping

    document_id = adapter.store_document(
        "act-1", invoice.debtor_key, (invoice.key,), NAME, PDF
    )

    division = world.state.divisions[DIVISION]
    (document,) = division.documents.values()
    assert document["ID"] == document_id
    assert document["Account"] == invoice.debtor_key
    assert document["Type"] == LETTER_DOCUMENT_TYPE
    assert "[dunning:act-1]" in document["Subject"]
    assert invoice.number in document["Subject"]
    (attachment,) = division.attachments_of(document_id)
    assert attachment["FileName"] == NAME
    assert attachment["_content"] == PDF
    assert attachment["FileSize"] == len(PDF)


def test_a_second_call_with_the_same_key_creates_nothing_new(world, keeping):
    adapter, invoice = keeping
    store = adapter.store_document

    first = store("act-2", invoice.debtor_key, (invoice.key,), NAME, PDF)
    again = store("act-2", invoice.debtor_key, (invoice.key,), NAME, PDF)

    assert first == again
    division = world.state.divisions[DIVISION]
    assert len(division.documents) == 1
    assert len(division.attachments) == 1
    posts = [
        path
        for method, path in requests_to(world.state, "")
        if method == "POST" and "/documents/" in path
    ]
    assert len(posts) == 2


def test_a_document_left_without_its_file_gets_it_on_the_next_call(
    world, keeping, monkeypatch
):
    adapter, invoice = keeping
    attach = adapter.resources.create_attachment

    def crash(body):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(adapter.resources, "create_attachment", crash)
    with pytest.raises(RuntimeError):
        adapter.store_document("act-3", invoice.debtor_key, (), NAME, PDF)
    monkeypatch.setattr(adapter.resources, "create_attachment", attach)

    document_id = adapter.store_document("act-3", invoice.debtor_key, (), NAME, PDF)

    (document,) = world.state.divisions[DIVISION].documents.values()
    assert document["ID"] == document_id
    (attachment,) = world.state.divisions[DIVISION].attachments_of(document_id)
    assert attachment["_content"] == PDF


def test_an_attachment_whose_answer_was_lost_is_looked_up_before_sending_again(
    world, keeping, monkeypatch
):
    adapter, invoice = keeping
    adapter.resources.client.timeout = (1, 0.3)
    attach = adapter.resources.create_attachment

    def lose_the_answer(body):
        world.state.faults.hang_after_next, world.state.faults.hang_s = 1, 10
        return attach(body)

    monkeypatch.setattr(adapter.resources, "create_attachment", lose_the_answer)

    document_id = adapter.store_document("act-4", invoice.debtor_key, (), NAME, PDF)

    assert len(world.state.divisions[DIVISION].attachments_of(document_id)) == 1
    methods = [m for m, _ in requests_to(world.state, "documents/DocumentAttachments")]
    assert methods == ["GET", "POST", "GET"]


def test_a_notes_document_with_the_same_key_is_not_taken_for_the_letter(world):
    adapter = world.adapter(letter_documents=True, note_documents=True)
    invoice = adapter.pull_changes(None, {}).invoices[0]
    note = Note("act-5", invoice.debtor_key, (invoice.key,), "Letter sent")
    adapter.write_note(note)

    document_id = adapter.store_document("act-5", invoice.debtor_key, (), NAME, PDF)

    division = world.state.divisions[DIVISION]
    assert len(division.documents) == 2
    assert [a["Document"] for a in division.attachments.values()] == [document_id]


def test_with_the_option_off_nothing_is_written_and_nothing_returned(world):
    adapter = world.adapter()
    invoice = adapter.pull_changes(None, {}).invoices[0]
    before = len(world.state.requests)

    stored = adapter.store_document("act-6", invoice.debtor_key, (), NAME, PDF)

    assert stored == ""
    assert len(world.state.requests) == before
    assert not world.state.divisions[DIVISION].documents


def test_every_document_request_names_the_division_from_the_options(world, keeping):
    world.state.current_division = OTHER
    adapter, invoice = keeping

    adapter.store_document("act-7", invoice.debtor_key, (invoice.key,), NAME, PDF)
    adapter.store_document("act-7", invoice.debtor_key, (invoice.key,), NAME, PDF)

    calls = [c for c in requests_to(world.state, "") if "/documents/" in c[1]]
    assert {method for method, _ in calls} == {"GET", "POST"}
    assert all(path.startswith(f"/api/v1/{DIVISION}/") for _, path in calls)
    assert not world.state.divisions[OTHER].documents
    assert not world.state.divisions[OTHER].attachments


def test_the_emulator_refuses_a_file_for_a_document_it_does_not_know(keeping):
    adapter, _ = keeping
    body = {"Document": str(uuid.uuid4()), "FileName": NAME, "Attachment": "JVBE"}

    with pytest.raises(FatalSourceError, match="400"):
        adapter.resources.create_attachment(body)
