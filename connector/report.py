"""Plain tables for the terminal: plans, ledger entries, cycle status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import click

from connector.planner import Plan
from connector.store import ActionRecord, State, Store


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned text table."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def print_plan(source: str, today: date, plan: Plan, skipped: bool) -> None:
    """What a plan would do, and optionally what it leaves alone and why."""
    click.echo(f"{source}: {len(plan.actions)} actions due on {today.isoformat()}")
    rows = [
        (
            a.debtor.name[:32],
            a.step.id,
            a.channel + (" (approval)" if a.step.needs_approval else ""),
            ", ".join(i.number for i in a.invoices)[:40],
            f"{a.total_open:,.2f} {a.currency}",
            a.scheduled_on.isoformat() + (" late" if a.late else ""),
            f"{a.step.after} ({a.segment})",
        )
        for a in plan.actions
    ]
    headers = ("debtor", "step", "channel", "invoices", "asked", "due", "why")
    if rows:
        click.echo(table(headers, rows))
    if skipped and plan.skips:
        click.echo(f"\n{len(plan.skips)} invoices left alone:")
        skip_rows = [
            (s.invoice_key, s.debtor_key, s.step_id or "", s.reason) for s in plan.skips
        ]
        click.echo(table(("invoice", "debtor", "step", "reason"), skip_rows))


def print_actions(actions: Sequence[ActionRecord], detail: bool = False) -> None:
    """Ledger entries, newest first."""
    if not actions:
        click.echo("no actions")
        return
    rows = []
    for a in actions:
        what = a.payload.get("subject") or a.reason or a.error or ""
        rows.append(
            (
                a.key[:12],
                a.source,
                a.debtor_key,
                a.step_id,
                a.channel,
                a.state.value + (" late" if a.late else ""),
                a.taken_on.isoformat(),
                str(what)[:50],
            )
        )
    headers = ("key", "source", "debtor", "step", "channel", "state", "on", "detail")
    click.echo(table(headers, rows))
    if detail:
        for a in actions:
            invoices = ", ".join(
                f"{n} {amt}" for n, amt in a.payload.get("invoices", [])
            )
            to = ", ".join(a.payload.get("to", []))
            click.echo(
                f"\n{a.key} ({a.state.value}): {a.payload.get('debtor', a.debtor_key)}"
            )
            click.echo(f"  to: {to or '-'}; invoices: {invoices or '-'}")
            total = f"{a.payload.get('total', '?')} {a.payload.get('currency', '')}"
            click.echo(f"  total: {total}")
            if a.reason or a.error:
                click.echo(f"  why: {a.reason or a.error}")


def print_status(store: Store) -> None:
    """The last cycles and the count of actions per state."""
    cycles = store.last_cycles(10)
    rows = [
        (
            c["id"],
            c["source"],
            c["started_at"].isoformat(timespec="seconds"),
            c["status"],
            c["summary"].get("error", ""),
        )
        for c in cycles
    ]
    click.echo(
        table(("cycle", "source", "started", "status", "error"), rows)
        if rows
        else "no cycles yet"
    )
    waiting = [
        State.AWAITING_APPROVAL,
        State.NEEDS_REVIEW,
        State.FAILED,
        State.DEFERRED,
    ]
    found = store.ledger.count_by_state()
    counts = {s.value: found.get(s, 0) for s in waiting}
    click.echo("\n" + ", ".join(f"{k}: {v}" for k, v in counts.items()))
