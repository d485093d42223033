"""The CSV source: pulling the file as a snapshot and confirming invoices."""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.base import Adapter, SourceContext, load_adapter
from adapters.csv.adapter import CsvAdapter, CsvOptions
from connector.domain import InvoiceStatus
from connector.errors import FatalSourceError

HEADER = (
    "invoice_id;debtor_id;debtor_name;debtor_kind;email;issue_date;due_date;"
    "currency;total;open_amount\n"
)
ROW_A = "A1;D1;Jan Jansen;person;jan@mail.example;2026-11-01;2026-11-15;EUR;"
ROW_B = "B1;D2;Slagerij Bos;business;;2026-10-01;2026-10-31;EUR;"


def context() -> SourceContext:
    return SourceContext(
        name="sample",
        secret=lambda name: "",
        now=lambda: datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        state_dir="/nonexistent",
    )


def write(path: Path, *rows: str) -> bytes:
    data = (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")
    path.write_bytes(data)
    return data


def adapter_for(path: Path, **options: str) -> CsvAdapter:
    return CsvAdapter.create(CsvOptions(path=str(path), **options), context())


def test_a_pull_returns_the_whole_file_as_a_complete_snapshot(tmp_path):
    path = tmp_path / "open_items.csv"
    data = write(path, ROW_A + "121,00;121,00", ROW_B + "1.815,00;815,00")

    changes = adapter_for(path).pull_changes(None, {})

    assert changes.complete_snapshot
    assert changes.cursor == hashlib.sha256(data).hexdigest()
    assert [debtor.key for debtor in changes.debtors] == ["D1", "D2"]
    amounts = [(i.key, i.total, i.open_amount) for i in changes.invoices]
    assert amounts == [
        ("A1", Decimal("121.00"), Decimal("121.00")),
        ("B1", Decimal("1815.00"), Decimal("815.00")),
    ]
    assert changes.skipped == ()


def test_a_pull_with_the_current_cursor_returns_the_same_snapshot(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_A + "121,00;121,00")
    adapter = adapter_for(path)
    first = adapter.pull_changes(None, {})

    again = adapter.pull_changes(first.cursor, {"A1": "v"})

    assert again == first


def test_the_cursor_changes_when_the_file_changes(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_A + "121,00;121,00")
    adapter = adapter_for(path)
    before = adapter.pull_changes(None, {}).cursor

    write(path, ROW_A + "121,00;21,00")

    assert adapter.pull_changes(before, {}).cursor != before


def test_broken_rows_arrive_as_skipped_and_never_raise(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_A + "121,00;121,00", ROW_B + "12,00;veel")

    changes = adapter_for(path).pull_changes(None, {})

    assert [invoice.key for invoice in changes.invoices] == ["A1"]
    assert changes.skipped == (("B1", "line 3: open_amount 'veel' is not an amount"),)


def test_a_missing_file_is_a_fatal_error_naming_the_path(tmp_path):
    path = tmp_path / "gone.csv"

    with pytest.raises(FatalSourceError) as caught:
        adapter_for(path).pull_changes(None, {})

    assert str(caught.value) == f"{path}: open-items file not found"


def test_a_header_without_required_columns_is_a_fatal_error_naming_them(tmp_path):
    path = tmp_path / "open_items.csv"
    path.write_text("invoice_id;debtor_id;debtor_name;total\nA1;D1;Jan;5\n")

    with pytest.raises(FatalSourceError) as caught:
        adapter_for(path).pull_changes(None, {})

    assert str(caught.value) == (
        f"{path}: missing required columns: currency, due_date, issue_date, open_amount"
    )


def test_the_delimiter_option_is_used_instead_of_detection(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_A + "121,00;121,00")

    with pytest.raises(FatalSourceError, match="missing required columns"):
        adapter_for(path, delimiter=",").pull_changes(None, {})


def test_confirm_maps_an_invoice_dropped_from_the_export_to_paid(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_A + "121,00;121,00", ROW_B + "1.815,00;815,00")
    adapter = adapter_for(path)
    adapter.pull_changes(None, {})

    write(path, ROW_B + "1.815,00;815,00")

    assert adapter.confirm_invoices(["A1"]) == {"A1": InvoiceStatus.PAID}


def test_confirm_maps_a_changed_invoice_to_its_new_open_amount(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_B + "1.815,00;815,00")
    adapter = adapter_for(path)

    write(path, ROW_B + "1.815,00;315,00")
    confirmed = adapter.confirm_invoices(["B1"])

    invoice = confirmed["B1"]
    assert not isinstance(invoice, InvoiceStatus)
    assert invoice.open_amount == Decimal("315.00")
    assert invoice.status is InvoiceStatus.OPEN


def test_confirm_maps_a_row_with_nothing_open_to_paid(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_B + "1.815,00;0,00")

    confirmed = adapter_for(path).confirm_invoices(["B1"])

    assert confirmed == {"B1": InvoiceStatus.PAID}


def test_confirm_leaves_out_a_key_whose_row_is_broken_now(tmp_path):
    path = tmp_path / "open_items.csv"
    write(path, ROW_A + "121,00;121,00", ROW_B + "1.815,00;veel")

    confirmed = adapter_for(path).confirm_invoices(["A1", "B1"])

    assert list(confirmed) == ["A1"]


def test_the_journal_defaults_to_a_file_beside_the_export(tmp_path):
    adapter = adapter_for(tmp_path / "open_items.csv")

    assert adapter.journal.path == tmp_path / "open_items.journal.csv"


def test_options_refuse_unknown_keys_and_long_delimiters():
    with pytest.raises(ValidationError):
        CsvOptions.model_validate({"path": "x.csv", "sheet": "1"})
    with pytest.raises(ValidationError):
        CsvOptions(path="x.csv", delimiter=";;")


def test_the_adapter_is_registered_and_meets_the_protocol(tmp_path):
    factory = load_adapter("csv")

    adapter = factory.create(CsvOptions(path=str(tmp_path / "a.csv")), context())

    assert factory is CsvAdapter
    assert factory.Options is CsvOptions
    assert isinstance(adapter, Adapter)
    adapter.close()
