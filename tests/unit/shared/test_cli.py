"""The `cs` command line: minting tokens and `cs check` against servers that do not answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from shared.auth import AuthError, verify_token
from shared.cli import main
from shared.config import DEV_JWT_SECRET

SECRET = "cli-unit-test-secret-of-at-least-thirty-two-bytes"
PASSWORD = "s3cr3t-Pw0rd"
DATABASE_URL = f"postgresql://admin:{PASSWORD}@127.0.0.1:1/cs"
AMQP_URL = f"amqp://guest:{PASSWORD}@127.0.0.1:1/%2F"


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CS_JWT_SECRET", SECRET)
    return SECRET


@contextmanager
def real_stderr_logging() -> Iterator[None]:
    """Logging as in a real run: pytest's handlers off the root logger, so that main's
    basicConfig installs its stderr handler; everything put back afterwards. Entered in the
    test body, because pytest adds its handlers again at the start of each phase."""
    root, pika_log = logging.getLogger(), logging.getLogger("pika")
    handlers, level, pika_level = root.handlers[:], root.level, pika_log.level
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        pika_log.setLevel(pika_level)


# --- token --------------------------------------------------------------------------------


def test_token(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["token", "--subject", "s", "--role", "agent", "--scope", "pii:read"])
    out, err = capsys.readouterr()
    assert rc == 0
    lines = out.splitlines()
    assert len(lines) == 1 and out.endswith("\n")
    caller = verify_token(lines[0], secret, "intake")
    assert caller.subject == "s"
    assert caller.roles == frozenset({"agent"})
    assert caller.scopes == frozenset({"pii:read"})
    assert err == ""


def test_token_is_signed_with_the_configured_secret(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["token", "--subject", "s", "--role", "agent"])
    token = capsys.readouterr().out.strip()
    with pytest.raises(AuthError):
        verify_token(token, DEV_JWT_SECRET, "intake")


def test_token_with_several_roles_and_no_scope(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["token", "--subject", "routing", "--role", "system", "--role", "supervisor"])
    assert rc == 0
    caller = verify_token(capsys.readouterr().out.strip(), secret, "training")
    assert caller.subject == "routing"
    assert caller.roles == frozenset({"system", "supervisor"})
    assert caller.scopes == frozenset()


def test_token_for_the_services_asked_for(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["token", "--subject", "s", "--role", "agent"]
    rc = main([*argv, "--audience", "intake", "--audience", "followup"])
    assert rc == 0
    token = capsys.readouterr().out.strip()
    assert verify_token(token, secret, "intake").subject == "s"
    assert verify_token(token, secret, "followup").subject == "s"
    with pytest.raises(AuthError, match="not meant for routing"):
        verify_token(token, secret, "routing")


def test_token_lifetime_is_bounded(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["token", "--subject", "s", "--role", "agent", "--ttl-hours", "25"])
    out, err = capsys.readouterr()
    assert (rc, out) == (2, "")
    assert err == "cs: a token lives at most 24 hours\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "--subject", "s", "--role", "agent", "--audience", "billing"],
        ["token", "--subject", "s", "--role", "wizard"],
        ["token", "--subject", "s", "--role", "agent", "--scope", "pii:write"],
        ["token", "--subject", "s"],
        ["token", "--role", "agent"],
    ],
)
def test_token_bad_arguments_exit_2(
    secret: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "cs token: error:" in err


def test_unknown_role_names_the_choices(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["token", "--subject", "s", "--role", "wizard"])
    err = capsys.readouterr().err
    assert "invalid choice: 'wizard'" in err
    assert "'agent'" in err and "'admin'" in err


def test_blank_subject_exits_2_with_message(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["token", "--subject", " ", "--role", "agent"])
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    assert err == "cs: subject must not be empty\n"


# --- check --------------------------------------------------------------------------------


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)
    monkeypatch.setenv("AMQP_URL", AMQP_URL)


def test_check_reports_each_server_without_the_password(
    unreachable: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with real_stderr_logging():
        rc = main(["check"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert PASSWORD not in err
    assert "admin" not in err
    lines = err.splitlines()
    postgres = [line for line in lines if line.startswith("PostgreSQL is not reachable at ")]
    rabbit = [line for line in lines if line.startswith("RabbitMQ is not reachable at ")]
    assert len(postgres) == 1 and len(rabbit) == 1
    assert postgres[0].startswith("PostgreSQL is not reachable at postgresql://127.0.0.1:1/cs: ")
    assert "Connection refused" in postgres[0]
    assert rabbit[0].startswith("RabbitMQ is not reachable at amqp://127.0.0.1:1/%2F: ")
    assert lines.index(postgres[0]) < lines.index(rabbit[0])


def test_check_prints_one_line_per_server_and_no_traceback(
    unreachable: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with real_stderr_logging():
        rc = main(["check"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("PostgreSQL is not reachable at postgresql://127.0.0.1:1/cs: ")
    assert lines[1].startswith("RabbitMQ is not reachable at amqp://127.0.0.1:1/%2F: ")
