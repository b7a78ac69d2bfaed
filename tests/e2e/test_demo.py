"""`cs demo`: its plan (shares, times, fictitious people intake accepts), and a small load through
the real processes of all four services: cases in every channel, resolutions, follow-up calls,
a quarterly report with satisfaction figures, and a second run that adds nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from services.intake.domain.masking import normalise_id_number, normalise_phone
from shared import cli
from shared.config import SERVICES, Settings
from shared.demo import data
from shared.demo.client import Api
from shared.demo.quarter import TZ, Calendar, Plan, Quarter, build
from shared.demo.run import current_quarter

Q4 = Quarter(2026, 4)
NOW = datetime(2026, 11, 25, 13, 40, tzinfo=TZ)  # a Wednesday
# National Day 10-01..10-07 off, Sat 10-10 a makeup workday (as routing's calendar has them)
CALENDAR = Calendar({date(2026, 10, d): False for d in range(1, 8)} | {date(2026, 10, 10): True})


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build(Q4, 7, 3000, NOW, CALENDAR)


def test_the_plan_is_the_same_for_the_same_seed_and_shaped_as_intended(plan: Plan) -> None:
    assert build(Q4, 7, 3000, NOW, CALENDAR) == plan
    assert build(Q4, 8, 3000, NOW, CALENDAR).customers != plan.customers
    n = len(plan.cases)
    channels = Counter(c.channel for c in plan.cases)
    assert 0.58 < channels["hotline"] / n < 0.72 and 0.06 < channels["email"] / n < 0.14
    assert 0.30 < sum(c.kind == "complaint" for c in plan.cases) / n < 0.40
    routes = Counter(c.route for c in plan.cases)
    assert 0.55 < routes["first_contact"] / n < 0.65
    assert 0.30 < routes["transfer"] / n < 0.42
    assert 0.10 < sum(bool(c.eta_days) for c in plan.cases) / routes["transfer"] < 0.20
    reached = [k for c in plan.cases for k in c.calls if k.result == "reached"]
    assert sum(k.satisfaction >= 4 for k in reached if k.satisfaction) / len(reached) > 0.75
    assert 0.02 < sum(k.solved is False for k in reached) / len(reached) < 0.08
    outage = [c for c in plan.cases if c.outage]
    assert outage and {(c.category, c.customer.region) for c in outage} == {
        ("broadband", plan.outage_region)
    }


def test_cases_handled_in_time_are_received_within_their_time_limit(plan: Plan) -> None:
    for c in plan.cases:
        assert Q4.start <= c.received_at < NOW
        due = CALENDAR.due(c.received_at, 2 if c.kind == "complaint" else 1)
        if c.late:
            assert due < NOW  # breached already
        else:
            assert due > NOW + timedelta(minutes=30)
    late = [c for c in plan.cases if c.late]
    assert 0.02 < len(late) / len(plan.cases) < 0.04
    assert min(c.received_at for c in late) < datetime(2026, 10, 20, tzinfo=TZ)
    # a quarter that is over: receipts spread over all of it
    q3 = build(Quarter(2026, 3), 7, 300, NOW, CALENDAR)
    assert not q3.live and len({c.received_at.month for c in q3.cases}) == 3
    with pytest.raises(ValueError):
        build(Quarter(2027, 1), 7, 10, NOW, CALENDAR)


def test_personal_data_passes_intake_and_cannot_be_anyones(plan: Plan) -> None:
    for c in plan.customers:
        assert c.account_no.startswith("DEMO-7-2026Q4-1-")
        for phone in c.phones:  # `00…` is the international prefix: no subscriber's number
            assert normalise_phone(phone) == phone and phone.startswith(data.PHONE_PREFIX)
        if c.id_number is not None:  # province 99 does not exist
            assert normalise_id_number(c.id_number) == c.id_number
            assert c.id_number.startswith(data.ID_AREA)
        assert c.email is None or c.email.endswith("@example.com")
    staff_names = " ".join(str(s["display_name"]) for s in data.staff_directory())
    assert not any(c.name in staff_names for c in plan.customers)


# --- a small load through the real processes --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def system(cs_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The four services' web, relay and consumer processes and routing's scheduler."""
    ports = {s: _free_port() for s in SERVICES}
    env = dict(
        os.environ,
        DATABASE_URL=cs_settings.database_url,
        AMQP_URL=cs_settings.amqp_url,
        CS_BROKER_PREFIX=cs_settings.broker_prefix,
        CS_METRICS_DIR=str(tmp_path_factory.mktemp("metrics")),
        CS_WEB_WORKERS="1",
        CS_WEB_THREADS="8",
        CS_RELAY_POLL_S="0.2",
        CS_SCHEDULER_INTERVAL_S="1",
    )
    commands = [("serve", s, "--port", str(ports[s])) for s in SERVICES]
    commands += [(role, s) for s in SERVICES for role in ("relay", "consume")]
    commands.append(("schedule", "routing"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shared.cli", *c],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for c in commands
    ]
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    api = Api(urls, cs_settings.jwt_secret, timeout=5)
    try:
        deadline = time.monotonic() + 60
        while any(api.problem(s) for s in SERVICES):
            assert time.monotonic() < deadline, "the services did not answer within 60 s"
            assert all(p.poll() is None for p in procs), "a service process ended"
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


def _demo(urls: dict[str, str], *extra: str) -> int:
    args = ["demo", "--cases", "40", "--seed", "3", "--patience", "30", *extra]
    for service, url in urls.items():
        args += [f"--{service}-url", url]
    return cli.main(args)


@pytest.mark.slow
def test_the_demo_loads_a_quarter_through_the_apis_and_adds_nothing_twice(
    system: dict[str, str],
    cs_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AMQP_URL", cs_settings.amqp_url)
    monkeypatch.setenv("CS_BROKER_PREFIX", cs_settings.broker_prefix)
    started = time.monotonic()
    assert _demo(system) == 0, capsys.readouterr().out[-2000:]
    out = capsys.readouterr().out
    assert "Where to look" in out and "/reports/quarterly/" in out
    api = Api(system, cs_settings.jwt_secret)
    supervisor = (data.SUPERVISOR, "supervisor")
    quarter = current_quarter()
    tag = f"DEMO-3-{quarter.replace('-', '')}-1-"

    cases = api.get("intake", "/cases", supervisor, per_page=500)
    customers = {
        api.get("intake", "/customers", supervisor, account_no=f"{tag}{i:05d}")["items"][0]["id"]
        for i in range(1, 27)
    }
    ours = [c for c in cases["items"] if c["customer_id"] in customers]
    assert len(ours) == 40
    assert {c["channel"] for c in ours} == {"hotline", "email", "online"}
    states = Counter(c["state"] for c in ours)
    assert states["closed"] + states["resolved"] >= 20, states
    assert sum(bool(c["first_contact"]) for c in ours) >= 15
    assert any(c["department"] for c in ours if not c["first_contact"])
    followups = api.get("followup", "/followups", supervisor, state="completed", per_page=500)
    ids = {c["id"] for c in ours}
    completed = [f for f in followups["items"] if f["case_id"] in ids]
    assert len(completed) >= 15 and any(f["satisfaction"] for f in completed)
    report = api.get("followup", f"/reports/quarterly/{quarter}", supervisor)
    assert report["satisfaction"]["responses"] >= 15 and report["satisfaction"]["mean"] >= 3
    assert report["complaints"]["volume"] >= 5
    assert report["time_limits"]["met"] >= 20

    # again: nothing added
    assert _demo(system) == 0
    out = capsys.readouterr().out
    assert "already loaded" in out
    assert api.get("intake", "/cases", supervisor, per_page=1)["total"] == cases["total"]
    second_set = f"{tag[:-2]}2-00001"
    assert not api.get("intake", "/customers", supervisor, account_no=second_set)["items"]
    assert time.monotonic() - started < 60
