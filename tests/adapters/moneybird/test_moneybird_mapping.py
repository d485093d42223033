"""Moneybird JSON to domain objects, from the samples in the API's own spec."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from adapters.moneybird.mapping import debtor_from, emails, invoice_from, status_of
from connector.domain import DebtorKind, InvoiceStatus
from connector.errors import RecordError
from tests.reference import reference_dir

SAMPLES = reference_dir() / "moneybird" / "samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="samples not present")


def test_an_open_invoice_maps_amounts_dates_and_links():
    invoice = invoice_from(sample("sales_invoice_open.json"))

    assert invoice.key == "474244267742594986"
    assert invoice.debtor_key == "474244267701700516"
    assert invoice.number == "2025-0001"
    assert invoice.issue_date == date(2025, 12, 23)
    assert invoice.due_date == date(2026, 1, 6)
    assert (invoice.total, invoice.open_amount) == (Decimal("363.0"), Decimal("363.0"))
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.pay_url.startswith("http://moneybird.dev/123/external/")
    assert not invoice.paused_at_source


def test_a_paused_invoice_says_so():
    assert invoice_from(sample("sales_invoice_paused.json")).paused_at_source


def test_a_paid_credit_invoice_is_negative_with_its_payment():
    invoice = invoice_from(sample("sales_invoice_credit_invoice_paid.json"))

    assert invoice.is_credit_note and invoice.status is InvoiceStatus.PAID
    assert invoice.payments[0].amount == Decimal("-363.0")


def test_an_uncollectible_invoice_is_uncollectible():
    assert (
        status_of(sample("sales_invoice_uncollectible.json"))
        is InvoiceStatus.UNCOLLECTIBLE
    )


def test_a_paid_invoice_settled_by_a_credit_invoice_is_credited():
    record = sample("sales_invoice_open.json")
    record.update(state="paid", total_unpaid="0.0")
    record["payments"] = [{"id": "1", "price": "363.0", "payment_date": "2026-01-02",
                           "credit_invoice_id": "77"}]  # fmt: skip

    assert status_of(record) is InvoiceStatus.CREDITED


def test_a_draft_is_refused_with_a_reason():
    with pytest.raises(RecordError, match="draft"):
        invoice_from(sample("sales_invoice_draft_created.json"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"due_date": None}, "due_date is missing"),
        ({"due_date": "morgen"}, "not a date"),
        ({"currency": "euro"}, "unknown currency"),
        ({"total_unpaid": "veel"}, "not an amount"),
        ({"total_unpaid": "500.0"}, "does not fit"),
        ({"state": "weird"}, "unknown invoice state"),
    ],
)
def test_an_invoice_that_makes_no_sense_is_refused(change, reason):
    record = sample("sales_invoice_open.json") | change

    with pytest.raises(RecordError, match=reason):
        invoice_from(record)


def test_unknown_fields_are_ignored():
    record = sample("sales_invoice_open.json") | {"direct_debit": True, "new": {}}

    assert invoice_from(record).key == "474244267742594986"


def test_a_contact_with_a_company_name_is_a_business():
    debtor = debtor_from(sample("contact.json"), language="nl")

    assert debtor.kind is DebtorKind.BUSINESS
    assert debtor.name == "Foobar Holding B.V."
    assert debtor.emails == ("info@example.com",)
    assert debtor.customer_number == "1"
    assert debtor.language == "nl"
    assert debtor.address.lines == ("Hoofdstraat 12",)
    assert (debtor.address.postcode, debtor.address.city) == ("1234 AB", "Amsterdam")


@pytest.mark.parametrize("empty", ["", None, "   "])
def test_a_contact_without_company_name_is_a_person(empty):
    contact = sample("contact.json") | {"company_name": empty, "firstname": "Jan"}

    debtor = debtor_from(contact)
    assert (debtor.kind, debtor.name) == (DebtorKind.PERSON, "Jan Appleseed")


def test_the_invoice_address_comes_before_the_general_email():
    contact = sample("contact.json") | {
        "email": "info@example.com",
        "send_invoices_to_email": "facturen@example.com; boekhouding@example.com",
    }

    assert debtor_from(contact).emails == (
        "facturen@example.com",
        "boekhouding@example.com",
    )


@pytest.mark.parametrize("empty", ["", None])
def test_the_general_email_is_used_when_no_invoice_email_is_set(empty):
    contact = sample("contact.json") | {"send_invoices_to_email": empty}

    assert debtor_from(contact).emails == ("info@example.com",)


def test_several_addresses_in_one_field_are_split():
    assert emails("a@x.nl, b@x.nl;c@x.nl  a@x.nl") == ("a@x.nl", "b@x.nl", "c@x.nl")


def test_a_contact_without_any_name_is_refused():
    contact = sample("contact.json") | {
        "company_name": "",
        "firstname": None,
        "lastname": "",
    }

    with pytest.raises(RecordError, match="no name"):
        debtor_from(contact)
