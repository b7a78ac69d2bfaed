"""deploy/prometheus and deploy/grafana against the metrics the code exports: the alert rules
and the scrape config pass promtool, the alerts' unit tests pass, and every series the alerts
and the dashboard read is one the code writes.

promtool comes with Debian's `prometheus` package (.ci/run installs it); without it the promtool
checks are skipped, saying so, and the name checks still run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "cs-platform.json"
# where the code names its series: process counters and histograms, and the facts read at scrape
SOURCES = [ROOT / "shared" / "metrics.py", *sorted(ROOT.glob("services/*/queries.py"))]
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMETHEUS_OWN = {"up"}


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus; .ci/run does)")
    return promtool


def _run(*args: str) -> str:
    result = subprocess.run(
        [_promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _exported() -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        for name in re.findall(r"""["'](cs_[a-z_]+)["']""", path.read_text()):
            names.add(name)
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def _alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def _series_read(expr: str) -> set[str]:
    """Metric names in a PromQL expression (words followed by `{`, `[` or standing alone as a
    selector, minus functions, keywords and label names)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_strings)
    words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", without_groupings))
    keywords = {"and", "or", "unless", "offset", "bool"}
    return {w for w in words if w not in keywords and (w.startswith("cs_") or w == "up")}


def test_the_alert_rules_pass_promtool_and_their_unit_tests() -> None:
    assert "SUCCESS" in _run("check", "rules", "alerts.yml")
    assert "SUCCESS" in _run("test", "rules", "alerts.test.yml")


def test_the_scrape_config_passes_promtool_and_loads_the_alert_rules() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    targets = config["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"127.0.0.1:{p}" for p in (8081, 8082, 8083, 8084)]
    _run("check", "config", "prometheus.yml")


def test_the_alerts_cover_what_operators_were_told_to_watch() -> None:
    rules = {r["alert"]: r for r in _alert_rules()}
    read = {name for r in rules.values() for name in _series_read(r["expr"])}
    # relay stalled, backlog growing, dead letters, breaches rising, processes down
    for series in (
        "cs_outbox_published_total",
        "cs_outbox_backlog",
        "cs_events_dead_lettered_total",
        "cs_sla_clocks",
        "cs_processes_alive",
    ):
        assert series in read, series
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["runbook"] == "docs/operations.md#alerts"
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text()))
    documented = (ROOT / "docs" / "operations.md").read_text()
    for name in rules:
        assert f"`{name}`" in documented, f"{name} is not in docs/operations.md"
    assert not set(rules) - tested, f"alerts without a unit test: {sorted(set(rules) - tested)}"


def test_every_series_the_alerts_and_the_dashboard_read_is_exported() -> None:
    exported = _exported() | PROMETHEUS_OWN
    assert {"cs_outbox_published_total", "cs_sla_clocks", "cs_processes_alive"} <= exported
    queries = [r["expr"] for r in _alert_rules()] + _dashboard_queries()
    assert len(queries) > 20
    for query in queries:
        read = _series_read(query)
        assert read, f"reads no series: {query}"
        assert read <= exported, f"{query}: no such series {sorted(read - exported)}"


def test_the_dashboard_is_a_grafana_dashboard_whose_queries_parse(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "cs-platform" and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "service"}
    for p in panels:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}" and p["targets"], p["title"]
    # promtool parses PromQL in rules: each query becomes a recording rule
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": q.replace("$service", ".+")}
                    for i, q in enumerate(_dashboard_queries())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    _run("check", "rules", str(path))
