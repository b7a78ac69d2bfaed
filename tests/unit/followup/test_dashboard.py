"""The dashboard's rules and figures, its charts and its page, without servers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from services.followup.api import pages
from services.followup.api.dashboard import BROWSER_PAGES
from services.followup.api.pages import chart_svg
from services.followup.domain import charts
from services.followup.domain.dashboard import (
    Breached,
    Clock,
    DashboardData,
    DayScore,
    DaySla,
    Flags,
    IntakeCount,
    StateCount,
    build,
    clock_flags,
    open_cases,
    satisfaction_trend,
    week_of,
    weeks,
)
from services.followup.domain.report import IncidentRow
from shared.browser_pages import BrowserToken
from shared.periods import Period

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


DUE = at(600)


# --- at risk and breached ---------------------------------------------------------------------


def test_a_warned_clock_is_at_risk_and_a_breached_one_breached():
    warned = Clock(started_at=at(0), warned_at=at(5), due_at=DUE)
    assert clock_flags("open", None, [warned]) == Flags(True, False, None)
    breached = Clock(started_at=at(0), warned_at=at(5), breached_at=at(9), due_at=DUE)
    assert clock_flags("in_department", None, [breached]) == Flags(False, True, DUE)
    assert clock_flags("open", None, [Clock(started_at=at(0), due_at=DUE)]) == Flags()


def test_a_breach_counts_over_a_warning_and_the_earliest_deadline_is_kept():
    customer = Clock(started_at=at(0), warned_at=at(5), due_at=DUE)
    department = Clock(started_at=at(1), breached_at=at(6), due_at=at(300))
    other = Clock(started_at=at(1), breached_at=at(7), due_at=at(200))
    assert clock_flags("open", None, [customer, department]) == Flags(False, True, at(300))
    assert clock_flags("open", None, [department, other]).breached_since == at(200)


def test_a_restarted_stopped_or_reopened_clock_is_no_longer_at_risk_or_breached():
    restarted = Clock(started_at=at(10), warned_at=at(5), breached_at=at(6), due_at=DUE)
    assert clock_flags("in_department", None, [restarted]) == Flags()
    stopped = Clock(started_at=at(0), breached_at=at(6), stopped_at=at(8), due_at=DUE)
    assert clock_flags("open", None, [stopped]) == Flags()
    # the breach of the old clock is over; the new clock's warning counts
    breached = Clock(started_at=at(0), breached_at=at(6), due_at=DUE)
    assert clock_flags("reopened", at(7), [breached]) == Flags()
    new = Clock(started_at=at(8), warned_at=at(9), breached_at=at(6), due_at=DUE)
    assert clock_flags("reopened", at(7), [new]) == Flags(True, False, None)


def test_resolved_closed_or_unknown_cases_have_no_running_clock():
    breached = Clock(started_at=at(0), breached_at=at(6), due_at=DUE)
    for state in ("resolved", "closed", None):
        assert clock_flags(state, None, [breached]) == Flags()


def test_the_order_events_arrive_in_does_not_matter():
    """The projection keeps the latest time of each moment; the flags follow from them alone."""
    moments = [("started_at", at(0)), ("warned_at", at(5)), ("breached_at", at(9))]
    expected = Flags(False, True, DUE)
    for order in (moments, moments[::-1], [moments[1], moments[2], moments[0]]):
        seen: dict[str, datetime] = {}
        for name, when in order:
            seen[name] = max(seen.get(name, when), when)
        assert clock_flags("open", None, [Clock(**seen, due_at=DUE)]) == expected


# --- the figures ------------------------------------------------------------------------------


def test_open_cases_by_department_and_state():
    figures = open_cases(
        [
            StateCount("open", None, 3),
            StateCount("transferred", None, 1),
            StateCount("in_department", "NOC", 2),
            StateCount("reopened", "NOC", 2),
            StateCount("in_department", "FIELD", 4),
            StateCount("resolved", "NOC", 9),
            StateCount("closed", None, 9),
        ]
    )
    assert figures["total"] == 12
    assert figures["by_state"] == {"open": 3, "transferred": 1, "in_department": 6, "reopened": 2}
    assert [r["department"] for r in figures["by_department"]] == ["FIELD", "NOC", "front_line"]
    assert figures["by_department"][1] == {
        "department": "NOC",
        "open": 0,
        "transferred": 0,
        "in_department": 2,
        "reopened": 2,
        "total": 4,
    }


def test_weeks_start_on_monday_and_the_first_on_the_quarters_first_day():
    q4 = Period(2026, "quarter", 4)  # 1 October 2026 is a Thursday
    assert week_of(date(2026, 10, 3), q4) == date(2026, 10, 1)
    assert week_of(date(2026, 10, 5), q4) == date(2026, 10, 5)
    assert week_of(date(2026, 11, 29), q4) == date(2026, 11, 23)
    assert weeks(q4, date(2026, 10, 1)) == [date(2026, 10, 1)]
    assert weeks(q4, date(2026, 10, 12))[-1] == date(2026, 10, 12)
    all_q3 = weeks(Period(2026, "quarter", 3), date(2026, 11, 25))
    assert all_q3[0] == date(2026, 7, 1) and all_q3[-1] == date(2026, 9, 28)
    assert len(all_q3) == 14


def test_the_quarter_week_by_week():
    data = DashboardData(
        datetime(2026, 10, 14, 4, 0, tzinfo=UTC),
        satisfaction=[
            DayScore(date(2026, 10, 2), 5, 2),
            DayScore(date(2026, 10, 4), 2, 1),
            DayScore(date(2026, 10, 13), 4, 1),
        ],
        sla=[
            DaySla(date(2026, 10, 1), True, 3),
            DaySla(date(2026, 10, 6), False, 1),
            DaySla(date(2026, 10, 7), True, 1),
        ],
        intake=[IntakeCount("hotline", "complaint", 2), IntakeCount("email", "consultation", 1)],
        oldest_breached=[Breached("c-1", None, "complaint", at(0))],
        at_risk=4,
        breached=1,
    )
    figures = build(data)
    s = figures["satisfaction"]
    assert [w["week"] for w in s["weeks"]] == ["2026-10-01", "2026-10-05", "2026-10-12"]
    assert [(w["responses"], w["mean"]) for w in s["weeks"]] == [(3, 4.0), (0, None), (1, 4.0)]
    assert s["weeks"][0]["csat_percent"] == 66.7 and s["mean"] == 4.0
    t = figures["time_limits"]
    assert [(w["met"], w["breached"], w["compliance_percent"]) for w in t["weeks"]] == [
        (3, 0, 100.0),
        (1, 1, 50.0),
        (0, 0, None),
    ]
    assert t["compliance_percent"] == 80.0
    assert figures["intake_today"] == {
        "date": "2026-10-14",
        "total": 3,
        "by_channel": [
            {"channel": "hotline", "complaint": 2, "consultation": 0, "total": 2},
            {"channel": "email", "complaint": 0, "consultation": 1, "total": 1},
            {"channel": "online", "complaint": 0, "consultation": 0, "total": 0},
        ],
    }
    assert figures["clocks"] == {
        "at_risk": 4,
        "breached": 1,
        "oldest_breached": [
            {
                "case_id": "c-1",
                "department": "front_line",
                "kind": "complaint",
                "due_at": "2026-11-20T10:00:00+08:00",
            }
        ],
    }
    assert figures["refresh_seconds"] == 30
    assert (
        satisfaction_trend([], Period(2026, "quarter", 4), date(2026, 10, 1))["weeks"][0]["mean"]
        is None
    )


# --- charts and the page ----------------------------------------------------------------------


def test_a_line_with_missing_points_is_broken_and_stacked_bars_share_one_scale():
    svg = chart_svg(charts.line_chart([("a", 1), ("b", 2), ("c", None), ("d", 3), ("e", 4)], "t"))
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert svg.count(">no data</text>") == 1 and "<title>c: no data</title>" in svg
    ET.fromstring(svg)
    svg = chart_svg(
        charts.stacked_hbar_chart(
            [("x", [1, 3]), ("y", [2, 0])], ["one", "two"], ["#111111", "#222222"], "t", width=350
        )
    )
    ET.fromstring(svg)
    widths = [
        float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="18"', svg)
    ]
    assert widths == [37.5, 112.5, 75.0]  # 150 pixels for the longest bar (4)
    assert "nothing today" in chart_svg(
        charts.stacked_hbar_chart([("x", [0])], ["a"], ["#000"], "t", empty="nothing today")
    )


def test_a_week_without_time_limit_data_is_no_data_never_0_percent():
    """Week 2 of the quarter had no clock stop: null in the figures, "no data" on the page."""
    data = DashboardData(
        datetime(2026, 10, 21, 5, 0, tzinfo=UTC),
        sla=[DaySla(date(2026, 10, 1), True, 4), DaySla(date(2026, 10, 14), False, 1)],
    )
    figures = build(data)
    weeks = figures["time_limits"]["weeks"]
    assert [(w["week"], w["compliance_percent"]) for w in weeks] == [
        ("2026-10-01", 100.0),
        ("2026-10-05", None),
        ("2026-10-12", 0.0),
        ("2026-10-19", None),
    ]
    page = pages.dashboard_html(figures)
    (kept,) = [s for s in re.findall(r"<svg\b.*?</svg>", page, re.S) if "Time limits kept" in s]
    assert kept.count(">no data</text>") == 2
    assert "<title>10-05: no data</title>" in kept and "<title>10-19: no data</title>" in kept
    assert re.findall(r"<circle[^>]*><title>([^<]*)</title>", kept) == ["10-01: 100%", "10-12: 0%"]


def test_the_page_refreshes_itself_escapes_names_and_loads_nothing():
    data = DashboardData(
        datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
        open_cases=[StateCount("in_department", "<NOC & co>", 2)],
        oldest_breached=[Breached("c-1", "<NOC & co>", "complaint", at(0))],
        breached=1,
        satisfaction=[DayScore(date(2026, 11, 24), 4, 3)],
        sla=[DaySla(date(2026, 11, 3), True, 2)],
    )
    page = pages.dashboard_html(build(data))
    assert '<meta http-equiv="refresh" content="30">' in page
    assert "refreshes itself every 30 seconds" in page
    assert "<NOC & co>" not in page and "&lt;NOC &amp; co&gt;" in page
    assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)|@import|url\(", page)
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    assert len(svgs) == 5
    for svg in svgs:
        ET.fromstring(svg)


# --- a browser's token --------------------------------------------------------------------------


def _through(environ: dict) -> dict:
    seen: dict = {}

    def app(env: dict, _start: object) -> list[bytes]:
        seen.update(env)
        return []

    BrowserToken(app, BROWSER_PAGES)({"SCRIPT_NAME": "", **environ}, lambda *a: None)
    return seen


def test_the_page_takes_its_token_from_the_address_once_and_then_from_the_cookie():
    env = _through(
        {"PATH_INFO": "/dashboard", "QUERY_STRING": "a=1&token=t.k%2Bn&b=2", "RAW_URI": "x"}
    )
    assert env["HTTP_AUTHORIZATION"] == "Bearer t.k+n"
    assert env["QUERY_STRING"] == "a=1&b=2" and env["RAW_URI"] == "/dashboard?a=1&b=2"
    env = _through({"PATH_INFO": "/dashboard", "HTTP_COOKIE": "cs_dashboard=c.o.k"})
    assert env["HTTP_AUTHORIZATION"] == "Bearer c.o.k"
    # a header wins, but the address still loses its token
    env = _through(
        {"PATH_INFO": "/dashboard", "QUERY_STRING": "token=x", "HTTP_AUTHORIZATION": "Bearer h"}
    )
    assert env["HTTP_AUTHORIZATION"] == "Bearer h" and env["QUERY_STRING"] == ""
    # the quarterly report's page: from the address only (no cookie), for this request
    env = _through({"PATH_INFO": "/reports/quarterly/2026-Q4.html", "QUERY_STRING": "token=r.p.t"})
    assert env["HTTP_AUTHORIZATION"] == "Bearer r.p.t" and env["QUERY_STRING"] == ""
    env = _through(
        {"PATH_INFO": "/reports/quarterly/2026-Q4.html", "HTTP_COOKIE": "cs_dashboard=c"}
    )
    assert "HTTP_AUTHORIZATION" not in env
    # nowhere else
    for path in (
        "/dashboard.json",
        "/followups",
        "/dashboard/",
        "/reports/quarterly/2026-Q4",
        "/reports/quarterly/2026-Q4.html/x",
    ):
        env = _through(
            {"PATH_INFO": path, "QUERY_STRING": "token=x", "HTTP_COOKIE": "cs_dashboard=c"}
        )
        assert "HTTP_AUTHORIZATION" not in env and env["QUERY_STRING"] == "token=x"


def test_incident_cases_are_counted_apart_and_the_quarters_incidents_listed_latest_first():
    now = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    rows = [
        IncidentRow("INC-1", ["Haidian"], ["iptv"], at(-9000), at(-8000), "HEADEND", 40, 5, 35),
        IncidentRow("INC-2", ["Daxing"], ["broadband"], at(0), None, None, 120, 0, 0),
    ]
    data = DashboardData(
        now,
        open_cases=[StateCount("open", None, 3)],
        incident_open_cases=118,
        incident_received_today=9,
        incidents=rows,
    )
    figures = build(data)
    n = figures["incidents"]
    assert (n["quarter"], n["open_cases"], n["received_today"], n["count"], n["open"]) == (
        "2026-Q4",
        118,
        9,
        2,
        1,
    )
    assert [i["incident_id"] for i in n["latest"]] == ["INC-2", "INC-1"]
    assert n["latest"][0]["linked_cases"] == 120 and n["latest"][0]["resolved_at"] is None
    assert figures["open_cases"]["total"] == 3  # the incidents' cases are not among them
    page = pages.dashboard_html(figures)
    assert "118 open cases and 9 received today belong to network incidents" in page
    assert "INC-2" in page and "HEADEND" in page
