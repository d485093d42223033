"""The planner: a pure function from (mirror, ledger, holds, policy, today) to actions.

No I/O and no clock: the same inputs always give the same plan, so a plan can be
previewed for any date (`dunning plan --date`) and tested by hand-computed cases.

For each open invoice the planner finds the first step of its plan that was not
taken yet. A step falls due a number of (business) days after the due date or after
the day an earlier step was taken; a due day on a weekend or holiday moves to the
next business day, and no step is taken on the same day as the step before it. A
step that fell due while nothing ran is taken on the next run (late), never
skipped, and the steps after it keep their own dates.
"""

from __future__ import annotations

import gc
import hashlib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from connector.domain import Debtor, Hold, Invoice, InvoiceStatus
from connector.law.calendar import add_business_days, business_day_on_or_after
from connector.law.fourteen_day import Delivery, FourteenDayTerm, fourteen_day_term
from connector.policy import Policy, Segment, Step
from connector.store.ledger import FINISHED, State, StepRecord

ONE_DAY = timedelta(days=1)
ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One action due today: one step for one debtor, covering its invoices."""

    key: str
    source: str
    debtor: Debtor
    plan: str
    segment: str
    step: Step
    invoices: tuple[Invoice, ...]
    credit_notes: tuple[Invoice, ...]
    currency: str
    scheduled_on: date
    late: bool
    #: The last day of the 14-day letter's term for each invoice that had one.
    notices: tuple[tuple[str, date], ...] = ()

    def notice_expired(self, today: date) -> bool:
        """Whether every invoice had a 14-day letter whose term ran out by today."""
        ended = dict(self.notices)
        return all(i.key in ended and ended[i.key] < today for i in self.invoices)

    @property
    def total_open(self) -> Decimal:
        """What the debtor is asked to pay: the invoices less the open credit."""
        owed = sum((i.open_amount for i in self.invoices), ZERO)
        return owed + sum((c.open_amount for c in self.credit_notes), ZERO)

    @property
    def channel(self) -> str:
        return self.step.action


@dataclass(frozen=True, slots=True)
class Skip:
    """An invoice the planner left alone today, and why."""

    invoice_key: str
    debtor_key: str
    step_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What is due today and what was left alone."""

    actions: list[PlannedAction]
    skips: list[Skip]


def action_key(source: str, debtor: str, step: str, invoices: Iterable[str]) -> str:
    """The deterministic key of an action: the same inputs give the same key."""
    text = "\x1f".join((source, debtor, step, *sorted(invoices)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class _Due(NamedTuple):
    invoice: Invoice
    step: Step
    scheduled_on: date
    plan: str
    segment: str
    notice_until: date | None


def plan_actions(
    source: str,
    debtors: Mapping[str, Debtor],
    invoices: Sequence[Invoice],
    holds: Sequence[Hold],
    progress: Mapping[str, Mapping[str, StepRecord]],
    policy: Policy,
    today: date,
) -> Plan:
    """Every action due on ``today`` for one source, and every invoice skipped."""
    # Planning allocates millions of small objects and frees none of them until
    # it returns, so the cyclic collector would only rescan them again and again
    # (a third of the run time at a million invoices). It is paused, not skipped.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _plan(source, debtors, invoices, holds, progress, policy, today)
    finally:
        if was_enabled:
            gc.enable()


def _plan(
    source: str,
    debtors: Mapping[str, Debtor],
    invoices: Sequence[Invoice],
    holds: Sequence[Hold],
    progress: Mapping[str, Mapping[str, StepRecord]],
    policy: Policy,
    today: date,
) -> Plan:
    skips: list[Skip] = []
    credits: dict[tuple[str, str], list[Invoice]] = defaultdict(list)
    owed: dict[str, Decimal] = defaultdict(Decimal)
    chased: list[Invoice] = []
    open_status = InvoiceStatus.OPEN
    for invoice in invoices:
        amount = invoice.open_amount
        if invoice.status is not open_status or amount == ZERO:
            continue
        if amount < ZERO or invoice.total < ZERO:
            credits[(invoice.debtor_key, invoice.currency)].append(invoice)
        else:
            owed[invoice.debtor_key] += amount
            chased.append(invoice)

    holds_by_invoice, holds_by_debtor = _index_holds(holds, today)
    segments = _SegmentCache(policy.segments)
    ladders = {name: _Ladder(steps, today) for name, steps in policy.plans.items()}
    due: list[_Due] = []
    minimum = policy.defaults.min_open_amount
    no_progress: Mapping[str, StepRecord] = {}
    for invoice in chased:
        debtor = debtors.get(invoice.debtor_key)
        if (
            debtor is None
            or holds_by_invoice
            or holds_by_debtor
            or invoice.open_amount < minimum
        ):
            reason = _blocked(
                invoice, debtor, holds_by_invoice, holds_by_debtor, minimum, today
            )
            if reason is not None:
                skips.append(Skip(invoice.key, invoice.debtor_key, None, reason))
                continue
        assert debtor is not None
        segment = segments.match(debtor, owed[debtor.key])
        if segment is None or segment.exclude or segment.plan is None:
            name = segment.name if segment else "none"
            skip = Skip(invoice.key, debtor.key, None, f"excluded by segment {name}")
            skips.append(skip)
            continue
        taken = progress.get(invoice.key, no_progress)
        outcome = ladders[segment.plan].next_step(invoice, debtor, taken)
        if outcome is None:
            continue
        step, scheduled, waiting, notice = outcome
        if waiting is not None:
            skips.append(Skip(invoice.key, debtor.key, step.id, waiting))
        else:
            item = _Due(invoice, step, scheduled, segment.plan, segment.name, notice)
            due.append(item)
    actions = _group(source, due, debtors, credits, policy, today, skips)
    return Plan(actions, skips)


def _index_holds(
    holds: Sequence[Hold], today: date
) -> tuple[dict[str, list[Hold]], dict[str, list[Hold]]]:
    by_invoice: dict[str, list[Hold]] = {}
    by_debtor: dict[str, list[Hold]] = {}
    for hold in holds:
        if hold.until is not None and today > hold.until:
            continue
        if hold.invoice_key is not None:
            by_invoice.setdefault(hold.invoice_key, []).append(hold)
        elif hold.debtor_key is not None:
            by_debtor.setdefault(hold.debtor_key, []).append(hold)
    return by_invoice, by_debtor


def _blocked(
    invoice: Invoice,
    debtor: Debtor | None,
    by_invoice: Mapping[str, list[Hold]],
    by_debtor: Mapping[str, list[Hold]],
    minimum: Decimal,
    today: date,
) -> str | None:
    if debtor is None:
        return "unknown debtor"
    holds = [*by_invoice.get(invoice.key, ()), *by_debtor.get(invoice.debtor_key, ())]
    for hold in holds:
        if hold.in_force(invoice, today):
            return f"on hold: {hold.kind.value} ({hold.reason})"
    if invoice.open_amount < minimum:
        return f"below minimum open amount {minimum}"
    return None


class _SegmentCache:
    """First-match segment lookup, cached per debtor."""

    def __init__(self, segments: Sequence[Segment]):
        self._segments = segments
        self._found: dict[str, Segment | None] = {}

    def match(self, debtor: Debtor, owed: Decimal) -> Segment | None:
        if debtor.key not in self._found:
            self._found[debtor.key] = next(
                (s for s in self._segments if _matches(s, debtor, owed)), None
            )
        return self._found[debtor.key]


def _matches(segment: Segment, debtor: Debtor, owed: Decimal) -> bool:
    when = segment.when
    checks = (
        when.debtor_kind is None or when.debtor_kind == debtor.kind,
        when.tag is None or when.tag in debtor.tags,
        not when.tags_any or bool(debtor.tags.intersection(when.tags_any)),
        when.language is None or when.language == debtor.language,
        when.min_open_amount is None or owed >= when.min_open_amount,
        when.max_open_amount is None or owed <= when.max_open_amount,
    )
    return all(checks)


# (the step, its date, why it waits, the last day of a 14-day letter's term)
_Outcome = tuple[Step, date, str | None, date | None] | None


class _Ladder:
    """The steps of one plan, with the outcome for each kind of invoice cached.

    What the next step is depends only on the due date, the steps taken, the
    debtor's kind and where the open amount stands against the steps' thresholds;
    a million invoices share few of those, so most lookups are cache hits.
    """

    def __init__(self, steps: Sequence[Step], today: date):
        self.steps = steps
        self.today = today
        # No step falls due before the first step's calendar days have passed:
        # business days and moves to a business day only ever make it later.
        self.earliest = timedelta(days=steps[0].after.days) if steps else None
        self.thresholds = sorted(
            {
                s.when.min_open_amount
                for s in steps
                if s.when.min_open_amount is not None
            }
        )
        self.by_kind = any(s.when.debtor_kind is not None for s in steps)
        self.by_id = {step.id: step for step in steps}
        self._cache: dict[tuple[object, ...], _Outcome] = {}

    def next_step(
        self, invoice: Invoice, debtor: Debtor, taken: Mapping[str, StepRecord]
    ) -> _Outcome:
        """The step due today (with its date), the step waited on, or None."""
        if not taken and (
            self.earliest is None or invoice.due_date + self.earliest > self.today
        ):
            return None
        level = bisect_right(self.thresholds, invoice.open_amount)
        kind = debtor.kind if self.by_kind else None
        done = tuple(sorted(taken.items())) if taken else ()
        key = (invoice.due_date, level, kind, done)
        if key not in self._cache:
            self._cache[key] = self._walk(invoice, debtor, taken)
        return self._cache[key]

    def _walk(
        self, invoice: Invoice, debtor: Debtor, taken: Mapping[str, StepRecord]
    ) -> _Outcome:
        previous: date | None = None
        done_on: dict[str, date] = {}
        notice: date | None = None
        for step in self.steps:
            record = taken.get(step.id)
            if record is not None:
                if record.state not in FINISHED:
                    reason = f"waiting: step {step.id} is {record.state.value}"
                    return (step, record.taken_on, reason, None)
                previous = done_on[step.id] = record.taken_on
                if step.is_fourteen_day_letter and record.state is State.DONE:
                    notice = self._term(step, record.taken_on).last_day
                continue
            scheduled = self._scheduled(invoice, step, done_on, previous)
            if not _applies(step, invoice, debtor):
                # A step whose conditions do not hold is passed over on its date.
                previous = done_on[step.id] = scheduled
                continue
            if scheduled > self.today:
                return None
            return (step, scheduled, None, notice)
        return None

    def _scheduled(
        self,
        invoice: Invoice,
        step: Step,
        done_on: Mapping[str, date],
        previous: date | None,
    ) -> date:
        after = step.after
        if after.expired:
            assert after.step is not None
            letter = self.by_id[after.step]
            if after.step not in done_on:
                return date.max  # the letter was passed over: never expires
            day = self._term(letter, done_on[after.step]).costs_chargeable_from
            return _after_previous(_on_business_day(day), previous)
        return _scheduled(invoice, step, done_on, previous)

    @staticmethod
    def _term(letter: Step, sent_on: date) -> FourteenDayTerm:
        delivery = Delivery.POST if letter.delivery == "post" else Delivery.EMAIL
        return fourteen_day_term(sent_on, delivery)


def _scheduled(
    invoice: Invoice, step: Step, done_on: Mapping[str, date], previous: date | None
) -> date:
    after = step.after
    base = invoice.due_date if after.step is None else done_on[after.step]
    if after.business:
        day = add_business_days(base, after.days)
    else:
        day = _on_business_day(base + timedelta(days=after.days))
    return _after_previous(day, previous)


def _after_previous(day: date, previous: date | None) -> date:
    """Never on the same day as the step before it."""
    if previous is not None and day <= previous:
        return _on_business_day(previous + ONE_DAY)
    return day


@lru_cache(maxsize=4096)
def _on_business_day(day: date) -> date:
    return business_day_on_or_after(day)


def _applies(step: Step, invoice: Invoice, debtor: Debtor) -> bool:
    when = step.when
    if when.debtor_kind is not None and when.debtor_kind != debtor.kind:
        return False
    return when.min_open_amount is None or invoice.open_amount >= when.min_open_amount


def _group(
    source: str,
    due: list[_Due],
    debtors: Mapping[str, Debtor],
    credits: Mapping[tuple[str, str], list[Invoice]],
    policy: Policy,
    today: date,
    skips: list[Skip],
) -> list[PlannedAction]:
    groups: dict[tuple[str, ...], list[_Due]] = defaultdict(list)
    for item in due:
        inv = item.invoice
        group: tuple[str, ...]
        if policy.defaults.one_message_per_debtor:
            group = (inv.debtor_key, item.plan, item.step.id, inv.currency)
        else:
            group = (inv.debtor_key, item.plan, item.step.id, inv.currency, inv.key)
        groups[group].append(item)
    actions = []
    # A debtor's open credit is netted in one message only: the one for the
    # earliest step of the plan (and the earliest invoice). While it covers a
    # message, that message is skipped and the credit passes to the next.
    credit_used: set[tuple[str, str]] = set()
    position = {
        (plan, step.id): index
        for plan, steps in policy.plans.items()
        for index, step in enumerate(steps)
    }
    order = sorted(
        (g[0], g[3], position[(g[1], g[2])], groups[g][0].invoice.due_date, g)
        for g in groups
    )
    for *_, group in order:
        debtor_key, plan, step_id, currency = group[:4]
        items = groups[group]
        pair = (debtor_key, currency)
        credit_notes = () if pair in credit_used else tuple(credits.get(pair, ()))
        action = _action(
            source, debtors[debtor_key], plan, items, credit_notes, currency, today
        )
        reason = _action_blocked(action, policy)
        if reason is None:
            if credit_notes:
                credit_used.add(pair)
            actions.append(action)
            continue
        for item in items:
            skips.append(Skip(item.invoice.key, debtor_key, step_id, reason))
    actions.sort(key=lambda a: (a.debtor.key, a.step.id, a.key))
    return actions


def _action(
    source: str,
    debtor: Debtor,
    plan: str,
    items: list[_Due],
    credit_notes: tuple[Invoice, ...],
    currency: str,
    today: date,
) -> PlannedAction:
    items.sort(key=lambda d: (d.invoice.due_date, d.invoice.number))
    step = items[0].step
    scheduled = min(d.scheduled_on for d in items)
    invoices = tuple(d.invoice for d in items)
    key = action_key(source, debtor.key, step.id, (i.key for i in invoices))
    return PlannedAction(
        key=key,
        source=source,
        debtor=debtor,
        plan=plan,
        segment=items[0].segment,
        step=step,
        invoices=invoices,
        credit_notes=credit_notes,
        currency=currency,
        scheduled_on=scheduled,
        late=scheduled < today,
        notices=tuple(
            (d.invoice.key, d.notice_until) for d in items if d.notice_until is not None
        ),
    )


def _action_blocked(action: PlannedAction, policy: Policy) -> str | None:
    total = action.total_open
    if action.credit_notes and total <= 0:
        return "covered by credit"
    if total < policy.defaults.min_open_amount:
        return (
            f"below minimum open amount {policy.defaults.min_open_amount} after credit"
        )
    if action.channel == "email" and not action.debtor.emails:
        return "no email address"
    return None
