"""Token rotation against the emulator's OAuth server, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from structlog.testing import capture_logs

from adapters.exact.emulator import DEFAULT_CLIENT
from adapters.exact.tokens import NEEDS_REAUTHORISATION, Credentials
from connector.errors import NeedsReauthorisation, RetriableError

WORKER = Path(__file__).with_name("token_worker.py")


def stored(store, source="acme"):
    return Credentials.from_dict(store.load_credentials(source))


def token_calls(state):
    return [r for r in state.requests if r.path == "/api/oauth2/token"]


def test_a_valid_access_token_is_used_without_calling_the_token_endpoint(
    tokens, state, store
):
    assert tokens.access_token() == stored(store).access_token
    assert token_calls(state) == []


def test_two_jobs_needing_a_fresh_token_at_once_make_exactly_one_refresh(
    state, store, clock, tokens, make_tokens, run_in_threads
):
    other = make_tokens()
    clock.advance(590)

    first, second = run_in_threads(tokens.access_token, other.access_token)

    assert state.oauth.refreshes == 1
    assert first == second == stored(store).access_token
    assert len(token_calls(state)) == 1


def test_two_processes_needing_a_fresh_token_at_once_make_exactly_one_refresh(
    state, store, clock, emulator, tokens
):
    _expire_in_real_time(store, clock)
    command = [sys.executable, str(WORKER), "refresh", store.path, _token_url(emulator)]

    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in "ab"
    ]
    printed = [w.communicate(timeout=30)[0].split()[-1] for w in workers]

    assert [w.returncode for w in workers] == [0, 0]
    assert state.oauth.refreshes == 1
    assert printed[0] == printed[1] == stored(store).access_token


def test_no_token_reaches_a_log_line(tokens, store, clock):
    old = stored(store)
    clock.advance(590)
    store.fail_saves = 1
    with capture_logs() as logs:
        tokens.access_token()

    new = stored(store)
    secrets = {old.access_token, old.refresh_token, new.access_token, new.refresh_token}
    logged = " ".join(str(value) for event in logs for value in event.values())
    assert logs and not any(secret in logged for secret in secrets)


def test_a_failed_first_write_of_a_new_pair_is_retried_before_the_token_is_used(
    tokens, store, clock, state
):
    clock.advance(590)
    store.fail_saves = 1

    token = tokens.access_token()

    assert store.fail_saves == 0
    assert stored(store).access_token == token
    assert state.oauth.refreshes == 1


def test_a_store_that_keeps_failing_stops_the_token_from_being_used(
    tokens, store, clock
):
    clock.advance(590)
    store.fail_saves = 99
    before = stored(store)

    with pytest.raises(RetriableError):
        tokens.access_token()

    assert stored(store) == before


def test_a_process_killed_before_saving_the_new_pair_ends_as_needs_reauthorisation(
    state, store, clock, emulator, tokens, make_tokens
):
    _expire_in_real_time(store, clock)
    command = [sys.executable, str(WORKER), "die-before-save", store.path]
    killed = subprocess.run([*command, _token_url(emulator)], timeout=30, check=False)
    assert killed.returncode == -9
    assert state.oauth.refreshes == 1  # Exact rotated; the new pair is lost

    restarted = make_tokens(now=lambda: datetime.now(UTC))  # as the worker did
    with capture_logs() as logs:
        for _ in range(2):
            with pytest.raises(NeedsReauthorisation, match="dunning auth exact"):
                restarted.access_token()

    assert stored(store).status == NEEDS_REAUTHORISATION
    alerts = [e for e in logs if e["event"] == "exact_reauthorisation_needed"]
    assert len(alerts) == 1


def test_the_emulator_refuses_a_refresh_within_570_seconds_and_keeps_the_old_pair(
    state, emulator
):
    pair = state.grant()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": pair["refresh_token"],
        "client_id": DEFAULT_CLIENT[0],
        "client_secret": DEFAULT_CLIENT[1],
    }

    early = requests.post(_token_url(emulator), data=form, timeout=5)
    state.clock.advance(600)
    later = requests.post(_token_url(emulator), data=form, timeout=5)

    assert early.status_code == 401
    assert later.status_code == 200


def test_a_refresh_refused_as_too_early_keeps_the_stored_pair(
    tokens, store, clock, state
):
    # Our records claim the pair is old; Exact knows it was issued just now.
    now = clock.now()
    before = replace(
        stored(store), obtained_at=now - timedelta(seconds=700), expires_at=now
    )
    store.save_credentials("acme", before.to_dict())

    with pytest.raises(RetriableError):
        tokens.access_token()

    assert stored(store) == before
    clock.advance(600)
    assert tokens.access_token() != before.access_token
    assert state.oauth.refreshes == 1


def test_a_token_rejected_mid_run_is_not_refreshed_before_exact_allows_it(
    tokens, store, clock, state
):
    clock.advance(100)
    token = tokens.access_token()
    tokens.rejected(token)

    with pytest.raises(RetriableError) as refused:
        tokens.access_token()

    assert refused.value.wait_s == pytest.approx(470)
    assert token_calls(state) == []


def test_an_old_refresh_token_marks_the_source_as_needing_reauthorisation(
    tokens, store, clock, state
):
    state.grant()  # a second consent elsewhere ends our token set
    clock.advance(590)

    with pytest.raises(NeedsReauthorisation) as raised:
        tokens.access_token()

    assert stored(store).status == NEEDS_REAUTHORISATION
    assert stored(store).refresh_token not in str(raised.value)


def test_an_expired_refresh_token_needs_reauthorisation(tokens, store, clock):
    clock.advance(31 * 24 * 3600)

    with pytest.raises(NeedsReauthorisation, match="expired"):
        tokens.access_token()


def test_a_week_old_grant_is_refreshed_to_keep_it_alive(tokens, store, clock, state):
    clock.advance(7 * 24 * 3600)
    refreshed = tokens.keep_alive()

    assert refreshed
    assert state.oauth.refreshes == 1
    assert not tokens.keep_alive()


def test_an_authorisation_code_is_exchanged_and_stored(state, store, make_tokens):
    manager = make_tokens("fresh")
    code = state.oauth.authorize(
        DEFAULT_CLIENT[0], "https://example.nl/cb", frozenset(state.divisions)
    )

    manager.exchange_code(code, "https://example.nl/cb")

    assert manager.access_token() == stored(store, "fresh").access_token


def _token_url(emulator) -> str:
    return f"{emulator.base_url}/api/oauth2/token"


def _expire_in_real_time(store, clock) -> None:
    """Workers use the real clock: make the stored pair old by that clock too."""
    clock.advance(700)
    real_now = datetime.now(UTC)
    old = replace(
        stored(store),
        obtained_at=real_now - timedelta(seconds=700),
        expires_at=real_now - timedelta(seconds=100),
    )
    store.save_credentials("acme", old.to_dict())


def test_the_store_lease_keeps_out_another_thread_sharing_the_store(store):
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with store.lease("exact-token:acme", 60, 1):
            held.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(TimeoutError), store.lease("exact-token:acme", 60, 0.2):
            pass
    finally:
        done.set()
        holder.join(5)
