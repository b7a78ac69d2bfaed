"""Events intake consumes: one function per type. The consumer records each in the inbox.

Events can arrive late (an agent resolved the case before the department's `case.handled`);
a move the case has already gone past is noted in the log and skipped, never retried.
"""

from __future__ import annotations

import logging

from services.intake.commands import SOURCE, cases, incidents, staff
from services.intake.domain.vault import Vault
from shared.config import Settings
from shared.db import Transaction
from shared.events import Event
from shared.service import Handler, batched
from shared.statemachine import IllegalTransition
from shared.steps import Step, time_problem

log = logging.getLogger(__name__)


_vaults: dict[tuple[str, tuple[str, ...], str], Vault] = {}


def _vault(settings: Settings) -> Vault:
    """The consumer's vault, built once per key set."""
    key = (settings.pii_key, settings.pii_old_keys, settings.pii_index_key)
    if key not in _vaults:
        _vaults[key] = Vault.from_settings(settings)
    return _vaults[key]


def _skip_if_past(event: Event, error: IllegalTransition) -> None:
    log.info(
        "skipped %s for case %s: %s",
        event.type,
        event.subject,
        error,
        extra={"event_id": event.id, "event_type": event.type},
    )


@batched
def on_case_requested(tx: Transaction, events: list[Event]) -> None:
    """Online, app or WeChat requests published by another system open cases (one statement
    for a batch of them: a burst of thousands during an outage).

    A case is recorded when that system recorded the request (the envelope's `time`), so
    requests delivered late (a portal's queue after an outage, a legacy system's history) keep
    their place in time; a time that cannot be one (in the future, a typo'd year) gives way to
    now, and one before the receipt to the receipt.
    """
    vault = _vault(tx.settings)
    new = []
    for event in events:
        d = event.data
        recorded = tx.now if time_problem(event.time, tx.now) else event.time
        received = d.get("received_at")
        if received is not None and recorded < received <= tx.now:
            recorded = received
        new.append(
            cases.NewCase(
                dict(d, identity_verified=False, identity_method=None),
                agent_id=None,
                account_index=vault.blind_index("account", d["customer_ref"]),
                opened_at=recorded,
                correlation_id=event.correlationid,
            )
        )
    cases.open_cases(tx, new)


def on_case_routed(tx: Transaction, event: Event) -> None:
    d = event.data
    try:
        cases.record_routed(tx, d["case_id"], d["department"], d["assignee_id"], d["routed_at"])
    except IllegalTransition as e:
        _skip_if_past(event, e)


def on_case_progressed(tx: Transaction, event: Event) -> None:
    d = event.data
    cases.record_progress(tx, d["case_id"], d["eta"], d["by"], d["at"])


def on_case_handled(tx: Transaction, event: Event) -> None:
    d = event.data
    try:
        cases.resolve_case(
            tx,
            d["case_id"],
            resolution=d["resolution_code"],
            first_contact=False,
            step=Step(d["handled_at"], d["handled_by"]),
            department=d["department"],
        )
    except IllegalTransition as e:
        _skip_if_past(event, e)


@batched
def on_sla_started(tx: Transaction, events: list[Event]) -> None:
    """Routing started clocks: a customer clock's deadline is shown and the case acknowledged
    (a batch of them at once)."""
    deadlines = [
        cases.Deadline(
            e.data["case_id"],
            e.data["due_at"],
            e.data["provisional"],
            e.data.get("started_at"),
            correlation_id=e.correlationid,
        )
        for e in events
        if e.data["clock"] == "customer"
    ]
    if deadlines:
        cases.start_deadlines(tx, deadlines)


def on_followup_completed(tx: Transaction, event: Event) -> None:
    """The customer was called back: solved closes the case, not solved reopens it."""
    d = event.data
    try:
        if d["outcome"] == "unresolved":
            cases.reopen_case(
                tx, d["case_id"], "follow-up: not solved", d["agent_id"], d["completed_at"]
            )
        else:
            cases.close_case(tx, d["case_id"], d["agent_id"], d["outcome"], d["completed_at"])
    except IllegalTransition as e:
        _skip_if_past(event, e)


def on_staff_upserted(tx: Transaction, event: Event) -> None:
    """The staff directory changed (routing, or HR through routing): the department each
    member may act for on cases (docs/access.md)."""
    staff.record(tx, event.data, event.time)


def on_incident_declared(tx: Transaction, event: Event) -> None:
    """A network incident opened (routing): new cases of its regions and categories link to
    it as they open, and the caller is told its message and ETA."""
    incidents.record_declared(tx, event.data)


def on_incident_updated(tx: Transaction, event: Event) -> None:
    incidents.record_updated(tx, event.data)


def on_incident_resolved(tx: Transaction, event: Event) -> None:
    incidents.record_resolved(tx, event.data)


def on_case_linked(tx: Transaction, event: Event) -> None:
    """Routing linked a case intake had not (it learnt of the incident first); intake's own
    links come back and are skipped."""
    if event.source == SOURCE:
        return
    incidents.record_linked(tx, event.data["case_id"], event.data["incident_id"])


EVENT_HANDLERS: dict[str, Handler] = {
    "case.requested": on_case_requested,
    "case.routed": on_case_routed,
    "case.progressed": on_case_progressed,
    "case.handled": on_case_handled,
    "sla.started": on_sla_started,
    "followup.completed": on_followup_completed,
    "staff.upserted": on_staff_upserted,
    "incident.declared": on_incident_declared,
    "incident.updated": on_incident_updated,
    "incident.resolved": on_incident_resolved,
    "case.linked": on_case_linked,
}
