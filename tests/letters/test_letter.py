"""Reminders and demands: amounts per invoice, totals, payment details, layout."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.law.costs import ContractTerms, business_costs
from connector.letters import (
    CreditNoteLine,
    FourteenDayNotice,
    InterestKind,
    InvoiceLine,
    LetterContent,
    LetterCosts,
    LetterError,
    LetterInterest,
    LetterKind,
    render_letter,
)
from tests.letters.helpers import CONSUMER, CREDITOR, INVOICE, pdf_pages, pdf_text

INVOICES = (
    InvoiceLine("2025-0101", date(2025, 3, 3), date(2025, 4, 2), Decimal("1210.00")),
    InvoiceLine("2025-0117", date(2025, 3, 17), date(2025, 4, 16), Decimal("484.50")),
)
CREDIT = CreditNoteLine("2025-C007", Decimal("-121.00"), date(2025, 3, 20))


def letter(kind: LetterKind, language: str = "nl", **fields: object) -> LetterContent:
    values: dict[str, object] = {
        "invoices": (INVOICE,),
        "letter_date": date(2025, 5, 13),
        "reference": "acme/K-1001/step/abc123",
        **fields,
    }
    return LetterContent(
        kind=kind,
        language=language,
        creditor=CREDITOR,
        debtor=CONSUMER,
        **values,  # type: ignore[arg-type]
    )


def fixed_costs() -> LetterCosts:
    costs = business_costs(Decimal("200.00"), ContractTerms(fixed=Decimal("40.00")))
    return LetterCosts.from_assessment(costs, "nl")


def test_a_demand_with_fixed_costs_and_no_interest_totals_240() -> None:
    text = pdf_text(render_letter(letter(LetterKind.DEMAND, costs=fixed_costs())))

    assert "Subtotaal € 200,00" in text
    assert "Buitengerechtelijke incassokosten € 40,00" in text
    assert "Totaal te betalen € 240,00" in text
    assert "Hierbij stellen wij u in gebreke." in text
    assert "het totaalbedrag van € 240,00 alsnog te betalen" in text
    assert "incassokosten in rekening van € 40,00, zoals overeengekomen" in text
    assert "rente" not in text


def test_an_english_demand_totals_240_in_english_format() -> None:
    content = letter(LetterKind.DEMAND, "en", costs=LetterCosts(Decimal("40.00")))
    text = pdf_text(render_letter(content))

    assert "Total to pay €240.00" in text
    assert "We hereby give you formal notice of default." in text
    assert "collection costs of €40.00." in text


def test_a_demand_states_the_interest_with_its_period_and_rate() -> None:
    interest = LetterInterest(
        Decimal("19.70"),
        InterestKind.COMMERCIAL,
        date(2025, 4, 3),
        date(2025, 5, 13),
        Decimal("11.15"),
    )
    content = letter(LetterKind.DEMAND, costs=fixed_costs(), interest=interest)
    text = pdf_text(render_letter(content))

    assert "Wettelijke rente € 19,70" in text
    assert "Totaal te betalen € 259,70" in text
    assert (
        "de wettelijke handelsrente (art. 6:119a BW) over de periode van 3 april "
        "2025 tot en met 13 mei 2025 tegen 11,15% per jaar verschuldigd; die "
        "bedraagt € 19,70." in text
    )


def test_each_invoice_and_credit_note_has_its_own_row_and_amount() -> None:
    content = letter(LetterKind.REMINDER, invoices=INVOICES, credit_notes=(CREDIT,))
    lines = pdf_pages(render_letter(content))[0].splitlines()

    assert "2025-0101 3 mrt 2025 2 apr 2025 € 1.210,00" in lines
    assert "2025-0117 17 mrt 2025 16 apr 2025 € 484,50" in lines
    assert "Creditnota 2025-C007 20 mrt 2025 € -121,00" in lines
    assert "Subtotaal € 1.573,50" in lines
    assert "Totaal te betalen € 1.573,50" in lines


def test_an_english_reminder_writes_amounts_and_dates_in_english() -> None:
    content = letter(
        LetterKind.REMINDER,
        "en",
        invoices=INVOICES,
        credit_notes=(CREDIT,),
        pay_by=date(2025, 5, 27),
    )
    text = pdf_text(render_letter(content))

    assert "2025-0101 Mar 3, 2025 Apr 2, 2025 €1,210.00" in text
    assert "Credit note 2025-C007 Mar 20, 2025 -€121.00" in text
    assert (
        "Please pay the outstanding amount of €1,573.50 no later than May 27, 2025."
        in text
    )
    assert "Date: May 13, 2025" in text


def test_the_letter_has_its_date_reference_and_customer_number() -> None:
    text = pdf_text(render_letter(letter(LetterKind.REMINDER)))

    assert "Datum: 13 mei 2025" in text
    assert "Ons kenmerk: acme/K-1001/step/abc123" in text
    assert "Klantnummer: K-1001" in text
    assert "Betalingsherinnering" in text


def test_the_footer_numbers_the_pages() -> None:
    many = tuple(
        InvoiceLine(f"2025-{n:04}", date(2025, 3, 1), date(2025, 3, 31), Decimal(10))
        for n in range(1, 80)
    )
    pages = pdf_pages(render_letter(letter(LetterKind.REMINDER, invoices=many)))

    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Pagina {number} van {len(pages)}" in page
    assert "Factuur Factuurdatum Vervaldatum Openstaand" in pages[1]


def test_a_pay_link_is_printed_when_it_is_a_web_address() -> None:
    content = letter(LetterKind.REMINDER, pay_url="https://pay.example/K-1001")
    text = pdf_text(render_letter(content))

    assert "U kunt ook direct online betalen: https://pay.example/K-1001" in text


def test_a_pay_link_that_is_not_a_web_address_is_left_out() -> None:
    content = letter(LetterKind.REMINDER, pay_url="javascript:alert(1)")
    text = pdf_text(render_letter(content))

    assert "javascript" not in text
    assert "online betalen" not in text


def test_the_euro_sign_is_in_the_pdf_as_text() -> None:
    data = render_letter(letter(LetterKind.REMINDER))

    assert b"/WinAnsiEncoding" in data
    assert "€ 200,00" in pdf_text(data)


def test_the_same_content_gives_the_same_bytes() -> None:
    content = letter(LetterKind.DEMAND, costs=fixed_costs())

    assert render_letter(content) == render_letter(content)


def test_a_total_that_is_not_the_sum_of_the_lines_is_refused() -> None:
    with pytest.raises(LetterError, match="not the sum"):
        letter(LetterKind.DEMAND, costs=fixed_costs(), total=Decimal("200.00"))


def test_a_given_total_that_matches_is_accepted() -> None:
    content = letter(LetterKind.DEMAND, costs=fixed_costs(), total=Decimal("240.00"))

    assert content.amount_due == Decimal("240.00")


def test_a_credit_note_with_a_positive_amount_is_refused() -> None:
    credit = CreditNoteLine("C1", Decimal("10.00"))
    with pytest.raises(LetterError, match="negative"):
        letter(LetterKind.REMINDER, credit_notes=(credit,))


def test_credit_notes_that_cover_everything_leave_no_letter() -> None:
    credit = CreditNoteLine("C1", Decimal("-200.00"))
    with pytest.raises(LetterError, match="nothing is owed"):
        letter(LetterKind.REMINDER, credit_notes=(credit,))


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(LetterError, match="language"):
        letter(LetterKind.REMINDER, "de")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(LetterError, match="kind"):
        letter("summons")  # type: ignore[arg-type]


def test_only_a_14_day_letter_has_a_term() -> None:
    notice = FourteenDayNotice(date(2025, 6, 3), LetterCosts(Decimal("40.00")))
    with pytest.raises(LetterError, match="only a 14-day letter"):
        letter(LetterKind.DEMAND, fourteen_day=notice)
