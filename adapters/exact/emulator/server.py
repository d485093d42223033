"""Serving the emulator over real HTTP on loopback, in a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from adapters.exact.emulator.app import create_app
from adapters.exact.emulator.state import EmulatorState


class _QuietHandler(WSGIRequestHandler):
    """Tests read ``state.requests``; the access log would only add noise."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


class RunningEmulator:
    """A started emulator: its ``base_url``, its ``state``, and ``stop()``."""

    def __init__(self, state: EmulatorState, server: BaseWSGIServer) -> None:
        self.state = state
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="exact-emulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Release hanging answers, stop serving and wait for the thread."""
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_emulator(state: EmulatorState, port: int = 0) -> RunningEmulator:
    """Serve ``state`` on 127.0.0.1 (``port=0`` picks a free port)."""
    server = make_server(
        "127.0.0.1",
        port,
        create_app(state),
        threaded=True,
        request_handler=_QuietHandler,
    )
    return RunningEmulator(state, server)
