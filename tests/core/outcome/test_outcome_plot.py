"""The forecast's picture: its p10-p90 band is drawn with the points nobody could see left out,
so the chart is half the size, and the band drawn is the band forecast (within a
fraction of a pixel), its steps at each session included."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dermis.core.outcome import make_treatment
from dermis.core.outcome.plot import MONTH, band, edge, plot_forecast
from tests.core.outcome.outcome_personas import fitted

WIDTH, HEIGHT = 990.0, 528.0  # the chart's figure, in pixels


def _worst_gap_in_pixels(x, y, scale) -> float:
    """How far, in pixels, the simplified line is from the line through (x, y) at its points."""
    drawn = edge(x, y, scale)
    assert np.allclose(drawn[0], [x[0], y[0]]) and np.allclose(drawn[-1], [x[-1], y[-1]])
    return float(np.max(np.abs(np.interp(x, drawn[:, 0], drawn[:, 1]) - y)) * scale[1])


def _check(x, low, high) -> int:
    """The band's outline is its two edges, each within half a pixel; how many points it has."""
    span_y = float(np.ptp(np.r_[low, high, 0.0]))
    scale = (WIDTH / float(np.ptp(x)), HEIGHT / max(span_y, 1e-9))
    drawn_x, drawn_y = band(x, low, high, WIDTH, HEIGHT)
    top, bottom = edge(x, high, scale), edge(x, low, scale)
    assert np.allclose(drawn_x, np.r_[top[:, 0], bottom[::-1, 0]])
    assert np.allclose(drawn_y, np.r_[top[:, 1], bottom[::-1, 1]])
    assert _worst_gap_in_pixels(x, high, scale) < 0.5
    assert _worst_gap_in_pixels(x, low, scale) < 0.5
    return len(drawn_x)


def test_a_forecast_band_is_drawn_within_half_a_pixel_with_a_fifth_of_the_points(maria):
    forecast = fitted(maria, make_treatment("microneedling", "acne_scars_rolling")).predict(
        1100, [0, 28, 56, 84]
    )
    months = forecast.days / MONTH
    drawn = _check(months, forecast.p10, forecast.p90)
    assert drawn < 2 * len(months) / 5  # 290 of 2,202 here


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=3, max_size=400),
    st.floats(0.1, 30),
)
def test_any_band_is_drawn_within_half_a_pixel(steps, width):
    low = np.cumsum(steps)
    high = low + width
    x = np.arange(len(low), dtype=float)
    _check(x, low, high)


def test_the_chart_is_a_fraction_of_its_size_and_still_shows_every_part(maria, tmp_path):
    forecast = fitted(maria, make_treatment("microneedling", "acne_scars_rolling")).predict(
        1100, [0, 28, 56, 84]
    )
    out = plot_forecast(forecast, tmp_path / "chart.svg", "A title")
    svg = out.read_text()
    paths = [len(d) for d in re.findall(r' d="([^"]*)"', svg)]
    assert max(paths) < 8000  # the band was 60,000 characters of path, a point a day
    for text in ("80 % of patients", "typical patient", "noticeable", "session", "A title"):
        assert f"<!-- {text}" in svg  # each text's glyphs are drawn under a comment saying it
