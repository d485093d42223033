"""Exact Online OAuth: ten-minute access tokens and single-use refresh tokens.

A refresh token works once. Two processes refreshing with the same one lose the
grant for good, and so does a process that receives a new pair and dies before
saving it. Hence the rules here:

- refresh only while holding the store's lease ``exact-token:{source}`` (and,
  inside one process, a lock of the same name, since the store's lease is
  held per store handle, not per thread), and re-read the stored pair inside
  it (another job may have refreshed);
- save the new pair (retrying the save) before the access token is used;
- never refresh sooner than 570 s after the previous pair was received;
- refresh in the last 30 s of an access token's life, and at least weekly so
  the refresh token (30 days unused) never lapses;
- a refused refresh ("Old refresh token used.", expired) stores the state
  ``needs_reauthorisation`` and raises NeedsReauthorisation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
import structlog

from connector.errors import (
    FatalSourceError,
    NeedsReauthorisation,
    RetriableError,
)
from connector.faults import crash_point

log = structlog.get_logger(__name__)

REFRESH_NOT_BEFORE = timedelta(seconds=570)
EXPIRY_MARGIN = timedelta(seconds=30)
KEEP_ALIVE = timedelta(days=7)
ACTIVE = "active"
NEEDS_REAUTHORISATION = "needs_reauthorisation"
_local_locks: dict[str, threading.Lock] = {}  # one per lease name, per process
_local_locks_guard = threading.Lock()


class CredentialStore(Protocol):
    """The part of the state store that keeps tokens and serialises refreshes."""

    def lease(
        self, name: str, ttl_s: float, wait_s: float
    ) -> AbstractContextManager[bool]:
        """A lock across processes; TimeoutError after ``wait_s``."""
        ...

    def load_credentials(self, source: str) -> dict[str, Any] | None: ...

    def save_credentials(self, source: str, data: dict[str, Any]) -> None:
        """Store ``data``; committed when this returns."""
        ...


@dataclass(frozen=True)
class Credentials:
    """A token pair and what we know about it, as stored (times in UTC)."""

    access_token: str
    refresh_token: str
    obtained_at: datetime  # when Exact handed out this pair
    expires_at: datetime  # end of the access token's life
    status: str = ACTIVE
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["obtained_at"] = self.obtained_at.isoformat()
        data["expires_at"] = self.expires_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Credentials:
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            obtained_at=datetime.fromisoformat(data["obtained_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            status=data.get("status", ACTIVE),
            reason=data.get("reason", ""),
        )

    @classmethod
    def from_token_response(cls, data: Mapping[str, Any], now: datetime) -> Credentials:
        """The pair Exact's token endpoint answered at ``now``."""
        lifetime = timedelta(seconds=int(data["expires_in"]))  # a string: "600"
        return cls(data["access_token"], data["refresh_token"], now, now + lifetime)

    def usable(self, now: datetime) -> bool:
        return now < self.expires_at - EXPIRY_MARGIN

    def refresh_allowed(self, now: datetime) -> bool:
        return now >= self.obtained_at + REFRESH_NOT_BEFORE

    def keep_alive_due(self, now: datetime) -> bool:
        return now >= self.obtained_at + KEEP_ALIVE


class TokenManager:
    """Hands out a valid access token for one source, refreshing it safely."""

    def __init__(
        self,
        store: CredentialStore,
        source: str,
        client_id: str,
        client_secret: str,
        token_url: str,
        clock: Callable[[], datetime],
        http: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        save_attempts: int = 5,
        lease_ttl_s: float = 120.0,
        lease_wait_s: float = 90.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.source = source
        self._client = (client_id, client_secret)
        self.token_url = token_url
        self.clock = clock
        self.http = http or requests.Session()
        self.timeout = timeout
        self.save_attempts = save_attempts
        self.lease_ttl_s = lease_ttl_s
        self.lease_wait_s = lease_wait_s
        self.sleep = sleep
        self._cached: Credentials | None = None
        self._rejected: str | None = None
        self._unsaved: Credentials | None = None

    @property
    def lease_name(self) -> str:
        return f"exact-token:{self.source}"

    def access_token(self) -> str:
        """A token valid for at least 30 more seconds; refreshes when needed."""
        creds = self._cached or self._load()
        now = self.clock()
        if self._fresh_enough(creds, now):
            self._cached = creds
            return creds.access_token
        return self._refresh()

    def rejected(self, token: str) -> None:
        """Exact answered 401: the next call must not use ``token`` again."""
        self._rejected = token
        self._cached = None

    def keep_alive(self) -> bool:
        """Refresh if the pair is a week old, so the grant never lapses."""
        creds = self._load()
        if creds.keep_alive_due(self.clock()):
            self._refresh()
            return True
        return False

    def exchange_code(self, code: str, redirect_uri: str) -> None:
        """Trade a consent code for the first pair and store it."""
        answer = self._post_token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )
        if answer.status_code != 200:
            raise FatalSourceError(
                f"Exact Online refused the authorisation code: {_description(answer)}"
            )
        with self._lease():
            self._save(self._pair(answer, self.clock()))

    def _fresh_enough(self, creds: Credentials, now: datetime) -> bool:
        if creds.access_token == self._rejected or not creds.usable(now):
            return False
        return not (creds.keep_alive_due(now) and creds.refresh_allowed(now))

    def _load(self) -> Credentials:
        data = self.store.load_credentials(self.source)
        if not data:
            raise NeedsReauthorisation(self._reauth_message("no tokens are stored"))
        creds = Credentials.from_dict(data)
        if creds.status == NEEDS_REAUTHORISATION:
            raise NeedsReauthorisation(self._reauth_message(creds.reason))
        return creds

    def _refresh(self) -> str:
        with self._lease():
            if self._unsaved is not None:
                self._save(self._unsaved)  # an earlier save failed; try again
            creds = self._load()
            now = self.clock()
            if self._fresh_enough(creds, now):
                self._cached = creds  # another job refreshed while we waited
                return creds.access_token
            if not creds.refresh_allowed(now):
                return self._too_early(creds, now)
            fresh = self._redeem(creds, now)
            crash_point("after_token_response")
            self._save(fresh)
            crash_point("after_token_saved")
        self._cached, self._rejected = fresh, None
        log.info("exact_token_refreshed", source=self.source)
        return fresh.access_token

    def _too_early(self, creds: Credentials, now: datetime) -> str:
        """Exact refuses refreshes before 570 s: keep the current pair."""
        if creds.access_token != self._rejected and now < creds.expires_at:
            self._cached = creds
            return creds.access_token
        wait = (creds.obtained_at + REFRESH_NOT_BEFORE - now).total_seconds()
        raise RetriableError("access token refused; too early to refresh", wait_s=wait)

    def _redeem(self, creds: Credentials, now: datetime) -> Credentials:
        answer = self._post_token(
            {"grant_type": "refresh_token", "refresh_token": creds.refresh_token}
        )
        if answer.status_code == 200:
            return self._pair(answer, now)
        description = _description(answer)
        if "not expired" in description.lower():
            wait = (creds.obtained_at + REFRESH_NOT_BEFORE - now).total_seconds()
            raise RetriableError("Exact refused an early refresh", wait_s=max(wait, 1))
        if answer.status_code in (400, 401):
            self._mark_needs_reauthorisation(creds, description)
        raise RetriableError(f"token endpoint answered HTTP {answer.status_code}")

    def _post_token(self, form: dict[str, str]) -> requests.Response:
        client_id, secret = self._client
        form = {**form, "client_id": client_id, "client_secret": secret}
        try:
            return self.http.post(self.token_url, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            # The message names the URL, never the form with its secrets.
            raise RetriableError(
                f"token endpoint unreachable: {type(exc).__name__}"
            ) from None

    def _pair(self, answer: requests.Response, now: datetime) -> Credentials:
        try:
            return Credentials.from_token_response(answer.json(), now)
        except (ValueError, KeyError, TypeError) as exc:
            raise FatalSourceError(
                "token endpoint answered without a token pair"
            ) from exc

    def _save(self, creds: Credentials) -> None:
        """Store the pair before anyone uses it, retrying a failing store."""
        self._unsaved = creds
        for attempt in range(1, self.save_attempts + 1):
            try:
                self.store.save_credentials(self.source, creds.to_dict())
            except Exception as exc:
                log.warning(
                    "token_save_retried",
                    source=self.source,
                    attempt=attempt,
                    error=type(exc).__name__,
                )
                if attempt < self.save_attempts:
                    self.sleep(min(0.1 * 2**attempt, 2.0))
                continue
            self._unsaved = None
            return
        raise RetriableError("could not save the refreshed Exact Online tokens")

    def _mark_needs_reauthorisation(self, creds: Credentials, reason: str) -> None:
        dead = replace(creds, status=NEEDS_REAUTHORISATION, reason=reason)
        self.store.save_credentials(self.source, dead.to_dict())
        self._cached = None
        log.error("exact_reauthorisation_needed", source=self.source, reason=reason)
        raise NeedsReauthorisation(self._reauth_message(reason))

    def _reauth_message(self, reason: str) -> str:
        return (
            f"Exact Online access for source {self.source!r} must be authorised "
            f"again with `dunning auth exact` ({reason or 'grant refused'})"
        )

    def _lease(self) -> AbstractContextManager[bool]:
        return _TokenLease(
            _local_lock(self.lease_name),
            self.store.lease(self.lease_name, self.lease_ttl_s, self.lease_wait_s),
            self.lease_wait_s,
        )


def _local_lock(name: str) -> threading.Lock:
    with _local_locks_guard:
        return _local_locks.setdefault(name, threading.Lock())


class _TokenLease(AbstractContextManager[bool]):
    """This process's lock, then the store's lease; waiting too long is retriable.

    The store's lease keeps other processes out. Threads sharing one store
    handle count as one holder there, so the lock keeps them apart.
    """

    def __init__(
        self, local: threading.Lock, inner: AbstractContextManager[bool], wait_s: float
    ) -> None:
        self.local = local
        self.inner = inner
        self.wait_s = wait_s

    def __enter__(self) -> bool:
        if not self.local.acquire(timeout=self.wait_s):
            raise RetriableError("another job holds the token lease")
        try:
            return self.inner.__enter__()
        except TimeoutError as exc:
            self.local.release()
            raise RetriableError("another job holds the token lease") from exc
        except BaseException:
            self.local.release()
            raise

    def __exit__(self, *exc: Any) -> bool | None:
        try:
            return self.inner.__exit__(*exc)
        finally:
            self.local.release()


def _description(answer: requests.Response) -> str:
    try:
        data = answer.json()
        return str(data.get("error_description") or data.get("error") or "")[:200]
    except ValueError:
        return f"HTTP {answer.status_code}"
