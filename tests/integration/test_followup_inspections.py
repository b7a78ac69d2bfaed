"""Quality inspections: samples of resolved and closed cases by rule, scored on the checklist,
results per agent and department."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.events import new_event
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_handled

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = "2023-Q2"
CHECKLIST = {
    "identity_verified": True,
    "courtesy": 4,
    "accuracy": 5,
    "time_limit_kept": False,
    "followup_done": True,
}


@pytest.fixture
def system(own_system):
    """Draws sample every case of a period: each test has a system of its own."""
    own_system.run("followup", relay=False)
    return own_system


@pytest.fixture
def api(system):
    return system.client("followup")


@pytest.fixture
def supervisor(auth):
    return auth("supervisor", subject="sup-qa")


def seed_cases(cs_settings, db, period_year: int) -> dict[str, dict]:
    """Seven cases resolved in Q2 of the year (three complaints, one of them breached, one
    still open) and one resolved in Q3; returns case_id -> what was published."""
    made: dict[str, dict] = {}
    events = []
    for i in range(8):
        kind = "complaint" if i < 3 else "consultation"
        at = datetime(period_year, 5, 1 + i, 10, 0, tzinfo=SHANGHAI)
        if i == 7:
            at = datetime(period_year, 7, 2, 10, 0, tzinfo=SHANGHAI)
        agent = f"agent-qa-{i % 2}-{uuid.uuid4().hex[:4]}"
        department = f"DQ{i % 2}-{uuid.uuid4().hex[:4]}"
        opened = case_opened(kind=kind, agent_id=agent, opened_at=at)
        case_id = opened.data["case_id"]
        made[case_id] = {"kind": kind, "agent": agent, "department": department, "i": i}
        events.append(opened)
        if i == 6:
            continue  # never resolved
        events.append(
            new_event(
                "case.resolved",
                case_id,
                {
                    "case_id": case_id,
                    "kind": kind,
                    "category": "broadband",
                    "department": department,
                    "resolved_by": "staff-x",
                    "first_contact": False,
                    "opened_at": at,
                    "resolved_at": at + timedelta(hours=5),
                },
                source="/intake",
            )
        )
        if i == 1:
            events.append(
                new_event(
                    "sla.breached",
                    case_id,
                    {
                        "case_id": case_id,
                        "clock": "customer",
                        "department": department,
                        "assignee_id": None,
                        "due_at": at + timedelta(hours=2),
                        "breached_at": at + timedelta(hours=2),
                    },
                    source="/routing",
                )
            )
    publish(cs_settings, *events)
    for e in events:
        wait_handled(db, e.id)
    return made


def draw(api, supervisor, rule: str, size: int = 10, seed: int = 1, period: str = "") -> dict:
    r = api.post(
        "/inspections/draw",
        json={"rule": rule, "size": size, "seed": seed, "period": period},
        headers=supervisor,
    )
    assert r.status_code == 201, r.json
    return r.json


def test_rules_pick_breached_and_complaint_cases_of_the_period(system, api, supervisor):
    cases = seed_cases(system.settings, system.db("followup"), 2024)
    breached = draw(api, supervisor, "breached", period="2024-Q2")
    assert [cases[i["case_id"]]["i"] for i in breached["items"]] == [1]
    assert breached["items"][0]["case_breached"] is True
    complaints = draw(api, supervisor, "complaints", period="2024-Q2")
    # complaint 1 was drawn already: a case is inspected once
    assert sorted(cases[i["case_id"]]["i"] for i in complaints["items"]) == [0, 2]
    rest = draw(api, supervisor, "random", size=2, seed=9, period="2024-Q2")
    picked = [cases[i["case_id"]]["i"] for i in rest["items"]]
    assert len(picked) == 2 and set(picked) <= {3, 4, 5}
    item = complaints["items"][0]
    case = cases[item["case_id"]]
    assert item["agent_id"] == case["agent"] and item["department"] == case["department"]
    assert item["state"] == "drawn" and item["rule"] == "complaints"
    assert item["period"] == "2024-Q2"
    assert (
        api.post(
            "/inspections/draw",
            json={"rule": "loud", "size": 1, "period": "2024-Q2"},
            headers=supervisor,
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/inspections/draw",
            json={"rule": "random", "size": 1, "period": "Q2"},
            headers=supervisor,
        ).status_code
        == 422
    )


def test_scoring_and_results_per_agent_and_department(system, api, auth, supervisor):
    seed_cases(system.settings, system.db("followup"), 2023)
    item = draw(api, supervisor, "random", size=10, period=PERIOD)["items"][0]
    url = f"/inspections/{item['id']}/score"
    for bad in (
        {"checklist": dict(CHECKLIST, courtesy=6)},
        {"checklist": dict(CHECKLIST, identity_verified="yes")},
        {"checklist": {k: v for k, v in CHECKLIST.items() if k != "accuracy"}},
        {"checklist": dict(CHECKLIST, mood=3)},
    ):
        assert api.post(url, json=bad, headers=supervisor).status_code == 422, bad
    assert api.post(url, json={"checklist": CHECKLIST}, headers=auth("agent")).status_code == 403
    # not by whoever handled the case: the agent inspected, or its resolver
    for handler in (item["agent_id"], "staff-x"):
        r = api.post(
            url, json={"checklist": CHECKLIST}, headers=auth("supervisor", subject=handler)
        )
        assert r.status_code == 403 and "scored by someone else" in r.json["detail"], handler
    r = api.post(
        url,
        json={"checklist": CHECKLIST, "findings": "Did not read back the ETA"},
        headers=supervisor,
    )
    assert r.status_code == 200, r.json
    # (1 + 4/5 + 5/5 + 0 + 1) / 5 = 76 %
    assert r.json["score"] == 76.0 and r.json["state"] == "scored"
    assert api.post(url, json={"checklist": CHECKLIST}, headers=supervisor).status_code == 409
    agent = item["agent_id"]
    mine = api.get(f"/inspections?agent_id={agent}&state=scored", headers=supervisor).json
    assert [i["id"] for i in mine["items"]] == [item["id"]]
    # an agent sees their own inspections only
    own = api.get("/inspections", headers=auth("agent", subject=agent)).json
    assert {i["agent_id"] for i in own["items"]} == {agent}
    other = api.get("/inspections?agent_id=someone-else", headers=auth("agent", subject=agent))
    assert other.status_code == 403
    results = api.get(f"/inspections/results?period={PERIOD}", headers=supervisor).json
    assert {
        "agent_id": agent,
        "scored": 1,
        "mean_score": 76.0,
        "lowest": 76.0,
        "highest": 76.0,
    } in results["by_agent"]
    assert item["department"] in [d["department"] for d in results["by_department"]]


def test_a_department_head_reads_their_departments_inspections_only(system, api, auth, supervisor):
    cases = seed_cases(system.settings, system.db("followup"), 2022)
    drawn = draw(api, supervisor, "random", size=10, period="2022-Q2")["items"]
    mine = drawn[0]["department"]
    head = f"head-{uuid.uuid4().hex[:6]}"
    staff = new_event(
        "staff.upserted",
        head,
        {
            "staff_id": head,
            "display_name": head,
            "role": "department_head",
            "department": mine,
            "active": True,
        },
        source="/routing",
    )
    publish(system.settings, staff)
    wait_handled(system.db("followup"), staff.id)
    as_head = auth("department_head", subject=head)
    listed = api.get("/inspections", query_string={"per_page": 100}, headers=as_head).json
    assert {i["department"] for i in listed["items"]} == {mine}
    assert len(listed["items"]) == sum(1 for i in drawn if i["department"] == mine)
    other = next(i for i in drawn if i["department"] != mine)
    assert api.get(f"/inspections/{other['id']}", headers=as_head).status_code == 403
    assert api.get(f"/inspections/{drawn[0]['id']}", headers=as_head).status_code == 200
    refused = api.get(
        "/inspections", query_string={"department": other["department"]}, headers=as_head
    )
    assert refused.status_code == 403
    api.post(f"/inspections/{other['id']}/score", json={"checklist": CHECKLIST}, headers=supervisor)
    results = api.get("/inspections/results?period=2022-Q2", headers=as_head).json
    assert results["by_department"] == []  # only the other department has a score
    assert len(cases) == 8
