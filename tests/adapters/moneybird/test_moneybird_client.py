"""The client's edge cases, against canned responses."""

from __future__ import annotations

import email.utils

import pytest
import requests
import responses

from adapters.moneybird.client import (
    MoneybirdClient,
    RecordNotFound,
    SlidingWindowLimiter,
    parse_wait,
)
from connector.errors import FatalSourceError, RetriableError

BASE = "https://moneybird.test/api/v2"
URL = f"{BASE}/123/sales_invoices/synchronization.json"
NOW = 1_800_000_000.0
SECRET = "s3cr3t-personal-token"


@pytest.fixture
def slept():
    return []


@pytest.fixture
def client(slept):
    return MoneybirdClient(
        lambda: SECRET, "123", base_url=BASE, sleep=slept.append, wall_clock=lambda: NOW
    )


def rate_limited(**headers: str) -> dict:
    return {"status": 429, "json": "Retry later", "headers": headers}


@responses.activate
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (str(int(NOW) + 12), 12.0),
        (email.utils.formatdate(NOW + 20, usegmt=True), 20.0),
    ],
    ids=["seconds", "epoch", "http-date"],
)
def test_a_429_waits_as_long_as_retry_after_says(client, slept, value, expected):
    responses.get(URL, **rate_limited(**{"Retry-After": value}))
    responses.get(URL, json=[])

    assert client.get("sales_invoices/synchronization") == []
    assert slept == [pytest.approx(expected, abs=1)]


@responses.activate
def test_ratelimit_reset_is_used_without_retry_after(client, slept):
    responses.get(URL, **rate_limited(**{"RateLimit-Reset": str(int(NOW) + 30)}))
    responses.get(URL, json=[])

    client.get("sales_invoices/synchronization")

    assert slept == [30.0]


@responses.activate
def test_a_long_server_wait_is_capped(client, slept):
    responses.get(URL, **rate_limited(**{"Retry-After": "3600"}))
    responses.get(URL, json=[])

    client.get("sales_invoices/synchronization")

    assert slept == [client.max_wait_s]


@responses.activate
def test_an_html_429_body_is_retried_with_backoff(client, slept):
    responses.get(URL, status=429, body="<html><h1>Too Many Requests</h1></html>")
    responses.get(URL, json=[{"id": "1", "version": 2}])

    assert client.get("sales_invoices/synchronization") == [{"id": "1", "version": 2}]
    assert len(slept) == 1 and 0 < slept[0] <= 0.5


@responses.activate
def test_retries_end_with_a_retriable_error(client, slept):
    responses.get(URL, status=503, body="<html>down</html>")

    with pytest.raises(RetriableError, match="503"):
        client.get("sales_invoices/synchronization")
    assert len(responses.calls) == client.max_attempts
    assert slept == sorted(slept)


@responses.activate
def test_a_422_is_fatal_with_the_reason_and_not_retried(client):
    url = f"{BASE}/123/sales_invoices/9/notes.json"
    body = {
        "error": {"note": ["can't be blank"]},
        "details": {"note": [{"error": "blank"}]},
    }
    responses.post(url, status=422, json=body)

    with pytest.raises(FatalSourceError, match="can't be blank"):
        client.post("sales_invoices/9/notes", {"note": {"note": ""}})
    assert len(responses.calls) == 1


@responses.activate
def test_a_404_is_record_not_found(client):
    url = f"{BASE}/123/sales_invoices/9.json"
    responses.get(
        url,
        status=404,
        json={"error": "record not found", "symbolic": {"id": "not_found"}},
    )

    with pytest.raises(RecordNotFound, match="record not found"):
        client.get("sales_invoices/9")


@responses.activate
@pytest.mark.parametrize("status", [400, 402, 403])
def test_other_client_errors_are_fatal(client, status):
    responses.get(URL, status=status, json={"error": "nope", "symbolic": {"x": "y"}})

    with pytest.raises(FatalSourceError):
        client.get("sales_invoices/synchronization")
    assert len(responses.calls) == 1


@responses.activate
def test_a_post_is_not_retried_after_a_server_error(client):
    url = f"{BASE}/123/sales_invoices/9/notes.json"
    responses.post(url, status=500, body="oops")

    with pytest.raises(RetriableError):
        client.post("sales_invoices/9/notes", {"note": {"note": "x"}})
    assert len(responses.calls) == 1


@responses.activate
def test_a_post_is_retried_after_a_429(client, slept):
    url = f"{BASE}/123/sales_invoices/9/notes.json"
    responses.post(url, **rate_limited(**{"Retry-After": "2"}))
    responses.post(url, status=201, json={"id": "5"})

    assert client.post("sales_invoices/9/notes", {"note": {"note": "x"}}) == {"id": "5"}
    assert slept == [2.0]


@responses.activate
def test_a_timeout_on_a_get_is_retried(client, slept):
    responses.get(URL, body=requests.ReadTimeout("slow"))
    responses.get(URL, json=[])

    assert client.get("sales_invoices/synchronization") == []
    assert len(slept) == 1


@responses.activate
def test_truncated_json_is_retriable(client):
    responses.get(URL, body='[{"id": "1", "vers', content_type="application/json")

    with pytest.raises(RetriableError, match="unreadable JSON"):
        client.get("sales_invoices/synchronization")


@responses.activate
def test_a_401_names_the_problem_but_never_the_token(client):
    responses.get(URL, status=401, json={"error": "No access to [:sales_invoices]"})

    with pytest.raises(FatalSourceError) as caught:
        client.get("sales_invoices/synchronization")

    assert "No access to [:sales_invoices]" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {SECRET}"


@responses.activate
def test_a_401_refreshes_the_token_once_then_retries():
    tokens = iter(["old", "new"])
    current = {"token": next(tokens)}
    client = MoneybirdClient(
        lambda: current["token"],
        "123",
        base_url=BASE,
        refresh_token=lambda: current.update(token=next(tokens)) or current["token"],
    )
    responses.get(URL, status=401, json={"error": "expired"})
    responses.get(URL, json=[])

    assert client.get("sales_invoices/synchronization") == []
    assert responses.calls[1].request.headers["Authorization"] == "Bearer new"


@responses.activate
def test_every_request_has_a_connect_and_read_timeout(client):
    seen = []
    responses.add_callback(responses.GET, URL, callback=lambda req: (200, {}, "[]"))
    original = client.session.request

    def spy(*args, **kwargs):
        seen.append(kwargs["timeout"])
        return original(*args, **kwargs)

    client.session.request = spy  # type: ignore[method-assign]
    client.get("sales_invoices/synchronization")

    assert seen == [(5.0, 30.0)]


def test_the_limiter_keeps_to_150_in_any_five_minutes(fake_clock):
    limiter = SlidingWindowLimiter(150, 300, clock=fake_clock, sleep=fake_clock.sleep)
    start = fake_clock()

    for _ in range(150):
        assert limiter.acquire() == 0
    waited = limiter.acquire()

    assert waited == 300 and fake_clock() - start == 300


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("soon", None), ("0", 0.0), ("-5", 0.0)],
)
def test_unreadable_waits_are_ignored(value, expected):
    assert parse_wait(value, NOW) == expected
