"""OAuth 2 for Moneybird against the emulator's token endpoint, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import ValidationError

from adapters.base import SourceContext
from adapters.moneybird.adapter import MoneybirdAdapter, MoneybirdOptions
from adapters.moneybird.auth import (
    NEEDS_REAUTHORISATION,
    OAuthApp,
    TokenKeeper,
    authorize_url,
    exchange_code,
    oauth_url_for,
)
from adapters.moneybird.client import Unauthorized
from connector.errors import FatalSourceError, NeedsReauthorisation
from connector.store import Store

CLIENT_ID = "dunning-app"
CLIENT_SECRET = "s3cret-of-the-app"
REDIRECT = "http://127.0.0.1:9/callback"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Clock:
    """A wall clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class WatchedStore:
    """The real store, with a record of leases taken and of each save."""

    def __init__(self, store: Store, on_save: Any = None) -> None:
        self.store = store
        self.leases: list[str] = []
        self.saves: list[dict[str, Any]] = []
        self.on_save = on_save

    @contextmanager
    def lease(self, name: str, ttl_s: float, wait_s: float) -> Iterator[bool]:
        self.leases.append(name)
        with self.store.lease(name, ttl_s, wait_s) as held:
            yield held

    def load_credentials(self, source: str) -> dict[str, Any] | None:
        return self.store.load_credentials(source)

    def save_credentials(self, source: str, data: dict[str, Any]) -> None:
        self.store.save_credentials(source, data)
        self.saves.append(data)
        if self.on_save is not None:
            self.on_save(data)


@pytest.fixture
def oauth(emulator):
    emulator.control.oauth.register(CLIENT_ID, CLIENT_SECRET)
    return emulator.control.oauth


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path) -> Iterator[WatchedStore]:
    opened = Store.open(f"sqlite:///{tmp_path}/state.db")
    yield WatchedStore(opened)
    opened.close()


def consent(emulator, state: str = "xyz") -> str:
    """Follow the consent URL as a browser would; the code from the redirect."""
    oauth_url = oauth_url_for(emulator.base_url)
    url = authorize_url(CLIENT_ID, REDIRECT, state=state, oauth_url=oauth_url)
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def authorise(emulator, store, clock) -> None:
    exchange_code(
        store,
        "acme",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=consent(emulator),
        redirect_uri=REDIRECT,
        clock=clock,
        oauth_url=oauth_url_for(emulator.base_url),
    )


def oauth_adapter(emulator, store, clock) -> MoneybirdAdapter:
    options = MoneybirdOptions.model_validate(
        {
            "administration": emulator.admin.id,
            "auth": "oauth",
            "client_id": CLIENT_ID,
            "client_secret": {"secret": "MONEYBIRD_CLIENT_SECRET"},
            "base_url": emulator.base_url,
        }
    )
    context = SourceContext(
        name="acme",
        secret={"MONEYBIRD_CLIENT_SECRET": CLIENT_SECRET}.__getitem__,
        now=clock,
        state_dir=".",
        store=store,
    )
    return MoneybirdAdapter.create(options, context)


def credentials_used(emulator) -> list[str]:
    return [
        r.credential for r in emulator.control.requests if r.path.startswith("/api")
    ]


def test_the_consent_url_names_the_app_the_scopes_and_the_state():
    url = authorize_url(
        CLIENT_ID, REDIRECT, scopes=("sales_invoices", "settings"), state="s1"
    )

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://moneybird.com/oauth/authorize"
    )
    assert query == {
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT],
        "response_type": ["code"],
        "scope": ["sales_invoices settings"],
        "state": ["s1"],
    }


def test_the_oauth_root_sits_next_to_the_api_root():
    assert (
        oauth_url_for("https://moneybird.com/api/v2") == "https://moneybird.com/oauth"
    )
    assert (
        oauth_url_for("http://127.0.0.1:5000/api/v2/") == "http://127.0.0.1:5000/oauth"
    )


def test_a_consent_code_is_exchanged_for_tokens_kept_in_the_store(
    emulator, oauth, store, clock
):
    authorise(emulator, store, clock)

    stored = store.load_credentials("acme")
    assert stored is not None
    assert oauth.serial_of(stored["access_token"]) == 1
    assert stored["expires_at"] == (START + timedelta(hours=1)).isoformat()
    assert stored["status"] == "active"
    assert store.leases == ["moneybird-token:acme"]


def test_a_refused_code_asks_for_consent_again_without_showing_secrets(
    emulator, oauth, store, clock
):
    with pytest.raises(NeedsReauthorisation) as raised:
        exchange_code(
            store,
            "acme",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            code="not-a-code",
            redirect_uri=REDIRECT,
            clock=clock,
            oauth_url=oauth_url_for(emulator.base_url),
        )

    assert "invalid_grant" in str(raised.value)
    assert CLIENT_SECRET not in str(raised.value)
    assert store.load_credentials("acme") is None


def test_a_wrong_client_secret_is_a_fatal_error(emulator, oauth, clock):
    app = OAuthApp(CLIENT_ID, "wrong", oauth_url=oauth_url_for(emulator.base_url))

    with pytest.raises(FatalSourceError, match="client_id or client_secret"):
        app.redeem_code(consent(emulator), REDIRECT, clock())


def test_an_oauth_source_reads_with_the_stored_access_token(
    emulator, oauth, store, clock
):
    authorise(emulator, store, clock)

    changes = oauth_adapter(emulator, store, clock).pull_changes(None, {})

    assert len(changes.invoices) == 130
    assert set(credentials_used(emulator)) == {"oauth#1"}
    assert oauth.grants == ["authorization_code"]


def test_a_token_about_to_expire_is_refreshed_and_saved_before_it_is_used(
    emulator, oauth, store, clock
):
    authorise(emulator, store, clock)
    used_at_save: list[list[str]] = []
    store.on_save = lambda data: used_at_save.append(credentials_used(emulator))
    clock.now = START + timedelta(minutes=59, seconds=30)

    oauth_adapter(emulator, store, clock).pull_changes(None, {})

    assert oauth.grants == ["authorization_code", "refresh_token"]
    assert used_at_save == [[]]  # saved before the first request was sent
    assert set(credentials_used(emulator)) == {"oauth#2"}
    assert store.load_credentials("acme")["access_token"] in oauth.access
    assert oauth.serial_of(store.load_credentials("acme")["access_token"]) == 2
    assert store.leases == ["moneybird-token:acme"] * 2


def test_without_expires_in_a_401_refreshes_once_and_the_request_is_retried(
    emulator, oauth, store, clock
):
    oauth.lifetime_s = None  # like Moneybird's published token answer
    authorise(emulator, store, clock)
    assert store.load_credentials("acme")["expires_at"] is None
    adapter = oauth_adapter(emulator, store, clock)
    adapter.pull_changes(None, {})
    oauth.expire_access_tokens()
    before = len(emulator.control.requests)

    adapter.pull_changes(None, {})

    after = [r for r in emulator.control.requests[before:] if r.path.startswith("/api")]
    assert (after[0].status, after[0].credential) == (401, "")
    assert {r.credential for r in after[1:]} == {"oauth#2"}
    assert oauth.grants == ["authorization_code", "refresh_token"]


def test_a_token_refused_again_after_one_refresh_stops_the_source(
    emulator, oauth, store, clock
):
    authorise(emulator, store, clock)
    emulator.control.revoked = True  # every bearer is refused, refreshes still work

    with pytest.raises(Unauthorized) as raised:
        oauth_adapter(emulator, store, clock).pull_changes(None, {})

    assert oauth.grants == ["authorization_code", "refresh_token"]
    stored = store.load_credentials("acme")
    assert stored["access_token"] not in str(raised.value)
    assert stored["refresh_token"] not in str(raised.value)


def test_a_refused_refresh_is_stored_and_asks_for_consent(
    emulator, oauth, store, clock
):
    authorise(emulator, store, clock)
    emulator.control.revoke_token()  # the user withdrew the app

    with pytest.raises(NeedsReauthorisation, match="authorise the app again"):
        oauth_adapter(emulator, store, clock).pull_changes(None, {})
    grants = len(oauth.grants)

    assert store.load_credentials("acme")["status"] == NEEDS_REAUTHORISATION
    with pytest.raises(NeedsReauthorisation):
        oauth_adapter(emulator, store, clock).pull_changes(None, {})
    assert len(oauth.grants) == grants  # no second try with a dead grant


def test_a_refresh_made_by_another_process_is_used_not_repeated(
    emulator, oauth, store, clock
):
    authorise(emulator, store, clock)
    first = oauth_adapter(emulator, store, clock)
    second = oauth_adapter(emulator, store, clock)
    first.confirm_invoices(["1"])
    second.confirm_invoices(["1"])  # both hold access token 1 now
    oauth.expire_access_tokens()

    first.confirm_invoices(["1"])  # 401, refresh, token 2
    second.confirm_invoices(["1"])  # 401, finds token 2 in the store

    assert oauth.grants == ["authorization_code", "refresh_token"]
    assert credentials_used(emulator)[-1] == "oauth#2"


def test_a_source_without_a_stored_grant_asks_for_consent(
    emulator, oauth, store, clock
):
    with pytest.raises(NeedsReauthorisation, match="no OAuth tokens are stored"):
        oauth_adapter(emulator, store, clock).pull_changes(None, {})


def test_oauth_options_need_the_app_id_and_secret():
    with pytest.raises(ValidationError, match="client_id and client_secret"):
        MoneybirdOptions.model_validate({"administration": "1", "auth": "oauth"})
    with pytest.raises(ValidationError, match="needs token"):
        MoneybirdOptions.model_validate({"administration": "1"})


def test_the_client_secret_is_named_never_given():
    options = MoneybirdOptions.model_validate(
        {
            "administration": "1",
            "auth": "oauth",
            "client_id": 42,
            "client_secret": {"secret": "MB_SECRET"},
        }
    )

    assert options.client_id == "42"
    assert options.client_secret is not None
    assert options.client_secret.secret == "MB_SECRET"
    with pytest.raises(ValidationError):
        MoneybirdOptions.model_validate(
            {
                "administration": "1",
                "auth": "oauth",
                "client_id": "x",
                "client_secret": "raw",
            }
        )


def test_the_keeper_takes_the_lease_only_to_refresh(emulator, oauth, store, clock):
    authorise(emulator, store, clock)
    app = OAuthApp(CLIENT_ID, CLIENT_SECRET, oauth_url=oauth_url_for(emulator.base_url))
    keeper = TokenKeeper(store, "acme", app, clock)

    token = keeper.access_token()
    keeper.access_token()

    assert oauth.serial_of(token) == 1
    assert store.leases == ["moneybird-token:acme"]  # the exchange's only
