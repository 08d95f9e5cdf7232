"""The maintenance planner: goal met with the fewest sessions inside the interval bounds."""

import numpy as np
import pytest

from dermis.core.errors import InputError
from dermis.core.outcome import make_treatment
from dermis.core.outcome.kinetics import quantile_rows
from dermis.core.outcome.maintenance import plan_maintenance
from tests.core.outcome.outcome_personas import SERIES3, fitted

MN = {"min_interval_days": 180, "max_interval_days": 365}


@pytest.fixture(scope="module")
def model(maria, laxity_pen):
    return fitted(maria, laxity_pen, SERIES3)


def days_below(model, sessions, start, end, quantile=0.5):
    y = model.log_severity(sessions, start, end + 1)
    q = model.improvement(quantile_rows(y, [1 - quantile])[0])
    return int(np.count_nonzero(q < model.threshold_pct_))


def test_plan_meets_the_goal_inside_the_bounds(model):
    plan = plan_maintenance(model, SERIES3, 8, 0.5, **MN)
    assert plan.feasible and plan.days_below == 0
    gaps = np.diff([SERIES3[-1], *plan.maintenance_days])
    assert np.all((gaps >= 180) & (gaps <= 365))
    assert plan.goal_end_day == SERIES3[-1] + round(8 * 365.25)
    # independently re-checked from the model
    assert (
        days_below(model, SERIES3 + plan.maintenance_days, plan.goal_start_day, plan.goal_end_day)
        == 0
    )


def test_no_fixed_interval_within_the_bounds_does_it_with_fewer_sessions(model):
    plan = plan_maintenance(model, SERIES3, 8, 0.5, **MN)
    for every in range(180, 366, 15):
        fixed = tuple(range(SERIES3[-1] + every, plan.goal_end_day, every))
        if days_below(model, SERIES3 + fixed, plan.goal_start_day, plan.goal_end_day) == 0:
            assert len(plan.maintenance_days) <= len(fixed), every


def test_compares_with_fixed_6_and_12_month_recalls(model):
    plan = plan_maintenance(model, SERIES3, 10, 0.5, **MN)
    by_name = {c.strategy: c for c in plan.comparisons}
    assert set(by_name) == {"fixed_6_months", "fixed_12_months"}
    six, twelve = by_name["fixed_6_months"], by_name["fixed_12_months"]
    assert six.sessions > twelve.sessions
    assert len(plan.maintenance_days) <= six.sessions
    assert plan.days_below <= twelve.days_below
    assert twelve.days_below == days_below(
        model, SERIES3 + twelve.maintenance_days, plan.goal_start_day, plan.goal_end_day
    )
    data = plan.to_dict()
    assert data["maintenance_days"] == list(plan.maintenance_days)
    assert [c["strategy"] for c in data["comparison"]] == ["fixed_6_months", "fixed_12_months"]


def test_a_short_goal_needs_no_maintenance(model):
    plan = plan_maintenance(model, SERIES3, 1, 0.5, **MN)
    assert plan.maintenance_days == () and plan.feasible


def test_a_demanding_quantile_needs_more_sessions(model):
    typical = plan_maintenance(model, SERIES3, 6, 0.5, **MN)
    cautious = plan_maintenance(model, SERIES3, 6, 0.4, **MN)
    assert len(cautious.maintenance_days) >= len(typical.maintenance_days)
    assert cautious.maintenance_days != typical.maintenance_days


def test_a_series_that_never_reaches_noticeable_gets_reassess_not_sessions(maria):
    """The medium diamond tip barely stimulates collagen: no list of sessions, a reassessment."""
    weak = fitted(maria, make_treatment("microdermabrasion", "laxity"), SERIES3)
    plan = plan_maintenance(weak, SERIES3, 10, 0.5, min_interval_days=28, max_interval_days=120)
    assert plan.recommendation == "reassess"
    assert plan.maintenance_days == () and not plan.feasible
    assert "Reassess the plan" in plan.notes[0]
    assert plan.to_dict()["recommendation"] == "reassess"


def test_a_non_responder_is_told_to_reassess(maria, laxity_pen):
    """A patient graded at no improvement after the series is not booked 20 sessions."""
    from dermis.core.outcome import FollowUp

    graded = (FollowUp.measured(56 + 60, 0.0), FollowUp.measured(56 + 120, 0.0))
    model = fitted(maria, laxity_pen, SERIES3, graded)
    plan = plan_maintenance(model, SERIES3, 10, 0.5, **MN)
    assert plan.recommendation == "reassess" and plan.maintenance_days == ()


def test_microdermabrasion_maintenance_says_its_gain_is_epidermal_and_temporary(maria):
    series = (0, 14, 28, 42, 56, 70)
    crystal = fitted(
        maria, make_treatment("microdermabrasion", "uneven_texture", "crystal"), series
    )
    plan = plan_maintenance(crystal, series, 2, 0.5, min_interval_days=28, max_interval_days=120)
    assert any("epidermal and temporary" in note for note in plan.notes)
    gaps = np.diff([series[-1], *plan.maintenance_days])
    assert np.all((gaps >= 28) & (gaps <= 120))
    # the glow fades within about a week: no interval keeps the typical patient noticeable
    for every in range(28, 121, 14):
        fixed = tuple(range(series[-1] + every, plan.goal_end_day, every))
        below = days_below(crystal, series + fixed, plan.goal_start_day, plan.goal_end_day)
        assert plan.days_below <= below, every


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"years": 0}, "--years"),
        ({"years": -1}, "--years"),
        ({"quantile": 1.0}, "--quantile"),
        ({"quantile": 0}, "--quantile"),
    ],
)
def test_bad_goal_names_the_option(model, kwargs, field):
    args = {"years": 5, "quantile": 0.5, **kwargs}
    with pytest.raises(InputError) as err:
        plan_maintenance(model, SERIES3, args["years"], args["quantile"], **MN)
    assert err.value.field == field
