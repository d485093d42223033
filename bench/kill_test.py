"""Kill test: ``dunning run --once`` killed at random moments, restarted, checked.

The harness process serves an emulated Moneybird, an emulated Exact Online (with
a token grant seeded in the store) and a real SMTP server on loopback. It then
runs the connector as a subprocess again and again, killing it with SIGKILL at a
random moment (or at a named crash point, ``DUNNING_CRASH_AT``), and moves the
books on between rounds: due dates slide back a few days (the core reads the
real clock, so the invoices age instead), invoices are paid, added and deleted,
and the Exact access token is aged so that refreshes happen under fire.

Afterwards it checks the promises: no message sent twice, no note or task
written twice, no action left pending or sending, and a mirror equal to the
books. Run ``python bench/kill_test.py --kills 200 --seed 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.exact.emulator import (  # noqa: E402
    DEFAULT_CLIENT,
    EmulatorState,
    SystemClock,
)
from adapters.exact.emulator import RunningEmulator as ExactEmulator  # noqa: E402
from adapters.exact.emulator import (  # noqa: E402
    generate_administration as generate_exact,
)
from adapters.exact.emulator import serve_emulator as serve_exact  # noqa: E402
from adapters.exact.tokens import Credentials  # noqa: E402
from adapters.moneybird.emulator import RunningEmulator as MoneybirdEmulator  # noqa
from adapters.moneybird.emulator import (  # noqa: E402
    generate_administration as generate_moneybird,
)
from adapters.moneybird.emulator import serve_emulator as serve_moneybird  # noqa
from adapters.moneybird.emulator.data import parse_money  # noqa: E402
from adapters.moneybird.emulator.seed import build_invoice  # noqa: E402
from bench.machine import describe_machine  # noqa: E402
from connector.cycle import CycleResult  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.policy import load_policy  # noqa: E402
from connector.runtime import Runtime  # noqa: E402
from connector.settings import Secrets  # noqa: E402
from connector.store import State, Store  # noqa: E402
from tests.smtp import RecordingHandler, SmtpServer, serve  # noqa: E402

MONEYBIRD, EXACT = "books", "exact"
ADMINISTRATION = "123456789012345678"
DIVISION = 1234567
MB_TOKEN = "kill-test-token"
TEMPLATES = ROOT / "config" / "templates"
DUNNING = Path(sys.executable).parent / "dunning"
TAG_START = "[dunning:"
CRASH_POINTS = (
    "after_pull",
    "mirror_before_cursor",
    "after_mirror",
    "after_plan",
    "after_confirm",
    "after_record",
    "before_send",
    "after_send",
    "before_write_back",
    "after_note",
    "after_token_response",
    "after_token_saved",
)
#: The last crash point a child passed, and the phase it was in after it.
PHASE_AFTER = {
    "after_pull": "mirror",
    "mirror_before_cursor": "mirror",
    "after_mirror": "plan",
    "after_plan": "confirm",
    "after_confirm": "record",
    "after_record": "send",
    "before_send": "send",
    "after_send": "send",
    "before_write_back": "write-back",
    "after_note": "write-back",
    "after_token_response": "token refresh",
    "after_token_saved": "pull",
}
FINAL_STATES = {
    State.DONE,
    State.SKIPPED,
    State.FAILED,
    State.DEFERRED,
    State.NEEDS_REVIEW,
}
POLICY = """\
timezone: Europe/Amsterdam
calendar: NL
send_window: {{days: mon-sun, from: "00:00", until: "23:59", holidays: true}}
sender: {{name: Acme Debiteuren, email: debiteuren@acme.example}}
templates: {templates}
outbox: outbox
smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, timeout_s: 3}}
sources:
  - name: {moneybird}
    adapter: moneybird
    administration: "{administration}"
    base_url: {moneybird_url}
    token: {{secret: KILL_TEST_MB_TOKEN}}
    connect_timeout_s: 1
    read_timeout_s: {read_timeout}
  - name: {exact}
    adapter: exact
    division: {division}
    base_url: {exact_url}
    client_id_secret: KILL_TEST_EXACT_ID
    client_secret_secret: KILL_TEST_EXACT_SECRET
    read_timeout_s: {read_timeout}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
    - {{id: reminder, after: 3 days past due, email: reminder}}
    - {{id: call, after: 8 days past due, task: "Call {{{{ debtor.name }}}}"}}
    - {{id: second, after: 15 days past due, email: second_reminder}}
    - {{id: logged, after: 22 days past due, note: "Still open after 22 days"}}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""


class ShiftedClock(SystemClock):
    """The real time plus an offset the harness moves (for token lifetimes)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class ChildRun:
    """One ``dunning run --once`` subprocess and how it ended."""

    exit_code: int
    killed: bool
    seconds: float
    events: list[dict[str, Any]]
    stdout: str
    stderr: str
    crash_at: str | None = None
    phase: str = ""

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr

    def finished(self) -> dict[str, str]:
        """The status of each source's ``cycle_finished`` event."""
        return {
            str(e.get("source")): str(e.get("status"))
            for e in self.events
            if e.get("event") == "cycle_finished"
        }


@dataclass
class World:
    """Emulated books, an SMTP server, a store and a policy, in one directory."""

    directory: Path
    moneybird: MoneybirdEmulator
    exact: ExactEmulator
    exact_clock: ShiftedClock
    smtp: SmtpServer
    store: Store
    policy_path: Path
    state_url: str
    reauthorisations: int = 0
    deleted: list[dict[str, Any]] = field(default_factory=list)  # with their notes

    @property
    def exact_state(self) -> EmulatorState:
        return self.exact.state

    def env(self, crash_at: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DUNNING_STATE_URL=self.state_url,
            DUNNING_LOG_FORMAT="json",
            DUNNING_LOG_LEVEL="DEBUG",
            KILL_TEST_MB_TOKEN=MB_TOKEN,
            KILL_TEST_EXACT_ID=DEFAULT_CLIENT[0],
            KILL_TEST_EXACT_SECRET=DEFAULT_CLIENT[1],
        )
        env.pop("DUNNING_CRASH_AT", None)
        if crash_at:
            env["DUNNING_CRASH_AT"] = crash_at
        return env

    def run_child(
        self,
        kill_after: float | None = None,
        crash_at: str | None = None,
        timeout: float = 90.0,
        kill_at_line: int | None = None,
    ) -> ChildRun:
        """Run one cycle of every source as a subprocess; kill it if asked.

        ``kill_after`` kills it that many seconds after its start;
        ``kill_at_line`` right after it logged that many lines.
        """
        command = [str(DUNNING), "run", "--once", "--config", str(self.policy_path)]
        seen_mb = len(self.moneybird.control.requests)
        seen_exact = len(self.exact_state.requests)
        out_path = self.directory / "child.out"
        err_path = self.directory / "child.err"
        started = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            child = subprocess.Popen(
                command,
                env=self.env(crash_at),
                stdout=out,
                stderr=err,
                cwd=self.directory,
                start_new_session=True,
            )
            if kill_at_line is not None:
                _wait_for_lines(child, err_path, kill_at_line, timeout)
                kill_after = 0.0
            killed = False
            try:
                child.wait(timeout=timeout if kill_after is None else kill_after)
            except subprocess.TimeoutExpired:
                os.kill(child.pid, signal.SIGKILL)
                child.wait()
                killed = True
        seconds = time.monotonic() - started
        stderr = err_path.read_text(errors="replace")
        run = ChildRun(
            exit_code=child.returncode,
            killed=killed or child.returncode == -signal.SIGKILL,
            seconds=seconds,
            events=_events(stderr),
            stdout=out_path.read_text(errors="replace"),
            stderr=stderr,
            crash_at=crash_at,
        )
        exact_new = self.exact_state.requests[seen_exact:]
        token_hit = any(r.path.endswith("/oauth2/token") for r in exact_new)
        mb_hit = len(self.moneybird.control.requests) > seen_mb
        run.phase = phase_of(run.events, mb_hit, token_hit)
        return run

    def run_in_process(self, later: timedelta) -> list[CycleResult]:
        """One cycle of every source in this process, ``later`` than now.

        Deferred actions wait 15 minutes or more; this is how a test lets that
        time pass. The stored Exact grant moves along, so it keeps its age.
        """
        self._shift_credentials(later)
        environ = self.env()
        policy = load_policy(self.policy_path, Secrets(environ=environ))
        runtime = Runtime(
            policy,
            self.store,
            Secrets(environ=environ),
            clock=lambda: datetime.now(UTC) + later,
            state_dir=self.directory / "state",
        )
        results = runtime.run_all()
        self._shift_credentials(-later)
        return results

    def age_exact_token(self) -> None:
        """Let ten minutes pass for the Exact grant: the next cycle refreshes."""
        self.exact_clock.advance(600)
        self._shift_credentials(timedelta(seconds=-600))

    def _shift_credentials(self, by: timedelta) -> None:
        data = self.store.load_credentials(EXACT)
        if not data:
            return
        for name in ("obtained_at", "expires_at"):
            moment = datetime.fromisoformat(data[name]) + by
            data[name] = moment.isoformat()
        self.store.save_credentials(EXACT, data)

    def reauthorise_if_needed(self) -> bool:
        """What an operator does after ``dunning auth exact`` is asked for."""
        data = self.store.load_credentials(EXACT)
        if data and data.get("status", "active") == "active":
            return False
        self.grant_exact()
        self.reauthorisations += 1
        return True

    def grant_exact(self) -> None:
        grant = self.exact_state.grant()
        now = datetime.now(UTC)
        credentials = Credentials.from_token_response(grant, now)
        self.store.save_credentials(EXACT, credentials.to_dict())

    def advance_days(self, rng: random.Random, days: int) -> Counter[str]:
        """Let ``days`` pass in both books, with payments and new invoices."""
        changes: Counter[str] = Counter()
        changes.update(_age_moneybird(self.moneybird, rng, days, self.deleted))
        changes.update(_age_exact(self.exact_state, rng, days))
        return changes


@contextmanager
def start_world(
    directory: Path,
    *,
    seed: int = 1,
    moneybird_invoices: int = 48,
    exact_receivables: int = 30,
    read_timeout: float = 2.0,
) -> Iterator[World]:
    """Serve both emulators and an SMTP server, seed the grant, write the policy."""
    with ExitStack() as stack:
        today = date.today()
        admin = generate_moneybird(
            moneybird_invoices,
            seed=seed,
            today=today,
            administration_id=ADMINISTRATION,
        )
        moneybird = serve_moneybird(admin, token=MB_TOKEN)
        stack.callback(moneybird.stop)
        moneybird.control.limiter.limit = 1_000_000  # many processes, one window
        clock = ShiftedClock()
        state = generate_exact(
            exact_receivables, seed=seed, divisions=(DIVISION,), clock=clock
        )
        state.limits.minutely = 1_000_000
        state.limits.daily = 1_000_000
        exact = serve_exact(state)
        stack.callback(exact.stop)
        smtp = stack.enter_context(serve(RecordingHandler()))
        state_url = f"sqlite:///{directory}/state.db"
        store = Store.open(state_url)
        stack.callback(store.close)
        policy_path = directory / "dunning.yaml"
        policy_path.write_text(
            POLICY.format(
                templates=TEMPLATES,
                smtp_port=smtp.port,
                moneybird=MONEYBIRD,
                administration=ADMINISTRATION,
                moneybird_url=moneybird.base_url,
                exact=EXACT,
                division=DIVISION,
                exact_url=exact.base_url,
                read_timeout=read_timeout,
            ),
            encoding="utf-8",
        )
        world = World(
            directory, moneybird, exact, clock, smtp, store, policy_path, state_url
        )
        world.grant_exact()
        yield world


# -- moving the books on -------------------------------------------------------


def _age_moneybird(
    emulator: MoneybirdEmulator,
    rng: random.Random,
    days: int,
    deleted: list[dict[str, Any]],
) -> Counter[str]:
    admin = emulator.admin
    changes: Counter[str] = Counter()
    with admin.lock:
        open_ids = [i["id"] for i in admin.open_invoices()]
        for key in open_ids:
            invoice = admin.invoices[key]
            for name in ("due_date", "invoice_date"):
                if invoice.get(name):
                    moved = date.fromisoformat(invoice[name]) - timedelta(days=days)
                    invoice[name] = moved.isoformat()
            admin.touch(invoice)
        unpaid = [
            k for k in open_ids if parse_money(admin.invoices[k]["total_unpaid"]) > 0
        ]
        for key in rng.sample(unpaid, min(2, len(unpaid))):
            rest = parse_money(admin.invoices[key]["total_unpaid"])
            part = rest if rng.random() < 0.7 else (rest / 2).quantize(Decimal("0.01"))
            admin.add_payment(key, part)
            changes["moneybird_payments"] += 1
        contacts = list(admin.contacts.values())
        for _ in range(rng.randint(1, 2)):
            issued = admin.today - timedelta(days=rng.randint(10, 30))
            total = Decimal(rng.randint(2500, 90000)) / 100
            invoice = build_invoice(
                admin,
                rng.choice(contacts),
                number=f"K-{admin.new_id()[-6:]}",
                state="open",
                issued=issued,
                days=14,
                total=total,
            )
            admin.invoices[invoice["id"]] = invoice
            changes["moneybird_added"] += 1
        if unpaid and rng.random() < 0.15:
            deleted.append(admin.invoices.pop(rng.choice(unpaid)))
            changes["moneybird_deleted"] += 1
    return changes


def _age_exact(state: EmulatorState, rng: random.Random, days: int) -> Counter[str]:
    changes: Counter[str] = Counter()
    division = state.divisions[DIVISION]
    with state.lock:
        open_terms = [
            t
            for t in division.terms.values()
            if t["LineType"] == 20 and not t["IsFullyPaid"]
        ]
        for term in open_terms:
            term["DueDate"] = term["DueDate"] - timedelta(days=days)
            term["TransactionDueDate"] = term["DueDate"]
            state.stamp(term)
        positive = [t for t in open_terms if t["AmountFC"] > 0]
        for term in rng.sample(positive, min(2, len(positive))):
            amount = term["AmountFC"]
            if rng.random() >= 0.7:
                amount = (amount / 2).quantize(Decimal("0.01"))
            state.pay(DIVISION, term["TransactionEntryID"], amount, date.today())
            changes["exact_payments"] += 1
        accounts = list(division.accounts)
        today = state.now().date()
        for _ in range(rng.randint(1, 2)):
            issued = today - timedelta(days=rng.randint(10, 30))
            state.add_invoice(
                DIVISION,
                rng.choice(accounts),
                rng.randint(27_900_000, 27_999_999),
                Decimal(rng.randint(2500, 90000)) / 100,
                invoice_date=issued,
                due_date=issued + timedelta(days=14),
            )
            changes["exact_added"] += 1
        if positive and rng.random() < 0.15:
            entry = rng.choice(positive)["TransactionEntryID"]
            if any(not t["IsFullyPaid"] for t in state.terms_of(DIVISION, entry)):
                state.delete_invoice(DIVISION, entry)
                changes["exact_deleted"] += 1
    return changes


# -- reading what a child did --------------------------------------------------


def _wait_for_lines(
    child: subprocess.Popen[bytes], path: Path, lines: int, timeout: float
) -> None:
    """Return once the child wrote ``lines`` lines to ``path`` or ended."""
    deadline = time.monotonic() + timeout
    while child.poll() is None and time.monotonic() < deadline:
        if path.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.002)


def _events(stderr: str) -> list[dict[str, Any]]:
    events = []
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # the line the kill cut in half
    return events


def phase_of(events: list[dict[str, Any]], moneybird_hit: bool, token: bool) -> str:
    """Which phase a killed child was in, from the last thing it logged."""
    last = events[-1] if events else None
    if last is None:
        return "pull" if moneybird_hit else "startup"
    name = last.get("event")
    if name == "crash_point_passed":
        return PHASE_AFTER.get(str(last.get("point")), "other")
    if name == "exact_request":
        return "pull/confirm (http)"
    if name == "cycle_finished":
        if last.get("source") == EXACT:
            return "exit"
        return "token refresh" if token else "pull"
    if name in ("note_written", "note_failed", "note_not_written"):
        return "write-back"
    if name == "exact_token_refreshed":
        return "pull"
    if str(name).endswith(("_sent", "_created")) or name == "action_skipped":
        return "send"
    if name == "action_interrupted":
        return "pull"
    return f"other ({name})"


# -- the checks ----------------------------------------------------------------


@dataclass
class Findings:
    """What the checks after the run found."""

    messages: int = 0
    duplicate_messages: int = 0
    duplicate_actions_at_smtp: int = 0
    notes: int = 0
    duplicate_notes: int = 0
    unfinished: int = 0
    done_not_delivered: int = 0
    delivered_not_recorded: int = 0
    notes_missing: int = 0
    mirror_differences: int = 0
    ledger: Counter[str] = field(default_factory=Counter)
    review_delivered: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return (
            self.unfinished
            + self.done_not_delivered
            + self.delivered_not_recorded
            + self.notes_missing
        )


def check(world: World) -> Findings:
    """Check the promises against the SMTP server, both books and the store."""
    found = Findings()
    received = list(world.smtp.received)
    found.messages = len(received)
    ids = Counter(str(m.message["Message-ID"]) for m in received)
    keys = Counter(str(m.message["X-Dunning-Action"]) for m in received)
    found.duplicate_messages = sum(n - 1 for n in ids.values())
    found.duplicate_actions_at_smtp = sum(n - 1 for n in keys.values())
    found.details += [f"sent twice: {k}" for k, n in keys.items() if n > 1]

    markers = _markers(world)
    found.notes = len(markers)
    doubled = {place: n for place, n in markers.items() if n > 1}
    found.duplicate_notes = sum(n - 1 for n in doubled.values())
    found.details += [f"written twice: {p}" for p in doubled]

    actions = world.store.ledger.find()
    found.ledger = Counter(a.state.value for a in actions)
    written = {key for _, key in markers}
    for action in actions:
        if action.state not in FINAL_STATES and action.state is not State.REJECTED:
            found.unfinished += 1
            found.details.append(f"left {action.state.value}: {action.key}")
        delivered = action.key in keys
        if action.channel == "email" and action.state is State.DONE and not delivered:
            found.done_not_delivered += 1
            found.details.append(f"done, never delivered: {action.key}")
        if action.state is State.NEEDS_REVIEW and delivered:
            found.review_delivered += 1
        in_books = action.note_state == "done" or action.channel in ("task", "note")
        if action.state is State.DONE and in_books and action.key not in written:
            found.notes_missing += 1
            found.details.append(f"note missing in the books: {action.key}")
        if action.state is State.DONE and action.note_state == "pending":
            found.notes_missing += 1
            found.details.append(f"note still pending: {action.key}")
    recorded = {a.key for a in actions}
    for key in keys:
        if key not in recorded:
            found.delivered_not_recorded += 1
            found.details.append(f"delivered without a ledger entry: {key}")

    differences = _mirror_differences(world)
    found.mirror_differences = len(differences)
    found.details += differences
    return found


def _markers(world: World) -> Counter[tuple[str, str]]:
    """How often each action key is written on each record, in both books."""
    counts: Counter[tuple[str, str]] = Counter()
    admin = world.moneybird.admin
    kinds = (
        ("invoice", list(admin.invoices.values()) + world.deleted),
        ("contact", list(admin.contacts.values())),
    )
    for kind, records in kinds:
        for record in records:
            for note in record.get("notes", []):
                for key in _keys_in(str(note.get("note", ""))):
                    counts[(f"moneybird {kind} {record['id']}", key)] += 1
    division = world.exact_state.divisions[DIVISION]
    for kind, rows, text in (
        ("note", division.notes, "Subject"),
        ("task", division.tasks, "Description"),
    ):
        for row in list(rows.values()):
            for key in _keys_in(str(row.get(text, ""))):
                counts[(f"exact {kind} {row.get('Account')}", key)] += 1
    return counts


def _keys_in(text: str) -> list[str]:
    keys = []
    for part in text.split(TAG_START)[1:]:
        key, closed, _ = part.partition("]")
        if closed:
            keys.append(key)
    return keys


def _mirror_differences(world: World) -> list[str]:
    books = {
        MONEYBIRD: _moneybird_open(world.moneybird),
        EXACT: _exact_open(world.exact_state),
    }
    differences = []
    for source, expected in books.items():
        mirrored = {
            i.key: i.open_amount for i in world.store.mirror.snapshot(source).invoices
        }
        for key in sorted(expected.keys() | mirrored.keys()):
            want, have = expected.get(key), mirrored.get(key)
            if want is None or have is None or want != have:
                differences.append(f"mirror {source} {key}: books {want}, {have}")
    return differences


def _moneybird_open(emulator: MoneybirdEmulator) -> dict[str, Decimal]:
    return {
        i["id"]: parse_money(i["total_unpaid"]) for i in emulator.admin.open_invoices()
    }


def _exact_open(state: EmulatorState) -> dict[str, Decimal]:
    open_amounts: dict[str, Decimal] = {}
    for term in state.divisions[DIVISION].terms.values():
        if term["LineType"] != 20 or term["IsFullyPaid"]:
            continue
        key = str(term["TransactionEntryID"]).lower()
        open_amounts[key] = open_amounts.get(key, Decimal(0)) + term["AmountFC"]
    return open_amounts


# -- the run -------------------------------------------------------------------


@dataclass
class KillReport:
    """Everything a kill run counted, and what the checks found."""

    kills: int = 0
    runs: int = 0
    cycles: Counter[str] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    crash_points: Counter[str] = field(default_factory=Counter)
    days: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    reauthorisations: int = 0
    deleted: list[dict[str, Any]] = field(default_factory=list)  # with their notes
    tracebacks: int = 0
    hung: int = 0
    seconds: float = 0.0
    findings: Findings = field(default_factory=Findings)


def run_kill_test(
    world: World,
    kills: int,
    seed: int,
    *,
    crash_share: float = 0.35,
    kills_per_day: int = 6,
    deadline_s: float | None = None,
    say: Any = None,
) -> KillReport:
    """Kill ``kills`` children at random moments, then settle and check."""
    rng = random.Random(seed)
    report = KillReport()
    started = time.monotonic()
    clean = world.run_child()
    _count(report, clean)
    lines, total = max(2, len(clean.events)), clean.seconds
    while report.kills < kills:
        if deadline_s is not None and time.monotonic() - started > deadline_s:
            break
        roll = rng.random()
        if roll < crash_share:
            run = world.run_child(crash_at=rng.choice(CRASH_POINTS))
        elif roll < crash_share + (1 - crash_share) / 2:
            run = world.run_child(kill_at_line=rng.randint(1, lines))
        else:
            run = world.run_child(kill_after=rng.uniform(0.3, total * 1.05))
        if not run.killed:
            lines, total = max(2, len(run.events)), run.seconds
        _count(report, run)
        if world.reauthorise_if_needed():
            report.reauthorisations += 1
        if run.killed and report.kills % kills_per_day == 0:
            days = rng.randint(1, 3)
            report.days += days
            report.changes.update(world.advance_days(rng, days))
            if report.kills % (kills_per_day * 2) == 0:
                world.age_exact_token()
        if say is not None and run.killed and report.kills % 10 == 0:
            say(f"  {report.kills} kills, {report.runs} runs, phases {report.phases}")
    settle(world, report)
    report.seconds = time.monotonic() - started
    report.findings = check(world)
    return report


def settle(world: World, report: KillReport) -> None:
    """Clean runs until both sources finish a cycle: nothing left half done."""
    for _ in range(4):
        run = world.run_child()
        _count(report, run)
        world.reauthorise_if_needed()
        if set(run.finished().values()) <= {"ok"} and len(run.finished()) == 2:
            break
    # Deferred actions retry 15 minutes later, at the earliest: let that pass.
    for result in world.run_in_process(timedelta(hours=6)):
        report.cycles[result.status] += 1


def _count(report: KillReport, run: ChildRun) -> None:
    report.runs += 1
    for status in run.finished().values():
        report.cycles[status] += 1
    if run.traceback:
        report.tracebacks += 1
    if run.killed:
        report.kills += 1
        report.phases[run.phase] += 1
        if run.crash_at:
            report.crash_points[run.crash_at] += 1


# -- the command ---------------------------------------------------------------


def machine() -> str:
    return describe_machine()


def summary(report: KillReport, kills: int, seed: int) -> str:
    found = report.findings
    rows = [
        ("kills (asked)", f"{report.kills} ({kills}), seed {seed}"),
        ("runs of `dunning run --once`", report.runs),
        ("source cycles finished, by status", _pairs(report.cycles)),
        ("kills by phase", _pairs(report.phases)),
        ("of them at a crash point", _pairs(report.crash_points)),
        ("simulated days", report.days),
        ("changes in the books", _pairs(report.changes)),
        ("Exact grants lost and re-authorised", report.reauthorisations),
        ("messages received by SMTP", found.messages),
        ("notes and tasks in the books", found.notes),
        ("ledger, by state", _pairs(found.ledger)),
        ("needs_review, message had gone out", found.review_delivered),
        ("duplicate messages (Message-ID)", found.duplicate_messages),
        ("duplicate messages (X-Dunning-Action)", found.duplicate_actions_at_smtp),
        ("duplicate notes or tasks", found.duplicate_notes),
        ("lost actions", found.lost),
        ("mirror differences", found.mirror_differences),
        ("tracebacks on stderr", report.tracebacks),
        ("wall time", f"{report.seconds:.0f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"| {name.ljust(width)} | {value} |" for name, value in rows]
    return "\n".join(lines + [f"  {d}" for d in found.details[:20]])


def _pairs(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=25.0, help="stop killing")
    args = parser.parse_args()
    print(f"machine: {machine()}; {datetime.now(UTC):%Y-%m-%d}")
    configure_logging("console", "WARNING")  # the in-process catch-up cycle
    with (
        tempfile.TemporaryDirectory(prefix="kill-test-") as folder,
        start_world(Path(folder), seed=args.seed) as world,
    ):
        report = run_kill_test(
            world,
            args.kills,
            args.seed,
            deadline_s=args.minutes * 60,
            say=lambda text: print(text, flush=True),
        )
    print(summary(report, args.kills, args.seed))
    found = report.findings
    broken = found.duplicate_actions_at_smtp + found.duplicate_notes + found.lost
    return 1 if broken or found.mirror_differences or report.tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
