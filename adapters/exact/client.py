"""HTTP to Exact Online: session, bearer token, timeouts, limits, errors, paging.

This module knows URLs and status codes, not receivables. Failures leave it as
the connector's own errors:

    RetriableError      408, 429, 5xx, timeouts (retried here a few times first)
      BudgetExhausted   the division's daily budget is spent
      OutcomeUnknown    a POST whose answer was lost: look before posting again
    FatalSourceError    401 after one refresh, 400/403/404/405, a foreign __next
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import requests
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from adapters.exact.limits import RateBudget
from adapters.exact.odata import Row, unwrap
from connector.errors import (
    BudgetExhausted,
    FatalSourceError,
    RetriableError,
    SourceError,
)

log = structlog.get_logger(__name__)

HOSTS = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "fr": "https://start.exactonline.fr",
    "es": "https://start.exactonline.es",
    "co.uk": "https://start.exactonline.co.uk",
    "uk": "https://start.exactonline.co.uk",
    "com": "https://start.exactonline.com",
    "us": "https://start.exactonline.com",
}
RETRIABLE_STATUS = frozenset({408, 500, 502, 503, 504, 599})
#: Waits longer than this are not slept through in a cycle; the next cycle retries.
LONGEST_RETRY_WAIT_S = 90.0


class OutcomeUnknown(RetriableError):
    """A write was sent but its answer was lost; it may or may not have happened."""


class TokenSource(Protocol):
    """What the client needs from the token manager."""

    def access_token(self) -> str: ...

    def rejected(self, token: str) -> None:
        """Exact answered 401 to ``token``: get another before the next call."""


def base_url_for(country: str) -> str:
    """The host of the customer's country; an account lives in one country only."""
    try:
        return HOSTS[country.lower().removeprefix("start.exactonline.")]
    except KeyError:
        raise ValueError(f"unknown Exact Online country {country!r}") from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ExactClient:
    """Requests to one division of one Exact Online host."""

    def __init__(
        self,
        base_url: str,
        division: int,
        tokens: TokenSource,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 10,
        max_backoff_s: float = 60.0,
        jitter: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.division = division
        self.tokens = tokens
        self.session = session or requests.Session()
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.max_backoff_s = max_backoff_s
        self.jitter = jitter or random.Random()
        self.budget = RateBudget()

    @property
    def api_root(self) -> str:
        """Every division-bound URL starts here; the division is never guessed."""
        return f"{self.base_url}/api/v1/{self.division}"

    def pages(
        self,
        resource: str,
        select: Sequence[str],
        *,
        filter: str | None = None,
        top: int | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Iterator[list[Row]]:
        """The pages of a list, fetched one at a time as they are consumed."""
        query = {"$select": ",".join(select), **(params or {})}
        if filter:
            query["$filter"] = filter
        if top is not None:
            query["$top"] = str(top)
        url: str | None = f"{self.api_root}/{resource}"
        sent: Mapping[str, str] | None = query
        while url is not None:
            rows, next_url = unwrap(self._send("GET", url, sent))
            yield rows
            url, sent = self._checked_next(next_url), None

    def rows(
        self, resource: str, select: Sequence[str], **kwargs: Any
    ) -> Iterator[Row]:
        """Every row of a list, page after page."""
        for page in self.pages(resource, select, **kwargs):
            yield from page

    def post(self, resource: str, body: Mapping[str, Any]) -> Row:
        """Create one entity; its fields as Exact returns them."""
        rows, _ = unwrap(self._send("POST", f"{self.api_root}/{resource}", None, body))
        return rows[0]

    def me(self) -> Row:
        """The signed-in user (its CurrentDivision is for display only)."""
        url = f"{self.base_url}/api/v1/current/Me"
        select = {"$select": "CurrentDivision,FullName,UserName"}
        rows, _ = unwrap(self._send("GET", url, select))
        return rows[0]

    def close(self) -> None:
        self.session.close()

    def _checked_next(self, next_url: str | None) -> str | None:
        if next_url is None:
            return None
        if not next_url.startswith(self.api_root + "/"):
            # The bearer token must not go to any other host or division.
            raise FatalSourceError("Exact Online sent a next link outside the division")
        return next_url

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_worth_retrying),
            sleep=self.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._attempt, method, url, params, body)

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> Any:
        wait = self.budget.claim(self.clock())
        if wait > 0:
            log.info("rate_limit_wait", wait_s=round(wait, 1), division=self.division)
            self.sleep(wait)
        token = self.tokens.access_token()
        response = self._request(method, url, params, body, token)
        if response.status_code == 401:
            self.tokens.rejected(token)
            token = self.tokens.access_token()
            response = self._request(method, url, params, body, token)
        return self._read(method, url, response)

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        token: str,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Prefer"] = "return=representation"
        data = json.dumps(body, default=str) if body is not None else None
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, params=params, data=data, headers=headers,
                timeout=self.timeout,
            )  # fmt: skip
        except requests.ConnectTimeout as exc:
            raise RetriableError(f"{method} {_path(url)}: connect timeout") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            reason = f"{method} {_path(url)}: {type(exc).__name__}"
            if method != "GET":
                raise OutcomeUnknown(reason) from exc
            raise RetriableError(reason) from exc
        log.debug(
            "exact_request",
            method=method,
            path=_path(url),
            status=response.status_code,
            ms=round((time.monotonic() - started) * 1000),
        )
        self.budget.update(response.headers)
        return response

    def _read(self, method: str, url: str, response: requests.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            return _json(response) if response.content else {}
        where = f"{method} {_path(url)}"
        message = _error_text(response)
        if status == 429:
            raise self._rate_limited(where, response)
        if status in RETRIABLE_STATUS:
            error = OutcomeUnknown if method != "GET" else RetriableError
            raise error(f"{where}: HTTP {status} {message}")
        reason = response.headers.get("Reason")
        detail = f" ({reason})" if reason else ""
        raise FatalSourceError(f"{where}: HTTP {status} {message}{detail}")

    def _rate_limited(self, where: str, response: requests.Response) -> SourceError:
        wait = self.budget.minute_wait(response.headers, self.clock())
        if wait is not None:
            return RetriableError(f"{where}: minutely limit reached", wait_s=wait)
        if self.budget.day_spent(response.headers):
            return BudgetExhausted(f"{where}: daily API budget spent")
        return RetriableError(f"{where}: HTTP 429 without limit headers")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetriableError) and error.wait_s is not None:
            return error.wait_s
        backoff = 2.0 ** (state.attempt_number - 1) * (1 + self.jitter.uniform(0, 0.1))
        return min(self.max_backoff_s, backoff)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "request_retried",
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 1),
            reason=str(error),
            division=self.division,
        )


def _worth_retrying(error: BaseException) -> bool:
    if isinstance(error, BudgetExhausted | OutcomeUnknown):
        return False
    wait_s = getattr(error, "wait_s", None)
    if wait_s is not None and wait_s > LONGEST_RETRY_WAIT_S:
        return False  # e.g. a token refused 9 minutes before it may be refreshed
    return isinstance(error, RetriableError)


def _json(response: requests.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise FatalSourceError("Exact Online answered with something not JSON") from exc


def _error_text(response: requests.Response) -> str:
    """Exact's message from the error envelope, or nothing."""
    try:
        message = response.json()["error"]["message"]["value"]
    except (ValueError, KeyError, TypeError):
        return ""
    return str(message)[:300]


def _path(url: str) -> str:
    """The URL without host or query, for messages and logs."""
    path = url.split("://", 1)[-1]
    return "/" + path.split("/", 1)[-1].split("?", 1)[0]
