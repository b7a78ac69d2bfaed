"""Flask's JSON through orjson (shared.web.OrjsonProvider)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from flask import Flask

from shared.web import OrjsonProvider


@pytest.fixture
def provider() -> OrjsonProvider:
    return OrjsonProvider(Flask(__name__))


def test_values_a_schema_left_as_python_come_out_as_iso_and_strings(provider) -> None:
    case_id = uuid.UUID("6c1b7f0e-0f5e-4b8e-9d55-3f1b7f0e0f5e")
    at = datetime(2026, 2, 13, 2, 0, tzinfo=UTC)
    assert json.loads(provider.dumps({"id": case_id, "at": at, 3: "x"})) == {
        "id": str(case_id),
        "at": "2026-02-13T02:00:00+00:00",
        "3": "x",
    }


def test_an_integer_wider_than_64_bits_is_still_written(provider) -> None:
    assert json.loads(provider.dumps({"page": 10**30})) == {"page": 10**30}


def test_nan_is_not_json(provider) -> None:
    with pytest.raises(ValueError):
        provider.loads('{"a": NaN}')
