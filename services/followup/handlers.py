"""Events followup consumes: one function per type. The consumer records each in the inbox.

`case.opened` is an additive consumption (the catalogue lists routing and training): followup
needs each case's channel, region, category and opaque customer id for complaint volumes per
quarter, campaign samples and the do-not-call check, and it learns them only from this event.

The dashboard (`GET /dashboard`) adds `case.transferred`, `case.routed`, `case.handled`,
`sla.started` and `sla.warning`: with the lifecycle and clock events above they keep
`case_status` (where each case stands, whether a clock is at risk or breached). Each of its
updates is compared by the event's time, so events of different types may arrive in any order.

Network incidents: `incident.declared` and `incident.resolved` (what the quarterly report lists
of each: regions, categories, start, resolution, cause), and the `incident_id` on `case.opened`,
`case.linked` and `case.resolved` (which cases are incident cases, counted apart). A resolution
that carries an `incident_id` gets a follow-up call only if the case falls in the incident's
sample (domain/incident_sample.py).
"""

from __future__ import annotations

from services.followup.commands import cases, followups, incidents, staff
from shared.db import Transaction
from shared.events import Event
from shared.service import Handler


def on_case_opened(tx: Transaction, event: Event) -> None:
    cases.record_case_opened(tx, event.data)
    d = event.data
    facts = {
        "kind": d["kind"],
        "channel": d["channel"],
        "received_at": d.get("received_at") or d["opened_at"],
    }
    cases.project_case(tx, d["case_id"], event.time, state="open", facts=facts)


def on_case_transferred(tx: Transaction, event: Event) -> None:
    cases.project_case(tx, event.data["case_id"], event.time, state="transferred")


def on_case_routed(tx: Transaction, event: Event) -> None:
    d = event.data
    cases.project_case(
        tx, d["case_id"], event.time, state="in_department", department=d["department"]
    )


def on_case_handled(tx: Transaction, event: Event) -> None:
    """The department's work is done (intake resolves the case next): its clock stops."""
    d = event.data
    cases.project_case(tx, d["case_id"], event.time, department=d["department"])
    cases.project_clock(tx, d["case_id"], "department", "stopped_at", event.time)


def on_case_resolved(tx: Transaction, event: Event) -> None:
    """Schedules the follow-up call: one per resolution, however often the event arrives; for
    a network incident's case, only if it falls in the incident's sample."""
    d = event.data
    followups.schedule_followup(tx, d, d["resolved_at"])
    cases.project_case(
        tx,
        d["case_id"],
        event.time,
        state="resolved",
        department=d["department"],
        facts={"kind": d["kind"]},
    )


def on_case_linked(tx: Transaction, event: Event) -> None:
    cases.link_case(tx, event.data["case_id"], event.data["incident_id"])


def on_incident_declared(tx: Transaction, event: Event) -> None:
    incidents.record_declared(tx, event.data)


def on_incident_resolved(tx: Transaction, event: Event) -> None:
    incidents.record_resolved(tx, event.data)


def on_case_reopened(tx: Transaction, event: Event) -> None:
    cases.record_case_reopened(tx, event.data)
    cases.project_case(tx, event.data["case_id"], event.time, state="reopened")


def on_case_closed(tx: Transaction, event: Event) -> None:
    cases.record_case_closed(tx, event.data)
    cases.project_case(tx, event.data["case_id"], event.time, state="closed")


def on_sla_started(tx: Transaction, event: Event) -> None:
    d = event.data
    cases.project_clock(tx, d["case_id"], d["clock"], "started_at", event.time, d["due_at"])


def on_sla_warning(tx: Transaction, event: Event) -> None:
    d = event.data
    cases.project_clock(tx, d["case_id"], d["clock"], "warned_at", event.time, d["due_at"])


def on_sla_met(tx: Transaction, event: Event) -> None:
    d = event.data
    cases.record_sla_result(tx, d, met=True)
    cases.project_clock(tx, d["case_id"], d["clock"], "stopped_at", event.time, d["due_at"])


def on_sla_breached(tx: Transaction, event: Event) -> None:
    d = event.data
    cases.record_sla_result(tx, d, met=False)
    cases.project_clock(tx, d["case_id"], d["clock"], "breached_at", event.time, d["due_at"])


def on_staff_upserted(tx: Transaction, event: Event) -> None:
    staff.record(tx, event.data, event.time)


EVENT_HANDLERS: dict[str, Handler] = {
    "case.opened": on_case_opened,
    "case.transferred": on_case_transferred,
    "case.routed": on_case_routed,
    "case.handled": on_case_handled,
    "case.resolved": on_case_resolved,
    "case.reopened": on_case_reopened,
    "case.closed": on_case_closed,
    "sla.started": on_sla_started,
    "sla.warning": on_sla_warning,
    "sla.met": on_sla_met,
    "sla.breached": on_sla_breached,
    "staff.upserted": on_staff_upserted,
    "case.linked": on_case_linked,
    "incident.declared": on_incident_declared,
    "incident.resolved": on_incident_resolved,
}
