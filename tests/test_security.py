"""Secrets stay secret, TLS is verified, and debtor data cannot add a mail header."""

from __future__ import annotations

import csv
import email
import io
import re
import ssl
import stat
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from connector.channels.email import OutgoingEmail, SmtpChannel, SmtpSettings
from connector.cli import main
from connector.errors import ChannelFailed
from connector.store import Store
from tests.conftest import SecretScan
from tests.factories import TEMPLATES
from tests.smtp import RecordingHandler, make_tls_files, serve

ROOT = Path(__file__).resolve().parent.parent
CODE = [
    p for folder in ("connector", "adapters") for p in (ROOT / folder).rglob("*.py")
]
SECRET_VALUE = "pa55-w0rd-that-must-not-show"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DUNNING_STATE_URL", "DUNNING_SECRETS_DIR", "DUNNING_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


# TLS is verified by default


@pytest.mark.parametrize(
    "unsafe",
    [
        r"verify\s*=\s*False",
        r"CERT_NONE",
        r"check_hostname\s*=\s*False",
        r"_create_unverified_context",
        r"urllib3\.disable_warnings",
    ],
)
def test_no_code_turns_certificate_checks_off(unsafe):
    found = [
        str(path.relative_to(ROOT))
        for path in CODE
        if re.search(unsafe, path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_smtp_without_a_ca_file_verifies_against_the_system_store():
    context = SmtpSettings(host="mail.example").tls_context()

    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_smtp_refuses_a_server_whose_certificate_is_not_trusted(tmp_path):
    tls = make_tls_files(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tls.cert, tls.key)
    with serve(RecordingHandler(), tls_context=server_context) as server:
        settings = SmtpSettings(host=server.host, port=server.port, timeout_s=5)
        with pytest.raises(ChannelFailed, match="not trusted"), SmtpChannel(settings):
            pass
        assert server.received == []


# Header injection, end to end


POLICY = """\
timezone: Europe/Amsterdam
calendar: NL
send_window: {{days: mon-sun, from: "00:00", until: "23:59:59"}}
sender: {{name: Acme Debiteuren, email: debiteuren@acme.example}}
templates: {templates}
outbox: outbox
sources:
  - {{name: acme, adapter: csv, path: {csv}}}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
    - {{id: reminder, after: 3 days past due, email: reminder}}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""
COLUMNS = [
    "invoice_id",
    "debtor_id",
    "debtor_name",
    "debtor_kind",
    "email",
    "issue_date",
    "due_date",
    "currency",
    "total",
    "open_amount",
]
HOSTILE = [
    ("i1", "d1", "Kok\r\nBcc: spy@evil.example", "ap@kok.example"),
    ("i2", "d2", "Smit\nX-Injected: yes", "ap@smit.example"),
    ("i3", "d3", "Bakker", "ap@bakker.example\nBcc:spy@evil.example"),
    ("i4", "d4", "Visser\u2028Bcc: spy@evil.example", "ap@visser.example"),
    ("i5", "d5", "=?utf-8?q?x=0D=0ABcc:_spy@evil.example?=", "ap@jong.example"),
]


def test_no_debtor_name_or_email_adds_a_header_to_a_sent_message(tmp_path, monkeypatch):
    due = datetime.now(ZoneInfo("Europe/Amsterdam")).date() - timedelta(days=10)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for key, debtor, name, address in HOSTILE:
        row = [key, debtor, name, "business", address, due - timedelta(days=30)]
        writer.writerow([*row, due, "EUR", "100.00", "100.00"])
    csv_path = tmp_path / "open_items.csv"
    csv_path.write_text(out.getvalue(), encoding="utf-8")
    config = tmp_path / "dunning.yaml"
    text = POLICY.format(templates=TEMPLATES, csv=csv_path)
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DUNNING_STATE_URL", f"sqlite:///{tmp_path / 's.db'}")

    CliRunner().invoke(main, ["run", "--once", "--config", str(config)])

    sent = list((tmp_path / "outbox").glob("*.eml"))
    assert sent  # the harmless names still got their reminder
    for path in sent:
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email_policy.default)
        assert "spy@evil.example" not in str(message["To"])
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert set(message.keys()) <= {
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "X-Dunning-Action",
            "Auto-Submitted",
            "MIME-Version",
            "Content-Type",
        }


# The state store


def test_the_state_store_file_is_created_owner_only(tmp_path):
    path = tmp_path / "state" / "dunning.db"

    Store.open(f"sqlite:///{path}").close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# Secrets and `dunning validate`


BROKEN_POLICY = """\
sender: {{name: Acme, email: debiteuren@acme.example}}
templates: {templates}
smtp: {{host: smtp.acme.example, username: acme, password: {password}}}
sources:
  - {{name: acme, adapter: csv, path: open_items.csv}}
segments:
  - {{name: everyone, plan: main}}
plans:
  main:
    - {{id: reminder, after: 3 days past due, email: reminder}}
"""


@pytest.mark.parametrize(
    "password",
    [
        "{secret: SMTP_PASSWORD}",  # set; another key is wrong
        "{secret: SMTP_PASSWORD, extra: 1}",  # a wrong reference
        f'"{SECRET_VALUE}"',  # the value written in the file, by mistake
        f"{{secret: {SECRET_VALUE}}}",  # the value where the name belongs
    ],
    ids=["set", "wrong-reference", "raw-value", "value-as-name"],
)
def test_validate_never_prints_a_secret_value(tmp_path, monkeypatch, password):
    monkeypatch.setenv("SMTP_PASSWORD", SECRET_VALUE)
    config = tmp_path / "dunning.yaml"
    text = BROKEN_POLICY.format(templates=TEMPLATES, password=password)
    config.write_text(text + "bogus_key: 1\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["validate", "--config", str(config)])

    assert result.exit_code != 0
    assert "error" in result.output
    assert SECRET_VALUE not in result.output
    assert SECRET_VALUE not in repr(result.exception)


def test_a_missing_secret_is_named_not_shown(tmp_path, monkeypatch):
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    config = tmp_path / "dunning.yaml"
    text = BROKEN_POLICY.format(templates=TEMPLATES, password="{secret: SMTP_PASSWORD}")
    config.write_text(text, encoding="utf-8")

    result = CliRunner().invoke(main, ["validate", "--config", str(config)])

    assert result.exit_code != 0
    assert "SMTP_PASSWORD" in result.output


def test_an_smtp_failure_does_not_repeat_the_password(tmp_path):
    settings = SmtpSettings(
        host="127.0.0.1", port=1, username="u", password=SECRET_VALUE, timeout_s=2
    )
    message = OutgoingEmail(
        action_key="k1",
        message_id="<k1@acme.example>",
        to=("ap@debtor.example",),
        subject="Herinnering",
        text="Hallo",
        sender_email="debiteuren@acme.example",
        date=datetime(2026, 12, 20, 9, tzinfo=UTC),
    )
    with pytest.raises(Exception) as failure, SmtpChannel(settings) as channel:
        channel.send(message)

    assert SECRET_VALUE not in str(failure.value)
    assert SECRET_VALUE not in repr(settings)


# The session-wide scan itself


def test_the_scan_finds_a_secret_in_a_file_and_a_database(tmp_path):
    import sqlite3

    scan = SecretScan()
    scan.register("planted-secret-1234")
    (tmp_path / "out.eml").write_text("Subject: planted-secret-1234\n")
    with sqlite3.connect(tmp_path / "state.db") as conn:
        conn.execute("CREATE TABLE actions (error TEXT)")
        conn.execute("INSERT INTO actions VALUES ('planted-secret-1234')")
        conn.execute("CREATE TABLE credentials (data TEXT)")
        conn.execute("INSERT INTO credentials VALUES ('planted-secret-1234')")
    conn.close()

    leaks = scan.leaks(tmp_path)

    assert any("out.eml" in leak for leak in leaks)
    assert any("state.db::actions" in leak for leak in leaks)
    assert not any("credentials" in leak for leak in leaks)
