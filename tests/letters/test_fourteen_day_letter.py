"""The 14-day letter says what art. 6:96 lid 6 BW requires, in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from connector.law.fourteen_day import Delivery, fourteen_day_term
from connector.letters import (
    FourteenDayNotice,
    LetterCosts,
    LetterError,
    letter_subject,
    render_letter,
)
from tests.letters.helpers import INVOICE, fourteen_day_letter, pdf_text


def test_the_term_of_an_email_accepted_on_20_may_ends_on_3_june() -> None:
    term = fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL)
    assert term.last_day == date(2025, 6, 3)


def test_a_dutch_letter_states_principal_costs_term_and_last_day() -> None:
    text = pdf_text(render_letter(fourteen_day_letter("nl")))

    assert "(de hoofdsom) is € 200,00." in text
    assert (
        "binnen veertien dagen, te rekenen vanaf de dag nadat u deze brief heeft "
        "ontvangen." in text
    )
    assert "De laatste dag om te betalen is dan dinsdag 3 juni 2025." in text
    assert (
        "Betaalt u het volledige bedrag uiterlijk op die dag, dan brengen wij "
        "geen incassokosten in rekening." in text
    )
    assert "buitengerechtelijke incassokosten verschuldigd van € 40,00" in text
    assert "IBAN NL91ABNA0417164300 ten name van Acme B.V." in text


def test_an_english_letter_states_principal_costs_term_and_last_day() -> None:
    text = pdf_text(render_letter(fourteen_day_letter("en")))

    assert "(the principal) is €200.00." in text
    assert (
        "within fourteen days, counting from the day after you received this "
        "letter." in text
    )
    assert "The last day to pay is then Tuesday, June 3, 2025." in text
    assert "we will not charge any collection costs." in text
    assert "extrajudicial collection costs of €40.00" in text
    assert "IBAN NL91ABNA0417164300 in the name of Acme B.V." in text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_letter_never_counts_the_term_from_its_date_or_sending(
    language: str,
) -> None:
    text = pdf_text(render_letter(fourteen_day_letter(language))).lower()

    for invalid in ("na heden", "na verzending", "from today", "of sending"):
        assert invalid not in text


def test_a_posted_letter_counts_from_the_second_delivery_day() -> None:
    # Posted Friday 16 May: Saturday and (after Sunday and Monday) Tuesday.
    content = fourteen_day_letter("nl", date(2025, 5, 16), delivery=Delivery.POST)
    text = pdf_text(render_letter(content))

    assert "deze brief u op dinsdag 20 mei 2025 bereikt" in text
    assert "dinsdag 3 juni 2025" in text


def test_costs_with_vat_say_the_vat_cannot_be_deducted() -> None:
    content = fourteen_day_letter("nl", vat_rate=Decimal("0.21"))
    text = pdf_text(render_letter(content))

    assert (
        "incassokosten verschuldigd van € 48,40 (inclusief € 8,40 btw, die wij "
        "niet kunnen verrekenen)" in text
    )


def test_a_letter_without_the_receipt_day_still_names_the_last_day() -> None:
    content = fourteen_day_letter("en")
    assert content.fourteen_day is not None
    notice = replace(content.fourteen_day, received_on=None)
    text = pdf_text(render_letter(replace(content, fourteen_day=notice)))

    assert "The last day to pay is Tuesday, June 3, 2025." in text


def test_the_subject_says_paying_within_14_days_costs_nothing() -> None:
    assert letter_subject(fourteen_day_letter("nl")) == (
        "Aanmaning: betaal binnen 14 dagen zonder incassokosten"
    )


def test_a_14_day_letter_may_not_charge_costs_yet() -> None:
    with pytest.raises(LetterError, match="may not charge costs"):
        fourteen_day_letter("nl", costs=LetterCosts(Decimal("40.00")))


def test_a_14_day_letter_needs_its_term() -> None:
    with pytest.raises(LetterError, match="needs its term"):
        fourteen_day_letter("nl", fourteen_day=None)


def test_a_term_shorter_than_14_days_is_refused() -> None:
    short = FourteenDayNotice(date(2025, 6, 2), LetterCosts(Decimal("40.00")))
    with pytest.raises(LetterError, match="shorter than 14 days"):
        fourteen_day_letter("nl", fourteen_day=short)


def test_a_14_day_letter_must_name_the_costs_to_come() -> None:
    nothing = FourteenDayNotice(date(2025, 6, 3), LetterCosts(Decimal("0")))
    with pytest.raises(LetterError, match="must name the costs"):
        fourteen_day_letter("nl", fourteen_day=nothing)


def test_a_14_day_letter_before_an_invoice_is_overdue_is_refused() -> None:
    early = replace(INVOICE, due_date=date(2025, 5, 20))
    with pytest.raises(LetterError, match="only follow the due date"):
        fourteen_day_letter("nl", invoices=(early,))
