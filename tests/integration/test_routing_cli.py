"""`cs calendar`: routing's command on the `cs` command line (services/routing/cli.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from services.routing.cli import register
from shared.cli import main


@pytest.fixture
def env(cs_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command reads its settings from the environment: the session's own database."""
    monkeypatch.setenv("DATABASE_URL", cs_settings.database_url)
    monkeypatch.setenv("AMQP_URL", cs_settings.amqp_url)
    monkeypatch.setenv("CS_BROKER_PREFIX", cs_settings.broker_prefix)
    monkeypatch.setenv("CS_JWT_SECRET", cs_settings.jwt_secret)
    monkeypatch.setenv("CS_ENV", "development")


def test_register_adds_the_calendar_command() -> None:
    parser = argparse.ArgumentParser(prog="cs")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["calendar", "show", "2026"])
    assert (args.action, args.target, args.func.__module__) == (
        "show",
        "2026",
        "services.routing.cli",
    )


def test_show_lists_a_loaded_year(env, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "show", "2026"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2026: official\n")
    assert "2026-10-01\toff\t" in out


def test_an_unreadable_schedule_is_refused(
    env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "2031.json"
    bad.write_text(json.dumps({"year": "not a year"}), encoding="utf-8")
    assert main(["calendar", "import", str(bad)]) == 1
    assert f"cs: cannot load {bad}" in capsys.readouterr().err
