"""``dunning demo``: the main job end to end, offline, on an embedded administration.

By default the demo starts the Moneybird emulator on a free loopback port, seeded
with a realistic administration due around today, and runs one cycle of the
example policy (``config/dunning.yaml``) against it, with the send window open.
With ``--adapter csv`` it runs on the sample open-items export instead, its dates
moved so that the sample's anchor day is today. Messages go to ``./outbox``; the
state lives in ``./dunning-demo``. The demo then shows what was sent and what was
written back into the books.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable
from datetime import date, time
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import click

from adapters.csv.sample import shift_dates
from connector.cycle import CycleResult
from connector.errors import SecretMissing
from connector.policy import Policy, SendWindow, Source, load_policy
from connector.runtime import Runtime, system_clock
from connector.store import Store

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
SAMPLE_ANCHOR = date(2026, 12, 1)
KEY_FILE = re.compile(r"^[0-9a-f]{32}\.eml$")
Secrets = Callable[[str], str]


def run_demo(workdir: Path, *, adapter: str = "moneybird", keep: bool = False) -> int:
    """Run the demo under ``workdir``; return the exit code."""
    demo_dir = workdir / "dunning-demo"
    outbox = workdir / "outbox"
    if not keep:
        _clean(demo_dir, outbox)
    demo_dir.mkdir(parents=True, exist_ok=True)
    base = load_policy(CONFIG_DIR / "dunning.yaml")
    today = system_clock().astimezone(base.tz).date()
    store = Store.open(f"sqlite:///{demo_dir / 'state.db'}")
    if adapter == "csv":
        results = _run_csv(base, outbox, store, demo_dir, today)
    elif adapter == "exact":
        results = _run_exact(base, outbox, store, demo_dir, today)
    else:
        results = _run_moneybird(base, outbox, store, demo_dir, today)
    click.echo(
        f"\nthe ledger: DUNNING_STATE_URL=sqlite:///{demo_dir}/state.db dunning ledger"
    )
    return 0 if all(r.status == "ok" for r in results) else 1


def _run_moneybird(
    base: Policy, outbox: Path, store: Store, demo_dir: Path, today: date
) -> list[CycleResult]:
    from adapters.moneybird.emulator import generate_administration, serve_emulator

    # Small enough that one cycle stays within Moneybird's 150 requests per
    # five minutes, so the demo never has to wait for the rate limit.
    admin = generate_administration(invoices=90, seed=11, today=today)
    emulator = serve_emulator(admin)
    click.echo(f"emulated Moneybird administration {admin.id} at {emulator.base_url}")
    try:
        source = Source.model_validate(
            {
                "name": "demo",
                "adapter": "moneybird",
                "administration": admin.id,
                "token": {"secret": "MONEYBIRD_TOKEN"},
                "base_url": emulator.base_url,
                "take_over_reminders": True,
            }
        )
        secrets = {"MONEYBIRD_TOKEN": emulator.token}
        runtime = _runtime(base, source, outbox, store, demo_dir, secrets.__getitem__)
        results = runtime.run_all()
        _show(results, outbox)
        _show_notes(admin)
    finally:
        emulator.stop()
    return results


def _run_exact(
    base: Policy, outbox: Path, store: Store, demo_dir: Path, today: date
) -> list[CycleResult]:
    from adapters.exact.emulator import (
        DEFAULT_CLIENT,
        generate_administration,
        serve_emulator,
    )
    from adapters.exact.tokens import Credentials

    division = 1234567
    state = generate_administration(
        60, seed=11, today=today, divisions=(division, 7654321)
    )
    emulator = serve_emulator(state)
    click.echo(f"emulated Exact Online, division {division}, at {emulator.base_url}")
    try:
        # The consent step (`dunning auth exact`) done ahead: a grant in the store.
        grant = Credentials.from_token_response(state.grant(), system_clock())
        store.save_credentials("demo", grant.to_dict())
        source = Source.model_validate(
            {
                "name": "demo",
                "adapter": "exact",
                "division": division,
                "base_url": emulator.base_url,
                "client_id_secret": "EXACT_CLIENT_ID",
                "client_secret_secret": "EXACT_CLIENT_SECRET",
            }
        )
        secrets = {
            "EXACT_CLIENT_ID": DEFAULT_CLIENT[0],
            "EXACT_CLIENT_SECRET": DEFAULT_CLIENT[1],
        }
        runtime = _runtime(base, source, outbox, store, demo_dir, secrets.__getitem__)
        results = runtime.run_all()
        _show(results, outbox)
        notes = list(state.divisions[division].notes.values())
        click.echo(
            f"\n{len(notes)} communication notes written back into division"
            f" {division}; the first:"
        )
        for note in notes[:2]:
            click.echo(f"  [{note.get('Subject', '')}]")
            for line in str(note.get("Notes", "")).splitlines():
                click.echo(f"    {line}")
    finally:
        emulator.stop()
    return results


def _run_csv(
    base: Policy, outbox: Path, store: Store, demo_dir: Path, today: date
) -> list[CycleResult]:
    sample = (CONFIG_DIR / "sample" / "open_items.csv").read_text(encoding="utf-8")
    csv_path = demo_dir / "open_items.csv"
    csv_path.write_text(shift_dates(sample, (today - SAMPLE_ANCHOR).days), "utf-8")
    click.echo(f"sample open-items export at {csv_path}")
    source = Source.model_validate(
        {"name": "demo", "adapter": "csv", "path": str(csv_path)}
    )
    runtime = _runtime(base, source, outbox, store, demo_dir, _no_secrets)
    results = runtime.run_all()
    _show(results, outbox)
    _show_journal(demo_dir / "open_items.journal.csv")
    return results


def _runtime(
    base: Policy,
    source: Source,
    outbox: Path,
    store: Store,
    demo_dir: Path,
    secrets: Secrets,
) -> Runtime:
    # The demo opens the send window all day, so that it shows the job at any hour.
    always = SendWindow.model_validate(
        {"days": "mon-sun", "from": time(0, 0), "until": time(23, 59, 59)}
    )
    policy = base.model_copy(
        update={
            "sources": (source,),
            "send_window": always,
            "smtp": None,
            "outbox": str(outbox),
            "templates": str(CONFIG_DIR / "templates"),
        }
    )
    return Runtime(policy, store, secrets, clock=system_clock, state_dir=demo_dir)


def _clean(demo_dir: Path, outbox: Path) -> None:
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    if outbox.is_dir():
        for path in outbox.iterdir():
            if KEY_FILE.match(path.name):
                path.unlink()


def _no_secrets(name: str) -> str:
    raise SecretMissing(f"the demo has no secret {name!r}")


def _show(results: list[CycleResult], outbox: Path) -> None:
    for result in results:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()) if v)
        click.echo(f"\ncycle {result.source}: {result.status}; {counts}")
        if result.error:
            click.echo(f"  error: {result.error}")
    messages = sorted(p for p in outbox.glob("*.eml") if KEY_FILE.match(p.name))
    click.echo(f"\n{len(messages)} messages in {outbox}/ (the first 10):")
    for path in messages[:10]:
        headers = _headers(path)
        to = headers.get("to", "?")[:45]
        click.echo(f"  {to:45}  {headers.get('subject', '')[:70]}")


def _show_journal(journal: Path) -> None:
    if not journal.exists():
        return
    with journal.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    click.echo(f"\n{len(rows)} notes and tasks written back into {journal}; the first:")
    for row in rows[:2]:
        click.echo(f"  [{row['kind']} on {row['invoice_ids'] or row['debtor_id']}]")
        for line in row["text"].splitlines():
            click.echo(f"    {line}")


def _show_notes(admin: Any) -> None:
    notes = [
        (invoice["invoice_id"], note)
        for invoice in admin.invoices.values()
        for note in invoice.get("notes", ())
    ]
    paused = sum(1 for invoice in admin.invoices.values() if invoice.get("paused"))
    click.echo(
        f"\n{len(notes)} notes written back on the invoices of the emulated"
        f" administration ({paused} invoices paused there); the first:"
    )
    for number, note in notes[:2]:
        todo = " (to do)" if note.get("todo") else ""
        click.echo(f"  [invoice {number}{todo}]")
        for line in str(note.get("note", "")).splitlines():
            click.echo(f"    {line}")


def _headers(path: Path) -> dict[str, str]:
    message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
    return {k.lower(): str(v) for k, v in message.items()}
