"""The handover dossier: stable JSON, actions in order, proof of the 14-day letter."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connector.law.fourteen_day import Delivery, fourteen_day_term
from connector.letters import CreditNoteLine, LetterCosts, LetterError, LetterKind
from connector.letters.dossier import (
    Dossier,
    FourteenDayProof,
    LedgerEntry,
    SentLetter,
    build_dossier,
    dossier_json,
    dossier_pdf,
    load_dossier,
)
from tests.letters.helpers import CONSUMER, CREDITOR, INVOICE, pdf_text

CEST = timezone(timedelta(hours=2))
SENT_AT = datetime(2025, 5, 20, 9, 30, 12, tzinfo=CEST)
ACCEPTED_AT = datetime(2025, 5, 20, 7, 30, 14, tzinfo=UTC)


def entry(step: str, at: datetime, channel: str = "email") -> LedgerEntry:
    return LedgerEntry(
        key=f"acme/K-1001/{step}",
        step=step,
        channel=channel,
        state="done",
        taken_at=at,
        recipient="jan@example.nl",
        invoice_numbers=(INVOICE.number,),
    )


def proof() -> FourteenDayProof:
    return FourteenDayProof.from_term(
        fourteen_day_term(date(2025, 5, 20), Delivery.EMAIL),
        sent_at=SENT_AT,
        accepted_at=ACCEPTED_AT,
        address="jan@example.nl",
        costs_if_unpaid=Decimal("40"),
        message_id="<k1001.fdl@acme.example>",
        file_name="fourteen-day-letter-K-1001.pdf",
    )


def dossier(language: str = "nl", **changes: object) -> Dossier:
    values: dict[str, object] = {
        "reference": "acme/K-1001/handover/0d4e99",
        "prepared_on": date(2025, 6, 5),
        "creditor": CREDITOR,
        "debtor": CONSUMER,
        "invoices": (INVOICE,),
        "credit_notes": (CreditNoteLine("C-1", Decimal("-0.5")),),
        "costs": LetterCosts(Decimal("40.00")),
        "actions": (
            entry("fourteen-day-letter", SENT_AT),
            entry("call", datetime(2025, 4, 23, 8, 0, tzinfo=UTC), "task"),
            # 09:00 in summer time is 07:00 UTC, before the 08:00 UTC call.
            entry("reminder", datetime(2025, 4, 23, 9, 0, tzinfo=CEST)),
        ),
        "letters": (
            SentLetter(
                LetterKind.FOURTEEN_DAY,
                date(2025, 5, 20),
                "fourteen-day-letter-K-1001.pdf",
                "acme/K-1001/fourteen-day-letter/51c7e2",
                Delivery.EMAIL,
            ),
        ),
        "fourteen_day": proof(),
        "language": language,
        **changes,
    }
    return build_dossier(**values)  # type: ignore[arg-type]


def test_the_json_round_trips() -> None:
    original = dossier()
    text = dossier_json(original)

    assert load_dossier(text).data == original.data
    assert dossier_json(load_dossier(text)) == text


def test_the_json_is_the_same_text_every_time() -> None:
    assert dossier_json(dossier()) == dossier_json(dossier())


def test_actions_are_listed_in_the_order_they_happened() -> None:
    data = json.loads(dossier_json(dossier()))

    assert [a["step"] for a in data["actions"]] == [
        "reminder",
        "call",
        "fourteen-day-letter",
    ]
    assert data["actions"][0]["taken_at"] == "2025-04-23T09:00:00+02:00"
    assert data["actions"][1]["channel"] == "task"


def test_amounts_are_strings_with_cents_and_dates_are_iso() -> None:
    data = json.loads(dossier_json(dossier()))

    assert data["invoices"][0] == {
        "number": "2025-0042",
        "issue_date": "2025-04-01",
        "due_date": "2025-04-15",
        "open_amount": "200.00",
        "total": None,
    }
    assert data["credit_notes"][0]["amount"] == "-0.50"
    assert data["claim"]["principal"] == "199.50"
    assert data["claim"]["costs"] == "40.00"
    assert data["claim"]["total"] == "239.50"


def test_the_proof_of_the_14_day_letter_is_kept() -> None:
    data = json.loads(dossier_json(dossier()))

    assert data["fourteen_day_letter"] == {
        "sent_at": "2025-05-20T09:30:12+02:00",
        "accepted_at": "2025-05-20T07:30:14+00:00",
        "address": "jan@example.nl",
        "delivery": "email",
        "received_on": "2025-05-20",
        "last_day": "2025-06-03",
        "costs_chargeable_from": "2025-06-04",
        "costs_if_unpaid": "40.00",
        "message_id": "<k1001.fdl@acme.example>",
        "file_name": "fourteen-day-letter-K-1001.pdf",
    }
    assert data["letters"][0]["file_name"] == "fourteen-day-letter-K-1001.pdf"


def test_a_time_without_a_time_zone_is_refused() -> None:
    naive = entry("reminder", datetime(2025, 4, 23, 9, 0))
    with pytest.raises(LetterError, match="time zone"):
        dossier(actions=(naive,))


def test_text_that_is_not_a_dossier_is_refused() -> None:
    with pytest.raises(LetterError, match="dunning-dossier"):
        load_dossier('{"format": "something else"}')


def test_the_dutch_summary_names_the_claim_and_the_proof() -> None:
    text = pdf_text(dossier_pdf(dossier()))

    assert "Overdrachtsdossier acme/K-1001/handover/0d4e99" in text
    assert "Totaal € 239,50" in text
    assert "Laatste dag van de termijn dinsdag 3 juni 2025" in text
    assert "Aangenomen door ontvangende server 20 mei 2025 07:30:14 +0000" in text
    assert "fourteen-day-letter-K-1001.pdf" in text
    assert "Creditnota C-1" in text


def test_the_english_summary_lists_the_actions() -> None:
    text = pdf_text(dossier_pdf(dossier("en")))

    assert "Handover dossier acme/K-1001/handover/0d4e99" in text
    assert "Last day of the term Tuesday, June 3, 2025" in text
    reminder = text.index("Apr 23, 2025 09:00:00 +0200 reminder email done")
    call = text.index("Apr 23, 2025 08:00:00 +0000 call task done")
    assert reminder < call


def test_a_dossier_without_a_14_day_letter_says_so() -> None:
    text = pdf_text(dossier_pdf(dossier(fourteen_day=None, letters=(), actions=())))
    assert "Bewijs van de veertiendagenbrief geen" in text
    assert "Genomen acties geen" in text


def test_a_dossier_read_back_from_json_prints_the_same_pdf() -> None:
    original = dossier()

    assert dossier_pdf(load_dossier(dossier_json(original))) == dossier_pdf(original)
