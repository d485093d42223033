"""Exact's OAuth 2.0 server: codes, ten-minute access tokens, rotating refreshes.

The rules follow the brief: a refresh token works once; presenting it again is
answered 401 "Old refresh token used."; it expires 30 days after issue; a refresh
sooner than 570 s after the previous issue is refused (the body for that refusal
is our own choice, Exact's is unknown) and leaves the old pair valid.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

ACCESS_TTL = timedelta(seconds=600)
REFRESH_TTL = timedelta(days=30)
MIN_REFRESH_INTERVAL = timedelta(seconds=570)
CODE_TTL = timedelta(minutes=3)

Answer = tuple[int, dict[str, Any]]


@dataclass
class Grant:
    """One user's consent for one app: the only valid token set of that pair."""

    client_id: str
    divisions: frozenset[int]
    issued_at: datetime
    access_token: str = ""
    refresh_token: str = ""
    refresh_expires_at: datetime | None = None
    revoked: bool = False
    used_refresh_tokens: set[str] = field(default_factory=set)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    divisions: frozenset[int]
    expires_at: datetime


class OAuthServer:
    """The state behind ``/api/oauth2/auth`` and ``/api/oauth2/token``."""

    def __init__(self, now: Callable[[], datetime], clients: Mapping[str, str]) -> None:
        self.now = now
        self.clients = dict(clients)
        self.refuse_early_refresh = True
        self.refreshes = 0  # successful refresh_token grants, for tests
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, Grant] = {}  # by client id
        self._lock = threading.Lock()

    def authorize(
        self, client_id: str, redirect_uri: str, divisions: frozenset[int]
    ) -> str:
        """A one-time code, valid three minutes, as the consent page hands out."""
        code = "C" + secrets.token_urlsafe(12) + "!IAAAA"
        with self._lock:
            expires = self.now() + CODE_TTL
            self._codes[code] = _Code(client_id, redirect_uri, divisions, expires)
        return code

    def issue_grant(self, client_id: str, divisions: frozenset[int]) -> dict[str, Any]:
        """Skip the browser: a fresh token set, as after consent (test seeding)."""
        with self._lock:
            return self._new_grant(client_id, divisions)

    def token(self, form: Mapping[str, str]) -> Answer:
        """Answer a POST to the token endpoint."""
        client_id = form.get("client_id", "")
        if self.clients.get(client_id) != form.get("client_secret"):
            return 400, _oauth_error("invalid_client", "Invalid client credentials.")
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                return self._exchange(form, client_id)
            if form.get("grant_type") == "refresh_token":
                return self._refresh(form.get("refresh_token", ""), client_id)
        return 400, _oauth_error("unsupported_grant_type", "Unknown grant type.")

    def check_bearer(self, token: str) -> Grant | None:
        """The grant an access token belongs to, if it is valid right now."""
        with self._lock:
            for grant in self._grants.values():
                if grant.revoked or grant.access_token != token:
                    continue
                if self.now() < grant.issued_at + ACCESS_TTL:
                    return grant
        return None

    def grant_of(self, client_id: str) -> Grant | None:
        with self._lock:
            return self._grants.get(client_id)

    def _exchange(self, form: Mapping[str, str], client_id: str) -> Answer:
        code = self._codes.pop(form.get("code", ""), None)
        if code is None or code.client_id != client_id or self.now() > code.expires_at:
            return 400, _oauth_error("invalid_grant", "Bad Request")
        if code.redirect_uri != form.get("redirect_uri"):
            return 400, _oauth_error("invalid_grant", "Bad Request")
        return 200, self._new_grant(client_id, code.divisions)

    def _refresh(self, refresh_token: str, client_id: str) -> Answer:
        grant = self._grants.get(client_id)
        if grant is None or grant.revoked:
            return 401, _oauth_error("unauthorized_client", "Old refresh token used.")
        if refresh_token != grant.refresh_token:
            return 401, _oauth_error("unauthorized_client", "Old refresh token used.")
        now = self.now()
        assert grant.refresh_expires_at is not None
        if now >= grant.refresh_expires_at:
            expired = grant.refresh_expires_at.strftime("%m/%d/%Y %I:%M:%S %p")
            text = f"The refresh token expired at {expired} and it is now "
            text += now.strftime("%m/%d/%Y %I:%M:%S %p") + "."
            return 400, _oauth_error("invalid_request", text)
        if self.refuse_early_refresh and now < grant.issued_at + MIN_REFRESH_INTERVAL:
            return 401, _oauth_error("invalid_request", "Access token not expired")
        grant.used_refresh_tokens.add(refresh_token)
        self.refreshes += 1
        self._rotate(grant)
        return 200, self._pair(grant)

    def _new_grant(self, client_id: str, divisions: frozenset[int]) -> dict[str, Any]:
        previous = self._grants.get(client_id)
        if previous is not None:
            previous.revoked = True  # a second consent ends the first token set
        grant = Grant(client_id, divisions, self.now())
        self._rotate(grant)
        self._grants[client_id] = grant
        return self._pair(grant)

    def _rotate(self, grant: Grant) -> None:
        grant.issued_at = self.now()
        grant.access_token = "A" + secrets.token_urlsafe(24)
        grant.refresh_token = "R" + secrets.token_urlsafe(18) + "!IAAAA"
        grant.refresh_expires_at = grant.issued_at + REFRESH_TTL

    @staticmethod
    def _pair(grant: Grant) -> dict[str, Any]:
        return {
            "access_token": grant.access_token,
            "token_type": "bearer",
            "expires_in": str(int(ACCESS_TTL.total_seconds())),
            "refresh_token": grant.refresh_token,
        }


def _oauth_error(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}
