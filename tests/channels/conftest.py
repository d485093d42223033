"""SMTP servers with TLS for the channel tests; the plain one is in tests/conftest."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from tests.smtp import (
    PASSWORD,
    USERNAME,
    RecordingHandler,
    SmtpServer,
    TlsFiles,
    free_port,
    make_tls_files,
    serve,
)

__all__ = ["PASSWORD", "USERNAME", "SmtpServer", "TlsFiles", "free_port"]


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def _server_context(tls_files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    return context


@pytest.fixture
def tls_smtp_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """A server that requires STARTTLS and AUTH LOGIN (PLAIN is not offered)."""
    handler = RecordingHandler()
    with serve(
        handler,
        tls_context=_server_context(tls_files),
        require_starttls=True,
        authenticator=handler.authenticate,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
    ) as server:
        yield server


@pytest.fixture
def implicit_tls_smtp_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """A server that speaks TLS from the first byte (the port 465 style)."""
    with serve(RecordingHandler(), ssl_context=_server_context(tls_files)) as server:
        yield server
