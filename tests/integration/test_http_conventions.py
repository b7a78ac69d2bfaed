"""HTTP the way integrators expect it, the same in every service (shared/web.py, shared/etags.py).

- Every error is an RFC 9457 problem: `application/problem+json` with `type`, `title`,
  `status`, `detail`, and for invalid input `errors` naming each field.
- Every editable record (a department, a member of staff, a routing rule, a calendar date, a
  customer, a do-not-call entry, an incentive rule) answers its GET with an ETag; its PUT,
  PATCH or DELETE with a stale `If-Match` is 412 and changes nothing, with the current one goes
  through and answers the new ETag; without `If-Match` it goes through, unless the service runs
  with CS_REQUIRE_IF_MATCH=true (428). Two writers holding the same ETag: one wins, one 412.
- Every 201 names what it made in `Location` (checked suite-wide by tests/conftest.py; here
  the URL is followed).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from shared import clock
from shared.config import SERVICES
from shared.errors import BLANK, INVALID
from shared.service import load_service
from shared.testing.problems import invalid_fields

PROBLEM = "application/problem+json"


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == PROBLEM
    body = r.json
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


# --- problems ------------------------------------------------------------------------------------

# per service: a POST whose body is wrong in two named ways
BAD_BODIES = {
    "intake": ("/cases", {"kind": "nonsense", "shoe_size": 42}, {"kind", "shoe_size"}),
    "routing": ("/departments", {"code": "!", "colour": "red"}, {"code", "name", "colour"}),
    "followup": ("/improvements", {"problem": "", "owner": 7}, {"problem", "owner"}),
    "training": ("/courses", {"code": "", "hours": "many"}, {"code", "hours"}),
}


@pytest.mark.parametrize("service", SERVICES)
def test_invalid_input_is_a_problem_naming_each_field(client, auth, service):
    path, body, fields = BAD_BODIES[service]
    r = client(service).post(path, json=body, headers=auth("admin"))
    problem = _problem(r, 422)
    assert problem["type"] == INVALID and problem["title"] == "The request is not valid"
    assert fields <= invalid_fields(problem), problem
    for entry in problem["errors"]:
        assert entry["pointer"].startswith("#/") and entry["detail"], entry


@pytest.mark.parametrize("service", SERVICES)
def test_status_errors_are_blank_problems(client, auth, service):
    c = client(service)
    missing = _problem(c.get("/no-such-thing", headers=auth("admin")), 404)
    assert missing["type"] == BLANK and missing["title"] == "Not Found"
    anonymous = _problem(c.get(BAD_BODIES[service][0]), 401)  # no token
    assert anonymous["title"] == "Unauthorized"
    wrong = c.delete("/healthz")
    _problem(wrong, 405)
    assert "GET" in wrong.headers["Allow"]


def test_bad_query_parameters_are_named_as_parameters(client, auth):
    r = client("intake").get("/cases?per_page=100000&page=0", headers=auth("agent"))
    problem = _problem(r, 422)
    assert {e.get("parameter") for e in problem["errors"]} >= {"per_page", "page"}


def test_a_nested_field_is_pointed_at(client, auth):
    body = {"account_no": "ACC-X", "name": "x", "phones": ["12"], "address": {"region": ""}}
    r = client("intake").post("/customers", json=body, headers=auth("agent"))
    pointers = {e["pointer"] for e in _problem(r, 422)["errors"]}
    assert "#/phones/0" in pointers and "#/address/region" in pointers, pointers


# --- ETag and If-Match ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Editable:
    """A kind of editable record: how to make one (its URL), and a change to it."""

    name: str
    service: str
    make: Callable[[Any, Callable[..., dict[str, str]]], str]
    method: str
    change: Callable[[], dict[str, Any]] | None  # None: a DELETE


def _run() -> str:
    return uuid.uuid4().hex[:8].upper()


def _department(c: Any, auth: Callable[..., dict[str, str]]) -> str:
    code = f"D{_run()}"
    r = c.post("/departments", json={"code": code, "name": "Field service"}, headers=auth())
    assert r.status_code == 201, r.json
    return r.headers["Location"]


def _staff(c: Any, auth: Callable[..., dict[str, str]]) -> str:
    body = {"staff_id": f"s-{_run()}", "display_name": "Orchid", "role": "agent"}
    r = c.post("/staff", json=body, headers=auth())
    assert r.status_code == 201, r.json
    return r.headers["Location"]


def _routing_rule(c: Any, auth: Callable[..., dict[str, str]]) -> str:
    department = _department(c, auth).rsplit("/", 1)[1]
    body = {"position": 900, "department": department, "category": f"cat-{_run()}"}
    r = c.post("/routing-rules", json=body, headers=auth())
    assert r.status_code == 201, r.json
    return r.headers["Location"]


def _calendar_day(_c: Any, _auth: Callable[..., dict[str, str]]) -> str:
    # a date no clock of the suite spans
    day = date(2090, 1, 1) + timedelta(days=random.randrange(3650))
    return f"/calendar/{day.isoformat()}"


def _customer(c: Any, auth: Callable[..., dict[str, str]]) -> str:
    body = {
        "account_no": f"ACC-{_run()}",
        "name": "王芳",
        "phones": ["136" + "".join(random.choices("0123456789", k=8))],
        "address": {"region": "Haidian"},
    }
    r = c.post("/customers", json=body, headers=auth("agent"))
    assert r.status_code == 201, r.json
    return r.headers["Location"]


def _do_not_call(c: Any, auth: Callable[..., dict[str, str]]) -> str:
    r = c.post("/do-not-call", json={"customer_id": f"c-{_run()}"}, headers=auth())
    assert r.status_code == 201, r.json
    return r.headers["Location"]


def _incentive_rule(c: Any, auth: Callable[..., dict[str, str]]) -> str:
    body = {
        "code": f"R-{_run()}",
        "name": "Service star",
        "conditions": [{"figure": "cases_handled", "op": ">=", "value": 2}],
    }
    r = c.post("/incentive-rules", json=body, headers=auth())
    assert r.status_code == 201, r.json
    return r.headers["Location"]


def _named(prefix: str) -> Callable[[], dict[str, Any]]:
    return lambda: {"name": f"{prefix} {_run()}"}


EDITABLE = [
    Editable("department", "routing", _department, "PATCH", _named("Dept")),
    Editable("staff", "routing", _staff, "PATCH", lambda: {"display_name": f"Orchid {_run()}"}),
    Editable(
        "routing rule (PATCH)",
        "routing",
        _routing_rule,
        "PATCH",
        lambda: {"position": random.randrange(1, 1000)},
    ),
    Editable(
        "routing rule (PUT)",
        "routing",
        _routing_rule,
        "PUT",
        lambda: {"position": random.randrange(1, 1000), "department": None},
    ),
    Editable("routing rule (DELETE)", "routing", _routing_rule, "DELETE", None),
    Editable(
        "calendar date",
        "routing",
        _calendar_day,
        "PUT",
        lambda: {"working": False, "reason": f"company day {_run()}"},
    ),
    Editable("customer", "intake", _customer, "PATCH", _named("王")),
    Editable("do-not-call entry", "followup", _do_not_call, "DELETE", None),
    Editable("incentive rule", "training", _incentive_rule, "PATCH", _named("Star")),
]
WRITABLE = [e for e in EDITABLE if e.change is not None]


def _body(editable: Editable, url: str, c: Any, auth: Callable[..., dict[str, str]]) -> Any:
    if editable.change is None:
        return None
    change = editable.change()
    if "department" in change:  # a PUT of a routing rule names the whole rule (else catch-all)
        current = c.get(url, headers=auth()).json
        change.update(department=current["department"], categories=current["categories"])
    return change


def _write(c: Any, editable: Editable, url: str, body: Any, headers: dict[str, str]) -> Any:
    return c.open(url, method=editable.method, json=body, headers=headers)


@pytest.mark.parametrize("editable", EDITABLE, ids=lambda e: e.name)
def test_a_get_answers_an_etag_and_304_while_it_holds(client, auth, editable):
    c = client(editable.service)
    url = editable.make(c, auth)
    r = c.get(url, headers=auth())
    assert r.status_code == 200 and r.headers.get("ETag", "").startswith('"'), r.headers
    etag = r.headers["ETag"]
    assert c.get(url, headers=auth()).headers["ETag"] == etag  # stable while unchanged
    again = c.get(url, headers=dict(auth(), **{"If-None-Match": etag}))
    assert again.status_code == 304 and not again.data
    other = c.get(url, headers=dict(auth(), **{"If-None-Match": '"something-else"'}))
    assert other.status_code == 200 and other.json == r.json


@pytest.mark.parametrize("editable", EDITABLE, ids=lambda e: e.name)
def test_a_stale_if_match_is_412_and_changes_nothing(client, auth, editable):
    c = client(editable.service)
    url = editable.make(c, auth)
    before = c.get(url, headers=auth())
    stale = _write(
        c, editable, url, _body(editable, url, c, auth), dict(auth(), **{"If-Match": '"0-old"'})
    )
    problem = _problem(stale, 412)
    assert "GET it again" in problem["detail"]
    after = c.get(url, headers=auth())
    assert after.json == before.json and after.headers["ETag"] == before.headers["ETag"]


@pytest.mark.parametrize("editable", EDITABLE, ids=lambda e: e.name)
def test_the_current_etag_lets_the_write_through(client, auth, editable):
    c = client(editable.service)
    url = editable.make(c, auth)
    etag = c.get(url, headers=auth()).headers["ETag"]
    r = _write(c, editable, url, _body(editable, url, c, auth), dict(auth(), **{"If-Match": etag}))
    assert r.status_code in (200, 204), r.get_data(as_text=True)[:300]
    after = c.get(url, headers=auth())
    if editable.change is None:
        assert after.status_code == 404  # deleted
        return
    assert after.headers["ETag"] != etag
    assert r.headers["ETag"] == after.headers["ETag"]  # the answer carries the new one
    # the old ETag is stale now; `*` matches whatever is current
    assert (
        _write(
            c, editable, url, _body(editable, url, c, auth), dict(auth(), **{"If-Match": etag})
        ).status_code
        == 412
    )
    star = _write(
        c, editable, url, _body(editable, url, c, auth), dict(auth(), **{"If-Match": "*"})
    )
    assert star.status_code == 200


@pytest.mark.parametrize("editable", EDITABLE, ids=lambda e: e.name)
def test_without_if_match_a_write_goes_through_unless_required(client, auth, cs_system, editable):
    c = client(editable.service)
    url = editable.make(c, auth)
    strict_app = load_service(editable.service).create_app(
        cs_system.settings.with_(require_if_match=True), cs_system.db(editable.service)
    )
    strict = strict_app.test_client()
    refused = _write(strict, editable, url, _body(editable, url, c, auth), auth())
    assert "If-Match" in _problem(refused, 428)["detail"]
    etag = strict.get(url, headers=auth()).headers["ETag"]
    assert c.get(url, headers=auth()).headers["ETag"] == etag  # nothing changed
    with_tag = _write(
        strict, editable, url, _body(editable, url, c, auth), dict(auth(), **{"If-Match": etag})
    )
    assert with_tag.status_code in (200, 204)
    if editable.change is not None:
        assert _write(c, editable, url, _body(editable, url, c, auth), auth()).status_code == 200


@pytest.mark.parametrize("editable", WRITABLE, ids=lambda e: e.name)
def test_two_writers_holding_one_etag_one_wins_one_gets_412(client, auth, editable):
    c = client(editable.service)
    url = editable.make(c, auth)
    etag = c.get(url, headers=auth()).headers["ETag"]
    bodies = [_body(editable, url, c, auth) for _ in range(2)]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def write(body: Any) -> None:
        own = c.application.test_client()  # a client per thread
        start.wait()
        r = _write(own, editable, url, body, dict(auth(), **{"If-Match": etag}))
        statuses.append(r.status_code)

    threads = [threading.Thread(target=write, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(statuses) == [200, 412]


def test_the_customer_etag_follows_changes_the_mask_hides(client, auth):
    c = client("intake")
    url = _customer(c, auth)
    first = c.get(url, headers=auth("agent"))
    phone = "136" + "".join(random.choices("0123456789", k=8))
    # same first three and last four digits: the masked answer does not change
    same_mask = phone[:3] + "0000" + first.json["phones"][0][-4:]
    assert c.patch(url, json={"phones": [same_mask]}, headers=auth("agent")).status_code == 200
    second = c.get(url, headers=auth("agent"))
    assert second.json["phones"] == first.json["phones"]
    assert second.headers["ETag"] != first.headers["ETag"]
    assert second.headers["Cache-Control"] == "no-store"


def test_a_calendar_date_not_listed_is_a_weekday_or_a_weekend(client, auth):
    c = client("routing")
    saturday = date(2091, 1, 6)
    r = c.get(f"/calendar/{saturday.isoformat()}", headers=auth("agent"))
    assert r.status_code == 200
    assert r.json == {
        "day": "2091-01-06",
        "working": False,
        "reason": "weekend",
        "source": "weekdays",
        "official": False,
    }
    _problem(c.get("/calendar/someday", headers=auth("agent")), 400)


# --- Location ------------------------------------------------------------------------------------


def test_location_leads_to_what_was_made(client, auth):
    c = client("routing")
    url = _department(c, auth)
    r = c.get(url, headers=auth())
    assert r.status_code == 200 and r.json["name"] == "Field service"
    policy = {
        "kind": "complaint",
        "priority": "low",
        "working_days": 2,
        "effective_from": (clock.today() + timedelta(days=3650)).isoformat(),
        "reason": "a policy far ahead, to test Location",
    }
    made = c.post("/sla-policies", json=policy, headers=auth())
    assert made.status_code == 201, made.json
    assert made.headers["Location"] == f"/sla-policies?at={policy['effective_from']}"
    listed = c.get(made.headers["Location"], headers=auth()).json["items"]
    assert any(p["version"] == made.json["version"] and p["kind"] == "complaint" for p in listed)


def test_a_do_not_call_id_its_url_cannot_address_is_refused(client, auth):
    c = client("followup")
    for bad in ("a/b", "..", "."):
        r = c.post("/do-not-call", json={"customer_id": bad}, headers=auth())
        assert "customer_id" in invalid_fields(_problem(r, 422))
