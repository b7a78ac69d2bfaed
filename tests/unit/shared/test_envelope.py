"""The CloudEvents envelope: build, serialise, parse, and every way parsing refuses."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from shared.events import InvalidEvent, catalogue, new_event, parse_event
from shared.logs import correlation_id

OPENED_AT = datetime(2026, 2, 13, 2, 0, 0, 123456, tzinfo=UTC)
CN = timezone(timedelta(hours=8))


def opened_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_id": "c-1",
        "case_no": "TS20260213-0001",
        "kind": "complaint",
        "channel": "hotline",
        "category": "broadband",
        "region": "Haidian",
        "priority": "normal",
        "customer_id": None,
        "identity_verified": True,
        "agent_id": "agent-1",
        "opened_at": OPENED_AT,
    }
    data.update(overrides)
    return data


def closed_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"case_id": "c-1", "closed_at": OPENED_AT, "outcome": "resolved"}
    data.update(overrides)
    return data


@pytest.fixture
def cid() -> Iterator[str]:
    token = correlation_id.set("cid-from-request")
    try:
        yield "cid-from-request"
    finally:
        correlation_id.reset(token)


def envelope(**overrides: Any) -> dict[str, Any]:
    """A valid case.closed envelope as a JSON object, with some keys replaced."""
    raw = orjson.loads(new_event("case.closed", "c-1", closed_data(), source="/routing").to_json())
    raw.update(overrides)
    return raw


def body(raw: Any) -> bytes:
    return orjson.dumps(raw)


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_keeps_envelope_and_data(cid: str) -> None:
    event = new_event("case.opened", "c-1", opened_data(), source="/intake")
    parsed = parse_event(event.to_json())

    assert parsed.type == "case.opened"
    assert parsed.id == event.id
    assert uuid.UUID(parsed.id).version == 4
    assert parsed.source == "/intake"
    assert parsed.subject == "c-1"
    assert parsed.correlationid == "cid-from-request"
    assert parsed.dataschema == "urn:cs:schema:case.opened:v1"
    assert parsed.version == 1
    assert parsed.time == event.time
    assert parsed.time.tzinfo is not None
    assert parsed.data == {
        **opened_data(),
        # load_defaults of the additive fields
        "received_at": None,
        "incident_id": None,
    }
    assert parsed.data["opened_at"] == OPENED_AT
    assert parsed.data["opened_at"].utcoffset() == timedelta(0)


def test_new_event_dumps_data_to_json_values() -> None:
    event = new_event("case.closed", 42, closed_data(), source="/routing")  # type: ignore[arg-type]
    assert event.subject == "42"
    assert event.dataschema == "urn:cs:schema:case.closed:v1"
    assert event.data == {
        "case_id": "c-1",
        "closed_at": "2026-02-13T02:00:00.123456+00:00",
        "outcome": "resolved",
    }


def test_to_json_writes_the_full_envelope(cid: str) -> None:
    event = dataclasses.replace(
        new_event("case.closed", "c-1", closed_data(), source="/routing"),
        id="11111111-2222-4333-8444-555555555555",
        time=datetime(2026, 2, 13, 10, 0, 0, tzinfo=CN),
    )
    assert orjson.loads(event.to_json()) == {
        "specversion": "1.0",
        "id": "11111111-2222-4333-8444-555555555555",
        "source": "/routing",
        "type": "case.closed",
        "subject": "c-1",
        "time": "2026-02-13T02:00:00Z",
        "datacontenttype": "application/json",
        "dataschema": "urn:cs:schema:case.closed:v1",
        "data": {
            "case_id": "c-1",
            "closed_at": "2026-02-13T02:00:00.123456+00:00",
            "outcome": "resolved",
        },
        "correlationid": "cid-from-request",
    }


def test_time_is_serialised_as_utc_with_z() -> None:
    event = new_event("case.closed", "c-1", closed_data(), source="/routing")
    raw = orjson.loads(event.to_json())
    assert raw["time"].endswith("Z")
    assert "+" not in raw["time"]
    assert datetime.fromisoformat(raw["time"].replace("Z", "+00:00")) == event.time


def test_parse_accepts_an_offset_time_and_keeps_the_instant() -> None:
    parsed = parse_event(body(envelope(time="2026-02-13T10:00:00+08:00")))
    assert parsed.time == datetime(2026, 2, 13, 2, 0, tzinfo=UTC)
    assert parsed.time.utcoffset() == timedelta(hours=8)


def test_parse_without_dataschema_means_current_version() -> None:
    raw = envelope()
    del raw["dataschema"]
    assert parse_event(body(raw)).dataschema == "urn:cs:schema:case.closed:v1"


# --- correlation id -----------------------------------------------------------------------


def test_correlation_id_comes_from_the_context_var(cid: str) -> None:
    event = new_event("case.closed", "c-1", closed_data(), source="/routing")
    assert event.correlationid == "cid-from-request"


def test_correlation_id_is_fresh_without_context() -> None:
    assert correlation_id.get() is None
    first = new_event("case.closed", "c-1", closed_data(), source="/routing")
    second = new_event("case.closed", "c-1", closed_data(), source="/routing")
    assert first.correlationid is not None and second.correlationid is not None
    assert uuid.UUID(first.correlationid).version == 4
    assert first.correlationid != second.correlationid
    assert correlation_id.get() is None  # building an event does not set the context


# --- parse_event refuses ------------------------------------------------------------------


def test_rejects_non_json() -> None:
    with pytest.raises(InvalidEvent, match="^not JSON"):
        parse_event(b"{not json")


@pytest.mark.parametrize("raw", [[1, 2], "text", 3, None])
def test_rejects_non_object(raw: Any) -> None:
    with pytest.raises(InvalidEvent, match="^the envelope is not a JSON object$"):
        parse_event(body(raw))


@pytest.mark.parametrize("key", ["specversion", "id", "source", "type", "subject", "time", "data"])
def test_rejects_missing_required_key(key: str) -> None:
    raw = envelope()
    del raw[key]
    with pytest.raises(InvalidEvent) as e:
        parse_event(body(raw))
    assert str(e.value) == f"envelope lacks {key}"


def test_names_every_missing_key() -> None:
    with pytest.raises(InvalidEvent) as e:
        parse_event(body({"specversion": "1.0"}))
    assert str(e.value) == "envelope lacks id, source, type, subject, time, data"


@pytest.mark.parametrize("version", ["0.3", "1", 1.0, None])
def test_rejects_wrong_specversion(version: Any) -> None:
    with pytest.raises(InvalidEvent, match="^specversion .* is not 1.0$"):
        parse_event(body(envelope(specversion=version)))


@pytest.mark.parametrize("key", ["id", "source", "type", "subject"])
@pytest.mark.parametrize("value", ["", None, 7])
def test_rejects_empty_or_non_string_field(key: str, value: Any) -> None:
    with pytest.raises(InvalidEvent) as e:
        parse_event(body(envelope(**{key: value})))
    assert str(e.value) == f"envelope field {key} must be a non-empty string"


def test_rejects_naive_time() -> None:
    with pytest.raises(InvalidEvent, match="^envelope time has no offset$"):
        parse_event(body(envelope(time="2026-02-13T02:00:00")))


@pytest.mark.parametrize("value", ["yesterday", "", 12345])
def test_rejects_unparseable_time(value: Any) -> None:
    with pytest.raises(InvalidEvent, match="is not RFC 3339$"):
        parse_event(body(envelope(time=value)))


def test_rejects_unknown_type() -> None:
    with pytest.raises(InvalidEvent) as e:
        parse_event(body(envelope(type="case.exploded")))
    assert str(e.value) == "unknown event type 'case.exploded'"


@pytest.mark.parametrize(
    "schema",
    [
        "urn:cs:schema:case.closed:v2",
        "urn:cs:schema:case.closed:v0",
        "urn:cs:schema:case.closed:vX",
        "urn:cs:schema:case.opened:v1",
        "https://example.com/case.closed.json",
    ],
)
def test_rejects_unknown_dataschema(schema: str) -> None:
    with pytest.raises(InvalidEvent) as e:
        parse_event(body(envelope(dataschema=schema)))
    assert str(e.value) == f"unknown dataschema {schema!r} for case.closed"


@pytest.mark.parametrize("schema", [1, ["urn:cs:schema:case.closed:v1"], True])
def test_rejects_non_string_dataschema(schema: Any) -> None:
    with pytest.raises(InvalidEvent, match="dataschema"):
        parse_event(body(envelope(dataschema=schema)))


def test_rejects_data_missing_a_field_naming_it() -> None:
    raw = envelope()
    del raw["data"]["closed_at"]
    with pytest.raises(InvalidEvent) as e:
        parse_event(body(raw))
    assert str(e.value) == "case.closed: {'closed_at': ['Missing data for required field.']}"


def test_rejects_data_with_invalid_value_naming_the_field() -> None:
    raw = orjson.loads(new_event("case.opened", "c-1", opened_data(), source="/i").to_json())
    raw["data"]["kind"] = "praise"
    raw["data"]["opened_at"] = "2026-02-13T02:00:00"  # naive
    with pytest.raises(InvalidEvent) as e:
        parse_event(body(raw))
    message = str(e.value)
    assert message.startswith("case.opened: ")
    assert "'kind'" in message
    assert "'opened_at'" in message
    assert "'case_id'" not in message


@pytest.mark.parametrize("data", [None, [], "x"])
def test_rejects_data_that_is_not_an_object(data: Any) -> None:
    with pytest.raises(InvalidEvent, match=r"^case.closed: \{'_schema'"):
        parse_event(body(envelope(data=data)))


def test_unknown_data_fields_are_tolerated() -> None:
    raw = envelope()
    raw["data"]["added_by_newer_producer"] = {"anything": 1}
    parsed = parse_event(body(raw))
    assert parsed.data == {"case_id": "c-1", "closed_at": OPENED_AT, "outcome": "resolved"}


def test_unknown_envelope_extensions_are_tolerated() -> None:
    parsed = parse_event(body(envelope(traceparent="00-abc-def-01")))
    assert parsed.type == "case.closed"


# --- new_event refuses --------------------------------------------------------------------


def test_new_event_refuses_missing_field() -> None:
    data = closed_data()
    del data["closed_at"]
    with pytest.raises(InvalidEvent) as e:
        new_event("case.closed", "c-1", data, source="/routing")
    assert str(e.value) == "case.closed: {'closed_at': ['Missing data for required field.']}"


def test_new_event_refuses_value_outside_choices() -> None:
    with pytest.raises(InvalidEvent) as e:
        new_event("case.opened", "c-1", opened_data(channel="fax"), source="/intake")
    assert str(e.value).startswith("case.opened: {'channel': ")


def test_new_event_refuses_naive_datetime() -> None:
    naive = datetime(2026, 2, 13, 2, 0)
    with pytest.raises(InvalidEvent) as e:
        new_event("case.opened", "c-1", opened_data(opened_at=naive), source="/intake")
    assert str(e.value) == "case.opened: {'opened_at': ['Not a valid aware datetime.']}"


def test_new_event_refuses_unknown_type() -> None:
    with pytest.raises(InvalidEvent, match="^unknown event type 'case.exploded'$"):
        new_event("case.exploded", "c-1", {}, source="/intake")


@pytest.mark.parametrize(
    ("type_", "data", "field"),
    [
        ("case.closed", closed_data(closed_at="yesterday"), "closed_at"),
        (
            "sla.started",
            {
                "case_id": "c-1",
                "clock": "customer",
                "policy_version": "abc",
                "due_at": OPENED_AT,
                "provisional": False,
            },
            "policy_version",
        ),
    ],
)
def test_new_event_refuses_wrongly_typed_value(type_: str, data: dict, field: str) -> None:
    with pytest.raises(InvalidEvent, match=field):
        new_event(type_, "c-1", data, source="/routing")


@pytest.mark.parametrize(("subject", "source"), [("", "/routing"), ("c-1", "")])
def test_new_event_refuses_empty_subject_or_source(subject: str, source: str) -> None:
    with pytest.raises(InvalidEvent):
        new_event("case.closed", subject, closed_data(), source=source)


# --- bounds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "length"),
    [("id", 65), ("source", 65), ("type", 65), ("subject", 129), ("time", 41), ("dataschema", 129)],
)
def test_every_envelope_field_has_a_length_bound(key: str, length: int) -> None:
    with pytest.raises(InvalidEvent, match=f"{key} is longer than"):
        parse_event(body(envelope(**{key: "x" * length})))


def test_a_40_kb_time_is_refused_at_once_without_repeating_it() -> None:
    import time

    started = time.perf_counter()
    with pytest.raises(InvalidEvent) as refused:
        parse_event(body(envelope(time="2026-11-24T10:00:00" + "9" * 40_000 + "Z")))
    assert time.perf_counter() - started < 0.05 and len(str(refused.value)) < 200


def test_an_envelope_larger_than_its_bound_is_refused() -> None:
    huge = body(envelope(extra="x" * (256 * 1024)))
    with pytest.raises(InvalidEvent, match="larger than"):
        parse_event(huge)


@pytest.mark.parametrize("when", ["1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z"])
def test_an_envelope_time_lies_between_2000_and_2100(when: str) -> None:
    with pytest.raises(InvalidEvent, match="between 2000 and 2100"):
        parse_event(body(envelope(time=when)))


def test_a_data_time_lies_between_2000_and_2100() -> None:
    raw = envelope(data=dict(envelope()["data"], closed_at="9999-12-31T23:00:00-12:00"))
    with pytest.raises(InvalidEvent, match="closed_at"):
        parse_event(body(raw))


@pytest.mark.parametrize("given", ["13800138000", "x" * 65, "has space", 7])
def test_a_bad_correlation_id_is_replaced_not_carried(given: Any) -> None:
    parsed = parse_event(body(envelope(correlationid=given)))
    assert parsed.correlationid != given and uuid.UUID(str(parsed.correlationid))


def test_reasons_travel_bounded_and_masked() -> None:
    data = {
        "case_id": "c-1",
        "reason": "needs a field visit",
        "requested_department": None,
        "agent_id": "a-1",
        "transferred_at": OPENED_AT,
    }
    assert new_event("case.transferred", "c-1", data, source="/intake")
    for reason in ("call 13800138000", "ID 11010519491231002X", "x" * 201):
        with pytest.raises(InvalidEvent, match="reason"):
            new_event("case.transferred", "c-1", dict(data, reason=reason), source="/intake")


# --- outside the test suite: the producer's cheap check ----------------------------------------


@pytest.fixture
def producer_checks_cheaply(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a process runs without CS_CHECK_EMITTED_EVENTS (the suite turns it on)."""
    monkeypatch.setattr(catalogue, "CHECK_EMITTED", False)


def test_without_full_checks_a_missing_required_field_is_still_refused(
    producer_checks_cheaply: None,
) -> None:
    data = opened_data()
    del data["opened_at"]
    with pytest.raises(InvalidEvent) as e:
        new_event("case.opened", "c-1", data, source="/intake")
    assert str(e.value) == "case.opened: {'opened_at': ['Missing data for required field.']}"


def test_without_full_checks_a_bad_value_is_refused_by_every_consumer(
    producer_checks_cheaply: None,
) -> None:
    event = new_event("case.opened", "c-1", opened_data(channel="fax"), source="/intake")
    with pytest.raises(InvalidEvent, match="'channel'"):
        parse_event(event.to_json())


def test_without_full_checks_staff_words_are_still_checked_for_personal_data(
    producer_checks_cheaply: None,
) -> None:
    data = {
        "case_id": "c-1",
        "reason": "call 13800138000",
        "agent_id": "a-1",
        "transferred_at": datetime(2026, 2, 13, 2, 0, tzinfo=UTC),
    }
    with pytest.raises(InvalidEvent, match="'reason'"):
        new_event("case.transferred", "c-1", data, source="/intake")
