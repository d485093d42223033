"""``dunning auth exact`` against the emulator's consent page and token endpoint.

The "browser" is a GET of the consent URL that follows Exact's redirect to the
command's loopback listener, as a real browser would after the user agreed.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from adapters.base import load_adapter
from adapters.exact.cli import auth_command
from adapters.exact.emulator import DEFAULT_CLIENT
from adapters.exact.tokens import ACTIVE, NEEDS_REAUTHORISATION, Credentials
from connector.errors import ConfigError, FatalSourceError
from tests.factories import policy_text, write_policy

CSV_SOURCE = "  - {name: acme, adapter: csv, path: open_items.csv}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def browser(url: str) -> None:
    requests.get(url, timeout=5)


def exact_source(world, name: str = "acme", division: int | None = None) -> str:
    return "\n".join(
        [
            f"  - name: {name}",
            "    adapter: exact",
            f"    division: {division or world.division}",
            f"    base_url: {world.emulator.base_url}",
            f"    redirect_uri: http://127.0.0.1:{free_port()}/callback",
        ]
    )


@pytest.fixture
def config(tmp_path: Path, world, store, monkeypatch: pytest.MonkeyPatch):
    """Write a policy with the given sources; the environment points at ``store``."""
    monkeypatch.setenv("DUNNING_STATE_URL", f"sqlite:///{store.path}")
    monkeypatch.setenv("EXACT_CLIENT_ID", DEFAULT_CLIENT[0])
    monkeypatch.setenv("EXACT_CLIENT_SECRET", DEFAULT_CLIENT[1])

    def write(*sources: str) -> Path:
        text = policy_text().replace(CSV_SOURCE, "\n".join(sources) or CSV_SOURCE)
        return write_policy(tmp_path, text)

    return write


def test_consent_stores_a_working_pair_and_names_the_division(world, store, config):
    said: list[str] = []

    auth_command(config(exact_source(world)), None, open_url=browser, echo=said.append)

    stored = Credentials.from_dict(store.load_credentials("acme"))
    assert world.state.oauth.check_bearer(stored.access_token) is not None
    assert (
        said[-1] == f"Division {world.division} (Administratie 1234567) is reachable."
    )
    printed = "\n".join(said)
    assert stored.access_token not in printed and stored.refresh_token not in printed


def test_a_source_that_needed_reauthorisation_is_active_again(world, store, config):
    dead = Credentials.from_token_response(world.state.grant(), world.clock.now())
    dead_data = {**dead.to_dict(), "status": NEEDS_REAUTHORISATION}
    store.save_credentials("acme", dead_data)
    path = config(exact_source(world))

    auth_command(path, "acme", open_url=browser, echo=lambda line: None)

    assert store.load_credentials("acme")["status"] == ACTIVE
    assert world.token_manager().access_token() != dead.access_token


def test_a_consent_that_leaves_out_the_division_is_refused_clearly(
    world, store, config
):
    path = config(exact_source(world, division=99))

    with pytest.raises(FatalSourceError, match="does not cover division 99"):
        auth_command(path, None, open_url=browser, echo=lambda line: None)


def test_the_source_must_be_named_when_there_are_several(world, config):
    path = config(exact_source(world, "acme"), exact_source(world, "beta"))

    with pytest.raises(ConfigError, match=r"acme, beta.*--source"):
        auth_command(path, None, open_url=browser, echo=lambda line: None)


def test_a_named_source_of_another_adapter_is_refused(world, config):
    path = config()

    with pytest.raises(ConfigError, match="not an Exact Online source"):
        auth_command(path, "acme", open_url=browser, echo=lambda line: None)


def test_the_core_reaches_the_command_through_the_adapters_entry_point(
    world, store, config
):
    factory = load_adapter("exact")

    factory.authorise(  # type: ignore[attr-defined]
        config(exact_source(world)), None, open_url=browser, echo=lambda line: None
    )

    assert store.load_credentials("acme")["status"] == ACTIVE
