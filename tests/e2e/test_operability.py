"""Every process observable, as `./dev up` runs them: separate `cs` processes sharing a metrics
directory. The relay's, consumer's and scheduler's series reach their web's /metrics, the
heartbeats answer `cs health`, and gunicorn's own lines and one access line per request come out
as masked JSON with the request's correlation id."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.auth import mint_token
from shared.testing.scrape import metric_value
from shared.testing.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Processes:
    env: dict[str, str]
    ports: dict[str, int]
    logs: Path
    procs: dict[str, subprocess.Popen]

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def metrics(self, service: str) -> str:
        with urllib.request.urlopen(self.url(service, "/metrics"), timeout=5) as r:
            return r.read().decode()

    def log_lines(self, name: str) -> list[str]:
        return (self.logs / f"{name}.log").read_text().splitlines()

    def health(self, *processes: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "shared.cli", "health", "--here", *processes],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture
def processes(own_system, tmp_path: Path) -> Iterator[Processes]:
    """intake's web and relay, routing's web, consumer and scheduler, as processes."""
    env = own_system.env(
        CS_METRICS_DIR=str(tmp_path / "metrics"),
        CS_WEB_WORKERS="2",
        CS_RELAY_POLL_S="0.2",
        CS_SCHEDULER_INTERVAL_S="0.5",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    ports = {"intake": _free_port(), "routing": _free_port()}
    commands = {
        "intake-web": ["serve", "intake", "--port", str(ports["intake"])],
        "intake-relay": ["relay", "intake"],
        "routing-web": ["serve", "routing", "--port", str(ports["routing"])],
        "routing-consumer": ["consume", "routing"],
        "routing-scheduler": ["schedule", "routing"],
    }
    procs = {}
    for name, args in commands.items():
        with (tmp_path / f"{name}.log").open("wb") as log:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
    running = Processes(env, ports, tmp_path, procs)

    def answering() -> bool:
        for name, p in procs.items():
            assert p.poll() is None, f"{name} ended: {running.log_lines(name)[-5:]}"
        try:
            for service in ports:
                urllib.request.urlopen(running.url(service, "/healthz"), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        wait_until(answering, 90, "intake's and routing's web processes")
        yield running
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def _open_case(processes: Processes, correlation_id: str) -> dict:
    token = mint_token(processes.env["CS_JWT_SECRET"], "agent-ops", ("agent",))
    body = {
        "kind": "complaint",
        "channel": "hotline",
        "category": "broadband",
        "region": "Haidian",
        "customer_ref": f"ACC-OPS-{uuid.uuid4().hex[:8]}",
        "content": "Broadband slow in the evenings",
        "identity_verified": True,
    }
    request = urllib.request.Request(
        # a query string that must not reach the access log
        processes.url("intake", "/cases?caller=13812345678"),
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "X-Correlation-ID": correlation_id,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 201
        return json.loads(r.read())


def test_the_series_of_every_process_reach_their_services_metrics(processes: Processes) -> None:
    correlation_id = str(uuid.uuid4())
    _open_case(processes, correlation_id)

    def intake_published() -> float | None:
        text = processes.metrics("intake")
        return metric_value(text, "cs_outbox_published_total", type="case.opened")

    assert wait_until(intake_published, 20, "intake's relay to publish case.opened") >= 1

    def routing_consumed() -> str | None:
        text = processes.metrics("routing")
        consumed = metric_value(text, "cs_events_consumed_total", type="case.opened")
        clocks = metric_value(text, "cs_sla_clocks", clock="customer", state="running")
        return text if consumed and clocks else None

    text = wait_until(routing_consumed, 20, "routing to consume case.opened and start a clock")
    assert metric_value(text, "cs_consumer_batch_size_count", service="routing") >= 1
    assert metric_value(text, "cs_consumer_lag_seconds_count", service="routing") >= 1
    assert metric_value(text, "cs_scheduler_ticks_total", service="routing") >= 1
    # no routing relay runs here: its sla.started waits in the outbox
    assert metric_value(text, "cs_outbox_backlog", service="routing") >= 1
    for process in ("consumer", "scheduler"):
        assert metric_value(text, "cs_processes_alive", process=process) == 1, process
    assert metric_value(text, "cs_processes_alive", process="relay") == 0
    intake = processes.metrics("intake")
    assert metric_value(intake, "cs_processes_alive", process="relay") == 1
    wait_until(  # read from the schema, kept 5 s
        lambda: metric_value(processes.metrics("intake"), "cs_outbox_backlog") == 0,
        15,
        "intake's backlog gauge to read 0",
    )

    healthy = processes.health("intake-relay", "routing-consumer", "routing-scheduler")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.count("\tok\t") == 3
    missing = processes.health("intake-consumer")
    assert missing.returncode == 1 and "intake-consumer\tNOT ALIVE" in missing.stdout

    processes.procs["intake-relay"].send_signal(signal.SIGTERM)
    assert processes.procs["intake-relay"].wait(15) == 0
    assert processes.health("intake-relay").returncode == 1
    wait_until(
        lambda: (
            metric_value(processes.metrics("intake"), "cs_processes_alive", process="relay") == 0
        ),
        15,
        "intake's /metrics to see its relay gone",
    )
    # the counters of a process that ended still count
    assert intake_published() >= 1


def test_gunicorn_lines_and_one_access_line_per_request_are_masked_json(
    processes: Processes,
) -> None:
    correlation_id = str(uuid.uuid4())
    _open_case(processes, correlation_id)
    with urllib.request.urlopen(processes.url("intake", "/healthz?probe=1"), timeout=5):
        pass

    def access_lines() -> list[dict]:
        entries = [json.loads(line) for line in processes.log_lines("intake-web")]
        return [e for e in entries if e["logger"] == "gunicorn.access"]

    wait_until(lambda: len(access_lines()) >= 2, 10, "two access lines")
    lines = processes.log_lines("intake-web")
    entries = [json.loads(line) for line in lines]  # every line is JSON, gunicorn's too
    assert all(e["service"] == "intake-web" for e in entries)
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["msg"] for e in entries)
    posts = [e for e in access_lines() if e["method"] == "POST"]
    assert len(posts) == 1
    post = posts[0]
    assert post["path"] == "/cases" and post["status"] == 201 and post["level"] == "info"
    assert post["correlation_id"] == correlation_id
    assert isinstance(post["ms"], float) and 0 < post["ms"] < 10_000
    health = [e for e in access_lines() if e["path"] == "/healthz"]
    assert health and health[0]["status"] == 200
    assert len(health[0]["correlation_id"]) == 36  # the id the service gave the request
    assert "13812345678" not in "\n".join(lines) and "caller=" not in "\n".join(lines)
