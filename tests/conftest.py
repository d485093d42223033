"""Fixtures every test may use: a plain SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp import RecordingHandler, SmtpServer, serve


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1, without TLS or AUTH, recording messages."""
    with serve(RecordingHandler()) as server:
        yield server
