"""Amounts, dates and text as a letter prints them.

Money and dates go through the same Babel filters as the email templates
(`connector.render`), so a letter and a mail say `€ 240,00` and `3 juni 2025`
alike. The PDF uses the core fonts in the cp1252 (Windows-1252) encoding, which
has the euro sign and the Western European letters. Other characters are
transliterated where a plain form exists (``Ł`` becomes ``L``, ``ő`` becomes
``o``) and replaced by ``?`` where none does; control characters become spaces,
so a name with a line break in it cannot add lines to an address.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import cast

from jinja2.runtime import Context

from connector.render import _date, _http_url, _money, one_line

PDF_ENCODING = "cp1252"
REPLACEMENT = "?"

# Letters without a decomposition into a base letter plus accents.
_TRANSLITERATIONS = {
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "Ŀ": "L",
    "ŀ": "l",
    "ŉ": "'n",
    "Ŋ": "N",
    "ŋ": "n",
    "Ŧ": "T",
    "ŧ": "t",
    "ſ": "s",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "―": "-",
    "−": "-",
    "′": "'",
    "″": '"',
    "‹": "<",
    "›": ">",
}


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """`amount` in `currency` as the language writes it: `€ 240,00`, `€240.00`."""
    return cast(str, _money(_locale_context(language), amount, currency))


def format_date(day: date, language: str, style: str = "long") -> str:
    """`day` written out in `language`: `3 juni 2025`, `June 3, 2025`."""
    return cast(str, _date(_locale_context(language), day, style))


def http_url(url: str) -> str:
    """`url` if it is an http(s) link, otherwise an empty string."""
    return _http_url(url)


def pdf_safe(text: str) -> str:
    """`text` reduced to what the PDF's core fonts can show, never raising."""
    text = unicodedata.normalize("NFC", text)
    return "".join(_safe_char(char) for char in text)


def pdf_inline(text: str) -> str:
    """`text` PDF-safe with line breaks and tabs as spaces, nothing stripped."""
    return pdf_safe(text).replace("\n", " ").replace("\t", " ")


def pdf_line(text: str) -> str:
    """`text` PDF-safe on a single line: every run of whitespace one space."""
    return one_line(pdf_safe(text))


def _safe_char(char: str) -> str:
    if char in "\n\t":
        return char
    category = unicodedata.category(char)
    if category == "Cc" or category in ("Zl", "Zp"):
        return " "
    if category == "Cf":
        # Zero-width and direction marks: invisible, and able to reorder text.
        return ""
    if _encodable(char):
        return char
    if char in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[char]
    return _decomposed(char)


def _decomposed(char: str) -> str:
    """The base letters of `char` without accents, or the replacement."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    if plain and all(_encodable(c) for c in plain):
        return plain
    if unicodedata.category(char).startswith("Z"):
        return " "
    return REPLACEMENT


def _encodable(char: str) -> bool:
    try:
        char.encode(PDF_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _locale_context(language: str) -> Context:
    # The render filters read only the locale from the template context.
    return cast(Context, {"locale": language})
