"""The maintenance planner: goal met with the fewest sessions inside the interval bounds."""

import numpy as np
import pytest
from outcome_personas import SERIES3, fitted

from dermis.core.errors import InputError
from dermis.core.outcome import make_treatment
from dermis.core.outcome.kinetics import improvement_pct, quantile_rows
from dermis.core.outcome.maintenance import plan_maintenance

MN = {"min_interval_days": 180, "max_interval_days": 365}


@pytest.fixture(scope="module")
def model(maria, laxity_pen):
    return fitted(maria, laxity_pen, SERIES3)


def days_below(model, sessions, start, end, quantile=0.5):
    y = model.log_severity(sessions, start, end + 1)
    q = improvement_pct(quantile_rows(y, [1 - quantile])[0])
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


def test_an_unreachable_goal_is_reported_with_a_best_effort(maria):
    """The medium diamond tip barely stimulates collagen: texture cannot stay noticeable."""
    weak = fitted(maria, make_treatment("microdermabrasion", "uneven_texture"), SERIES3)
    plan = plan_maintenance(weak, SERIES3, 2, 0.5, min_interval_days=28, max_interval_days=120)
    assert not plan.feasible and plan.days_below > 0
    assert np.all(np.diff([SERIES3[-1], *plan.maintenance_days]) >= 28)
    assert plan.days_below <= min(c.days_below for c in plan.comparisons)


def test_crystal_microdermabrasion_builds_up_until_monthly_maintenance_holds(maria):
    """Early on the surface glow fades faster than the 28-day minimum allows; as collagen builds
    the planner keeps it noticeable and spreads the sessions out."""
    series = (0, 14, 28, 42, 56, 70)
    crystal = fitted(
        maria, make_treatment("microdermabrasion", "uneven_texture", "crystal"), series
    )
    plan = plan_maintenance(crystal, series, 2, 0.5, min_interval_days=28, max_interval_days=120)
    gaps = np.diff([series[-1], *plan.maintenance_days])
    assert np.all((gaps >= 28) & (gaps <= 120))
    all_sessions = series + plan.maintenance_days
    assert days_below(crystal, all_sessions, 365, plan.goal_end_day) == 0
    assert 0 < plan.days_below == days_below(crystal, all_sessions, plan.goal_start_day, 364)
    assert gaps[-1] > gaps[0]
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
