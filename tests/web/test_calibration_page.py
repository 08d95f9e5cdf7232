"""The clinic's own evidence: the calibration page per role, refits refused and accepted, and
every forecast naming the clinic's active parameter set (tests/web/evidence_clinic.py)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, OutcomeParameterSet
from dermis.web.clinic.outcomes import calibration, evidence, forecasting, parameter_sets
from tests import factories
from tests.web.evidence_clinic import evidence_clinic

PAGE = "/outcomes/calibration/"


@pytest.fixture(autouse=True)
def fast_report(settings, db):
    settings.DERMIS_CALIBRATION_DRAWS = 100
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def few(world):
    """Northgate with 3 graded patients (9 grades): a report, but too few for a refit."""
    return evidence_clinic(world.pat, 3)


@pytest.fixture
def enough(world):
    """Northgate with 25 graded patients (75 grades): enough for a refit."""
    return evidence_clinic(world.pat, 25)


def test_the_page_url_and_the_navigation_link(world, client_as):
    assert reverse("calibration-report") == PAGE
    html = client_as("pat").get(reverse("dashboard")).content.decode()
    assert f'href="{PAGE}"' in html
    html = client_as("fran").get(reverse("dashboard")).content.decode()
    assert f'href="{PAGE}"' not in html


def test_practitioner_sees_the_table_and_the_set_in_use_but_no_refit_button(few, client_as):
    response = client_as("pat").get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'aria-labelledby="report-h"' in html and 'id="report-h"' in html
    assert '<th scope="col">Inside p10–p90</th>' in html
    row = '<th scope="row">Acne scars rolling</th><td>Microneedling</td><td>9</td>'
    assert row in html
    assert "packaged-2026.2" in html and "Not yet: 9 usable follow-ups; a refit needs 50" in html
    assert reverse("calibration-chart") in html and 'alt="Stacked bars' in html
    assert reverse("parameter-set-refit") not in html


def test_admin_sees_the_refit_button(few, client_as):
    html = client_as("alice").get(PAGE).content.decode()
    assert f'action="{reverse("parameter-set-refit")}"' in html
    assert "csrfmiddlewaretoken" in html


def test_front_desk_is_refused_and_another_clinic_sees_only_its_own(few, client_as):
    assert client_as("fran").get(PAGE).status_code == 403
    assert client_as("fran").get(reverse("calibration-chart")).status_code == 403
    html = client_as("oscar").get(PAGE).content.decode()
    assert "No usable follow-up grades yet" in html and "Acne scars rolling" not in html


def test_the_chart_is_an_svg_of_the_report(few, client_as):
    response = client_as("pat").get(reverse("calibration-chart"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith((b"<?xml", b"<svg"))
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_reading_the_page_is_audited_without_patient_data(few, client_as):
    client_as("pat").get(PAGE)
    event = AuditEvent.objects.filter(summary="calibration report").get()
    assert event.username == "pat" and event.patient_id_ref is None


def test_a_refit_with_too_few_follow_ups_is_refused_saying_why(world, few, client_as):
    response = client_as("alice").post(reverse("parameter-set-refit"), follow=True)
    assert "Not allowed yet: 9 usable follow-ups; a refit needs 50." in response.content.decode()
    assert not OutcomeParameterSet.objects.exists()
    with pytest.raises(ServiceError) as refused:
        calibration.refit(factories.actor(world.alice))
    assert refused.value.field == "refit" and "a refit needs 50" in refused.value.message


def test_a_refit_on_an_empty_clinic_is_refused(world):
    with pytest.raises(ServiceError, match="no usable follow-up grades"):
        calibration.refit(factories.actor(world.alice))


def test_only_the_admin_refits_reverts_and_chooses(world):
    for service in (calibration.refit, calibration.revert):
        with pytest.raises(ServiceError) as refused:
            service(factories.actor(world.pat))
        assert refused.value.status == 403
    with pytest.raises(ServiceError) as refused:
        calibration.activate(factories.actor(world.pat), 1)
    assert refused.value.status == 403


def _version_everywhere(client_as, who) -> dict[str, str]:
    """The version each forecast door names for patient `who`."""
    cache.clear()
    html = client_as("pat").get(reverse("patient-detail", args=[who.pk])).content.decode()
    caption = re.search(r"Outcome model parameters: ([\w.-]+)\.</figcaption>", html).group(1)
    sentence = re.search(r"\(Outcome model parameters: ([\w.-]+)\.\)</strong>", html).group(1)
    result = forecasting.patient_forecast(who)
    recall_label = re.search(r"Outcome model parameters: ([\w.-]+)\.$", result.summary()).group(1)
    return {
        "caption": caption,
        "sentence": sentence,
        "recall": recall_label,
        "forecast": result.forecast.parameter_set,
    }


def test_refit_then_every_forecast_names_the_new_set_and_revert_brings_back_the_packaged(
    world, enough, client_as
):
    who = enough[0]
    packaged = parameter_sets.packaged().version
    assert set(_version_everywhere(client_as, who).values()) == {packaged}

    response = client_as("alice").post(reverse("parameter-set-refit"), follow=True)
    row = OutcomeParameterSet.objects.get(clinic=world.northgate)
    assert row.active and row.version.startswith("clinic-") and row.base_version == packaged
    assert row.follow_ups == 75 and row.patients == 25 and row.created_by == world.alice.user
    assert f"forecasts now use parameter set {row.version}" in response.content.decode()
    assert parameter_sets.active_parameters(world.northgate).version == row.version
    assert parameter_sets.active_parameters(world.riverside).version == packaged
    assert set(_version_everywhere(client_as, who).values()) == {row.version}
    page = client_as("pat").get(PAGE).content.decode()
    assert row.version in page and "Refitted from" in page
    event = AuditEvent.objects.filter(object_type="OutcomeParameterSet").get()
    assert event.action == "create" and event.username == "alice" and row.version in event.summary

    client_as("alice").post(reverse("parameter-set-revert"))
    row.refresh_from_db()
    assert not row.active
    assert set(_version_everywhere(client_as, who).values()) == {packaged}

    client_as("alice").post(reverse("parameter-set-activate"), {"set_id": row.pk})
    assert set(_version_everywhere(client_as, who).values()) == {row.version}
    # the same grades refitted again give the same set, not a second one
    calibration.refit(factories.actor(world.alice))
    assert OutcomeParameterSet.objects.count() == 1


def test_another_clinics_set_cannot_be_activated(world, client_as):
    other = OutcomeParameterSet.objects.create(
        clinic=world.riverside,
        version="clinic-2026-01-01-abcdef12",
        base_version="packaged-2026.2",
        data=parameter_sets.packaged().to_dict(),
    )
    with pytest.raises(ServiceError) as refused:
        calibration.activate(factories.actor(world.alice), other.pk)
    assert refused.value.status == 404
    response = client_as("alice").post(
        reverse("parameter-set-activate"), {"set_id": other.pk}, follow=True
    )
    assert "No such record." in response.content.decode()
    other.refresh_from_db()
    assert not other.active


def test_records_translate_grades_as_the_forecast_does(world, few):
    records = evidence.clinic_records(world.northgate)
    assert len(records) == 9
    first = records[0]
    assert first.treatment.modality == "microneedling" and first.treatment.depth_mm == 1.5
    assert len(first.sessions) == 3
    # baseline 3, grade 2 on a 1-4 scale: one of two grades better, +/- half a grade
    assert (first.low_pct, first.high_pct) == (25.0, 75.0)
    assert evidence.clinic_records(world.riverside) == []
