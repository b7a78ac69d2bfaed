"""A burst: at least max(min_cases, factor × median of the same window in past weeks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.routing.domain.incident_detection import (
    BurstEvidence,
    DetectionPolicy,
    assess_burst,
    ceil_count,
)

NOW = datetime(2026, 12, 3, 19, 30, tzinfo=UTC)
POLICY = DetectionPolicy()


def ids(n: int) -> list[str]:
    return [f"C-{i:03d}" for i in range(n)]


def assess(case_ids, history, policy=POLICY):
    return assess_burst(
        policy, region="Daxing", category="broadband", now=NOW, case_ids=case_ids, history=history
    )


def test_defaults_follow_the_issue():
    policy = (POLICY.window, POLICY.factor, POLICY.min_cases, POLICY.weeks)
    assert policy == (timedelta(minutes=10), 5.0, 20, 4)


def test_a_fresh_region_needs_the_floor_of_twenty():
    assert assess(ids(19), []) is None
    evidence = assess(ids(20), [])
    assert evidence is not None
    assert (evidence.count, evidence.threshold, evidence.baseline_median) == (20, 20, 0.0)


def test_zero_history_is_the_floor_too():
    assert assess(ids(19), [0, 0, 0, 0]) is None
    assert assess(ids(20), [0, 0, 0, 0]) is not None


def test_the_acceptance_burst_of_thirty_is_one():
    assert assess(ids(30), []) is not None


def test_a_busy_region_needs_five_times_its_median():
    history = [6, 8, 40, 7]  # one week's outage (40) does not lift the median (7.5)
    assert POLICY.threshold(history) == 38
    assert assess(ids(37), history) is None
    assert assess(ids(38), history) is not None


def test_a_quiet_region_keeps_the_floor_when_five_times_its_median_is_lower():
    assert POLICY.threshold([2, 3, 3, 4]) == 20


def test_the_threshold_rounds_up_to_whole_cases():
    policy = DetectionPolicy(factor=3.0, min_cases=1)
    assert policy.threshold([2, 3]) == 8  # 3 × 2.5 = 7.5 → 8 cases
    assert ceil_count(0.1 * 30) == 3


def test_evidence_names_the_window_the_counts_and_the_cases():
    evidence = assess([*ids(25), "C-000"], [1, 2, 3])
    assert evidence == BurstEvidence(
        region="Daxing",
        category="broadband",
        window_start=NOW - timedelta(minutes=10),
        window_end=NOW,
        count=25,
        baseline_median=2.0,
        threshold=20,
        case_ids=tuple(ids(25)),
    )
    assert evidence.as_json()["window_start"] == "2026-12-03T19:20:00+00:00"
    assert evidence.as_json()["case_ids"][:2] == ["C-000", "C-001"]


def test_history_windows_are_the_same_time_in_past_weeks():
    policy = DetectionPolicy(weeks=2, window=timedelta(minutes=15))
    assert policy.history_windows(NOW) == [
        (NOW - timedelta(days=7, minutes=15), NOW - timedelta(days=7)),
        (NOW - timedelta(days=14, minutes=15), NOW - timedelta(days=14)),
    ]
    assert policy.window_ending(NOW) == (NOW - timedelta(minutes=15), NOW)


def test_more_history_than_the_policy_looks_at_is_a_mistake():
    with pytest.raises(ValueError, match="5 counts"):
        assess(ids(30), [1, 1, 1, 1, 1])


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        assess(ids(30), [1, -1])


@pytest.mark.parametrize(
    "kw",
    [{"window": timedelta(0)}, {"factor": 0}, {"min_cases": 0}, {"weeks": 0}],
)
def test_a_policy_that_cannot_work_is_refused(kw):
    with pytest.raises(ValueError):
        DetectionPolicy(**kw)
