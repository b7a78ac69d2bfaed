"""An incident's life, what it covers, once per burst, its ETA against deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.routing.domain.incident_detection import BurstEvidence
from services.routing.domain.incidents import (
    MESSAGE_MAX,
    Incident,
    IncidentChange,
    IncidentState,
    InvalidIncident,
    deadline_before_eta,
    declare,
    should_suspect,
    suspect,
)
from shared.statemachine import IllegalTransition

T0 = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def evidence(region: str = "Daxing", category: str = "broadband") -> BurstEvidence:
    return BurstEvidence(region, category, T0, T0 + 10 * MIN, 20, 0.0, 20, ("C-1", "C-2"))


def suspected(**kw) -> Incident:
    return suspect("INC-1", evidence(**kw), at=T0 + 10 * MIN)[0]


def declared(**kw) -> Incident:
    args = {
        "regions": ["Daxing", "Tongzhou"],
        "categories": ["broadband", "iptv"],
        "started_at": T0,
        "message": "A fibre cut in your area",
        "at": T0 + 30 * MIN,
        "by": "netops-1",
        "eta": T0 + 3 * 60 * MIN,
    }
    return declare("INC-2", **{**args, **kw})[0]


def test_a_suspicion_carries_its_evidence_and_starts_with_its_window():
    incident, change = suspect("INC-1", evidence(), at=T0 + 10 * MIN)
    assert incident.state == IncidentState.SUSPECTED
    assert (incident.regions, incident.categories) == ({"Daxing"}, {"broadband"})
    assert incident.started_at == T0
    assert incident.declared_by is None
    assert change.kind == "suspected"
    assert change.by == "routing"
    assert change.fields["evidence"]["case_ids"] == ["C-1", "C-2"]


def test_confirming_opens_it_with_its_message_and_eta():
    eta = T0 + 3 * 60 * MIN
    incident, change = suspected().confirm(
        at=T0 + 15 * MIN, by="netops-1", message=" Fibre cut ", eta=eta
    )
    assert incident.state == IncidentState.OPEN
    assert (incident.message, incident.eta) == ("Fibre cut", eta)
    assert (incident.declared_by, incident.declared_at) == ("netops-1", T0 + 15 * MIN)
    assert change == IncidentChange(
        "INC-1",
        "confirmed",
        T0 + 15 * MIN,
        "netops-1",
        {"eta": eta.isoformat(), "message": "Fibre cut"},
    )


def test_dismissing_ends_a_suspicion():
    incident, change = suspected().dismiss(at=T0 + 20 * MIN, by="netops-1", reason="a test")
    assert (incident.state, incident.ended_at) == (IncidentState.DISMISSED, T0 + 20 * MIN)
    assert (change.kind, change.fields) == ("dismissed", {"reason": "a test"})


def test_declaring_opens_it_at_once_with_a_record_of_everything():
    incident, change = declare(
        "INC-2",
        regions=[" Daxing", "Tongzhou"],
        categories={"iptv", "broadband"},
        started_at=T0,
        message="A fibre cut",
        at=T0 + 30 * MIN,
        by="noc-system",
    )
    assert incident.state == IncidentState.OPEN
    assert incident.regions == {"Daxing", "Tongzhou"}
    assert incident.declared_by == "noc-system"
    assert change.kind == "declared"
    assert change.fields == {
        "regions": ["Daxing", "Tongzhou"],
        "categories": ["broadband", "iptv"],
        "started_at": T0.isoformat(),
        "eta": None,
        "message": "A fibre cut",
    }


def test_an_update_changes_what_it_names_and_records_only_that():
    incident = declared()
    later = T0 + 5 * 60 * MIN
    moved, change = incident.update(at=T0 + 60 * MIN, by="netops-1", eta=later)
    assert (moved.eta, moved.message) == (later, incident.message)
    assert change.fields == {"eta": later.isoformat()}
    moved, change = moved.update(at=T0 + 61 * MIN, by="netops-1", message="Splicing now")
    assert (moved.eta, moved.message) == (later, "Splicing now")
    assert change.fields == {"message": "Splicing now"}


def test_an_empty_update_is_refused():
    with pytest.raises(InvalidIncident, match="eta or a new message"):
        declared().update(at=T0 + 60 * MIN, by="netops-1")


def test_resolving_records_cause_and_resolution_once():
    incident, change = declared().resolve(
        at=T0 + 4 * 60 * MIN, by="netops-1", cause="FIBRE_CUT", resolution="Spliced at 23:10"
    )
    assert incident.state == IncidentState.RESOLVED
    assert (incident.cause, incident.resolution) == ("FIBRE_CUT", "Spliced at 23:10")
    assert incident.ended_at == T0 + 4 * 60 * MIN
    assert change.fields == {"cause": "FIBRE_CUT", "resolution": "Spliced at 23:10"}
    with pytest.raises(IllegalTransition, match="cannot resolve an incident that is resolved"):
        incident.resolve(at=T0 + 5 * 60 * MIN, by="netops-1", cause="X", resolution="again")


@pytest.mark.parametrize(
    ("state", "move"),
    [
        ("open", "confirm"),
        ("open", "dismiss"),
        ("suspected", "update"),
        ("suspected", "resolve"),
        ("dismissed", "confirm"),
        ("dismissed", "update"),
        ("resolved", "update"),
        ("resolved", "dismiss"),
    ],
)
def test_illegal_moves_name_the_state_and_the_move(state, move):
    incident = {
        "suspected": suspected(),
        "open": declared(),
        "dismissed": suspected().dismiss(at=T0 + 20 * MIN, by="n")[0],
        "resolved": declared().resolve(at=T0 + 60 * MIN, by="n", cause="C", resolution="R")[0],
    }[state]
    kwargs = {
        "confirm": {"message": "m"},
        "dismiss": {},
        "update": {"message": "m"},
        "resolve": {"cause": "C", "resolution": "R"},
    }[move]
    with pytest.raises(IllegalTransition) as raised:
        getattr(incident, move)(at=T0 + 2 * 60 * MIN, by="n", **kwargs)
    assert (raised.value.state, raised.value.action) == (state, move)
    assert f"cannot {move} an incident that is {state}" in str(raised.value)


def test_values_that_cannot_make_an_incident_are_refused():
    with pytest.raises(InvalidIncident, match="regions"):
        declared(regions=[])
    with pytest.raises(InvalidIncident, match="categories"):
        declared(categories=["broadband", " "])
    with pytest.raises(InvalidIncident, match="eta"):
        declared(eta=T0 - MIN)
    with pytest.raises(InvalidIncident, match="message"):
        declared(message="x" * (MESSAGE_MAX + 1))
    with pytest.raises(InvalidIncident, match="message"):
        declared(message="  ")
    with pytest.raises(InvalidIncident, match="timezone"):
        declared(started_at=datetime(2026, 12, 3, 19, 0))
    with pytest.raises(InvalidIncident, match="who"):
        declared(by=" ")


def test_an_update_or_confirmation_cannot_put_the_eta_before_the_start():
    with pytest.raises(InvalidIncident, match="eta"):
        declared().update(at=T0 + 60 * MIN, by="n", eta=T0 - MIN)
    with pytest.raises(InvalidIncident, match="eta"):
        suspected().confirm(at=T0 + 60 * MIN, by="n", message="m", eta=T0 - MIN)


def test_resolving_needs_a_cause_and_a_resolution():
    with pytest.raises(InvalidIncident, match="cause"):
        declared().resolve(at=T0 + 60 * MIN, by="n", cause=" ", resolution="R")
    with pytest.raises(InvalidIncident, match="resolution"):
        declared().resolve(at=T0 + 60 * MIN, by="n", cause="C", resolution="")


def test_an_open_incident_covers_its_regions_and_categories_since_it_started():
    incident = declared()
    assert incident.covers("Daxing", "broadband", T0)
    assert incident.covers("tongzhou", "IPTV", T0 + 10 * 60 * MIN)
    assert not incident.covers("Daxing", "broadband", T0 - MIN)
    assert not incident.covers("Haidian", "broadband", T0 + MIN)
    assert not incident.covers("Daxing", "billing", T0 + MIN)


def test_a_suspicion_covers_only_its_window():
    incident = suspected()
    assert incident.covers("Daxing", "broadband", T0 + 5 * MIN)
    assert not incident.covers("Daxing", "broadband", T0 + 11 * MIN)
    assert not incident.covers("Daxing", "broadband", T0 - MIN)


def test_an_ended_incident_covers_nothing():
    resolved = declared().resolve(at=T0 + 60 * MIN, by="n", cause="C", resolution="R")[0]
    dismissed = suspected().dismiss(at=T0 + 20 * MIN, by="n")[0]
    assert not resolved.covers("Daxing", "broadband", T0 + 30 * MIN)
    assert not dismissed.covers("Daxing", "broadband", T0 + 5 * MIN)


def test_a_confirmed_suspicion_covers_the_whole_burst_and_cases_after_the_window():
    incident = suspected().confirm(at=T0 + 20 * MIN, by="n", message="m")[0]
    assert incident.covers("Daxing", "broadband", T0 + MIN)
    assert incident.covers("daxing ", "Broadband", T0 + 15 * MIN)
    assert not incident.covers("Daxing", "broadband", T0 - MIN)
    assert not incident.covers("Haidian", "broadband", T0 + MIN)
    assert not incident.covers("Daxing", "billing", T0 + MIN)


def test_no_second_suspicion_while_one_stands_for_that_region_and_category():
    window_start = T0 + 30 * MIN
    standing = [suspected()]
    assert not should_suspect(standing, region="daxing", category="broadband", window_start=T0)
    assert should_suspect(standing, region="Daxing", category="iptv", window_start=T0)
    assert not should_suspect(
        [declared()], region="Tongzhou", category="iptv", window_start=window_start
    )
    assert should_suspect([], region="Daxing", category="broadband", window_start=window_start)


def test_a_dismissed_burst_is_not_raised_again_until_the_window_is_past_it():
    dismissed = suspected().dismiss(at=T0 + 20 * MIN, by="n")[0]
    key = {"region": "Daxing", "category": "broadband"}
    assert not should_suspect([dismissed], **key, window_start=T0 + 15 * MIN)
    assert should_suspect([dismissed], **key, window_start=T0 + 20 * MIN)
    resolved = declared().resolve(at=T0 + 60 * MIN, by="n", cause="C", resolution="R")[0]
    assert not should_suspect([resolved], **key, window_start=T0 + 55 * MIN)
    assert should_suspect([resolved], **key, window_start=T0 + 61 * MIN)


def test_an_eta_past_a_deadline_names_the_first_one_it_passes():
    eta = T0 + 10 * 60 * MIN
    dues = [T0 + 20 * 60 * MIN, T0 + 8 * 60 * MIN, T0 + 2 * 60 * MIN]
    assert deadline_before_eta(eta, dues) == T0 + 2 * 60 * MIN
    assert deadline_before_eta(eta, dues, now=T0 + 3 * 60 * MIN) == T0 + 8 * 60 * MIN
    assert deadline_before_eta(eta, [T0 + 10 * 60 * MIN, T0 + 11 * 60 * MIN]) is None
    assert deadline_before_eta(None, dues) is None
    assert deadline_before_eta(eta, []) is None
