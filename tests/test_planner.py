"""The planner, case by case, with every date and amount worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.domain import DebtorKind, Hold, HoldKind
from connector.planner import Plan, action_key, plan_actions
from connector.policy import Policy
from connector.store import State, StepRecord
from tests.factories import debtor, invoice, make_policy

REMINDER_ONLY = "- {id: reminder, after: 3 days past due, email: reminder}"


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return make_policy(tmp_path)


def plan(policy, invoices, today, *, debtors=None, holds=(), progress=None) -> Plan:
    found = {d.key: d for d in (debtors or [debtor()])}
    return plan_actions("acme", found, invoices, holds, progress or {}, policy, today)


def done(step: str, on: date, state: State = State.DONE) -> dict[str, StepRecord]:
    return {step: StepRecord(state, on)}


def test_an_invoice_due_today_is_not_overdue(policy):
    # Due Thursday 2026-12-03; the reminder falls due 3 days later.
    result = plan(
        policy, [invoice("i1", date(2026, 12, 3), "100.00")], date(2026, 12, 3)
    )
    assert result.actions == []


def test_the_reminder_falls_due_three_days_past_the_due_date(policy):
    # Due Monday 2026-11-30 + 3 days = Thursday 2026-12-03.
    inv = invoice("i1", date(2026, 11, 30), "100.00")
    assert plan(policy, [inv], date(2026, 12, 2)).actions == []
    actions = plan(policy, [inv], date(2026, 12, 3)).actions
    assert [(a.step.id, a.scheduled_on, a.late) for a in actions] == [
        ("reminder", date(2026, 12, 3), False)
    ]


def test_a_reminder_due_on_a_saturday_goes_out_on_monday(policy):
    # Due Wednesday 2026-12-02 + 3 = Saturday 2026-12-05 -> Monday 2026-12-07.
    inv = invoice("i1", date(2026, 12, 2), "100.00")
    assert plan(policy, [inv], date(2026, 12, 5)).actions == []
    assert plan(policy, [inv], date(2026, 12, 6)).actions == []
    actions = plan(policy, [inv], date(2026, 12, 7)).actions
    assert actions[0].scheduled_on == date(2026, 12, 7)
    assert not actions[0].late


def test_a_reminder_due_on_easter_monday_goes_out_on_tuesday(policy):
    # Easter Monday 2027 is 29 March. Due Friday 2027-03-26 + 3 = Monday 29 March.
    inv = invoice("i1", date(2027, 3, 26), "100.00")
    assert plan(policy, [inv], date(2027, 3, 29)).actions == []
    actions = plan(policy, [inv], date(2027, 3, 30)).actions
    assert actions[0].scheduled_on == date(2027, 3, 30)


def test_a_moved_step_and_the_step_after_it_are_not_taken_on_the_same_day(tmp_path):
    # reminder: 3 days past due; call: 5 days past due. Due Wednesday 2026-12-02:
    # reminder Saturday 5 Dec -> Monday 7 Dec; call Monday 7 Dec, but the reminder
    # was taken that day, so the call moves to Tuesday 8 Dec.
    policy = make_policy(
        tmp_path,
        "- {id: reminder, after: 3 days past due, email: reminder}\n"
        "- {id: call, after: 5 days past due, task: call}\n",
    )
    inv = invoice("i1", date(2026, 12, 2), "100.00")
    taken = {"i1": done("reminder", date(2026, 12, 7))}
    assert plan(policy, [inv], date(2026, 12, 7), progress=taken).actions == []
    actions = plan(policy, [inv], date(2026, 12, 8), progress=taken).actions
    assert [(a.step.id, a.scheduled_on) for a in actions] == [
        ("call", date(2026, 12, 8))
    ]


def test_a_step_already_taken_is_never_planned_again(policy):
    inv = invoice("i1", date(2026, 11, 30), "100.00")
    taken = {"i1": done("reminder", date(2026, 12, 3))}
    assert plan(policy, [inv], date(2026, 12, 4), progress=taken).actions == []


def test_the_next_step_waits_while_the_one_before_is_not_finished(policy):
    inv = invoice("i1", date(2026, 11, 20), "100.00")
    taken = {"i1": done("reminder", date(2026, 11, 23), State.AWAITING_APPROVAL)}
    result = plan(policy, [inv], date(2026, 12, 3), progress=taken)
    assert result.actions == []
    assert result.skips[0].reason == "waiting: step reminder is awaiting_approval"


def test_downtime_is_caught_up_late_and_the_next_step_keeps_its_own_date(policy):
    # Due Monday 2026-11-30: reminder due Thursday 3 Dec. Down from 2 Dec to 7 Dec.
    inv = invoice("i1", date(2026, 11, 30), "100.00")
    first = plan(policy, [inv], date(2026, 12, 7)).actions
    assert [(a.step.id, a.scheduled_on, a.late) for a in first] == [
        ("reminder", date(2026, 12, 3), True)
    ]
    # The call is 8 days past due: Tuesday 8 Dec, its own date, not shifted.
    taken = {"i1": done("reminder", date(2026, 12, 7))}
    second = plan(policy, [inv], date(2026, 12, 8), progress=taken).actions
    assert [(a.step.id, a.scheduled_on, a.late) for a in second] == [
        ("call", date(2026, 12, 8), False)
    ]


def test_a_step_after_another_counts_from_the_day_that_step_was_taken(policy):
    # second = 7 days after reminder; reminder taken Monday 7 Dec -> Monday 14 Dec.
    inv = invoice("i1", date(2026, 11, 30), "100.00")
    taken = {
        "i1": {
            **done("reminder", date(2026, 12, 7)),
            **done("call", date(2026, 12, 8)),
        }
    }
    assert plan(policy, [inv], date(2026, 12, 11), progress=taken).actions == []
    actions = plan(policy, [inv], date(2026, 12, 14), progress=taken).actions
    assert [(a.step.id, a.scheduled_on) for a in actions] == [
        ("second", date(2026, 12, 14))
    ]


def test_a_debtor_gets_one_message_listing_each_invoice_with_its_own_amount(policy):
    invoices = [
        invoice("i1", date(2026, 11, 20), "100.00"),
        invoice("i2", date(2026, 11, 25), "250.50"),
    ]
    actions = plan(policy, invoices, date(2026, 12, 3)).actions
    assert len(actions) == 1
    assert [(i.key, i.open_amount) for i in actions[0].invoices] == [
        ("i1", Decimal("100.00")),
        ("i2", Decimal("250.50")),
    ]
    assert actions[0].total_open == Decimal("350.50")
    assert actions[0].late  # i1's reminder was due on 23 Nov


def test_a_credit_note_that_covers_the_invoice_means_no_reminder(policy):
    invoices = [
        invoice("i1", date(2026, 11, 20), "500.00"),
        invoice("c1", date(2026, 11, 1), "-500.00"),
    ]
    result = plan(policy, invoices, date(2026, 12, 3))
    assert result.actions == []
    assert [(s.invoice_key, s.reason) for s in result.skips] == [
        ("i1", "covered by credit")
    ]


def test_an_open_credit_note_is_netted_and_listed(policy):
    invoices = [
        invoice("i1", date(2026, 11, 20), "500.00"),
        invoice("c1", date(2026, 11, 1), "-200.00"),
    ]
    (action,) = plan(policy, invoices, date(2026, 12, 3)).actions
    assert [c.key for c in action.credit_notes] == ["c1"]
    assert action.total_open == Decimal("300.00")


def test_a_partly_paid_invoice_is_chased_for_what_is_still_open(policy):
    inv = invoice("i1", date(2026, 11, 20), "710.00", total="1210.00")
    (action,) = plan(policy, [inv], date(2026, 12, 3)).actions
    assert action.total_open == Decimal("710.00")


def test_an_invoice_below_the_minimum_is_skipped_with_a_reason(policy):
    result = plan(
        policy, [invoice("i1", date(2026, 11, 20), "4.99")], date(2026, 12, 3)
    )
    assert result.actions == []
    assert result.skips[0].reason == "below minimum open amount 5.00"


def test_an_invoice_on_hold_is_skipped_with_the_hold_as_reason(policy):
    hold = Hold(1, HoldKind.DISPUTE, "wrong delivery", "controller", invoice_key="i1")
    inv = invoice("i1", date(2026, 11, 20), "100.00")
    result = plan(policy, [inv], date(2026, 12, 3), holds=[hold])
    assert result.actions == []
    assert result.skips[0].reason == "on hold: dispute (wrong delivery)"


def test_a_hold_that_ran_out_no_longer_applies(policy):
    hold = Hold(
        1,
        HoldKind.PROMISE,
        "pays Friday",
        "cc",
        debtor_key="d1",
        until=date(2026, 12, 2),
    )
    inv = invoice("i1", date(2026, 11, 20), "100.00")
    assert len(plan(policy, [inv], date(2026, 12, 3), holds=[hold]).actions) == 1


def test_an_excluded_segment_is_skipped_with_its_name(tmp_path):
    policy = make_policy(tmp_path)
    from connector.policy import Segment, SegmentMatch

    segments = (
        Segment(name="no-dunning", when=SegmentMatch(tag="no-dunning"), exclude=True),
        *policy.segments,
    )
    policy = policy.model_copy(update={"segments": segments})
    d = debtor(tags=frozenset({"no-dunning"}))
    result = plan(
        policy,
        [invoice("i1", date(2026, 11, 20), "100.00")],
        date(2026, 12, 3),
        debtors=[d],
    )
    assert result.skips[0].reason == "excluded by segment no-dunning"


def test_a_step_whose_condition_fails_is_passed_over(tmp_path):
    # The call applies from 250.00 only; a 100.00 invoice goes from reminder to second.
    policy = make_policy(
        tmp_path,
        "- {id: reminder, after: 3 days past due, email: reminder}\n"
        "- {id: call, after: 4 days past due, task: call,"
        " when: {min_open_amount: 250}}\n"
        "- {id: second, after: 7 days after reminder, email: second_reminder}\n",
    )
    inv = invoice("i1", date(2026, 11, 30), "100.00")
    taken = {"i1": done("reminder", date(2026, 12, 3))}
    assert plan(policy, [inv], date(2026, 12, 4), progress=taken).actions == []
    actions = plan(policy, [inv], date(2026, 12, 10), progress=taken).actions
    assert [a.step.id for a in actions] == ["second"]


def test_a_step_for_businesses_only_is_passed_over_for_a_consumer(tmp_path):
    policy = make_policy(
        tmp_path,
        "- {id: call, after: 3 days past due, task: call,"
        " when: {debtor_kind: business}}\n"
        "- {id: reminder, after: 4 days past due, email: reminder}\n",
    )
    person = debtor(kind=DebtorKind.PERSON)
    actions = plan(
        policy,
        [invoice("i1", date(2026, 11, 30), "100.00")],
        date(2026, 12, 4),
        debtors=[person],
    ).actions
    assert [a.step.id for a in actions] == ["reminder"]


def test_a_debtor_without_an_email_address_is_skipped_for_an_email_step(policy):
    d = debtor(emails=())
    result = plan(
        policy,
        [invoice("i1", date(2026, 11, 20), "100.00")],
        date(2026, 12, 3),
        debtors=[d],
    )
    assert result.skips[0].reason == "no email address"


def test_action_keys_are_the_same_for_the_same_inputs_in_any_order():
    assert action_key("s", "d", "reminder", ["b", "a"]) == action_key(
        "s", "d", "reminder", ["a", "b"]
    )
    assert action_key("s", "d", "reminder", ["a"]) != action_key(
        "s", "d", "call", ["a"]
    )


def test_a_credit_note_is_netted_in_one_message_only(tmp_path):
    # Two steps due the same day for one debtor: the reminder for i2 (due 30 Nov,
    # 3 days -> 3 Dec) and the second reminder for i1 (reminder taken 26 Nov,
    # 7 days later -> 3 Dec). The -100.00 credit goes with the earlier step of
    # the plan only: reminder 300.00 - 100.00 = 200.00, second reminder 300.00.
    policy = make_policy(
        tmp_path,
        "- {id: reminder, after: 3 days past due, email: reminder}\n"
        "- {id: second, after: 7 days after reminder, email: second_reminder}\n",
    )
    invoices = [
        invoice("i1", date(2026, 11, 23), "300.00"),
        invoice("i2", date(2026, 11, 30), "300.00"),
        invoice("c1", date(2026, 11, 1), "-100.00"),
    ]
    taken = {"i1": done("reminder", date(2026, 11, 26))}
    actions = plan(policy, invoices, date(2026, 12, 3), progress=taken).actions
    asked = {a.step.id: (a.total_open, len(a.credit_notes)) for a in actions}
    assert asked == {
        "reminder": (Decimal("200.00"), 1),
        "second": (Decimal("300.00"), 0),
    }
