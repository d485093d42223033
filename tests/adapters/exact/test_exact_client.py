"""The HTTP client against the emulator, and its edge cases with ``responses``."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import responses

from adapters.exact.client import ExactClient, OutcomeUnknown, base_url_for
from adapters.exact.odata import parse_date, parse_local, unwrap
from connector.errors import BudgetExhausted, FatalSourceError, RetriableError

DIVISION = 1234567
OPEN_ITEMS = "read/financial/ReceivablesList"
SELECT = ["HID", "Amount", "CurrencyCode", "DueDate"]


class StaticTokens:
    """A token source for the ``responses`` tests."""

    def __init__(self) -> None:
        self.rejections = 0

    def access_token(self) -> str:
        return f"secret-token-{self.rejections}"

    def rejected(self, token: str) -> None:
        self.rejections += 1


def open_count(state, division=DIVISION) -> int:
    terms = state.divisions[division].terms.values()
    return sum(1 for t in terms if t["LineType"] == 20 and not t["IsFullyPaid"])


def test_every_request_carries_the_configured_division_and_a_select(client, state):
    list(client.rows(OPEN_ITEMS, SELECT))

    request = state.requests[-1]
    assert request.path == f"/api/v1/{DIVISION}/{OPEN_ITEMS}"
    assert "%24select=HID%2CAmount" in request.query


def test_amounts_arrive_as_decimals(client):
    row = next(client.rows(OPEN_ITEMS, SELECT))

    assert isinstance(row["Amount"], Decimal | int)


def test_pages_are_followed_through_next_until_every_row_has_arrived(make_world):
    world = make_world(receivables=130, seed=3)
    state, client = world.state, _client_for(world)

    pages = list(client.pages(OPEN_ITEMS, SELECT))

    hids = [row["HID"] for page in pages for row in page]
    assert len(pages) > 1
    assert len(hids) == len(set(hids)) == open_count(state)


def test_a_headerless_429_and_90_s_of_refusals_are_waited_out_without_losing_a_page(
    make_world, clock
):
    world = make_world(receivables=130, seed=3)
    state, client = world.state, _client_for(world)
    pages = client.pages(OPEN_ITEMS, SELECT)
    rows = list(next(pages))
    started = clock.now()
    state.faults.refuse_until = started + timedelta(seconds=90)

    for page in pages:
        rows.extend(page)

    assert clock.now() - started >= timedelta(seconds=90)
    assert sum(1 for r in state.requests if r.status == 429) >= 5
    assert len({row["HID"] for row in rows}) == open_count(state)


def test_a_14_minute_sync_outlives_its_access_token_with_one_refresh(make_world, clock):
    world = make_world(receivables=900, seed=4)
    state, client = world.state, _client_for(world)
    rows = []

    for page in client.pages(OPEN_ITEMS, SELECT):
        rows.extend(page)
        clock.advance(70)  # a slow consumer: the sync takes 14 minutes

    assert clock.now() - state.requests[0].at >= timedelta(minutes=14)
    assert state.oauth.refreshes == 1
    assert len(rows) == open_count(state)
    assert all(r.status == 200 for r in state.requests)


def test_the_minutely_budget_is_respected_before_exact_refuses(client, state, clock):
    state.limits.minutely = 5
    started = clock.now()

    for _ in range(12):
        list(client.rows(OPEN_ITEMS, SELECT, top=1))

    assert all(r.status == 200 for r in state.requests)
    assert clock.now() - started >= timedelta(minutes=2)


def test_a_spent_daily_budget_stops_the_client_without_asking_exact(client, state):
    state.limits.daily = 3
    for _ in range(3):
        list(client.rows(OPEN_ITEMS, SELECT, top=1))

    with pytest.raises(BudgetExhausted) as spent:
        list(client.rows(OPEN_ITEMS, SELECT, top=1))

    assert len(state.requests) == 3
    assert spent.value.wait_s is not None and spent.value.wait_s > 0


def test_a_server_error_is_retried(client, state):
    state.faults.status_next = [503, 500]

    rows = list(client.rows(OPEN_ITEMS, SELECT))

    assert [r.status for r in state.requests] == [503, 500, 200]
    assert rows


def test_a_hanging_server_is_cut_off_by_the_timeout_and_the_next_call_succeeds(
    emulator, state, tokens, clock
):
    state.faults.hang_next, state.faults.hang_s = 1, 10
    client = ExactClient(
        emulator.base_url, DIVISION, tokens, timeout=(1, 0.3), max_attempts=1
    )
    started = time.monotonic()

    with pytest.raises(RetriableError, match="ReadTimeout"):
        list(client.rows(OPEN_ITEMS, SELECT))
    assert time.monotonic() - started < 3

    assert list(client.rows(OPEN_ITEMS, SELECT))


def test_a_post_whose_answer_is_lost_is_reported_as_outcome_unknown(
    emulator, state, tokens
):
    state.faults.hang_after_next, state.faults.hang_s = 1, 10
    client = ExactClient(emulator.base_url, DIVISION, tokens, timeout=(1, 0.3))
    account = next(iter(state.divisions[DIVISION].accounts))

    with pytest.raises(OutcomeUnknown):
        client.post(
            "activities/CommunicationNotes", {"Account": account, "Subject": "x"}
        )

    assert len(state.divisions[DIVISION].notes) == 1  # it did happen
    assert len(state.requests) == 1  # and it was not sent twice


def test_a_401_mid_run_refreshes_once_and_retries(client, state, clock, store):
    clock.advance(601)  # Exact ended the token; our record still trusts it
    data = store.load_credentials("acme")
    data["expires_at"] = (clock.now() + timedelta(minutes=5)).isoformat()
    store.save_credentials("acme", data)

    assert list(client.rows(OPEN_ITEMS, SELECT))
    assert [r.status for r in state.requests if "/api/v1/" in r.path] == [401, 200]
    assert state.oauth.refreshes == 1


def test_a_division_outside_the_grant_is_a_fatal_error(world, tokens):
    client = world.client(tokens, division=world.other_division)

    with pytest.raises(FatalSourceError, match="not within division scope"):
        list(client.rows(OPEN_ITEMS, SELECT))


@responses.activate
def test_a_daily_429_raises_budget_exhausted():
    url = f"https://start.exactonline.nl/api/v1/{DIVISION}/{OPEN_ITEMS}"
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0"}
    responses.get(url, status=429, headers=headers)
    client = ExactClient(base_url_for("nl"), DIVISION, StaticTokens())

    with pytest.raises(BudgetExhausted):
        list(client.rows(OPEN_ITEMS, SELECT))
    assert len(responses.calls) == 1


@responses.activate
def test_a_minutely_429_waits_for_the_reset_it_names():
    url = f"https://start.exactonline.be/api/v1/{DIVISION}/{OPEN_ITEMS}"
    reset = str(int((time.time() + 20) * 1000))
    responses.get(url, status=429, headers={"x-ratelimit-minutely-reset": reset})
    responses.get(url, json={"d": []})
    waits: list[float] = []
    client = ExactClient(
        base_url_for("be"), DIVISION, StaticTokens(), sleep=waits.append
    )

    assert list(client.rows(OPEN_ITEMS, SELECT)) == []
    assert 19 < waits[0] < 22


@responses.activate
def test_headerless_429s_back_off_with_growing_capped_waits():
    url = f"https://start.exactonline.nl/api/v1/{DIVISION}/{OPEN_ITEMS}"
    for _ in range(9):
        responses.get(url, status=429)
    responses.get(url, json={"d": {"results": [{"HID": 1}]}})
    waits: list[float] = []
    client = ExactClient(
        base_url_for("nl"), DIVISION, StaticTokens(), sleep=waits.append
    )

    assert list(client.rows(OPEN_ITEMS, SELECT)) == [{"HID": 1}]
    assert waits == sorted(waits)
    assert max(waits) == 60


@responses.activate
def test_a_second_401_is_fatal_and_names_no_token():
    url = f"https://start.exactonline.nl/api/v1/{DIVISION}/{OPEN_ITEMS}"
    responses.get(url, status=401, json=_envelope("Unauthorized"))
    tokens = StaticTokens()
    client = ExactClient(base_url_for("nl"), DIVISION, tokens)

    with pytest.raises(FatalSourceError) as refused:
        list(client.rows(OPEN_ITEMS, SELECT))

    assert tokens.rejections == 1
    assert "secret-token" not in str(refused.value)


@responses.activate
def test_an_error_envelope_becomes_a_fatal_error_with_exacts_message():
    url = f"https://start.exactonline.nl/api/v1/{DIVISION}/crm/Accounts"
    responses.get(url, status=403, json=_envelope("Forbidden"), headers={"Reason": "X"})
    client = ExactClient(base_url_for("nl"), DIVISION, StaticTokens())

    with pytest.raises(FatalSourceError, match=r"HTTP 403 Forbidden \(X\)"):
        list(client.rows("crm/Accounts", ["ID"]))


@responses.activate
def test_a_next_link_to_another_host_is_refused():
    url = f"https://start.exactonline.nl/api/v1/{DIVISION}/{OPEN_ITEMS}"
    body = {"d": {"results": [{"HID": 1}], "__next": "https://evil.example/x"}}
    responses.get(url, json=body)
    client = ExactClient(base_url_for("nl"), DIVISION, StaticTokens())

    with pytest.raises(FatalSourceError, match="next link"):
        list(client.rows(OPEN_ITEMS, SELECT))


def test_the_three_shapes_of_d_all_unwrap():
    assert unwrap({"d": []}) == ([], None)
    assert unwrap({"d": {"results": [{"a": 1}], "__next": "n"}}) == ([{"a": 1}], "n")
    assert unwrap({"d": {"a": 1}}) == ([{"a": 1}], None)


def test_odata_dates_are_calendar_dates_in_utc_whatever_the_machine_timezone(
    monkeypatch,
):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        assert parse_date("/Date(1351209600000)/") == date(2012, 10, 26)
        assert parse_local("/Date(1782404200637)/").hour == 16
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert os.environ.get("TZ") is None


def test_every_country_has_its_own_host():
    assert base_url_for("co.uk") == "https://start.exactonline.co.uk"
    with pytest.raises(ValueError):
        base_url_for("us-east")


def _client_for(world) -> ExactClient:
    world.seed_tokens()
    return world.client(world.token_manager())


def _envelope(message: str) -> dict:
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}
