"""``python -m adapters.moneybird.emulator --port 8080 --invoices 300``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from datetime import date

from adapters.moneybird.emulator.seed import generate_administration
from adapters.moneybird.emulator.server import DEFAULT_TOKEN, serve_emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve an emulated Moneybird.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)

    admin = generate_administration(args.invoices, seed=args.seed, today=args.today)
    running = serve_emulator(admin, args.port, token=args.token, host=args.host)
    print(f"moneybird emulator at {running.base_url}/{admin.id} (token {args.token})")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    running.stop()


if __name__ == "__main__":
    main()
