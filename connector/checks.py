"""Checks of what the policy asks to render, run by ``dunning validate``.

The schema says a step names a template or a task text; these checks render each
one with a sample debtor and invoice, so a misspelt variable or a broken template
is found before a cycle runs, not while it chases someone.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from connector.domain import Address, Debtor, DebtorKind, Invoice
from connector.errors import ConfigError
from connector.messages import template_context
from connector.planner import PlannedAction
from connector.policy import Policy, Step
from connector.render import TemplateRenderer

SAMPLE_DAY = date(2026, 12, 3)


def check_rendering(policy: Policy) -> list[ConfigError]:
    """Every template and task or note text of the policy, rendered once."""
    renderer = TemplateRenderer(policy.template_dir(), policy.defaults.language)
    problems: list[str] = []
    seen: set[str] = set()
    for plan, steps in policy.plans.items():
        for step in steps:
            action = sample_action(step, plan)
            context = template_context(action, policy, SAMPLE_DAY)
            names = [step.email] if step.email else []
            if step.letter and step.delivery == "email":
                names.append("letter")
            for name in names:
                if name not in seen:
                    seen.add(name)
                    extra = {**context, "letter_subject": "Sample"}
                    problems += renderer.check(name, extra)
            for kind in ("task", "note"):
                text = getattr(step, kind)
                if text is not None:
                    problems += _check_text(
                        text, context, f"plan {plan}, step {step.id}"
                    )
    return [ConfigError(p) for p in problems]


def _check_text(text: str, context: dict[str, object], where: str) -> list[str]:
    env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
    try:
        env.from_string(text).render(context)
    except TemplateError as exc:
        return [f"{where}: the text {text!r} cannot be filled in: {exc.message}"]
    return []


def sample_action(step: Step, plan: str) -> PlannedAction:
    """A made-up action of one debtor with one invoice and one credit note."""
    debtor = Debtor(
        "sample",
        "Voorbeeld B.V.",
        DebtorKind.BUSINESS,
        ("debiteuren@voorbeeld.example",),
        None,
        frozenset(),
        "K-1",
        "J. Jansen",
        Address(("Voorbeeldstraat 1",), "1234 AB", "Amsterdam"),
    )
    invoice = Invoice(
        "i1",
        "sample",
        "2026-0001",
        date(2026, 10, 1),
        date(2026, 10, 31),
        "EUR",
        Decimal("1210.00"),
        Decimal("710.00"),
        pay_url="https://pay.example/1",
    )
    credit = Invoice(
        "c1",
        "sample",
        "C-0001",
        date(2026, 10, 5),
        date(2026, 10, 5),
        "EUR",
        Decimal("-100.00"),
        Decimal("-100.00"),
    )
    return PlannedAction(
        key="0" * 32,
        source="sample",
        debtor=debtor,
        plan=plan,
        segment="sample",
        step=step,
        invoices=(invoice,),
        credit_notes=(credit,),
        currency="EUR",
        scheduled_on=SAMPLE_DAY,
        late=False,
    )
