"""What a client may send: times around now, ETAs, period years, storable dates, JSON depth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from shared.limits import (
    ETA_HORIZON,
    MAX_JSON_DEPTH,
    eta_problem,
    json_depth,
    storable_problem,
    supported_years,
    time_problem,
    year_problem,
)
from shared.request_limits import json_problem

NOW = datetime(2027, 6, 15, 3, 0, tzinfo=UTC)


def test_a_time_that_happened_lies_between_2000_and_now_plus_a_little_skew() -> None:
    assert time_problem(NOW - timedelta(days=3000), NOW) is None
    assert time_problem(NOW + timedelta(minutes=4), NOW) is None
    assert time_problem(NOW + timedelta(minutes=6), NOW) == "lies in the future"
    assert "before 2000" in (time_problem(datetime(1999, 12, 31, tzinfo=UTC), NOW) or "")
    assert "UTC offset" in (time_problem(datetime(2026, 1, 1), NOW) or "")


def test_an_eta_lies_ahead_within_the_horizon() -> None:
    assert eta_problem(NOW + timedelta(days=1), NOW) is None
    assert eta_problem(NOW + ETA_HORIZON, NOW) is None
    assert "180 days ahead" in (eta_problem(NOW + ETA_HORIZON + timedelta(seconds=1), NOW) or "")
    assert "in the past" in (eta_problem(NOW - timedelta(hours=1), NOW) or "")
    far = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert eta_problem(far, NOW) is not None


def test_periods_name_years_from_2000_to_five_ahead() -> None:
    assert supported_years(NOW) == range(2000, 2033)
    assert year_problem(2000, NOW) is None and year_problem(2032, NOW) is None
    for year in (1000, 1999, 2033, 9999):
        assert year_problem(year, NOW) == "the year must lie between 2000 and 2032"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (date(2000, 1, 1), True),
        (date(2099, 12, 31), True),
        (date(1999, 12, 31), False),
        (date(9999, 12, 31), False),
        (datetime(2099, 12, 31, 23, 59, tzinfo=UTC), True),
        (datetime(2100, 1, 1, tzinfo=UTC), False),
        (datetime(2050, 1, 1), True),  # naive: read as UTC
    ],
)
def test_what_is_stored_lies_between_2000_and_2100(value: date, ok: bool) -> None:
    assert (storable_problem(value) is None) is ok


def test_json_depth_is_counted_without_recursion() -> None:
    assert json_depth(1) == 0 and json_depth([]) == 1 and json_depth({"a": [1, {"b": []}]}) == 4
    deep: object = []
    for _ in range(100_000):
        deep = [deep]
    assert json_depth(deep) == 100_001


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"kind": "complaint", "content": "[[[{{{"}', None),
        (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, None),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "nests deeper than 32"),
        (b"[" * 3000 + b"]" * 3000, "nests deeper than 32"),
        (b'{"a": "\\ud800"}', "not valid JSON"),
        (b'{"a": NaN}', "not valid JSON"),
        (b"\xff", "not valid JSON"),
    ],
)
def test_a_json_body_is_valid_and_shallow(body: bytes, problem: str | None) -> None:
    found = json_problem(body)
    assert found is None if problem is None else problem in (found or ""), found


def test_many_brackets_inside_strings_are_no_depth() -> None:
    body = orjson.dumps({"content": "[" * 5000})
    assert json_problem(body) is None
