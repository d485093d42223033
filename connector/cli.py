"""The ``dunning`` command.

Exit codes: 0 success; 1 a source or channel failed at run time; 2 a bad policy,
bad template, missing secret or bad arguments; 3 another daemon holds the store.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from connector.errors import ConfigError, DunningError
from connector.logs import configure_logging
from connector.policy import Policy, check_policy, load_policy
from connector.settings import Secrets, Settings
from connector.store import State, Store

F = TypeVar("F", bound=Callable[..., Any])
EXIT_RUNTIME, EXIT_CONFIG, EXIT_LOCKED = 1, 2, 3


def friendly(func: F) -> F:
    """Turn our errors into one clear line and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            code = EXIT_LOCKED if "another daemon" in str(exc) else EXIT_CONFIG
            sys.exit(code)
        except DunningError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_RUNTIME)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"error: {exc.strerror or exc}{where}", err=True)
            sys.exit(EXIT_RUNTIME)

    return wrapper  # type: ignore[return-value]


config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dunning.yaml"),
    show_default=True,
    help="The policy file.",
)


def _policy(config: Path, settings: Settings) -> Policy:
    return load_policy(config, Secrets(settings.secrets_dir))


def _store(settings: Settings) -> Store:
    return Store.open(settings.state_url)


@click.group()
@click.version_option(package_name="dunning-connector")
def main() -> None:
    """Collection plans as code for the books you already keep."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)


@main.command()
@config_option
@friendly
def validate(config: Path) -> None:
    """Check the policy, its templates and its secrets; list every problem."""
    settings = Settings()
    policy, problems = check_policy(config, Secrets(settings.secrets_dir))
    if policy is not None and not problems:
        from connector.checks import check_rendering

        problems += check_rendering(policy)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(EXIT_CONFIG)
    assert policy is not None
    click.echo(
        f"{config}: ok ({len(policy.sources)} sources, {len(policy.plans)} plans,"
        f" {sum(len(s) for s in policy.plans.values())} steps)"
    )


@main.command()
@config_option
@click.option("--once", is_flag=True, help="One cycle of every source, then exit.")
@click.option("--dry-run", is_flag=True, help="Plan and render only; act on nothing.")
@friendly
def run(config: Path, once: bool, dry_run: bool) -> None:
    """Run the daemon, or one cycle of every source with --once."""
    from connector.daemon import run_daemon
    from connector.runtime import Runtime

    settings = Settings()
    policy = _policy(config, settings)
    runtime = Runtime.from_settings(policy, settings, dry_run=dry_run)
    if not once:
        run_daemon(runtime, settings.state_url)
        return
    results = runtime.run_all()
    for result in results:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()) if v)
        click.echo(f"{result.source}: {result.status} {counts}".rstrip())
    if any(r.status in ("failed", "incomplete") for r in results):
        sys.exit(EXIT_RUNTIME)


@main.command()
@config_option
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Plan for this day."
)
@click.option("--skipped", is_flag=True, help="Also list the invoices left alone.")
@friendly
def plan(config: Path, on: Any, skipped: bool) -> None:
    """What would be done on a day and why, from the mirror; no side effects."""
    from connector.planner import plan_actions
    from connector.report import print_plan
    from connector.runtime import system_clock

    settings = Settings()
    policy = _policy(config, settings)
    store = _store(settings)
    today = on.date() if on else system_clock().astimezone(policy.tz).date()
    for source in policy.sources:
        snapshot = store.mirror.snapshot(source.name)
        result = plan_actions(
            source.name,
            snapshot.debtors,
            snapshot.invoices,
            store.holds.active(source.name),
            store.ledger.progress(source.name),
            policy,
            today,
        )
        if not snapshot.invoices and store.mirror.cursor(source.name) is None:
            click.echo(
                f"{source.name}: nothing mirrored yet; `dunning run --once --dry-run`"
                " pulls the source without acting"
            )
            continue
        print_plan(source.name, today, result, skipped)


@main.command()
@click.option("--state", "states", multiple=True, help="Only actions in this state.")
@click.option("--limit", default=30, show_default=True)
@friendly
def ledger(states: tuple[str, ...], limit: int) -> None:
    """The most recent actions in the ledger."""
    from connector.report import print_actions

    store = _store(Settings())
    wanted = [_state(s) for s in states] or None
    print_actions(store.ledger.find(states=wanted, limit=limit))


@main.command()
@click.option("--approve", "approve", multiple=True, help="Approve this action key.")
@click.option("--reject", "reject", multiple=True, help="Reject this action key.")
@click.option("--approve-all", is_flag=True, help="Approve every waiting action.")
@click.option("--reject-all", is_flag=True, help="Reject every waiting action.")
@click.option(
    "--done",
    "mark_done",
    multiple=True,
    help="An action under review did go out: mark it done; the plan goes on.",
)
@click.option(
    "--skip",
    "mark_skipped",
    multiple=True,
    help="An action under review or failed is not to be sent: the plan goes on.",
)
@click.option(
    "--retry",
    "retry",
    multiple=True,
    help="An action under review or failed did not go out: send it again.",
)
@click.option("--by", default="cli", show_default=True, help="Who decides.")
@friendly
def review(
    approve: tuple[str, ...],
    reject: tuple[str, ...],
    approve_all: bool,
    reject_all: bool,
    mark_done: tuple[str, ...],
    mark_skipped: tuple[str, ...],
    retry: tuple[str, ...],
    by: str,
) -> None:
    """List actions awaiting approval or review; decide on them."""
    from connector.report import print_actions
    from connector.runtime import system_clock

    store = _store(Settings())
    waiting = store.ledger.find(states=[State.AWAITING_APPROVAL])
    stuck = store.ledger.find(states=[State.NEEDS_REVIEW, State.FAILED])
    now = system_clock()
    decisions = [
        (
            _all_or(approve, approve_all, waiting),
            [State.AWAITING_APPROVAL],
            State.PENDING,
            "approved",
        ),
        (
            _all_or(reject, reject_all, waiting),
            [State.AWAITING_APPROVAL],
            State.REJECTED,
            "rejected",
        ),
        (_expand(mark_done, stuck), [State.NEEDS_REVIEW], State.DONE, "marked done"),
        (
            _expand(mark_skipped, stuck),
            [State.NEEDS_REVIEW, State.FAILED],
            State.SKIPPED,
            "skipped",
        ),
        (
            _expand(retry, stuck),
            [State.NEEDS_REVIEW, State.FAILED],
            State.PENDING,
            "sent again",
        ),
    ]
    for keys, expected, new, word in decisions:
        for key in keys:
            extra = {"attempts": 0} if new is State.PENDING else {}
            ok = store.ledger.transition(
                key, expected, new, now, reason=f"{word} by {by}", **extra
            )
            click.echo(f"{key}: {word if ok else 'not in a state for that'}")
    if any(keys for keys, *_ in decisions):
        return
    states = [State.AWAITING_APPROVAL, State.NEEDS_REVIEW, State.FAILED]
    print_actions(store.ledger.find(states=states), detail=True)


def _all_or(given: tuple[str, ...], every: bool, waiting: list[Any]) -> list[str]:
    return [a.key for a in waiting] if every else _expand(given, waiting)


@main.command()
@friendly
def status() -> None:
    """The last cycles of every source and what waits in the ledger."""
    from connector.report import print_status

    store = _store(Settings())
    print_status(store)


@main.command()
@click.option(
    "--adapter",
    type=click.Choice(["moneybird", "exact", "csv"]),
    default="moneybird",
    show_default=True,
    help="Which emulated bookkeeping package to run against.",
)
@click.option("--keep", is_flag=True, help="Keep the demo state of an earlier run.")
@friendly
def demo(adapter: str, keep: bool) -> None:
    """The main job, offline, on the embedded sample; writes under ./ only."""
    from connector.demo import run_demo

    # The demo prints its own summary; per-action events only when asked for.
    settings = Settings()
    if "DUNNING_LOG_LEVEL" not in os.environ:
        configure_logging(settings.log_format, "WARNING")
    sys.exit(run_demo(Path.cwd(), adapter=adapter, keep=keep))


@main.group()
def report() -> None:
    """Reports on the open receivables in the mirror."""


@report.command("aging")
@config_option
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Age as of this day."
)
@click.option("--source", "source_name", help="Only this source.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write every debtor row and the totals to this CSV file.",
)
@click.option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also draw a stacked bar chart (total and top 10 debtors) as PNG.",
)
@click.option("--by-debtor", is_flag=True, help="List every debtor, not only totals.")
@friendly
def aging_report(
    config: Path,
    on: Any,
    source_name: str | None,
    csv_path: Path | None,
    png_path: Path | None,
    by_debtor: bool,
) -> None:
    """Open receivables by days past due, per debtor and currency, with DSO."""
    from datetime import timedelta

    from connector.aging import DSO_WINDOW_DAYS, aging, to_csv, to_text
    from connector.aging_chart import write_chart
    from connector.runtime import system_clock

    settings = Settings()
    policy = _policy(config, settings)
    store = _store(settings)
    today = on.date() if on else system_clock().astimezone(policy.tz).date()
    names = [s.name for s in policy.sources]
    if source_name is not None:
        if source_name not in names:
            raise ConfigError(f"no source named {source_name!r} in {config}")
        names = [source_name]
    if (csv_path or png_path) and len(names) > 1:
        raise ConfigError("--csv and --png take one source: add --source NAME")
    first = today - timedelta(days=DSO_WINDOW_DAYS - 1)
    for name in names:
        snapshot = store.mirror.snapshot(name)
        sales = store.mirror.issued_since(name, first)
        result = aging(
            snapshot.invoices, snapshot.debtors, today, sales=sales, source=name
        )
        click.echo(to_text(result, by_debtor=by_debtor))
        if csv_path is not None:
            csv_path.write_text(to_csv(result), encoding="utf-8", newline="")
            click.echo(f"wrote {csv_path}")
        if png_path is not None:
            write_chart(result, png_path)
            click.echo(f"wrote {png_path}")


@main.group()
def auth() -> None:
    """Connect a source to its bookkeeping package (OAuth consent)."""


@auth.command("exact")
@config_option
@click.option("--source", "source", help="The Exact Online source, if several.")
@friendly
def auth_exact(config: Path, source: str | None) -> None:
    """Open Exact Online's consent page and store the tokens of a source."""
    from adapters.base import load_adapter

    factory: Any = load_adapter("exact")
    factory.authorise(config, source)


from connector.holds_cli import register as _register_holds  # noqa: E402

_register_holds(main, friendly)


def _state(text: str) -> State:
    try:
        return State(text)
    except ValueError:
        choices = ", ".join(s.value for s in State)
        raise ConfigError(f"unknown state {text!r} (one of: {choices})") from None


def _expand(prefixes: tuple[str, ...], waiting: list[Any]) -> list[str]:
    """Full keys for the given keys or unambiguous key prefixes."""
    keys = []
    for prefix in prefixes:
        found = [a.key for a in waiting if a.key.startswith(prefix)]
        if len(found) != 1:
            raise ConfigError(
                f"{prefix!r} matches {len(found)} actions in a state for that"
            )
        keys.append(found[0])
    return keys
