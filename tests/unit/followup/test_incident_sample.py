"""Follow-up calls for a sample of an incident's cases, decided one resolution at a time (moved
here from routing, which never used it): the floor first, then a stable share."""

from __future__ import annotations

import random

import pytest

from services.followup.domain.incident_sample import (
    Reason,
    SamplePolicy,
    decide,
    fraction,
    sampled,
)


def stream(incident_id: str, case_ids: list[str], policy: SamplePolicy) -> list[str]:
    """What followup does: each resolution decided as it arrives, against the calls so far."""
    called: list[str] = []
    for case_id in case_ids:
        if sampled(incident_id, case_id, len(called), policy):
            called.append(case_id)
    return called


def test_the_first_cases_are_called_up_to_the_floor_then_a_share():
    policy = SamplePolicy(share=0.10, at_least=5)
    many = [f"C-{i:05d}" for i in range(1000)]
    called = stream("INC-1", many, policy)
    assert called[:5] == many[:5]  # the floor, whatever their hashes
    # after the floor, about a tenth: a binomial count well within these bounds
    assert 60 <= len(called) <= 150
    hashed = [c for c in many[5:] if fraction("INC-1", c) < 0.10]
    assert called[5:] == hashed


def test_a_small_incident_gets_its_floor_and_never_more_than_all():
    policy = SamplePolicy()
    assert stream("INC-1", ["C-1", "C-2", "C-3"], policy) == ["C-1", "C-2", "C-3"]
    assert stream("INC-1", [], policy) == []
    few = [f"C-{i}" for i in range(31)]
    assert 5 <= len(stream("INC-1", few, policy)) < 31


@pytest.mark.parametrize("seed", range(5))
def test_any_arrival_order_calls_at_least_the_floor_and_the_same_hashed_cases(seed):
    policy = SamplePolicy(share=0.2, at_least=5)
    many = [f"C-{i:04d}" for i in range(300)]
    shuffled = many[:]
    random.Random(seed).shuffle(shuffled)
    called = stream("INC-7", shuffled, policy)
    assert len(called) >= 5
    # every case whose hash lies below the share is called, whenever it came
    assert {c for c in many if fraction("INC-7", c) < 0.2} <= set(called)
    # and the others only through the floor, which the first five arrivals fill
    assert set(called) - {c for c in many if fraction("INC-7", c) < 0.2} <= set(shuffled[:5])


def test_the_hash_is_stable_spread_and_differs_between_incidents():
    assert fraction("INC-1", "C-1") == fraction("INC-1", "C-1")
    assert 0 <= fraction("INC-1", "C-1") < 1
    assert fraction("INC-1", "C-1") != fraction("INC-2", "C-1")
    values = [fraction("INC-1", f"C-{i}") for i in range(2000)]
    assert 0.4 < sum(values) / len(values) < 0.6


def test_the_reason_says_why():
    policy = SamplePolicy(share=0.0, at_least=1)
    assert decide("INC-1", "C-1", 0, policy) is Reason.FLOOR
    assert decide("INC-1", "C-2", 1, policy) is Reason.NOT_SAMPLED
    assert decide("INC-1", "C-2", 1, SamplePolicy(share=1.0, at_least=1)) is Reason.SHARE
    # no floor and no share: nobody is called; all of them: everybody
    assert stream("INC-1", ["C-1", "C-2"], SamplePolicy(share=0.0, at_least=0)) == []
    assert stream("INC-1", ["C-1", "C-2"], SamplePolicy(share=1.0, at_least=0)) == ["C-1", "C-2"]


@pytest.mark.parametrize("kw", [{"share": 1.5}, {"share": -0.1}, {"at_least": -1}])
def test_a_sampling_that_cannot_work_is_refused(kw):
    with pytest.raises(ValueError):
        SamplePolicy(**kw)
