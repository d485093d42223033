"""Builders for letter content and a reader for the text of a PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from pypdf import PdfReader

from connector.law.costs import assess_statutory_costs
from connector.law.fourteen_day import Delivery, fourteen_day_term
from connector.letters import (
    CreditorDetails,
    DebtorDetails,
    FourteenDayNotice,
    InvoiceLine,
    LetterContent,
    LetterCosts,
)

CREDITOR = CreditorDetails(
    name="Acme B.V.",
    address_lines=("Keizersgracht 1", "1015 AA Amsterdam"),
    email="debiteuren@acme.example",
    phone="020 123 4567",
    iban="NL91ABNA0417164300",
    coc_number="12345678",
)
CONSUMER = DebtorDetails(
    name="Jan de Vries",
    address_lines=("Dorpsstraat 2",),
    postcode="1234 AB",
    city="Utrecht",
    customer_number="K-1001",
)
INVOICE = InvoiceLine(
    "2025-0042", date(2025, 4, 1), date(2025, 4, 15), Decimal("200.00")
)


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF, as pypdf extracts it."""
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    """The text of a whole PDF with every run of whitespace one space."""
    return " ".join(" ".join(pdf_pages(data)).split())


def fourteen_day_letter(
    language: str, sent_on: date = date(2025, 5, 20), **changes: Any
) -> LetterContent:
    """A 14-day letter for 200.00 to a consumer, e-mailed on `sent_on`."""
    delivery = changes.pop("delivery", Delivery.EMAIL)
    term = fourteen_day_term(sent_on, delivery)
    vat_rate = changes.pop("vat_rate", None)
    costs = assess_statutory_costs(INVOICE.open_amount, vat_rate=vat_rate)
    content = LetterContent(
        kind="fourteen_day",  # type: ignore[arg-type]
        language=language,
        creditor=CREDITOR,
        debtor=CONSUMER,
        letter_date=sent_on,
        reference="acme/K-1001/fourteen-day-letter/51c7e2",
        invoices=(INVOICE,),
        fourteen_day=FourteenDayNotice.from_term(
            term, LetterCosts.from_assessment(costs, language)
        ),
    )
    return replace(content, **changes) if changes else content
