"""R-23 with R-32: a month's pay does not depend on the order the decisions behind it arrive in.

Each upstream decision (a grade, a correction, a worker's disposition) becomes a rate through
domain/decisions.py and the pay account's decider; which rate is in force on a day is decided over
the set of them (domain/in_force.py). Pure: plain values, no server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.compensation.domain.account import PAY_ACCOUNT, rate_on, rates_in_month
from services.compensation.domain.decisions import grade_decision
from services.compensation.domain.in_force import in_force_on
from services.compensation.domain.payslip import MonthInputs, compute_payslip

from .support import HQ, POLICY, PRODUCTION

FIRST_DAY = date(2026, 2, 20)
GRADES = [
    ("technician", "junior"),
    ("technician", "senior"),
    ("engineer", "junior"),
    ("engineer", "intermediate"),
    ("engineer", "senior"),
    (None, None),
]


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def graded(day, grade=("engineer", "junior"), supersedes=None, hour=10):
    position, level = grade
    data = {
        "trainee_id": "e-1",
        "position": position,
        "level": level,
        "assigned_at": at(day, hour).isoformat(),
        "supersedes": None if supersedes is None else str(supersedes[2]),
    }
    return ("GradeAssigned", data, uuid.uuid4(), at(day, hour))


def failed(day, supersedes, hour=10):
    data = {
        "trainee_id": "e-1",
        "assessed_at": at(day, hour).isoformat(),
        "supersedes": str(supersedes[2]),
    }
    return ("AssessmentFailed", data, uuid.uuid4(), at(day, hour))


def to_reserve(day, hour=10):
    data = {"trainee_id": "e-1", "outcome": "reserve", "decided_on": day.isoformat()}
    return ("DispositionDecided", data, uuid.uuid4(), at(day, hour))


def account_of(events, category=HQ):
    """The pay account after the consumer applied ``events`` in the order given."""
    state = PAY_ACCOUNT.initial()
    for event in events:
        decision = grade_decision(*event)
        if decision is not None:
            state = PAY_ACCOUNT.fold(PAY_ACCOUNT.decide(decision.command(category), state), state)
    return state


def pay(events, month, category=HQ):
    account = account_of(events, category)
    return compute_payslip(month, rates_in_month(account, month), MonthInputs(), POLICY)


def grade_of(account, day):
    rate = rate_on(account, day)
    return None if rate is None else rate.grade_event_id


# --- Given/When/Then on the derivation -------------------------------------------------------


def test_r23_a_correction_recorded_before_its_original_takes_effect_from_the_originals_day():
    original = graded(date(2026, 3, 5))
    correction = graded(date(2026, 4, 16), ("engineer", "senior"), supersedes=original)
    # Given the correction arrived first, When the original arrives
    account = account_of([correction, original])
    # Then the correction is in force from the original's day, and the original never is
    assert grade_of(account, date(2026, 3, 5)) == correction[2]
    assert grade_of(account, date(2026, 3, 4)) is None
    entry = in_force_on(account.rates, date(2026, 4, 1))
    assert entry is not None and entry.effective_from == date(2026, 3, 5)


def test_r23_a_chain_of_corrections_takes_effect_from_the_first_decisions_day():
    original = graded(date(2026, 3, 5))
    first = graded(date(2026, 4, 1), ("engineer", "senior"), supersedes=original)
    second = failed(date(2026, 4, 20), supersedes=first)
    for order in ([second, first, original], [original, second, first]):
        account = account_of(order)
        assert grade_of(account, date(2026, 3, 5)) == second[2]  # reserve from March 5th


def test_r32_decisions_effective_the_same_day_the_one_decided_last_wins_whatever_the_order():
    morning = graded(date(2026, 4, 2), ("technician", "junior"), hour=9)
    afternoon = to_reserve(date(2026, 4, 2), hour=15)
    for order in ([morning, afternoon], [afternoon, morning]):
        assert grade_of(account_of(order), date(2026, 4, 2)) == afternoon[2]


def test_r32_an_independent_later_grade_still_wins_from_its_own_day():
    original = graded(date(2026, 3, 5))
    corrected = graded(date(2026, 4, 16), ("engineer", "senior"), supersedes=original)
    promoted = graded(date(2026, 4, 10), ("technician", "senior"))  # another session
    account = account_of([promoted, corrected, original])
    assert grade_of(account, date(2026, 4, 9)) == corrected[2]
    assert grade_of(account, date(2026, 4, 10)) == promoted[2]


# --- the property ----------------------------------------------------------------------------


@st.composite
def histories(draw):
    """An employee's decisions: independent grades and worker's dispositions, and chains of
    corrections (each correcting the current decision of its chain, on its day or later)."""
    events, heads = [], []
    for _ in range(draw(st.integers(1, 3))):
        day = FIRST_DAY + timedelta(days=draw(st.integers(0, 70)))
        hour = draw(st.integers(0, 23))
        root = to_reserve(day, hour) if draw(st.booleans()) and events else None
        root = root or graded(day, draw(st.sampled_from(GRADES)), hour=hour)
        events.append(root)
        heads.append((root, day))
    for _ in range(draw(st.integers(0, 4))):
        k = draw(st.integers(0, len(heads) - 1))
        head, day = heads[k]
        if head[0] != "GradeAssigned":
            continue  # assessment disputes grades only: not dispositions, not failures
        day += timedelta(days=draw(st.integers(0, 30)))
        hour = draw(st.integers(0, 23))
        if draw(st.integers(0, 3)) == 0:
            correction = failed(day, supersedes=head, hour=hour)
        else:
            correction = graded(day, draw(st.sampled_from(GRADES)), supersedes=head, hour=hour)
        events.append(correction)
        heads[k] = (correction, day)
    return events


@settings(max_examples=150, deadline=None)
@given(data=st.data(), events=histories(), category=st.sampled_from([HQ, PRODUCTION]))
def test_r23_r32_a_months_pay_is_the_same_whatever_order_its_decisions_arrive_in(
    data, events, category
):
    arrived = data.draw(st.permutations(events), label="arrival order")
    for month in ("2026-03", "2026-04", "2026-05"):
        assert pay(arrived, month, category) == pay(events, month, category), month
