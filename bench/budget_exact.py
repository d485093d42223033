"""Exact Online API calls per cycle over 10,000 open receivables, by endpoint.

    python bench/budget_exact.py [--receivables N] [--daily-limit N]

Whole cycles run through the core's Runtime against the emulator over loopback
HTTP, on a fake clock (rate-limit waits cost no time). The emulator records
every request; each cycle's share is grouped by method and endpoint.

The administration: N open sales invoices over N/3 customers, due dates spread
evenly over 60 days so that 1/60 of them reach the first step (3 days past due)
each day. The cycles measured:

- cold: the first cycle (day 0): nothing is overdue long enough to act on yet;
- quiet: 15 minutes later, nothing changed;
- working day: day 1, after 50 payments, 20 new invoices and 2 deletions in
  Exact; the day's reminders are confirmed, e-mailed (outbox) and noted;
- reconcile: the weekly full snapshot (day 7, in the evening: pull only).

Targets: cold at most ceil(N/1000) plus a small constant; a quiet cycle at most
3 reads (confirms and writes come on top, per action); a day of 96 cycles (every
15 minutes) within half of Exact's daily limit. Exit status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.base import Adapter, SourceContext
from adapters.exact.adapter import ExactAdapter
from adapters.exact.emulator import (
    DEFAULT_CLIENT,
    EmulatorState,
    FakeClock,
    serve_emulator,
)
from adapters.exact.tokens import Credentials
from bench.machine import describe_machine
from connector.cycle import CycleResult
from connector.logs import configure_logging
from connector.policy import Policy, Source, load_policy
from connector.runtime import Runtime
from connector.store import Store

DIVISION = 1234567
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Amsterdam
OPEN_ITEMS_PAGE = 60  # read/financial/ReceivablesList rows per page
SYNC_PAGE = 1000
CADENCE = 96  # cycles a day, one every 15 minutes
TEMPLATES = Path(__file__).resolve().parent.parent / "config" / "templates"
POLICY = """\
timezone: Europe/Amsterdam
calendar: NL
send_window: {{days: mon-fri, from: "09:00", until: "17:00"}}
sender: {{name: Bench Debiteuren, email: debiteuren@bench.example}}
templates: {templates}
outbox: outbox
sources:
  - name: bench
    adapter: exact
    division: {division}
    base_url: {base_url}
    full_reconcile_days: 7
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
    - {{id: reminder, after: 3 days past due, email: reminder}}
    - {{id: call, after: 8 days past due, task: "Call {{{{ debtor.name }}}}"}}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""


class BenchRuntime(Runtime):
    """The core's runtime, with the adapter's back-off sleeping on the fake clock."""

    fake: FakeClock

    def adapter_for(self, source: Source) -> Adapter:
        options = ExactAdapter.Options.model_validate(source.options())
        context = SourceContext(
            name=source.name,
            secret=self.secrets,
            now=self.clock,
            state_dir=str(self.state_dir),
            store=self.store,
        )
        return ExactAdapter.create(options, context, sleep=self.fake.sleep)


@dataclass
class Measured:
    """One cycle: how it ended and the requests it made."""

    name: str
    result: CycleResult
    calls: Counter[str]
    token_calls: int

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def count(self, method: str) -> int:
        return sum(n for k, n in self.calls.items() if k.startswith(method + " "))


def seed(state: EmulatorState, receivables: int, today: date) -> list[str]:
    """Open invoices due over 60 days around ``today``; their entry ids."""
    state.add_division(DIVISION, "Bench B.V.")
    customers = [
        state.add_account(
            DIVISION,
            f"Klant {n} B.V.",
            Code=str(10_000 + n),
            Email=f"klant{n}@example.nl",
            VATNumber=f"NL{800_000_000 + n}B01",
        )
        for n in range(max(1, receivables // 3))
    ]
    entries = []
    for n in range(receivables):
        due = today + timedelta(days=n % 60 - 2)  # the oldest: 2 days past due
        entries.append(
            state.add_invoice(
                DIVISION,
                customers[n % len(customers)],
                26_000_000 + n,
                Decimal(100 + n % 900) + Decimal("0.50"),
                invoice_date=due - timedelta(days=30),
                due_date=due,
            )
        )
    return entries


def working_day(state: EmulatorState, entries: list[str], today: date) -> None:
    """What a bookkeeper does in a day: payments, new invoices, two deletions."""
    customers = list(state.divisions[DIVISION].accounts)
    for entry in entries[100:150]:
        open_term = state.terms_of(DIVISION, entry)[0]
        state.pay(DIVISION, entry, open_term["AmountFC"], today)
    for n in range(20):
        state.add_invoice(
            DIVISION,
            customers[n],
            27_000_000 + n,
            Decimal("250.00"),
            invoice_date=today,
            due_date=today + timedelta(days=30),
        )
    for entry in entries[200:202]:
        state.delete_invoice(DIVISION, entry)


def endpoint(method: str, path: str) -> str:
    return f"{method} {path.removeprefix(f'/api/v1/{DIVISION}/')}"


def measure(
    name: str, state: EmulatorState, runtime: Runtime, at: datetime
) -> Measured:
    """Run one cycle at ``at`` and count what it asked of the emulator."""
    fake: FakeClock = state.clock  # type: ignore[assignment]
    fake.advance((at - fake.now()).total_seconds())
    before = len(state.requests)
    result = runtime.run_source("bench")
    made = state.requests[before:]
    calls = Counter(
        endpoint(r.method, r.path) for r in made if r.path.startswith("/api/v1/")
    )
    tokens = sum(1 for r in made if r.path == "/api/oauth2/token")
    return Measured(name, result, calls, tokens)


def run_bench(receivables: int, workdir: Path) -> list[Measured]:
    clock = FakeClock(START)
    state = EmulatorState(clock=clock)
    today = START.date()
    entries = seed(state, receivables, today)
    os.environ.setdefault("EXACT_CLIENT_ID", DEFAULT_CLIENT[0])
    os.environ.setdefault("EXACT_CLIENT_SECRET", DEFAULT_CLIENT[1])
    with serve_emulator(state) as emulator:
        policy = _policy(workdir, emulator.base_url)
        store = Store.open(f"sqlite:///{workdir}/state.db")
        grant = Credentials.from_token_response(state.grant(), clock.now())
        store.save_credentials("bench", grant.to_dict())
        runtime = BenchRuntime(
            policy, store, _secret, clock=clock.now, state_dir=workdir / "state"
        )
        runtime.fake = clock
        try:
            cycles = [measure("cold", state, runtime, START)]
            cycles.append(
                measure("quiet", state, runtime, START + timedelta(minutes=15))
            )
            day1 = START + timedelta(days=1)
            clock.advance((day1 - clock.now()).total_seconds() - 3600)
            working_day(state, entries, day1.date())
            cycles.append(measure("working day", state, runtime, day1))
            evening = START + timedelta(days=7, hours=10)  # 20:00 local
            cycles.append(measure("reconcile", state, runtime, evening))
        finally:
            store.close()
    return cycles


def _secret(name: str) -> str:
    return os.environ[name]


def _policy(workdir: Path, base_url: str) -> Policy:
    path = workdir / "dunning.yaml"
    text = POLICY.format(templates=TEMPLATES, division=DIVISION, base_url=base_url)
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


@dataclass
class Verdict:
    """The figures the targets are judged on."""

    receivables: int
    daily_limit: int
    naive_cycle: int
    cold_floor: int
    cold_target: int
    day_total: int
    per_action: float
    met: dict[str, bool]


COLD_SLACK = 6  # accounts (ceil(N/3/1000)), deletions, and room for a page split


def judge(cycles: Sequence[Measured], receivables: int, daily_limit: int) -> Verdict:
    by_name = {c.name: c for c in cycles}
    cold, quiet = by_name["cold"], by_name["quiet"]
    day, reconcile = by_name["working day"], by_name["reconcile"]
    floor = math.ceil(receivables / SYNC_PAGE)
    actions = day.result.counts["email_done"] + day.result.counts["task_done"]
    extra_day = day.total - quiet.total
    extra_reconcile = reconcile.total - quiet.total
    total = CADENCE * quiet.total + extra_day + extra_reconcile
    per_action = (extra_day / actions) if actions else 0.0
    met = {
        "cold <= ceil(N/1000) + small constant": cold.total <= floor + COLD_SLACK,
        "quiet cycle <= 3 reads": quiet.total <= 3 and quiet.count("POST") == 0,
        "day within half the daily limit": total <= daily_limit // 2,
        "every cycle ended as expected": all(
            c.result.status in ("ok", "outside_window") for c in cycles
        ),
    }
    return Verdict(
        receivables,
        daily_limit,
        math.ceil(receivables / OPEN_ITEMS_PAGE),
        floor,
        floor + COLD_SLACK,
        total,
        per_action,
        met,
    )


def table(cycles: Sequence[Measured]) -> list[str]:
    """Requests per endpoint (rows) and cycle (columns)."""
    names = [c.name for c in cycles]
    endpoints = sorted({e for c in cycles for e in c.calls})
    width = max(len(e) for e in [*endpoints, "token refreshes (not counted)"])
    head = f"{'endpoint':<{width}}" + "".join(f"{n:>16}" for n in names)
    lines = [head, "-" * len(head)]
    for name in endpoints:
        row = "".join(f"{c.calls.get(name, 0):>16}" for c in cycles)
        lines.append(f"{name:<{width}}{row}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<{width}}" + "".join(f"{c.total:>16}" for c in cycles))
    tokens = "".join(f"{c.token_calls:>16}" for c in cycles)
    lines.append(f"{'token refreshes (not counted)':<{width}}{tokens}")
    status = "".join(f"{c.result.status:>16}" for c in cycles)
    lines.append(f"{'cycle status':<{width}}{status}")
    return lines


def summary(cycles: Sequence[Measured], verdict: Verdict) -> list[str]:
    by_name = {c.name: c for c in cycles}
    day = by_name["working day"]
    counts = day.result.counts
    n = verdict.receivables
    return [
        f"open receivables: {n:,}   customers: {n // 3:,}",
        f"working day: {counts['email_done']} reminders e-mailed, "
        f"{counts['notes_written']} notes written, "
        f"{counts['invoices_closed']} invoices closed",
        f"naive (ReceivablesList, {OPEN_ITEMS_PAGE} a page, every cycle): "
        f"{verdict.naive_cycle} per cycle, {CADENCE * verdict.naive_cycle:,} a day",
        f"minimum cold read (every open term once, {SYNC_PAGE} a page): "
        f"{verdict.cold_floor}",
        f"day of {CADENCE} cycles: {CADENCE} x {by_name['quiet'].total} quiet"
        f" + {day.total - by_name['quiet'].total} working-day extra"
        f" + {by_name['reconcile'].total - by_name['quiet'].total} reconcile extra"
        f" = {verdict.day_total:,} of {verdict.daily_limit:,}"
        f" ({100 * verdict.day_total / verdict.daily_limit:.0f}%)",
        f"working day, requests above a quiet cycle per action: "
        f"{verdict.per_action:.2f}",
    ]


def machine() -> str:
    return describe_machine()


def markdown(cycles: Sequence[Measured], verdict: Verdict, lines: Sequence[str]) -> str:
    by_name = {c.name: c for c in cycles}
    share = 100 * verdict.day_total / verdict.daily_limit
    rows = [
        (
            f"naive: the open-items list at {OPEN_ITEMS_PAGE} a page, every cycle",
            f"{verdict.naive_cycle} a cycle, {CADENCE * verdict.naive_cycle:,} a day",
        ),
        (
            f"minimum for a cold read (each open term once, {SYNC_PAGE} a page)",
            str(verdict.cold_floor),
        ),
        ("minimum for a quiet cycle (one page of each change feed)", "3"),
        ("cold cycle", str(by_name["cold"].total)),
        ("quiet cycle (nothing changed)", str(by_name["quiet"].total)),
        (
            "working-day cycle (changes and reminders)",
            str(by_name["working day"].total),
        ),
        ("weekly reconcile cycle", str(by_name["reconcile"].total)),
        (
            f"a day of {CADENCE} cycles with one working day and a reconcile",
            f"{verdict.day_total:,} ({share:.0f}% of the limit)",
        ),
    ]
    table_md = "\n".join(f"| {what} | {count} |" for what, count in rows)
    checks = "\n".join(
        f"- {'met' if ok else 'MISSED'}: {what}" for what, ok in verdict.met.items()
    )
    output = "\n".join(lines)
    n = verdict.receivables
    return f"""\
## Exact Online API budget

`python bench/api_budget.py exact` (or `python bench/budget_exact.py`). {n:,} open
receivables over {n // 3:,} customers in the emulator; whole cycles through the
core's Runtime over loopback HTTP, on a fake clock. The emulator counts the
requests, per method and endpoint.

Machine: {machine()}. Date: {date.today().isoformat()}.

```
{output}
```

The limit used is Exact's default: {verdict.daily_limit:,} calls a day per
division (and 60 a minute). Token refreshes do not count against it.

| cycle | requests |
| --- | --- |
{table_md}

{checks}

On the working day, the requests above a quiet cycle come to
{verdict.per_action:.1f} per action: the re-read of the entries that changed,
the batched confirm (40 invoices a request), then for each action the look-up
that keeps its note to one per action key, and the note itself.

The weekly reconcile reads the open-items list at {OPEN_ITEMS_PAGE} rows a page and
re-reads the entries 40 at a time: it is the one cycle that grows with N faster
than N/1000. The cold cycle reads the payment-terms feed from its start, settled
terms included: here every term is open, but an administration with years of
settled invoices pays ceil(all terms / 1000) once, on its first cycle.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivables", type=int, default=10_000)
    parser.add_argument("--daily-limit", type=int, default=5_000)
    args = parser.parse_args(argv)
    configure_logging("console", "ERROR")  # the tables are the output
    with tempfile.TemporaryDirectory() as workdir:
        cycles = run_bench(args.receivables, Path(workdir))
    verdict = judge(cycles, args.receivables, args.daily_limit)
    lines = [*table(cycles), "", *summary(cycles, verdict)]
    print("\n".join(lines))
    print()
    print(markdown(cycles, verdict, lines))
    return 0 if all(verdict.met.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
