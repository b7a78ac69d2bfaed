"""End to end through intake and followup (relays and consumers running): a follow-up that
finds the problem not solved reopens the case in intake, and its next resolution brings a
second follow-up."""

from __future__ import annotations

from shared.testing.waiting import wait_until

CASE = {
    "kind": "complaint",
    "channel": "hotline",
    "category": "broadband",
    "region": "Haidian",
    "customer_ref": "ACC-FOLLOWUP-E2E",
    "content": "Speed drops every evening",
    "identity_verified": True,
}


def test_not_solved_reopens_the_case_and_the_next_resolution_gets_a_new_call(
    run_service, client, auth
):
    run_service("intake")
    run_service("followup")
    intake, followup = client("intake"), client("followup")
    agent = auth("agent", subject="agent-e2e")
    case = intake.post("/cases", json=CASE, headers=agent).json
    case_id = case["id"]
    r = intake.post(
        f"/cases/{case_id}/resolve",
        json={"resolution": "Reset the line profile", "first_contact": True},
        headers=agent,
    )
    assert r.status_code == 200

    def tasks(n: int) -> list[dict] | None:
        items = followup.get(f"/followups?case_id={case_id}", headers=agent).json["items"]
        return items if len(items) >= n else None

    (task,) = wait_until(lambda: tasks(1), 15, "the follow-up task")
    assert task["state"] == "due" and task["agent_id"] != "agent-e2e"
    r = followup.post(
        f"/followups/{task['id']}/attempts",
        json={"result": "reached", "solved": False, "satisfaction": 2, "comment": "still slow"},
        headers=auth("agent", subject="agent-caller"),
    )
    assert r.status_code == 201 and r.json["outcome"] == "unresolved"
    wait_until(
        lambda: intake.get(f"/cases/{case_id}", headers=agent).json["state"] == "reopened",
        15,
        "intake to reopen the case",
    )
    r = intake.post(
        f"/cases/{case_id}/resolve", json={"resolution": "Replaced the modem"}, headers=agent
    )
    assert r.status_code == 200
    first, second = wait_until(lambda: tasks(2), 15, "the second follow-up task")
    assert (first["state"], first["outcome"]) == ("completed", "unresolved")
    assert second["state"] == "due" and second["resolved_at"] > first["resolved_at"]
    # the agent who resolved it again may not make the call that confirms it
    confirmed = {"result": "reached", "solved": True, "satisfaction": 5}
    r = followup.post(f"/followups/{second['id']}/attempts", json=confirmed, headers=agent)
    assert r.status_code == 403
    # a colleague confirms it: intake closes the case
    r = followup.post(
        f"/followups/{second['id']}/attempts",
        json=confirmed,
        headers=auth("agent", subject="agent-caller"),
    )
    assert r.status_code == 201 and r.json["outcome"] == "confirmed"
    wait_until(
        lambda: intake.get(f"/cases/{case_id}", headers=agent).json["state"] == "closed",
        15,
        "intake to close the case",
    )
    assert len(tasks(2) or []) == 2
