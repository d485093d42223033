"""``dunning demo``: the main job end to end, offline, on the embedded sample.

The example policy and the sample administration ship in ``config/``. The demo
moves the sample's dates so that its anchor day is today, runs one cycle with the
send window open, writes the messages to ``./outbox`` and shows what was written
back into the books. Everything it writes lives under ``./dunning-demo`` and
``./outbox`` of the current directory.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date, datetime, time
from pathlib import Path

import click

from adapters.csv.sample import shift_dates
from connector.cycle import CycleResult
from connector.policy import Policy, SendWindow, Source, load_policy
from connector.runtime import Runtime, system_clock
from connector.store import Store

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
SAMPLE_ANCHOR = date(2026, 12, 1)
KEY_FILE = re.compile(r"^[0-9a-f]{32}\.eml$")


def run_demo(workdir: Path, *, keep: bool = False) -> int:
    """Run the demo under ``workdir``; return the exit code."""
    demo_dir = workdir / "dunning-demo"
    outbox = workdir / "outbox"
    if not keep:
        _clean(demo_dir, outbox)
    demo_dir.mkdir(parents=True, exist_ok=True)
    now = system_clock()
    policy = _demo_policy(demo_dir, outbox, now)
    store = Store.open(f"sqlite:///{demo_dir / 'state.db'}")
    runtime = Runtime(
        policy, store, _no_secrets, clock=system_clock, state_dir=demo_dir
    )
    results = runtime.run_all()
    _show(results, outbox, demo_dir / "open_items.journal.csv")
    return 0 if all(r.status == "ok" for r in results) else 1


def _demo_policy(demo_dir: Path, outbox: Path, now: datetime) -> Policy:
    base = load_policy(CONFIG_DIR / "dunning.yaml")
    today = now.astimezone(base.tz).date()
    sample = (CONFIG_DIR / "sample" / "open_items.csv").read_text(encoding="utf-8")
    csv_path = demo_dir / "open_items.csv"
    csv_path.write_text(shift_dates(sample, (today - SAMPLE_ANCHOR).days), "utf-8")
    source = Source.model_validate(
        {"name": "demo", "adapter": "csv", "path": str(csv_path)}
    )
    always = SendWindow.model_validate(
        {"days": "mon-sun", "from": time(0, 0), "until": time(23, 59, 59)}
    )
    return base.model_copy(
        update={
            "sources": (source,),
            "send_window": always,
            "smtp": None,
            "outbox": str(outbox),
            "templates": str(CONFIG_DIR / "templates"),
        }
    )


def _clean(demo_dir: Path, outbox: Path) -> None:
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    if outbox.is_dir():
        for path in outbox.iterdir():
            if KEY_FILE.match(path.name):
                path.unlink()


def _no_secrets(name: str) -> str:
    raise KeyError(name)


def _show(results: list[CycleResult], outbox: Path, journal: Path) -> None:
    for result in results:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()) if v)
        click.echo(f"\ncycle {result.source}: {result.status}; {counts}")
        if result.error:
            click.echo(f"  error: {result.error}")
    messages = sorted(p for p in outbox.glob("*.eml") if KEY_FILE.match(p.name))
    click.echo(f"\n{len(messages)} messages in {outbox}/ (first 10):")
    for path in messages[:10]:
        headers = _headers(path)
        click.echo(
            f"  {headers.get('to', '?')[:45]:45}  {headers.get('subject', '')[:70]}"
        )
    if journal.exists():
        with journal.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        click.echo(
            f"\n{len(rows)} notes and tasks written back into {journal}; the first:"
        )
        for row in rows[:2]:
            click.echo(f"  [{row['kind']} on {row['invoice_ids'] or row['debtor_id']}]")
            for line in row["text"].splitlines():
                click.echo(f"    {line}")
    click.echo(
        "\nthe ledger: DUNNING_STATE_URL=sqlite:///dunning-demo/state.db dunning ledger"
    )


def _headers(path: Path) -> dict[str, str]:
    from email import message_from_bytes, policy

    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    return {k.lower(): str(v) for k, v in message.items()}
