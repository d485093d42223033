"""A separate process that needs an Exact token; run by the token tests.

    python token_worker.py refresh|die-before-save DB_PATH TOKEN_URL

It prints the access token it got. ``die-before-save`` kills itself with
SIGKILL the moment the new pair reaches the store, before it is written.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from adapters.exact.emulator import DEFAULT_CLIENT
from adapters.exact.tokens import TokenManager


def _store_class() -> type:
    spec = importlib.util.spec_from_file_location(
        "exact_test_conftest", Path(__file__).with_name("conftest.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.HookedStore  # type: ignore[no-any-return]


def main() -> None:
    mode, db_path, token_url = sys.argv[1:4]
    store = _store_class().at(db_path)
    if mode == "die-before-save":
        store.before_save = lambda data: os.kill(os.getpid(), signal.SIGKILL)
    manager = TokenManager(
        store,
        "acme",
        DEFAULT_CLIENT[0],
        DEFAULT_CLIENT[1],
        token_url,
        lambda: datetime.now(UTC),
        lease_ttl_s=2.0,  # a killed worker's lease lapses quickly
    )
    print(manager.access_token(), flush=True)


if __name__ == "__main__":
    main()
