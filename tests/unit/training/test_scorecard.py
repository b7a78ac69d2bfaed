from services.training.domain.scorecard import (
    FIGURES,
    REOPENED,
    RESOLUTION,
    SATISFACTION,
    TIME_LIMIT,
    Tally,
    compute,
)


def test_figures_from_tallies_with_the_events_behind_each():
    figs = compute(
        {
            RESOLUTION: Tally(4, 3),  # 3 of 4 at first contact
            TIME_LIMIT: Tally(3, 2),  # 2 met, 1 breached
            SATISFACTION: Tally(3, 13),
            REOPENED: Tally(1, 1),
        },
        mandatory_courses=2,
        certified_courses=1,
    )
    assert set(figs) == set(FIGURES)
    got = {name: (f.value, f.events) for name, f in figs.items()}
    assert got == {
        "cases_handled": (4, 4),
        "first_contact_rate": (75.0, 4),
        "time_limit_compliance": (66.67, 3),
        "satisfaction_mean": (4.33, 3),
        "satisfaction_count": (3, 3),
        "reopened_cases": (1, 1),
        "training_compliance": (50.0, 1),
    }


def test_rates_without_events_are_unknown_and_nothing_mandatory_is_compliant():
    figs = compute({}, mandatory_courses=0, certified_courses=0)
    assert figs["cases_handled"].value == 0
    assert figs["first_contact_rate"].value is None
    assert figs["time_limit_compliance"].value is None
    assert figs["satisfaction_mean"].value is None
    assert figs["training_compliance"].value == 100.0
