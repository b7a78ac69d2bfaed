"""The supervisors' dashboard in followup, fed by events only: a realistic set of cases in fresh
departments (some events deliberately out of order), every figure of /dashboard.json against
numbers computed here from the scenario plus what the session held before; replaying every
event (again, and as copies with new ids) changes nothing; the page drawn by headless Chromium
from a real `cs serve followup`, its screenshot kept in test-artifacts/; tokens and roles."""

from __future__ import annotations

import dataclasses
import re
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from shared import clock as business_clock
from shared.events import Event, new_event
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, publish_and_wait, wait_handled, wait_until
from tests.integration.test_followup_report import _chromium, _pixels

SHANGHAI = ZoneInfo("Asia/Shanghai")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OPEN_STATES = ("open", "transferred", "in_department", "reopened")


@dataclass
class Scenario:
    baseline: dict[str, Any]
    events: list[Event]
    open: dict[tuple[str, str], int]  # (department, state) -> open cases
    at_risk: int
    breached: list[tuple[datetime, str, str, str]]  # deadline, case id, department, kind
    received_today: Counter  # (channel, kind)
    sla: list[tuple[datetime, bool]]  # customer clocks: when, met
    scores: list[tuple[datetime, int]]  # when the call reached the customer, score
    tag: str  # the departments' suffix
    cases: dict[str, str] = field(default_factory=dict)  # name -> case id


_scenario: Scenario | None = None


def _ev(type_: str, case_id: str, source: str, **data: Any) -> Event:
    return new_event(type_, case_id, {"case_id": case_id, **data}, source=source)


def _figures(api: Any, auth: Any) -> dict[str, Any]:
    r = api.get("/dashboard.json", headers=auth("supervisor"))
    assert r.status_code == 200, r.json
    return r.json


def seed(cs_settings: Any, db: Any, api: Any, auth: Any) -> Scenario:
    """Once per session: the dashboard before, then the cases' events and follow-up calls."""
    global _scenario
    if _scenario is not None:
        return _scenario
    baseline = _figures(api, auth)
    now = business_clock.now()
    local_now = now.astimezone(SHANGHAI)
    quarter_start = datetime(
        local_now.year, 3 * ((local_now.month - 1) // 3) + 1, 1, tzinfo=SHANGHAI
    )
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = midnight + (local_now - midnight) / 2  # received today, whatever the hour

    def ago(hours: float) -> datetime:
        return max(now - timedelta(hours=hours), quarter_start + timedelta(minutes=1))

    tag = uuid.uuid4().hex[:6]
    d1, d2, d3 = f"NOC-{tag}", f"FIELD-{tag}", f"BILLING-{tag}"
    ids = {name: str(uuid.uuid4()) for name in "ABCDEFGHKL"}
    opened_facts = {
        "A": ("hotline", "complaint", today),
        "B": ("email", "consultation", today),
        "H": ("online", "complaint", today),
        "G": ("hotline", "consultation", today),
        "C": ("online", "complaint", ago(72)),
        "D": ("hotline", "complaint", ago(9 * 24)),
        "E": ("email", "complaint", ago(5 * 24)),
        "F": ("online", "consultation", ago(48)),
        "K": ("email", "complaint", ago(96)),
        "L": ("hotline", "complaint", ago(6 * 24)),
    }

    def opened(name: str) -> Event:
        channel, kind, received = opened_facts[name]
        return case_opened(
            case_id=ids[name],
            kind=kind,
            channel=channel,
            opened_at=received,
            received_at=received,
            customer_id=f"cust-{tag}-{name}",
        )

    def transferred(name: str, department: str | None = None) -> Event:
        return _ev(
            "case.transferred",
            ids[name],
            "/intake",
            reason="needs_department",
            requested_department=department,
            agent_id="agent-dash",
            transferred_at=now,
        )

    def routed(name: str, department: str, due: datetime) -> Event:
        return _ev(
            "case.routed",
            ids[name],
            "/routing",
            department=department,
            assignee_id=f"staff-{tag}",
            due_at=due,
            routed_at=now,
        )

    def clock(type_: str, name: str, which: str, due: datetime, department: str | None = None):
        extra: dict[str, Any] = {
            "sla.started": {"policy_version": 1, "provisional": False},
            "sla.warning": {"elapsed_ratio": 0.8},
            "sla.breached": {"department": department, "assignee_id": None, "breached_at": due},
        }.get(type_, {})
        return _ev(type_, ids[name], "/routing", clock=which, due_at=due, **extra)

    def met(name: str, due: datetime, at: datetime, department: str | None = None) -> Event:
        return _ev(
            "sla.met",
            ids[name],
            "/routing",
            clock="customer",
            department=department,
            assignee_id=None,
            due_at=due,
            completed_at=at,
        )

    def resolved(name: str, at: datetime, department: str | None) -> Event:
        return _ev(
            "case.resolved",
            ids[name],
            "/intake",
            kind=opened_facts[name][1],
            category="broadband",
            department=department,
            resolved_by="agent-resolver",
            first_contact=department is None,
            opened_at=opened_facts[name][2],
            resolved_at=at,
        )

    # Each case's events in the order they happened (so their envelope times increase), then
    # the order they are published in, which for some is not that order.
    later = now + timedelta(days=1)
    a = [opened("A"), clock("sla.started", "A", "customer", later)]
    a.append(clock("sla.warning", "A", "customer", later))
    b = [opened("B"), clock("sla.started", "B", "customer", later), transferred("B", d1)]
    h = [opened("H"), clock("sla.started", "H", "customer", later)]
    g = [opened("G"), clock("sla.started", "G", "customer", later), transferred("G")]
    g += [routed("G", d3, later), clock("sla.started", "G", "department", now)]
    g.append(clock("sla.warning", "G", "department", now))
    c_due = ago(28)
    c = [opened("C"), clock("sla.started", "C", "customer", ago(20)), transferred("C")]
    c += [routed("C", d1, c_due), clock("sla.started", "C", "department", c_due)]
    c += [clock("sla.warning", "C", "department", c_due)]
    c += [clock("sla.breached", "C", "department", c_due, d1)]
    c_order = [c[0], c[3], c[2], c[6], c[4], c[5], c[1]]  # routed before transferred, ...
    k_due = ago(48)
    k = [opened("K"), clock("sla.started", "K", "customer", k_due), transferred("K", d1)]
    k += [routed("K", d1, k_due), clock("sla.breached", "K", "customer", k_due, d1)]
    d_resolved = ago(8 * 24)
    d = [opened("D"), clock("sla.started", "D", "customer", ago(7 * 24)), transferred("D")]
    d += [routed("D", d2, ago(7 * 24)), clock("sla.started", "D", "department", ago(7 * 24))]
    d += [
        _ev(
            "case.handled",
            ids["D"],
            "/routing",
            department=d2,
            handled_by=f"staff-{tag}",
            resolution_code="fixed",
            handled_at=d_resolved,
        )
    ]
    d += [resolved("D", d_resolved, d2), met("D", ago(7 * 24), d_resolved, d2)]
    d_after = [_ev("case.closed", ids["D"], "/intake", closed_at=ago(7 * 24), outcome="confirmed")]
    e_due, e_resolved = ago(3 * 24), ago(2 * 24)
    e = [opened("E"), clock("sla.started", "E", "customer", e_due)]
    e += [
        clock("sla.warning", "E", "customer", e_due),
        clock("sla.breached", "E", "customer", e_due),
    ]
    e += [resolved("E", e_resolved, None)]
    e_after = [_ev("case.reopened", ids["E"], "/intake", reason="not_solved", reopened_at=ago(24))]
    e_after += [clock("sla.started", "E", "customer", later)]
    e_after += [clock("sla.warning", "E", "customer", later)]
    f_first, f_second = ago(24), now + timedelta(hours=4)
    f = [opened("F"), clock("sla.started", "F", "customer", later), transferred("F")]
    f += [routed("F", d2, f_first), clock("sla.started", "F", "department", f_first)]
    f += [clock("sla.breached", "F", "department", f_first, d2)]
    f += [routed("F", d3, f_second), clock("sla.started", "F", "department", f_second)]
    f_order = [f[0], f[2], f[6], f[7], f[3], f[5], f[4], f[1]]  # the re-routing first
    l_resolved = ago(6 * 24 - 2)
    l_events = [opened("L"), clock("sla.started", "L", "customer", ago(5 * 24))]
    l_events += [resolved("L", l_resolved, None), met("L", ago(5 * 24), l_resolved)]

    def send(*events: Event) -> None:
        for event in events:
            publish_and_wait(cs_settings, db, event)

    send(*a, *b, *h, *g, *c_order, *k, *d, *e, *f_order, *l_events)
    caller = auth("system", subject="cti-dash")
    scores = []
    for name, resolved_at, score in (
        ("D", d_resolved, 5),
        ("E", e_resolved, 2),
        ("L", l_resolved, 4),
    ):
        (task,) = api.get(f"/followups?case_id={ids[name]}", headers=caller).json["items"]
        at = min(resolved_at + timedelta(hours=1), now)
        body = {
            "result": "reached",
            "solved": True,
            "satisfaction": score,
            "occurred_at": at.isoformat(),
            "actor_id": "agent-dash",
        }
        r = api.post(f"/followups/{task['id']}/attempts", json=body, headers=caller)
        assert r.status_code == 201, r.json
        scores.append((at, score))
    send(*d_after, *e_after)

    events = a + b + h + g + c + k + d + d_after + e + e_after + f + l_events
    received_today = Counter(
        (opened_facts[n][0], opened_facts[n][1])
        for n in opened_facts
        if opened_facts[n][2].astimezone(SHANGHAI).date() == local_now.date()
    )
    _scenario = Scenario(
        baseline=baseline,
        events=events,
        open={
            ("front_line", "open"): 2,  # A, H
            ("front_line", "transferred"): 1,  # B: asked for NOC, not routed yet
            ("front_line", "reopened"): 1,  # E: resolved by the front line, reopened
            (d1, "in_department"): 2,  # C, K
            (d3, "in_department"): 2,  # G, F (routed again from FIELD)
        },
        at_risk=3,  # A, G (department clock), E (its new clock; the old breach is over)
        breached=[(c_due, ids["C"], d1, "complaint"), (k_due, ids["K"], d1, "complaint")],
        received_today=received_today,
        sla=[(d_resolved, True), (l_resolved, True), (e_due, False), (k_due, False)],
        scores=scores,
        tag=tag,
        cases=ids,
    )
    return _scenario


@pytest.fixture
def followup_db(service_db, run_service):
    run_service("followup", relay=False)
    return service_db("followup")


@pytest.fixture
def seeded(cs_settings, followup_db, client, auth) -> Scenario:
    return seed(cs_settings, followup_db, client("followup"), auth)


# --- what the figures must be: the session's figures before, plus the scenario --------------


def _week(day: date, quarter_start: date) -> str:
    return max(day - timedelta(days=day.weekday()), quarter_start).isoformat()


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _scores(distribution: dict[str, int]) -> dict[str, Any]:
    n = sum(distribution.values())
    total = sum(int(k) * v for k, v in distribution.items())
    happy = distribution["4"] + distribution["5"]
    return {
        "responses": n,
        "mean": round(total / n, 2) if n else None,
        "csat_percent": round(100 * happy / n, 1) if n else None,
        "distribution": distribution,
    }


def _kept(met: int, breached: int) -> dict[str, Any]:
    total = met + breached
    return {
        "met": met,
        "breached": breached,
        "compliance_percent": round(100 * met / total, 1) if total else None,
    }


def expected(s: Scenario, today: date) -> dict[str, Any]:
    base = s.baseline
    # open cases: the departments' rows before, plus the scenario's
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OPEN_STATES, 0))
    for row in base["open_cases"]["by_department"]:
        for state in OPEN_STATES:
            table[row["department"]][state] += row[state]
    for (department, state), n in s.open.items():
        table[department][state] += n
    rows = [{"department": k, **v, "total": sum(v.values())} for k, v in table.items()]
    rows.sort(key=lambda r: (-r["total"], r["department"]))
    # the oldest breaches: the ten oldest of those before and the scenario's
    oldest = [
        (datetime.fromisoformat(b["due_at"]) if b["due_at"] else None, b["case_id"], b)
        for b in base["clocks"]["oldest_breached"]
    ]
    for due, case_id, department, kind in s.breached:
        item = {
            "case_id": case_id,
            "department": department,
            "kind": kind,
            "due_at": due.astimezone(SHANGHAI).isoformat(),
        }
        oldest.append((due, case_id, item))
    oldest.sort(key=lambda t: (t[0] is None, t[0] or datetime.min.replace(tzinfo=UTC), t[1]))
    # today's intake
    channels = {r["channel"]: dict(r) for r in base["intake_today"]["by_channel"]}
    for (channel, kind), n in s.received_today.items():
        channels[channel][kind] += n
        channels[channel]["total"] += n
    # the quarter, week by week
    start = _quarter_start(today)
    weeks = {w["week"]: dict(w["distribution"]) for w in base["satisfaction"]["weeks"]}
    overall = dict(base["satisfaction"]["distribution"])
    for at, score in s.scores:
        weeks[_week(at.astimezone(SHANGHAI).date(), start)][str(score)] += 1
        overall[str(score)] += 1
    kept = {w["week"]: [w["met"], w["breached"]] for w in base["time_limits"]["weeks"]}
    met, breached = base["time_limits"]["met"], base["time_limits"]["breached"]
    for at, was_met in s.sla:
        kept[_week(at.astimezone(SHANGHAI).date(), start)][0 if was_met else 1] += 1
        met, breached = met + was_met, breached + (not was_met)
    return {
        "timezone": "Asia/Shanghai",
        "refresh_seconds": 30,
        "open_cases": {
            "total": sum(r["total"] for r in rows),
            "by_state": {state: sum(r[state] for r in rows) for state in OPEN_STATES},
            "by_department": rows,
        },
        "clocks": {
            "at_risk": base["clocks"]["at_risk"] + s.at_risk,
            "breached": base["clocks"]["breached"] + len(s.breached),
            "oldest_breached": [item for _, _, item in oldest[:10]],
        },
        "intake_today": {
            "date": today.isoformat(),
            "total": base["intake_today"]["total"] + sum(s.received_today.values()),
            "by_channel": list(channels.values()),
        },
        "satisfaction": {
            "quarter": base["satisfaction"]["quarter"],
            **_scores(overall),
            "weeks": [{"week": w, **_scores(weeks[w])} for w in sorted(weeks)],
        },
        "time_limits": {
            "quarter": base["time_limits"]["quarter"],
            "basis": base["time_limits"]["basis"],
            **_kept(met, breached),
            "weeks": [{"week": w, **_kept(*kept[w])} for w in sorted(kept)],
        },
        # no network incident in the scenario (test_followup_incidents.py has them)
        "incidents": base["incidents"],
    }


def _without_clock(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if k != "generated_at"}


def test_the_figures_match_the_events_and_replays_change_nothing(
    seeded, cs_settings, followup_db, client, auth
):
    api = client("followup")
    figures = _figures(api, auth)
    today = datetime.fromisoformat(figures["generated_at"]).date()
    assert _without_clock(figures) == expected(seeded, today)
    assert seeded.baseline["satisfaction"]["quarter"] == figures["satisfaction"]["quarter"]
    # the same events again: the inbox drops them by id (a copy handled after them says when
    # the consumer got past them, the queue being handled in order)
    publish(cs_settings, *seeded.events)
    last = dataclasses.replace(seeded.events[-1], id=str(uuid.uuid4()))
    publish_and_wait(cs_settings, followup_db, last)
    assert _without_clock(_figures(api, auth)) == _without_clock(figures)
    # copies with new ids, newest first: every update compares event times, so none changes
    copies = [dataclasses.replace(e, id=str(uuid.uuid4())) for e in reversed(seeded.events)]
    publish(cs_settings, *copies)
    for copy in copies:
        wait_handled(followup_db, copy.id)
    assert _without_clock(_figures(api, auth)) == _without_clock(figures)


def test_the_dashboard_is_for_supervisors_and_takes_a_token_once_in_the_address(
    cs_settings, service_db, make_token, caplog
):
    from shared.service import load_service

    # a client of its own: the cookie it is given must not reach other tests' requests
    app = load_service("followup").create_app(cs_settings, service_db("followup"))
    browser = app.test_client()
    agent, head = make_token("agent"), make_token("department_head", subject="head-dash")
    for path in ("/dashboard", "/dashboard.json"):
        assert browser.get(path).status_code == 401
        assert browser.get(path, headers={"Authorization": f"Bearer {agent}"}).status_code == 403
    assert browser.get(f"/dashboard?token={agent}").status_code == 403
    assert browser.get(f"/dashboard?token={agent[:-3]}xyz").status_code == 401
    assert browser.get(f"/dashboard.json?token={head}").status_code == 401  # header only there
    assert browser.get_cookie("cs_dashboard") is None
    # the token from the address goes into a cookie for /dashboard alone, and out of the address
    r = browser.get(f"/dashboard?token={head}")
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert 0 < int(re.search(r"Max-Age=(\d+)", cookie).group(1)) <= 8 * 3600
    page = browser.get("/dashboard")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="30">' in html
    assert "refreshes itself every 30 seconds" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert browser.get("/dashboard.json").status_code == 401  # the cookie is not for the JSON
    # a header wins over the address: an agent's header with a head's token is still an agent
    r = browser.get(f"/dashboard?token={head}", headers={"Authorization": f"Bearer {agent}"})
    assert r.status_code == 403
    assert head not in caplog.text and agent not in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_page_draws_its_charts_offline_in_chromium(seeded, cs_system, make_token, tmp_path):
    chromium = _chromium()
    port = _free_port()
    env = cs_system.env(CS_METRICS_DIR=str(tmp_path / "metrics"), CS_WEB_WORKERS="1")
    cs = Path(sys.executable).parent / "cs"
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(cs), "serve", "followup", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    token = make_token("supervisor", subject="sup-dash")
    try:

        def up() -> bool:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(up, timeout=60, what="cs serve followup")
        html, figures = (_get(f"{base}/dashboard{suffix}", token) for suffix in ("", ".json"))
        assert len(re.findall(r"<svg\b", html)) >= 5
        assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)|@import|url\(", html)
        oldest = orjson.loads(figures)["clocks"]["oldest_breached"]
        assert oldest and all(f"<td>{b['case_id']}</td>" in html for b in oldest)
        assert f"NOC-{seeded.tag}" in html and f"BILLING-{seeded.tag}" in html
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "followup-dashboard.png"
        shot.unlink(missing_ok=True)
        run = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--window-size=1280,1600",
                f"--screenshot={shot}",
                # the token once, as a browser would open it: the page answers with a cookie
                f"{base}/dashboard?token={token}",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
    assert token not in (tmp_path / "serve.log").read_text(errors="replace")
    width, height, colours = _pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    # drawn, not an error body: the states' colours (open, transferred, in department,
    # reopened; complaints red, consultations blue), the responses' grey bars
    for colour in ("2b6cb0", "d69e2e", "2f855a", "c53030", "a0aec0"):
        assert colours[bytes.fromhex(colour)] > 100, colour
    assert len(colours) > 50


def _get(url: str, token: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.read().decode()
