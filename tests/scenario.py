"""A whole source for scenario tests: a CSV export, a store, SMTP and a fake clock.

Each scenario writes an open-items CSV, runs cycles at set local times and lets
the test check what the mail server received, what the ledger says, what the
journal holds and which files landed in the print and agency folders.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from connector.cycle import CycleResult
from connector.policy import Policy, load_policy
from connector.runtime import Runtime
from connector.settings import Secrets
from connector.store import ActionRecord, State, Store
from tests.factories import TEMPLATES
from tests.smtp import Received, SmtpServer

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

POLICY = """\
timezone: Europe/Amsterdam
calendar: NL
send_window: {window}
schedule: {{every: {every}}}
sender: {{name: Acme Debiteuren, email: debiteuren@acme.example}}
smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout_s: 5}}
templates: {templates}
outbox: outbox
sources:
  - {{name: acme, adapter: csv, path: {items}}}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
{steps}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""

OFFICE_HOURS = '{days: mon-fri, from: "09:00", until: "17:00"}'
ALWAYS_OPEN = '{days: mon-sun, from: "00:00", until: "23:59"}'
REMINDER_ONLY = """\
- {id: reminder, after: 3 days past due, email: reminder}
"""

COLUMNS = (
    "invoice_id",
    "invoice_number",
    "debtor_id",
    "debtor_name",
    "debtor_kind",
    "email",
    "language",
    "tags",
    "address",
    "postcode",
    "city",
    "issue_date",
    "due_date",
    "currency",
    "total",
    "open_amount",
)


def row(
    debtor: dict[str, str],
    invoice_id: str,
    due: str,
    open_amount: str,
    *,
    total: str | None = None,
    issued: str = "2026-10-01",
) -> dict[str, str]:
    """One open-items row; values are written as given, broken ones included."""
    return {
        **debtor,
        "invoice_id": invoice_id,
        "invoice_number": f"2026-{invoice_id}",
        "issue_date": issued,
        "due_date": due,
        "currency": "EUR",
        "total": open_amount if total is None else total,
        "open_amount": open_amount,
    }


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0):
    """A wall-clock time in Amsterdam."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


@dataclass
class FakeClock:
    """The time the core sees: an aware UTC datetime that the test moves."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


class Scenario:
    """One source on a CSV file, with its store, mail server and clock."""

    def __init__(self, directory: Path, smtp: SmtpServer):
        self.directory = directory
        self.smtp = smtp
        self.items = directory / "open_items.csv"
        self.journal = directory / "open_items.journal.csv"
        self.state_url = f"sqlite:///{directory / 'state.db'}"
        self.clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
        self.store = Store.open(self.state_url, self.clock)
        self.secrets: dict[str, str] = {}  # what the policy's secrets resolve to
        self._runtime: Runtime | None = None

    def policy_text(
        self,
        steps: str = REMINDER_ONLY,
        window: str = OFFICE_HOURS,
        every="15 min",
        extra: str = "",
    ) -> str:
        """The policy with these steps; ``extra`` is top-level YAML added at the end."""
        indented = "".join(f"    {line}\n" for line in steps.strip().splitlines())
        text = POLICY.format(
            window=window,
            every=every,
            port=self.smtp.port,
            templates=TEMPLATES,
            items=self.items,
            steps=indented.rstrip("\n"),
        )
        return text + extra

    def configure(self, steps: str = REMINDER_ONLY, **options: str) -> Policy:
        path = self.directory / "dunning.yaml"
        path.write_text(self.policy_text(steps, **options), encoding="utf-8")
        policy = load_policy(path)
        self._runtime = Runtime(
            policy,
            self.store,
            Secrets(environ=self.secrets),
            clock=self.clock,
            state_dir=self.directory / "state",
        )
        return policy

    def write_items(self, *rows: dict[str, str]) -> None:
        with self.items.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    def run_at(self, when: datetime) -> CycleResult:
        """One cycle of the source with the clock at ``when``."""
        assert self._runtime is not None, "configure() first"
        self.clock.now = when.astimezone(UTC)
        return self._runtime.run_source("acme")

    @property
    def sent(self) -> list[Received]:
        return self.smtp.received

    def actions(self, state: State | None = None) -> list[ActionRecord]:
        states = None if state is None else [state]
        return self.store.ledger.find(source="acme", states=states)

    def journal_rows(self) -> list[dict[str, str]]:
        if not self.journal.exists():
            return []
        with self.journal.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))


def sent_on(message: Received) -> datetime:
    """The Date header of a message, in Amsterdam time."""
    stamp = message.message["Date"].datetime
    return stamp.astimezone(AMSTERDAM)
