"""The emulator's HTTP surface: the Moneybird routes the connector uses.

Every route accepts the optional ``.json`` suffix. Requests pass, in order: the
request log, switched-on faults, the rate limiter, bearer-token auth, the route.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, g, request

from adapters.moneybird.emulator.control import Control, RecordedRequest
from adapters.moneybird.emulator.data import OPEN_STATES, Administration, parse_money
from adapters.moneybird.emulator.oauth import valid_scope

PREFIX = "/api/v2"
STATES = ("draft", "scheduled", *OPEN_STATES, "paid", "uncollectible")
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def reply(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def error(status: int, message: str, **symbolic: Any) -> Response:
    body: dict[str, Any] = {"error": message}
    if symbolic:
        body["symbolic"] = symbolic
    return reply(body, status)


def not_found(field: str = "id") -> Response:
    return error(404, "record not found", **{field: "not_found"})


class StripFormat:
    """WSGI middleware: ``/x.json`` is ``/x`` (the default format)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.endswith(".json"):
            environ["PATH_INFO"] = path[: -len(".json")]
        return self.app(environ, start_response)


def create_app(admin: Administration, control: Control) -> Flask:
    """The Flask app serving ``admin`` under ``/api/v2``."""
    app = Flask("moneybird_emulator")
    app.wsgi_app = StripFormat(app.wsgi_app)  # type: ignore[method-assign]
    downloads: dict[str, tuple[str, float]] = {}
    _install_gate(app, admin, control)
    _install_invoice_routes(app, admin, downloads)
    _install_write_routes(app, admin)
    _install_contact_routes(app, admin)
    _install_oauth_routes(app, admin, control)

    @app.get(f"{PREFIX}/administrations")
    def administrations() -> Response:
        return reply([admin.response()])

    @app.get("/storage/<code>/download")
    def storage(code: str) -> Response:
        found = downloads.get(code)
        if found is None or found[1] < admin.clock():
            return Response("expired", 403, mimetype="text/plain")
        return Response(PDF, 200, mimetype="application/pdf")

    return app


def _install_gate(app: Flask, admin: Administration, control: Control) -> None:
    @app.before_request
    def gate() -> Response | None:
        if not request.path.startswith(PREFIX):
            return None
        method, path = request.method, request.path
        hang = control.take(("hang",), method, path)
        if hang is not None:
            control.wait(hang.seconds)
        if control.take(("rate_limit",), method, path) is not None:
            reset = admin.clock() + 1
            headers = control.limiter.refusal_headers(reset)
            return reply("Retry later", 429, headers)
        fault = control.take(("server_error",), method, path)
        if fault is not None:
            return Response("<html><body>Bad gateway</body></html>", fault.status)
        refused = control.limiter.admit()
        if refused is not None:
            return reply("Retry later", 429, refused)
        header = request.headers.get("Authorization")
        credential = control.credential_for(header, admin.clock())
        if credential is None:
            return error(401, "Token is invalid or revoked", token="invalid")
        g.credential = credential
        adm = path[len(PREFIX) + 1 :].split("/", 1)[0]
        if adm not in ("administrations", admin.id):
            return not_found("administration_id")
        return None

    @app.after_request
    def log_and_misbehave(response: Response) -> Response:
        method, path = request.method, request.path
        body = request.get_json(silent=True) if request.data else None
        control.requests.append(
            RecordedRequest(
                method=method,
                path=path,
                query=dict(request.args),
                body=body,
                authorized="Authorization" in request.headers,
                status=response.status_code,
                credential=g.get("credential", ""),
            )
        )
        if control.take(("truncate",), method, path) is not None:
            data = response.get_data()
            response.set_data(data[: max(1, len(data) // 2)])
        fault = control.take(("hang_after",), method, path)
        if fault is not None:
            control.wait(fault.seconds)
        return response


def _parse_filter(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in filter(None, raw.split(",")):
        key, _, value = part.partition(":")
        found[key.strip()] = value.strip()
    return found


def _parse_moment(value: str) -> datetime:
    text = value.replace(" UTC", "+00:00").replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _period(value: str, today: date) -> tuple[date, date] | None:
    named = {
        "this_year": (date(today.year, 1, 1), date(today.year, 12, 31)),
        "prev_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "next_year": (date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)),
    }
    if value in named:
        return named[value]
    start, sep, end = value.partition("..")
    if not sep or not (start.isdigit() and end.isdigit()):
        return None
    try:
        first = date(int(start[:4]), int(start[4:6]), int(start[6:8] or 1))
        if len(end) == 6:
            nxt = date(int(end[:4]) + int(end[4:6]) // 12, int(end[4:6]) % 12 + 1, 1)
            last = date.fromordinal(nxt.toordinal() - 1)
        else:
            last = date(int(end[:4]), int(end[4:6]), int(end[6:8]))
    except ValueError:
        return None
    return first, last


def select_invoices(admin: Administration, raw_filter: str) -> list[dict[str, Any]]:
    """The invoices that pass a list ``filter``; raises 400/404 like Moneybird."""
    wanted = _parse_filter(raw_filter)
    states = set(wanted.get("state", "all").split("|")) - {"all"}
    if states - set(STATES):
        abort(error(400, "State is invalid", filter={"state": "inclusion"}))
    chosen = list(admin.invoices.values())
    if states:
        chosen = [i for i in chosen if i["state"] in states]
    if "contact_id" in wanted:
        if wanted["contact_id"] not in admin.contacts:
            abort(not_found("contact_id"))
        chosen = [i for i in chosen if i["contact_id"] == wanted["contact_id"]]
    if "updated_after" in wanted:
        after = _parse_moment(wanted["updated_after"])
        chosen = [i for i in chosen if _parse_moment(i["updated_at"]) > after]
    if "period" in wanted:
        span = _period(wanted["period"], admin.today)
        if span is None:
            abort(error(400, "Period is invalid", filter={"period": "date_range"}))
        chosen = [i for i in chosen if _within(i, span)]
    return chosen


def _within(invoice: dict[str, Any], span: tuple[date, date]) -> bool:
    day = invoice["invoice_date"] or invoice["created_at"][:10]
    return span[0] <= date.fromisoformat(day) <= span[1]


def _page_links(page: int, per_page: int, total: int) -> str:
    links = []
    args = dict(request.args)
    if page * per_page < total:
        links.append(f'<{_page_url(args, page + 1, per_page)}>; rel="next"')
    if page > 1:
        links.append(f'<{_page_url(args, page - 1, per_page)}>; rel="prev"')
    return ", ".join(links)


def _page_url(args: dict[str, str], page: int, per_page: int) -> str:
    query = urlencode({**args, "page": page, "per_page": per_page})
    return f"{request.host_url.rstrip('/')}{request.path}.json?{query}"


def _paging() -> tuple[int, int]:
    page_text = request.args.get("page", "1")
    per_page_text = request.args.get("per_page", "50")
    if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= 100:
        abort(error(400, "per_page does not have a valid value"))
    if not page_text.isdigit() or int(page_text) < 1:
        abort(error(400, "Page is too small"))
    return int(page_text), int(per_page_text)


def _ids(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        abort(error(400, "Ids is required", ids="required"))
    return [str(i) for i in body["ids"]][:100]


def _install_invoice_routes(
    app: Flask, admin: Administration, downloads: dict[str, tuple[str, float]]
) -> None:
    base = f"{PREFIX}/<adm>/sales_invoices"

    @app.get(base)
    def list_invoices(adm: str) -> Response:
        page, per_page = _paging()
        raw = request.args.get("filter", "")
        if "period:" not in raw:
            raw = f"{raw},period:this_year"  # Moneybird's default
        with admin.lock:
            chosen = select_invoices(admin, raw)
            start = (page - 1) * per_page
            body = [admin.invoice(i["id"]) for i in chosen[start : start + per_page]]
        links = _page_links(page, per_page, len(chosen))
        return reply(body, headers={"Link": links} if links else None)

    @app.get(f"{base}/synchronization")
    def sync_invoice_ids(adm: str) -> Response:
        with admin.lock:
            chosen = select_invoices(admin, request.args.get("filter", ""))
            return reply([{"id": i["id"], "version": i["version"]} for i in chosen])

    @app.post(f"{base}/synchronization")
    def sync_invoices(adm: str) -> Response:
        ids = _ids(request.get_json(silent=True))
        with admin.lock:
            return reply([admin.invoice(i) for i in ids if i in admin.invoices])

    @app.get(f"{base}/<invoice_id>")
    def get_invoice(adm: str, invoice_id: str) -> Response:
        with admin.lock:
            if invoice_id not in admin.invoices:
                return not_found()
            return reply(admin.invoice(invoice_id))

    @app.delete(f"{base}/<invoice_id>")
    def delete_invoice(adm: str, invoice_id: str) -> Response:
        with admin.lock:
            if admin.invoices.pop(invoice_id, None) is None:
                return not_found()
        return Response(status=204)

    @app.get(f"{base}/<invoice_id>/download_pdf")
    def download_pdf(adm: str, invoice_id: str) -> Response:
        if invoice_id not in admin.invoices:
            return not_found()
        code = secrets.token_hex(32)
        downloads[code] = (invoice_id, admin.clock() + 30)
        target = f"{request.host_url}storage/{code}/download"
        text = f'"This resource has been moved temporarily to {target}."'
        return Response(text, 302, {"Location": target}, mimetype="text/plain")


def _install_write_routes(app: Flask, admin: Administration) -> None:
    base = f"{PREFIX}/<adm>/sales_invoices/<invoice_id>"

    @app.post(f"{base}/notes")
    def add_invoice_note(adm: str, invoice_id: str) -> Response:
        with admin.lock:
            if invoice_id not in admin.invoices:
                return not_found()
            return _add_note(admin, admin.invoices[invoice_id], "SalesInvoice")

    @app.delete(f"{base}/notes/<note_id>")
    def delete_invoice_note(adm: str, invoice_id: str, note_id: str) -> Response:
        with admin.lock:
            invoice = admin.invoices.get(invoice_id)
            if invoice is None or not admin.delete_note(invoice, note_id):
                return not_found()
        return Response(status=204)

    @app.post(f"{base}/payments")
    def add_payment(adm: str, invoice_id: str) -> Response:
        payload = (request.get_json(silent=True) or {}).get("payment") or {}
        with admin.lock:
            if invoice_id not in admin.invoices:
                return not_found()
            if admin.invoices[invoice_id]["state"] == "draft":
                return error(422, "Payments cannot be registered on a draft")
            missing = [k for k in ("payment_date", "price") if not payload.get(k)]
            if missing:
                return _invalid(missing)
            paid_on = date.fromisoformat(str(payload["payment_date"]))
            extra = {k: payload.get(k) for k in ("transaction_identifier",)}
            created = admin.add_payment(
                invoice_id, parse_money(payload["price"]), paid_on, **extra
            )
            return reply(created, 201)

    for action, paused in (("pause", True), ("resume", False)):
        _install_pause(app, admin, f"{base}/{action}", action, paused)


def _install_pause(
    app: Flask, admin: Administration, rule: str, action: str, paused: bool
) -> None:
    def handler(adm: str, invoice_id: str) -> Response:
        with admin.lock:
            if invoice_id not in admin.invoices:
                return not_found()
            admin.set_paused(invoice_id, paused)
            return reply(admin.invoice(invoice_id), 201)

    app.add_url_rule(rule, f"{action}_invoice", handler, methods=["POST"])


def _add_note(admin: Administration, entity: dict[str, Any], kind: str) -> Response:
    payload = (request.get_json(silent=True) or {}).get("note") or {}
    if not str(payload.get("note") or "").strip():
        return _invalid(["note"])
    note = admin.add_note(
        entity,
        kind,
        str(payload["note"]),
        todo=payload.get("todo") in (True, "true"),
        assignee=payload.get("assignee_id"),
    )
    return reply(note, 201)


def _invalid(fields: Iterable[str]) -> Response:
    names = list(fields)
    return reply(
        {
            "error": {name: ["can't be blank"] for name in names},
            "details": {name: [{"error": "blank"}] for name in names},
        },
        422,
    )


def _install_contact_routes(app: Flask, admin: Administration) -> None:
    base = f"{PREFIX}/<adm>/contacts"

    @app.get(f"{base}/synchronization")
    def sync_contact_ids(adm: str) -> Response:
        archived = request.args.get("include_archived") in ("true", "1")
        with admin.lock:
            chosen = [
                {"id": c["id"], "version": c["version"]}
                for c in admin.contacts.values()
                if archived or not c["archived"]
            ]
        return reply(chosen)

    @app.post(f"{base}/synchronization")
    def sync_contacts(adm: str) -> Response:
        ids = _ids(request.get_json(silent=True))
        with admin.lock:
            return reply([admin.contact(i) for i in ids if i in admin.contacts])

    @app.get(f"{base}/<contact_id>")
    def get_contact(adm: str, contact_id: str) -> Response:
        with admin.lock:
            if contact_id not in admin.contacts:
                return not_found()
            return reply(admin.contact(contact_id))

    @app.post(f"{base}/<contact_id>/notes")
    def add_contact_note(adm: str, contact_id: str) -> Response:
        with admin.lock:
            if contact_id not in admin.contacts:
                return not_found()
            return _add_note(admin, admin.contacts[contact_id], "Contact")


def _install_oauth_routes(app: Flask, admin: Administration, control: Control) -> None:
    """``/oauth/authorize`` (consent, always given) and ``/oauth/token``."""
    server = control.oauth

    @app.get("/oauth/authorize")
    def authorize() -> Response:
        args = request.args
        client_id, target = args.get("client_id", ""), args.get("redirect_uri", "")
        if client_id not in server.clients or not target:
            return error(400, "Unknown client or missing redirect_uri")
        if args.get("response_type") != "code":
            return error(400, "response_type must be code")
        scope = args.get("scope") or "sales_invoices"
        if not valid_scope(scope):
            return error(400, "The requested scope is invalid")
        code = server.issue_code(client_id, target, scope)
        query = {"code": code, **({"state": args["state"]} if "state" in args else {})}
        joiner = "&" if "?" in target else "?"
        location = f"{target}{joiner}{urlencode(query)}"
        return Response("", 302, {"Location": location})

    @app.post("/oauth/token")
    def token() -> Response:
        status, body = server.token(request.form, admin.clock())
        return reply(body, status, {"Cache-Control": "no-store"})
