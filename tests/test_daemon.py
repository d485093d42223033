"""The daemon as an operator runs it: `dunning run`, the real scheduler, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.factories import TEMPLATES
from tests.smtp import SmtpServer

DUNNING = Path(sys.executable).with_name("dunning")

# The daemon runs at the real time, so the window is open all day, every day, and
# the invoice fell due 20 days ago: its reminder (3 days past due, moved to a
# business day at most 4 days later) is due whenever the test runs.
POLICY = """\
timezone: Europe/Amsterdam
send_window: {{days: mon-sun, from: "00:00", until: "23:59"}}
schedule: {{every: 1 minute}}
sender: {{name: Acme Debiteuren, email: debiteuren@acme.example}}
smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout_s: 5}}
templates: {templates}
sources:
  - {{name: acme, adapter: csv, path: {items}}}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
    - {{id: reminder, after: 3 days past due, email: reminder}}
"""

ITEMS = (
    "invoice_id,debtor_id,debtor_name,email,issue_date,due_date,currency,total,"
    "open_amount\n"
    "i1,d1,Bakkerij de Vries,ap@bakkerij.example,{issued},{due},EUR,100.00,100.00\n"
)


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    """Poll until the condition holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def events(log: Path) -> list[dict[str, object]]:
    """The JSON log events the daemon wrote so far."""
    found = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


@pytest.fixture
def daemon_setup(tmp_path: Path, smtp_server: SmtpServer) -> tuple[list[str], dict]:
    """The `dunning run` command line and environment for a one-source policy."""
    now = datetime.now(ZoneInfo("Europe/Amsterdam"))
    if (now.hour, now.minute) >= (23, 57):
        pytest.skip("the all-day send window closes at 23:59")
    today = now.date()
    due = today - timedelta(days=20)
    items = tmp_path / "open_items.csv"
    items.write_text(
        ITEMS.format(issued=due - timedelta(days=30), due=due), encoding="utf-8"
    )
    config = tmp_path / "dunning.yaml"
    config.write_text(
        POLICY.format(port=smtp_server.port, templates=TEMPLATES, items=items),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DUNNING_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "DUNNING_LOG_FORMAT": "json",
    }
    env.pop("DUNNING_CRASH_AT", None)
    return [str(DUNNING), "run", "--config", str(config)], env


@pytest.fixture
def daemon(
    tmp_path: Path, daemon_setup: tuple[list[str], dict]
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A running `dunning run` daemon and the file its log goes to."""
    command, env = daemon_setup
    log = tmp_path / "daemon.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=handle, stderr=handle
        )
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_the_daemon_runs_a_cycle_at_start_and_stops_cleanly_on_sigterm(
    daemon, smtp_server
):
    process, log = daemon

    def cycle_finished() -> bool:
        return any(e["event"] == "cycle_finished" for e in events(log))

    assert wait_for(cycle_finished), log.read_text()
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].rcpt_tos == ["ap@bakkerij.example"]
    [cycle] = [e for e in events(log) if e["event"] == "cycle_finished"]
    assert (cycle["source"], cycle["status"], cycle["email_done"]) == ("acme", "ok", 1)

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=10) == 0
    names = [e["event"] for e in events(log)]
    assert names[-2:] == ["daemon_stopping", "daemon_stopped"]
    assert "Traceback" not in log.read_text()


def test_a_second_daemon_on_the_same_store_exits_with_code_3(
    daemon, daemon_setup, smtp_server
):
    process, log = daemon
    command, env = daemon_setup
    assert wait_for(lambda: any(e["event"] == "daemon_started" for e in events(log)))

    second = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=30
    )

    assert second.returncode == 3
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("error: another daemon is already running")
    assert "Traceback" not in second.stderr
    assert process.poll() is None
