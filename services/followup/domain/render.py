"""What the quarterly report and the dashboard show (no I/O): the report as CSV rows, and for
each page its tiles, tables and charts (geometry from `charts.py`), which the templates in
services/followup/templates/ lay out (services/followup/api/pages.py renders them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.followup.domain import charts
from services.followup.domain.report import SCORES

CSV_HEADER = ("section", "group", "key", "metric", "value")
INCIDENT_FIGURES = (
    "regions",
    "categories",
    "started_at",
    "resolved_at",
    "cause",
    "linked_cases",
    "followups_sampled",
    "followups_not_sampled",
)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def csv_rows(report: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """One figure per row: section, group, key, metric, value."""
    yield CSV_HEADER
    yield ("report", "period", report["period"], "from", report["from"])
    yield ("report", "period", report["period"], "to", report["to"])
    s = report["satisfaction"]
    for metric in ("responses", "mean", "csat_percent"):
        yield ("satisfaction", "overall", "", metric, _cell(s[metric]))
    for score, n in s["distribution"].items():
        yield ("satisfaction", "distribution", score, "responses", str(n))
    for group, name in (
        ("by_department", "department"),
        ("by_category", "category"),
        ("by_channel", "channel"),
    ):
        for row in s[group]:
            for metric in ("responses", "mean", "csat_percent"):
                yield ("satisfaction", name, row[name], metric, _cell(row[metric]))
    c = report["complaints"]
    for metric in ("volume", "previous_volume", "change", "change_percent", "consultations"):
        yield ("complaints", "overall", "", metric, _cell(c[metric]))
    for row in c["by_category"]:
        for metric in ("count", "share_percent", "previous", "change"):
            yield ("complaints", "category", row["category"], metric, _cell(row[metric]))
    for row in c["by_channel"]:
        yield ("complaints", "channel", row["channel"], "count", str(row["count"]))
    for row in c["monthly"]:
        yield ("complaints", "month", row["month"], "count", str(row["count"]))
    t = report["time_limits"]
    for metric in ("met", "breached", "compliance_percent"):
        yield ("time_limits", "customer_clock", "", metric, _cell(t[metric]))
    for clock, figures in t["by_clock"].items():
        for metric in ("met", "breached", "compliance_percent"):
            yield ("time_limits", "clock", clock, metric, _cell(figures[metric]))
    for row in t["by_department"]:
        for metric in ("met", "breached", "compliance_percent"):
            yield ("time_limits", "department", row["department"], metric, _cell(row[metric]))
    for metric, value in report["followups"].items():
        yield ("followups", "overall", "", metric, _cell(value))
    i = report["inspections"]
    yield ("inspections", "overall", "", "scored", str(i["scored"]))
    yield ("inspections", "overall", "", "mean_score", _cell(i["mean_score"]))
    for group, name in (("by_agent", "agent_id"), ("by_department", "department")):
        for row in i[group]:
            for metric in ("scored", "mean_score"):
                yield ("inspections", name, row[name], metric, _cell(row[metric]))
    f = report["feedback"]
    yield ("feedback", "overall", "", "received", str(f["received"]))
    for row in f["by_department"]:
        yield ("feedback", "department", row["department"], "count", str(row["count"]))
    for row in f["by_topic"]:
        yield ("feedback", "topic", row["topic"], "count", str(row["count"]))
    m = report["improvements"]
    yield ("improvements", "overall", "", "open", str(m["open"]))
    yield ("improvements", "overall", "", "overdue", str(m["overdue"]))
    for item in m["items"]:
        yield ("improvements", "open_measure", str(item["id"]), "status", item["status"])
    n = report["incidents"]
    for metric in ("cases", "complaints", "consultations", "count"):
        yield ("incidents", "overall", "", metric, str(n[metric]))
    for item in n["items"]:
        for metric in INCIDENT_FIGURES:
            value = item[metric]
            cell = "|".join(value) if isinstance(value, list) else _cell(value)
            yield ("incidents", "incident", item["incident_id"], metric, cell)


def fmt(value: Any, suffix: str = "") -> str:
    """A figure as a page shows it: a dash when there is none."""
    return "–" if value is None else f"{value}{suffix}"


def _tile(value: Any, label: str, suffix: str = "") -> dict[str, Any]:
    return {"value": fmt(value, suffix), "label": label}


def _table(headers: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"headers": headers, "rows": rows}


def report_page(report: dict[str, Any]) -> dict[str, Any]:
    """The quarterly report's page: `templates/report.html`."""
    s, c, t = report["satisfaction"], report["complaints"], report["time_limits"]
    f, i, m = report["followups"], report["inspections"], report["improvements"]
    n = report["incidents"]
    return {
        "period": report["period"],
        "from": report["from"],
        "to": report["to"],
        "timezone": report["timezone"],
        "tiles": [
            _tile(s["mean"], "mean satisfaction (1–5)"),
            _tile(s["csat_percent"], "CSAT (share of 4–5)", "%"),
            _tile(c["volume"], f"complaints (previous quarter {c['previous_volume']})"),
            _tile(t["compliance_percent"], "time limits kept", "%"),
            _tile(f["reach_rate_percent"], "follow-up reach rate", "%"),
            _tile(i["mean_score"], "mean inspection score"),
            _tile(m["open"], "open improvement measures"),
            _tile(
                n["cases"], f"network incident cases ({n['count']} incidents), not in complaints"
            ),
        ],
        "incidents": {"cases": n["cases"], "complaints": n["complaints"], "count": n["count"]},
        "complaints": {
            "volume": c["volume"],
            "previous_volume": c["previous_volume"],
            "previous_quarter": c["previous_quarter"],
            "change": fmt(c["change_percent"], "%"),
            "consultations": c["consultations"],
        },
        "charts": {
            "distribution": charts.bar_chart(
                [(f"{k} ★", s["distribution"][str(k)]) for k in SCORES],
                "Satisfaction scores 1–5",
                colors=[charts.RED, charts.RED, charts.GREY, charts.GREEN, charts.GREEN],
            ),
            "by_department": charts.hbar_chart(
                [(r["department"], r["mean"]) for r in s["by_department"]],
                "Mean satisfaction by department",
                max_value=5,
            ),
            "trend": charts.bar_chart(
                [(r["month"], r["count"]) for r in c["monthly"]],
                "Complaints per month, previous and this quarter",
                colors=[charts.GREY] * 3 + [charts.BLUE] * 3,
            ),
            "trend_line": charts.line_chart(
                [(r["month"], r["count"]) for r in c["monthly"]], "Complaint trend"
            ),
            "compliance": charts.hbar_chart(
                [(r["department"], r["compliance_percent"]) for r in t["by_department"]],
                "Time limits kept by department (%)",
                max_value=100,
                suffix="%",
                color=charts.GREEN,
            ),
            "inspection": charts.hbar_chart(
                [(r["department"], r["mean_score"]) for r in i["by_department"]],
                "Mean inspection score by department",
                max_value=100,
            ),
        },
        "tables": {
            "by_category": _table(
                ["category", "responses", "mean", "CSAT %"],
                [
                    [r["category"], r["responses"], r["mean"], r["csat_percent"]]
                    for r in s["by_category"]
                ],
            ),
            "by_channel": _table(
                ["channel", "responses", "mean", "CSAT %"],
                [
                    [r["channel"], r["responses"], r["mean"], r["csat_percent"]]
                    for r in s["by_channel"]
                ],
            ),
            "complaints": _table(
                ["category", "complaints", "share %", "previous quarter", "change"],
                [
                    [r["category"], r["count"], r["share_percent"], r["previous"], r["change"]]
                    for r in c["by_category"]
                ],
            ),
            "clocks": _table(
                ["clock", "met", "breached", "kept %"],
                [
                    [k, v["met"], v["breached"], v["compliance_percent"]]
                    for k, v in t["by_clock"].items()
                ],
            ),
            "followups": _table(
                [
                    "finished",
                    "reached",
                    "unreachable",
                    "reach %",
                    "confirmed",
                    "unresolved",
                    "skipped (do not call)",
                ],
                [
                    [
                        f["finished"],
                        f["reached"],
                        f["unreachable"],
                        f["reach_rate_percent"],
                        f["confirmed"],
                        f["unresolved"],
                        f["skipped_do_not_call"],
                    ]
                ],
            ),
            "agents": _table(
                ["agent", "scored", "mean score"],
                [[r["agent_id"], r["scored"], r["mean_score"]] for r in i["by_agent"]],
            ),
            "feedback": _table(
                ["department", "suggestions"],
                [[r["department"], r["count"]] for r in report["feedback"]["by_department"]],
            ),
            "incidents": _table(
                [
                    "incident",
                    "regions",
                    "categories",
                    "started",
                    "resolved",
                    "cause",
                    "linked cases",
                    "follow-up calls",
                    "not called (sample)",
                ],
                [
                    [
                        r["incident_id"],
                        ", ".join(r["regions"]),
                        ", ".join(r["categories"]),
                        _local_time(r["started_at"]),
                        _local_time(r["resolved_at"]),
                        r["cause"],
                        r["linked_cases"],
                        r["followups_sampled"],
                        r["followups_not_sampled"],
                    ]
                    for r in n["items"]
                ],
            ),
        },
        "improvements": [
            {
                "problem": str(it["problem"]),
                "department": str(it["department"]),
                "measure": str(it["measure"]),
                "status": str(it["status"]),
                "due_on": fmt(it.get("due_on")),
                "overdue": bool(it["overdue"]),
            }
            for it in m["items"]
        ],
    }


# --- the dashboard -------------------------------------------------------------------------------

STATE_COLORS = {
    "open": charts.BLUE,
    "transferred": charts.AMBER,
    "in_department": charts.GREEN,
    "reopened": charts.RED,
}
KIND_COLORS = {"complaint": charts.RED, "consultation": charts.BLUE}


def _short_day(iso_day: str) -> str:
    return iso_day[5:]  # 2026-11-23 -> 11-23


def _local_time(iso: str | None, length: int = 16) -> str:
    """`2026-11-25T13:49:07+08:00` as `2026-11-25 13:49` (the figures are in Asia/Shanghai)."""
    return "–" if not iso else iso[:length].replace("T", " ")


W = 540  # two charts side by side on a 1280-pixel screen


def dashboard_page(figures: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's page: `templates/dashboard.html`. It reloads itself (a meta refresh),
    carries no script and loads nothing, so it works on a wall screen without internet
    access."""
    o, k, t = figures["open_cases"], figures["clocks"], figures["intake_today"]
    s, m, n = figures["satisfaction"], figures["time_limits"], figures["incidents"]
    quarter = s["quarter"]
    states = list(STATE_COLORS)
    state_names = [state.replace("_", " ") for state in states]
    kinds = list(KIND_COLORS)
    weeks = [_short_day(w["week"]) for w in s["weeks"]]
    open_table = (
        _table(
            ["department", *state_names, "total"],
            [
                [r["department"], *[r[state] for state in states], r["total"]]
                for r in o["by_department"]
            ],
        )
        if o["by_department"]
        else None
    )
    breached = [
        [b["case_id"], b["department"], b["kind"], _local_time(b["due_at"])]
        for b in k["oldest_breached"]
    ]
    panels = [
        {
            "title": "Open cases by state and department",
            "chart": charts.stacked_hbar_chart(
                [(r["department"], [r[state] for state in states]) for r in o["by_department"]],
                state_names,
                [STATE_COLORS[state] for state in states],
                "Open cases by department and state",
                width=W,
                empty="no open case",
            ),
            "table": open_table,
        },
        {
            "title": "Time limits now",
            "clocks": {"at_risk": k["at_risk"], "breached": k["breached"]},
            "table": _table(["case", "department", "kind", "deadline"], breached)
            if breached
            else None,
        },
        {
            "title": f"Received today ({t['date']}) by channel",
            "chart": charts.stacked_hbar_chart(
                [(r["channel"], [r.get(kind, 0) for kind in kinds]) for r in t["by_channel"]],
                kinds,
                [KIND_COLORS[kind] for kind in kinds],
                "Cases received today by channel",
                width=W,
                empty="no case received today",
            ),
        },
        {
            "title": f"Time limits kept per week, {quarter} (met / (met + breached))",
            "chart": charts.line_chart(
                [(_short_day(w["week"]), w["compliance_percent"]) for w in m["weeks"]],
                "Time limits kept per week (%)",
                width=W,
                max_value=100,
                suffix="%",
                color=charts.GREEN,
            ),
        },
        {
            "title": f"Satisfaction per week, {quarter}: mean (1–5)",
            "chart": charts.line_chart(
                list(zip(weeks, [w["mean"] for w in s["weeks"]], strict=True)),
                "Mean satisfaction per week (1–5)",
                width=W,
                max_value=5,
                ticks=5,
                color=charts.BLUE,
            ),
        },
        {
            "title": f"Satisfaction per week, {quarter}: responses",
            "chart": charts.bar_chart(
                list(zip(weeks, [w["responses"] for w in s["weeks"]], strict=True)),
                "Satisfaction responses per week",
                colors=[charts.GREY],
                width=W,
                height=240,
            ),
        },
        {
            "title": f"Network incidents, {n['quarter']} (their cases are not counted above)",
            "text": f"{n['open_cases']} open cases and {n['received_today']} received today"
            f" belong to network incidents; {n['open']} of the quarter's {n['count']} incidents"
            " are open.",
            "table": _table(
                ["incident", "regions", "categories", "started", "resolved", "cause", "cases"],
                [
                    [
                        r["incident_id"],
                        ", ".join(r["regions"]),
                        ", ".join(r["categories"]),
                        _local_time(r["started_at"]),
                        _local_time(r["resolved_at"]),
                        r["cause"] or "–",
                        r["linked_cases"],
                    ]
                    for r in n["latest"]
                ],
            )
            if n["latest"]
            else None,
        },
    ]
    return {
        "refresh": int(figures["refresh_seconds"]),
        "as_of": _local_time(figures["generated_at"], 19),
        "timezone": figures["timezone"],
        "tiles": [
            _tile(o["total"], "open cases"),
            _tile(k["at_risk"], "at risk now"),
            _tile(k["breached"], "breached now"),
            _tile(t["total"], "received today"),
            _tile(s["mean"], f"satisfaction {s['quarter']}"),
            _tile(m["compliance_percent"], f"time limits kept {m['quarter']}", "%"),
            _tile(n["open_cases"], "open incident cases (apart)"),
        ],
        # every panel has a title and any of: a chart, the clocks' counts, a text, a table
        "panels": [
            {"chart": None, "clocks": None, "text": None, "table": None} | p for p in panels
        ],
    }
