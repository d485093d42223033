"""Text that the PDF's core fonts cannot show is replaced, never raised."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from connector.letters import LetterKind, render_letter
from connector.letters.formats import (
    format_date,
    format_money,
    pdf_inline,
    pdf_line,
    pdf_safe,
)
from tests.letters.helpers import CONSUMER, CREDITOR, fourteen_day_letter, pdf_pages


def test_money_is_written_as_the_language_writes_it() -> None:
    assert format_money(Decimal("1240.5"), "EUR", "nl") == "€ 1.240,50"
    assert format_money(Decimal("1240.5"), "EUR", "en") == "€1,240.50"


def test_dates_are_written_out_in_the_language() -> None:
    assert format_date(date(2025, 6, 3), "nl") == "3 juni 2025"
    assert format_date(date(2025, 6, 3), "en") == "June 3, 2025"
    assert format_date(date(2025, 6, 3), "nl", "full") == "dinsdag 3 juni 2025"


def test_western_european_letters_and_the_euro_sign_are_kept() -> None:
    assert pdf_safe("€ Ærø café Grüße naïve") == "€ Ærø café Grüße naïve"


def test_letters_outside_the_font_lose_their_accents() -> None:
    assert pdf_safe("Łódź Dvořák Őrség") == "Lódz Dvorák Orség"


def test_characters_without_a_plain_form_become_question_marks() -> None:
    assert pdf_safe("Café 😀 東京") == "Café ? ??"


def test_control_and_direction_characters_cannot_shape_the_text() -> None:
    assert pdf_safe("a\x00b\u202ec\u200bd") == "a bcd"
    assert pdf_line("Jan\r\nBcc: x@example.com") == "Jan Bcc: x@example.com"
    assert pdf_inline(" a\nb ") == " a b "


def test_odd_names_render_on_one_line_each() -> None:
    debtor = replace(
        CONSUMER,
        name="Jan\r\nBcc: evil@example.com",
        contact_person="Zoë \u202eŁukasz 😀",
        address_lines=("Straße 1\x00", "東京都 " + "x" * 300),
        city="Łódź",
    )
    creditor = replace(CREDITOR, name="Acme\nB.V. ™ ✓")
    content = replace(fourteen_day_letter("nl"), debtor=debtor, creditor=creditor)
    page = pdf_pages(render_letter(content))[0]
    lines = page.splitlines()

    assert "Jan Bcc: evil@example.com" in lines
    assert "t.a.v. Zoë Lukasz ?" in lines
    assert "Geachte Zoë Lukasz ?," in lines
    assert "1234 AB Lódz" in lines
    assert "Bcc: evil@example.com" not in lines
    assert "\u202e" not in page


def test_every_kind_renders_with_odd_names_in_both_languages() -> None:
    for language in ("nl", "en"):
        base = fourteen_day_letter(language)
        debtor = replace(CONSUMER, name="\t\u0007\ufeff" + "ß" * 200)
        for kind in LetterKind:
            notice = base.fourteen_day if kind is LetterKind.FOURTEEN_DAY else None
            content = replace(base, kind=kind, debtor=debtor, fourteen_day=notice)
            assert pdf_pages(render_letter(content))
