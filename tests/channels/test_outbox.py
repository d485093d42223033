"""The outbox channel: one .eml file per action, written once."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest

from connector.channels.email import OutgoingEmail
from connector.channels.outbox import OutboxChannel
from connector.errors import ChannelFailed

NOW = dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.UTC)


def make_email(key: str, text: str = "Totaal te betalen: € 1.452,00\n"):
    return OutgoingEmail(
        action_key=key,
        message_id=f"<{key}@voorbeeld.example>",
        to=("crediteuren@klant.example",),
        subject="Betalingsherinnering",
        text=text,
        sender_email="debiteuren@voorbeeld.example",
        date=NOW,
    )


def test_outbox_writes_one_eml_file_per_action_key(tmp_path):
    outbox = OutboxChannel(tmp_path / "outbox")

    ids = [outbox.send(make_email(key)) for key in ("act-1", "act-2", "act-3")]

    names = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert names == ["act-1.eml", "act-2.eml", "act-3.eml"]
    assert ids == [
        "<act-1@voorbeeld.example>",
        "<act-2@voorbeeld.example>",
        "<act-3@voorbeeld.example>",
    ]


def test_the_eml_file_holds_the_whole_message(tmp_path):
    outbox = OutboxChannel(tmp_path)

    outbox.send(make_email("act-1"))

    message = message_from_bytes(
        (tmp_path / "act-1.eml").read_bytes(), policy=policy.default
    )
    assert message["Message-ID"] == "<act-1@voorbeeld.example>"
    assert message["To"] == "crediteuren@klant.example"
    assert message.get_content() == "Totaal te betalen: € 1.452,00\n"


def test_a_second_send_of_the_same_action_does_not_rewrite_the_file(tmp_path):
    outbox = OutboxChannel(tmp_path)
    outbox.send(make_email("act-1"))
    first = (tmp_path / "act-1.eml").read_bytes()

    message_id = outbox.send(make_email("act-1", text="Een andere tekst\n"))

    assert message_id == "<act-1@voorbeeld.example>"
    assert (tmp_path / "act-1.eml").read_bytes() == first


def test_the_outbox_leaves_no_temporary_files_behind(tmp_path):
    outbox = OutboxChannel(tmp_path)

    outbox.send(make_email("act-1"))

    assert [p.name for p in tmp_path.iterdir()] == ["act-1.eml"]


def test_an_action_key_that_is_no_file_name_is_refused(tmp_path):
    outbox = OutboxChannel(tmp_path / "outbox")

    with pytest.raises(ChannelFailed, match="action_key"):
        outbox.send(make_email("../escape"))
    assert not (tmp_path / "escape.eml").exists()


def test_the_outbox_works_as_a_context_manager_like_the_smtp_channel(tmp_path):
    with OutboxChannel(tmp_path) as channel:
        channel.send(make_email("act-1"))

    assert (tmp_path / "act-1.eml").is_file()
