"""Who in a department gets the item: qualified, least-loaded, then round-robin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.routing.domain.assignment import Candidate, choose_assignee, qualifies

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def staff(staff_id: str, **kw) -> Candidate:
    return Candidate(staff_id, kw.pop("role", "department_staff"), **kw)


def choose(candidates, category="broadband", region="Haidian", exclude=()):
    return choose_assignee(candidates, category=category, region=region, exclude=exclude)


def test_the_least_loaded_member_gets_it():
    assert choose([staff("S-1", open_items=3), staff("S-2", open_items=1)]) == "S-2"


def test_ties_go_to_the_one_assigned_longest_ago_never_assigned_first():
    a = staff("S-1", last_assigned_at=T0)
    b = staff("S-2", last_assigned_at=T0 - timedelta(hours=1))
    c = staff("S-3")
    assert choose([a, b, c]) == "S-3"
    assert choose([a, b]) == "S-2"


def test_full_ties_go_by_staff_id():
    assert choose([staff("S-9"), staff("S-2"), staff("S-5")]) == "S-2"
    at = T0
    assert choose([staff("B", last_assigned_at=at), staff("A", last_assigned_at=at)]) == "A"


def test_load_comes_before_turn():
    busy_but_waiting = staff("S-1", open_items=2, last_assigned_at=T0 - timedelta(days=3))
    free = staff("S-2", open_items=0, last_assigned_at=T0)
    assert choose([busy_but_waiting, free]) == "S-2"


def test_skills_and_regions_must_cover_the_case_empty_means_any():
    assert qualifies(staff("S"), category="broadband", region="Haidian")
    assert qualifies(staff("S", skills=("Broadband",)), category="broadband", region="Haidian")
    assert not qualifies(staff("S", skills=("billing",)), category="broadband", region="Haidian")
    assert qualifies(staff("S", regions=("Haidian", "Xicheng")), category="x", region="haidian")
    assert not qualifies(staff("S", regions=("Chaoyang",)), category="x", region="Haidian")
    assert not qualifies(staff("S", regions=("Chaoyang",)), category="x", region=None)


def test_only_active_staff_and_heads_take_work():
    assert qualifies(staff("S", role="department_head"), category="x", region="y")
    assert not qualifies(staff("S", role="agent"), category="x", region="y")
    assert not qualifies(staff("S", role="supervisor"), category="x", region="y")
    assert not qualifies(staff("S", active=False), category="x", region="y")


def test_an_unqualified_member_is_skipped_even_when_idle():
    idle_billing = staff("S-1", skills=("billing",))
    busy_broadband = staff("S-2", skills=("broadband",), open_items=5)
    assert choose([idle_billing, busy_broadband]) == "S-2"


def test_excluded_members_and_nobody_qualifying():
    assert choose([staff("S-1"), staff("S-2", open_items=4)], exclude=("S-1",)) == "S-2"
    assert choose([staff("S-1")], exclude=("S-1",)) is None
    assert choose([staff("S-1", regions=("Chaoyang",))]) is None
    assert choose([]) is None
