"""The email channel against a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector.channels.email import (
    DeliveryUncertain,
    OutgoingEmail,
    SmtpChannel,
    SmtpSettings,
    build_message,
    message_id_for,
)
from connector.errors import ChannelFailed, ChannelRetriable
from connector.render import TemplateRenderer
from tests.channels import samples
from tests.channels.conftest import PASSWORD, USERNAME, SmtpServer, TlsFiles, free_port

TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "templates"
NOW = dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.UTC)


def make_email(key: str = "act-0001", **changes: Any) -> OutgoingEmail:
    email = OutgoingEmail(
        action_key=key,
        message_id=message_id_for(key, "debiteuren@voorbeeld.example"),
        to=("crediteuren@klant.example",),
        subject="Betalingsherinnering factuur 2026-0117",
        text="Totaal te betalen: € 1.210,00\n",
        html="<p>Totaal te betalen: € 1.210,00</p>",
        sender_name="Debiteurenbeheer Voorbeeld",
        sender_email="debiteuren@voorbeeld.example",
        reply_to="administratie@voorbeeld.example",
        date=NOW,
    )
    return replace(email, **changes)


def rendered_email(language: str, debtor_name: str = "Bakkerij De Korenschoof"):
    renderer = TemplateRenderer(TEMPLATES, "nl")
    context = samples.context(debtor_name=debtor_name)
    message = renderer.render("reminder", language, context)
    return make_email(subject=message.subject, text=message.text, html=message.html)


def plain(server: SmtpServer) -> SmtpSettings:
    return SmtpSettings(
        host=server.host, port=server.port, security="none", timeout_s=5
    )


def secured(server: SmtpServer, tls: TlsFiles, password: str = PASSWORD):
    return SmtpSettings(
        host=server.host,
        port=server.port,
        security="starttls",
        username=USERNAME,
        password=password,
        timeout_s=5,
        ca_file=tls.cert,
    )


def every_text(exc: BaseException) -> str:
    """The exception's text and that of every exception chained to it."""
    texts = []
    current: BaseException | None = exc
    while current is not None:
        texts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


# build_message


def test_message_id_is_the_action_key_at_the_sender_domain():
    assert message_id_for("act-0001", "a@voorbeeld.example") == (
        "<act-0001@voorbeeld.example>"
    )


def test_built_message_has_text_then_html_as_alternatives():
    message = build_message(make_email())

    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_built_message_carries_our_message_id_date_and_action_header():
    message = build_message(make_email())

    assert message["Message-ID"] == "<act-0001@voorbeeld.example>"
    assert message["Date"] == "Sun, 20 Dec 2026 09:30:00 +0000"
    assert message["X-Dunning-Action"] == "act-0001"
    assert message["Auto-Submitted"] == "auto-generated"


def test_built_message_without_html_is_plain_text():
    message = build_message(make_email(html=None))

    assert message.get_content_type() == "text/plain"


def test_attachments_follow_the_bodies_with_their_names():
    pdf = ("factuur-2026-0117.pdf", b"%PDF-1.4 sample", "application/pdf")
    message = build_message(make_email(attachments=(pdf,)))

    assert message.get_content_type() == "multipart/mixed"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "factuur-2026-0117.pdf"
    assert attachment.get_content() == b"%PDF-1.4 sample"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender_name", "Voorbeeld\r\nBcc: x@evil.example"),
        ("reply_to", "a@voorbeeld.example\nBcc: x@evil.example"),
        ("subject", "Herinnering\r\nBcc: x@evil.example"),
    ],
)
def test_a_line_break_in_a_header_field_is_refused_naming_the_field(field, value):
    with pytest.raises(ChannelFailed, match=f"^{field}: contains a line break"):
        build_message(make_email(**{field: value}))


def test_a_line_break_in_a_recipient_address_is_refused_naming_to():
    email = make_email(to=("klant@klant.example\r\nBcc: x@evil.example",))

    with pytest.raises(ChannelFailed, match=r"^to: contains a line break"):
        build_message(email)


def test_two_addresses_in_one_recipient_are_refused():
    email = make_email(to=("a@klant.example, x@evil.example",))

    with pytest.raises(ChannelFailed, match=r"^to: not a valid address"):
        build_message(email)


def test_a_naive_date_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        build_message(make_email(date=dt.datetime(2026, 12, 20, 9, 30)))


def test_the_password_is_not_in_the_settings_repr():
    settings = SmtpSettings(host="mail.example", username="u", password=PASSWORD)

    assert PASSWORD not in repr(settings)


# Sending over SMTP


def test_the_server_receives_recipients_subject_message_id_and_both_parts(
    smtp_server,
):
    with SmtpChannel(plain(smtp_server)) as channel:
        message_id = channel.send(rendered_email("nl"))

    [received] = smtp_server.handler.received
    message = received.message
    assert message_id == "<act-0001@voorbeeld.example>"
    assert received.mail_from == "debiteuren@voorbeeld.example"
    assert received.rcpt_tos == ["crediteuren@klant.example"]
    assert message["Subject"] == "Betalingsherinnering openstaande facturen"
    assert message["Message-ID"] == "<act-0001@voorbeeld.example>"
    assert message["From"] == (
        "Debiteurenbeheer Voorbeeld <debiteuren@voorbeeld.example>"
    )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "2026-0117" in body
        assert "€ 1.210,00" in body
        assert "€ -121,00" in body
        assert "€ 1.452,00" in body
        assert "3 december 2026" in body


def test_an_english_message_arrives_with_english_formats(smtp_server):
    with SmtpChannel(plain(smtp_server)) as channel:
        channel.send(rendered_email("en"))

    message = smtp_server.handler.received[0].message
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Payment reminder: outstanding invoices"
    assert "Total to pay: €1,452.00" in text
    assert "due December 3, 2026: €1,210.00" in text


def test_starttls_and_auth_login_deliver_over_an_encrypted_connection(
    tls_smtp_server, tls_files
):
    with SmtpChannel(secured(tls_smtp_server, tls_files)) as channel:
        channel.send(make_email())

    [received] = tls_smtp_server.handler.received
    assert received.over_tls
    assert tls_smtp_server.handler.mechanisms == ["LOGIN"]


def test_implicit_tls_delivers_with_a_verified_certificate(
    implicit_tls_smtp_server, tls_files
):
    server = implicit_tls_smtp_server
    settings = SmtpSettings(
        host=server.host,
        port=server.port,
        security="tls",
        timeout_s=5,
        ca_file=tls_files.cert,
    )

    with SmtpChannel(settings) as channel:
        channel.send(make_email())

    [received] = server.handler.received
    assert received.message["Message-ID"] == "<act-0001@voorbeeld.example>"


def test_a_batch_of_three_messages_uses_one_connection(tls_smtp_server, tls_files):
    keys = ["act-0001", "act-0002", "act-0003"]

    with SmtpChannel(secured(tls_smtp_server, tls_files)) as channel:
        ids = [
            channel.send(make_email(key, message_id=f"<{key}@v.example>"))
            for key in keys
        ]

    handler = tls_smtp_server.handler
    assert ids == [
        "<act-0001@v.example>",
        "<act-0002@v.example>",
        "<act-0003@v.example>",
    ]
    assert [r.message["X-Dunning-Action"] for r in handler.received] == keys
    assert len(handler.peers) == 1
    assert handler.mechanisms == ["LOGIN"]


def test_a_certificate_the_client_does_not_trust_fails_the_connection(
    tls_smtp_server, tls_files
):
    settings = replace(secured(tls_smtp_server, tls_files), ca_file=None)

    with pytest.raises(ChannelFailed, match="certificate not trusted"):
        SmtpChannel(settings).__enter__()
    assert tls_smtp_server.handler.mechanisms == []


def test_a_wrong_password_fails_without_showing_the_password(
    tls_smtp_server, tls_files
):
    wrong = "wrong-" + PASSWORD
    settings = secured(tls_smtp_server, tls_files, password=wrong)

    with pytest.raises(ChannelFailed, match="535") as caught, SmtpChannel(settings):
        pass
    assert wrong not in every_text(caught.value)
    assert "d3Jvbmct" not in every_text(caught.value)  # base64 of "wrong-"


def test_a_451_reply_to_data_is_retriable_with_code_and_server_text(smtp_server):
    smtp_server.handler.replies["DATA"] = "451 4.3.0 Mailbox temporarily locked"

    with (
        pytest.raises(
            ChannelRetriable, match=re.escape("451 4.3.0 Mailbox temporarily locked")
        ),
        SmtpChannel(plain(smtp_server)) as channel,
    ):
        channel.send(make_email())


def test_a_550_reply_to_rcpt_fails_the_action(smtp_server):
    smtp_server.handler.replies["RCPT"] = "550 5.1.1 No such user"

    with (
        pytest.raises(ChannelFailed, match=re.escape("550 5.1.1 No such")) as caught,
        SmtpChannel(plain(smtp_server)) as channel,
    ):
        channel.send(make_email())
    assert not isinstance(caught.value, ChannelRetriable)


def test_a_452_reply_to_mail_is_retriable(smtp_server):
    smtp_server.handler.replies["MAIL"] = "452 4.3.1 Insufficient system storage"

    with (
        pytest.raises(ChannelRetriable, match="452"),
        SmtpChannel(plain(smtp_server)) as channel,
    ):
        channel.send(make_email())


def test_the_connection_serves_the_next_message_after_a_refusal(smtp_server):
    handler = smtp_server.handler

    with SmtpChannel(plain(smtp_server)) as channel:
        handler.replies["DATA"] = "451 4.3.0 Try again later"
        with pytest.raises(ChannelRetriable):
            channel.send(make_email("act-0001"))
        del handler.replies["DATA"]
        channel.send(make_email("act-0002"))

    assert [r.message["X-Dunning-Action"] for r in handler.received] == ["act-0002"]
    assert len(handler.peers) == 1


def test_after_a_421_the_next_message_goes_over_a_new_connection(smtp_server):
    handler = smtp_server.handler

    with SmtpChannel(plain(smtp_server)) as channel:
        handler.replies["DATA"] = "421 4.3.2 Shutting down"
        with pytest.raises(ChannelRetriable, match="421"):
            channel.send(make_email("act-0001"))
        del handler.replies["DATA"]
        channel.send(make_email("act-0002"))

    assert [r.message["X-Dunning-Action"] for r in handler.received] == ["act-0002"]
    assert len(handler.peers) == 2


def test_a_refused_connection_is_retriable():
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none")

    with pytest.raises(ChannelRetriable, match="connection failed"):
        SmtpChannel(settings).__enter__()


def test_a_connection_lost_after_the_body_was_sent_is_uncertain(smtp_server):
    smtp_server.handler.drop_in_data = True

    with (
        pytest.raises(DeliveryUncertain, match="may have accepted it") as caught,
        SmtpChannel(plain(smtp_server)) as channel,
    ):
        channel.send(make_email())
    assert isinstance(caught.value, ChannelFailed)


def test_a_debtor_name_with_a_bcc_line_adds_no_header_and_no_recipient(
    smtp_server, tmp_path
):
    template = tmp_path / "nl" / "reminder.txt"
    template.parent.mkdir()
    template.write_text(
        "Subject: Herinnering {{ debtor.name }}\n\nBeste {{ debtor.name }},\n"
    )
    renderer = TemplateRenderer(tmp_path, "nl")
    context = samples.context(debtor_name="Klant\r\nBcc: x@evil.example")
    message = renderer.render("reminder", "nl", context)

    with SmtpChannel(plain(smtp_server)) as channel:
        channel.send(make_email(subject=message.subject, text=message.text))

    [received] = smtp_server.handler.received
    assert received.rcpt_tos == ["crediteuren@klant.example"]
    assert received.message["Subject"] == "Herinnering Klant Bcc: x@evil.example"
    assert received.message["Bcc"] is None
    header_block = received.content.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^Bcc:", header_block, re.MULTILINE | re.IGNORECASE)


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(smtp_server):
    settings = SmtpSettings(
        host=smtp_server.host, port=smtp_server.port, security="starttls", timeout_s=5
    )

    with pytest.raises(ChannelFailed, match="does not support"):
        SmtpChannel(settings).__enter__()
    assert smtp_server.handler.received == []


def test_a_subject_rendered_from_a_hostile_debtor_name_stays_one_line(smtp_server):
    renderer = TemplateRenderer(TEMPLATES, "nl")
    context = samples.context(debtor_name="Klant\r\nBcc: x@evil.example")
    context["invoices"] = context["invoices"][:1]
    context["invoices"][0]["number"] = "2026-0117\r\nBcc: x@evil.example"
    message = renderer.render("reminder", "nl", context)

    with SmtpChannel(plain(smtp_server)) as channel:
        channel.send(make_email(subject=message.subject, text=message.text))

    received = smtp_server.handler.received[0]
    assert received.message["Subject"] == (
        "Betalingsherinnering factuur 2026-0117 Bcc: x@evil.example"
    )
    assert received.message["Bcc"] is None
    assert received.rcpt_tos == ["crediteuren@klant.example"]


def test_send_outside_a_with_block_is_a_programming_error(smtp_server):
    with pytest.raises(RuntimeError, match="use `with`"):
        SmtpChannel(plain(smtp_server)).send(make_email())


def test_a_password_without_tls_is_refused_as_configuration():
    from connector.errors import ConfigError

    with pytest.raises(ConfigError, match="without TLS"):
        SmtpSettings(host="mail.example", security="none", username="u", password="p")
