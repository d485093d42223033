"""The emulator and the resources layer over real HTTP."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import requests

from adapters.moneybird.client import MoneybirdClient, SlidingWindowLimiter
from adapters.moneybird.emulator import (
    OPEN_STATES,
    generate_administration,
    serve_emulator,
)
from adapters.moneybird.resources import SalesInvoices


def auth(emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emulator.token}"}


def test_the_generated_books_look_like_a_dutch_administration(admin):
    invoices = list(admin.invoices.values())
    states = Counter(i["state"] for i in invoices)
    contacts = list(admin.contacts.values())

    assert sum(states[s] for s in OPEN_STATES) == 130
    assert {"paid", "draft", *OPEN_STATES} <= set(states)
    assert any(i["payments"] and i["state"] in OPEN_STATES for i in invoices)
    assert any(i["total_price_incl_tax"].startswith("-") for i in invoices)
    assert any("," in c["send_invoices_to_email"] for c in contacts)
    assert any(c["send_invoices_to_email"] != c["email"] for c in contacts)
    assert {bool(c["company_name"]) for c in contacts} == {True, False}
    assert (
        generate_administration(260, seed=1, today=admin.today).invoices.keys()
        == admin.invoices.keys()
    )


def test_a_list_is_read_over_two_pages_following_the_link_header(emulator, make_client):
    resource = SalesInvoices(make_client())
    expected = sorted(i["id"] for i in emulator.admin.open_invoices())

    listed = list(
        resource.list(states=OPEN_STATES, period="202501..202612", per_page=100)
    )

    assert sorted(i["id"] for i in listed) == expected
    pages = emulator.control.requests_to("GET", "/sales_invoices")
    assert [r.query.get("page") for r in pages] == ["1", "2"]


def test_the_list_filters_by_contact(emulator, make_client):
    contact_id = emulator.admin.open_invoices()[0]["contact_id"]

    listed = list(
        SalesInvoices(make_client()).list(
            contact_id=contact_id, period="202501..202612"
        )
    )

    assert listed and {i["contact_id"] for i in listed} == {contact_id}


def test_per_page_above_100_is_refused_as_moneybird_does(emulator):
    url = f"{emulator.base_url}/{emulator.admin.id}/sales_invoices.json"

    answer = requests.get(url, params={"per_page": 101}, headers=auth(emulator))

    assert answer.status_code == 400
    assert answer.json() == {"error": "per_page does not have a valid value"}


def test_a_payment_recomputes_the_totals_and_marks_the_invoice_paid(emulator):
    invoice = next(i for i in emulator.admin.open_invoices() if not i["payments"])
    base = f"{emulator.base_url}/{emulator.admin.id}/sales_invoices"
    url = f"{base}/{invoice['id']}/payments.json"
    body = {"payment": {"payment_date": "2026-03-02", "price": invoice["total_unpaid"]}}
    version = invoice["version"]

    answer = requests.post(url, json=body, headers=auth(emulator))

    assert answer.status_code == 201
    fresh = emulator.admin.invoices[invoice["id"]]
    assert (fresh["state"], fresh["total_unpaid"], fresh["paid_at"]) == (
        "paid",
        "0.0",
        "2026-03-02",
    )
    assert Decimal(fresh["total_paid"]) == Decimal(invoice["total_price_incl_tax"])
    assert fresh["version"] > version


def test_the_151st_request_in_five_minutes_gets_429_until_the_window_moves(
    admin, fake_clock
):
    clock = fake_clock
    running = serve_emulator(admin, clock=clock)
    url = f"{running.base_url}/administrations.json"
    try:
        for _ in range(150):
            assert requests.get(url, headers=auth(running)).status_code == 200
        refused = requests.get(url, headers=auth(running))
        clock.sleep(300)
        allowed = requests.get(url, headers=auth(running))
    finally:
        running.stop()

    assert refused.status_code == 429 and refused.json() == "Retry later"
    assert refused.headers["RateLimit-Limit"] == "150"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) == int(clock() - 300) + 301
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
    assert allowed.status_code == 200


def test_the_client_limiter_keeps_below_the_server_limit(admin, fake_clock):
    clock = fake_clock
    running = serve_emulator(admin, clock=clock)

    client = MoneybirdClient(
        lambda: running.token,
        admin.id,
        base_url=running.base_url,
        limiter=SlidingWindowLimiter(clock=clock, sleep=clock.sleep),
        sleep=clock.sleep,
    )
    try:
        for _ in range(160):
            client.get("administrations", scoped=False)
    finally:
        running.stop()

    assert all(r.status == 200 for r in running.control.requests)
    assert clock.slept  # it waited instead of being refused


def test_a_wrong_token_gets_401(emulator):
    url = f"{emulator.base_url}/administrations"

    answer = requests.get(url, headers={"Authorization": "Bearer nope"})

    assert answer.status_code == 401 and "error" in answer.json()


def test_notes_show_in_the_invoice_and_can_be_deleted(emulator):
    invoice_id = emulator.admin.open_invoices()[0]["id"]
    base = f"{emulator.base_url}/{emulator.admin.id}/sales_invoices/{invoice_id}"

    note = requests.post(
        f"{base}/notes.json", json={"note": {"note": "Gebeld"}}, headers=auth(emulator)
    ).json()
    shown = requests.get(f"{base}.json", headers=auth(emulator)).json()["notes"]
    deleted = requests.delete(f"{base}/notes/{note['id']}.json", headers=auth(emulator))

    assert [n["note"] for n in shown] == ["Gebeld"]
    assert (
        deleted.status_code == 204
        and emulator.admin.invoices[invoice_id]["notes"] == []
    )


def test_an_empty_note_is_refused_with_the_validation_shape(emulator):
    invoice_id = emulator.admin.open_invoices()[0]["id"]
    url = f"{emulator.base_url}/{emulator.admin.id}/sales_invoices/{invoice_id}/notes"

    answer = requests.post(url, json={"note": {"note": ""}}, headers=auth(emulator))

    assert answer.status_code == 422
    assert answer.json()["error"] == {"note": ["can't be blank"]}


def test_truncated_responses_are_cut_short(emulator):
    emulator.control.truncate(1)
    url = f"{emulator.base_url}/administrations.json"

    body = requests.get(url, headers=auth(emulator)).text

    assert body.startswith("[") and not body.endswith("]")


def token_form(**fields: str) -> dict[str, str]:
    return {"client_id": "app", "client_secret": "secret", **fields}


def test_the_token_endpoint_trades_a_code_once_and_rotates_refresh_tokens(emulator):
    emulator.control.oauth.register("app", "secret")
    code = emulator.control.oauth.issue_code("app", "http://x/cb")
    url = emulator.base_url.replace("/api/v2", "/oauth/token")

    first = requests.post(
        url,
        data=token_form(
            grant_type="authorization_code", code=code, redirect_uri="http://x/cb"
        ),
        timeout=5,
    )
    again = requests.post(
        url,
        data=token_form(
            grant_type="authorization_code", code=code, redirect_uri="http://x/cb"
        ),
        timeout=5,
    )
    refresh = first.json()["refresh_token"]
    renewed = requests.post(
        url,
        data=token_form(grant_type="refresh_token", refresh_token=refresh),
        timeout=5,
    )
    reused = requests.post(
        url,
        data=token_form(grant_type="refresh_token", refresh_token=refresh),
        timeout=5,
    )

    assert first.status_code == 200
    assert set(first.json()) == {
        "access_token", "token_type", "refresh_token", "scope", "created_at",
        "expires_in",
    }  # fmt: skip
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert renewed.status_code == 200
    assert renewed.json()["access_token"] != first.json()["access_token"]
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")


def test_the_token_endpoint_refuses_a_wrong_secret_and_unknown_grants(emulator):
    emulator.control.oauth.register("app", "secret")
    url = emulator.base_url.replace("/api/v2", "/oauth/token")

    wrong = requests.post(
        url,
        data={**token_form(grant_type="password"), "client_secret": "no"},
        timeout=5,
    )
    unknown = requests.post(url, data=token_form(grant_type="password"), timeout=5)

    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert (unknown.status_code, unknown.json()["error"]) == (
        400,
        "unsupported_grant_type",
    )


def test_an_issued_access_token_is_accepted_until_it_expires(emulator):
    oauth = emulator.control.oauth
    oauth.register("app", "secret")
    code = oauth.issue_code("app", "http://x/cb")
    status, body = oauth.token(
        token_form(
            grant_type="authorization_code", code=code, redirect_uri="http://x/cb"
        ),
        emulator.admin.clock(),
    )
    url = f"{emulator.base_url}/administrations.json"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}

    accepted = requests.get(url, headers=bearer, timeout=5)
    oauth.expire_access_tokens()
    expired = requests.get(url, headers=bearer, timeout=5)

    assert (status, accepted.status_code, expired.status_code) == (200, 200, 401)
    assert emulator.control.requests[0].credential == "oauth#1"
