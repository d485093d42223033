"""Moneybird OAuth 2: the consent URL, the code exchange and token refreshes.

The grant of a source lives in the state store, so every process sees the same
one. Whether Moneybird's access tokens expire is not settled (its public token
answers carry no ``expires_in``; a third party says one hour), so:

- a token answer with ``expires_in`` sets ``expires_at``; the token is refreshed
  before use once fewer than ``EXPIRY_MARGIN`` are left;
- a 401 refreshes once (the client asks), whatever ``expires_at`` says;
- a refresh happens only under the store's lease ``moneybird-token:{source}``,
  and re-reads the stored grant inside it: another process may have refreshed;
- the new pair is saved (and committed) before its access token is used;
- a refused refresh stores ``needs_reauthorisation`` and raises
  ``NeedsReauthorisation``: a person must give consent again.

Tokens and the client secret never appear in a message or a log event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
import structlog

from connector.errors import (
    FatalSourceError,
    NeedsReauthorisation,
    RetriableError,
)

log = structlog.get_logger(__name__)

DEFAULT_OAUTH_URL = "https://moneybird.com/oauth"
DEFAULT_SCOPES = ("sales_invoices",)
EXPIRY_MARGIN = timedelta(seconds=60)
ACTIVE = "active"
NEEDS_REAUTHORISATION = "needs_reauthorisation"


class CredentialStore(Protocol):
    """The part of the state store that keeps grants and serialises refreshes."""

    def lease(
        self, name: str, ttl_s: float, wait_s: float
    ) -> AbstractContextManager[bool]: ...

    def load_credentials(self, source: str) -> dict[str, Any] | None: ...

    def save_credentials(self, source: str, data: dict[str, Any]) -> None: ...


def oauth_url_for(base_url: str) -> str:
    """The OAuth root next to an API root (``…/api/v2`` → ``…/oauth``)."""
    root = base_url.rstrip("/")
    for suffix in ("/api/v2", "/api"):
        if root.endswith(suffix):
            return root[: -len(suffix)] + "/oauth"
    return DEFAULT_OAUTH_URL


@dataclass(frozen=True)
class Grant:
    """A token pair as stored; ``expires_at`` is None when Moneybird gave no expiry."""

    access_token: str
    refresh_token: str
    obtained_at: datetime
    expires_at: datetime | None = None
    status: str = ACTIVE

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["obtained_at"] = self.obtained_at.isoformat()
        data["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grant:
        expires = data.get("expires_at")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]),
            obtained_at=datetime.fromisoformat(data["obtained_at"]),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            status=str(data.get("status", ACTIVE)),
        )

    @classmethod
    def from_answer(cls, body: Mapping[str, Any], now: datetime) -> Grant:
        """A grant from a token answer; a missing field is a source error."""
        try:
            access, refresh = str(body["access_token"]), str(body["refresh_token"])
        except (KeyError, TypeError):
            raise FatalSourceError(
                "moneybird: the token answer has no access or refresh token"
            ) from None
        lifetime = body.get("expires_in")
        expires = None
        if isinstance(lifetime, int | float) and lifetime > 0:
            expires = now + timedelta(seconds=float(lifetime))
        return cls(access, refresh, now, expires)

    def usable(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at - EXPIRY_MARGIN


class OAuthApp:
    """A registered Moneybird app: its id, its secret and where OAuth lives."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        oauth_url: str = DEFAULT_OAUTH_URL,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.oauth_url = oauth_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def authorize_url(
        self,
        redirect_uri: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        state: str | None = None,
    ) -> str:
        """Where to send the administrator to give consent."""
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(scopes),
        }
        if state is not None:
            query["state"] = state
        return f"{self.oauth_url}/authorize?{urlencode(query)}"

    def redeem_code(self, code: str, redirect_uri: str, now: datetime) -> Grant:
        """Trade a consent code for the first grant."""
        form = {"grant_type": "authorization_code", "code": code}
        return self._ask({**form, "redirect_uri": redirect_uri}, now, "code")

    def redeem_refresh(self, refresh_token: str, now: datetime) -> Grant:
        """Trade a refresh token for a new grant."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._ask(form, now, "refresh token")

    def _ask(self, form: dict[str, str], now: datetime, what: str) -> Grant:
        form = {**form, "client_id": self.client_id, "client_secret": self._secret}
        try:
            answer = self.session.post(
                f"{self.oauth_url}/token",
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise RetriableError(
                f"moneybird: the token request failed: {type(exc).__name__}"
            ) from exc
        if answer.status_code >= 500 or answer.status_code == 429:
            raise RetriableError(
                f"moneybird: the token request answered {answer.status_code}"
            )
        body = _json(answer)
        if answer.status_code == 401 or body.get("error") == "invalid_client":
            raise FatalSourceError(
                "moneybird: the app's client_id or client_secret was refused"
            )
        if answer.status_code != 200:
            raise NeedsReauthorisation(
                f"Moneybird refused the {what} ({_error_code(body)})"
            )
        return Grant.from_answer(body, now)


class TokenKeeper:
    """Hands out a usable access token for one source, refreshing it safely."""

    def __init__(
        self,
        store: CredentialStore,
        source: str,
        app: OAuthApp,
        clock: Callable[[], datetime],
        *,
        lease_ttl_s: float = 120.0,
        lease_wait_s: float = 60.0,
        save_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.source = source
        self.app = app
        self.clock = clock
        self.lease_ttl_s = lease_ttl_s
        self.lease_wait_s = lease_wait_s
        self.save_attempts = save_attempts
        self.sleep = sleep
        self._cached: Grant | None = None
        self._unsaved: Grant | None = None

    @property
    def lease_name(self) -> str:
        return f"moneybird-token:{self.source}"

    def access_token(self) -> str:
        """A token that is not about to expire; refreshes first if it is."""
        grant = self._cached or self._load()
        if self._unsaved is None and grant.usable(self.clock()):
            self._cached = grant
            return grant.access_token
        return self._refresh(rejected=None)

    def refresh_rejected(self) -> str:
        """Moneybird answered 401 to the current token: refresh once."""
        rejected = self._cached.access_token if self._cached else None
        self._cached = None
        return self._refresh(rejected=rejected)

    def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        """Trade a consent code for a grant and store it (replacing any old one)."""
        grant = self.app.redeem_code(code, redirect_uri, self.clock())
        with self._lease():
            self._save(grant)
        self._cached = grant
        log.info("moneybird_authorised", source=self.source)
        return grant

    def _load(self) -> Grant:
        data = self.store.load_credentials(self.source)
        if not data:
            raise NeedsReauthorisation(self._reauth("no OAuth tokens are stored"))
        try:
            grant = Grant.from_dict(data)
        except (KeyError, TypeError, ValueError):
            raise NeedsReauthorisation(
                self._reauth("the stored tokens are unreadable")
            ) from None
        if grant.status == NEEDS_REAUTHORISATION:
            raise NeedsReauthorisation(self._reauth("the last refresh was refused"))
        return grant

    def _refresh(self, rejected: str | None) -> str:
        with self._lease():
            if self._unsaved is not None:
                self._save(self._unsaved)  # an earlier save failed: finish it first
            grant = self._load()
            now = self.clock()
            if grant.access_token != rejected and grant.usable(now):
                self._cached = grant  # someone refreshed while we waited
                return grant.access_token
            try:
                fresh = self.app.redeem_refresh(grant.refresh_token, now)
            except NeedsReauthorisation as exc:
                self.store.save_credentials(
                    self.source, {**grant.to_dict(), "status": NEEDS_REAUTHORISATION}
                )
                raise NeedsReauthorisation(self._reauth(str(exc))) from exc
            self._save(fresh)
        self._cached = fresh
        log.info("moneybird_token_refreshed", source=self.source)
        return fresh.access_token

    def _save(self, grant: Grant) -> None:
        """Store the grant, retrying; if that fails, keep it and use nothing."""
        self._unsaved = grant
        for attempt in range(1, self.save_attempts + 1):
            try:
                self.store.save_credentials(self.source, grant.to_dict())
            except Exception as exc:  # the store's driver errors vary
                log.warning(
                    "moneybird_token_save_failed",
                    source=self.source,
                    attempt=attempt,
                    error=type(exc).__name__,
                )
                if attempt < self.save_attempts:
                    self.sleep(0.2 * attempt)
                continue
            self._unsaved = None
            return
        raise RetriableError(
            "moneybird: a refreshed token could not be saved; it is not used yet"
        )

    @contextmanager
    def _lease(self) -> Iterator[None]:
        """The store's lease on this source's grant; a timeout is retriable."""
        held = ExitStack()
        try:
            held.enter_context(
                self.store.lease(self.lease_name, self.lease_ttl_s, self.lease_wait_s)
            )
        except TimeoutError as exc:
            raise RetriableError(
                "moneybird: another process is refreshing the token"
            ) from exc
        with held:
            yield

    def _reauth(self, why: str) -> str:
        return (
            f"moneybird source {self.source!r}: {why}; authorise the app again "
            "(dunning auth moneybird)"
        )


def authorize_url(
    client_id: str,
    redirect_uri: str,
    *,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    state: str | None = None,
    oauth_url: str = DEFAULT_OAUTH_URL,
) -> str:
    """The consent page URL for an app (no secret needed)."""
    app = OAuthApp(client_id, "", oauth_url=oauth_url)
    return app.authorize_url(redirect_uri, scopes, state)


def exchange_code(
    store: CredentialStore,
    source: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    clock: Callable[[], datetime],
    oauth_url: str = DEFAULT_OAUTH_URL,
) -> Grant:
    """Trade the code from the consent redirect for tokens, stored for ``source``."""
    app = OAuthApp(client_id, client_secret, oauth_url=oauth_url)
    return TokenKeeper(store, source, app, clock).exchange_code(code, redirect_uri)


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(body: Mapping[str, Any]) -> str:
    code = body.get("error")
    return str(code) if isinstance(code, str) and code.isidentifier() else "refused"
