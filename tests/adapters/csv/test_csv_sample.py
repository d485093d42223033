"""The sample open-items file, its generator and the date shift for the demo."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from adapters.csv.mapping import decode_text, read_open_items
from adapters.csv.sample import generate_sample, main, shift_dates
from connector.domain import DebtorKind

ANCHOR = date(2026, 12, 1)
SAMPLE = Path(__file__).parents[3] / "config" / "sample" / "open_items.csv"


def sample_items():
    return read_open_items(decode_text(SAMPLE.read_bytes()))


def test_the_sample_file_is_what_the_generator_writes_for_the_anchor():
    assert SAMPLE.read_text(encoding="utf-8") == generate_sample(ANCHOR)


def test_the_sample_parses_without_skipped_rows():
    assert sample_items().skipped == ()


def test_the_sample_has_sixty_debtors_of_both_kinds_and_languages():
    debtors = sample_items().debtors

    assert len(debtors) == 60
    assert {debtor.kind for debtor in debtors} == set(DebtorKind)
    assert {debtor.language for debtor in debtors} == {"nl", "en", None}
    assert {debtor.address.country for debtor in debtors} == {"NL", "BE", "GB"}
    assert {tag for debtor in debtors for tag in debtor.tags} == {
        "key-account",
        "no-dunning",
    }
    assert all(e.endswith(".example") for d in debtors for e in d.emails)


def test_the_sample_has_two_hundred_invoices_with_credit_notes_and_part_payments():
    invoices = sample_items().invoices

    assert len(invoices) == 200
    assert sum(invoice.is_credit_note for invoice in invoices) == 8
    partly_paid = [i for i in invoices if 0 < abs(i.open_amount) < abs(i.total)]
    assert len(partly_paid) == 30
    assert [i.currency for i in invoices if i.currency != "EUR"] == ["USD"]


def test_the_sample_amounts_run_from_15_to_25000():
    totals = [abs(invoice.total) for invoice in sample_items().invoices]

    assert min(totals) == Decimal("15.00")
    assert max(totals) == Decimal("25000.00")


def test_the_sample_has_an_invoice_of_1210_with_710_open():
    invoices = sample_items().invoices

    matches = [i for i in invoices if (i.total, i.open_amount) == (1210, 710)]
    assert len(matches) == 1


def test_the_sample_due_dates_run_from_120_days_before_to_30_after_the_anchor():
    due = [invoice.due_date for invoice in sample_items().invoices]

    assert min(due) >= ANCHOR - timedelta(days=120)
    assert max(due) <= ANCHOR + timedelta(days=30)
    assert sum(day < ANCHOR for day in due) > sum(day >= ANCHOR for day in due)


def test_the_generator_gives_the_same_text_for_the_same_seed_only():
    assert generate_sample(ANCHOR, seed=3) == generate_sample(ANCHOR, seed=3)
    assert generate_sample(ANCHOR, seed=3) != generate_sample(ANCHOR, seed=4)


def test_shift_dates_moves_every_date_by_the_given_days():
    before = read_open_items(SAMPLE.read_text(encoding="utf-8")).invoices

    shifted = shift_dates(SAMPLE.read_text(encoding="utf-8"), 45)

    after = read_open_items(shifted).invoices
    assert [i.key for i in after] == [i.key for i in before]
    for old, new in zip(before, after, strict=True):
        assert new.issue_date == old.issue_date + timedelta(days=45)
        assert new.due_date == old.due_date + timedelta(days=45)
        assert (new.total, new.open_amount) == (old.total, old.open_amount)


def test_shift_dates_leaves_everything_but_the_dates_alone():
    text = (
        "\ufeffinvoice_id;issue_date;due_date;address\r\n"
        '7;2026-12-01;31-12-2026;"Molenweg 1\nBus 2"\r\n'
        "8;;2027-01-01;Kade 3\r\n"
    )

    shifted = shift_dates(text, -1)

    assert shifted == (
        "\ufeffinvoice_id;issue_date;due_date;address\r\n"
        '7;2026-11-30;2026-12-30;"Molenweg 1\nBus 2"\r\n'
        "8;;2026-12-31;Kade 3\r\n"
    )


def test_the_command_writes_the_sample_to_standard_output(capsys):
    main(["--anchor", "2026-12-01"])

    written = capsys.readouterr().out
    assert written == generate_sample(ANCHOR)
    header = next(csv.reader(io.StringIO(written)))
    assert header[:3] == ["invoice_id", "invoice_number", "debtor_id"]
