"""The quarterly report's arithmetic, CSV and HTML, without servers."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

from services.followup.api import pages
from services.followup.api.pages import chart_svg
from services.followup.domain import charts, render, report
from services.followup.domain.report import (
    CaseCount,
    FeedbackCount,
    IncidentCaseCount,
    IncidentRow,
    InspectionCount,
    QuarterData,
    SatisfactionCount,
    SlaCount,
    TaskCount,
)
from shared.periods import Period

Q4 = Period(2026, "quarter", 4)


def data() -> QuarterData:
    return QuarterData(
        Q4,
        satisfaction=[
            SatisfactionCount("NOC", "broadband", "hotline", 5, 6),
            SatisfactionCount("NOC", "broadband", "email", 2, 2),
            SatisfactionCount(None, "tv", "online", 4, 2),
        ],
        cases=[
            CaseCount("2026-10", "complaint", "broadband", "hotline", 7),
            CaseCount("2026-12", "complaint", "tv", "email", 3),
            CaseCount("2026-11", "consultation", "tv", "online", 5),
            CaseCount("2026-08", "complaint", "broadband", "hotline", 4),
            CaseCount("2026-07", "complaint", "billing", "hotline", 4),
        ],
        sla=[
            SlaCount("customer", "NOC", True, 9),
            SlaCount("customer", "NOC", False, 1),
            SlaCount("customer", None, True, 5),
            SlaCount("department", "NOC", False, 2),
        ],
        tasks=[
            TaskCount("completed", "confirmed", 8),
            TaskCount("completed", "unresolved", 2),
            TaskCount("unreachable", "unreachable", 5),
            TaskCount("skipped_do_not_call", None, 1),
            TaskCount("cancelled", None, 3),
        ],
        inspections=[InspectionCount("a-1", "NOC", 2, 150.0), InspectionCount("a-2", None, 1, 90)],
        feedback=[FeedbackCount("NOC", "speed", 2), FeedbackCount("FIELD", "visits", 1)],
        improvements=[
            {
                "id": "m-1",
                "problem": "Slow <evenings>",
                "department": "NOC",
                "measure": "Upgrade",
                "due_on": date(2026, 11, 1),
                "source": "feedback",
                "source_ref": None,
                "status": "in_progress",
            }
        ],
    )


def test_the_figures():
    r = report.build(data(), date(2026, 11, 25))
    s = r["satisfaction"]
    # (6×5 + 2×2 + 2×4) / 10 = 4.2; satisfied: 6 + 2 of 10
    assert (s["responses"], s["mean"], s["csat_percent"]) == (10, 4.2, 80.0)
    assert s["distribution"] == {"1": 0, "2": 2, "3": 0, "4": 2, "5": 6}
    assert [(d["department"], d["mean"]) for d in s["by_department"]] == [
        ("NOC", 4.25),
        ("front_line", 4.0),
    ]
    assert [(c["channel"], c["csat_percent"]) for c in s["by_channel"]] == [
        ("email", 0.0),
        ("hotline", 100.0),
        ("online", 100.0),
    ]
    c = r["complaints"]
    assert (c["volume"], c["previous_volume"], c["change"], c["change_percent"]) == (10, 8, 2, 25.0)
    assert c["consultations"] == 5
    assert [(x["category"], x["count"], x["previous"]) for x in c["by_category"]] == [
        ("broadband", 7, 4),
        ("tv", 3, 0),
        ("billing", 0, 4),
    ]
    assert c["top_categories"] == [
        {"category": "broadband", "count": 7},
        {"category": "tv", "count": 3},
    ]
    assert [m["count"] for m in c["monthly"]] == [4, 4, 0, 7, 0, 3]
    assert c["monthly"][0] == {"month": "2026-07", "quarter": "2026-Q3", "count": 4}
    t = r["time_limits"]
    assert (t["met"], t["breached"], t["compliance_percent"]) == (14, 1, 93.3)
    assert t["by_clock"]["department"] == {"met": 0, "breached": 2, "compliance_percent": 0.0}
    assert [(d["department"], d["compliance_percent"]) for d in t["by_department"]] == [
        ("NOC", 90.0),
        ("front_line", 100.0),
    ]
    assert r["followups"] == {
        "finished": 15,
        "reached": 10,
        "unreachable": 5,
        "reach_rate_percent": 66.7,
        "confirmed": 8,
        "unresolved": 2,
        "solved_rate_percent": 80.0,
        "skipped_do_not_call": 1,
        "cancelled": 3,
    }
    i = r["inspections"]
    assert (i["scored"], i["mean_score"]) == (3, 80.0)
    assert i["by_department"] == [
        {"department": "NOC", "scored": 2, "mean_score": 75.0},
        {"department": "front_line", "scored": 1, "mean_score": 90.0},
    ]
    assert r["feedback"]["received"] == 3
    m = r["improvements"]
    assert (m["open"], m["overdue"]) == (1, 1) and m["items"][0]["due_on"] == "2026-11-01"


def test_an_empty_quarter_has_no_means_and_no_shares():
    r = report.build(QuarterData(Q4), date(2026, 11, 25))
    assert r["satisfaction"]["mean"] is None and r["satisfaction"]["csat_percent"] is None
    assert r["complaints"]["change_percent"] is None
    assert r["time_limits"]["compliance_percent"] is None
    assert r["followups"]["reach_rate_percent"] is None
    assert "no data" in pages.report_html(r)


def test_csv_has_one_figure_per_row():
    r = report.build(data(), date(2026, 11, 25))
    rows = list(csv.reader(io.StringIO("\n".join(",".join(row) for row in render.csv_rows(r)))))
    assert rows[0] == ["section", "group", "key", "metric", "value"]
    assert ["satisfaction", "overall", "", "csat_percent", "80.0"] in rows
    assert ["satisfaction", "department", "front_line", "mean", "4.0"] in rows
    assert ["complaints", "category", "billing", "change", "-4"] in rows
    assert ["time_limits", "clock", "department", "breached", "2"] in rows
    assert all(len(row) == 5 for row in rows)


def test_the_page_is_self_contained_and_its_charts_are_valid_svg():
    page = pages.report_html(report.build(data(), date(2026, 11, 25)))
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|https?://(?!www\.w3\.org/2000/svg)|@import|url\(", page)
    assert "Slow &lt;evenings&gt;" in page  # text is escaped
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(svgs) == 6
    for svg in svgs:
        ET.fromstring(svg)  # well-formed


def test_bars_are_as_tall_as_their_values():
    svg = chart_svg(charts.bar_chart([("a", 2), ("b", 4)], "t", max_value=4))
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)" fill', svg)]
    assert heights[1] == 2 * heights[0]
    assert charts.nice_top(5) == 8 and charts.nice_top(10) == 10 and charts.nice_top(0) == 1
    assert "no data" in chart_svg(charts.hbar_chart([("x", None)], "t", max_value=5))
    assert "no data" in chart_svg(charts.line_chart([], "t"))


def test_incident_cases_are_counted_apart_and_the_quarters_incidents_listed():
    fibre = IncidentRow(
        "INC-2",
        ["Daxing", "<Tongzhou>"],
        ["broadband"],
        datetime(2026, 11, 3, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 3, 15, 20, tzinfo=UTC),
        "FIBRE_CUT",
        120,
        12,
        108,
    )
    open_one = IncidentRow(
        "INC-1", ["Haidian"], ["iptv"], datetime(2026, 10, 9, tzinfo=UTC), None, None, 7, 0, 0
    )
    d = data()
    d.incident_cases = [IncidentCaseCount("complaint", 125), IncidentCaseCount("consultation", 2)]
    d.incidents = [fibre, open_one]
    r = report.build(d, date(2026, 11, 25))
    n = r["incidents"]
    assert (n["cases"], n["complaints"], n["consultations"], n["count"]) == (127, 125, 2, 2)
    assert [i["incident_id"] for i in n["items"]] == ["INC-1", "INC-2"]  # by start
    assert n["items"][1] == {
        "incident_id": "INC-2",
        "regions": ["Daxing", "<Tongzhou>"],
        "categories": ["broadband"],
        "started_at": "2026-11-03T19:00:00+08:00",
        "resolved_at": "2026-11-03T23:20:00+08:00",
        "cause": "FIBRE_CUT",
        "linked_cases": 120,
        "followups_sampled": 12,
        "followups_not_sampled": 108,
    }
    # the complaints are the rest: the incident's cases are not among them
    assert (
        r["complaints"]["volume"]
        == report.build(data(), date(2026, 11, 25))["complaints"]["volume"]
    )
    rows = list(render.csv_rows(r))
    assert ("incidents", "overall", "", "cases", "127") in rows
    assert ("incidents", "incident", "INC-2", "regions", "Daxing|<Tongzhou>") in rows
    assert ("incidents", "incident", "INC-1", "resolved_at", "") in rows
    page = pages.report_html(r)
    assert "Network incidents" in page and "FIBRE_CUT" in page and "&lt;Tongzhou&gt;" in page
    assert "2026-11-03 19:00" in page
