"""Handover to a collection agency: the dossier of a debtor, delivered.

The dossier holds the claim, every action the ledger recorded for the debtor's
invoices, the letters that went out and the proof of the 14-day letter. It goes to
the agency's folder (JSON and a PDF summary) or is posted to its webhook. Handed
over invoices are put on a local hold, so the plan takes no further step.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from connector.charges import Charges
from connector.errors import ChannelFailed, ChannelRetriable
from connector.law.fourteen_day import Delivery
from connector.letter_actions import letter_content
from connector.letters.content import LetterKind
from connector.letters.dossier import (
    Dossier,
    FourteenDayProof,
    LedgerEntry,
    SentLetter,
    build_dossier,
    dossier_json,
    dossier_pdf,
)
from connector.planner import PlannedAction
from connector.policy import Agency, Policy
from connector.store import ActionRecord, State

WEBHOOK_TIMEOUT = (5.0, 30.0)


def make_dossier(
    action: PlannedAction,
    policy: Policy,
    charges: Charges,
    history: list[ActionRecord],
    today: date,
) -> Dossier:
    """The dossier for a handover action, from the ledger's history."""
    content = letter_content(_as_demand(action), policy, charges, today)
    entries = [_entry(record) for record in history if record.state is State.DONE]
    letters = [_letter(record) for record in history if record.channel == "letter"]
    return build_dossier(
        reference=action.key[:12],
        prepared_on=today,
        creditor=content.creditor,
        debtor=content.debtor,
        invoices=content.invoices,
        credit_notes=content.credit_notes,
        currency=action.currency,
        costs=content.costs,
        interest=content.interest,
        actions=entries,
        letters=[s for s in letters if s is not None],
        fourteen_day=_proof(history),
        language=content.language,
    )


def deliver(
    dossier: Dossier, agency: Agency, policy: Policy, secret: Any
) -> dict[str, str]:
    """Write the dossier to the agency's folder or post it; return where it went."""
    text = dossier_json(dossier)
    if agency.folder is not None:
        folder = policy.folder(agency.folder)
        folder.mkdir(parents=True, exist_ok=True)
        json_path = folder / f"dossier-{dossier.reference}.json"
        pdf_path = folder / f"dossier-{dossier.reference}.pdf"
        _write(json_path, text.encode())
        _write(pdf_path, dossier_pdf(dossier))
        return {"dossier": str(json_path), "summary": str(pdf_path)}
    assert agency.webhook is not None
    headers = {"Content-Type": "application/json", "Idempotency-Key": dossier.reference}
    if agency.webhook_secret is not None:
        key = secret(agency.webhook_secret.secret).encode()
        signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        headers["X-Dunning-Signature"] = f"sha256={signature}"
    try:
        answer = requests.post(
            agency.webhook, data=text.encode(), headers=headers, timeout=WEBHOOK_TIMEOUT
        )
    except requests.RequestException as exc:
        raise ChannelRetriable(
            f"agency webhook unreachable: {type(exc).__name__}"
        ) from exc
    if answer.status_code >= 500 or answer.status_code == 429:
        raise ChannelRetriable(f"agency webhook answered {answer.status_code}")
    if answer.status_code >= 400:
        raise ChannelFailed(f"agency webhook refused the dossier: {answer.status_code}")
    return {"webhook": agency.webhook, "status": str(answer.status_code)}


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _as_demand(action: PlannedAction) -> PlannedAction:
    return replace(action, step=action.step.model_copy(update={"letter": "demand"}))


def _entry(record: ActionRecord) -> LedgerEntry:
    return LedgerEntry(
        key=record.key,
        step=record.step_id,
        channel=record.channel,
        state=record.state.value,
        taken_at=_when(record),
        recipient=", ".join(record.result.get("to", [])),
        invoice_numbers=tuple(n for n, _ in record.payload.get("invoices", [])),
        detail=str(record.result.get("subject", "")),
    )


def _letter(record: ActionRecord) -> SentLetter | None:
    kind = record.result.get("letter")
    if record.state is not State.DONE or kind is None:
        return None
    delivery = Delivery(record.result.get("delivery", "email"))
    return SentLetter(
        kind=LetterKind(kind),
        sent_on=record.taken_on,
        file_name=Path(str(record.result.get("file", ""))).name,
        reference=record.key[:12],
        delivery=delivery,
    )


def _proof(history: list[ActionRecord]) -> FourteenDayProof | None:
    for record in history:
        result = record.result
        if record.state is not State.DONE or result.get("letter") != "fourteen_day":
            continue
        accepted = result.get("accepted_at")
        return FourteenDayProof(
            sent_at=_when(record),
            address=", ".join(result.get("to", [])) or str(result.get("address", "")),
            delivery=Delivery(result.get("delivery", "email")),
            received_on=date.fromisoformat(result["received_on"]),
            last_day=date.fromisoformat(result["last_day"]),
            costs_chargeable_from=date.fromisoformat(result["costs_chargeable_from"]),
            costs_if_unpaid=Decimal(result["costs_stated"]),
            accepted_at=datetime.fromisoformat(accepted) if accepted else None,
            message_id=str(result.get("message_id", "")),
            file_name=Path(str(result.get("file", ""))).name,
        )
    return None


def _when(record: ActionRecord) -> datetime:
    assert record.updated_at is not None
    return record.updated_at
