"""What an action says: the template context, the email, the note and the task."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel.numbers import format_currency
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from adapters.base import Note, Task
from connector.channels.email import OutgoingEmail

if TYPE_CHECKING:
    from connector.charges import Charges
from connector.domain import Debtor, Invoice
from connector.planner import PlannedAction
from connector.policy import Policy
from connector.render import RenderedMessage, TemplateRenderer

_TEXT_ENV = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


def debtor_language(debtor: Debtor, policy: Policy) -> str:
    """The language the debtor is written to in."""
    return (debtor.language or policy.defaults.language).lower()


def template_context(
    action: PlannedAction,
    policy: Policy,
    today: date,
    charges: Charges | None = None,
) -> dict[str, Any]:
    """The values every message template may use (see `connector.render`)."""
    pay_urls = {i.pay_url for i in action.invoices if _web(i.pay_url)}
    return {
        "charges": _charges(action, charges),
        "debtor": {
            "name": action.debtor.name,
            "customer_number": action.debtor.customer_number,
            "contact_person": action.debtor.contact_person,
            "kind": action.debtor.kind.value,
        },
        "invoices": [_invoice(i, today) for i in action.invoices],
        "credit_notes": [_invoice(c, today) for c in action.credit_notes],
        "total_open": action.total_open,
        "currency": action.currency,
        "sender": policy.sender.model_dump(),
        "step": {"id": action.step.id},
        "today": today,
        "pay_url": pay_urls.pop() if len(pay_urls) == 1 else "",
    }


def _web(url: str) -> bool:
    """Only a web address is offered as a pay link, never javascript: or file:."""
    return url.lower().startswith(("https://", "http://"))


def _charges(action: PlannedAction, charges: Charges | None) -> dict[str, Any]:
    if charges is None:
        return {"costs": None, "interest": None, "total": action.total_open}
    costs = charges.costs.net + charges.costs.vat if charges.costs else None
    interest = charges.interest.total if charges.interest else None
    return {"costs": costs, "interest": interest or None, "total": charges.total}


def _invoice(invoice: Invoice, today: date) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "days_overdue": max((today - invoice.due_date).days, 0),
        "total": invoice.total,
        "open_amount": invoice.open_amount,
        "currency": invoice.currency,
        "pay_url": invoice.pay_url if _web(invoice.pay_url) else "",
    }


def render_email(
    action: PlannedAction,
    policy: Policy,
    renderer: TemplateRenderer,
    today: date,
    charges: Charges | None = None,
    *,
    template: str | None = None,
    extra: dict[str, Any] | None = None,
) -> RenderedMessage:
    """The subject and bodies of an email action, in the debtor's language."""
    name = template or action.step.email
    assert name is not None
    language = debtor_language(action.debtor, policy)
    context = {**template_context(action, policy, today, charges), **(extra or {})}
    return renderer.render(name, language, context)


def build_email(
    action: PlannedAction,
    message: RenderedMessage,
    policy: Policy,
    now: datetime,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> OutgoingEmail:
    """The email to send for an action, with our own deterministic Message-ID."""
    domain = policy.sender.email.rsplit("@", 1)[1]
    return OutgoingEmail(
        action_key=action.key,
        message_id=f"<{action.key}@{domain}>",
        to=action.debtor.emails,
        subject=message.subject,
        text=message.text,
        html=message.html,
        sender_name=policy.sender.name,
        sender_email=policy.sender.email,
        reply_to=policy.sender.reply_to,
        date=now,
        attachments=attachments,
    )


def render_text(
    template: str, action: PlannedAction, policy: Policy, today: date
) -> str:
    """Render a task or note text from the policy (``Call {{ debtor.name }}``)."""
    context = template_context(action, policy, today)
    return _TEXT_ENV.from_string(template).render(context).strip()


def task_for(action: PlannedAction, policy: Policy, today: date, due_on: date) -> Task:
    """The task a task step creates in the books."""
    assert action.step.task is not None
    text = render_text(action.step.task, action, policy, today)
    lines = [text, "", *_invoice_lines(action), "", f"[dunning:{action.key}]"]
    return Task(
        key=action.key,
        debtor_key=action.debtor.key,
        invoice_keys=tuple(i.key for i in action.invoices),
        text="\n".join(lines),
        assignee=action.step.assignee,
        due_on=due_on,
    )


def note_for(
    action: PlannedAction,
    policy: Policy,
    now: datetime,
    result: Mapping[str, Any],
    text: str | None = None,
) -> Note:
    """The note that tells the bookkeeper what was done, when, to whom and why."""
    local = now.astimezone(policy.tz)
    what = text or _what(action, result)
    why = f"step {action.step.id} of plan {action.plan}: {action.step.after}"
    if action.late:
        why += f" (this step was due {action.scheduled_on.isoformat()}, taken late)"
    lines = [
        f"{what} on {local:%Y-%m-%d %H:%M} ({policy.timezone}).",
        f"Why: {why}.",
        *_invoice_lines(action, result),
        f"[dunning:{action.key}]",
    ]
    return Note(
        key=action.key,
        debtor_key=action.debtor.key,
        invoice_keys=tuple(i.key for i in action.invoices),
        text="\n".join(lines),
    )


def _what(action: PlannedAction, result: Mapping[str, Any]) -> str:
    to = ", ".join(result.get("to", action.debtor.emails))
    if action.channel == "email":
        subject = result.get("subject", "")
        return f"Email {action.step.email!r} ({subject}) sent to {to}"
    if action.channel == "letter":
        how = f"emailed to {to}" if result.get("to") else "printed for posting"
        text = f"Letter {action.step.letter!r} {how}"
        if result.get("last_day"):
            text += f"; its 14-day term ends on {result['last_day']}"
        return text
    if action.channel == "handover":
        return f"Handed over to collection agency {action.step.handover!r}"
    return f"{action.channel} {action.step.id!r} carried out"


def _invoice_lines(
    action: PlannedAction, result: Mapping[str, Any] | None = None
) -> list[str]:
    lines = [
        f"- invoice {i.number}: open {_amount(i.open_amount, i.currency)}"
        for i in action.invoices
    ]
    lines += [
        f"- credit note {c.number}: {_amount(c.open_amount, c.currency)}"
        for c in action.credit_notes
    ]
    result = result or {}
    for label, key in (("Collection costs", "costs"), ("Interest", "interest")):
        if result.get(key):
            lines.append(f"{label}: {_amount(Decimal(result[key]), action.currency)}")
    total = Decimal(result["total"]) if result.get("total") else action.total_open
    lines.append(f"Total asked: {_amount(total, action.currency)}")
    return lines


def _amount(amount: Decimal, currency: str) -> str:
    return format_currency(amount, currency, locale="en_GB")
