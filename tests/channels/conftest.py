"""A real SMTP server on loopback (aiosmtpd), plain or with STARTTLS and AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "mailer"
PASSWORD = "correct-horse-battery-staple"


@dataclass
class Received:
    """One message as the server took it in."""

    peer: tuple[str, int]
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    over_tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    """Records what arrives; `replies` makes a command answer with an error."""

    replies: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    peers: set[tuple[str, int]] = field(default_factory=set)
    mechanisms: list[str] = field(default_factory=list)
    drop_in_data: bool = False

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.peers.add(session.peer)
        if "MAIL" in self.replies:
            return self.replies["MAIL"]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if "RCPT" in self.replies:
            return self.replies["RCPT"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_in_data:
            server.transport.close()
            return "250 OK"
        if "DATA" in self.replies:
            return self.replies["DATA"]
        self.received.append(
            Received(
                peer=session.peer,
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.content,
                over_tls=session.ssl is not None,
            )
        )
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.mechanisms.append(mechanism)
        ok = isinstance(auth_data, LoginPassword) and auth_data == (
            USERNAME.encode(),
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    """Where a test server listens and what it recorded."""

    host: str
    port: int
    handler: RecordingHandler


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""

    cert: Path
    key: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    alt_names = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(alt_names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(cert=folder / "cert.pem", key=folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _serve(handler: RecordingHandler, **smtp_options: Any) -> Iterator[SmtpServer]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, handler=handler)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server without TLS or AUTH."""
    yield from _serve(RecordingHandler())


@pytest.fixture
def tls_smtp_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """A server that requires STARTTLS and AUTH LOGIN (PLAIN is not offered)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    handler = RecordingHandler()
    yield from _serve(
        handler,
        tls_context=context,
        require_starttls=True,
        authenticator=handler.authenticate,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
    )


@pytest.fixture
def implicit_tls_smtp_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """A server that speaks TLS from the first byte (the port 465 style)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.cert, tls_files.key)
    yield from _serve(RecordingHandler(), ssl_context=context)
