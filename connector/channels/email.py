"""The email channel: build a MIME message and send it over one SMTP connection.

What the mail server says decides what the caller does next:

    4xx reply to any command          ChannelRetriable  (try again in a later cycle)
    5xx reply to any command          ChannelFailed     (the action fails)
    refused, reset, timeout, dropped  ChannelRetriable  while the server had not yet
    before the message body was sent                     answered DATA with 354
    dropped after the body was sent   DeliveryUncertain (a ChannelFailed): the server
    and before the final reply                          may have queued the message

A message is delivered only once the server answers the end of its body with 250;
``send`` returns only then. A connection lost after that reply cannot hurt the
message: it was accepted, and the loss shows on the next command (the next message
or QUIT). A loss between the body and the reply is the one case where the outcome
is unknown, so it is never retried on its own: resending could deliver twice.

The password is only ever handed to ``smtplib``'s login; no error message carries
it, and it is scrubbed from server replies in case a server echoes it.
"""

from __future__ import annotations

import base64
import email.errors
import email.policy
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, NamedTuple, Protocol

import structlog

from connector.errors import ChannelError, ChannelFailed, ChannelRetriable, ConfigError

log = structlog.get_logger("dunning.channels.email")

Security = Literal["starttls", "tls", "none"]

#: Headers build_message sets itself; extra headers may not replace them.
_OWN_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id"}
    | {"x-dunning-action", "auto-submitted", "mime-version", "content-type"}
)


_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?[^?]*\?=", re.IGNORECASE)


class Attachment(NamedTuple):
    """A file attached to a message; a plain (filename, content, mimetype) works too."""

    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One email for one action, addressed and rendered, with our own Message-ID."""

    action_key: str
    message_id: str
    to: tuple[str, ...]
    subject: str
    text: str
    sender_email: str
    date: datetime
    html: str | None = None
    sender_name: str = ""
    reply_to: str | None = None
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


class EmailSender(Protocol):
    """What the core needs from an email channel (SMTP or the outbox)."""

    def send(self, email: OutgoingEmail) -> str: ...


class DeliveryUncertain(ChannelFailed):
    """The connection was lost after the message body was sent: it may have arrived.

    A ChannelFailed, so that nothing retries it blindly; a person decides.
    """


def message_id_for(action_key: str, sender_email: str) -> str:
    """Our deterministic Message-ID for an action: ``<key@sender domain>``."""
    domain = sender_email.rpartition("@")[2]
    return f"<{action_key}@{domain}>"


def build_message(email: OutgoingEmail) -> EmailMessage:
    """The MIME message for `email`: text and HTML alternatives, then attachments.

    Refuses (ChannelFailed, naming the field) any line break in a header value, so
    nothing a debtor's data contains can add a header.
    """
    _refuse_line_breaks(email)
    if email.date.tzinfo is None:
        raise ValueError("OutgoingEmail.date must be timezone-aware")

    message = EmailMessage()
    message["From"] = _address("sender_email", email.sender_email, email.sender_name)
    if not email.to:
        raise ChannelFailed("to: no recipient address")
    message["To"] = [_address("to", to) for to in email.to]
    if email.reply_to:
        message["Reply-To"] = _address("reply_to", email.reply_to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    message["X-Dunning-Action"] = email.action_key
    # RFC 3834: tells auto-responders (out of office) not to answer a robot.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in email.headers:
        if name.lower() in _OWN_HEADERS:
            raise ChannelFailed(f"headers: {name} is set by the email channel")
        message[name] = value

    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for filename, content, mimetype in email.attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=filename,
        )
    return message


def _refuse_line_breaks(email: OutgoingEmail) -> None:
    fields: list[tuple[str, str | None]] = [
        ("action_key", email.action_key),
        ("message_id", email.message_id),
        ("subject", email.subject),
        ("sender_email", email.sender_email),
        ("sender_name", email.sender_name),
        ("reply_to", email.reply_to),
    ]
    fields += [("to", to) for to in email.to]
    fields += [("attachments", a[0]) for a in email.attachments]
    fields += [("headers", part) for header in email.headers for part in header]
    for name, value in fields:
        # Whatever str.splitlines breaks on (U+2028, NEL, form feed, ...) the
        # email package refuses too: all of them count as line breaks here.
        if value and value.splitlines() != [value]:
            raise ChannelFailed(f"{name}: contains a line break")
        # The email package decodes =?charset?q?...?= words it is given and
        # writes what they hold raw, line breaks included: refuse them too.
        if value and _ENCODED_WORD.search(value):
            raise ChannelFailed(f"{name}: contains an encoded word (=?...?=)")


def _address(field_name: str, addr_spec: str, display_name: str = "") -> Address:
    try:
        address = Address(display_name=display_name, addr_spec=addr_spec.strip())
    except (ValueError, IndexError, email.errors.HeaderParseError) as exc:
        raise ChannelFailed(
            f"{field_name}: not a valid address: {addr_spec!r}"
        ) from exc
    if not address.username or not address.domain:
        raise ChannelFailed(f"{field_name}: not a valid address: {addr_spec!r}")
    return address


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the mail server. TLS certificates are always verified."""

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    ca_file: Path | str | None = None

    def __post_init__(self) -> None:
        if self.security not in ("starttls", "tls", "none"):
            raise ConfigError(
                f"smtp security must be starttls, tls or none, not {self.security!r}"
            )
        if self.username and self.security == "none":
            raise ConfigError("smtp: refusing to send a password without TLS")

    def tls_context(self) -> ssl.SSLContext:
        """A verifying TLS context, trusting `ca_file` instead of the system store."""
        cafile = str(self.ca_file) if self.ca_file is not None else None
        return ssl.create_default_context(cafile=cafile)


class _Client(smtplib.SMTP):
    """smtplib's client, remembering the code of the last reply it read."""

    last_code = 0

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()
        self.last_code = code
        return code, text


class _TlsClient(smtplib.SMTP_SSL, _Client):
    """The same, over implicit TLS (port 465)."""


class SmtpChannel:
    """Sends a batch of emails over one SMTP connection, logged in once.

    Use it as a context manager. After a lost connection, the next `send` opens a
    new one.
    """

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._client: _Client | None = None
        self._entered = False

    def __enter__(self) -> SmtpChannel:
        self._client = self._connect()
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entered = False
        self.close()

    def close(self) -> None:
        """Say QUIT and close the connection; errors on the way out do not matter."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def send(self, email: OutgoingEmail) -> str:
        """Send `email`; return its Message-ID once the server has accepted it."""
        if not self._entered:
            raise RuntimeError("SmtpChannel.send needs an open channel: use `with`")
        message = build_message(email)
        if self._client is None:
            self._client = self._connect()
        client = self._client

        client.last_code = 0
        try:
            refused = client.send_message(
                message, from_addr=email.sender_email, to_addrs=list(email.to)
            )
        except (smtplib.SMTPException, OSError) as exc:
            body_sent = client.last_code == 354
            if _connection_lost(exc):
                self._client = None
                client.close()
            raise self._translate(exc, body_sent=body_sent) from exc

        if refused:
            # Some recipients took it, so it was sent: report the others, never resend.
            log.warning(
                "recipients_refused",
                action=email.action_key,
                refused=sorted(refused),
            )
        return email.message_id

    def _connect(self) -> _Client:
        settings = self.settings
        client: _Client | None = None
        try:
            if settings.security == "tls":
                client = _TlsClient(
                    settings.host,
                    settings.port,
                    timeout=settings.timeout_s,
                    context=settings.tls_context(),
                )
            else:
                client = _Client(
                    settings.host, settings.port, timeout=settings.timeout_s
                )
            if settings.security == "starttls":
                client.starttls(context=settings.tls_context())
                client.ehlo()
            if settings.username:
                client.login(settings.username, settings.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            if client is not None:
                client.close()
            raise self._translate(exc, body_sent=False) from exc
        return client

    def _translate(self, exc: Exception, *, body_sent: bool) -> ChannelError:
        """The channel error for what smtplib raised, with secrets scrubbed."""
        where = f"smtp {self.settings.host}:{self.settings.port}"
        error = _classify(exc, body_sent)
        return type(error)(self._scrub(f"{where}: {error}"))

    def _scrub(self, text: str) -> str:
        secret = self.settings.password
        if not secret:
            return text
        encoded = base64.b64encode(secret.encode()).decode()
        return text.replace(secret, "[redacted]").replace(encoded, "[redacted]")


def _classify(exc: Exception, body_sent: bool) -> ChannelError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients.items()
        detail = "; ".join(
            f"{to}: {_reply(code, text)}" for to, (code, text) in replies
        )
        if all(500 <= code < 600 for code, _ in exc.recipients.values()):
            return ChannelFailed(f"all recipients refused: {detail}")
        return ChannelRetriable(f"all recipients refused for now: {detail}")
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        if 500 <= exc.smtp_code < 600:
            return ChannelFailed(f"refused: {reply}")
        return ChannelRetriable(f"refused for now: {reply}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return ChannelFailed(f"server does not support what we need: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ChannelFailed(f"TLS certificate not trusted: {exc.verify_message}")
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, _TLS_DROPPED):
        return ChannelFailed(f"TLS failed: {exc.reason or exc}")
    if _connection_lost(exc):
        if body_sent:
            return DeliveryUncertain(
                f"connection lost after the message was sent ({exc}); the server "
                "may have accepted it, so it is not sent again"
            )
        return ChannelRetriable(f"connection failed: {type(exc).__name__}: {exc}")
    return ChannelFailed(f"{type(exc).__name__}: {exc}")


_TLS_DROPPED = (ssl.SSLEOFError, ssl.SSLZeroReturnError)


def _connection_lost(exc: Exception) -> bool:
    """Whether the connection is gone (smtplib's errors are OSErrors too)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # the server closes the connection after 421
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"
