"""What the emulator does besides the books: rate limit, faults and a request log."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.moneybird.emulator.oauth import OAuthServer

LIMIT = 150
WINDOW_S = 300


class RateLimiter:
    """Moneybird's 150 requests per 5 minutes, as a sliding window on ``clock``."""

    def __init__(
        self,
        limit: int = LIMIT,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._seen: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> dict[str, str] | None:
        """Count a request; None if it may pass, else the 429 headers."""
        with self._lock:
            now = self.clock()
            while self._seen and self._seen[0] <= now - self.window_s:
                self._seen.popleft()
            if len(self._seen) < self.limit:
                self._seen.append(now)
                return None
            return self.refusal_headers(self._seen[0] + self.window_s)

    def refusal_headers(self, reset_at: float) -> dict[str, str]:
        # The spec describes both RateLimit-Reset and Retry-After as epoch seconds.
        reset = str(int(reset_at) + 1)
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": reset,
            "Retry-After": reset,
        }


@dataclass
class Fault:
    """One switched-on misbehaviour for the next ``count`` matching requests."""

    kind: str  # rate_limit | server_error | hang | hang_after | truncate
    count: int
    seconds: float = 0.0
    status: int = 500
    method: str | None = None
    path_contains: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass(frozen=True)
class RecordedRequest:
    """What the emulator received, for tests to count and inspect."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorized: bool
    status: int = 0
    credential: str = ""  # "personal", "oauth#<serial>" or "" when refused


@dataclass
class Control:
    """The switches and the log shared by the emulator's routes."""

    token: str
    limiter: RateLimiter = field(default_factory=RateLimiter)
    oauth: OAuthServer = field(default_factory=OAuthServer)
    revoked: bool = False
    faults: list[Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take(self, kinds: tuple[str, ...], method: str, path: str) -> Fault | None:
        """The first active fault of these kinds for this request, used up by one."""
        with self.lock:
            for fault in self.faults:
                if (
                    fault.kind in kinds
                    and fault.count > 0
                    and fault.matches(method, path)
                ):
                    fault.count -= 1
                    return fault
        return None

    def wait(self, seconds: float) -> None:
        """Hang, but let ``stop()`` cut the hang short."""
        self.released.wait(seconds)

    # -- switches for tests ------------------------------------------------------

    def rate_limit_storm(self, count: int) -> None:
        self.add(Fault("rate_limit", count))

    def server_errors(self, count: int, status: int = 500) -> None:
        self.add(Fault("server_error", count, status=status))

    def hang(self, count: int, seconds: float, **match: Any) -> None:
        """Sleep before handling the next matching requests."""
        self.add(Fault("hang", count, seconds=seconds, **match))

    def hang_after(self, count: int, seconds: float, **match: Any) -> None:
        """Handle the next matching requests, then sleep before answering."""
        self.add(Fault("hang_after", count, seconds=seconds, **match))

    def truncate(self, count: int, **match: Any) -> None:
        self.add(Fault("truncate", count, **match))

    def revoke_token(self) -> None:
        """Refuse every token from now on, personal and OAuth alike."""
        self.revoked = True
        self.oauth.revoke_refresh_tokens()

    def credential_for(self, header: str | None, now: float) -> str | None:
        """Which credential an ``Authorization`` header carries, if it is valid."""
        if self.revoked or not header or not header.startswith("Bearer "):
            return None
        token = header[len("Bearer ") :]
        if token == self.token:
            return "personal"
        issued = self.oauth.accepts(token, now)
        return None if issued is None else f"oauth#{issued.serial}"

    def requests_to(
        self, method: str, path_contains: str = ""
    ) -> list[RecordedRequest]:
        return [
            r
            for r in list(self.requests)
            if r.method == method and path_contains in r.path
        ]
