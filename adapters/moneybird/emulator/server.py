"""Run the emulator on loopback in a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server

from adapters.moneybird.emulator.app import PREFIX, create_app
from adapters.moneybird.emulator.control import Control, RateLimiter
from adapters.moneybird.emulator.data import Administration

DEFAULT_TOKEN = "emulator-token"


@dataclass
class RunningEmulator:
    """A live emulator: its address, its books and its switches."""

    admin: Administration
    control: Control
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """The API root to give a client, like ``https://moneybird.com/api/v2``."""
        return f"http://{self.server.host}:{self.server.port}{PREFIX}"

    @property
    def token(self) -> str:
        return self.control.token

    def stop(self) -> None:
        """Release hanging requests and shut the server down."""
        self.control.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_emulator(
    admin: Administration,
    port: int = 0,
    *,
    token: str = DEFAULT_TOKEN,
    host: str = "127.0.0.1",
    clock: Callable[[], float] | None = None,
) -> RunningEmulator:
    """Serve ``admin`` over HTTP on ``host:port`` (0 picks a free port).

    ``clock`` drives the rate limiter, the record timestamps and the download
    links, so tests can move time instead of waiting for it.
    """
    if clock is not None:
        admin.clock = clock
    control = Control(token=token, limiter=RateLimiter(clock=admin.clock))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(host, port, create_app(admin, control), threaded=True)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="moneybird-emulator",
        daemon=True,
    )
    thread.start()
    return RunningEmulator(admin, control, server, thread)
