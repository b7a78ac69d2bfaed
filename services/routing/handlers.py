"""Events routing consumes: one function per type. The consumer records each in the inbox."""

from __future__ import annotations

from services.routing import queries
from services.routing.commands import SOURCE, clocks, directory, incidents, work_items
from shared.db import Transaction
from shared.errors import NotYet
from shared.events import Event
from shared.logs import correlated
from shared.service import Handler, batched


@batched
def on_case_opened(tx: Transaction, events: list[Event]) -> None:
    """The clock starts at receipt (policy: consultation 1 working day, complaint 2). The case
    is linked at once to the open incident that covers it (or that intake named); else its
    region's and category's count may reveal a burst, a suspected incident. A batch of cases
    (an outage's burst) is written with one statement per table."""
    opened = []
    for event in events:
        d = event.data
        opened.append(dict(d, opened_at=d.get("received_at") or d["opened_at"]))
    clocks.record_cases(tx, opened)
    clocks.start_customer_clocks(
        tx,
        [
            clocks.CustomerClock(
                d["case_id"],
                d["kind"],
                d["priority"],
                received_at=d["opened_at"],
                correlation_id=event.correlationid,
            )
            for d, event in zip(opened, events, strict=True)
        ],
    )
    linked = incidents.link_new_cases(
        tx,
        [
            incidents.NewCase(
                d["case_id"],
                d["region"],
                d["category"],
                d["opened_at"],
                incident_id=d.get("incident_id"),
                correlation_id=event.correlationid,
            )
            for d, event in zip(opened, events, strict=True)
        ],
    )
    for d, event, incident_id in zip(opened, events, linked, strict=True):
        if incident_id is None:
            with correlated(event.correlationid):
                incidents.detect_burst(
                    tx,
                    region=d["region"],
                    category=d["category"],
                    now=d["opened_at"],
                    policy=incidents.detection_policy(),
                )


def _known(tx: Transaction, case_id: str) -> None:
    """A case's later events wait for its `case.opened`: a clock stopped before it started
    would start afterwards and run on, resolved."""
    if not queries.case_known(tx, case_id):
        raise NotYet(f"case.opened of {case_id}")


def on_case_resolved(tx: Transaction, event: Event) -> None:
    _known(tx, event.data["case_id"])
    # work items first: item rows are locked before clock rows everywhere (no deadlocks)
    work_items.close_case_items(tx, case_id=event.data["case_id"], at=event.data["resolved_at"])
    clocks.stop_case_clocks(tx, case_id=event.data["case_id"], at=event.data["resolved_at"])
    clocks.record_case_end(tx, case_id=event.data["case_id"], at=event.data["resolved_at"])


def on_case_reopened(tx: Transaction, event: Event) -> None:
    clocks.restart_customer_clock(tx, case_id=event.data["case_id"], at=event.data["reopened_at"])
    clocks.record_case_end(tx, case_id=event.data["case_id"], at=None)


def on_case_closed(tx: Transaction, event: Event) -> None:
    _known(tx, event.data["case_id"])
    clocks.stop_case_clocks(tx, case_id=event.data["case_id"], at=event.data["closed_at"])
    clocks.record_case_end(tx, case_id=event.data["case_id"], at=event.data["closed_at"])


def on_case_transferred(tx: Transaction, event: Event) -> None:
    """To a department by the rules, to its least-loaded member; waits for case.opened."""
    d = event.data
    work_items.route_case(
        tx,
        case_id=d["case_id"],
        requested_department=d["requested_department"],
        at=d["transferred_at"],
    )


def on_staff_upserted(tx: Transaction, event: Event) -> None:
    """HR's changes to a member of staff; routing's own announcements come back and are skipped."""
    if event.source == SOURCE:
        return
    directory.upsert_from_hr(tx, event.data, source=event.source)
    work_items.release_items_of(tx, event.data["staff_id"], by=event.source)


def on_incident_declared(tx: Transaction, event: Event) -> None:
    """Network operations' own system (broker user `netops`, on `cs.inbound`) declares an
    outage: routing opens it under the event's incident id and announces it like one declared
    over the API (intake then links its cases). Routing's own announcement is skipped, and an
    incident id routing already knows (a republished declaration) changes nothing."""
    if event.source == SOURCE:
        return
    d = event.data
    if queries.incident_row(tx, d["incident_id"]) is not None:
        return
    incidents.declare(
        tx,
        incident_id=d["incident_id"],
        regions=d["regions"],
        categories=d["categories"],
        started_at=d["started_at"],
        eta=d["eta"],
        message=d["message"],
        by=d["declared_by"] or event.source,
    )


def on_case_linked(tx: Transaction, event: Event) -> None:
    """Intake linked one of its cases to an incident; routing's own links come back and are
    skipped."""
    if event.source == SOURCE:
        return
    incidents.record_link(tx, event.data["incident_id"], event.data["case_id"])


EVENT_HANDLERS: dict[str, Handler] = {
    "case.opened": on_case_opened,
    "case.resolved": on_case_resolved,
    "case.reopened": on_case_reopened,
    "case.closed": on_case_closed,
    "case.transferred": on_case_transferred,
    "staff.upserted": on_staff_upserted,
    "incident.declared": on_incident_declared,
    "case.linked": on_case_linked,
}
