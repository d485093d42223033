"""``python -m adapters.exact.emulator``: serve a seeded administration."""

from __future__ import annotations

import argparse
import time

from adapters.exact.emulator import (
    DEFAULT_CLIENT,
    SystemClock,
    generate_administration,
    serve_emulator,
)


def main() -> None:
    parser = argparse.ArgumentParser(description="Emulated Exact Online")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--receivables", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    state = generate_administration(args.receivables, args.seed, clock=SystemClock())
    tokens = state.grant()
    emulator = serve_emulator(state, args.port)
    print(f"Exact emulator on {emulator.base_url}")
    print(f"divisions: {sorted(state.divisions)}; client: {DEFAULT_CLIENT[0]}")
    print(f"refresh token for a first run: {tokens['refresh_token']}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
