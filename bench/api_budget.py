"""How many API requests a cycle spends, and how long the rate limit makes it take.

    python bench/api_budget.py moneybird [--invoices 10000 --open 2000]

An emulated Moneybird administration is served over real HTTP, enforcing its limit
of 150 requests per 5 minutes on a fake clock that moves only when the client
sleeps; the client's own limiter sleeps on the same clock. A cold cycle (empty
state store) and a warm cycle 15 minutes later, after 1% of the open invoices
changed, run through the core's ``Cycle``. Their requests are counted by endpoint
and set next to (a) the naive pull, listing every open invoice page by page each
cycle, and (b) the minimum: one synchronization list, one fetch per 100 changed
invoices, one fetch per 100 confirmed, and one request per write.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.base import SourceContext  # noqa: E402
from adapters.moneybird.adapter import MoneybirdAdapter, MoneybirdOptions  # noqa: E402
from adapters.moneybird.client import MoneybirdClient, SlidingWindowLimiter  # noqa: E402
from adapters.moneybird.emulator import (  # noqa: E402
    OPEN_STATES,
    RunningEmulator,
    generate_administration,
    serve_emulator,
)
from adapters.moneybird.emulator.control import LIMIT, WINDOW_S  # noqa: E402
from adapters.moneybird.resources import SalesInvoices  # noqa: E402
from bench.machine import describe_machine  # noqa: E402
from connector.cycle import Cycle, CycleResult  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.policy import Policy, load_policy  # noqa: E402
from connector.runtime import Runtime  # noqa: E402
from connector.store import State, Store  # noqa: E402

TODAY = date(2026, 12, 3)
START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
TOKEN = "bench-token"
RECORD_ID = re.compile(r"/\d{6,}")
POLICY = """\
timezone: Europe/Amsterdam
calendar: NL
send_window: {{days: mon-fri, from: "08:00", until: "20:00"}}
sender: {{name: Acme Debiteuren, email: debiteuren@acme.example}}
templates: {templates}
outbox: outbox
sources:
  - {{name: acme, adapter: moneybird, administration: "{admin}", base_url: "{url}",
      token: {{secret: MB_TOKEN}}}}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
    - {{id: reminder, after: 3 days past due, email: reminder}}
    - {{id: call, after: 8 days past due, task: "Call {{{{ debtor.name }}}}"}}
    - {{id: second, after: 7 days after reminder, email: second_reminder}}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""


class FakeClock:
    """Seconds since the epoch that pass only when someone sleeps on them."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class Measured:
    """What one cycle cost."""

    name: str
    by_endpoint: Counter[str]
    simulated_s: float
    wall_s: float
    refused: int
    result: CycleResult
    minimum: int
    pull: int  # requests made by the pull itself

    @property
    def requests(self) -> int:
        return sum(self.by_endpoint.values())

    @property
    def limit_alone_s(self) -> float:
        return self.requests / LIMIT * WINDOW_S


def endpoint(method: str, path: str) -> str:
    """``POST sales_invoices/{id}/notes`` from a request path."""
    tail = re.sub(r"^/api/v2/\d+/", "", path)
    return f"{method} {RECORD_ID.sub('/{id}', tail)}"


def count_since(emulator: RunningEmulator, start: int) -> tuple[Counter[str], int]:
    seen = emulator.control.requests[start:]
    counted = Counter(endpoint(r.method, r.path) for r in seen)
    return counted, sum(1 for r in seen if r.status == 429)


class Bench:
    """An emulated administration, a state store and the cycles run on them."""

    def __init__(self, invoices: int, open_invoices: int, directory: Path) -> None:
        self.clock = FakeClock(START)
        admin = generate_administration(
            invoices, seed=7, today=TODAY, open_share=open_invoices / invoices
        )
        self.emulator = serve_emulator(admin, token=TOKEN, clock=self.clock)
        self.directory = directory
        self.store = Store.open(f"sqlite:///{directory}/state.db")
        self.policy = self._policy()
        self.limiter = SlidingWindowLimiter(clock=self.clock, sleep=self.clock.sleep)

    def _policy(self) -> Policy:
        text = POLICY.format(
            templates=ROOT / "config" / "templates",
            admin=self.emulator.admin.id,
            url=self.emulator.base_url,
        )
        path = self.directory / "dunning.yaml"
        path.write_text(text, encoding="utf-8")
        return load_policy(path)

    def client(self) -> MoneybirdClient:
        return MoneybirdClient(
            lambda: TOKEN,
            self.emulator.admin.id,
            base_url=self.emulator.base_url,
            limiter=self.limiter,
            sleep=self.clock.sleep,
            wall_clock=self.clock,
        )

    def cycle(self, name: str, changed: int) -> Measured:
        """Run one cycle through the core and count what it asked of the API."""
        options = MoneybirdOptions(
            administration=self.emulator.admin.id,
            token_secret="MB_TOKEN",
            base_url=self.emulator.base_url,
        )
        context = SourceContext(
            name="acme",
            secret=lambda _: TOKEN,
            now=self.clock.moment,
            state_dir=str(self.directory),
        )
        adapter = MoneybirdAdapter(options, context, self.client())
        runtime = Runtime(self.policy, self.store, lambda _: TOKEN)
        cycle = Cycle(
            self.policy, "acme", self.store, adapter, runtime.mailer, self.clock.moment
        )
        log = self.emulator.control.requests
        pulled: list[int] = []
        pull = adapter.pull_changes

        def counted_pull(*args: Any) -> Any:
            changes = pull(*args)
            pulled.append(len(log))
            return changes

        adapter.pull_changes = counted_pull  # type: ignore[method-assign]
        start, simulated = len(log), self.clock()
        ledger_before = {a.key for a in self.store.ledger.find(source="acme")}
        wall = time.perf_counter()
        result = cycle.run()
        wall = time.perf_counter() - wall
        adapter.close()
        by_endpoint, refused = count_since(self.emulator, start)
        return Measured(
            name,
            by_endpoint,
            self.clock() - simulated,
            wall,
            refused,
            result,
            self._minimum(changed, ledger_before),
            pulled[0] - start,
        )

    def _minimum(self, changed: int, before: set[str]) -> int:
        """One list, a fetch per 100 changed, a fetch per 100 confirmed, writes."""
        new = [a for a in self.store.ledger.find(source="acme") if a.key not in before]
        confirmed = {k for a in new for k in a.invoice_keys}
        writes = sum(
            len(a.invoice_keys)
            for a in new
            if a.state is State.DONE and (a.note_state == "done" or a.channel == "task")
        )
        return 1 + math.ceil(changed / 100) + math.ceil(len(confirmed) / 100) + writes

    def change(self, share: float) -> int:
        """Change ``share`` of the open invoices: payments, settlements, edits."""
        admin = self.emulator.admin
        with admin.lock:
            chosen = sorted(i["id"] for i in admin.open_invoices())
            picked = chosen[:: max(1, round(1 / share))][: round(len(chosen) * share)]
            for n, key in enumerate(picked):
                invoice = admin.invoices[key]
                unpaid = Decimal(invoice["total_unpaid"])
                if n % 3 == 0:
                    admin.add_payment(key, unpaid, TODAY)  # paid in full
                elif n % 3 == 1 and unpaid > 10:
                    admin.add_payment(key, Decimal("10.00"), TODAY)
                else:
                    due = date.fromisoformat(invoice["due_date"]) + timedelta(days=14)
                    invoice["due_date"] = due.isoformat()  # a new arrangement
                    admin.touch(invoice)
        return len(picked)

    def naive_pull(self) -> tuple[int, float]:
        """List every open invoice page by page, as a plain client would."""
        start, simulated = len(self.emulator.control.requests), self.clock()
        years = f"{TODAY.year - 5}01..{TODAY.year}12"
        listed = list(
            SalesInvoices(self.client()).list(states=OPEN_STATES, period=years)
        )
        assert len(listed) == len(self.emulator.admin.open_invoices())
        return len(self.emulator.control.requests) - start, self.clock() - simulated

    def close(self) -> None:
        self.emulator.stop()
        self.store.close()


def report(runs: list[Measured], naive: int, bench: Bench) -> None:
    admin = bench.emulator.admin
    print(
        f"administration: {len(admin.invoices)} invoices, "
        f"{sum(1 for i in admin.invoices.values() if i['state'] in OPEN_STATES)} "
        f"open at the end; emulator limit {LIMIT} per {WINDOW_S} s on a fake clock"
    )
    for run in runs:
        counts = run.result.counts
        print(f"\n{run.name}: status {run.result.status}, {run.requests} requests")
        for name, count in sorted(run.by_endpoint.items()):
            print(f"  {count:6d}  {name}")
        naive_total = naive + run.requests - run.pull
        print(
            f"  actions: {counts.get('email_done', 0)} emails, "
            f"{counts.get('task_done', 0)} tasks, "
            f"{counts.get('notes_written', 0)} notes written back"
        )
        print(
            f"  ours {run.requests} (pull {run.pull}) | naive {naive_total} "
            f"(pull: a {naive}-page list) | minimum {run.minimum}"
        )
        print(f"  429 answers: {run.refused}")
        ratio = run.simulated_s / run.limit_alone_s if run.limit_alone_s else 0.0
        print(
            f"  simulated seconds {run.simulated_s:.0f}; the rate limit alone imposes "
            f"{run.limit_alone_s:.0f} ({run.requests}/{LIMIT}*{WINDOW_S}); "
            f"ratio {ratio:.2f}; wall {run.wall_s:.1f} s"
        )


def machine() -> str:
    return describe_machine()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["exact"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from budget_exact import main as exact_budget

        return int(exact_budget(argv[1:]) or 0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", choices=["moneybird", "exact"])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--open", type=int, default=2_000)
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args(argv)
    configure_logging("console", "WARNING")  # one line per cycle is noise here

    with tempfile.TemporaryDirectory() as directory:
        bench = Bench(args.invoices, args.open, Path(directory))
        try:
            print(f"machine: {machine()}")
            open_now = len(bench.emulator.admin.open_invoices())
            cold = bench.cycle("cold cycle", changed=open_now)
            bench.clock.sleep(15 * 60)
            changed = bench.change(args.changed)
            warm = bench.cycle(f"warm cycle (+15 min, {changed} changed)", changed)
            bench.clock.sleep(60 * 60)
            changed = bench.change(args.changed)
            hourly = bench.cycle(
                f"warm cycle with the hourly contact check (+75 min, {changed} "
                "changed)",
                changed,
            )
            naive, naive_s = bench.naive_pull()
            report([cold, warm, hourly], naive, bench)
            print(f"\nnaive pull alone: {naive} requests, {naive_s:.0f} simulated s")
        finally:
            bench.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
