"""The ``dunning`` command, run through click's test runner on real files and state."""

from __future__ import annotations

import email
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import policy as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from connector.cli import main
from connector.store import State, Store
from tests.factories import TEMPLATES

CONFIG = Path(__file__).resolve().parent.parent / "config"
EXAMPLE = CONFIG / "dunning.yaml"
PLAN_COLUMNS = ("debtor", "step", "channel", "invoices", "asked", "due", "why")


def dunning(*args: str) -> Result:
    """Run ``dunning`` with these arguments in this process."""
    return CliRunner().invoke(main, list(args))


def today_in_amsterdam() -> date:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def table_counts(db: Path) -> dict[str, int]:
    """The number of rows in every table of a SQLite state file."""
    with sqlite3.connect(db) as conn:
        names = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names
        }


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DUNNING_STATE_URL", "DUNNING_SECRETS_DIR", "DUNNING_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


# validate and bad arguments


def test_validate_prints_ok_for_the_example():
    result = dunning("validate", "--config", str(EXAMPLE))

    assert result.exit_code == 0, result.output
    assert f"{EXAMPLE}: ok" in result.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("plan", "--config", str(EXAMPLE), "--date", "notadate"), "notadate"),
        (("ledger", "--state", "nonsense"), "nonsense"),
        (("ledger", "--limit", "many"), "many"),
        (("run", "--nonsense"), "--nonsense"),
    ],
    ids=["plan-date", "ledger-state", "ledger-limit", "run-option"],
)
def test_bad_arguments_exit_2_without_a_traceback(tmp_path, monkeypatch, args, named):
    monkeypatch.setenv("DUNNING_STATE_URL", f"sqlite:///{tmp_path / 's.db'}")

    result = dunning(*args)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert named in result.output


def test_run_with_a_missing_policy_exits_2_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DUNNING_STATE_URL", f"sqlite:///{tmp_path / 's.db'}")
    missing = tmp_path / "nowhere.yaml"

    result = dunning("run", "--once", "--config", str(missing))

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {missing}: file not found"]


def test_status_of_a_new_store_says_there_are_no_cycles(tmp_path, monkeypatch):
    monkeypatch.setenv("DUNNING_STATE_URL", f"sqlite:///{tmp_path / 's.db'}")

    result = dunning("status")

    assert result.exit_code == 0, result.output
    assert "no cycles yet" in result.output


# demo, then plan, ledger and status on its state


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Result]]:
    """``dunning demo`` run once in an empty working directory."""
    workdir = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        patch.delenv("DUNNING_STATE_URL", raising=False)
        patch.delenv("DUNNING_LOG_LEVEL", raising=False)
        result = dunning("demo")
    yield workdir, result


@pytest.fixture
def demo_state(demo, monkeypatch) -> Path:
    """The demo's state file, selected through DUNNING_STATE_URL."""
    workdir, result = demo
    assert result.exit_code == 0, result.output
    db = workdir / "dunning-demo" / "state.db"
    monkeypatch.setenv("DUNNING_STATE_URL", f"sqlite:///{db}")
    return db


def test_demo_writes_messages_to_the_outbox_and_state_under_cwd(demo):
    workdir, result = demo

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (workdir / "dunning-demo").is_dir()
    messages = sorted((workdir / "outbox").glob("*.eml"))
    assert len(messages) > 0
    for path in messages:
        message = email.message_from_bytes(
            path.read_bytes(), policy=email_policy.default
        )
        assert "@" in str(message["To"]), path
        assert str(message["Subject"]).strip(), path


def test_plan_after_the_demo_prints_a_table_and_changes_nothing(demo_state, tmp_path):
    policy = EXAMPLE.read_text(encoding="utf-8")
    policy = policy.replace("name: acme", "name: demo")
    policy = policy.replace("templates: templates", f"templates: {TEMPLATES}")
    config = tmp_path / "dunning.yaml"
    config.write_text(policy, encoding="utf-8")
    day = today_in_amsterdam() + timedelta(days=30)
    before = table_counts(demo_state)

    result = dunning("plan", "--config", str(config), "--date", day.isoformat())

    assert result.exit_code == 0, result.output
    assert f"actions due on {day.isoformat()}" in result.output
    lines = result.output.splitlines()
    header = next(ln for ln in lines if ln.startswith("debtor"))
    assert header.split() == list(PLAN_COLUMNS)
    rows = lines[lines.index(header) + 2 :]
    assert any("second-reminder" in row for row in rows), result.output
    assert table_counts(demo_state) == before


def test_ledger_lists_the_actions_of_the_demo(demo_state):
    result = dunning("ledger", "--limit", "500")

    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split()
    assert header == [
        "key",
        "source",
        "debtor",
        "step",
        "channel",
        "state",
        "on",
        "detail",
    ]
    rows = result.output.splitlines()[2:]
    assert rows
    assert all(" demo " in row for row in rows)
    assert any("reminder" in row and "done" in row for row in rows)


def test_ledger_filters_by_state(demo_state):
    result = dunning("ledger", "--state", "done")

    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()[2:]
    assert rows and all(" done" in row for row in rows)


def test_status_prints_the_demo_cycle(demo_state):
    result = dunning("status")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["cycle", "source", "started", "status", "error"]
    assert any(row.split()[1:2] == ["demo"] and " ok" in row for row in lines[2:])
    assert "awaiting_approval: 0" in result.output


# approval: run, review, approve or reject, run again


APPROVAL_POLICY = """\
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
    - {{id: reminder, after: 3 days past due, email: reminder, approval: required}}
defaults: {{language: nl, min_open_amount: 5.00, one_message_per_debtor: true}}
"""

CSV_HEADER = (
    "invoice_id,invoice_number,debtor_id,debtor_name,debtor_kind,email,language,"
    "issue_date,due_date,currency,total,open_amount"
)


@pytest.fixture
def approval_setup(tmp_path, monkeypatch) -> Iterator[tuple[Path, Store]]:
    """A policy whose only step needs approval, two overdue invoices, a state URL."""
    due = today_in_amsterdam() - timedelta(days=10)
    issued = due - timedelta(days=30)
    rows = [
        f"501,2026-0501,d-kok,Kok Installatie B.V.,business,ap@kok.example,nl,"
        f"{issued},{due},EUR,1210.00,1210.00",
        f"502,2026-0502,d-smit,Smit Tandarts,business,ap@smit.example,nl,"
        f"{issued},{due},EUR,84.70,84.70",
    ]
    csv_path = tmp_path / "open_items.csv"
    csv_path.write_text("\n".join([CSV_HEADER, *rows]) + "\n", encoding="utf-8")
    config = tmp_path / "dunning.yaml"
    config.write_text(
        APPROVAL_POLICY.format(templates=TEMPLATES, csv=csv_path), encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("DUNNING_STATE_URL", url)
    store = Store.open(url)
    yield config, store
    store.close()


def waiting_keys(store: Store) -> dict[str, str]:
    """Keys of the actions awaiting approval, by debtor."""
    found = store.ledger.find(states=[State.AWAITING_APPROVAL])
    return {a.debtor_key: a.key for a in found}


def test_review_approve_and_reject(approval_setup):
    config, store = approval_setup
    outbox = config.parent / "outbox"

    first = dunning("run", "--once", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert "awaiting_approval=2" in first.output
    keys = waiting_keys(store)
    assert set(keys) == {"d-kok", "d-smit"}
    assert not list(outbox.glob("*.eml"))

    listed = dunning("review")
    assert listed.exit_code == 0, listed.output
    for debtor, mail, number in [
        ("d-kok", "ap@kok.example", "2026-0501"),
        ("d-smit", "ap@smit.example", "2026-0502"),
    ]:
        assert keys[debtor] in listed.output
        assert mail in listed.output
        assert number in listed.output
    assert "awaiting_approval" in listed.output
    assert "1210.00" in listed.output

    approved = dunning("review", "--approve", keys["d-kok"][:12])
    assert approved.exit_code == 0, approved.output
    assert f"{keys['d-kok']}: approved" in approved.output
    assert store.ledger.get(keys["d-kok"]).state is State.PENDING

    rejected = dunning("review", "--reject", keys["d-smit"], "--by", "anna")
    assert rejected.exit_code == 0, rejected.output
    smit = store.ledger.get(keys["d-smit"])
    assert smit is not None and smit.state is State.REJECTED
    assert smit.reason == "rejected by anna"

    second = dunning("run", "--once", "--config", str(config))
    assert second.exit_code == 0, second.output
    assert store.ledger.get(keys["d-kok"]).state is State.DONE
    assert store.ledger.get(keys["d-smit"]).state is State.REJECTED
    sent = [
        email.message_from_bytes(p.read_bytes(), policy=email_policy.default)
        for p in outbox.glob("*.eml")
    ]
    assert [str(m["To"]) for m in sent] == ["ap@kok.example"]

    after = dunning("review")
    assert "no actions" in after.output


def test_review_refuses_an_unknown_key(approval_setup):
    config, _ = approval_setup
    dunning("run", "--once", "--config", str(config))

    result = dunning("review", "--approve", "ffffffffffff")

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "matches 0 actions in a state for that" in result.output


def test_run_once_with_a_broken_policy_exits_2(approval_setup):
    config, store = approval_setup
    config.write_text(
        config.read_text(encoding="utf-8").replace("plan: main", "plan: mian"),
        encoding="utf-8",
    )

    result = dunning("run", "--once", "--config", str(config))

    assert result.exit_code == 2
    assert "unknown plan 'mian'" in result.output
    assert store.last_cycles() == []


def test_review_resolves_an_action_under_review_so_the_plan_goes_on(
    tmp_path, monkeypatch
):
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from connector.store import ActionRecord, State, Store

    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("DUNNING_STATE_URL", url)
    store = Store.open(url)
    now = datetime(2026, 12, 3, 10, tzinfo=UTC)
    for key in ("a" * 32, "b" * 32, "c" * 32):
        store.ledger.record(
            ActionRecord(
                key=key,
                source="acme",
                debtor_key="d1",
                plan="main",
                step_id=f"step-{key[0]}",
                channel="email",
                state=State.NEEDS_REVIEW,
                scheduled_on=date(2026, 12, 3),
                taken_on=date(2026, 12, 3),
                invoice_amounts=(("i1", Decimal("10.00")),),
            ),
            now,
        )

    result = dunning(
        "review", "--done", "aaaa", "--skip", "bbbb", "--retry", "cccc", "--by", "anna"
    )

    assert result.exit_code == 0, result.output
    states = {a.key[0]: (a.state, a.reason) for a in store.ledger.find()}
    assert states == {
        "a": (State.DONE, "marked done by anna"),
        "b": (State.SKIPPED, "skipped by anna"),
        "c": (State.PENDING, "sent again by anna"),
    }
