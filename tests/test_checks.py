"""`dunning validate` renders what the policy asks for, before any cycle runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from connector.cli import main
from tests.factories import TEMPLATES, policy_text, write_policy


def validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", "--config", str(path)])
    return result.exit_code, result.output


def test_a_task_text_with_a_misspelt_variable_is_reported(tmp_path):
    steps = '- {id: call, after: 3 days past due, task: "Call {{ debtr.name }}"}\n'
    code, output = validate(write_policy(tmp_path, policy_text(steps)))
    assert code == 2
    assert "plan main, step call" in output
    assert "'debtr' is undefined" in output


def test_a_task_text_with_broken_syntax_is_reported(tmp_path):
    steps = '- {id: call, after: 3 days past due, task: "Call {{ debtor.name"}\n'
    code, output = validate(write_policy(tmp_path, policy_text(steps)))
    assert code == 2
    assert "step call" in output
    assert "Traceback" not in output


def test_a_misspelt_variable_in_an_email_template_is_reported(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    reminder = templates / "nl" / "reminder.txt"
    reminder.write_text(
        reminder.read_text(encoding="utf-8").replace("debtor.", "debtr.", 1),
        encoding="utf-8",
    )
    text = policy_text().replace(str(TEMPLATES), str(templates))
    code, output = validate(write_policy(tmp_path, text))
    assert code == 2
    assert "reminder.txt" in output


def test_the_example_policy_renders_every_step(tmp_path):
    code, output = validate(Path(__file__).parent.parent / "config" / "dunning.yaml")
    assert code == 0, output
