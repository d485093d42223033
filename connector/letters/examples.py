"""Write one letter of each kind and a dossier, in Dutch, to docs/examples.

    python -m connector.letters.examples [OUT_DIR]

The amounts come from `connector.law`, as they will in production: the costs
from the statutory scale, the interest from the rate table, the 14-day term
from the receipt rules. The output is the same bytes on every run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from connector.law.costs import assess_statutory_costs
from connector.law.fourteen_day import Delivery, fourteen_day_term
from connector.law.interest import BalanceChange, commercial_interest
from connector.letters.content import (
    CreditNoteLine,
    CreditorDetails,
    DebtorDetails,
    FourteenDayNotice,
    InvoiceLine,
    LetterContent,
    LetterCosts,
    LetterInterest,
    LetterKind,
)
from connector.letters.dossier import (
    Dossier,
    FourteenDayProof,
    LedgerEntry,
    SentLetter,
    build_dossier,
    dossier_json,
    dossier_pdf,
)
from connector.letters.letter import render_letter

DEFAULT_OUT = Path("docs/examples")

CREDITOR = CreditorDetails(
    name="Acme Installatietechniek B.V.",
    address_lines=("Keizersgracht 100", "1015 AA Amsterdam"),
    email="debiteuren@acme.example",
    phone="020 123 45 67",
    iban="NL91 ABNA 0417 1643 00",
    bic="ABNANL2A",
    coc_number="12345678",
    vat_number="NL001234567B01",
)

CONSUMER = DebtorDetails(
    name="Mevrouw J. de Vries",
    address_lines=("Dorpsstraat 12",),
    postcode="3511 AB",
    city="Utrecht",
    customer_number="K-1001",
    email="j.devries@example.nl",
    kind="person",
)

BUSINESS = DebtorDetails(
    name="Bouwbedrijf Van Dijk B.V.",
    contact_person="P. van Dijk",
    address_lines=("Industrieweg 7",),
    postcode="2000 AB",
    city="Antwerpen",
    country="BE",
    customer_number="K-2040",
    email="administratie@vandijk.example",
    kind="business",
)

CONSUMER_INVOICE = InvoiceLine(
    "2025-0042", date(2025, 4, 1), date(2025, 4, 15), Decimal("200.00")
)
BUSINESS_INVOICES = (
    InvoiceLine("2025-0101", date(2025, 3, 3), date(2025, 4, 2), Decimal("1210.00")),
    InvoiceLine("2025-0117", date(2025, 3, 17), date(2025, 4, 16), Decimal("484.00")),
)
BUSINESS_CREDIT = CreditNoteLine("2025-C007", Decimal("-121.00"), date(2025, 3, 20))


def reminder() -> LetterContent:
    """A first reminder to a business: two invoices and a credit note."""
    return LetterContent(
        kind=LetterKind.REMINDER,
        language="nl",
        creditor=CREDITOR,
        debtor=BUSINESS,
        letter_date=date(2025, 4, 22),
        reference="acme/K-2040/reminder/3f9a1c",
        invoices=BUSINESS_INVOICES,
        credit_notes=(BUSINESS_CREDIT,),
        pay_by=date(2025, 5, 6),
        pay_url="https://pay.acme.example/K-2040",
    )


def demand() -> LetterContent:
    """A formal notice to the same business, with costs and commercial interest."""
    principal = sum((i.open_amount for i in BUSINESS_INVOICES), BUSINESS_CREDIT.amount)
    costs = LetterCosts.from_assessment(assess_statutory_costs(principal), "nl")
    changes = [BalanceChange(date(2025, 4, 3), principal)]
    interest = commercial_interest(
        changes, due_date=date(2025, 4, 2), until=date(2025, 5, 13)
    )
    return LetterContent(
        kind=LetterKind.DEMAND,
        language="nl",
        creditor=CREDITOR,
        debtor=BUSINESS,
        letter_date=date(2025, 5, 13),
        reference="acme/K-2040/demand/8b21d0",
        invoices=BUSINESS_INVOICES,
        credit_notes=(BUSINESS_CREDIT,),
        costs=costs,
        interest=LetterInterest.from_result(interest),
        pay_by=date(2025, 5, 27),
    )


def fourteen_day() -> LetterContent:
    """The 14-day letter to a consumer, e-mailed and accepted on 20 May 2025."""
    term = fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL)
    costs = LetterCosts.from_assessment(
        assess_statutory_costs(CONSUMER_INVOICE.open_amount), "nl"
    )
    return LetterContent(
        kind=LetterKind.FOURTEEN_DAY,
        language="nl",
        creditor=CREDITOR,
        debtor=CONSUMER,
        letter_date=date(2025, 5, 20),
        reference="acme/K-1001/fourteen-day-letter/51c7e2",
        invoices=(CONSUMER_INVOICE,),
        fourteen_day=FourteenDayNotice.from_term(term, costs),
        pay_url="https://pay.acme.example/K-1001",
    )


def dossier() -> Dossier:
    """The handover dossier of the consumer after the 14-day letter expired."""
    term = fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL)
    costs = LetterCosts.from_assessment(
        assess_statutory_costs(CONSUMER_INVOICE.open_amount), "nl"
    )
    sent_at = datetime(2025, 5, 20, 7, 30, 12, tzinfo=UTC)
    accepted_at = datetime(2025, 5, 20, 7, 30, 14, tzinfo=UTC)
    email = CONSUMER.email
    return build_dossier(
        reference="acme/K-1001/handover/0d4e99",
        prepared_on=date(2025, 6, 5),
        creditor=CREDITOR,
        debtor=CONSUMER,
        invoices=(CONSUMER_INVOICE,),
        costs=costs,
        actions=(
            _entry("reminder", "email", datetime(2025, 4, 18, 7, 0, tzinfo=UTC)),
            _entry("call", "task", datetime(2025, 4, 23, 7, 0, tzinfo=UTC), ""),
            _entry("fourteen-day-letter", "email", sent_at),
        ),
        letters=(
            SentLetter(
                LetterKind.FOURTEEN_DAY,
                date(2025, 5, 20),
                "fourteen-day-nl.pdf",
                "acme/K-1001/fourteen-day-letter/51c7e2",
                Delivery.EMAIL,
            ),
        ),
        fourteen_day=FourteenDayProof.from_term(
            term,
            sent_at=sent_at,
            accepted_at=accepted_at,
            address=email,
            costs_if_unpaid=costs.total,
            message_id="<acme.K-1001.fourteen-day-letter.51c7e2@acme.example>",
            file_name="fourteen-day-nl.pdf",
        ),
    )


def _entry(
    step: str, channel: str, at: datetime, to: str = CONSUMER.email
) -> LedgerEntry:
    return LedgerEntry(
        key=f"acme/K-1001/{step}",
        step=step,
        channel=channel,
        state="done",
        taken_at=at,
        recipient=to,
        invoice_numbers=(CONSUMER_INVOICE.number,),
    )


def write_examples(out_dir: Path) -> list[Path]:
    """Write the example PDFs and the dossier JSON; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "reminder-nl.pdf": render_letter(reminder()),
        "demand-nl.pdf": render_letter(demand()),
        "fourteen-day-nl.pdf": render_letter(fourteen_day()),
        "dossier-nl.pdf": dossier_pdf(dossier()),
        "dossier-nl.json": dossier_json(dossier()).encode("utf-8"),
    }
    written = []
    for name, data in files.items():
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Write the examples to the directory given, or to docs/examples."""
    args = list(sys.argv[1:] if argv is None else argv)
    out_dir = Path(args[0]) if args else DEFAULT_OUT
    for path in write_examples(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
