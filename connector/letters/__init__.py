"""Letters to debtors as PDF, and the dossier handed to a collection agency.

content   LetterContent and the plain dataclasses it is made of
texts     the wording in Dutch and English, the 14-day letter's by law
formats   amounts and dates via connector.render; text safe for the PDF
pdf       the A4 page: core fonts in cp1252, footer with page numbers
letter    render_letter(content) -> PDF bytes
dossier   build_dossier, dossier_json, dossier_pdf
examples  python -m connector.letters.examples: sample PDFs in docs/examples
"""

from connector.letters.content import (
    CreditNoteLine,
    CreditorDetails,
    DebtorDetails,
    FourteenDayNotice,
    InterestKind,
    InvoiceLine,
    LetterContent,
    LetterCosts,
    LetterError,
    LetterInterest,
    LetterKind,
)
from connector.letters.letter import letter_subject, render_letter

__all__ = [
    "CreditNoteLine",
    "CreditorDetails",
    "DebtorDetails",
    "FourteenDayNotice",
    "InterestKind",
    "InvoiceLine",
    "LetterContent",
    "LetterCosts",
    "LetterError",
    "LetterInterest",
    "LetterKind",
    "letter_subject",
    "render_letter",
]
