"""The policy file: the example validates; every broken file is named by file and line.

Each broken policy is the valid ``BASE`` below with a few lines replaced, so the
line the error must name is known from the text itself. Every case goes through
the real ``dunning validate`` and through ``check_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector.cli import main
from connector.errors import ConfigError
from connector.policy import check_policy, load_policy
from connector.settings import Secrets
from tests.factories import TEMPLATES

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "dunning.yaml"

# Line numbers matter: the cases below replace lines of this text by number.
BASE = f"""\
timezone: Europe/Amsterdam
calendar: NL
send_window: {{days: mon-fri, from: "09:00", until: "17:00"}}
sender:
  name: Acme Debiteuren
  email: debiteuren@acme.example
templates: {TEMPLATES}
sources:
  - name: acme
    adapter: csv
    path: open_items.csv
segments:
  - {{name: consumers, when: {{debtor_kind: person}}, plan: b2c}}
  - {{name: default, plan: b2b}}
plans:
  b2b:
    - {{id: reminder, after: 3 days past due, email: reminder}}
    - {{id: call, after: 8 days past due, task: "Call {{{{ debtor.name }}}}"}}
    - {{id: demand, after: 7 days after reminder, email: demand}}
  b2c:
    - {{id: reminder, after: 3 days past due, email: reminder}}
defaults: {{language: nl, min_open_amount: 5.00}}
"""


def edited(changes: dict[int, str]) -> str:
    """BASE with the numbered lines (1-based) replaced; '' deletes a line."""
    lines = BASE.splitlines()
    for number, text in sorted(changes.items(), reverse=True):
        lines[number - 1 : number] = text.splitlines()
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Broken:
    """A broken policy, the line its error must name and words it must use."""

    text: str
    line: int
    words: tuple[str, ...]


SMTP_WITH_UNSET_SECRET = f"""\
templates: {TEMPLATES}
smtp:
  host: smtp.acme.example
  password: {{secret: SMTP_PASSWORD_UNSET}}"""

CASES = {
    "yaml-bad-indentation": Broken(
        edited({6: "   email: debiteuren@acme.example"}),
        6,
        ("YAML syntax error", "indentation"),
    ),
    "yaml-unclosed-bracket": Broken(
        edited({3: 'send_window: {days: mon-fri, from: "09:00", until: "17:00"'}),
        3,
        ("YAML syntax error", "not closed"),
    ),
    "yaml-unclosed-quote": Broken(
        edited({21: '    - {id: reminder, after: 3 days past due, email: "reminder}'}),
        21,
        ("quote", "not closed"),
    ),
    "yaml-tab-indentation": Broken(
        edited({5: "\tname: Acme Debiteuren"}),
        5,
        ("YAML syntax error", "spaces, not tabs"),
    ),
    "unknown-top-level-key": Broken(
        edited({2: "calender: NL"}),
        2,
        ("unknown key 'calender'",),
    ),
    "unknown-key-in-step": Broken(
        edited(
            {
                17: "    - {id: reminder, after: 3 days past due, email: reminder,"
                " delay: 2}"
            }
        ),
        17,
        ("unknown key 'delay'",),
    ),
    "wrong-type": Broken(
        edited({22: 'defaults: {language: nl, min_open_amount: "lots"}'}),
        22,
        ("min_open_amount", "should be a valid decimal"),
    ),
    "unknown-template": Broken(
        edited(
            {
                19: "    - {id: demand, after: 7 days after reminder,"
                " email: no_such_template}"
            }
        ),
        19,
        ("unknown template 'no_such_template'",),
    ),
    "bad-timezone": Broken(
        edited({1: "timezone: Europe/Amsterdm"}),
        1,
        ("unknown timezone 'Europe/Amsterdm'",),
    ),
    "step-after-a-later-step": Broken(
        edited(
            {17: "    - {id: reminder, after: 3 days after demand, email: reminder}"}
        ),
        17,
        ("comes after 'demand'", "not an earlier step"),
    ),
    "past-due-step-earlier-than-the-one-before": Broken(
        edited({18: '    - {id: call, after: 2 days past due, task: "Call"}'}),
        18,
        ("'call'", "before the step ahead of it", "in order"),
    ),
    "secret-not-set": Broken(
        edited({7: SMTP_WITH_UNSET_SECRET}),
        10,
        ("secret 'SMTP_PASSWORD_UNSET' is not set",),
    ),
    "unknown-plan-in-segment": Broken(
        edited({14: "  - {name: default, plan: b2x}"}),
        14,
        ("unknown plan 'b2x'",),
    ),
    "duplicate-step-id": Broken(
        edited({18: '    - {id: reminder, after: 8 days past due, task: "Call"}'}),
        18,
        ("duplicate step id 'reminder'",),
    ),
    "step-with-two-actions": Broken(
        edited(
            {
                18: '    - {id: call, after: 8 days past due, task: "Call",'
                " email: reminder}"
            }
        ),
        18,
        ("exactly one action",),
    ),
    "after-not-understood": Broken(
        edited({19: "    - {id: demand, after: soon, email: demand}"}),
        19,
        ("'soon' is not understood", "3 days past due"),
    ),
    "send-window-from-after-until": Broken(
        edited({3: 'send_window: {days: mon-fri, from: "17:00", until: "09:00"}'}),
        3,
        ("'from' must be before 'until'",),
    ),
    "unknown-weekday": Broken(
        edited({3: 'send_window: {days: mon-fry, from: "09:00", until: "17:00"}'}),
        3,
        ("unknown day 'mon-fry'",),
    ),
    "unknown-adapter": Broken(
        edited({10: "    adapter: quickbooks"}),
        10,
        ("unknown adapter 'quickbooks'", "csv"),
    ),
    "unknown-adapter-option": Broken(
        edited({11: "    path: open_items.csv\n    folder: exports"}),
        12,
        ("unknown key 'folder'",),
    ),
    "empty-file": Broken("", 1, ("empty",)),
    "only-comments": Broken("# nothing here yet\n", 1, ("empty",)),
    "not-a-mapping": Broken("- just\n- a list\n", 1, ("must be a mapping",)),
    "duplicate-key": Broken(
        edited({6: "  email: debiteuren@acme.example\n  name: Someone Else"}),
        7,
        ("duplicate key 'name'",),
    ),
    "missing-sender": Broken(
        edited({4: "", 5: "", 6: ""}),
        1,
        ("missing key 'sender'",),
    ),
}


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_PASSWORD_UNSET", raising=False)
    monkeypatch.delenv("DUNNING_SECRETS_DIR", raising=False)


def validate(path: Path) -> Result:
    return CliRunner().invoke(main, ["validate", "--config", str(path)])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dunning.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_base_of_the_broken_cases_is_itself_valid(tmp_path):
    _, problems = check_policy(write(tmp_path, BASE), Secrets(environ={}))

    assert problems == []


def test_the_example_policy_validates():
    policy, problems = check_policy(EXAMPLE, Secrets(environ={}))

    assert problems == []
    assert policy is not None
    assert [s.name for s in policy.sources] == ["acme"]


def test_validate_says_ok_for_the_example_policy():
    result = validate(EXAMPLE)

    assert result.exit_code == 0, result.output
    assert "ok" in result.output


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_validate_names_file_line_and_problem_of_a_broken_policy(tmp_path, case):
    path = write(tmp_path, case.text)

    result = validate(path)

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    located = [ln for ln in result.output.splitlines() if f"{path}:{case.line}:" in ln]
    assert located, result.output
    assert any(all(w in ln for w in case.words) for ln in located), result.output


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_check_policy_returns_the_problem_with_file_and_line(tmp_path, case):
    path = write(tmp_path, case.text)

    _, problems = check_policy(path, Secrets(environ={}))

    assert problems, "the broken policy was accepted"
    assert all(isinstance(p, ConfigError) for p in problems)
    assert all(p.file == str(path) for p in problems)
    matching = [
        p
        for p in problems
        if p.line == case.line and all(w in str(p) for w in case.words)
    ]
    assert matching, [str(p) for p in problems]


def test_load_policy_raises_the_first_problem(tmp_path):
    path = write(tmp_path, CASES["bad-timezone"].text)

    with pytest.raises(ConfigError) as caught:
        load_policy(path)

    assert caught.value.line == 1


def test_a_secret_that_is_set_passes_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD_UNSET", "correct horse")
    path = write(tmp_path, CASES["secret-not-set"].text)

    result = validate(path)

    assert result.exit_code == 0, result.output
    assert "correct horse" not in result.output


def test_a_secret_can_come_from_the_secrets_directory(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "SMTP_PASSWORD_UNSET").write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("DUNNING_SECRETS_DIR", str(secrets))
    path = write(tmp_path, CASES["secret-not-set"].text)

    result = validate(path)

    assert result.exit_code == 0, result.output


SEVERAL_SCHEMA_PROBLEMS = edited(
    {
        1: "timezone: Europe/Amsterdm",
        3: 'send_window: {days: mon-fri, from: "17:00", until: "09:00"}',
        17: "    - {id: reminder, after: 3 days past due, email: reminder, delay: 2}",
        19: "    - {id: demand, after: soon, email: demand}",
    }
)

SEVERAL_REFERENCE_PROBLEMS = edited(
    {
        10: "    adapter: quickbooks",
        14: "  - {name: default, plan: b2x}",
        18: '    - {id: reminder, after: 8 days past due, task: "Call"}',
        19: "    - {id: demand, after: 7 days after reminder, email: no_such_template}",
    }
)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (SEVERAL_SCHEMA_PROBLEMS, [1, 3, 17, 19]),
        (SEVERAL_REFERENCE_PROBLEMS, [10, 14, 18, 19]),
    ],
    ids=["schema", "references"],
)
def test_validate_lists_every_problem_of_a_file(tmp_path, text, lines):
    path = write(tmp_path, text)

    result = validate(path)
    _, problems = check_policy(path, Secrets(environ={}))

    assert result.exit_code == 2
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    for line in lines:
        assert any(f"{path}:{line}:" in ln for ln in errors), result.output
    assert sorted(p.line or 0 for p in problems) == lines


def test_validate_of_a_missing_file_says_so_in_one_line(tmp_path):
    path = tmp_path / "nowhere.yaml"

    result = validate(path)

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"error: {path}: file not found"]
