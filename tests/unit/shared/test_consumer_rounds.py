"""How the consumer orders a batch for its handlers: each key's events in their order, the
rest grouped by type so that a batched handler gets many at once."""

from __future__ import annotations

from shared.consumer import _Delivery, _rounds
from shared.events.envelope import Event


def _delivery(type_: str, key: str, handler=None, event_id: str | None = None) -> _Delivery:
    event = Event(type_, "/intake", key, {}, **({"id": event_id} if event_id else {}))
    return _Delivery(0, "q", type_, None, b"", event=event, handler=handler or type_)


def _shape(groups) -> list[tuple[str, list[str]]]:
    return [(handler, [e.subject for e in events]) for handler, events in groups]


def test_each_keys_events_stay_in_order_and_the_rest_are_grouped_by_type():
    batch = [
        _delivery("case.closed", "B"),  # B was opened in an earlier batch
        _delivery("case.opened", "A"),
        _delivery("case.closed", "A"),
        _delivery("case.opened", "C"),
        _delivery("case.reopened", "A"),
    ]
    assert _shape(_rounds(batch)) == [
        ("case.closed", ["B"]),
        ("case.opened", ["A", "C"]),
        ("case.closed", ["A"]),
        ("case.reopened", ["A"]),
    ]


def test_an_event_delivered_twice_in_a_batch_is_handed_over_once():
    once = _delivery("case.opened", "A", event_id="e-1")
    again = _delivery("case.opened", "A", event_id="e-1")
    assert _shape(_rounds([once, _delivery("case.opened", "B"), again])) == [
        ("case.opened", ["A", "B"])
    ]
