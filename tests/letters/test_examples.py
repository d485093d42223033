"""The example script writes small, readable PDFs and the dossier JSON."""

from __future__ import annotations

import json
from pathlib import Path

from connector.letters.examples import write_examples
from tests.letters.helpers import pdf_text


def test_the_examples_are_written_and_readable(tmp_path: Path) -> None:
    paths = write_examples(tmp_path)

    assert sorted(p.name for p in paths) == [
        "demand-nl.pdf",
        "dossier-nl.json",
        "dossier-nl.pdf",
        "fourteen-day-nl.pdf",
        "reminder-nl.pdf",
    ]
    for path in paths:
        assert path.stat().st_size < 20_000
    fourteen_day = pdf_text((tmp_path / "fourteen-day-nl.pdf").read_bytes())
    assert "dinsdag 3 juni 2025" in fourteen_day
    assert "€ 40,00" in fourteen_day
    assert json.loads((tmp_path / "dossier-nl.json").read_text())["claim"] == {
        "principal": "200.00",
        "costs": "40.00",
        "costs_vat": "0.00",
        "costs_basis": (
            "het minimum volgens het Besluit vergoeding voor "
            "buitengerechtelijke incassokosten"
        ),
        "interest": "0.00",
        "interest_terms": None,
        "total": "240.00",
    }


def test_the_examples_are_the_same_bytes_on_every_run(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in write_examples(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in write_examples(tmp_path / "b")}

    assert first == second
