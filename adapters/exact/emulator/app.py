"""The Flask application: Exact Online's URLs, envelopes, limits and faults."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, request

from adapters.exact.emulator import odata
from adapters.exact.emulator.resources import (
    COLLECTIONS,
    POST_FIELDS,
    REQUIRED,
    RESOURCES,
    Resource,
)
from adapters.exact.emulator.state import (
    DEFAULT_CLIENT,
    EXACT_TZ,
    Division,
    EmulatorState,
)

NEED_SELECT = "Please add a $select or a $top=1 statement to the query string."
MANDATORY = (
    "This endpoint has mandatory filtering applied. A GET request for this endpoint"
    " must have a $filter parameter with one of the following fields in the url:"
)
_WORDS = re.compile(r"\b[A-Z][A-Za-z0-9]*\b")
ATTACHMENTS = "documents/DocumentAttachments"
_SINGLE = re.compile(r"^(?P<name>.+?)\((?P<key>[^)]*)\)$")


def create_app(state: EmulatorState) -> Flask:
    """A WSGI app serving ``state``."""
    app = Flask("exact-emulator")

    @app.post("/api/oauth2/token")
    def token() -> Response:
        status, body = state.oauth.token(request.form)
        state.record("POST", request.path, "", status)
        return _json(body, status)

    @app.get("/api/oauth2/auth")
    def authorize() -> Any:
        args = request.args
        divisions = frozenset(state.divisions)
        code = state.oauth.authorize(
            args.get("client_id", ""), args.get("redirect_uri", ""), divisions
        )
        state.record("GET", request.path, "", 302)
        query = urlencode({"code": code, "state": args.get("state", "")})
        return redirect(f"{args.get('redirect_uri')}?{query}")

    @app.get("/api/v1/current/Me")
    def me() -> Response:
        return _api(state, None, lambda grant: _me(state, grant))

    @app.route(
        "/api/v1/<int:division>/<path:resource>",
        methods=["GET", "POST", "PUT", "DELETE"],
    )
    def rest(division: int, resource: str) -> Response:
        return _api(state, division, lambda grant: _rest(state, division, resource))

    return app


def _api(state: EmulatorState, division: int | None, handle: Any) -> Response:
    """The steps every REST call goes through, then recorded."""
    response = _guarded(state, division, handle)
    state.record(
        request.method,
        request.path,
        request.query_string.decode(),
        response.status_code,
    )
    if g.get("answer_late"):
        state.stopping.wait(state.faults.hang_s)  # done, but the answer is lost
    return response


def _guarded(state: EmulatorState, division: int | None, handle: Any) -> Response:
    fault = _fault(state)
    if fault is not None:
        return fault
    auth = request.headers.get("Authorization", "")
    grant = state.oauth.check_bearer(auth.removeprefix("Bearer ").strip())
    if grant is None:
        return _error("Unauthorized", 401)
    if "application/json" not in request.headers.get("Accept", ""):
        return Response("<feed/>", 200, mimetype="application/atom+xml")
    if division is None:
        return handle(grant)
    if division not in grant.divisions or division not in state.divisions:
        return _error("Forbidden - User division is not within division scope", 403)
    allowed, headers = state.take_call(grant.client_id, division)
    if not allowed:
        return _error("Too many requests", 429, headers)
    try:
        response: Response = handle(grant)
    except odata.ODataError as exc:
        response = _error(str(exc), exc.status)
    response.headers.update(headers)
    g.answer_late = _consume(state, "hang_after_next")
    return response


def _fault(state: EmulatorState) -> Response | None:
    faults = state.faults
    if _consume(state, "hang_next"):
        state.stopping.wait(faults.hang_s)
        return _error("Gateway Timeout", 504)
    with state.lock:
        status = faults.status_next.pop(0) if faults.status_next else None
    if status is not None:
        return _error("Too many requests" if status == 429 else "Server error", status)
    if faults.refuse_until is not None and state.now() < faults.refuse_until:
        return _error("Too many requests", 429)
    return None


def _consume(state: EmulatorState, name: str) -> bool:
    with state.lock:
        left = getattr(state.faults, name)
        if left <= 0:
            return False
        setattr(state.faults, name, left - 1)
        return True


def _me(state: EmulatorState, grant: Any) -> Response:
    local = state.local_now()
    offset = state.now().astimezone(EXACT_TZ).utcoffset() or timedelta()
    row = {
        "__metadata": {
            "uri": f"{request.host_url}api/v1/current/Me(guid'{uuid.UUID(int=7)}')",
            "type": "Exact.Web.Api.Models.System.Me",
        },
        "CurrentDivision": state.current_division,
        "AccountingDivision": state.current_division,
        "UserID": str(uuid.UUID(int=7)),
        "UserName": "boekhouder@example.nl",
        "FullName": "Emulated Bookkeeper",
        "Email": "boekhouder@example.nl",
        "LanguageCode": "nl-NL",
        "Legislation": "1",
        "ServerTime": local.isoformat(timespec="seconds"),
        "ServerUtcOffset": int(offset.total_seconds()),
    }
    return _json({"d": {"results": [row]}})


def _rest(state: EmulatorState, code: int, path: str) -> Response:
    division = state.divisions[code]
    if path == "system/Divisions":
        return _divisions(state, code)
    single = _SINGLE.match(path)
    name = single.group("name") if single else path
    resource = RESOURCES.get(name)
    if resource is None:
        return _error("Not found", 404)
    if request.method in ("PUT", "DELETE"):
        return _error("Method not allowed", 405)
    if request.method == "POST":
        if not resource.postable or single:
            return _error("Method not allowed", 405)
        return _post(state, division, name)
    base = f"{request.host_url}api/v1/{code}/{name}"
    if single:
        return _single(state, division, resource, single.group("key"), base)
    return _list(state, division, resource, base)


def _list(
    state: EmulatorState, division: Division, resource: Resource, base: str
) -> Response:
    args = dict(request.args)
    select = _select(args.get("$select"), resource, args.get("$top"))
    with state.lock:
        rows = resource.rows(division)
    rows = _filtered(rows, resource, args.get("$filter"))
    rows.sort(key=lambda r: r[resource.key])
    if "$skiptoken" in args:
        after = odata.parse_literal(args["$skiptoken"])
        rows = [r for r in rows if r[resource.key] > after]
    top = int(args["$top"]) if "$top" in args else None
    size = min(resource.page_size, top) if top is not None else resource.page_size
    page = rows[:size]
    if not page:
        return _json({"d": []})  # Exact sends empty lists as a bare array
    body: dict[str, Any] = {
        "results": [_shape(r, resource, base, select) for r in page]
    }
    left = None if top is None else top - len(page)
    if len(rows) > len(page) and (left is None or left > 0):
        body["__next"] = odata.next_link(base, args, page[-1][resource.key], left)
    return _json({"d": body})


def _select(text: str | None, resource: Resource, top: str | None) -> list[str] | None:
    if not text:
        if resource.select_required or (resource.select_or_top and top != "1"):
            raise odata.ODataError(NEED_SELECT)
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def _filtered(rows: list[dict[str, Any]], resource: Resource, text: str | None) -> list:
    if not text:
        if resource.mandatory:
            raise odata.ODataError(MANDATORY + resource.mandatory + ".")
        return rows
    fields = set(resource.filters or ())
    for row in rows[:1] or [{}]:
        fields.update(row)
    if not rows:
        fields.update(_WORDS.findall(text))  # nothing to check field names against
    predicate, used = odata.compile_filter(text, fields)
    if resource.filters is not None and not used <= set(resource.filters):
        raise odata.ODataError(
            "This $filter parameter is not supported for this resource"
        )
    if resource.mandatory and not used & set(resource.mandatory.split(",")):
        raise odata.ODataError(MANDATORY + resource.mandatory + ".")
    return [row for row in rows if predicate(row)]


def _shape(
    row: dict[str, Any], resource: Resource, base: str, select: list[str] | None
) -> dict[str, Any]:
    names = select if select is not None else [k for k in row if not k.startswith("_")]
    unknown = [n for n in names if n not in row]
    if unknown:
        raise odata.ODataError(f"Property '{unknown[0]}' does not exist.")
    key = row[resource.key] if resource.key != "Timestamp" else row.get("ID")
    shaped: dict[str, Any] = {
        "__metadata": {
            "uri": f"{base}({odata.literal_for(key)})",
            "type": resource.type_name,
        }
    }
    shaped.update((name, odata.to_json(row[name])) for name in names)
    return shaped


def _single(
    state: EmulatorState, division: Division, resource: Resource, key: str, base: str
) -> Response:
    wanted = odata.parse_literal(key)
    select = _select(request.args.get("$select"), resource, "1")
    with state.lock:
        rows = [r for r in resource.rows(division) if r[resource.key] == wanted]
    if not rows:
        return _error("Not found", 404)
    return _json({"d": _shape(rows[0], resource, base, select)})


def _post(state: EmulatorState, division: Division, name: str) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error("Error processing request stream.", 400)
    unknown = sorted(set(body) - set(POST_FIELDS[name]))
    if unknown:
        return _error(f"Property '{unknown[0]}' is not valid for this entity.", 400)
    missing = [field for field in REQUIRED[name] if not body.get(field)]
    if missing:
        return _error(f"Mandatory: {missing[0]}", 400)

    if name == ATTACHMENTS:
        row = _attachment(division, body)
    else:
        row = _entity(state, division, name, body)
    with state.lock:
        getattr(division, COLLECTIONS[name])[row["ID"]] = row

    base = f"{request.host_url}api/v1/{division.code}/{name}"
    return _json({"d": _shape(row, RESOURCES[name], base, None)}, 201)


def _entity(
    state: EmulatorState, division: Division, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A note, task or document with the fields the server fills in."""
    row = {k: _from_iso(v) for k, v in body.items()}
    row.update(
        ID=str(uuid.uuid4()),
        Division=division.code,
        Created=state.local_now(),
        Creator=str(uuid.UUID(int=7)),
        HID=state.next_hid(),
    )
    if name != "documents/Documents":
        row.setdefault("Status", 20)
    return state.stamp(row)


def _attachment(division: Division, body: dict[str, Any]) -> dict[str, Any]:
    """A file on an existing document; like Exact, the answer omits the file."""
    document = str(body["Document"]).lower()
    if document not in division.documents:
        raise odata.ODataError("Document does not exist.")
    try:
        content = base64.b64decode(body["Attachment"], validate=True)
    except (TypeError, ValueError) as exc:
        raise odata.ODataError("Attachment is not valid base64.") from exc
    attachment_id = str(uuid.uuid4())
    url = f"{request.host_url}docs/SysAttachment.aspx?ID={attachment_id}"
    return {
        "ID": attachment_id,
        "Attachment": None,
        "FileName": body["FileName"],
        "FileSize": len(content),
        "Url": f"{url}&_Division_={division.code}",
        "Document": document,
        "_content": content,
    }


def _from_iso(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d(T[\d:.]+)?Z?", value):
        return datetime.fromisoformat(value.removesuffix("Z"))
    return value


def _divisions(state: EmulatorState, code: int) -> Response:
    base = f"{request.host_url}api/v1/{code}/system/Divisions"
    rows = [
        {
            "__metadata": {"uri": f"{base}({d.code})", "type": "Exact.Web.Api.Models"},
            "Code": d.code,
            "Description": d.description,
            "Currency": d.currency,
            "Country": "NL ",
            "BlockingStatus": 0,
            "Current": d.code == state.current_division,
            "DivisionMoveDate": None,
        }
        for d in state.divisions.values()
    ]
    return _json({"d": {"results": rows}})


def _json(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def _error(
    message: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    body = {"error": {"code": "", "message": {"lang": "", "value": message}}}
    return _json(body, status, headers)


__all__ = ["DEFAULT_CLIENT", "create_app"]
