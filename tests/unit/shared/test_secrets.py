"""No development secret outside development: every process, and the commands that use a secret,
refuse to start with an unset or public default secret or password, or a secret too short to be
one, unless CS_ENV=development; the message names the variable in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli import main
from shared.config import (
    DEV_JWT_SECRET,
    DEV_PII_INDEX_KEY,
    DEV_PII_KEY,
    OUTSIDE_SYSTEMS,
    SECRETS,
    SERVICES,
    Settings,
    UnsafeSettings,
    broker_password_variable,
    db_password_variable,
    migrate_variables,
    process_settings,
    process_variables,
)

ROOT = Path(__file__).resolve().parents[3]
JWT = "j" * 40
PII = "p" * 44
INDEX = "i" * 44
REAL = {
    "CS_JWT_SECRET": JWT,
    "CS_PII_KEY": PII,
    "CS_PII_INDEX_KEY": INDEX,
    **{db_password_variable(s): f"db-{s}-real" for s in SERVICES},
    **{broker_password_variable(u): f"mq-{u}-real" for u in (*SERVICES, *OUTSIDE_SYSTEMS)},
}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Not development, with every secret and password real; tests take one away."""
    monkeypatch.delenv("CS_ENV", raising=False)
    for name, value in REAL.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def _refusal(variables: tuple[str, ...]) -> str:
    with pytest.raises(UnsafeSettings) as e:
        Settings.from_env().refuse_development_defaults(variables)
    return str(e.value)


def test_real_values_pass(production: pytest.MonkeyPatch) -> None:
    for service in SERVICES:
        settings = process_settings(service)
        assert settings.jwt_secret == JWT and settings.pii_index_key == INDEX
    Settings.from_env().refuse_development_defaults(migrate_variables())


@pytest.mark.parametrize("variable", SECRETS)
@pytest.mark.parametrize("how", ["unset", "blank", "default"])
def test_a_secret_unset_or_default_is_refused(
    production: pytest.MonkeyPatch, variable: str, how: str
) -> None:
    if how == "unset":
        production.delenv(variable)
    else:
        production.setenv(variable, " " if how == "blank" else DEV_JWT_SECRET)
    message = _refusal(process_variables("routing"))
    assert message.startswith(f"{variable} is unset or the public development default")
    assert "CS_ENV is unset" in message and "CS_ENV=development" in message
    assert "\n" not in message


@pytest.mark.parametrize("default", [DEV_JWT_SECRET, DEV_PII_KEY, DEV_PII_INDEX_KEY])
def test_any_development_default_is_refused_for_any_secret(
    production: pytest.MonkeyPatch, default: str
) -> None:
    production.setenv("CS_PII_KEY", default)
    assert _refusal(SECRETS).startswith("CS_PII_KEY is unset or the public development default")


def test_a_short_secret_is_refused(production: pytest.MonkeyPatch) -> None:
    production.setenv("CS_JWT_SECRET", "x" * 31)
    assert _refusal(SECRETS).startswith("CS_JWT_SECRET is shorter than 32 characters")
    production.setenv("CS_JWT_SECRET", "x" * 32)
    Settings.from_env().refuse_development_defaults(SECRETS)


def test_the_index_key_no_longer_defaults_to_the_pii_key(production: pytest.MonkeyPatch) -> None:
    production.delenv("CS_PII_INDEX_KEY")
    settings = Settings.from_env()
    assert settings.pii_key == PII
    assert settings.pii_index_key == DEV_PII_INDEX_KEY
    message = _refusal(SECRETS)
    assert message.startswith("CS_PII_INDEX_KEY is unset or the public development default")
    assert "no longer defaults to CS_PII_KEY" in message


def test_in_development_the_index_key_still_defaults_to_the_pii_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CS_ENV", "development")
    monkeypatch.setenv("CS_PII_KEY", PII)
    monkeypatch.delenv("CS_PII_INDEX_KEY", raising=False)
    assert Settings.from_env().pii_index_key == PII


@pytest.mark.parametrize("service", SERVICES)
def test_a_process_needs_its_own_passwords_only(
    production: pytest.MonkeyPatch, service: str
) -> None:
    others = [s for s in SERVICES if s != service]
    for other in others:  # another service's defaults do not stop this one
        production.delenv(db_password_variable(other))
        production.setenv(broker_password_variable(other), f"{other}-local")
    process_settings(service)
    production.setenv(db_password_variable(service), f"{service}-local")
    with pytest.raises(UnsafeSettings) as e:
        process_settings(service)
    assert str(e.value).startswith(
        f"CS_{service.upper()}_DB_PASSWORD is unset or the development default ({service}-local)"
    )
    production.setenv(db_password_variable(service), "real-one")
    production.delenv(broker_password_variable(service))
    with pytest.raises(UnsafeSettings, match=f"^CS_{service.upper()}_BROKER_PASSWORD is unset"):
        process_settings(service)


@pytest.mark.parametrize("system", ["HR", "NETOPS"])
def test_migrate_needs_every_password(production: pytest.MonkeyPatch, system: str) -> None:
    production.delenv(f"CS_{system}_BROKER_PASSWORD")
    assert _refusal(migrate_variables()).startswith(f"CS_{system}_BROKER_PASSWORD is unset")


@pytest.mark.parametrize("value", ["development", "Development", " development "])
def test_development_accepts_the_defaults(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    for name in REAL:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CS_ENV", value)
    settings = process_settings("intake")
    assert settings.development
    assert settings.jwt_secret == DEV_JWT_SECRET
    settings.refuse_development_defaults(migrate_variables())


@pytest.mark.parametrize("value", ["production", "dev", "test"])
def test_only_development_is_development(production: pytest.MonkeyPatch, value: str) -> None:
    production.setenv("CS_ENV", value)
    production.delenv("CS_JWT_SECRET")
    assert f"CS_ENV is {value}" in _refusal(SECRETS)


# --- the commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "intake"],
        ["relay", "routing"],
        ["consume", "followup"],
        ["schedule", "routing"],
        ["migrate"],
        ["token", "--subject", "s", "--role", "admin"],
    ],
)
def test_commands_refuse_the_development_secret(
    production: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    production.delenv("CS_JWT_SECRET")
    rc = main(argv)
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    assert err.startswith("cs: CS_JWT_SECRET is unset or the public development default")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_pii_rotate_refuses_the_development_index_key(
    production: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    production.delenv("CS_PII_INDEX_KEY")
    assert main(["pii", "rotate"]) == 2
    assert capsys.readouterr().err.startswith("cs: CS_PII_INDEX_KEY is unset")


def _without_development(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CS_ENV", *SECRETS)}
    return {**env, **extra}


def test_cs_serve_outside_development_exits_naming_the_variable() -> None:
    """The process itself, as an operator starts it: it ends at once, one line, no traceback."""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cs"), "serve", "intake", "--port", "9879"],
        env=_without_development(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("cs: CS_JWT_SECRET is unset or the public development default")
    assert done.stderr.count("\n") == 1


def test_gunicorn_with_our_configuration_refuses_before_any_worker() -> None:
    """gunicorn started by hand (not through `cs serve`) stops in its master, in one line."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    done = subprocess.run(
        [gunicorn, "-c", "python:shared.gunicorn_conf", "services.routing.wsgi:app"],
        env=_without_development(CS_SERVICE="routing", CS_PORT="9878", **{"CS_JWT_SECRET": JWT}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "Booting worker" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: CS_PII_KEY is unset or the public development default")
    assert "Traceback" not in done.stderr


def test_a_worker_without_the_master_check_refuses_too(production: pytest.MonkeyPatch) -> None:
    """The app factory itself refuses when it reads the environment (any WSGI server)."""
    from services.training.app import create_app

    production.setenv("CS_TRAINING_DB_PASSWORD", "training-local")
    with pytest.raises(UnsafeSettings, match="^CS_TRAINING_DB_PASSWORD"):
        create_app()
