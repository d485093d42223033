"""Sample template contexts, shaped the way the core passes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any


def invoice(
    number: str, issue_date: date, due_date: date, open_amount: str
) -> dict[str, Any]:
    """One invoice (or, with a negative amount, a credit note) in euros."""
    return {
        "number": number,
        "issue_date": issue_date,
        "due_date": due_date,
        "days_overdue": max((date(2026, 12, 20) - due_date).days, 0),
        "total": Decimal(open_amount),
        "open_amount": Decimal(open_amount),
        "currency": "EUR",
        "pay_url": "",
    }


def context(
    *,
    debtor_name: str = "Bakkerij De Korenschoof",
    contact_person: str = "",
    kind: str = "business",
    pay_url: str = "",
    iban: str = "",
) -> dict[str, Any]:
    """Two open invoices (1210.00 and 363.00) and one credit note (-121.00).

    The total to pay is 1210.00 + 363.00 - 121.00 = 1452.00.
    """
    return {
        "debtor": {
            "name": debtor_name,
            "customer_number": "1042",
            "contact_person": contact_person,
            "kind": kind,
        },
        "invoices": [
            invoice("2026-0117", date(2026, 11, 3), date(2026, 12, 3), "1210.00"),
            invoice("2026-0121", date(2026, 11, 10), date(2026, 12, 10), "363.00"),
        ],
        "credit_notes": [
            invoice("C-2026-004", date(2026, 11, 20), date(2026, 11, 20), "-121.00"),
        ],
        "total_open": Decimal("1452.00"),
        "charges": {"costs": None, "interest": None, "total": Decimal("1452.00")},
        "currency": "EUR",
        "sender": {
            "name": "Debiteurenbeheer Voorbeeld",
            "email": "debiteuren@voorbeeld.example",
            "reply_to": None,
            "phone": "",
            "iban": iban,
            "address": "",
        },
        "step": {"id": "reminder"},
        "today": date(2026, 12, 20),
        "pay_url": pay_url,
    }
