"""Incentives: a run nominates exactly the qualifying staff with their evidence, once; an
approval grants the award and emits one `award.granted`; a rejection is kept with its reason;
the ledger is append-only."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from shared.events import Event, new_event, parse_event
from shared.testing.problems import invalid_fields
from shared.testing.waiting import publish_and_wait

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = "2025-Q3"


@pytest.fixture
def consumer(run_service):
    return run_service("training", relay=False)


def staff_event(staff_id: str, active: bool = True) -> Event:
    data = {
        "staff_id": staff_id,
        "display_name": f"Agent {staff_id}",
        "role": "agent",
        "department": "HOTLINE",
        "active": active,
    }
    return new_event("staff.upserted", staff_id, data, source="/routing")


def handled_case(staff: str, day: int, satisfaction: int | None) -> list[Event]:
    """A case `staff` resolved in August 2025 and, if scored, its follow-up."""
    case = f"case-{uuid.uuid4().hex[:8]}"
    when = datetime(2025, 8, day, 10, tzinfo=SHANGHAI)
    events = [
        new_event(
            "case.resolved",
            case,
            {
                "case_id": case,
                "kind": "consultation",
                "category": "billing",
                "department": None,
                "resolved_by": staff,
                "first_contact": True,
                "opened_at": when,
                "resolved_at": when,
            },
            source="/intake",
        )
    ]
    if satisfaction is not None:
        events.append(
            new_event(
                "followup.completed",
                case,
                {
                    "followup_id": str(uuid.uuid4()),
                    "case_id": case,
                    "outcome": "confirmed",
                    "satisfaction": satisfaction,
                    "agent_id": "caller-1",
                    "department": None,
                    "completed_at": when.replace(hour=16),
                },
                source="/followup",
            )
        )
    return events


def award_events(service_db, staff: str) -> list[Event]:
    with service_db("training").transaction() as tx:
        rows = tx.execute(
            "SELECT body FROM outbox WHERE type = 'award.granted' AND subject = %s", (staff,)
        ).fetchall()
    return [parse_event(r[0].encode()) for r in rows]


def test_a_run_nominates_the_qualifying_staff_and_decisions_are_kept(
    client, auth, cs_settings, service_db, consumer
):
    training, db = client("training"), service_db("training")
    supervisor = auth("supervisor", subject="sup-9")
    run = uuid.uuid4().hex[:6]
    best, unhappy, few, also, gone = (
        f"{p}-{run}" for p in ("best", "unhappy", "few", "also", "gone")
    )
    seeded = {
        best: [5, 4, None],  # 3 cases, mean 4.5 over 2 follow-ups: qualifies
        unhappy: [3, 3],  # mean 3: does not
        few: [5],  # one case: too few
        also: [5, 5],  # qualifies
        gone: [5, 5],  # would qualify, but has left
    }
    for staff, scores in seeded.items():
        publish_and_wait(cs_settings, db, staff_event(staff, active=staff != gone))
        for day, score in enumerate(scores, start=1):
            for e in handled_case(staff, day, score):
                publish_and_wait(cs_settings, db, e)

    rule = {
        "code": f"STAR-{run}",
        "name": "Service star",
        "period_kind": "quarter",
        "conditions": [
            {"figure": "cases_handled", "op": ">=", "value": 2},
            {"figure": "satisfaction_mean", "op": ">=", "value": 4, "min_events": 2},
        ],
    }
    r = training.post("/incentive-rules", json=rule, headers=supervisor)
    assert r.status_code == 201, r.json
    assert r.json["active"] is True and r.json["conditions"][1]["min_events"] == 2
    assert training.post("/incentive-rules", json=rule, headers=supervisor).status_code == 409
    # a monthly rule does not take part in a quarter's run
    monthly = dict(rule, code=f"MONTH-{run}", period_kind="month")
    assert training.post("/incentive-rules", json=monthly, headers=supervisor).status_code == 201

    r = training.post("/incentive-runs", json={"period": PERIOD}, headers=supervisor)
    assert r.status_code == 201, r.json
    ours = {n["staff_id"]: n for n in r.json["nominations"] if n["rule_code"] == rule["code"]}
    assert set(ours) == {best, also}
    assert not [n for n in r.json["nominations"] if n["rule_code"] == monthly["code"]]
    evidence = ours[best]["evidence"]
    assert [(c["figure"], c["actual"], c["events"], c["met"]) for c in evidence["conditions"]] == [
        ("cases_handled", 3, 3, True),
        ("satisfaction_mean", 4.5, 2, True),
    ]
    assert evidence["figures"]["satisfaction_count"] == {"value": 2, "events": 2}
    assert ours[best]["status"] == "pending" and ours[best]["period"] == PERIOD

    # once per rule, staff member and period
    again = training.post("/incentive-runs", json={"period": PERIOD}, headers=supervisor).json
    assert {n["id"] for n in again["nominations"] if n["rule_code"] == rule["code"]} == {
        n["id"] for n in ours.values()
    }
    listed = training.get(f"/nominations?rule_code={rule['code']}", headers=supervisor).json
    assert len(listed["items"]) == 2

    # approval: the award, announced once
    nom = ours[best]["id"]
    r = training.post(
        f"/nominations/{nom}/decision",
        json={"approve": True, "reason": "consistently satisfied customers"},
        headers=supervisor,
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "approved" and r.json["award_id"]
    twice = training.post(
        f"/nominations/{nom}/decision", json={"approve": True}, headers=supervisor
    )
    assert twice.status_code == 409
    granted = award_events(service_db, best)
    assert len(granted) == 1
    assert {k: granted[0].data[k] for k in ("staff_id", "period", "award_code")} == {
        "staff_id": best,
        "period": PERIOD,
        "award_code": rule["code"],
    }

    # rejection: needs a reason, and keeps it; nobody decides their own nomination
    other = ours[also]["id"]
    own = auth("supervisor", subject=also)
    assert (
        training.post(
            f"/nominations/{other}/decision", json={"approve": True}, headers=own
        ).status_code
        == 403
    )
    no_reason = training.post(
        f"/nominations/{other}/decision", json={"approve": False}, headers=supervisor
    )
    assert no_reason.status_code == 422 and "reason" in invalid_fields(no_reason.json)
    r = training.post(
        f"/nominations/{other}/decision",
        json={"approve": False, "reason": "complaint under review"},
        headers=supervisor,
    )
    assert r.status_code == 200
    assert (r.json["status"], r.json["reason"], r.json["award_id"]) == (
        "rejected",
        "complaint under review",
        None,
    )
    assert training.get(f"/nominations/{other}", headers=supervisor).json["reason"] == (
        "complaint under review"
    )
    assert award_events(service_db, also) == []
    assert (
        training.post(
            "/nominations/99999999/decision", json={"approve": True}, headers=supervisor
        ).status_code
        == 404
    )

    awards = training.get(f"/awards?period={PERIOD}", headers=auth("department_head")).json["items"]
    assert [a["staff_id"] for a in awards if a["award_code"] == rule["code"]] == [best]
    ledger = training.get(f"/ledger?period={PERIOD}", headers=supervisor).json["items"]
    entries = sorted((e["entry"], e["staff_id"]) for e in ledger if e["rule_code"] == rule["code"])
    assert entries == [
        ("approved", best),
        ("awarded", best),
        ("nominated", also),
        ("nominated", best),
        ("rejected", also),
    ]
    for sql in (
        "UPDATE nominations SET period = 'x' WHERE id = %s",
        "DELETE FROM nomination_decisions WHERE nomination_id = %s",
        "DELETE FROM awards WHERE nomination_id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction() as tx:
            tx.execute(sql, (nom,))


def test_rules_and_runs_refuse_bad_input(client, auth):
    training = client("training")
    supervisor = auth("supervisor")
    base = {
        "code": "R-BAD",
        "name": "n",
        "conditions": [{"figure": "cases_handled", "op": ">=", "value": 1}],
    }
    for changes in (
        {"conditions": []},
        {"conditions": [{"figure": "popularity", "op": ">=", "value": 1}]},
        {"conditions": [{"figure": "cases_handled", "op": "=>", "value": 1}]},
        {"conditions": [{"figure": "cases_handled", "op": ">="}]},
        {"conditions": [{"figure": "cases_handled", "op": ">=", "value": 1, "min_events": -1}]},
        {"period_kind": "year"},
        {"name": ""},
    ):
        r = training.post("/incentive-rules", json=dict(base, **changes), headers=supervisor)
        assert r.status_code == 422, changes
    for period in ("2026-Q5", "2026", "Q4-2026", "2099-Q1"):
        r = training.post("/incentive-runs", json={"period": period}, headers=supervisor)
        assert r.status_code == 422, period
    assert training.get("/incentive-rules/R-BAD", headers=supervisor).status_code == 404
    assert training.post("/incentive-rules", json=base, headers=auth("trainer")).status_code == 403
