"""Followup's rules without servers: quarters, due dates, assignment, attempts, sampling,
questionnaires, the inspection checklist, improvement statuses."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.followup.domain import assignment, attempts, campaigns, improvements, inspections
from services.followup.domain.due import followup_due, package_calendar
from services.followup.domain.sampling import draw
from shared.periods import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")
COB = time(17, 30)


def test_quarters_are_shanghai_calendar_quarters():
    q = Period.parse("2026-Q4", kinds=("quarter",))
    assert (q.first_day, q.last_day) == (date(2026, 10, 1), date(2026, 12, 31))
    assert q.start == datetime(2026, 10, 1, tzinfo=SHANGHAI)
    assert q.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert (
        str(q.previous()) == "2026-Q3"
        and str(Period.parse("2026-Q1", kinds=("quarter",)).previous()) == "2025-Q4"
    )
    assert q.months() == ["2026-10", "2026-11", "2026-12"]
    # 2026-09-30 16:30 UTC is already 1 October in Shanghai
    assert Period.of(datetime(2026, 9, 30, 16, 30, tzinfo=UTC), "quarter") == q
    assert not q.contains(datetime(2026, 9, 30, 15, 59, tzinfo=UTC))
    for bad in ("2026-Q5", "2026Q4", "Q4-2026", ""):
        with pytest.raises(ValueError):
            Period.parse(bad, kinds=("quarter",))


@pytest.mark.parametrize(
    "resolved, days, due",
    [
        # a Tuesday: the next day
        (datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI), 1, datetime(2026, 11, 25, 17, 30)),
        # Friday night before the Spring Festival: Saturday 14 February is a makeup workday
        (datetime(2026, 2, 13, 20, 0, tzinfo=SHANGHAI), 1, datetime(2026, 2, 14, 17, 30)),
        (datetime(2026, 2, 13, 20, 0, tzinfo=SHANGHAI), 2, datetime(2026, 2, 24, 17, 30)),
        # the date counts in Shanghai: 17:00 UTC on Friday is already Saturday there
        (datetime(2026, 11, 27, 17, 0, tzinfo=UTC), 1, datetime(2026, 11, 30, 17, 30)),
        # National Day week: off 1–7 October, Saturday 10 October worked
        (datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI), 1, datetime(2026, 10, 8, 17, 30)),
        (datetime(2026, 10, 9, 12, 0, tzinfo=SHANGHAI), 1, datetime(2026, 10, 10, 17, 30)),
    ],
)
def test_followups_are_due_in_working_days(resolved, days, due):
    got = followup_due(resolved, days, package_calendar(), COB)
    assert got.due_at == due.replace(tzinfo=SHANGHAI) and got.provisional is False


def test_years_the_package_does_not_cover_are_provisional():
    got = followup_due(datetime(2027, 3, 2, 9, 0, tzinfo=SHANGHAI), 1, package_calendar(), COB)
    assert got.provisional is True and got.due_at == datetime(2027, 3, 3, 17, 30, tzinfo=SHANGHAI)
    with pytest.raises(ValueError):
        followup_due(datetime(2026, 3, 2, 9, 0), 1, package_calendar(), COB)
    with pytest.raises(ValueError):
        followup_due(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 0, package_calendar(), COB)


def test_the_least_loaded_agent_other_than_the_resolver_gets_the_call():
    loads = {"a-1": 3, "a-2": 1, "a-3": 1}
    assert assignment.pick_agent(loads, exclude="a-2") == "a-3"
    assert assignment.pick_agent(loads) == "a-2"
    assert assignment.pick_agent({"a-1": 0}, exclude="a-1") is None
    assert assignment.pick_agent({}) is None
    assert assignment.spread({"a": 0, "b": 1}, 4) == ["a", "a", "b", "a"]
    assert assignment.spread({}, 2) == [None, None]


def test_attempts_end_a_task_when_reached_or_after_the_limit():
    assert attempts.after_attempt("reached", True, 2, 3) == attempts.Ending(
        "completed", "confirmed"
    )
    assert attempts.after_attempt("reached", False, 0, 3).outcome == "unresolved"
    assert attempts.after_attempt("no_answer", None, 1, 3) is None
    assert attempts.after_attempt("wrong_number", None, 2, 3) == attempts.Ending(
        "unreachable", "unreachable"
    )
    assert attempts.attempt_problems("reached", {"solved": None}) == {
        "solved": ["say whether the customer's problem is solved"]
    }
    assert set(attempts.attempt_problems("no_answer", {"satisfaction": 4, "comment": "x"})) == {
        "satisfaction",
        "comment",
    }
    assert attempts.attempt_problems("reached", {"solved": False, "satisfaction": 1}) == {}


def test_samples_are_reproducible_whatever_order_the_candidates_come_in():
    people = [f"c-{i:02d}" for i in range(30)]
    shuffled = people[::-1] + people[:5]  # another order, with duplicates
    assert draw(people, 5, 42) == draw(shuffled, 5, 42)
    assert draw(people, 5, 42) == random.Random(42).sample(sorted(people), 5)
    assert draw(people, 5, 42) != draw(people, 5, 43)
    assert sorted(draw(people, 100, 1)) == people
    assert draw([], 3, 1) == []
    with pytest.raises(ValueError):
        draw(people, -1, 1)


QUESTIONS = [
    {"key": "overall", "type": "scale"},
    {"key": "recommend", "type": "yes_no"},
    {"key": "product", "type": "choice", "choices": ["tv", "broadband"]},
    {"key": "ideas", "type": "text"},
]


def test_questionnaires_and_answers_are_checked():
    assert campaigns.question_problems(QUESTIONS) == []
    assert campaigns.question_problems([{"key": "a", "type": "choice", "choices": ["x", "x"]}])
    assert campaigns.question_problems([{"key": "a", "type": "scale", "choices": ["x"]}])
    assert campaigns.question_problems(QUESTIONS + [QUESTIONS[0]])
    good = [
        {"question": "overall", "value": 5},
        {"question": "recommend", "value": False},
        {"question": "product", "value": "tv"},
        {"question": "ideas", "value": "evening slots", "topic": "visits", "department": "FIELD"},
    ]
    assert campaigns.answer_problems(QUESTIONS, good) == []
    assert campaigns.suggestions(good) == [good[3]]
    for bad in (
        {"question": "overall", "value": 0},
        {"question": "overall", "value": True},
        {"question": "recommend", "value": 1},
        {"question": "product", "value": "radio"},
        {"question": "ideas", "value": 5},
        {"question": "ideas", "value": "x", "topic": "visits"},
        {"question": "overall", "value": 3, "topic": "t", "department": "D"},
        {"question": "missing", "value": 1},
    ):
        assert campaigns.answer_problems(QUESTIONS, [bad]), bad
    assert campaigns.answer_problems(QUESTIONS, [good[0], good[0]])
    # an unanswered question is no problem, an untagged text no suggestion
    assert campaigns.answer_problems(QUESTIONS, [{"question": "ideas", "value": None}]) == []
    assert campaigns.suggestions([{"question": "ideas", "value": "x"}]) == []


def test_the_inspection_checklist_scores_each_item_the_same():
    full = {
        "identity_verified": True,
        "courtesy": 5,
        "accuracy": 5,
        "time_limit_kept": True,
        "followup_done": True,
    }
    assert inspections.score(full) == 100.0
    assert inspections.score(dict(full, courtesy=4, time_limit_kept=False)) == 76.0
    assert inspections.checklist_problems(full) == {}
    problems = inspections.checklist_problems(
        {"identity_verified": 1, "courtesy": 6, "accuracy": True, "extra": 1}
    )
    assert set(problems) == {
        "identity_verified",
        "courtesy",
        "accuracy",
        "time_limit_kept",
        "followup_done",
        "extra",
    }


def test_improvement_statuses_move_forward_and_closed_is_final():
    improvements.check_move("open", "in_progress")
    improvements.check_move("in_progress", "in_progress")  # a progress note
    improvements.check_move("done", "in_progress")  # verification failed
    improvements.check_move("verified", "closed")
    for current, new in (("open", "verified"), ("in_progress", "open"), ("closed", "closed")):
        with pytest.raises(improvements.IllegalStatus):
            improvements.check_move(current, new)
