"""`cs demo` through the real processes of all four services, on a system of its own (the
reports and the dashboard sweep everything): a history of the quarter before and this one up to
now, every step at its own time; the dashboard and the reports see it week by week; the links
it prints open in a browser; a second run adds nothing. (Its plan: tests/unit/test_demo_plan.py.)"""

from __future__ import annotations

import http.cookiejar
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from demo import data
from demo.client import Api
from demo.periods import TZ
from shared import cli, clock
from shared.config import SERVICES
from shared.periods import Period
from shared.testing.plugin import System

CASES = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def system(own_system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The four services' web, relay and consumer processes and routing's scheduler, on the
    test's own database and broker names, with the suite's clock."""
    settings = own_system.settings
    ports = {s: _free_port() for s in SERVICES}
    env = own_system.env(
        CS_METRICS_DIR=str(tmp_path_factory.mktemp("metrics")),
        CS_WEB_WORKERS="1",
        CS_WEB_THREADS="8",
        CS_RELAY_POLL_S="0.2",
        CS_SCHEDULER_INTERVAL_S="1",
    )
    commands = [("serve", s, "--port", str(ports[s])) for s in SERVICES]
    commands += [(role, s) for s in SERVICES for role in ("relay", "consume")]
    commands.append(("schedule", "routing"))
    logs = tmp_path_factory.mktemp("logs")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shared.cli", *c],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(logs / "-".join(c[:2])).open("wb"),
        )
        for c in commands
    ]

    def ended() -> str:
        """The last lines of what a process that ended said."""
        gone = [c for c, p in zip(commands, procs, strict=True) if p.poll() is not None]
        return "; ".join(
            f"{' '.join(c)}: {(logs / '-'.join(c[:2])).read_text()[-600:]}" for c in gone
        )

    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    api = Api(urls, settings.jwt_secret, timeout=5)
    try:
        deadline = time.monotonic() + 60
        while any(api.problem(s) for s in SERVICES):
            assert time.monotonic() < deadline, "the services did not answer within 60 s"
            assert all(p.poll() is None for p in procs), f"a service process ended: {ended()}"
            time.sleep(0.3)
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _demo(urls: dict[str, str]) -> int:
    args = ["demo", "--cases", str(CASES), "--seed", "3", "--patience", "30"]
    for service, url in urls.items():
        args += [f"--{service}-url", url]
    return cli.main(args)


def _browser_opens(url: str) -> tuple[int, str, str]:
    """What a browser gets for a link: redirects followed with their cookies, no header."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )
    with opener.open(url, timeout=30) as r:
        return r.status, r.headers.get_content_type(), r.read().decode()


@pytest.mark.slow
def test_the_demo_plays_two_quarters_of_history_and_adds_nothing_twice(
    system: dict[str, str],
    own_system: System,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = own_system.settings
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("AMQP_URL", settings.amqp_url),
        ("CS_BROKER_PREFIX", settings.broker_prefix),
    ):
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    assert _demo(system) == 0, capsys.readouterr().out[-3000:]
    out = capsys.readouterr().out
    assert "Where to look" in out
    now = clock.now()
    quarter = Period.of(now, "quarter")
    before = quarter.previous()
    api = Api(system, settings.jwt_secret)
    supervisor = (data.SUPERVISOR, "supervisor")

    # the cases: all of them, received over both quarters, the old ones long handled
    cases = api.get("intake", "/cases", supervisor, per_page=500)["items"]
    assert len(cases) == CASES
    assert {c["channel"] for c in cases} == {"hotline", "email", "online"}
    received = [datetime.fromisoformat(c["received_at"]) for c in cases]
    assert min(received) < before.start + timedelta(days=14)
    assert before.start <= min(received) and max(received) <= now
    if now - quarter.start > timedelta(days=2):
        assert any(r >= quarter.start for r in received)
    states = Counter(c["state"] for c in cases)
    assert states["closed"] + states["resolved"] >= 0.8 * CASES, states
    old = [c for c in cases if datetime.fromisoformat(c["received_at"]) < now - timedelta(days=20)]
    for c in old:  # every step at its own time, none of them today
        opened, resolved = c["opened_at"], c["resolved_at"]
        assert datetime.fromisoformat(opened) - datetime.fromisoformat(c["received_at"]) < (
            timedelta(hours=1)
        )
        if resolved:
            assert datetime.fromisoformat(resolved) < now - timedelta(days=5), c["case_no"]
            assert c["case_no"][2:10] == datetime.fromisoformat(opened).astimezone(TZ).strftime(
                "%Y%m%d"
            )
    transferred = [c for c in old if c["department"] and not c["first_contact"]]
    assert transferred
    timeline = api.get("intake", f"/cases/{transferred[0]['id']}/timeline", supervisor)["items"]
    steps = [e for e in timeline if e["type"] in ("opened", "transferred", "routed", "resolved")]
    assert [e["type"] for e in steps][:4] == ["opened", "transferred", "routed", "resolved"]
    assert all(datetime.fromisoformat(e["at"]) < now - timedelta(days=5) for e in steps)

    # the reports: this quarter compares with the one before; time limits mostly kept
    report = api.get("followup", f"/reports/quarterly/{quarter}", supervisor)
    earlier = api.get("followup", f"/reports/quarterly/{before}", supervisor)
    assert report["complaints"]["previous_volume"] == earlier["complaints"]["volume"] > 0
    for figures in (report, earlier):
        kept = figures["time_limits"]
        assert kept["met"] + kept["breached"] >= 0.2 * CASES or figures is report
        if kept["met"] + kept["breached"] >= 20:
            assert 80 <= kept["compliance_percent"] <= 100, kept
        assert figures["satisfaction"]["mean"] is None or figures["satisfaction"]["mean"] >= 3
    assert earlier["satisfaction"]["responses"] >= 0.5 * sum(r < quarter.start for r in received)

    # the dashboard: the elapsed weeks of this quarter have data; an empty one is no data
    dashboard = api.get("followup", "/dashboard.json", supervisor)["time_limits"]["weeks"]
    for week in dashboard:
        if week["met"] + week["breached"] == 0:
            assert week["compliance_percent"] is None, week
    if len(dashboard) >= 3:
        with_data = [w for w in dashboard if w["met"] + w["breached"]]
        assert len(with_data) >= 0.6 * len(dashboard), dashboard

    # the links it prints open in a browser, token and all
    links = re.findall(r"(http://127\.0\.0\.1:\d+/\S+\?token=[\w.-]+)", out)
    assert len(links) == 3, out[-2000:]
    for link in links:
        status, kind, page = _browser_opens(link)
        assert (status, kind) == (200, "text/html"), link
        assert "<svg" in page

    # again: it says what is there and adds nothing
    assert _demo(system) == 0
    out = capsys.readouterr().out
    assert "already loaded" in out and "?token=" in out
    assert api.get("intake", "/cases", supervisor, per_page=1)["total"] == CASES
    tag = f"DEMO-3-{quarter.year}Q{quarter.number}-2-00001"
    assert not api.get("intake", "/customers", supervisor, account_no=tag)["items"]
    assert time.monotonic() - started < 180
