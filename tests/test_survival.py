"""Survival: ``dunning run --once`` killed, or run against failing servers.

Every test runs the real command as a subprocess against an emulated Moneybird,
an emulated Exact Online and a real SMTP server on loopback (the harness of
``bench/kill_test.py``). What is checked is what the promises say: nothing sent
or written twice, nothing lost, a mirror equal to the books, and every cycle
ending with a status, never a traceback.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.kill_test import (
    EXACT,
    MONEYBIRD,
    ChildRun,
    Findings,
    World,
    check,
    run_kill_test,
    start_world,
)
from connector.store import State

LATER = timedelta(hours=1)  # deferred actions are retried 15 minutes on


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with start_world(
        tmp_path, seed=4, moneybird_invoices=24, exact_receivables=15, read_timeout=1
    ) as made:
        yield made


def assert_clean(run: ChildRun) -> None:
    """Exit 0 or 1, no traceback, and a status for every source."""
    assert run.exit_code in (0, 1), run.stderr[-2000:]
    assert not run.traceback, run.stderr[-2000:]
    assert set(run.finished()) == {MONEYBIRD, EXACT}, run.stdout
    assert all(run.finished().values())


def assert_kept(found: Findings) -> None:
    """No duplicates, nothing lost, the mirror equal to the books."""
    assert found.duplicate_messages == 0, found.details
    assert found.duplicate_actions_at_smtp == 0, found.details
    assert found.duplicate_notes == 0, found.details
    assert found.lost == 0, found.details
    assert found.mirror_differences == 0, found.details


def catch_up(world: World) -> Findings:
    """The fault is gone: a cycle now, one an hour later, then the checks."""
    assert_clean(world.run_child())
    results = world.run_in_process(LATER)
    assert {r.status for r in results} == {"ok"}, [r.error for r in results]
    return check(world)


def sent_keys(world: World) -> Counter[str]:
    return Counter(str(m.message["X-Dunning-Action"]) for m in world.smtp.received)


def email_actions(world: World, *states: State) -> list[Any]:
    actions = world.store.ledger.find(states=list(states) or None)
    return [a for a in actions if a.channel == "email"]


def revoke_after(world: World, requests: int) -> None:
    """Revoke every token when Moneybird sees its ``requests``-th request."""
    app = world.moneybird.server.app
    seen = itertools.count(1)

    def counting(environ: Any, start_response: Any) -> Any:
        if next(seen) == requests:
            world.moneybird.control.revoke_token()
            world.exact_state.grant()  # consent given again elsewhere
        return app(environ, start_response)

    world.moneybird.server.app = counting


def test_twelve_random_kills_send_nothing_twice_and_lose_nothing(world):
    report = run_kill_test(world, kills=12, seed=7, kills_per_day=3)

    assert report.kills == 12
    assert report.tracebacks == 0
    assert report.findings.messages > 0 and report.findings.notes > 0
    assert_kept(report.findings)


def test_a_429_storm_slows_the_cycle_and_loses_nothing(world):
    world.moneybird.control.rate_limit_storm(3)
    world.exact_state.faults.status_next = [429, 429]

    stormed = world.run_child()

    assert_clean(stormed)
    assert stormed.finished() == {MONEYBIRD: "ok", EXACT: "ok"}
    assert_kept(catch_up(world))


def test_server_errors_end_the_cycle_cleanly_and_the_next_catches_up(world):
    world.moneybird.control.server_errors(3, status=502)
    world.exact_state.faults.status_next = [500, 503]

    erred = world.run_child()

    assert_clean(erred)
    assert_kept(catch_up(world))
    assert email_actions(world, State.DONE)


def test_hanging_responses_are_cut_off_and_the_next_cycle_catches_up(world):
    world.moneybird.control.hang(2, 2.0)
    world.exact_state.faults.hang_s = 2.0
    world.exact_state.faults.hang_next = 2

    hung = world.run_child()

    assert_clean(hung)
    assert_kept(catch_up(world))
    assert email_actions(world, State.DONE)


def test_truncated_json_ends_the_cycle_cleanly_and_the_next_catches_up(world):
    world.moneybird.control.truncate(4)

    cut = world.run_child()

    assert_clean(cut)
    assert cut.finished()[MONEYBIRD] in ("ok", "failed")
    assert_kept(catch_up(world))


def test_tokens_revoked_mid_cycle_stop_both_sources_until_authorised_again(world):
    revoke_after(world, requests=4)

    revoked = world.run_child()

    assert_clean(revoked)
    assert revoked.exit_code == 1
    assert revoked.finished() == {MONEYBIRD: "failed", EXACT: "failed"}
    assert "kill-test-token" not in revoked.stderr + revoked.stdout
    world.moneybird.control.revoked = False
    world.grant_exact()  # the operator runs `dunning auth exact`
    assert_kept(catch_up(world))
    assert email_actions(world, State.DONE)


def test_a_mail_server_refusing_for_now_defers_and_sends_each_once_later(world):
    world.smtp.handler.replies["RCPT"] = "451 4.7.1 Try again later"

    refused = world.run_child()

    assert_clean(refused)
    deferred = {a.key for a in email_actions(world, State.DEFERRED)}
    assert deferred and not world.smtp.received
    world.smtp.handler.replies.clear()
    found = catch_up(world)
    assert_kept(found)
    assert deferred <= set(sent_keys(world))
    assert set(sent_keys(world).values()) == {1}


def test_a_mail_server_rejecting_fails_the_action_and_never_retries_it(world):
    world.smtp.handler.replies["RCPT"] = "550 5.1.1 Mailbox unavailable"

    rejected = world.run_child()

    assert_clean(rejected)
    failed = email_actions(world, State.FAILED)
    assert failed and all(a.error for a in failed)
    world.smtp.handler.replies.clear()
    assert_kept(catch_up(world))
    assert not {a.key for a in failed} & set(sent_keys(world))


def test_a_connection_dropped_mid_message_is_held_for_review_not_resent(world):
    world.smtp.handler.drop_in_data = True

    dropped = world.run_child()

    assert_clean(dropped)
    uncertain = {a.key for a in email_actions(world, State.NEEDS_REVIEW)}
    assert uncertain
    world.smtp.handler.drop_in_data = False
    assert_kept(catch_up(world))
    assert not uncertain & set(sent_keys(world))
    assert all(n == 1 for n in sent_keys(world).values())
