"""The emulator's OAuth 2 server: consent codes, access and refresh tokens.

``POST /oauth/token`` takes form fields as Moneybird's third-party clients send
them: ``grant_type=authorization_code`` with ``code`` and ``redirect_uri``, or
``grant_type=refresh_token`` with ``refresh_token``; both with ``client_id`` and
``client_secret``. Whether Moneybird's access tokens expire is not documented:
``lifetime_s`` chooses (``None`` answers without ``expires_in``, like the public
fixture). A refresh hands out a new pair and retires the old refresh token at
once, the strictest reading of "rotating".
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCOPES = frozenset(
    {"sales_invoices", "documents", "estimates", "bank", "time_entries", "settings"}
)


@dataclass
class Issued:
    """One access token handed out, with its serial number for tests."""

    serial: int
    client_id: str
    scope: str
    expires_at: float | None


@dataclass
class OAuthServer:
    """Registered apps, open consent codes and the tokens issued for them."""

    clients: dict[str, str] = field(default_factory=dict)  # id → secret
    lifetime_s: int | None = 3600
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    access: dict[str, Issued] = field(default_factory=dict)
    refresh: dict[str, tuple[str, str]] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)  # grant types served
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, client_id: str, client_secret: str) -> None:
        """Register an app, as on ``moneybird.com/user/applications/new``."""
        self.clients[client_id] = client_secret

    def issue_code(
        self, client_id: str, redirect_uri: str, scope: str = "sales_invoices"
    ) -> str:
        """A consent code, as if the user had clicked "allow"."""
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = (client_id, redirect_uri, scope)
        return code

    def token(self, form: Mapping[str, str], now: float) -> tuple[int, dict[str, Any]]:
        """Answer a token request: the status and the JSON body."""
        client_id = form.get("client_id", "")
        if not client_id or self.clients.get(client_id) != form.get("client_secret"):
            return 401, _refusal("invalid_client", "Client authentication failed.")
        grant = form.get("grant_type", "")
        with self.lock:
            self.grants.append(grant)
            if grant == "authorization_code":
                return self._redeem_code(form, client_id, now)
            if grant == "refresh_token":
                return self._redeem_refresh(form, client_id, now)
        return 400, _refusal("unsupported_grant_type", "Grant type not supported.")

    def accepts(self, token: str, now: float) -> Issued | None:
        """The issued token behind ``token`` if it is valid right now."""
        with self.lock:
            issued = self.access.get(token)
        if issued is None or (
            issued.expires_at is not None and now >= issued.expires_at
        ):
            return None
        return issued

    # -- switches for tests ------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far stops working."""
        with self.lock:
            for issued in self.access.values():
                issued.expires_at = 0.0

    def revoke_refresh_tokens(self) -> None:
        """The user withdrew the app's access: no refresh works any more."""
        with self.lock:
            self.refresh.clear()

    def serial_of(self, token: str) -> int | None:
        issued = self.access.get(token)
        return None if issued is None else issued.serial

    # -- grants ------------------------------------------------------------------

    def _redeem_code(
        self, form: Mapping[str, str], client_id: str, now: float
    ) -> tuple[int, dict[str, Any]]:
        found = self.codes.pop(form.get("code", ""), None)
        if found is None or found[0] != client_id:
            return 400, _refusal("invalid_grant", "The authorization code is invalid.")
        if found[1] != form.get("redirect_uri"):
            return 400, _refusal("invalid_grant", "The redirect_uri does not match.")
        return 200, self._pair(client_id, found[2], now)

    def _redeem_refresh(
        self, form: Mapping[str, str], client_id: str, now: float
    ) -> tuple[int, dict[str, Any]]:
        found = self.refresh.pop(form.get("refresh_token", ""), None)
        if found is None or found[0] != client_id:
            return 400, _refusal("invalid_grant", "The refresh token is invalid.")
        return 200, self._pair(client_id, found[1], now)

    def _pair(self, client_id: str, scope: str, now: float) -> dict[str, Any]:
        access, refresh = secrets.token_hex(32), secrets.token_hex(32)
        expires = None if self.lifetime_s is None else now + self.lifetime_s
        serial = len(self.access) + 1
        self.access[access] = Issued(serial, client_id, scope, expires)
        self.refresh[refresh] = (client_id, scope)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "scope": scope,
            "created_at": int(now),
        }
        if self.lifetime_s is not None:
            body["expires_in"] = self.lifetime_s
        return body


def _refusal(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}


def valid_scope(scope: str) -> bool:
    """Whether every space-separated scope is one Moneybird knows."""
    parts = scope.split()
    return bool(parts) and set(parts) <= SCOPES
