"""Follow-up grades on the concern's scale, and the outcome forecast they personalise."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from dermis.core.outcome import PATIENT_SENTENCE
from dermis.core.patient import Assessment, Intake
from dermis.core.planning import plan
from dermis.core.screening import screen
from dermis.web.clinic import core_inputs
from dermis.web.clinic.models import (
    AuditEvent,
    Consultation,
    FollowUpGrade,
    TreatmentPlan,
    TreatmentSession,
)
from dermis.web.clinic.outcomes import forecasting
from tests import factories

SVG_NS = "{http://www.w3.org/2000/svg}svg"


@pytest.fixture(autouse=True)
def fresh_cache(db):
    _forget()
    yield
    _forget()


def _forget() -> None:
    """The shared cache and this process's copies emptied: what is asked next is drawn."""
    cache.clear()
    forecasting._PANELS.clear()
    forecasting._CHARTS.clear()
    forecasting._ASKED.clear()


def give_plan(patient, user, area="cheeks", concern="acne_scars_rolling") -> TreatmentPlan:
    """An active microneedling plan, by default for rolling acne scars on the cheeks (Goodman &
    Baron 3)."""
    patient.fitzpatrick = "III"
    patient.save()
    kb = core_inputs.knowledge()
    # screened 100 days ago: sessions up to 90 days ago are inside the plan and the
    # screening is recent enough (90 days) for a session 10 or more days later
    today = timezone.localdate() - timedelta(days=100)
    who = core_inputs.core_patient(patient, today)
    assessment = Assessment(concerns=[{"area": area, "concern": concern, "severity": 3}])
    found = screen(who, Intake(), kb, today)
    proposal = plan(who, assessment, found, kb)
    consultation = Consultation.objects.create(
        patient=patient,
        as_of=today,
        intake=Intake().model_dump(mode="json"),
        assessment=assessment.model_dump(mode="json"),
        screening=found.to_dict(),
        proposal=proposal.to_dict(),
        knowledge_version=kb.version,
    )
    return TreatmentPlan.objects.create(
        patient=patient, consultation=consultation, version=1, content=proposal.to_dict()
    )


def signed_session(world, treatment_plan, days_ago: int) -> TreatmentSession:
    moment = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=days_ago), time(10))
    )
    draft = factories.session(
        world.pat,
        world.nora,
        plan=treatment_plan,
        performed_at=moment,
        areas={"cheeks": 1.25},
        cartridge="36-pin",
        lot_number="LOT-1",
    )
    return factories.finalised(world.pat, draft)


def grade(world, treatment_plan, value: float, days_ago: int, baseline=3.0) -> FollowUpGrade:
    return FollowUpGrade.objects.create(
        patient=world.nora,
        plan=treatment_plan,
        area="cheeks",
        concern="acne_scars_rolling",
        grade=value,
        baseline=baseline,
        graded_on=timezone.localdate() - timedelta(days=days_ago),
    )


def svg_of(client, patient) -> bytes:
    response = client.get(reverse("patient-forecast", args=[patient.pk]))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "private, no-store"
    return response.content


# --- Grades ---------------------------------------------------------------------------------


def test_a_grade_is_recorded_on_the_concerns_scale_with_its_baseline(client_as, world):
    active = give_plan(world.nora, world.pat.user)
    url = reverse("grade-create", args=[world.nora.pk])
    c = client_as("pat")
    form = c.get(url).content.decode()
    assert "Goodman &amp; Baron qualitative acne-scar grade" in form
    assert 'name="baseline" value="3.0"' in form  # prefilled from the plan's severity
    response = c.post(
        url,
        {
            "area": "cheeks",
            "concern": "acne_scars_rolling",
            "grade": "2",
            "baseline": "",
            "graded_on": timezone.localdate().isoformat(),
            "notes": "smoother",
        },
    )
    assert response.status_code == 302
    saved = FollowUpGrade.objects.get()
    assert (saved.grade, saved.baseline, saved.plan, saved.graded_by) == (
        2.0,
        3.0,
        active,
        world.pat.user,
    )
    event = AuditEvent.objects.get(action="create", object_type="FollowUpGrade")
    assert event.patient_id_ref == world.nora.pk and "smoother" not in event.summary


@pytest.mark.parametrize(
    ("field", "value", "label", "message"),
    [
        ("grade", "5", "Grade today", "5 is outside the Goodman &amp; Baron qualitative"),
        ("grade", "0", "Grade today", "(1-4)"),
        ("baseline", "7", "Baseline grade", "7 is outside the Goodman"),
        ("graded_on", "2999-01-01", "Date graded", "annot be in the future"),
        ("area", "elbow", "Area", "Select a valid choice"),
    ],
)
def test_an_out_of_range_grade_is_refused_naming_the_field_and_the_scale(
    client_as, world, field, value, label, message
):
    data = {
        "area": "cheeks",
        "concern": "acne_scars_rolling",
        "grade": "2",
        "baseline": "3",
        "graded_on": timezone.localdate().isoformat(),
    }
    data[field] = value
    response = client_as("alice").post(reverse("grade-create", args=[world.nora.pk]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert f"{label}</a>: " in html and message in html
    assert not FollowUpGrade.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("fran", 403), ("oscar", 404), ("nobody", 403)])
def test_grades_and_the_forecast_are_for_clinical_staff_of_the_clinic(
    client_as, world, persona, status
):
    give_plan(world.nora, world.pat.user)
    c = client_as(persona)
    for name in ("grade-create", "patient-forecast"):
        assert c.get(reverse(name, args=[world.nora.pk])).status_code == status
    assert c.post(reverse("grade-create", args=[world.nora.pk]), {}).status_code == status
    anonymous = client_as("anonymous").get(reverse("patient-forecast", args=[world.nora.pk]))
    assert anonymous.status_code == 302


def test_the_record_page_lists_grades_for_clinical_staff_only(world, client_as):
    active = give_plan(world.nora, world.pat.user)
    grade(world, active, 2, days_ago=10)
    record = reverse("patient-detail", args=[world.nora.pk])
    html = client_as("pat").get(record).content.decode()
    assert "Rolling" in html or "rolling" in html
    assert "(mild)" in html and "<td>-1</td>" in html  # grade 2 "mild"; one better than baseline
    assert reverse("grade-create", args=[world.nora.pk]) in html
    hidden = client_as("fran").get(record).content.decode()
    assert "Follow-up grades" not in hidden and "(mild)" not in hidden
    assert reverse("grade-create", args=[world.nora.pk]) not in hidden


# --- Forecast -------------------------------------------------------------------------------


def test_grades_become_improvement_bands_of_pre_treatment_severity():
    scale = core_inputs.knowledge().scales["goodman_baron"]  # 1 (macular) .. 4 (severe)
    assert forecasting.improvement_band(scale, 3, 2) == (25.0, 75.0)
    assert forecasting.improvement_band(scale, 4, 4) == (-100 / 6, 100 / 6)
    assert forecasting.improvement_band(scale, 1, 1) is None  # nothing left to improve


def test_no_forecast_without_a_plan_or_a_phototype_and_the_reason_is_shown(client_as, world):
    result = forecasting.patient_forecast(world.nora)
    assert result.forecast is None and result.reason == "the phototype is not recorded yet"
    world.nora.fitzpatrick = "II"
    world.nora.save()
    assert (
        forecasting.patient_forecast(world.nora).reason == "there is no active treatment plan yet"
    )
    response = client_as("pat").get(reverse("patient-forecast", args=[world.nora.pk]))
    assert response.status_code == 404 and b"no active treatment plan" in response.content
    html = client_as("pat").get(reverse("patient-detail", args=[world.nora.pk])).content.decode()
    assert "No forecast yet: there is no active treatment plan yet." in html
    assert forecasting.below_noticeable_on(world.nora) is None


def test_the_planned_course_is_forecast_before_the_first_session(world):
    active = give_plan(world.nora, world.pat.user, "jawline", "laxity")
    result = forecasting.patient_forecast(world.nora)
    course = active.content["courses"][0]
    assert result.forecast is not None
    assert result.sessions_done == ()
    assert len(result.sessions_planned) == course["sessions"]
    assert result.sessions_planned[1] - result.sessions_planned[0] == course["interval_days"]
    assert result.start == timezone.localdate()
    assert result.forecast.n_draws == forecasting.N_DRAWS
    falls = forecasting.below_noticeable_on(world.nora)
    assert falls is not None and falls > timezone.localdate()
    assert falls == result.start + timedelta(days=result.forecast.noticeable_until_day + 1)
    # a typical icepick-scar result never reaches "noticeable" (the trials' modest gains for
    # deep narrow scars), so the forecast gives no recall date: the cadence decides
    cache.clear()
    give_plan(world.rhys, world.oscar.user, concern="acne_scars_icepick")
    modest = forecasting.patient_forecast(world.rhys)
    assert max(modest.forecast.p50) < modest.forecast.noticeable_threshold
    assert forecasting.below_noticeable_on(world.rhys) is None


def test_the_chart_is_valid_svg_the_same_every_time_and_changes_with_grades(client_as, world):
    active = give_plan(world.nora, world.pat.user)
    for days_ago in (90, 62):
        signed_session(world, active, days_ago)
    c = client_as("pat")
    before = svg_of(c, world.nora)
    root = ET.fromstring(before)
    assert root.tag == SVG_NS
    assert b"<metadata>" not in before and b"<script" not in before
    _forget()
    assert svg_of(c, world.nora) == before  # deterministic, so the next comparison means something
    unchanged = forecasting.patient_forecast(world.nora).forecast
    grade(world, active, 1, days_ago=30)  # far better than the typical patient: 3 -> 1
    after = svg_of(c, world.nora)
    ET.fromstring(after)
    assert after != before
    changed = forecasting.patient_forecast(world.nora)
    assert changed.follow_ups and changed.forecast.at(150)[1] > unchanged.at(150)[1]
    assert AuditEvent.objects.filter(summary="forecast chart").count() == 3


def test_a_drawn_chart_is_kept_compressed_and_served_without_the_forecast(
    client_as, world, monkeypatch
):
    import zlib

    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    c = client_as("pat")
    first = svg_of(c, world.nora)
    kept = [v for k, v in _cached_values() if ":forecast-svgz:" in k]
    assert len(kept) == 1 and zlib.decompress(kept[0]) == first and len(kept[0]) < len(first) / 2

    def not_asked(*args, **kwargs):
        raise AssertionError("the forecast was read or drawn again")

    monkeypatch.setattr(forecasting, "_cached", not_asked)
    monkeypatch.setattr(forecasting, "forecast_svg", not_asked)
    assert svg_of(c, world.nora) == first
    # This process kept its copy too: with the shared cache emptied (another worker's restart of
    # Redis) or not asked, the chart is still not drawn again.
    [key] = list(forecasting._CHARTS)
    assert ":forecast-svgz:" in key and forecasting._CHARTS[key] == kept[0]
    cache.clear()
    monkeypatch.setattr(forecasting.cache, "get", not_asked)
    assert svg_of(c, world.nora) == first
    # A process without a copy, the shared cache emptied: drawn again, the same chart, and kept.
    forecasting._CHARTS.clear()
    monkeypatch.undo()
    assert svg_of(c, world.nora) == first
    assert list(forecasting._CHARTS) == [key]


def test_the_record_page_says_what_the_forecast_says_from_its_own_small_entry(
    client_as, world, monkeypatch
):
    import pickle

    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    result = forecasting.patient_forecast(world.nora)
    panel = forecasting.forecast_panel(world.nora)
    assert panel == forecasting.Panel.of(result) and panel.forecast
    assert (panel.title, panel.statement, panel.summary) == (
        result.title, result.statement, result.summary()
    )  # fmt: skip
    assert panel.below_noticeable_on == result.below_noticeable_on
    kept = [v for k, v in _cached_values() if ":forecast-panel:" in k]
    assert kept == [panel] and len(pickle.dumps(panel)) < len(pickle.dumps(result)) / 20

    def not_asked(*args, **kwargs):
        raise AssertionError("the forecast itself was read")

    monkeypatch.setattr(forecasting, "_cached", not_asked)
    page = client_as("pat").get(reverse("patient-detail", args=[world.nora.pk]))
    assert page.status_code == 200 and result.summary() in html.unescape(page.content.decode())


def _cached_values() -> list[tuple[str, object]]:
    """Every entry of the shared (database) cache, by key."""
    from django.db import connection

    table = connection.ops.quote_name("dermis_cache")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {table}")
        keys = [row[0] for row in cursor.fetchall()]
    return [(k, cache.get(k.split(":", 2)[2])) for k in keys]


def test_the_record_page_describes_the_chart_in_words(world, client_as):
    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 30)
    record = reverse("patient-detail", args=[world.nora.pk])
    html = client_as("pat").get(record).content.decode()
    result = forecasting.patient_forecast(world.nora)
    peak = result.day(result.forecast.peak_day)
    assert f'src="{reverse("patient-forecast", args=[world.nora.pk])}"' in html
    assert "peaks at" in html and f"{peak:%d %B %Y}" in html
    assert "noticeable" in html
    assert PATIENT_SENTENCE in html
    hidden = client_as("fran").get(record).content.decode()
    assert "Outcome forecast" not in hidden and PATIENT_SENTENCE not in hidden
    assert reverse("patient-forecast", args=[world.nora.pk]) not in hidden


def test_signed_sessions_set_day_zero_and_drafts_do_not_count(world):
    active = give_plan(world.nora, world.pat.user)
    first = signed_session(world, active, 56)
    signed_session(world, active, 28)
    TreatmentSession.objects.create(
        patient=world.nora,
        plan=active,
        practitioner=world.pat,
        modality="microneedling",
        device="automated_pen",
    )
    result = forecasting.patient_forecast(world.nora)
    assert result.start == timezone.localtime(first.performed_at).date()
    assert result.sessions_done == (0, 28)
    remaining = active.content["courses"][0]["sessions"] - 2
    assert len(result.sessions_planned) == remaining
    assert result.sessions_planned[0] >= 56  # the next one cannot be in the past
    assert result.setting == "1.25 mm"


def test_a_panel_is_kept_by_the_process_under_its_shared_key_and_only_so_many(world, monkeypatch):
    active = give_plan(world.nora, world.pat.user)
    signed_session(world, active, 62)
    panel = forecasting.forecast_panel(world.nora)
    [key] = [k for k in forecasting._PANELS]
    assert ":forecast-panel:" in key and forecasting._PANELS[key] == panel
    cache.clear()  # the shared cache emptied (another process, a restart of Redis)...

    def not_asked(*args, **kwargs):
        raise AssertionError("the panel was read or drawn again")

    with monkeypatch.context() as m:
        m.setattr(forecasting, "_cached", not_asked)
        m.setattr(forecasting.cache, "get", not_asked)
        assert forecasting.forecast_panel(world.nora) == panel  # ...this process's copy stands
    # At most the memo's size, the oldest dropped first.
    monkeypatch.setattr(forecasting._PANELS, "size", 2)
    forecasting._PANELS.clear()
    for n in range(2):
        forecasting._PANELS[f"dermis:forecast-panel:old{n}"] = panel
    assert forecasting.forecast_panel(world.nora) == panel  # drawn again: nothing else has it
    assert list(forecasting._PANELS) == ["dermis:forecast-panel:old1", key]
