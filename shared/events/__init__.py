"""Events: the CloudEvents envelope and the catalogue of schemas, for producer and consumer."""

from shared.events.catalogue import CATALOGUE, EventType, InvalidEvent
from shared.events.envelope import Event, new_event, parse_event

__all__ = ["CATALOGUE", "Event", "EventType", "InvalidEvent", "new_event", "parse_event"]
