"""docker-compose.yml against the code it runs: same processes as the Procfile, same commands,
ports from shared.config, and only environment variables that shared/ actually reads; and
against the compose specification's JSON schema (the copy `check-jsonschema` vendors).

Static checks only: they parse files and need no servers and no docker engine.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.config import (
    OUTSIDE_SYSTEMS,
    SECRETS,
    SERVICES,
    migrate_variables,
    process_variables,
)
from shared.service import load_service

ROOT = Path(__file__).resolve().parents[2]
INFRA = {"postgres", "rabbitmq", "rabbitmq-2", "rabbitmq-3", "migrate"}
ROLES = ("web", "relay", "consumer")
CONNECTION_SETTINGS = {"DATABASE_URL", "AMQP_URL", *SECRETS}


def _procfile() -> dict[str, list[str]]:
    processes: dict[str, list[str]] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        processes[name.strip()] = command.split()
    return processes


PROCFILE = _procfile()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def app_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items() if name not in INFRA}


def _image_entrypoint() -> list[str]:
    """The Dockerfile's ENTRYPOINT (exec form), [] when it has none."""
    entrypoint: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENTRYPOINT"):
            entrypoint = json.loads(line[len("ENTRYPOINT") :])
    return entrypoint


def _argv(svc: dict) -> list[str]:
    """What the container runs: entrypoint (the service's, else the image's) plus command."""

    def as_list(value: str | list[str] | None) -> list[str]:
        if value is None:
            return []
        return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]

    entrypoint = as_list(svc["entrypoint"]) if "entrypoint" in svc else _image_entrypoint()
    return entrypoint + as_list(svc.get("command"))


def _env(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _volume_mounts(svc: dict) -> set[tuple[str, str]]:
    mounts = set()
    for v in svc.get("volumes") or []:
        if isinstance(v, str):
            source, target = v.split(":")[:2]
        else:
            source, target = v.get("source", ""), v["target"]
        mounts.add((source, target))
    return mounts


def _published(svc: dict) -> set[tuple[int, int]]:
    """(host port, container port) pairs."""
    pairs = set()
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            pairs.add((int(p["published"]), int(p["target"])))
        else:
            parts = str(p).split("/")[0].split(":")
            pairs.add((int(parts[-2]), int(parts[-1])) if len(parts) >= 2 else (0, int(parts[0])))
    return pairs


def _env_names_read_by_shared() -> set[str]:
    names: set[str] = set()
    for path in sorted((ROOT / "shared").glob("*.py")):
        text = path.read_text()
        names |= set(re.findall(r"""\b_(?:env|int|float)\(\s*["']([A-Z][A-Z0-9_]*)["']""", text))
        names |= set(re.findall(r"""os\.environ\.get\(\s*["']([A-Z][A-Z0-9_]*)["']""", text))
        names |= set(re.findall(r"""os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]""", text))
        for prefix, suffix in re.findall(
            r"""\b_env\(\s*f["']([A-Z0-9_]*)\{\w+\.upper\(\)\}([A-Z0-9_]*)["']""", text
        ):
            names |= {f"{prefix}{s.upper()}{suffix}" for s in (*SERVICES, *OUTSIDE_SYSTEMS)}
    return names


def test_the_procfile_is_the_expected_process_list() -> None:
    from shared.service import load_service

    schedulers = {f"{s}-scheduler" for s in SERVICES if load_service(s).scheduled is not None}
    assert set(PROCFILE) == {f"{s}-{role}" for s in SERVICES for role in ROLES} | schedulers


def test_compose_runs_exactly_the_procfile_processes(app_services: dict) -> None:
    assert set(app_services) == set(PROCFILE)


def test_each_compose_service_runs_its_procfile_command(app_services: dict) -> None:
    for name, svc in app_services.items():
        assert _argv(svc) == PROCFILE[name], name


def test_every_process_waits_for_the_migration(compose: dict, app_services: dict) -> None:
    migrate = compose["services"]["migrate"]
    assert _argv(migrate) == ["cs", "migrate", "all"]
    for infra in ("postgres", "rabbitmq"):
        assert migrate["depends_on"][infra]["condition"] == "service_healthy"
        assert compose["services"][infra].get("healthcheck"), infra
    for name, svc in app_services.items():
        depends_on = svc.get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form"
        assert depends_on.get("migrate", {}).get("condition") == (
            "service_completed_successfully"
        ), name
        assert svc.get("restart") == "unless-stopped", name


def test_web_services_publish_their_port_on_all_interfaces(app_services: dict) -> None:
    for service in SERVICES:
        svc, port = app_services[f"{service}-web"], load_service(service).port
        assert (port, port) in _published(svc), service
        assert _env(svc).get("CS_BIND_HOST") == "0.0.0.0", service
        check = svc.get("healthcheck", {}).get("test")
        check = " ".join(check) if isinstance(check, list) else str(check)
        assert f":{port}/healthz" in check, service
    for name, svc in app_services.items():
        if not name.endswith("-web"):
            assert not svc.get("ports"), f"{name} has nothing to publish"


def test_only_settings_that_shared_reads_are_given(app_services: dict) -> None:
    known = _env_names_read_by_shared()
    # the collection itself must work, or this test would pass on nothing
    assert {"DATABASE_URL", "CS_BIND_HOST", "CS_METRICS_DIR", "CS_INTAKE_DB_PASSWORD"} <= known
    for name, svc in app_services.items():
        unknown = set(_env(svc)) - known
        assert not unknown, f"{name} sets variables nothing in shared/ reads: {sorted(unknown)}"


def test_connection_settings_are_set_everywhere(compose: dict, app_services: dict) -> None:
    for name, svc in {**app_services, "migrate": compose["services"]["migrate"]}.items():
        env = _env(svc)
        missing = CONNECTION_SETTINGS - {k for k, v in env.items() if v.strip()}
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert "@postgres:" in env["DATABASE_URL"], name
        assert "@rabbitmq:" in env["AMQP_URL"], name
        for secret in SECRETS:
            # required from the operator (${VAR:?message}), never a baked-in default
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), (name, secret)


def test_what_a_process_refuses_to_default_compose_requires(
    compose: dict, app_services: dict
) -> None:
    """Compose runs outside development: every secret and password a container's process
    refuses as a development default is required from the operator, never defaulted."""
    wanted = {name: process_variables(name.partition("-")[0]) for name in app_services}
    wanted["migrate"] = migrate_variables()
    for name, variables in wanted.items():
        env = _env(compose["services"][name])
        for variable in variables:
            assert variable in env, (name, variable)
            assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", env[variable]), (name, variable)


def test_compose_is_not_development(compose: dict) -> None:
    for name, svc in compose["services"].items():
        assert "CS_ENV" not in _env(svc), name


def test_each_service_shares_one_metrics_volume(compose: dict, app_services: dict) -> None:
    named_volumes = set(compose.get("volumes") or {})
    for service in SERVICES:
        web = app_services[f"{service}-web"]
        processes = [n for n in app_services if n.partition("-")[0] == service]
        assert len(processes) >= len(ROLES), service
        for name in processes:  # web, relay, consumer and any scheduler
            svc = app_services[name]
            metrics_dir = _env(svc).get("CS_METRICS_DIR")
            assert metrics_dir, f"{name}: CS_METRICS_DIR unset"
            assert (f"{service}-metrics", metrics_dir) in _volume_mounts(svc), name
            if name != f"{service}-web":
                # multiprocess files are named by pid: one PID namespace keeps them apart
                assert svc.get("pid") == f"service:{service}-web", name
        assert f"{service}-metrics" in named_volumes
        assert _env(web)["CS_METRICS_DIR"] == metrics_dir


def test_the_image_runs_the_cs_cli_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert _image_entrypoint() == ["cs"]
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


def test_dev_up_runs_the_same_procfile() -> None:
    script = (ROOT / "dev").read_text()
    up = re.search(r"^\s*up\)\n(.*?)^\s*;;", script, re.MULTILINE | re.DOTALL)
    assert up, "dev has no `up)` case"
    assert re.search(r"\bhoncho start -f Procfile\b", up.group(1))
    # a development machine: the processes it starts accept the development secrets
    assert re.search(r"^\s*export CS_ENV=\$\{CS_ENV:-development\}$", up.group(1), re.MULTILINE)


def test_the_cluster_profile_adds_two_rabbitmq_nodes_that_join_the_first(compose: dict) -> None:
    peers = {n: s for n, s in compose["services"].items() if "cluster" in s.get("profiles", [])}
    assert set(peers) == {"rabbitmq-2", "rabbitmq-3"}
    cookie = compose["services"]["rabbitmq"]["environment"]["RABBITMQ_ERLANG_COOKIE"]
    for name, peer in peers.items():
        assert peer["hostname"] == name
        assert peer["command"][-1] == "rabbit@rabbitmq"
        assert peer["environment"]["RABBITMQ_ERLANG_COOKIE"] == cookie
        assert any("join-cluster.sh" in v for v in peer["volumes"])
    assert (ROOT / "deploy" / "rabbitmq" / "join-cluster.sh").exists()


def test_every_long_running_process_has_a_health_check(app_services: dict) -> None:
    """Web processes answer /healthz; relays, consumers and schedulers ask `cs health` about
    their own heartbeat (this container's: --here)."""
    from shared.service import load_service

    for name, svc in app_services.items():
        check = svc.get("healthcheck")
        assert check and check.get("test"), f"{name} has no health check"
        if name.endswith("-web"):
            continue
        service, _, process = name.partition("-")
        assert process in load_service(service).processes, name
        assert check["test"] == ["CMD", "cs", "health", "--here", name], name
        # it must not call the process dead while it still migrates at start
        assert check.get("start_period", "0s") not in {"0s", "0"}, name


def _compose_schema_errors(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with the compose specification's schema it vendors (no network)."""
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_follows_the_compose_specification() -> None:
    run = _compose_schema_errors(ROOT / "docker-compose.yml")
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_compose_schema_check_can_fail(compose: dict, tmp_path: Path) -> None:
    broken = dict(compose, services=dict(compose["services"]))
    broken["services"]["intake-web"] = dict(broken["services"]["intake-web"], restart_policy="no")
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken))
    run = _compose_schema_errors(tmp_path / "docker-compose.yml")
    assert run.returncode == 1 and "restart_policy" in run.stdout + run.stderr
