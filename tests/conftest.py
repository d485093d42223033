"""Fixtures every test may use: a plain SMTP server on loopback, and a secrets scan.

The scan runs for the whole session. It knows the secret values the suite uses
(the SMTP password, the emulators' tokens and client secrets, every OAuth token an
emulator hands out) and, when the session ends, looks for them in everything the
tests produced: captured output and logs, structlog captures, click results, and
the files under pytest's temporary directory (SQLite state files included). The
``credentials`` table is left out: holding tokens is what it is for.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.smtp import PASSWORD, RecordingHandler, SmtpServer, serve

#: Inputs tried per property in tests/test_properties.py, printed at the end.
INPUTS_TRIED: Counter[str] = Counter()

#: Suffixes of files the suite writes as output (policies and secret files are
#: inputs, so .yaml and files without a suffix are not scanned).
_SCANNED_SUFFIXES = frozenset(
    {".eml", ".csv", ".txt", ".log", ".json", ".html", ".md", ".pdf", ".jsonl"}
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables that may hold secrets on purpose.
_TABLES_WITH_SECRETS = frozenset({"credentials"})


class SecretScan:
    """Secret values to look for, and the text the tests produced."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.produced: list[tuple[str, str]] = []  # (where, text)

    def register(self, value: str) -> None:
        """Look for `value` at the end of the session (short values are ignored)."""
        if value and len(value) >= 8:
            self.secrets.add(value)

    def record(self, where: str, text: object) -> None:
        self.produced.append((where, str(text)))

    def leaks(self, base: Path) -> list[str]:
        """Where a registered secret turned up: ``where: secret``, one a line."""
        found = []
        for where, text in [*self.produced, *_files_under(base)]:
            found += [f"{where}: {s!r}" for s in sorted(self.secrets) if s in text]
        return found


SCAN = SecretScan()


def _files_under(base: Path) -> Iterator[tuple[str, str]]:
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        head = path.read_bytes()[:16] if path.stat().st_size else b""
        if head == _SQLITE_MAGIC:
            yield from _sqlite_rows(path)
        elif path.suffix.lower() in _SCANNED_SUFFIXES:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


def _sqlite_rows(path: Path) -> Iterator[tuple[str, str]]:
    """Every row of every table but the credentials table, as text."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return
    try:
        tables = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            if table in _TABLES_WITH_SECRETS:
                continue
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            yield f"{path}::{table}", "\n".join(map(repr, rows))
    except sqlite3.Error:
        return
    finally:
        conn.close()


def _known_secrets() -> list[str]:
    """The fixed secret values the tests and emulators use."""
    from adapters.exact.emulator.state import DEFAULT_CLIENT
    from adapters.moneybird.emulator.server import DEFAULT_TOKEN

    return [
        PASSWORD,
        DEFAULT_TOKEN,
        DEFAULT_CLIENT[1],
        "s3cret-of-the-app",  # tests/adapters/moneybird/test_moneybird_auth.py
        "s3cr3t-personal-token",  # tests/adapters/moneybird/test_moneybird_client.py
        "token-of-acme",  # tests/test_moneybird_cycle.py
        "token-of-beta",
    ]


def _watch_emulator_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register every access and refresh token the emulators hand out."""
    from adapters.exact.emulator import oauth as exact_oauth
    from adapters.moneybird.emulator import oauth as moneybird_oauth

    def registering(pair: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
            body = pair(*args, **kwargs)
            SCAN.register(str(body.get("access_token", "")))
            SCAN.register(str(body.get("refresh_token", "")))
            return body

        return wrapper

    exact_pair = exact_oauth.OAuthServer._pair
    monkeypatch.setattr(
        exact_oauth.OAuthServer, "_pair", staticmethod(registering(exact_pair))
    )
    moneybird_pair = moneybird_oauth.OAuthServer._pair
    monkeypatch.setattr(
        moneybird_oauth.OAuthServer, "_pair", registering(moneybird_pair)
    )


def _watch_captures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copy what structlog captures, capsys reads and click returns into the scan."""
    import structlog.testing
    from _pytest.capture import CaptureFixture
    from click.testing import CliRunner

    capture_call = structlog.testing.LogCapture.__call__

    def capture(self: Any, logger: Any, method: str, event: Any) -> Any:
        SCAN.record("structlog capture", event)
        return capture_call(self, logger, method, event)

    readouterr = CaptureFixture.readouterr

    def read(self: Any) -> Any:
        result = readouterr(self)
        SCAN.record("capsys/capfd", result)
        return result

    invoke = CliRunner.invoke

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = invoke(self, *args, **kwargs)
        SCAN.record("click output", result.output)
        if result.exception is not None:
            SCAN.record("click exception", repr(result.exception))
        return result

    monkeypatch.setattr(structlog.testing.LogCapture, "__call__", capture)
    monkeypatch.setattr(CaptureFixture, "readouterr", read)
    monkeypatch.setattr(CliRunner, "invoke", run)


@pytest.fixture(scope="session", autouse=True)
def secrets_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretScan]:
    """Fail the session if a known secret reached any output of the suite."""
    for value in _known_secrets():
        SCAN.register(value)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _watch_emulator_tokens(monkeypatch)
        _watch_captures(monkeypatch)
        yield SCAN
    leaks = SCAN.leaks(tmp_path_factory.getbasetemp())
    if leaks:
        pytest.fail("secrets leaked into test output:\n" + "\n".join(leaks))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the captured stdout, stderr and log records of every test phase."""
    for title, content in report.sections:
        SCAN.record(f"{report.nodeid} [{title}]", content)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many generated inputs each property tried."""
    if INPUTS_TRIED:
        terminalreporter.section("generated inputs tried per property")
        for name, count in sorted(INPUTS_TRIED.items()):
            terminalreporter.write_line(f"{name}: {count}")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1, without TLS or AUTH, recording messages."""
    with serve(RecordingHandler()) as server:
        yield server
