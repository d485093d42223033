"""The credit controller's commands in whole cycles: holds, promises to pay,
payment arrangements and the review of actions that need approval.

The commands run through click's test runner on the scenario's state file
(``DUNNING_STATE_URL``); cycles run with the fake clock between them, and the
tests check what the mail server received and what the ledger says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector.cli import main
from connector.store import State
from tests.scenario import Scenario, local, row
from tests.smtp import SmtpServer

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
JAN = {
    "debtor_id": "p1",
    "debtor_name": "Jan de Vries",
    "debtor_kind": "person",
    "email": "jan@devries.example",
    "language": "nl",
    "address": "Dorpsstraat 2",
    "postcode": "1234 AB",
    "city": "Utrecht",
}

TWO_REMINDERS = """\
- {id: reminder, after: 3 days past due, email: reminder}
- {id: second, after: 7 days after reminder, email: second_reminder}
"""


@pytest.fixture
def scenario(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Scenario]:
    world = Scenario(tmp_path, smtp_server)
    monkeypatch.setenv("DUNNING_STATE_URL", world.state_url)
    monkeypatch.delenv("DUNNING_LOG_LEVEL", raising=False)
    yield world
    world.store.close()


def dunning(*args: str) -> Result:
    """Run ``dunning`` with these arguments in this process."""
    return CliRunner().invoke(main, list(args))


def subjects(scenario: Scenario) -> list[str]:
    return [m.subject for m in scenario.sent]


# Holds


def disputed(scenario: Scenario) -> Result:
    """i1 (250.00) and i2 (80.00) due Monday 2026-11-30, seen that day; i1 held.

    The export then changes i1 to 300.00 due Friday 27 November, so its
    reminder (27 Nov + 3 = Monday 30 Nov) would be late on Thursday 3 December.
    """
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "250.00"),
        row(KOK, "i2", "2026-11-30", "80.00"),
    )
    scenario.run_at(local(2026, 11, 30))
    held = dunning("hold", "2026-i1", "--reason", "disputes the delivery")
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-27", "300.00"),
        row(KOK, "i2", "2026-11-30", "80.00"),
    )
    return held


def test_a_hold_set_from_the_command_line_stops_every_action_through_a_resync(
    scenario,
):
    # On Thursday 3 and Friday 4 December only i2 (30 Nov + 3 = 3 Dec) is
    # chased; i1, changed at the source, stays on hold.
    held = disputed(scenario)

    results = [scenario.run_at(local(2026, 12, day)) for day in (3, 4)]

    assert held.exit_code == 0, held.output
    assert held.output == "hold 1: dispute on 2026-i1 (disputes the delivery)\n"
    assert [m.rcpt_tos for m in scenario.sent] == [["administratie@kok.example"]]
    assert all("i1" not in a.invoice_keys for a in scenario.actions())
    plan = results[-1].plan
    assert plan is not None
    assert [(s.invoice_key, s.reason) for s in plan.skips] == [
        ("i1", "on hold: dispute (disputes the delivery)")
    ]


def test_a_released_hold_lets_the_plan_resume(scenario):
    # Released on Friday 4 December; the reminder of i1 was due Monday
    # 30 November, so the cycle of Monday 7 December sends it, late, asking
    # the 300.00 the export now says.
    disputed(scenario)
    scenario.run_at(local(2026, 12, 3))

    released = dunning("hold", "--release", "1")
    scenario.run_at(local(2026, 12, 7))

    assert released.exit_code == 0, released.output
    assert released.output == "hold 1: released\n"
    assert scenario.sent[-1].rcpt_tos == ["ap@bakkerij.example"]
    assert "Totaal te betalen: € 300,00" in scenario.sent[-1].text
    [reminder] = [a for a in scenario.actions(State.DONE) if a.debtor_key == "d1"]
    assert (reminder.step_id, reminder.late) == ("reminder", True)
    assert dunning("holds").output == "no holds\n"


def test_holds_lists_each_hold_with_its_reason_and_who_set_it(scenario):
    scenario.configure()
    scenario.write_items(
        row(BAKKERIJ, "i1", "2026-11-30", "250.00"),
        row(KOK, "i2", "2026-11-30", "80.00"),
    )
    scenario.run_at(local(2026, 11, 30))
    dunning("hold", "2026-i1", "--reason", "wrong price", "--by", "petra")
    dunning("hold", "--debtor", "d2", "--kind", "pause", "--reason", "merger")
    dunning("promise", "2026-i1", "--until", "2026-12-10", "--by", "karim")

    listed = dunning("holds")

    assert listed.exit_code == 0, listed.output
    lines = [line.split() for line in listed.output.splitlines()]
    assert lines[0] == ["id", "source", "kind", "on", "until", "reason", "by"]
    assert sorted(lines[2:]) == [
        ["1", "acme", "dispute", "i1", "wrong", "price", "petra"],
        ["2", "acme", "pause", "debtor", "d2", "merger", "cli"],
        ["3", "acme", "promise", "i1", "2026-12-10", "promise", "to", "pay", "karim"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("hold", "2026-x9", "--reason", "r"),
            "error: no single invoice '2026-x9' in source 'acme'\n",
        ),
        (
            ("hold", "2026-i1", "--debtor", "d1", "--reason", "r"),
            "error: give an invoice (its number or key) or --debtor, not both\n",
        ),
        (
            ("promise", "2026-x9", "--until", "2026-12-10"),
            "error: no single invoice '2026-x9' in source 'acme'\n",
        ),
    ],
    ids=["unknown-invoice", "invoice-and-debtor", "promise-unknown"],
)
def test_a_hold_on_something_unknown_or_ambiguous_exits_2_with_one_line(
    scenario, args, message
):
    scenario.configure()
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "250.00"))
    scenario.run_at(local(2026, 11, 30))

    result = dunning(*args)

    assert result.exit_code == 2
    assert result.output == message
    assert scenario.store.holds.active("acme") == []


# Promises to pay


def test_a_broken_promise_resumes_the_plan_at_the_step_it_had_reached(scenario):
    # Due Monday 2026-11-30: reminder Thursday 3 December; the second
    # reminder would follow 7 days later, Thursday 10 December. On Friday
    # 4 December the debtor promises to pay by 10 December. Nothing goes out
    # up to and including the 10th; unpaid on Friday 11 December, the second
    # reminder goes out (late), and the first is not sent again.
    scenario.configure(TWO_REMINDERS)
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "250.00"))
    scenario.run_at(local(2026, 12, 3))

    promised = dunning("promise", "2026-i1", "--until", "2026-12-10")
    for day in (4, 7, 8, 9, 10):
        scenario.run_at(local(2026, 12, day))
    quiet = list(subjects(scenario))
    scenario.run_at(local(2026, 12, 11))

    assert promised.output == "hold 1: promise on 2026-i1 until 2026-12-10\n"
    assert quiet == ["Betalingsherinnering factuur 2026-i1"]
    assert subjects(scenario) == [
        "Betalingsherinnering factuur 2026-i1",
        "Tweede herinnering factuur 2026-i1",
    ]
    second = [a for a in scenario.actions(State.DONE) if a.step_id == "second"]
    assert [(a.scheduled_on.isoformat(), a.late) for a in second] == [
        ("2026-12-10", True)
    ]


# Payment arrangements


def test_an_arrangement_pauses_the_plan_until_an_instalment_is_missed(scenario):
    # 300.00 due Monday 2026-11-30, reminder Thursday 3 December. Arrangement:
    # 3 x 100.00 on 10 December, 9 January and 8 February (every 30 days).
    # The first two are paid on their day (open 200.00, then 100.00); the
    # third is not. It counts as missed once 8 Feb + 3 grace days = 11 Feb has
    # passed: on Thursday 11 February 2027 the plan still waits, on Friday
    # 12 February the second reminder (due 10 December) goes out for 100.00.
    scenario.configure(TWO_REMINDERS)
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "300.00"))
    scenario.run_at(local(2026, 12, 3))

    agreed = dunning(
        "arrangement", "2026-i1", "--instalments", "3", "--first", "2026-12-10"
    )
    paid = {
        local(2026, 12, 10): "200.00",
        local(2026, 12, 14): "200.00",
        local(2027, 1, 11): "100.00",
        local(2027, 1, 13): "100.00",
        local(2027, 2, 11): "100.00",
    }
    for when, still_open in paid.items():
        scenario.write_items(
            row(BAKKERIJ, "i1", "2026-11-30", still_open, total="300.00")
        )
        scenario.run_at(when)
    waited = list(subjects(scenario))
    scenario.run_at(local(2027, 2, 12))

    assert agreed.exit_code == 0, agreed.output
    assert "2026-12-10  100.00 EUR" in agreed.output
    assert "2027-01-09  100.00 EUR" in agreed.output
    assert "2027-02-08  100.00 EUR" in agreed.output
    assert waited == ["Betalingsherinnering factuur 2026-i1"]
    assert subjects(scenario)[-1] == "Tweede herinnering factuur 2026-i1"
    assert "Totaal te betalen: € 100,00" in scenario.sent[-1].text


def test_an_arrangement_on_a_partly_paid_invoice_counts_only_later_payments(
    scenario,
):
    # Total 500.00 of which 200.00 was paid before the arrangement: 300.00
    # open, split 3 x 100.00 from 10 December. Nothing more is paid. The
    # first instalment is missed once 10 Dec + 3 = 13 Dec has passed, so on
    # Monday 14 December the second reminder goes out; the 200.00 paid before
    # the arrangement does not count as instalments paid.
    scenario.configure(TWO_REMINDERS)
    scenario.write_items(row(BAKKERIJ, "i1", "2026-11-30", "300.00", total="500.00"))
    scenario.run_at(local(2026, 12, 3))
    dunning("arrangement", "2026-i1", "--instalments", "3", "--first", "2026-12-10")

    scenario.run_at(local(2026, 12, 11))
    waited = list(subjects(scenario))
    scenario.run_at(local(2026, 12, 14))

    assert waited == ["Betalingsherinnering factuur 2026-i1"]
    assert subjects(scenario)[-1] == "Tweede herinnering factuur 2026-i1"


# Review of actions that need approval

APPROVAL = """\
- {id: fourteen-day-letter, after: 10 days past due, letter: fourteen_day,
   approval: required, when: {debtor_kind: person}}
- {id: demand, after: 10 days past due, email: demand, approval: required,
   charge: {costs: statutory, interest: statutory},
   when: {debtor_kind: business}}
"""


def awaiting(scenario: Scenario) -> None:
    """A 14-day letter and two demands waiting for approval.

    All three invoices are 200.00, due Saturday 2025-05-10. Jan's 14-day
    letter is due 10 days later, Tuesday 20 May. For the businesses the letter
    step is passed over on 20 May and the demand, never on the same day as the
    step before it, follows on Wednesday 21 May: BIK costs 40.00 (15% of
    200.00 is 30.00, below the minimum) and commercial interest from 11 May
    up to and including 20 May, 10 days at 11.15%:
    200 x 11.15 x 10 / 36500 = 0.610959, rounded 0.61. Total 240.61.
    """
    scenario.configure(APPROVAL)
    scenario.write_items(
        row(BAKKERIJ, "i1", "2025-05-10", "200.00", issued="2025-04-10"),
        row(KOK, "i2", "2025-05-10", "200.00", issued="2025-04-10"),
        row(JAN, "i3", "2025-05-10", "200.00", issued="2025-04-10"),
    )
    scenario.run_at(local(2025, 5, 20))
    scenario.run_at(local(2025, 5, 21))


def key_of(scenario: Scenario, debtor: str) -> str:
    [action] = [a for a in scenario.actions() if a.debtor_key == debtor]
    return action.key


def test_review_lists_what_each_waiting_action_would_send(scenario):
    awaiting(scenario)

    listed = dunning("review")

    assert listed.exit_code == 0, listed.output
    assert scenario.sent == []
    blocks = listed.output.split("\n\n")[1:]
    expected = {
        "d1": (
            "Bakkerij de Vries B.V.",
            "  to: ap@bakkerij.example; invoices: 2026-i1 200.00",
            "  total: 240.61 EUR",
        ),
        "d2": (
            "Installatiebedrijf Kok",
            "  to: administratie@kok.example; invoices: 2026-i2 200.00",
            "  total: 240.61 EUR",
        ),
        "p1": (
            "Jan de Vries",
            "  to: jan@devries.example; invoices: 2026-i3 200.00",
            "  total: 200.00 EUR",
        ),
    }
    for debtor, (name, to, total) in expected.items():
        key = key_of(scenario, debtor)
        [block] = [b for b in blocks if b.startswith(key)]
        assert block.splitlines() == [f"{key} (awaiting_approval): {name}", to, total]


def test_an_approved_demand_is_sent_and_a_rejected_one_is_not(scenario):
    # Approved and rejected on Wednesday 21 May; the cycle at 11:00 sends the
    # approved demand with its costs and interest: € 240,61.
    awaiting(scenario)
    bakkerij, kok = key_of(scenario, "d1"), key_of(scenario, "d2")

    approved = dunning("review", "--approve", bakkerij[:12], "--by", "petra")
    rejected = dunning("review", "--reject", kok[:12], "--by", "petra")
    scenario.run_at(local(2025, 5, 21, 11))

    assert approved.output == f"{bakkerij}: approved\n"
    assert rejected.output == f"{kok}: rejected\n"
    [message] = scenario.sent
    assert message.rcpt_tos == ["ap@bakkerij.example"]
    assert "het totaalbedrag van € 240,61" in message.text
    states = {a.debtor_key: (a.state, a.reason) for a in scenario.actions()}
    assert states["d1"] == (State.DONE, "approved by petra")
    assert states["d2"] == (State.REJECTED, "rejected by petra")
    assert states["p1"][0] is State.AWAITING_APPROVAL


def test_approve_all_lets_every_waiting_action_go_out(scenario):
    awaiting(scenario)

    result = dunning("review", "--approve-all")
    scenario.run_at(local(2025, 5, 21, 11))

    assert result.exit_code == 0, result.output
    assert sorted(result.output.splitlines()) == sorted(
        f"{a.key}: approved" for a in scenario.actions()
    )
    assert sorted(m.rcpt_tos[0] for m in scenario.sent) == [
        "administratie@kok.example",
        "ap@bakkerij.example",
        "jan@devries.example",
    ]
    assert {a.state for a in scenario.actions()} == {State.DONE}
