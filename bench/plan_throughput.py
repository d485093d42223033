"""Plan 1,000,000 open invoices over 100,000 debtors; report time and peak memory.

    python bench/plan_throughput.py [--invoices N] [--debtors N]

Targets: under 10 s and under 1.5 GB peak on one core. The inputs are built in
memory first (as the cycle gets them from the store); only `plan_actions` is timed.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.domain import Debtor, DebtorKind, Invoice
from connector.planner import plan_actions
from connector.store import State, StepRecord
from tests.factories import make_policy

STEPS = """\
- {id: reminder, after: 3 days past due, email: reminder}
- {id: call, after: 8 days past due, task: "Call", when: {min_open_amount: 250}}
- {id: second, after: 7 days after reminder, email: second_reminder}
- {id: demand, after: 14 business days after second, email: demand}
"""


def build(invoices: int, debtors: int, today: date, seed: int = 1):
    rng = random.Random(seed)
    people = {}
    for n in range(debtors):
        key = f"d{n}"
        kind = DebtorKind.PERSON if n % 3 == 0 else DebtorKind.BUSINESS
        people[key] = Debtor(key, f"Debtor {n}", kind, (f"ap{n}@x.example",), "nl")
    found = []
    progress = {}
    amounts = [Decimal(f"{rng.randint(500, 2_500_000) / 100:.2f}") for _ in range(997)]
    for n in range(invoices):
        due = today - timedelta(days=rng.randint(-30, 90))
        amount = amounts[n % 997]
        key = f"i{n}"
        found.append(
            Invoice(
                key,
                f"d{n % debtors}",
                f"2026-{n:07d}",
                due - timedelta(days=30),
                due,
                "EUR",
                amount,
                amount,
            )
        )
        if (today - due).days > 10 and n % 2:
            progress[key] = {
                "reminder": StepRecord(State.DONE, due + timedelta(days=3))
            }
    return people, found, progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--debtors", type=int, default=100_000)
    args = parser.parse_args()
    today = date(2026, 12, 3)
    with tempfile.TemporaryDirectory() as tmp:
        policy = make_policy(Path(tmp), STEPS)
    people, found, progress = build(args.invoices, args.debtors, today)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = plan_actions("bench", people, found, [], progress, policy, today)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} "
        f"python {platform.python_version()}"
    )
    print(f"invoices: {args.invoices:,}  debtors: {args.debtors:,}")
    print(f"actions: {len(result.actions):,}  skips: {len(result.skips):,}")
    print(f"plan time: {elapsed:.2f} s")
    print(f"peak RSS: {peak:.0f} MiB (inputs built: {before:.0f} MiB)")


if __name__ == "__main__":
    main()
