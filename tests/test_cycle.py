"""Whole cycles: the CSV source, a real store, real SMTP on loopback, a fake clock.

Each scenario writes an open-items CSV, runs cycles at set local times and checks
what the mail server received, what the ledger says and what the journal holds.
Every date, weekday and amount is worked out by hand in the test's comment.
"""

from __future__ import annotations

import contextlib
import locale
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import babel.dates
import babel.numbers
import pytest
from structlog.testing import capture_logs

from connector.daemon import trigger_for
from connector.domain import HoldKind
from connector.policy import Policy
from connector.store import ActionRecord, State, Store
from tests.scenario import (
    ALWAYS_OPEN,
    AMSTERDAM,
    Scenario,
    local,
    row,
    sent_on,
)
from tests.smtp import SmtpServer

DUNNING = Path(sys.executable).with_name("dunning")

THREE_STEPS = """\
- {id: reminder, after: 3 days past due, email: reminder}
- {id: call, after: 8 days past due, task: "Call {{ debtor.name }}"}
- {id: second, after: 7 days after reminder, email: second_reminder}
"""

BAKKERIJ = {
    "debtor_id": "d1",
    "debtor_name": "Bakkerij de Vries B.V.",
    "debtor_kind": "business",
    "email": "ap@bakkerij.example",
    "language": "nl",
}
KOK = {
    "debtor_id": "d2",
    "debtor_name": "Installatiebedrijf Kok",
    "debtor_kind": "business",
    "email": "administratie@kok.example",
    "language": "nl",
}
HARBOUR = {
    "debtor_id": "d3",
    "debtor_name": "Harbour Services Ltd",
    "debtor_kind": "business",
    "email": "accounts@harbour.example",
    "language": "en",
}


@pytest.fixture
def scenario(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Scenario]:
    world = Scenario(tmp_path, smtp_server)
    yield world
    world.store.close()


def days_from(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def messages_per_day(
    scenario: Scenario, days: list[date], times: tuple[tuple[int, int], ...]
) -> dict[date, int]:
    """Run a cycle at each local (hour, minute) of each day; count messages a day."""
    counts = {}
    for day in days:
        before = len(scenario.sent)
        for hour, minute in times:
            scenario.run_at(local(day.year, day.month, day.day, hour, minute))
        counts[day] = len(scenario.sent) - before
    return counts


# 1. Runs every 15 minutes all day, for a week


def test_a_cycle_every_quarter_hour_takes_each_step_once_at_the_window_start(
    scenario,
):
    # Ladder: reminder 1 day past due, call 2 days past due, second 3 days after
    # the reminder. Invoice due Monday 2026-11-30:
    #   reminder  Mon 30 Nov + 1 = Tuesday 1 Dec
    #   call      Mon 30 Nov + 2 = Wednesday 2 Dec
    #   second    Tue 1 Dec + 3  = Friday 4 Dec
    # Runs at 07:00, 07:15, ... 19:00 (49 a day) from Monday 30 Nov to Sunday
    # 6 Dec. The window is 09:00-17:00 on weekdays, so each step is taken by the
    # 09:00 run of its day and by no run after it.
    scenario.configure(
        "- {id: reminder, after: 1 day past due, email: reminder}\n"
        '- {id: call, after: 2 days past due, task: "Call {{ debtor.name }}"}\n'
        "- {id: second, after: 3 days after reminder, email: second_reminder}\n"
    )
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "100.00"))
    taken: list[tuple[datetime, str]] = []
    seen: set[str] = set()
    for day in range(7):
        for quarter in range(49):
            start = local(2026, 11, 30, 7) + timedelta(days=day)
            when = start + timedelta(minutes=15 * quarter)
            scenario.run_at(when)
            for action in scenario.actions(State.DONE):
                if action.key not in seen:
                    seen.add(action.key)
                    taken.append((when, action.step_id))

    assert taken == [
        (local(2026, 12, 1, 9), "reminder"),
        (local(2026, 12, 2, 9), "call"),
        (local(2026, 12, 4, 9), "second"),
    ]
    assert [(sent_on(m), m.subject) for m in scenario.sent] == [
        (local(2026, 12, 1, 9), "Betalingsherinnering factuur 2026-i1"),
        (local(2026, 12, 4, 9), "Tweede herinnering factuur 2026-i1"),
    ]
    kinds = sorted(r["kind"] for r in scenario.journal_rows())
    assert kinds == ["note", "note", "task"]
    assert len(scenario.actions()) == 3


# 2. Downtime


def test_a_reminder_missed_while_the_daemon_was_down_is_sent_late_once(scenario):
    # Invoice due Monday 2026-11-30; reminder 3 days past due = Thursday 3 Dec;
    # second 10 days past due = Thursday 10 Dec.
    # Runs on Mon 30 Nov and Tue 1 Dec; down Wed 2 Dec (the day before the
    # reminder) until Mon 7 Dec (4 days after it). On Monday the reminder goes
    # out once, late; the second keeps its own date (10 Dec), not 7 Dec + 7.
    scenario.configure(
        "- {id: reminder, after: 3 days past due, email: reminder}\n"
        "- {id: second, after: 10 days past due, email: second_reminder}\n"
    )
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "100.00"))
    days = [date(2026, 11, 30), date(2026, 12, 1), *days_from(date(2026, 12, 7), 5)]

    per_day = messages_per_day(scenario, days, times=((10, 0),))

    assert per_day == {
        date(2026, 11, 30): 0,
        date(2026, 12, 1): 0,
        date(2026, 12, 7): 1,
        date(2026, 12, 8): 0,
        date(2026, 12, 9): 0,
        date(2026, 12, 10): 1,
        date(2026, 12, 11): 0,
    }
    done = {a.step_id: a for a in scenario.actions(State.DONE)}
    reminder, second = done["reminder"], done["second"]
    assert (reminder.late, reminder.scheduled_on, reminder.taken_on) == (
        True,
        date(2026, 12, 3),
        date(2026, 12, 7),
    )
    assert (second.late, second.scheduled_on, second.taken_on) == (
        False,
        date(2026, 12, 10),
        date(2026, 12, 10),
    )
    notes = [r["text"] for r in scenario.journal_rows() if r["kind"] == "note"]
    assert "(this step was due 2026-12-03, taken late)" in notes[0]


# 3. Weekends and holidays

DAY_AND_NIGHT = ((0, 30), (10, 0), (23, 30))


def test_a_reminder_due_on_a_saturday_goes_out_on_monday(scenario):
    # Due Wednesday 2026-12-02 + 3 days = Saturday 5 Dec -> Monday 7 Dec.
    # The window is open every day, so only the calendar holds it back; the
    # Monday 00:30 cycle sends it.
    scenario.configure(window=ALWAYS_OPEN)
    scenario.write_items(row(BAKKERIJ, "i1", "2026-12-02", "100.00"))

    counts = messages_per_day(scenario, days_from(date(2026, 12, 3), 6), DAY_AND_NIGHT)

    assert counts == {
        date(2026, 12, 3): 0,  # Thursday
        date(2026, 12, 4): 0,  # Friday
        date(2026, 12, 5): 0,  # Saturday: the due day, not a business day
        date(2026, 12, 6): 0,  # Sunday
        date(2026, 12, 7): 1,  # Monday
        date(2026, 12, 8): 0,  # Tuesday
    }
    [action] = scenario.actions(State.DONE)
    assert (action.scheduled_on, action.late) == (date(2026, 12, 7), False)


def test_a_reminder_due_on_easter_monday_goes_out_on_tuesday(scenario):
    # Due Friday 2027-03-26 (Good Friday) + 3 days = Monday 29 March, Easter
    # Monday (Easter Sunday 2027 is 28 March) -> Tuesday 30 March.
    scenario.configure(window=ALWAYS_OPEN)
    scenario.write_items(row(BAKKERIJ, "i1", "2027-03-26", "100.00"))

    counts = messages_per_day(scenario, days_from(date(2027, 3, 26), 6), DAY_AND_NIGHT)

    assert counts == {
        date(2027, 3, 26): 0,  # Good Friday, the due date
        date(2027, 3, 27): 0,
        date(2027, 3, 28): 0,  # Easter Sunday
        date(2027, 3, 29): 0,  # Easter Monday: a public holiday
        date(2027, 3, 30): 1,  # Tuesday
        date(2027, 3, 31): 0,
    }
    [action] = scenario.actions(State.DONE)
    assert (action.scheduled_on, action.late) == (date(2027, 3, 30), False)


# 4. Credit notes


def test_a_credit_note_that_covers_the_invoice_means_no_message(scenario):
    # Invoice 500.00 due Monday 2026-11-30; credit note -500.00.
    # Reminder due Thursday 3 Dec; 500.00 - 500.00 = 0.00 is asked: nothing.
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "500.00"),
        row(BAKKERIJ, "c1", "2026-11-20", "-500.00", issued="2026-11-20"),
    )

    result = scenario.run_at(local(2026, 12, 3))

    assert result.status == "ok"
    assert scenario.sent == []
    assert scenario.actions() == []
    assert result.plan is not None
    assert [(s.invoice_key, s.reason) for s in result.plan.skips] == [
        ("i1", "covered by credit")
    ]


def test_a_partial_credit_note_is_listed_and_netted_in_the_message(scenario):
    # Invoice 500.00 due Monday 2026-11-30; credit note -200.00.
    # Reminder due Thursday 3 Dec asking 500.00 - 200.00 = 300.00.
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "500.00"),
        row(BAKKERIJ, "c1", "2026-11-20", "-200.00", issued="2026-11-20"),
    )

    scenario.run_at(local(2026, 12, 3))

    [message] = scenario.sent
    text = message.text
    assert "factuur 2026-i1, vervallen op 30 november 2026: € 500,00" in text
    assert "creditnota 2026-c1 van 20 november 2026: € -200,00" in text
    assert "Totaal te betalen: € 300,00" in text
    [action] = scenario.actions(State.DONE)
    assert action.payload["total"] == "300.00"


# 5. Partial payment


def test_a_partly_paid_invoice_is_chased_for_what_is_still_open(scenario):
    # Total 1,210.00, of which 500.00 paid: 1,210.00 - 500.00 = 710.00 open.
    # Due Monday 2026-11-30; reminder Thursday 3 Dec.
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "710.00", total="1210.00"),
    )

    scenario.run_at(local(2026, 12, 3))

    [message] = scenario.sent
    assert "factuur 2026-i1, vervallen op 30 november 2026: € 710,00" in message.text
    assert "Totaal te betalen: € 710,00" in message.text
    assert "1.210" not in message.text
    [action] = scenario.actions(State.DONE)
    assert action.invoice_amounts == (("i1", Decimal("710.00")),)


# 6. Holds


def test_a_hold_survives_a_resync_that_changed_the_invoice(scenario):
    # First sync on Monday 2026-11-30: i1 (250.00) and i2 (80.00) due that day,
    # nothing overdue. A dispute hold is set on i1. The export then changes i1 to
    # 300.00 due Friday 27 Nov (reminder 27 + 3 = Monday 30 Nov, so it is late on
    # Thursday 3 Dec). On Thursday only i2 (30 Nov + 3 = 3 Dec) is chased.
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "250.00"),
        row(KOK, "i2", "2026-11-30", "80.00"),
    )
    scenario.run_at(local(2026, 11, 30))
    hold = scenario.store.holds.add(
        "acme",
        HoldKind.DISPUTE,
        "customer disputes the delivery",
        "credit controller",
        scenario.clock(),
        invoice_key="i1",
    )
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-27", "300.00"),
        row(KOK, "i2", "2026-11-30", "80.00"),
    )

    result = scenario.run_at(local(2026, 12, 3))

    assert [m.rcpt_tos for m in scenario.sent] == [["administratie@kok.example"]]
    assert scenario.store.holds.active("acme") == [hold]
    mirrored = scenario.store.mirror.invoice("acme", "i1")
    assert mirrored is not None
    assert (mirrored.open_amount, mirrored.due_date) == (
        Decimal("300.00"),
        date(2026, 11, 27),
    )
    assert result.plan is not None
    reasons = {s.invoice_key: s.reason for s in result.plan.skips}
    assert reasons["i1"] == "on hold: dispute (customer disputes the delivery)"
    assert all("i1" not in a.invoice_keys for a in scenario.actions())


# 7. Language and formats


@pytest.fixture
def german_process_locale(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs under a German locale (as far as the system has one)."""
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    # Babel reads its default locales from the environment when it is imported;
    # set them as a process started under this environment would have them.
    monkeypatch.setattr(babel.numbers, "LC_NUMERIC", "de_DE")
    monkeypatch.setattr(babel.numbers, "LC_MONETARY", "de_DE")
    monkeypatch.setattr(babel.dates, "LC_TIME", "de_DE")
    saved = locale.setlocale(locale.LC_ALL)
    with contextlib.suppress(locale.Error):  # not every system has it installed
        locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
    yield
    locale.setlocale(locale.LC_ALL, saved)


@pytest.mark.usefixtures("german_process_locale")
def test_each_debtor_gets_its_own_language_whatever_the_process_locale(scenario):
    # Both invoices: 1,210.00 total, 710.00 open, due Thursday 2026-12-03.
    # Reminder 3 days past due = Sunday 6 Dec -> Monday 7 Dec.
    scenario.configure()
    scenario.write_items(
        row(HARBOUR, "e1", "2026-12-03", "710.00", total="1210.00"),
        row(BAKKERIJ, "n1", "2026-12-03", "710.00", total="1210.00"),
    )

    scenario.run_at(local(2026, 12, 7))

    by_recipient = {m.rcpt_tos[0]: m for m in scenario.sent}
    english = by_recipient["accounts@harbour.example"]
    dutch = by_recipient["ap@bakkerij.example"]
    assert english.subject == "Payment reminder: invoice 2026-e1"
    assert "invoice 2026-e1, due December 3, 2026: €710.00" in english.text
    assert "Total to pay: €710.00" in english.text
    assert dutch.subject == "Betalingsherinnering factuur 2026-n1"
    assert "factuur 2026-n1, vervallen op 3 december 2026: € 710,00" in dutch.text
    for message in (english, dutch):
        assert "Dezember" not in message.text
        assert "710,00 €" not in message.text


# 8. One message per debtor


def test_a_debtor_with_three_overdue_invoices_gets_one_message(scenario):
    # d1 owes three invoices, all past their reminder date on Monday 2026-11-30:
    #   i1 due Mon 23 Nov, 120.00 (reminder Thu 26 Nov: late)
    #   i2 due Wed 25 Nov, 250.50 of 500.00 (reminder Sat 28 -> Mon 30 Nov)
    #   i3 due Fri 27 Nov, 75.25 (reminder Mon 30 Nov)
    # Total asked: 120.00 + 250.50 + 75.25 = 445.75. d2 owes one, 80.00, due
    # Wed 25 Nov: a message of its own.
    scenario.configure()
    two_addresses = {
        **BAKKERIJ,
        "email": "ap@bakkerij.example;finance@bakkerij.example",
    }
    scenario.write_items(
        row(two_addresses, "i1", "2026-11-23", "120.00"),
        row(two_addresses, "i2", "2026-11-25", "250.50", total="500.00"),
        row(two_addresses, "i3", "2026-11-27", "75.25"),
        row(KOK, "i4", "2026-11-25", "80.00"),
    )

    scenario.run_at(local(2026, 11, 30))

    assert sorted(m.rcpt_tos[0] for m in scenario.sent) == [
        "administratie@kok.example",
        "ap@bakkerij.example",
    ]
    [bakkerij] = [m for m in scenario.sent if len(m.rcpt_tos) == 2]
    assert bakkerij.rcpt_tos == ["ap@bakkerij.example", "finance@bakkerij.example"]
    assert bakkerij.message["To"] == "ap@bakkerij.example, finance@bakkerij.example"
    assert bakkerij.subject == "Betalingsherinnering openstaande facturen"
    for line in (
        "factuur 2026-i1, vervallen op 23 november 2026: € 120,00",
        "factuur 2026-i2, vervallen op 25 november 2026: € 250,50",
        "factuur 2026-i3, vervallen op 27 november 2026: € 75,25",
        "Totaal te betalen: € 445,75",
    ):
        assert line in bakkerij.text
    [kok] = [m for m in scenario.sent if m is not bakkerij]
    assert kok.subject == "Betalingsherinnering factuur 2026-i4"
    [action] = [a for a in scenario.actions(State.DONE) if a.debtor_key == "d1"]
    assert action.invoice_amounts == (
        ("i1", Decimal("120.00")),
        ("i2", Decimal("250.50")),
        ("i3", Decimal("75.25")),
    )


# 9. Killed after the mail server accepted the message


def test_a_process_killed_after_sending_leaves_the_action_for_review(scenario):
    # This test runs `dunning run --once` at the real time, so the dates are
    # relative: the invoice fell due 20 days before today, so its reminder
    # (3 days past due, moved to a business day at most 4 days later) is due.
    # The send window is open all day, every day.
    if datetime.now(AMSTERDAM).time() >= time(23, 57):
        pytest.skip("the all-day send window closes at 23:59")
    today = datetime.now(AMSTERDAM).date()
    due = today - timedelta(days=20)
    scenario.write_items(row(BAKKERIJ, "i1", due.isoformat(), "100.00"))
    config = scenario.directory / "dunning.yaml"
    config.write_text(scenario.policy_text(window=ALWAYS_OPEN), encoding="utf-8")
    scenario.store.close()
    env = {
        **os.environ,
        "DUNNING_STATE_URL": scenario.state_url,
        "DUNNING_LOG_FORMAT": "json",
    }
    run = [str(DUNNING), "run", "--once", "--config", str(config)]

    def dunning(args, **extra):
        return subprocess.run(
            args,
            env={**env, **extra},
            cwd=scenario.directory,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ledger() -> list[ActionRecord]:
        store = Store.open(scenario.state_url)
        try:
            return store.ledger.find(source="acme")
        finally:
            store.close()

    crashed = dunning(run, DUNNING_CRASH_AT="after_send")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert len(scenario.sent) == 1
    assert [a.state for a in ledger()] == [State.SENDING]

    rerun = dunning(run)
    assert rerun.returncode == 0, rerun.stderr
    assert "needs_review=1" in rerun.stdout
    assert len(scenario.sent) == 1
    [action] = ledger()
    assert action.state is State.NEEDS_REVIEW
    assert "outcome unknown" in (action.reason or "")

    review = dunning([str(DUNNING), "review"])
    assert review.returncode == 0, review.stderr
    assert action.key[:12] in review.stdout
    assert "needs_review" in review.stdout


# 10. The mail server says no


def test_a_temporary_smtp_refusal_defers_the_action_until_its_retry_time(scenario):
    # Invoice due Monday 2026-11-30; reminder Thursday 3 Dec. At 10:00 (09:00
    # UTC) the server answers 451: retry after 15 minutes, at 10:15 (09:15 UTC).
    # A cycle at 10:05 leaves it alone; the one at 10:15 sends it; later ones
    # do not send it again.
    scenario.configure()
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "100.00"))
    scenario.smtp.handler.replies["DATA"] = "451 4.3.0 Mailbox busy, try later"

    scenario.run_at(local(2026, 12, 3, 10, 0))

    [action] = scenario.actions()
    assert action.state is State.DEFERRED
    assert action.next_attempt_at == datetime(2026, 12, 3, 9, 15, tzinfo=UTC)
    assert "451 4.3.0 Mailbox busy" in (action.error or "")
    assert scenario.sent == []

    del scenario.smtp.handler.replies["DATA"]
    scenario.run_at(local(2026, 12, 3, 10, 5))
    assert scenario.sent == []
    scenario.run_at(local(2026, 12, 3, 10, 15))
    scenario.run_at(local(2026, 12, 3, 10, 30))
    scenario.run_at(local(2026, 12, 4, 10, 0))

    assert len(scenario.sent) == 1
    assert scenario.smtp.handler.data_commands == 2
    [action] = scenario.actions()
    assert (action.state, action.attempts) == (State.DONE, 2)


def test_a_permanent_smtp_refusal_fails_the_action_for_good(scenario):
    # Invoice due Monday 2026-11-30; reminder Thursday 3 Dec, refused with 550.
    # Cycles later that day and on Friday 4 and Monday 7 Dec never try again.
    scenario.configure()
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "100.00"))
    scenario.smtp.handler.replies["DATA"] = "550 5.7.1 Rejected by policy"

    scenario.run_at(local(2026, 12, 3, 10, 0))
    del scenario.smtp.handler.replies["DATA"]
    for later in (local(2026, 12, 3, 11), local(2026, 12, 4), local(2026, 12, 7)):
        scenario.run_at(later)

    [action] = scenario.actions()
    assert action.state is State.FAILED
    assert "550 5.7.1 Rejected by policy" in (action.error or "")
    assert scenario.sent == []
    assert scenario.smtp.handler.data_commands == 1


# 11. Daylight-saving time


DST_PERIODS = {
    # Summer time starts Sunday 2027-03-28: 09:00 is 08:00 UTC before, 07:00 after.
    "spring": (date(2027, 3, 20), date(2027, 4, 5), date(2027, 3, 28)),
    # Summer time ends Sunday 2027-10-31: 09:00 is 07:00 UTC before, 08:00 after.
    "autumn": (date(2027, 10, 24), date(2027, 11, 7), date(2027, 10, 31)),
}


def daily_fire_times(policy: Policy, first: date, last: date) -> list[datetime]:
    trigger = trigger_for(policy)
    now = local(first.year, first.month, first.day, 0)
    fires: list[datetime] = []
    previous = None
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire.astimezone(AMSTERDAM).date() > last:
            return fires
        fires.append(fire)
        previous = now = fire


@pytest.mark.parametrize("period", DST_PERIODS)
def test_a_daily_schedule_fires_once_a_day_at_the_window_start_across_dst(
    scenario, period
):
    # 2027-03-20..2027-04-05 is 17 days; 2027-10-24..2027-11-07 is 15 days.
    first, last, change = DST_PERIODS[period]
    policy = scenario.configure(every="1 day")

    fires = daily_fire_times(policy, first, last)

    days = (last - first).days + 1
    wall = [f.astimezone(AMSTERDAM) for f in fires]
    assert [w.date() for w in wall] == days_from(first, days)
    assert {(w.hour, w.minute) for w in wall} == {(9, 0)}
    before, after = (7, 8) if period == "autumn" else (8, 7)
    for fire in fires:
        utc_hour = fire.astimezone(UTC).hour
        assert utc_hour == (before if fire.date() < change else after)


DST_STEPS = {
    # Due Monday 2027-03-22: reminder Thu 25 Mar; call 22 + 8 = Tue 30 Mar;
    # second 25 + 7 = Thursday 1 April. Summer time starts in between.
    "spring": (
        "2027-03-22",
        {date(2027, 3, 25): "reminder", date(2027, 3, 30): "call"}
        | {date(2027, 4, 1): "second"},
    ),
    # Due Monday 2027-10-25: reminder Thu 28 Oct; call 25 + 8 = Tue 2 Nov;
    # second 28 + 7 = Thursday 4 Nov. Summer time ends in between.
    "autumn": (
        "2027-10-25",
        {date(2027, 10, 28): "reminder", date(2027, 11, 2): "call"}
        | {date(2027, 11, 4): "second"},
    ),
}


@pytest.mark.parametrize("period", DST_PERIODS)
def test_daily_cycles_across_dst_take_each_step_once_on_its_local_day(scenario, period):
    first, last, _ = DST_PERIODS[period]
    due, expected = DST_STEPS[period]
    policy = scenario.configure(THREE_STEPS, every="1 day")
    scenario.write_items(row(BAKKERIJ, "i1", due, "100.00"))

    taken: dict[date, str] = {}
    seen: set[str] = set()
    for fire in daily_fire_times(policy, first, last):
        result = scenario.run_at(fire)
        assert result.status in ("ok", "outside_window")
        for action in scenario.actions(State.DONE):
            if action.key not in seen:
                seen.add(action.key)
                assert action.taken_on == fire.astimezone(AMSTERDAM).date()
                taken[action.taken_on] = action.step_id

    assert taken == expected
    emailed = [d for d, step in expected.items() if step != "call"]
    assert [sent_on(m).date() for m in scenario.sent] == emailed
    assert {(sent_on(m).hour, sent_on(m).minute) for m in scenario.sent} == {(9, 0)}


# 13. Broken rows


def test_broken_rows_are_skipped_with_reasons_and_the_good_ones_are_chased(
    scenario,
):
    # Line 1 is the header. Lines 2 and 6 are good (due Monday 2026-11-30,
    # reminder Thursday 3 Dec); line 3 has a date that does not exist, line 4
    # an amount that is not one, line 5 no due date.
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "100.00"),
        row(BAKKERIJ, "b1", "2026-11-31", "100.00"),
        row(BAKKERIJ, "b2", "2026-11-30", "EUR 100", total="100.00"),
        row(BAKKERIJ, "b3", "", "100.00"),
        row(KOK, "i2", "2026-11-30", "200.00"),
    )

    with capture_logs() as logs:
        result = scenario.run_at(local(2026, 12, 3))

    skipped = [
        (e["record"], e["reason"]) for e in logs if e["event"] == "record_skipped"
    ]
    assert skipped == [
        ("b1", "line 3: due_date '2026-11-31' is not a date (YYYY-MM-DD)"),
        ("b2", "line 4: open_amount 'EUR 100' is not an amount"),
        ("b3", "line 5: due_date missing"),
    ]
    assert all(
        e["log_level"] == "warning" for e in logs if e["event"] == "record_skipped"
    )
    assert result.status == "ok"
    assert result.counts["records_skipped"] == 3
    assert sorted(m.subject for m in scenario.sent) == [
        "Betalingsherinnering factuur 2026-i1",
        "Betalingsherinnering factuur 2026-i2",
    ]
