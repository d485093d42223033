"""Two daemons on one PostgreSQL store, as in an overlapping deploy.

Exactly one holds the leader lease and acts; the other logs that it is on
standby and takes over when the first dies. Needs DUNNING_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smtp import SmtpServer
from tests.store.conftest import POSTGRES_URL, _postgres_schema
from tests.test_daemon import daemon_setup, events, wait_for  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="DUNNING_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
def shared_store() -> Iterator[str]:
    yield from _postgres_schema()


def start(command: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    with log.open("wb") as handle:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=handle, stderr=handle)


def has(log: Path, name: str) -> bool:
    return any(e["event"] == name for e in events(log))


def test_one_daemon_acts_the_other_waits_and_takes_over_when_it_dies(
    tmp_path: Path,
    daemon_setup,  # noqa: F811 (the fixture imported above)
    shared_store: str,
    smtp_server: SmtpServer,
):
    command, env = daemon_setup
    env = {**env, "DUNNING_STATE_URL": shared_store}
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start(command, env, first_log, tmp_path)
    second = None
    try:
        assert wait_for(lambda: has(first_log, "cycle_finished"), 30), (
            first_log.read_text()
        )
        second = start(command, env, second_log, tmp_path)
        assert wait_for(lambda: has(second_log, "daemon_standby"), 30)
        # The standby has not run a cycle; the one message is the leader's.
        assert not has(second_log, "cycle_finished")
        assert len(smtp_server.received) == 1

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()

        assert wait_for(lambda: has(second_log, "cycle_finished"), 60)
        took = time.monotonic() - killed_at
        assert took < 60
        names = [e["event"] for e in events(second_log)]
        assert names.index("daemon_taking_over") < names.index("daemon_started")
        # The new leader's catch-up cycle found the reminder already done.
        [cycle] = [e for e in events(second_log) if e["event"] == "cycle_finished"]
        assert cycle["status"] == "ok"
        assert len(smtp_server.received) == 1

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
