"""The consent flow of ``dunning auth exact`` against the emulator."""

from __future__ import annotations

import socket

import pytest
import requests

from adapters.exact.consent import authorize_url, code_from_redirect, run_consent_flow
from adapters.exact.emulator import DEFAULT_CLIENT
from connector.errors import FatalSourceError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_consent_through_a_loopback_redirect_stores_a_working_token_pair(world, store):
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    said: list[str] = []

    run_consent_flow(
        store,
        "fresh",
        base_url=world.emulator.base_url,
        client_id=DEFAULT_CLIENT[0],
        client_secret=DEFAULT_CLIENT[1],
        redirect_uri=redirect,
        open_url=lambda url: requests.get(url, timeout=5),  # the "browser"
        echo=said.append,
        timeout_s=10,
    )

    stored = store.load_credentials("fresh")
    assert world.state.oauth.check_bearer(stored["access_token"]) is not None
    assert not any(stored["refresh_token"] in line for line in said)


def test_a_pasted_redirect_address_is_accepted_for_a_public_redirect_uri(world, store):
    def browser(url: str) -> None:
        answer = requests.get(url, allow_redirects=False, timeout=5)
        pasted.append(answer.headers["Location"])

    pasted: list[str] = []
    run_consent_flow(
        store,
        "pasted",
        base_url=world.emulator.base_url,
        client_id=DEFAULT_CLIENT[0],
        client_secret=DEFAULT_CLIENT[1],
        redirect_uri="https://connector.example.nl/exact/callback",
        open_url=browser,
        echo=lambda line: None,
        read_line=lambda prompt: pasted[0],
    )

    assert store.load_credentials("pasted")["status"] == "active"


def test_the_authorize_url_asks_for_a_code():
    url = authorize_url("https://start.exactonline.be", "cid", "https://x/cb", "s1")

    assert url.startswith("https://start.exactonline.be/api/oauth2/auth?")
    assert "response_type=code" in url and "state=s1" in url


def test_a_redirect_for_another_request_is_refused():
    with pytest.raises(FatalSourceError, match="does not belong"):
        code_from_redirect("https://x/cb?code=C%21IAAA&state=other", "mine")


def test_the_encoded_code_is_decoded():
    assert code_from_redirect("https://x/cb?code=C%21IAAA&state=s", "s") == "C!IAAA"
