"""Which department a case goes to: requested department, rules by position, default."""

from __future__ import annotations

import pytest

from services.routing.domain.rules import (
    CaseAttributes,
    DepartmentState,
    Rule,
    choose_department,
    describe,
    matches,
)

BROADBAND_HAIDIAN = CaseAttributes(
    kind="complaint", category="broadband", region="Haidian", channel="hotline", priority="normal"
)
DEPARTMENTS = {
    code: DepartmentState(code) for code in ("TECH", "FIELD", "NETOPS", "BILLING", "SUPERVISION")
}


def departments(**changes: DepartmentState) -> dict[str, DepartmentState]:
    return {**DEPARTMENTS, **changes}


@pytest.mark.parametrize(
    "rule, expected",
    [
        (Rule(1, 1, "TECH"), True),
        (Rule(1, 1, "TECH", categories=("broadband",)), True),
        (Rule(1, 1, "TECH", categories=("billing", "broadband")), True),
        (Rule(1, 1, "TECH", categories=("billing",)), False),
        (Rule(1, 1, "TECH", categories=("broadband",), regions=("Haidian",)), True),
        (Rule(1, 1, "TECH", categories=("broadband",), regions=("Chaoyang",)), False),
        (Rule(1, 1, "TECH", regions=(" haidian ",)), True),
        (Rule(1, 1, "TECH", kinds=("consultation",)), False),
        (Rule(1, 1, "TECH", channels=("hotline", "online")), True),
        (Rule(1, 1, "TECH", priorities=("urgent",)), False),
    ],
)
def test_every_condition_must_hold_and_an_empty_one_accepts_anything(rule, expected):
    assert matches(rule, BROADBAND_HAIDIAN) is expected


def test_a_condition_on_something_unknown_does_not_hold():
    assert not matches(Rule(1, 1, "TECH", regions=("Haidian",)), CaseAttributes(kind="complaint"))


def test_the_first_matching_rule_by_position_wins_and_the_reason_names_it():
    rules = [
        Rule(7, 5, "FIELD", categories=("broadband",)),
        Rule(3, 1, "NETOPS", categories=("broadband",), regions=("Haidian",)),
        Rule(9, 0, "BILLING", categories=("billing",)),
    ]
    decision = choose_department(BROADBAND_HAIDIAN, rules, DEPARTMENTS)
    assert decision.department == "NETOPS" and decision.rule_id == 3
    assert decision.reason == "rule 3 (position 1): category broadband, region Haidian"


def test_equal_positions_go_by_rule_id():
    rules = [Rule(8, 1, "FIELD"), Rule(4, 1, "TECH")]
    assert choose_department(BROADBAND_HAIDIAN, rules, DEPARTMENTS).department == "TECH"


def test_a_catch_all_rule_says_so():
    decision = choose_department(BROADBAND_HAIDIAN, [Rule(2, 99, "TECH")], DEPARTMENTS)
    assert decision.department == "TECH"
    assert decision.reason == "rule 2 (position 99): no conditions (catch-all)"


def test_the_agents_requested_department_is_honoured_when_active():
    rules = [Rule(3, 1, "NETOPS", categories=("broadband",))]
    decision = choose_department(BROADBAND_HAIDIAN, rules, DEPARTMENTS, requested="FIELD")
    assert decision.department == "FIELD" and decision.rule_id is None
    assert "requested" in decision.reason and "FIELD" in decision.reason


@pytest.mark.parametrize(
    "requested, known, why",
    [
        ("FIELD", departments(FIELD=DepartmentState("FIELD", active=False)), "is inactive"),
        ("NOPE", DEPARTMENTS, "does not exist"),
    ],
)
def test_an_inactive_or_unknown_requested_department_falls_back_to_the_rules(requested, known, why):
    rules = [Rule(3, 1, "NETOPS", categories=("broadband",))]
    decision = choose_department(BROADBAND_HAIDIAN, rules, known, requested=requested)
    assert decision.department == "NETOPS" and decision.rule_id == 3
    assert decision.reason.startswith("rule 3 (position 1): category broadband")
    assert f"requested department {requested} {why}" in decision.reason


def test_a_rule_whose_department_is_inactive_is_passed_over():
    rules = [Rule(1, 1, "NETOPS"), Rule(2, 2, "TECH")]
    known = departments(NETOPS=DepartmentState("NETOPS", active=False))
    decision = choose_department(BROADBAND_HAIDIAN, rules, known)
    assert decision.department == "TECH"
    assert "department NETOPS is inactive" in decision.reason


def test_without_a_matching_rule_the_default_department_takes_it():
    known = departments(SUPERVISION=DepartmentState("SUPERVISION", is_default=True))
    decision = choose_department(
        BROADBAND_HAIDIAN, [Rule(1, 1, "BILLING", categories=("billing",))], known
    )
    assert decision.department == "SUPERVISION" and decision.rule_id is None
    assert "default department SUPERVISION" in decision.reason


def test_an_inactive_default_is_no_default_and_nothing_matches():
    known = departments(SUPERVISION=DepartmentState("SUPERVISION", active=False, is_default=True))
    decision = choose_department(BROADBAND_HAIDIAN, [], known)
    assert decision.department is None and decision.rule_id is None
    assert "no rule matches" in decision.reason


def test_describe_names_the_case_values_in_a_fixed_order():
    rule = Rule(5, 2, "TECH", priorities=("normal",), kinds=("complaint",), channels=("hotline",))
    assert describe(rule, BROADBAND_HAIDIAN) == (
        "rule 5 (position 2): kind complaint, channel hotline, priority normal"
    )
