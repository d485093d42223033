"""HTTP to Moneybird and nothing else: auth, timeouts, limits, errors, retries.

Errors are translated into the connector's tree at this boundary:

    429, 5xx, timeouts, connection errors, unreadable bodies  → RetriableError
    401 (after one refresh, if a refresher is given)           → FatalSourceError
    400, 402, 403, 404, 405, 406, 422                          → FatalSourceError
    404                                                        → RecordNotFound

GETs are retried with backoff, honouring the server's wait. Other methods are
retried only after a 429, which means the server did nothing with the request.
The token is sent in a header and never appears in a message or a log event.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import structlog

from connector.errors import FatalSourceError, RetriableError, SourceError

DEFAULT_BASE_URL = "https://moneybird.com/api/v2"
log = structlog.get_logger(__name__)


class RecordNotFound(FatalSourceError):
    """The record (or a record named in a filter) does not exist: 404."""


class Unauthorized(FatalSourceError):
    """The token was refused (401): wrong, revoked or missing a scope."""


class RateLimited(RetriableError):
    """The server refused with 429 and did nothing with the request."""


class NotSent(RetriableError):
    """No connection could be made, so the server never saw the request."""


class SlidingWindowLimiter:
    """Keep to ``limit`` requests in any ``window_s`` seconds, waiting if needed.

    Moneybird allows 150 requests per 5 minutes; the default stays a little below
    so that clock drift never makes the server refuse first.
    """

    def __init__(
        self,
        limit: int = 145,
        window_s: float = 300.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a free slot, take it, and return how long that took."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                while self._sent and self._sent[0] <= now - self.window_s:
                    self._sent.popleft()
                wait = 0.0
                if len(self._sent) >= self.limit:
                    wait = self._sent[0] + self.window_s - now
                if wait <= 0:
                    self._sent.append(now)
                    return waited
            self.sleep(wait)
            waited += wait


def parse_wait(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After or RateLimit-Reset value.

    Accepts delta-seconds, epoch seconds (what Moneybird's spec describes) and an
    HTTP date. None if the value is missing or unreadable.
    """
    if not value:
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - now)
    if number > 1_000_000_000:  # an epoch, not a delay
        return max(0.0, number - now)
    return max(0.0, number)


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect and to wait for each read."""

    connect_s: float = 5.0
    read_s: float = 30.0


class MoneybirdClient:
    """A session on one administration's API."""

    def __init__(
        self,
        token: Callable[[], str],
        administration: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeouts: Timeouts = Timeouts(),
        limiter: SlidingWindowLimiter | None = None,
        refresh_token: Callable[[], str] | None = None,
        max_attempts: int = 5,
        max_wait_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self._token = token
        self._refresh_token = refresh_token
        self.administration = administration
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts
        self.limiter = limiter or SlidingWindowLimiter(sleep=sleep)
        self.max_attempts = max_attempts
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"

    def url(self, path: str, *, scoped: bool = True) -> str:
        """The full URL of ``path`` (in this administration unless ``scoped=False``)."""
        prefix = f"{self.base_url}/{self.administration}" if scoped else self.base_url
        return f"{prefix}/{path.strip('/')}.json"

    # -- the verbs ---------------------------------------------------------------

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, scoped: bool = True
    ) -> Any:
        """GET and decode JSON, retrying what is retriable."""
        return self.request("GET", self.url(path, scoped=scoped), params=params).json()

    def get_url(self, url: str) -> requests.Response:
        """GET a full URL from the API (a ``Link: next`` page), with retries."""
        return self.request("GET", url)

    def post(
        self,
        path: str,
        body: Any,
        *,
        timeouts: Timeouts | None = None,
        idempotent: bool = False,
    ) -> Any:
        """POST JSON. Retried like a GET only if ``idempotent`` (a read by ids);
        otherwise only when the server certainly did not act on it."""
        response = self.request(
            "POST", self.url(path), json=body, timeouts=timeouts, idempotent=idempotent
        )
        return response.json() if response.content else None

    def delete(self, path: str) -> None:
        self.request("DELETE", self.url(path))

    def download(self, path: str) -> bytes:
        """Follow a 302 to storage without sending the token there."""
        response = self.request("GET", self.url(path), allow_redirects=False)
        target = response.headers.get("Location")
        if response.status_code != 302 or not target:
            raise FatalSourceError(
                f"moneybird: expected a redirect for {path}, got {response.status_code}"
            )
        try:
            stored = requests.get(target, timeout=self._timeout(None))
        except requests.RequestException as exc:
            raise RetriableError(
                f"moneybird: download failed: {type(exc).__name__}"
            ) from exc
        if stored.status_code != 200:
            raise RetriableError(f"moneybird: download answered {stored.status_code}")
        return stored.content

    def close(self) -> None:
        self.session.close()

    # -- the machinery -------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        timeouts: Timeouts | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with limits and retries; return a 2xx/3xx response or raise."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD")
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send_once(method, url, timeouts, **kwargs)
            except Unauthorized:
                if self._refresh_token is None or refreshed:
                    raise
                self._refresh_token()  # rotating grants: the next send uses it
                refreshed = True
                attempt -= 1
            except RetriableError as exc:
                unseen = isinstance(exc, RateLimited | NotSent)
                retry = idempotent or unseen
                if not retry or attempt >= self.max_attempts:
                    raise
                wait = self._backoff(attempt, exc.wait_s)
                log.warning(
                    "request_retried",
                    method=method,
                    path=_path_of(url, self.base_url),
                    attempt=attempt,
                    wait_s=round(wait, 2),
                    reason=str(exc),
                )
                self.sleep(wait)

    def _backoff(self, attempt: int, server_wait: float | None) -> float:
        if server_wait is not None:
            return min(server_wait, self.max_wait_s)
        base = min(0.5 * 2 ** (attempt - 1), self.max_wait_s)
        return base * (0.5 + random.random() / 2)

    def _timeout(self, timeouts: Timeouts | None) -> tuple[float, float]:
        chosen = timeouts or self.timeouts
        return (chosen.connect_s, chosen.read_s)

    def _send_once(
        self, method: str, url: str, timeouts: Timeouts | None, **kwargs: Any
    ) -> requests.Response:
        self.limiter.acquire()
        headers = {"Authorization": f"Bearer {self._token()}"}
        where = f"{method} {_path_of(url, self.base_url)}"
        try:
            response = self.session.request(
                method, url, headers=headers, timeout=self._timeout(timeouts), **kwargs
            )
        except requests.ConnectTimeout as exc:
            raise NotSent(f"moneybird: {where} could not connect in time") from exc
        except requests.Timeout as exc:
            raise RetriableError(f"moneybird: {where} timed out") from exc
        except requests.ConnectionError as exc:
            raise RetriableError(f"moneybird: {where} could not connect") from exc
        except requests.RequestException as exc:
            raise RetriableError(
                f"moneybird: {where} failed: {type(exc).__name__}"
            ) from exc
        if response.status_code >= 400:
            raise self._error_for(response, where)
        if response.status_code < 300 and response.content:
            _check_json(response, where)
        return response

    def _error_for(self, response: requests.Response, where: str) -> SourceError:
        status = response.status_code
        detail = _detail(response)
        message = f"moneybird: {where} answered {status}: {detail}"
        if status == 429:
            now = self.wall_clock()
            wait = parse_wait(response.headers.get("Retry-After"), now)
            if wait is None:
                wait = parse_wait(response.headers.get("RateLimit-Reset"), now)
            return RateLimited(message, wait_s=wait)
        if status >= 500 or status == 408:
            return RetriableError(message)
        if status == 401:
            return Unauthorized(
                f"{message} (the token was refused: check that it is valid, not "
                "revoked, and has the sales_invoices scope)"
            )
        if status == 404:
            return RecordNotFound(message)
        return FatalSourceError(message)


def _check_json(response: requests.Response, where: str) -> None:
    if "json" not in response.headers.get("Content-Type", ""):
        return
    try:
        response.json()
    except ValueError as exc:  # a body cut short on the way
        raise RetriableError(f"moneybird: {where} sent unreadable JSON") from exc


def _detail(response: requests.Response) -> str:
    """The error text of a Moneybird error body, short and without markup."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return "non-JSON body" if text.startswith("<") else text[:200] or "empty body"
    if isinstance(body, dict) and "error" in body:
        found = body["error"]
        return found if isinstance(found, str) else json.dumps(found)[:300]
    return json.dumps(body)[:200]


def _path_of(url: str, base_url: str) -> str:
    path = url[len(base_url) :] if url.startswith(base_url) else url
    return path.split("?", 1)[0]
