"""The OAuth consent flow behind ``dunning auth exact``.

The user opens Exact's consent page, picks the divisions the app may use, and
is sent back to the redirect URI with a one-time code (valid three minutes).
With a loopback redirect URI a small listener catches that code; otherwise the
user pastes the address the browser ended on.
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from adapters.exact.tokens import CredentialStore, TokenManager
from connector.errors import FatalSourceError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def authorize_url(
    base_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    *,
    force_login: bool = False,
) -> str:
    """The consent page to open in a browser."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            "force_login": "1" if force_login else "0",
        }
    )
    return f"{base_url.rstrip('/')}/api/oauth2/auth?{query}"


def code_from_redirect(url: str, expected_state: str) -> str:
    """The code in the address Exact redirected to, after checking ``state``."""
    query = parse_qs(urlsplit(url.strip()).query)
    if "error" in query:
        raise FatalSourceError(f"Exact Online consent failed: {query['error'][0]}")
    if query.get("state", [""])[0] != expected_state:
        raise FatalSourceError("the consent answer does not belong to this request")
    try:
        return query["code"][0]  # parse_qs already turned %21 back into "!"
    except KeyError:
        raise FatalSourceError("the consent answer carries no code") from None


def run_consent_flow(
    store: CredentialStore,
    source: str,
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str = "http://127.0.0.1:8765/callback",
    open_url: Callable[[str], object] | None = None,
    echo: Callable[[str], None] = print,
    read_line: Callable[[str], str] = input,
    timeout_s: float = 300.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    http: requests.Session | None = None,
) -> None:
    """Ask for consent, exchange the code and store the first token pair."""
    state = secrets.token_urlsafe(16)
    url = authorize_url(base_url, client_id, redirect_uri, state)
    if urlsplit(redirect_uri).hostname in LOOPBACK:
        redirected = _catch_redirect(redirect_uri, url, echo, open_url, timeout_s)
    else:
        echo(f"Open this address, grant access, then paste where you ended up:\n{url}")
        if open_url is not None:
            open_url(url)
        redirected = read_line("Address after consent: ")
    code = code_from_redirect(redirected, state)
    token_url = f"{base_url.rstrip('/')}/api/oauth2/token"
    manager = TokenManager(
        store, source, client_id, client_secret, token_url, clock, http
    )
    manager.exchange_code(code, redirect_uri)
    echo(f"Exact Online access stored for source {source!r}.")


def _catch_redirect(
    redirect_uri: str,
    url: str,
    echo: Callable[[str], None],
    open_url: Callable[[str], object] | None,
    timeout_s: float,
) -> str:
    """Serve the redirect URI on loopback until the browser arrives there."""
    target = urlsplit(redirect_uri)
    host, path = target.hostname or "127.0.0.1", target.path or "/"
    arrived: queue.Queue[str] = queue.Queue()

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != path:
                self.send_error(404)
                return
            arrived.put(f"http://{host}{self.path}")
            body = b"Exact Online is connected. You can close this window."
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request line would carry the code

    server = HTTPServer((host, target.port or 80), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        echo(f"Open this address and grant access:\n{url}")
        if open_url is not None:
            open_url(url)
        return arrived.get(timeout=timeout_s)
    except queue.Empty:
        raise FatalSourceError("no consent arrived in time; try again") from None
    finally:
        server.shutdown()
        server.server_close()
