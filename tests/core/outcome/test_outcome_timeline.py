"""The source texts' timeline (seeds, evidence §10), read directly off forecasts of maria."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dermis.core.outcome import CONCERNS, make_patient, make_treatment
from tests.core.outcome.outcome_personas import SERIES3, fitted

YEAR = 365.25
MONTH = YEAR / 12
THRESHOLD = 25.0


def test_series_peaks_in_months_1_to_3_after_it(maria, laxity_pen):
    f = fitted(maria, laxity_pen).predict(700, SERIES3)
    assert MONTH <= f.peak_day - SERIES3[-1] <= 3 * MONTH


def test_gradual_reversal_from_3_to_12_months_while_still_better(maria, laxity_pen):
    f = fitted(maria, laxity_pen).predict(700, SERIES3)
    window = f.p50[SERIES3[-1] + 91 : SERIES3[-1] + 366]
    steps = np.diff(window)
    assert np.all(steps <= 1e-6), "the median only declines between 3 and 12 months"
    assert np.all(steps > -0.5), "gradually: no drop of half a point or more in a day"
    assert window[-1] < window[0] - 5, "some of the result is lost by 12 months"
    assert np.all(window >= THRESHOLD), "still noticeably better than before"
    assert np.all(f.p10[SERIES3[-1] + 91 : SERIES3[-1] + 366] > 0), "p10 still better than before"


def test_single_session_noticeable_6_to_12_months(maria, laxity_pen):
    f = fitted(maria, laxity_pen).predict(800, [0])
    assert f.noticeable_until_day is not None
    assert YEAR / 2 <= f.noticeable_until_day <= YEAR


def test_series_of_3_to_6_noticeable_1_to_3_years(maria, laxity_pen):
    for n in (3, 4, 5, 6):
        series = [28 * i for i in range(n)]
        f = fitted(maria, laxity_pen).predict(series[-1] + 4 * 365, series)
        years = (f.noticeable_until_day - series[-1]) / YEAR
        assert 1.0 <= years <= 3.0, (n, years)


def test_maintenance_every_6_to_12_months_lasts_5_years_or_more(maria, laxity_pen):
    model = fitted(maria, laxity_pen)
    for every in (182, 273, 365):
        sessions = list(SERIES3) + list(range(56 + every, 56 + 12 * 365, every))
        f = model.predict(56 + 12 * 365, sessions)
        first_below = np.nonzero(f.p50[56:] < THRESHOLD)[0]
        years = first_below[0] / YEAR if first_below.size else 12.0
        assert years >= 5.0, (every, years)
    # ... and without maintenance it would not: the same series alone fades within 3 years
    alone = model.predict(56 + 12 * 365, SERIES3)
    assert np.nonzero(alone.p50[56:] < THRESHOLD)[0][0] / YEAR < 3.0


def test_yearly_maintenance_needs_a_new_series_within_10_years(maria, laxity_pen):
    """'5-10 years before another full series': the yearly-maintained result does fade."""
    model = fitted(maria, laxity_pen)
    sessions = list(SERIES3) + list(range(56 + 365, 56 + 16 * 365, 365))
    f = model.predict(56 + 16 * 365, sessions)
    first_below = np.nonzero(f.p50[56:] < THRESHOLD)[0]
    assert first_below.size and first_below[0] / YEAR <= 10.0
    # a new full series then restores it
    restart = 56 + int(first_below[0]) + 14
    kept = [d for d in sessions if d < restart]
    refreshed = model.predict(restart + 200, [*kept, restart, restart + 28, restart + 56])
    later = restart + 56 + 60
    assert refreshed.p50[later] >= THRESHOLD and refreshed.p50[later] > f.p50[later] + 5


@settings(max_examples=25, deadline=None)
@given(
    concern=st.sampled_from(CONCERNS),
    modality=st.sampled_from(["microneedling", "microdermabrasion"]),
    age=st.integers(18, 85),
    gaps=st.lists(st.integers(1, 400), min_size=1, max_size=8),
    seed=st.integers(0, 10),
)
def test_treated_is_never_worse_than_untreated(concern, modality, age, gaps, seed):
    patient = make_patient(age)
    sessions = list(np.cumsum([0, *gaps[1:]]) + gaps[0] - 1)
    model = fitted(patient, make_treatment(modality, concern), draws=50, seed=seed)
    horizon = sessions[-1] + 800
    treated = model.improvement(model.log_severity(sessions, 0, horizon))
    untreated = model.improvement(model.log_severity((), 0, horizon))
    assert np.all(treated >= untreated - 1e-3)


@settings(max_examples=25, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 200), min_size=1, max_size=6),
    extra=st.integers(1, 400),
    depth=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_one_more_session_never_lowers_any_draw(gaps, extra, depth):
    model = fitted(
        make_patient(50), make_treatment("microneedling", "laxity", depth_mm=depth), draws=50
    )
    sessions = [int(x) for x in np.cumsum([0, *gaps])]
    more = [*sessions, sessions[-1] + extra]
    horizon = more[-1] + 600
    base = model.log_severity(sessions, 0, horizon)
    added = model.log_severity(more, 0, horizon)
    assert np.all(added <= base + 1e-5)
