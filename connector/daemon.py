"""The daemon: APScheduler jobs derived from the policy, signals, one per store."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from typing import IO, Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connector.errors import ConfigError
from connector.policy import Policy
from connector.runtime import Runtime
from connector.store.db import sqlite_path

log = structlog.get_logger("dunning.daemon")


def trigger_for(policy: Policy) -> BaseTrigger:
    """The trigger of every source's job, in the policy's timezone.

    A cadence of a day or more runs once a day at the start of the send window, so
    that daylight-saving changes neither skip nor double a day; shorter cadences
    run on a fixed interval.
    """
    minutes = policy.schedule.every_minutes
    if minutes >= 1440:
        start: time = policy.send_window.start
        return CronTrigger(hour=start.hour, minute=start.minute, timezone=policy.tz)
    return IntervalTrigger(minutes=minutes, timezone=policy.tz)


def build_scheduler(runtime: Runtime, now: datetime) -> BackgroundScheduler:
    """A scheduler with one job per source, reconciled from the policy."""
    policy = runtime.policy
    scheduler = BackgroundScheduler(timezone=policy.tz)
    for source in policy.sources:
        scheduler.add_job(
            runtime.run_source,
            trigger=trigger_for(policy),
            args=[source.name],
            id=f"cycle:{source.name}",
            name=f"cycle of {source.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=policy.schedule.misfire_grace_s,
            next_run_time=now,  # catch up at start, whatever was missed
            replace_existing=True,
        )
    return scheduler


@contextmanager
def single_daemon(state_url: str) -> Iterator[None]:
    """Refuse a second daemon on the same SQLite store (an OS file lock)."""
    path = sqlite_path(state_url) if state_url.startswith("sqlite") else None
    if path is None:
        yield
        return
    lock_path = Path(f"{path}.daemon.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(lock_path, "a+")  # noqa: SIM115 (held for the daemon's life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigError(
            f"another daemon is already running on the store {path}"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def run_daemon(runtime: Runtime, state_url: str) -> None:
    """Run until SIGTERM or SIGINT; a cycle under way is allowed to finish.

    On a shared store (PostgreSQL) several daemons may start, as in an overlapping
    deploy: one holds the leader lease and acts, the others wait on standby and
    take over when the leader stops renewing it.
    """
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        log.info("daemon_stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with single_daemon(state_url):
        if not wait_for_leadership(runtime, stop):
            log.info("daemon_stopped")
            return
        with runtime.store.leases.hold(
            LEADER_LEASE,
            LEADER_TTL_S,
            wait_s=0,
            renew=True,
            owner=runtime.store.leases.owner,
        ):
            _schedule_until(runtime, stop)
    log.info("daemon_stopped")


LEADER_LEASE = "daemon:leader"
LEADER_TTL_S = 30.0
STANDBY_POLL_S = 5.0


def wait_for_leadership(runtime: Runtime, stop: threading.Event) -> bool:
    """Take the leader lease, waiting on standby while another daemon holds it."""
    leases = runtime.store.leases
    announced = False
    while not stop.is_set():
        if leases.try_acquire(LEADER_LEASE, LEADER_TTL_S):
            if announced:
                log.info("daemon_taking_over")
            return True
        if not announced:
            log.info("daemon_standby", poll_s=STANDBY_POLL_S)
            announced = True
        stop.wait(STANDBY_POLL_S)
    return False


def _schedule_until(runtime: Runtime, stop: threading.Event) -> None:
    scheduler = build_scheduler(runtime, runtime.clock())
    scheduler.start()
    sources = [s.name for s in runtime.policy.sources]
    log.info("daemon_started", sources=sources, every=runtime.policy.schedule.every)
    stop.wait()
    scheduler.shutdown(wait=True)
