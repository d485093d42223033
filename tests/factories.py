"""Small builders for domain objects and policies used across the tests."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

from connector.domain import Debtor, DebtorKind, Invoice, InvoiceStatus
from connector.policy import Policy, load_policy

TEMPLATES = Path(__file__).resolve().parent.parent / "config" / "templates"

BASE_POLICY = """\
timezone: Europe/Amsterdam
calendar: NL
send_window: {{days: mon-fri, from: "09:00", until: "17:00"}}
sender: {{name: Acme Debiteuren, email: debiteuren@acme.example}}
templates: {templates}
outbox: outbox
sources:
  - {{name: acme, adapter: csv, path: open_items.csv}}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
{steps}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""

DEFAULT_STEPS = """\
    - {id: reminder, after: 3 days past due, email: reminder}
    - {id: call, after: 8 days past due, task: "Call {{ debtor.name }}"}
    - {id: second, after: 7 days after reminder, email: second_reminder}
"""


def policy_text(steps: str = DEFAULT_STEPS, **replace: str) -> str:
    """A valid policy as YAML text, with its plan's steps given."""
    text = BASE_POLICY.format(
        templates=TEMPLATES,
        steps=textwrap.indent(textwrap.dedent(steps).strip("\n"), "    "),
    )
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def write_policy(directory: Path, text: str | None = None) -> Path:
    """Write a policy file and return its path."""
    path = directory / "dunning.yaml"
    path.write_text(policy_text() if text is None else text, encoding="utf-8")
    return path


def make_policy(
    directory: Path, steps: str = DEFAULT_STEPS, **overrides: object
) -> Policy:
    """A loaded policy with the given steps and top-level overrides."""
    policy = load_policy(write_policy(directory, policy_text(steps)))
    return policy.model_copy(update=overrides) if overrides else policy


def debtor(
    key: str = "d1",
    *,
    kind: DebtorKind = DebtorKind.BUSINESS,
    language: str | None = "nl",
    emails: tuple[str, ...] = ("ap@debtor.example",),
    tags: frozenset[str] = frozenset(),
    name: str = "Bakkerij de Vries B.V.",
) -> Debtor:
    return Debtor(key, name, kind, emails, language, tags)


def invoice(
    key: str,
    due: date,
    open_amount: str,
    *,
    total: str | None = None,
    debtor_key: str = "d1",
    number: str | None = None,
    currency: str = "EUR",
    status: InvoiceStatus = InvoiceStatus.OPEN,
) -> Invoice:
    return Invoice(
        key=key,
        debtor_key=debtor_key,
        number=number or f"2026-{key}",
        issue_date=date.fromordinal(due.toordinal() - 30),
        due_date=due,
        currency=currency,
        total=Decimal(total if total is not None else open_amount),
        open_amount=Decimal(open_amount),
        status=status,
    )
