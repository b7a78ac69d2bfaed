"""The quarterly report as CSV rows and as a self-contained HTML page (no I/O).

The page carries its style inline and draws its charts as inline SVG: no script, no stylesheet
or font from the network, so it shows the same on a machine without internet access.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from services.followup.domain import charts
from services.followup.domain.report import SCORES

CSV_HEADER = ("section", "group", "key", "metric", "value")


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


_STYLE = """
body { font-family: sans-serif; color: #1a202c; margin: 24px auto; max-width: 1120px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #2b6cb0; padding-bottom: 4px; margin-top: 32px; }
.sub { color: #4a5568; margin-top: 0; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; }
.tile { border: 1px solid #e2e8f0; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.tile b { display: block; font-size: 26px; color: #2b6cb0; }
.tile span { color: #4a5568; font-size: 13px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-weight: bold; margin-bottom: 6px; }
table { border-collapse: collapse; margin-top: 8px; font-size: 13px; }
th, td { border: 1px solid #e2e8f0; padding: 4px 8px; text-align: left; }
th { background: #f7fafc; }
td.n { text-align: right; }
.overdue { color: #c53030; font-weight: bold; }
"""


def _fmt(value: Any, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


def _tile(value: Any, label: str, suffix: str = "") -> str:
    shown = escape(_fmt(value, suffix))
    return f'<div class="tile"><b>{shown}</b><span>{escape(label)}</span></div>'


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>None in this quarter.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(_fmt(v))}</td>'
            if isinstance(v, int | float)
            else f"<td>{escape(_fmt(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html(report: dict[str, Any]) -> str:
    s, c, t = report["satisfaction"], report["complaints"], report["time_limits"]
    f, i, m = report["followups"], report["inspections"], report["improvements"]
    period = escape(report["period"])
    distribution = charts.bar_chart(
        [(f"{k} ★", s["distribution"][str(k)]) for k in SCORES],
        "Satisfaction scores 1–5",
        colors=[charts.RED, charts.RED, charts.GREY, charts.GREEN, charts.GREEN],
    )
    by_department = charts.hbar_chart(
        [(r["department"], r["mean"]) for r in s["by_department"]],
        "Mean satisfaction by department",
        max_value=5,
    )
    trend = charts.bar_chart(
        [(r["month"], r["count"]) for r in c["monthly"]],
        "Complaints per month, previous and this quarter",
        colors=[charts.GREY] * 3 + [charts.BLUE] * 3,
    )
    trend_line = charts.line_chart(
        [(r["month"], r["count"]) for r in c["monthly"]], "Complaint trend"
    )
    compliance = charts.hbar_chart(
        [(r["department"], r["compliance_percent"]) for r in t["by_department"]],
        "Time limits kept by department (%)",
        max_value=100,
        suffix="%",
        color=charts.GREEN,
    )
    inspection = charts.hbar_chart(
        [(r["department"], r["mean_score"]) for r in i["by_department"]],
        "Mean inspection score by department",
        max_value=100,
    )
    sections = [
        f"<h1>Quarterly service evaluation {period}</h1>",
        f'<p class="sub">{escape(report["from"])} to {escape(report["to"])}'
        f" ({escape(report['timezone'])})</p>",
        '<div class="tiles">',
        _tile(s["mean"], "mean satisfaction (1–5)"),
        _tile(s["csat_percent"], "CSAT (share of 4–5)", "%"),
        _tile(c["volume"], f"complaints (previous quarter {c['previous_volume']})"),
        _tile(t["compliance_percent"], "time limits kept", "%"),
        _tile(f["reach_rate_percent"], "follow-up reach rate", "%"),
        _tile(i["mean_score"], "mean inspection score"),
        _tile(m["open"], "open improvement measures"),
        "</div>",
        "<h2>Satisfaction</h2>",
        f'<div class="charts">{_figure("Distribution of scores", distribution)}'
        f"{_figure('By department', by_department)}</div>",
        _table(
            ["category", "responses", "mean", "CSAT %"],
            [
                [r["category"], r["responses"], r["mean"], r["csat_percent"]]
                for r in s["by_category"]
            ],
        ),
        _table(
            ["channel", "responses", "mean", "CSAT %"],
            [[r["channel"], r["responses"], r["mean"], r["csat_percent"]] for r in s["by_channel"]],
        ),
        "<h2>Complaints</h2>",
        f"<p>{c['volume']} complaints against {c['previous_volume']} in"
        f" {escape(c['previous_quarter'])} (change {escape(_fmt(c['change_percent'], '%'))});"
        f" {c['consultations']} consultations.</p>",
        f'<div class="charts">{_figure("Complaints per month", trend)}'
        f"{_figure('Trend', trend_line)}</div>",
        _table(
            ["category", "complaints", "share %", "previous quarter", "change"],
            [
                [r["category"], r["count"], r["share_percent"], r["previous"], r["change"]]
                for r in c["by_category"]
            ],
        ),
        "<h2>Time limits</h2>",
        f'<div class="charts">{_figure("Kept by department", compliance)}</div>',
        _table(
            ["clock", "met", "breached", "kept %"],
            [
                [k, v["met"], v["breached"], v["compliance_percent"]]
                for k, v in t["by_clock"].items()
            ],
        ),
        "<h2>Follow-up calls</h2>",
        _table(
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
        "<h2>Quality inspections</h2>",
        f'<div class="charts">{_figure("Mean score by department", inspection)}</div>',
        _table(
            ["agent", "scored", "mean score"],
            [[r["agent_id"], r["scored"], r["mean_score"]] for r in i["by_agent"]],
        ),
        "<h2>Feedback from campaigns</h2>",
        _table(
            ["department", "suggestions"],
            [[r["department"], r["count"]] for r in report["feedback"]["by_department"]],
        ),
        "<h2>Open improvement measures</h2>",
        _improvements(m["items"]),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Quarterly evaluation {period}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>"
    )


_OVERDUE = ' class="overdue"'


def _improvements(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<p>None open.</p>"
    rows = "".join(
        "<tr>"
        f"<td>{escape(str(it['problem']))}</td><td>{escape(str(it['department']))}</td>"
        f"<td>{escape(str(it['measure']))}</td><td>{escape(str(it['status']))}</td>"
        f"<td{_OVERDUE if it['overdue'] else ''}>{escape(_fmt(it.get('due_on')))}</td>"
        "</tr>"
        for it in items
    )
    return (
        "<table><thead><tr><th>problem</th><th>department</th><th>measure</th><th>status</th>"
        f"<th>due</th></tr></thead><tbody>{rows}</tbody></table>"
    )


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


_DASHBOARD_STYLE = """
.panels { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0 32px; }
.panels h2 { margin-top: 20px; }
.tile { min-width: 130px; }
"""
W = 540  # two charts side by side on a 1280-pixel screen


def dashboard_html(figures: dict[str, Any]) -> str:
    """The dashboard page: it reloads itself (a meta refresh), carries no script and loads
    nothing, so it works on a wall screen without internet access."""
    o, k, t = figures["open_cases"], figures["clocks"], figures["intake_today"]
    s, m = figures["satisfaction"], figures["time_limits"]
    refresh = int(figures["refresh_seconds"])
    quarter = s["quarter"]
    states = list(STATE_COLORS)
    state_names = [state.replace("_", " ") for state in states]
    open_chart = charts.stacked_hbar_chart(
        [(r["department"], [r[state] for state in states]) for r in o["by_department"]],
        state_names,
        [STATE_COLORS[state] for state in states],
        "Open cases by department and state",
        width=W,
        empty="no open case",
    )
    open_table = (
        _table(
            ["department", *state_names, "total"],
            [
                [r["department"], *[r[state] for state in states], r["total"]]
                for r in o["by_department"]
            ],
        )
        if o["by_department"]
        else ""
    )
    breached = [
        [b["case_id"], b["department"], b["kind"], _local_time(b["due_at"])]
        for b in k["oldest_breached"]
    ]
    breached_table = (
        _table(["case", "department", "kind", "deadline"], breached)
        if breached
        else "<p>No clock is past its deadline.</p>"
    )
    kinds = list(KIND_COLORS)
    intake_chart = charts.stacked_hbar_chart(
        [(r["channel"], [r.get(kind, 0) for kind in kinds]) for r in t["by_channel"]],
        kinds,
        [KIND_COLORS[kind] for kind in kinds],
        "Cases received today by channel",
        width=W,
        empty="no case received today",
    )
    kept_chart = charts.line_chart(
        [(_short_day(w["week"]), w["compliance_percent"]) for w in m["weeks"]],
        "Time limits kept per week (%)",
        width=W,
        max_value=100,
        suffix="%",
        color=charts.GREEN,
    )
    weeks = [_short_day(w["week"]) for w in s["weeks"]]
    mean_chart = charts.line_chart(
        list(zip(weeks, [w["mean"] for w in s["weeks"]], strict=True)),
        "Mean satisfaction per week (1–5)",
        width=W,
        max_value=5,
        ticks=5,
        color=charts.BLUE,
    )
    responses_chart = charts.bar_chart(
        list(zip(weeks, [w["responses"] for w in s["weeks"]], strict=True)),
        "Satisfaction responses per week",
        colors=[charts.GREY],
        width=W,
        height=240,
    )
    panels = [
        ("Open cases by state and department", open_chart + open_table),
        (
            "Time limits now",
            f"<p>{k['at_risk']} cases have a clock at risk (warned, not breached);"
            f" {k['breached']} have one past its deadline. The oldest breaches:</p>"
            + breached_table,
        ),
        (f"Received today ({t['date']}) by channel", intake_chart),
        (f"Time limits kept per week, {quarter} (met / (met + breached))", kept_chart),
        (f"Satisfaction per week, {quarter}: mean (1–5)", mean_chart),
        (f"Satisfaction per week, {quarter}: responses", responses_chart),
    ]
    sections = [
        "<h1>Service dashboard</h1>",
        f'<p class="sub">As of {escape(_local_time(figures["generated_at"], 19))}'
        f" ({escape(figures['timezone'])}). This page refreshes itself every {refresh} seconds."
        "</p>",
        '<div class="tiles">',
        _tile(o["total"], "open cases"),
        _tile(k["at_risk"], "at risk now"),
        _tile(k["breached"], "breached now"),
        _tile(t["total"], "received today"),
        _tile(s["mean"], f"satisfaction {s['quarter']}"),
        _tile(m["compliance_percent"], f"time limits kept {m['quarter']}", "%"),
        "</div>",
        '<div class="panels">',
        *(f"<section><h2>{escape(title)}</h2>{body}</section>" for title, body in panels),
        "</div>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{refresh}">'
        f"<title>Service dashboard</title><style>{_STYLE}{_DASHBOARD_STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>"
    )
