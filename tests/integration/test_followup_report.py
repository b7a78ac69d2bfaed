"""The quarterly evaluation from a seeded quarter of events: every figure of the JSON (and the
CSV) against numbers computed here independently; the HTML page drawn by headless Chromium,
its screenshot kept in test-artifacts/."""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import struct
import subprocess
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared import clock as business_clock
from shared.events import new_event
from shared.testing.factories import case_opened
from shared.testing.waiting import publish, wait_handled

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUARTER = "2025-Q3"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHECKLISTS = [
    {
        "identity_verified": True,
        "courtesy": 5,
        "accuracy": 4,
        "time_limit_kept": True,
        "followup_done": True,
    },
    {
        "identity_verified": False,
        "courtesy": 3,
        "accuracy": 2,
        "time_limit_kept": False,
        "followup_done": True,
    },
    {
        "identity_verified": True,
        "courtesy": 4,
        "accuracy": 5,
        "time_limit_kept": True,
        "followup_done": False,
    },
]


@dataclass
class Case:
    case_id: str
    kind: str
    category: str
    channel: str
    received_at: datetime
    department: str | None = None
    resolved_at: datetime | None = None
    plan: tuple = ()  # ("reached", score, solved) | ("unreachable",) | ("open",)


@dataclass
class Seeded:
    cases: list[Case]
    sla: list[tuple[str, str | None, bool]]  # clock, department, met
    inspected: list[tuple[str | None, float]]  # department, score


_seeded: Seeded | None = None


def _at(rnd: random.Random, year: int, month: int) -> datetime:
    return datetime(
        year, month, rnd.randint(1, 27), rnd.randint(0, 23), rnd.randint(0, 59), tzinfo=SHANGHAI
    )


def seed(cs_settings, db, api, auth) -> Seeded:
    """2025-Q2 and 2025-Q3 as events (once per session), then the follow-up calls and the
    inspections through the API."""
    global _seeded
    if _seeded is not None:
        return _seeded
    rnd = random.Random(2025)
    tag = uuid.uuid4().hex[:6]
    departments = [f"NOC-{tag}", f"FIELD-{tag}", None]
    categories = [f"speed-{tag}", f"signal-{tag}", f"billing-{tag}", f"install-{tag}"]
    channels = ["hotline", "email", "online"]
    cases: list[Case] = []
    for _ in range(9):  # the quarter before: only its complaint volume counts
        cases.append(
            Case(
                str(uuid.uuid4()),
                rnd.choice(["complaint"] * 3 + ["consultation"]),
                rnd.choice(categories[:3]),
                rnd.choice(channels),
                _at(rnd, 2025, rnd.randint(4, 6)),
            )
        )
    plans = [("reached", s, s >= 3) for s in (5, 5, 4, 4, 4, 3, 2, 1, 5, 4, 3, 5, 2, 4, 5)]
    plans += [("unreachable",)] * 4 + [("open",)] * 3
    for plan in plans:
        cases.append(
            Case(
                str(uuid.uuid4()),
                rnd.choice(["complaint"] * 3 + ["consultation"]),
                rnd.choice(categories),
                rnd.choice(channels),
                _at(rnd, 2025, rnd.randint(7, 9)),
                rnd.choice(departments),
                plan=plan,
            )
        )
    # the quarter's edges, Shanghai time: the first in Q3, the second in Q4
    cases.append(
        Case(
            str(uuid.uuid4()),
            "complaint",
            categories[0],
            "hotline",
            datetime(2025, 7, 1, 0, 5, tzinfo=SHANGHAI),
        )
    )
    cases.append(
        Case(
            str(uuid.uuid4()),
            "complaint",
            categories[0],
            "hotline",
            datetime(2025, 10, 1, 0, 10, tzinfo=SHANGHAI),
        )
    )
    events = []
    sla: list[tuple[str, str | None, bool]] = []
    for c in cases:
        events.append(
            case_opened(
                case_id=c.case_id,
                kind=c.kind,
                category=c.category,
                channel=c.channel,
                opened_at=c.received_at,
                customer_id=str(uuid.uuid4()),
            )
        )
        if not c.plan:
            continue
        c.resolved_at = c.received_at + timedelta(days=1)
        events.append(
            new_event(
                "case.resolved",
                c.case_id,
                {
                    "case_id": c.case_id,
                    "kind": c.kind,
                    "category": c.category,
                    "department": c.department,
                    "resolved_by": "agent-resolver",
                    "first_contact": c.department is None,
                    "opened_at": c.received_at,
                    "resolved_at": c.resolved_at,
                },
                source="/intake",
            )
        )
        clocks = ["customer"] + (["department"] if c.department else [])
        for clock in clocks:
            met = rnd.random() < 0.7
            due = c.received_at + timedelta(hours=20)
            data = {
                "case_id": c.case_id,
                "clock": clock,
                "department": c.department,
                "assignee_id": None,
                "due_at": due,
            }
            if met:
                events.append(
                    new_event(
                        "sla.met",
                        c.case_id,
                        dict(data, completed_at=c.resolved_at),
                        source="/routing",
                    )
                )
            else:
                events.append(
                    new_event(
                        "sla.breached", c.case_id, dict(data, breached_at=due), source="/routing"
                    )
                )
            sla.append((clock, c.department, met))
    publish(cs_settings, *events)
    for e in events:
        wait_handled(db, e.id)
    caller = auth("system", subject="cti-survey")
    for c in cases:
        if not c.plan or c.plan[0] == "open":
            continue
        (task,) = api.get(f"/followups?case_id={c.case_id}", headers=caller).json["items"]
        at = c.resolved_at + timedelta(hours=2)
        if c.plan[0] == "reached":
            body = {
                "result": "reached",
                "solved": c.plan[2],
                "satisfaction": c.plan[1],
                "occurred_at": at.isoformat(),
                "actor_id": "agent-survey",
            }
            assert (
                api.post(f"/followups/{task['id']}/attempts", json=body, headers=caller).status_code
                == 201
            )
        else:
            for n in range(3):
                body = {
                    "result": "no_answer",
                    "occurred_at": (at + timedelta(minutes=n)).isoformat(),
                    "actor_id": "agent-survey",
                }
                api.post(f"/followups/{task['id']}/attempts", json=body, headers=caller)
    supervisor = auth("supervisor", subject="sup-report")
    drawn = api.post(
        "/inspections/draw",
        json={"rule": "random", "size": 3, "seed": 11, "period": QUARTER},
        headers=supervisor,
    ).json
    by_case = {c.case_id: c for c in cases}
    inspected = []
    for item, checklist in zip(drawn["items"], CHECKLISTS, strict=True):
        r = api.post(
            f"/inspections/{item['id']}/score", json={"checklist": checklist}, headers=supervisor
        )
        assert r.status_code == 200
        shares = [
            checklist["identity_verified"],
            checklist["courtesy"] / 5,
            checklist["accuracy"] / 5,
            checklist["time_limit_kept"],
            checklist["followup_done"],
        ]
        inspected.append((by_case[item["case_id"]].department, 100 * sum(shares) / 5))
    _seeded = Seeded(cases, sla, inspected)
    return _seeded


@pytest.fixture
def seeded(cs_settings, service_db, run_service, client, auth) -> Seeded:
    run_service("followup", relay=False)
    return seed(cs_settings, service_db("followup"), client("followup"), auth)


def in_quarter(when: datetime, months: tuple[int, ...]) -> bool:
    local = when.astimezone(SHANGHAI)
    return local.year == 2025 and local.month in months


def summary(scores: list[int]) -> dict[str, Any]:
    return {
        "responses": len(scores),
        "mean": round(sum(scores) / len(scores), 2),
        "csat_percent": round(100 * sum(1 for s in scores if s >= 4) / len(scores), 1),
        "distribution": {str(k): scores.count(k) for k in range(1, 6)},
    }


def test_the_report_matches_the_seeded_quarter(seeded, client, auth):
    r = client("followup").get(f"/reports/quarterly/{QUARTER}", headers=auth("supervisor"))
    assert r.status_code == 200, r.json
    report = r.json
    assert (report["period"], report["from"], report["to"]) == (QUARTER, "2025-07-01", "2025-09-30")
    reached = [c for c in seeded.cases if c.plan and c.plan[0] == "reached"]
    # satisfaction: overall and by department, category and channel
    s = report["satisfaction"]
    assert {k: s[k] for k in ("responses", "mean", "csat_percent", "distribution")} == summary(
        [c.plan[1] for c in reached]
    )
    for group, name, key in (
        ("by_department", "department", lambda c: c.department or "front_line"),
        ("by_category", "category", lambda c: c.category),
        ("by_channel", "channel", lambda c: c.channel),
    ):
        expected = {}
        for c in reached:
            expected.setdefault(key(c), []).append(c.plan[1])
        got = {
            row[name]: {k: row[k] for k in ("responses", "mean", "csat_percent", "distribution")}
            for row in s[group]
        }
        assert got == {k: summary(v) for k, v in expected.items()}, group
    # complaints against the previous quarter
    c = report["complaints"]
    now = [x for x in seeded.cases if in_quarter(x.received_at, (7, 8, 9))]
    before = [x for x in seeded.cases if in_quarter(x.received_at, (4, 5, 6))]
    volume = sum(1 for x in now if x.kind == "complaint")
    previous = sum(1 for x in before if x.kind == "complaint")
    assert (c["volume"], c["previous_volume"], c["change"]) == (volume, previous, volume - previous)
    assert c["change_percent"] == round(100 * (volume - previous) / previous, 1)
    assert c["consultations"] == sum(1 for x in now if x.kind == "consultation")
    counts = Counter(x.category for x in now if x.kind == "complaint")
    assert {r["category"]: r["count"] for r in c["by_category"] if r["count"]} == dict(counts)
    assert [t["count"] for t in c["top_categories"]] == sorted(counts.values(), reverse=True)
    before_counts = Counter(x.category for x in before if x.kind == "complaint")
    for row in c["by_category"]:
        assert row["previous"] == before_counts[row["category"]]
    assert {r["channel"]: r["count"] for r in c["by_channel"]} == dict(
        Counter(x.channel for x in now if x.kind == "complaint")
    )
    months = Counter(
        x.received_at.astimezone(SHANGHAI).strftime("%Y-%m")
        for x in now + before
        if x.kind == "complaint"
    )
    assert [(m["month"], m["count"]) for m in c["monthly"]] == [
        (f"2025-{m:02d}", months[f"2025-{m:02d}"]) for m in range(4, 10)
    ]
    # time limits from sla.met / sla.breached
    t = report["time_limits"]
    for clock in ("customer", "department"):
        met = sum(1 for k, _, m in seeded.sla if k == clock and m)
        breached = sum(1 for k, _, m in seeded.sla if k == clock and not m)
        assert t["by_clock"][clock] == {
            "met": met,
            "breached": breached,
            "compliance_percent": round(100 * met / (met + breached), 1),
        }
    assert t["compliance_percent"] == t["by_clock"]["customer"]["compliance_percent"]
    for row in t["by_department"]:
        mine = [
            m
            for k, d, m in seeded.sla
            if k == "customer" and (d or "front_line") == row["department"]
        ]
        assert (row["met"], row["breached"]) == (mine.count(True), mine.count(False))
    # follow-up reach
    f = report["followups"]
    unreachable = sum(1 for x in seeded.cases if x.plan == ("unreachable",))
    confirmed = sum(1 for x in reached if x.plan[2])
    assert f == {
        "finished": len(reached) + unreachable,
        "reached": len(reached),
        "unreachable": unreachable,
        "reach_rate_percent": round(100 * len(reached) / (len(reached) + unreachable), 1),
        "confirmed": confirmed,
        "unresolved": len(reached) - confirmed,
        "solved_rate_percent": round(100 * confirmed / len(reached), 1),
        "skipped_do_not_call": 0,
        "cancelled": 0,
    }
    # inspections of the quarter's cases
    i = report["inspections"]
    scores = [score for _, score in seeded.inspected]
    assert i["scored"] == 3
    assert i["mean_score"] == pytest.approx(sum(scores) / 3, abs=0.05)
    departments: dict[str, list[float]] = {}
    for d, score in seeded.inspected:
        departments.setdefault(d or "front_line", []).append(score)
    assert {r["department"]: r["scored"] for r in i["by_department"]} == {
        k: len(v) for k, v in departments.items()
    }
    # the same figures as CSV
    r = client("followup").get(
        f"/reports/quarterly/{QUARTER}?format=csv", headers=auth("department_head")
    )
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["section", "group", "key", "metric", "value"]
    assert ["satisfaction", "overall", "", "mean", str(s["mean"])] in rows
    assert ["complaints", "overall", "", "volume", str(volume)] in rows
    assert ["followups", "overall", "", "reach_rate_percent", str(f["reach_rate_percent"])] in rows
    for score, n in s["distribution"].items():
        assert ["satisfaction", "distribution", score, "responses", str(n)] in rows


def test_the_report_is_for_supervisors_and_names_a_quarter(client, auth):
    api = client("followup")
    assert api.get(f"/reports/quarterly/{QUARTER}", headers=auth("agent")).status_code == 403
    assert api.get("/reports/quarterly/2025-Q5", headers=auth("supervisor")).status_code == 404
    assert (
        api.get(f"/reports/quarterly/{QUARTER}?format=pdf", headers=auth("supervisor")).status_code
        == 422
    )
    empty = api.get("/reports/quarterly/2000-Q1", headers=auth("admin")).json
    assert empty["satisfaction"]["mean"] is None and empty["complaints"]["volume"] == 0
    # years the system keeps no figures for: a clear 422, not an empty report
    ahead = f"{business_clock.now().year + 6}-Q1"
    for period in ("1999-Q4", "1000-Q1", ahead):
        r = api.get(f"/reports/quarterly/{period}", headers=auth("admin"))
        assert r.status_code == 422 and "between 2000 and" in str(r.json["errors"]), r.json


def test_a_browser_opens_the_report_page_with_its_token_in_the_address(client, make_token, caplog):
    api = client("followup")
    head, agent = make_token("department_head", subject="head-rep"), make_token("agent")
    r = api.get(f"/reports/quarterly/{QUARTER}.html?token={head}")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert f"Quarterly evaluation {QUARTER}" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in r.headers
    assert api.get(f"/reports/quarterly/{QUARTER}.html?token={agent}").status_code == 403
    assert api.get(f"/reports/quarterly/{QUARTER}.html?token={head[:-3]}xyz").status_code == 401
    assert api.get(f"/reports/quarterly/{QUARTER}.html").status_code == 401
    # the JSON and the CSV take the header only
    assert api.get(f"/reports/quarterly/{QUARTER}?token={head}").status_code == 401
    assert head not in caplog.text and agent not in caplog.text


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "headless Chromium is needed to check the HTML report: apt-get install -y chromium"
        )
    return found


def _pixels(png: bytes) -> tuple[int, int, Counter]:
    """Width, height and how many pixels of each colour an 8-bit RGB(A) PNG has."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        (n,), kind = struct.unpack(">I", png[pos : pos + 4]), png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, colours, at = bytearray(stride), Counter(), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        for x in range(stride) if kind else ():
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
        prev = line
    return width, height, colours


def test_the_html_report_draws_its_charts_offline_in_chromium(seeded, client, auth, tmp_path):
    chromium = _chromium()
    r = client("followup").get(f"/reports/quarterly/{QUARTER}.html", headers=auth("supervisor"))
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert len(re.findall(r"<svg\b", html)) >= 5
    assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)|@import|url\(", html)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"followup-quarterly-{QUARTER}.png"
    shot.unlink(missing_ok=True)
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,2600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.exists(), run.stderr.decode(errors="replace")[-2000:]
    width, height, colours = _pixels(shot.read_bytes())
    assert (width, height) == (1200, 2600)
    # the bars in their colours: satisfied (green), dissatisfied (red), the blue series
    for colour in ("2f855a", "c53030", "2b6cb0", "a0aec0"):
        assert colours[bytes.fromhex(colour)] > 300, colour


def test_a_clock_met_after_its_breach_was_announced_counts_as_met(own_system, auth):
    """Routing announces `sla.met` after `sla.breached` of the same clock (case, clock, due_at)
    when a step reported late stopped it in time: the report counts it once, as met, and the
    case is no longer a breached one; the same two events the other way round agree."""
    own_system.run("followup", relay=False)
    db, api = own_system.db("followup"), own_system.client("followup")
    due = datetime(2025, 8, 12, 17, 30, tzinfo=SHANGHAI)
    first, second, missed = (str(uuid.uuid4()) for _ in range(3))

    def clock(case_id: str, met: bool) -> Any:
        data = {
            "case_id": case_id,
            "clock": "customer",
            "department": None,
            "assignee_id": "agent-7",
            "due_at": due,
        }
        if met:
            done = dict(data, completed_at=due - timedelta(hours=5))
            return new_event("sla.met", case_id, done, source="/routing")
        return new_event("sla.breached", case_id, dict(data, breached_at=due), source="/routing")

    events = [case_opened(case_id=c, opened_at=due - timedelta(days=1)) for c in (first, second)]
    events += [case_opened(case_id=missed, opened_at=due - timedelta(days=1))]
    events += [clock(first, False), clock(first, True), clock(second, True), clock(second, False)]
    events += [clock(missed, False)]
    for e in events:
        publish(own_system.settings, e)
        wait_handled(db, e.id)
    report = api.get(f"/reports/quarterly/{QUARTER}", headers=auth("supervisor")).json
    kept = report["time_limits"]
    assert (kept["met"], kept["breached"], kept["compliance_percent"]) == (2, 1, 66.7)
    with db.transaction() as tx:
        breached = dict(
            tx.execute(
                "SELECT case_id, breached FROM cases WHERE case_id = ANY(%s)",
                ([first, second, missed],),
            ).fetchall()
        )
    assert breached == {first: False, second: False, missed: True}
