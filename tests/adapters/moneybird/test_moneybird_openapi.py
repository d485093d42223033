"""What the adapter sends and the emulator answers, checked against Moneybird's
own OpenAPI document, for every route the adapter uses."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from adapters.base import Note, Task
from tests.reference import reference_dir

SPEC = reference_dir() / "moneybird" / "openapi.yml"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason="openapi.yml not present")


def _plain_parameters(spec: dict) -> dict:
    """Make the document digestible for openapi-core, without loosening a schema.

    Parameters typed as a 3.1 type list (``[integer, string]``) cannot be
    deserialised by it; on the wire they are strings, so check them as such.
    """

    def simplify(parameters: list) -> None:
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if (
                "$ref" in schema
                or "allOf" in schema
                or isinstance(schema.get("type"), list)
            ):
                parameter["schema"] = {"type": "string"}

    simplify(list(spec["components"]["parameters"].values()))
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                simplify(operation.get("parameters", []))
                json_bodies(operation.get("requestBody", {}))
    return spec


def json_bodies(body: dict) -> None:
    """Bodies are declared as ``application/*``, which openapi-core does not
    decode; the adapter sends JSON, so check them as ``application/json``."""
    content = body.get("content", {})
    if "application/*" in content:
        content["application/json"] = content.pop("application/*")


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    from openapi_core import Config

    spec = yaml.load(
        SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    # The document fails strict spec validation (``default: default`` on a bool);
    # the schemas themselves are what we check against.
    return OpenAPI.from_dict(
        _plain_parameters(spec), config=Config(spec_validator_cls=None)
    )


def capture(client) -> list:
    exchanges = []
    client.session.hooks["response"].append(lambda r, *a, **k: exchanges.append(r))
    return exchanges


def as_mocks(response, base_url: str) -> tuple[MockRequest, MockResponse]:
    sent = response.request
    url = urlsplit(sent.url)
    path = "/api/v2" + url.path[len(urlsplit(base_url).path) :]
    body = sent.body.decode() if isinstance(sent.body, bytes) else sent.body
    request = MockRequest(
        "https://moneybird.com",
        sent.method.lower(),
        path,
        args=dict(parse_qsl(url.query)),
        data=body or None,
        headers={"Authorization": sent.headers["Authorization"]},
        content_type="application/json" if body else None,
    )
    reply = MockResponse(
        response.content,
        status_code=response.status_code,
        content_type=response.headers.get("Content-Type", "").split(";")[0],
        headers={
            k: v for k, v in response.headers.items() if k.lower() != "content-type"
        },
    )
    return request, reply


def test_every_route_the_adapter_uses_matches_the_spec(emulator, make_adapter, openapi):
    adapter = make_adapter(take_over_reminders=True, task_assignee="474244295440729940")
    client = adapter.client
    exchanges = capture(client)
    open_ids = sorted(i["id"] for i in emulator.admin.open_invoices())
    invoice_id, contact_id = (
        open_ids[0],
        emulator.admin.open_invoices()[0]["contact_id"],
    )

    changes = adapter.pull_changes(None, {})
    adapter.confirm_invoices(open_ids[:3])
    adapter.write_note(Note("k1", contact_id, (invoice_id,), "Herinnering"))
    adapter.create_task(Task("k2", contact_id, (invoice_id,), "Bellen"))
    adapter.write_note(Note("k3", contact_id, (), "Regeling"))
    adapter.resume_invoice(invoice_id)
    adapter.download_pdf(invoice_id)
    client.get("administrations", scoped=False)
    client.get(f"sales_invoices/{invoice_id}")
    client.get(f"contacts/{contact_id}")
    adapter.contacts.fetch([contact_id])
    list(adapter.invoices.list(states=("late",), period="202501..202612"))
    client.post(
        f"sales_invoices/{invoice_id}/payments",
        {"payment": {"payment_date": "2026-03-02", "price": "10,95"}},
    )
    note_id = emulator.admin.invoices[invoice_id]["notes"][0]["id"]
    client.delete(f"sales_invoices/{invoice_id}/notes/{note_id}")

    assert changes.invoices
    routes = set()
    for response in exchanges:
        request, reply = as_mocks(response, emulator.base_url)
        openapi.validate_request(request)
        openapi.validate_response(request, reply)
        routes.add((request.method, request.path))
    assert len(routes) >= 14


def test_a_record_with_an_extra_field_fails_the_check(emulator, openapi):
    record = emulator.admin.invoice(emulator.admin.open_invoices()[0]["id"])
    record["surprise"] = True
    request = MockRequest(
        "https://moneybird.com", "get", f"/api/v2/1/sales_invoices/{record['id']}.json"
    )
    reply = MockResponse(json.dumps(record).encode(), content_type="application/json")

    with pytest.raises(Exception, match="surprise"):
        openapi.validate_response(request, reply)
