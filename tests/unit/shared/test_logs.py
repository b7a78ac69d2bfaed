"""Logs: personal data is masked, and each record is one JSON object with the correlation id."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from shared.logs import (
    MAX_LOGGED_CHARS,
    JsonFormatter,
    correlation_id,
    correlation_id_or_new,
    new_correlation_id,
    scrub,
)

# --- scrub --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "138****8000"),
        ("19912345678", "199****5678"),
        ("call 13800138000 back", "call 138****8000 back"),
        ("客户电话13800138000，请回电", "客户电话138****8000，请回电"),
        ("tel:13800138000;", "tel:138****8000;"),
        ("+86 13800138000", "+86 138****8000"),
        ("13800138000/13912345678", "138****8000/139****5678"),
        ("110101199003077777", "110101********7777"),
        ("11010119900307123X", "110101********123X"),
        ("11010119900307123x", "110101********123x"),
        ("ID 11010119900307123X verified", "ID 110101********123X verified"),
        ("身份证号110101199003077777。", "身份证号110101********7777。"),
        ("zhang.san@example.com", "z***@example.com"),
        ("mail a.b+tag@mail.example-isp.com.cn now", "mail a***@mail.example-isp.com.cn now"),
        ("from <li_si@qq.com>", "from <l***@qq.com>"),
        (
            "phone 13800138000, id 110101199003077777, mail x@y.cn",
            "phone 138****8000, id 110101********7777, mail ***@y.cn",
        ),
    ],
)
def test_scrub_masks_pii(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "case TS20261124-0007 opened",
        "TS20261124-0007",
        "ZX20260213-1234",
        "event 550e8400-e29b-41d4-a716-446655440000 handled",
        "2026-11-24T09:30:00.123456+08:00",
        "2026-11-24T01:30:00Z",
        "due 2026-11-24 17:30",
        "12800138000",  # 11 digits, but not a mobile prefix
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "1101011990030777",  # 16 digits
        "1101011990030777777",  # 19 digits
        "no personal data here",
        "",
    ],
)
def test_scrub_leaves_other_text_alone(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "123e4567-e89b-12d3-a456-a13800138000",
        "event 0f9c1a2e-4b5d-4e6f-8a7b-f19912345678 handled",
    ],
)
def test_scrub_leaves_uuids_ending_in_digits_alone(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize("text", ["+8613800138000", "call 008613800138000"])
def test_scrub_masks_mobile_with_country_code(text: str) -> None:
    assert "13800138000" not in scrub(text)


def test_scrub_cuts_first_and_takes_milliseconds_on_long_text() -> None:
    for text in ("a" * 80_000, "1" * 80_000, "a." * 40_000 + "@", "x 13800138000 " * 6_000):
        started = time.perf_counter()
        out = scrub(text)
        assert time.perf_counter() - started < 0.25  # was 30 s on 80 KB
        assert len(out) < MAX_LOGGED_CHARS + 60 and out.endswith("more characters cut)")
        assert "13800138000" not in out


@pytest.mark.parametrize(
    "given", ["gw-2026:abc_1.2", "550e8400-e29b-41d4-a716-446655440000", "a", "A" * 64]
)
def test_a_correlation_id_is_carried_when_it_is_one(given: str) -> None:
    assert correlation_id_or_new(given) == given


@pytest.mark.parametrize(
    "given", [None, "", "A" * 65, "has space", "-leading", "a\nb", "13800138000", 42, "ünï"]
)
def test_anything_else_is_replaced_by_a_new_one(given: object) -> None:
    replaced = correlation_id_or_new(given)
    assert replaced != given and len(replaced) == 36


def test_new_correlation_id_is_fresh() -> None:
    first, second = new_correlation_id(), new_correlation_id()
    assert first != second
    assert len(first) == 36 and first.count("-") == 4


# --- JsonFormatter ------------------------------------------------------------------------


@pytest.fixture
def cid() -> Iterator[str]:
    token = correlation_id.set("cid-42")
    try:
        yield "cid-42"
    finally:
        correlation_id.reset(token)


def record(
    msg: str,
    *args: object,
    level: int = logging.INFO,
    exc_info: Any = None,
    extra: dict[str, Any] | None = None,
) -> logging.LogRecord:
    rec = logging.getLogger("cs.test").makeRecord(
        "cs.test", level, __file__, 1, msg, args, exc_info, extra=extra
    )
    rec.created = datetime(2026, 2, 13, 2, 0, 0, 123456, tzinfo=UTC).timestamp()
    return rec


def formatted(rec: logging.LogRecord, service: str = "intake-web") -> dict[str, Any]:
    line = JsonFormatter(service).format(rec)
    assert "\n" not in line
    entry = orjson.loads(line)
    assert isinstance(entry, dict)
    return entry


def test_formatter_without_correlation_id() -> None:
    assert correlation_id.get() is None
    assert formatted(record("case %s opened", "c-1", level=logging.WARNING)) == {
        "ts": "2026-02-13T02:00:00.123+00:00",
        "level": "warning",
        "service": "intake-web",
        "logger": "cs.test",
        "msg": "case c-1 opened",
    }


def test_formatter_with_correlation_id(cid: str) -> None:
    entry = formatted(record("hello"), service="routing-consumer")
    assert entry["correlation_id"] == "cid-42"
    assert entry["service"] == "routing-consumer"
    assert entry["level"] == "info"
    assert entry["msg"] == "hello"


def test_formatter_includes_known_extras_only() -> None:
    extra = {"event_id": "e-1", "case_id": "c-1", "status": 201, "ms": 1.5, "other": "x"}
    entry = formatted(record("done", extra=extra))
    assert {k: entry[k] for k in ("event_id", "case_id", "status", "ms")} == {
        "event_id": "e-1",
        "case_id": "c-1",
        "status": 201,
        "ms": 1.5,
    }
    assert "other" not in entry
    assert "event_type" not in entry


def test_formatter_scrubs_message_and_args() -> None:
    entry = formatted(
        record("customer %s (%s) wrote from %s", "13800138000", "110101199003077777", "a@b.cn")
    )
    assert entry["msg"] == "customer 138****8000 (110101********7777) wrote from ***@b.cn"


def test_formatter_scrubs_exception_text(cid: str) -> None:
    try:
        raise ValueError("bad customer 13800138000 <zhang@example.com> 11010119900307123X")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter("intake-web").format(
        record("failed for %s", "13912345678", level=logging.ERROR, exc_info=exc_info)
    )
    for raw in ("13800138000", "13912345678", "zhang@example.com", "11010119900307123X"):
        assert raw not in line
    entry = orjson.loads(line)
    assert entry["msg"] == "failed for 139****5678"
    assert entry["level"] == "error"
    assert entry["correlation_id"] == "cid-42"
    assert entry["error"].startswith("Traceback (most recent call last):")
    assert entry["error"].endswith(
        "ValueError: bad customer 138****8000 <z***@example.com> 110101********123X"
    )


def test_an_access_line_names_its_own_correlation_id_and_its_path_is_masked(cid: str) -> None:
    extra = {
        "method": "GET",
        "path": "/customers/by-phone/13800138000",
        "status": 404,
        "ms": 3.2,
        "correlation_id": "cid-of-the-request",
    }
    entry = formatted(record("%s %s %s", "GET", extra["path"], 404, extra=extra))
    assert entry["correlation_id"] == "cid-of-the-request"  # not the context's cid-42
    assert entry["path"] == "/customers/by-phone/138****8000"
    assert entry["msg"] == "GET /customers/by-phone/138****8000 404"
    assert (entry["method"], entry["status"], entry["ms"]) == ("GET", 404, 3.2)


def test_gunicorn_writes_the_access_line_its_record_would_make(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CS_SERVICE", "intake")
    monkeypatch.setenv("CS_PORT", "8081")
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from shared.gunicorn_conf import JsonLogger

    for name in ("gunicorn.access", "gunicorn.error"):  # as they were after the test
        for attribute in ("handlers", "propagate", "level"):
            log = logging.getLogger(name)
            monkeypatch.setattr(
                log,
                attribute,
                list(log.handlers) if attribute == "handlers" else getattr(log, attribute),
            )
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLogger(cfg)
    path = "/customers/by-phone/13800138000"
    resp = SimpleNamespace(status="404 NOT FOUND", headers=[("X-Correlation-ID", "cid-7")])
    logger.access(resp, None, {"REQUEST_METHOD": "GET", "PATH_INFO": path}, timedelta(0, 0, 3249))
    written = orjson.loads(capsys.readouterr().err)
    extra = {"method": "GET", "path": path, "status": 404, "ms": 3.2, "correlation_id": "cid-7"}
    rec = logging.getLogger("gunicorn.access").makeRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        "%s %s %s",
        ("GET", path, 404),
        None,
        extra=extra,
    )
    rec.created = datetime.fromisoformat(written["ts"]).timestamp()
    assert written == formatted(rec)
    assert list(written) == list(formatted(rec))
    assert written["path"] == "/customers/by-phone/138****8000"
