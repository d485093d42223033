"""One cycle for one source: pull, mirror, plan, confirm, act, write back, report."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog

from adapters.base import Adapter
from connector.errors import (
    BudgetExhausted,
    DunningError,
    FatalSourceError,
    RetriableError,
)
from connector.execute import Executor, Mailer
from connector.faults import crash_point
from connector.law.calendar import is_public_holiday
from connector.planner import Plan, plan_actions
from connector.policy import Policy
from connector.render import TemplateRenderer
from connector.settlement import settle_paid
from connector.store import Store

Clock = Callable[[], datetime]
log = structlog.get_logger("dunning.cycle")


@dataclass
class CycleResult:
    """How a cycle ended, with the counts of its summary line."""

    source: str
    status: str  # ok | outside_window | incomplete | failed | dry_run
    today: date
    counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    plan: Plan | None = None

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "today": self.today.isoformat(), **self.counts}


class Cycle:
    """Runs the cycle of one source against its adapter, store and channels."""

    def __init__(
        self,
        policy: Policy,
        source: str,
        store: Store,
        adapter: Adapter,
        mailer: Callable[[], Mailer],
        clock: Clock,
        *,
        dry_run: bool = False,
        secrets: Callable[[str], str] | None = None,
    ):
        self.policy = policy
        self.source = source
        self.store = store
        self.adapter = adapter
        self.clock = clock
        self.dry_run = dry_run
        renderer = TemplateRenderer(policy.template_dir(), policy.defaults.language)
        self.executor = Executor(
            policy, source, store, adapter, renderer, mailer, clock, secrets
        )

    def run(self) -> CycleResult:
        """Run one cycle; source errors end it cleanly with a status, never raise."""
        started = time.monotonic()
        now = self.clock()
        today = now.astimezone(self.policy.tz).date()
        result = CycleResult(self.source, "ok", today)
        bound = log.bind(source=self.source, today=today.isoformat())
        cycle_id = None if self.dry_run else self.store.start_cycle(self.source, now)
        try:
            self._run(now, today, result)
        except BudgetExhausted as exc:
            result.status, result.error = "incomplete", str(exc)
        except RetriableError as exc:
            result.status, result.error = "failed", f"temporary: {exc}"
        except FatalSourceError as exc:
            result.status, result.error = "failed", str(exc)
        except DunningError as exc:
            result.status, result.error = "failed", str(exc)
        except Exception as exc:  # a bug must not take the daemon down with it
            log.exception("cycle_crashed", source=self.source)
            result.status, result.error = "failed", f"internal error: {exc!r}"
        duration = round(time.monotonic() - started, 3)
        summary = {**result.summary(), "duration_s": duration}
        if result.error:
            summary["error"] = result.error
        if cycle_id is not None:
            self.store.finish_cycle(cycle_id, result.status, summary, self.clock())
        level = (
            "info" if result.status in ("ok", "outside_window", "dry_run") else "error"
        )
        getattr(bound, level)("cycle_finished", **summary)
        return result

    def _run(self, now: datetime, today: date, result: CycleResult) -> None:
        counts = result.counts
        if not self.dry_run:
            for key in self.store.ledger.interrupted(self.source, now):
                counts["needs_review"] += 1
                log.warning("action_interrupted", source=self.source, action=key)
        self._pull(now, counts)
        if not self.dry_run:
            counts.update(settle_paid(self.store, self.policy, self.source, now, today))
        result.plan = plan = self._plan(today)
        crash_point("after_plan")
        counts["planned"] = len(plan.actions)
        counts["skipped_by_plan"] = len(plan.skips)
        if self.dry_run:
            result.status = "dry_run"
            counts.update(self.executor.preview(plan.actions, today))
            if not self._in_send_window(now):
                counts["outside_send_window"] = 1  # a real run would wait
            return
        if not self._in_send_window(now):
            result.status = "outside_window"
            counts.update(self.executor.write_back(now))
            return
        counts.update(self.executor.act(plan.actions, now, today))
        counts.update(settle_paid(self.store, self.policy, self.source, now, today))
        counts.update(self.executor.write_back(now))

    def _pull(self, now: datetime, counts: Counter[str]) -> None:
        cursor = self.store.mirror.cursor(self.source)
        known = self.store.mirror.known_versions(self.source)
        changes = self.adapter.pull_changes(cursor, known)
        if changes.complete_snapshot and not changes.invoices and len(known) > 1:
            # An empty list where many invoices were open is far more likely a
            # broken export or a glitch than a day on which everyone paid.
            raise FatalSourceError(
                f"the source listed no open invoices while {len(known)} are open in"
                " the mirror; nothing was closed. Check the export or the source."
            )
        crash_point("after_pull")
        for record, reason in changes.skipped:
            log.warning(
                "record_skipped", source=self.source, record=record, reason=reason
            )
        stats = self.store.mirror.apply(self.source, changes, now)
        crash_point("after_mirror")
        counts["invoices_pulled"] = stats.invoices
        counts["debtors_pulled"] = stats.debtors
        counts["invoices_closed"] = stats.closed
        counts["records_skipped"] = len(changes.skipped)

    def _plan(self, today: date) -> Plan:
        snapshot = self.store.mirror.snapshot(self.source)
        return plan_actions(
            self.source,
            snapshot.debtors,
            snapshot.invoices,
            self.store.holds.active(self.source),
            self.store.ledger.progress(self.source),
            self.policy,
            today,
        )

    def _in_send_window(self, now: datetime) -> bool:
        local = now.astimezone(self.policy.tz)
        window = self.policy.send_window
        in_hours = window.start <= local.time() < window.until
        if not window.holidays and is_public_holiday(local.date()):
            return False
        return local.weekday() in window.days and in_hours
