"""Exact's call budgets, tracked from the ``X-RateLimit-*`` headers.

Both windows are fixed: the minute, and the UTC day. Reset values are epoch
milliseconds. The budget is kept per client (one process, one division); other
workers spending the same division's budget are only seen through the headers.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connector.errors import BudgetExhausted

MINUTE_SLACK = timedelta(seconds=1)  # Exact's clock and ours may differ a little


def _epoch(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


@dataclass
class Window:
    """What is left in one window, and when it starts afresh."""

    remaining: int | None = None
    reset: datetime | None = None

    def spent(self, now: datetime, reserve: int) -> bool:
        if self.remaining is None or self.reset is None or now >= self.reset:
            return False
        return self.remaining <= reserve


@dataclass
class RateBudget:
    """The minutely and daily budget of one division, as last reported."""

    minute_reserve: int = 0
    day_reserve: int = 0
    minute: Window = field(default_factory=Window)
    day: Window = field(default_factory=Window)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, headers: Mapping[str, str]) -> None:
        """Take in the headers of a response (names in any case)."""
        lower = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            if "x-ratelimit-minutely-remaining" in lower:
                self.minute = Window(
                    _int(lower.get("x-ratelimit-minutely-remaining")),
                    _epoch(lower.get("x-ratelimit-minutely-reset")),
                )
            if "x-ratelimit-remaining" in lower:
                self.day = Window(
                    _int(lower.get("x-ratelimit-remaining")),
                    _epoch(lower.get("x-ratelimit-reset")),
                )

    def claim(self, now: datetime) -> float:
        """Reserve one call; the seconds to wait first (minute spent).

        Raises BudgetExhausted when the day's budget is spent: waiting for
        midnight UTC is the cycle's decision, not the client's.
        """
        with self._lock:
            if self.day.spent(now, self.day_reserve):
                assert self.day.reset is not None
                wait = (self.day.reset - now).total_seconds()
                raise BudgetExhausted("daily API budget spent", wait_s=wait)
            if self.minute.spent(now, self.minute_reserve):
                assert self.minute.reset is not None
                wait = (self.minute.reset + MINUTE_SLACK - now).total_seconds()
                self.minute = Window()
                return wait
            for window in (self.minute, self.day):
                if window.remaining is not None:
                    window.remaining -= 1
            return 0.0

    def minute_wait(self, headers: Mapping[str, str], now: datetime) -> float | None:
        """For a 429: the wait until the minute resets, if the headers say so."""
        lower = {k.lower(): v for k, v in headers.items()}
        reset = _epoch(lower.get("x-ratelimit-minutely-reset"))
        if reset is None:
            return None
        return max((reset + MINUTE_SLACK - now).total_seconds(), 0.0)

    def day_spent(self, headers: Mapping[str, str]) -> bool:
        lower = {k.lower(): v for k, v in headers.items()}
        return _int(lower.get("x-ratelimit-remaining")) == 0
