from services.training.domain.rules import Condition, evaluate
from services.training.domain.scorecard import RESOLUTION, SATISFACTION, Tally, compute

FIGS = compute({RESOLUTION: Tally(40, 30), SATISFACTION: Tally(31, 140)}, 1, 1)


def test_every_condition_must_hold():
    ok, checks = evaluate(
        [
            Condition("satisfaction_mean", ">=", 4.5, min_events=30),
            Condition("training_compliance", "==", 100),
        ],
        FIGS,
    )
    assert ok and all(c.met for c in checks)
    assert checks[0].as_evidence() == {
        "figure": "satisfaction_mean",
        "op": ">=",
        "value": 4.5,
        "min_events": 30,
        "actual": 4.52,
        "events": 31,
        "met": True,
    }
    ok, checks = evaluate(
        [Condition("cases_handled", ">", 40), Condition("first_contact_rate", ">=", 75)], FIGS
    )
    assert not ok and [c.met for c in checks] == [False, True]


def test_too_few_events_or_no_value_fails():
    assert not evaluate([Condition("satisfaction_mean", ">=", 4.5, min_events=32)], FIGS)[0]
    assert not evaluate([Condition("time_limit_compliance", ">=", 0)], FIGS)[0]
    assert not evaluate([Condition("no_such_figure", ">=", 0)], FIGS)[0]
    assert not evaluate([], FIGS)[0]


def test_each_operator():
    for op, expected in ((">=", True), (">", False), ("<=", True), ("<", False), ("==", True)):
        assert evaluate([Condition("cases_handled", op, 40)], FIGS)[0] is expected, op


def test_conditions_from_stored_rules():
    c = Condition.from_dict({"figure": "cases_handled", "op": ">=", "value": 1})
    assert c == Condition("cases_handled", ">=", 1.0, 0)
