"""Notes and tasks written to the journal CSV: one row per key."""

import csv
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.base import Note, SourceContext, Task
from adapters.csv.adapter import CsvAdapter, CsvOptions
from connector.errors import FatalSourceError

HEADER = "written_at,kind,key,debtor_id,invoice_ids,assignee,due_on,text"


def adapter_for(tmp_path: Path) -> CsvAdapter:
    context = SourceContext(
        name="sample",
        secret=lambda name: "",
        now=lambda: datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        state_dir=str(tmp_path),
    )
    options = CsvOptions(path=str(tmp_path / "open_items.csv"))
    return CsvAdapter.create(options, context)


def journal_rows(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "open_items.journal.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def note(key: str = "acme:D1:reminder", text: str = "Reminder sent") -> Note:
    return Note(key=key, debtor_key="D1", invoice_keys=("A1", "A2"), text=text)


def test_a_note_is_a_journal_row_under_the_header(tmp_path):
    note_id = adapter_for(tmp_path).write_note(note())

    assert note_id == "journal:2"
    assert journal_rows(tmp_path) == [
        HEADER.split(","),
        [
            "2026-12-01T09:30:00+00:00",
            "note",
            "acme:D1:reminder",
            "D1",
            "A1;A2",
            "",
            "",
            "Reminder sent",
        ],
    ]


def test_a_task_keeps_its_assignee_and_due_date(tmp_path):
    task = Task(
        key="acme:D1:call",
        debtor_key="D1",
        invoice_keys=("A1",),
        text="Call Jan Jansen",
        assignee="petra",
        due_on=date(2026, 12, 3),
    )

    task_id = adapter_for(tmp_path).create_task(task)

    assert task_id == "journal:2"
    row = journal_rows(tmp_path)[1]
    assert row[1:] == [
        "task",
        "acme:D1:call",
        "D1",
        "A1",
        "petra",
        "2026-12-03",
        row[7],
    ]
    assert row[7] == "Call Jan Jansen"


def test_writing_the_same_key_twice_leaves_one_row_and_one_id(tmp_path):
    adapter = adapter_for(tmp_path)

    first = adapter.write_note(note())
    second = adapter.write_note(note(text="Reminder sent again"))

    assert first == second == "journal:2"
    assert len(journal_rows(tmp_path)) == 2


def test_a_key_written_by_an_earlier_run_is_found_by_a_new_adapter(tmp_path):
    adapter_for(tmp_path).write_note(note())

    again = adapter_for(tmp_path).write_note(note())

    assert again == "journal:2"
    assert len(journal_rows(tmp_path)) == 2


def test_multiline_text_round_trips_and_ids_count_rows_not_lines(tmp_path):
    adapter = adapter_for(tmp_path)
    text = 'Line one\nLine "two", with a comma\r\nLine three'

    adapter.write_note(note(key="k1", text=text))
    second = adapter.write_note(note(key="k2"))

    assert second == "journal:3"
    assert journal_rows(tmp_path)[1][7] == text
    assert adapter.write_note(note(key="k1")) == "journal:2"


@pytest.mark.parametrize(
    "torn",
    [
        b"2026-12-01T09:31:00+00:00,note,k2,D1,A1,,,half",
        b'2026-12-01T09:31:00+00:00,note,k2,D1,A1,,,"half a',
        b'2026-12-01T09:31:00+00:00,note,k2,D1,A1,,,"first line\n',
    ],
)
def test_a_row_torn_by_a_crash_is_replaced_by_the_next_write(tmp_path, torn):
    adapter = adapter_for(tmp_path)
    adapter.write_note(note(key="k1"))
    path = tmp_path / "open_items.journal.csv"
    with path.open("ab") as handle:
        handle.write(torn)

    note_id = adapter.write_note(note(key="k2", text="whole"))

    assert note_id == "journal:3"
    rows = journal_rows(tmp_path)
    assert [row[2] for row in rows[1:]] == ["k1", "k2"]
    assert rows[2][7] == "whole"


def test_a_file_with_other_columns_is_not_taken_for_a_journal(tmp_path):
    path = tmp_path / "open_items.journal.csv"
    path.write_text("date,remark\r\n2026-12-01,hello\r\n")

    with pytest.raises(FatalSourceError, match="not a journal"):
        adapter_for(tmp_path).write_note(note())


def test_concurrent_writes_of_one_key_leave_one_row(tmp_path):
    adapters = [adapter_for(tmp_path) for _ in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda adapter: adapter.write_note(note()), adapters))

    assert ids == {"journal:2"}
    assert len(journal_rows(tmp_path)) == 2
