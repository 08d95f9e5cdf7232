"""Charting checks: a charted depth or tip is refused outside the knowledge base's limits."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dermis.core.charting_checks import (
    AreaContext,
    ChartedArea,
    DepthCap,
    Level,
    check_area,
    check_session,
    errors,
    warnings,
)
from dermis.core.knowledge import load_knowledge

KB = load_knowledge()


def needle(area, depth, device="automated_pen", context=None):
    return check_area(KB, "microneedling", device, ChartedArea(area, depth_mm=depth), context)


def test_a_depth_inside_every_limit_passes_silently():
    assert needle("cheeks", 1.0) == []


def test_above_the_areas_maximum_is_an_error_naming_the_field_the_limit_and_the_source():
    (issue,) = needle("forehead", 1.5)
    assert issue.level is Level.ERROR
    assert (issue.area, issue.field) == ("forehead", "depth_mm")
    # without a plan the most permissive profile and thickness count: forehead scar, thick skin
    assert "1.25 mm" in issue.message and "Forehead" in issue.message
    assert "drpen" in issue.citations


def test_the_plans_profile_and_thickness_tighten_the_ceiling():
    context = AreaContext(depth_profiles=("standard",), thickness="normal")
    (issue,) = needle("forehead", 0.75, context=context)
    assert issue.level is Level.ERROR
    assert "0.5 mm" in issue.message and "standard treatment, normal skin" in issue.message
    assert needle("forehead", 0.75) == []  # allowed for scars on thick skin


def test_periorbital_skin_is_the_most_restricted():
    (issue,) = needle("periorbital", 0.75)
    assert issue.level is Level.ERROR and "0.5 mm" in issue.message


def test_outside_the_devices_range_is_an_error():
    issues = needle("cheeks", 0.25, device="dermaroller")
    assert [i.field for i in errors(issues)] == ["depth_mm"]
    assert "0.5-2 mm" in issues[0].message
    assert "doddaballapur2009" in issues[0].citations


def test_a_roller_only_has_its_needle_lengths():
    (issue,) = needle("cheeks", 1.25, device="dermaroller")
    assert issue.level is Level.ERROR and "1.5" in issue.message


def test_a_pen_between_two_settings_is_a_warning_only():
    (issue,) = needle("cheeks", 0.6)
    assert issue.level is Level.WARNING and "0.25 mm steps" in issue.message


def test_a_screening_cap_is_an_error_with_its_reason_and_source():
    cap = DepthCap(1.0, "anticoagulants", ("chu2021",))
    (issue,) = needle("cheeks", 1.5, context=AreaContext(depth_caps=(cap,)))
    assert issue.level is Level.ERROR
    assert "1 mm cap" in issue.message and "anticoagulants" in issue.message
    assert issue.citations == ("chu2021",)


def test_deeper_than_planned_warns_and_below_the_usual_range_warns():
    context = AreaContext(("standard",), "normal", planned_depth_mm=0.5)
    (deeper,) = needle("cheeks", 0.75, context=context)
    assert deeper.level is Level.WARNING and "deeper than planned" in deeper.message
    shallow = AreaContext(("scar",), "normal")
    (below,) = needle("cheeks", 0.5, context=shallow)
    assert below.level is Level.WARNING and "below the usual range" in below.message


def test_missing_or_impossible_depths_are_errors():
    assert [i.message for i in needle("cheeks", None)] == ["is required for a microneedled area"]
    assert errors(needle("cheeks", 0.0))
    assert errors(needle("cheeks", float("nan")))


def test_unknown_area_and_wrong_modality_device_are_errors():
    (issue,) = needle("elbow", 0.5)
    assert issue.field == "area" and "unknown area" in issue.message
    (device,) = check_session(KB, "microneedling", "diamond_tip", [ChartedArea("cheeks", 1.0)])
    assert device.field == "device" and device.area is None


def test_microdermabrasion_tips():
    def tip(device, value, phototype=None, planned=None):
        charted = ChartedArea("cheeks", tip=value)
        context = AreaContext(planned_tip=planned)
        return check_area(KB, "microdermabrasion", device, charted, context, phototype)

    assert tip("diamond_tip", "coarse", "II") == []
    assert [i.field for i in errors(tip("diamond_tip", None))] == ["tip"]
    assert "no coarse tip" in tip("home_kit", "coarse")[0].message
    assert errors(tip("crystal", "fine"))
    assert tip("crystal", None) == []
    (dark,) = tip("diamond_tip", "coarse", "V")
    assert dark.level is Level.WARNING and "Fitzpatrick V" in dark.message and dark.citations
    (stronger,) = tip("diamond_tip", "coarse", "II", planned="medium")
    assert stronger.level is Level.WARNING and "stronger than planned" in stronger.message


def test_a_session_reports_every_area_and_refuses_duplicates():
    areas = [ChartedArea("cheeks", 1.0), ChartedArea("forehead", 2.0), ChartedArea("cheeks", 1.0)]
    issues = check_session(KB, "microneedling", "automated_pen", areas)
    assert [(i.area, i.field) for i in issues] == [("forehead", "depth_mm"), ("cheeks", "area")]
    assert all(i.to_dict()["level"] == "error" for i in issues)


def test_depth_applies_to_needling_only_and_passes_must_be_positive():
    issues = check_area(
        KB, "microdermabrasion", "diamond_tip", ChartedArea("chin", 1.0, "fine", passes=0)
    )
    assert {i.field for i in errors(issues)} == {"passes", "depth_mm"}


@pytest.mark.parametrize("area", sorted(KB.depth_limits))
@given(depth=st.floats(min_value=0.05, max_value=3.0))
def test_no_depth_above_any_limit_is_accepted(area, depth):
    """Property: whatever depth passes without error is within the device and area limits."""
    issues = needle(area, depth)
    if not errors(issues):
        deepest = max(
            limits.for_thickness(t).max
            for limits in KB.depth_limits[area].values()
            for t in ("thin", "normal", "thick")
        )
        assert depth <= deepest + 1e-9
        assert depth <= KB.devices["automated_pen"].depth_mm.max
    assert all(w.level is Level.WARNING for w in warnings(issues))
