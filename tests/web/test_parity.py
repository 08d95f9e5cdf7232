"""The web and the API give the same answer to the same input: each write both offer, run through
the page and through the API on the same database state (each in a rolled-back savepoint), must be
accepted by both or refused by both, naming the same field with the same words.

The clinical writes (grades, charting) have their own parity file; this one covers patients,
search, appointments and accepting a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dermis.web.clinic.models import Appointment, Patient, TreatmentPlan
from dermis.web.clinic.scheduling import services
from tests import factories
from tests.web.test_consent import accept_post

TODAY = timezone.localdate()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    field: str = ""  # the last part of the field's name ("date_of_birth", "end", "depth_mm")
    message: str = ""  # lower case, without the final full stop

    @classmethod
    def refused(cls, field: str, message: str) -> Outcome:
        name = field.removeprefix("body.").rsplit(".", 1)[-1].split("-")[-1]
        return cls(False, name, message.rstrip(".").lower())


def _web(response, *form_names: str, aliases: dict | None = None) -> Outcome:
    if response.status_code in (200, 302) and not any(
        response.context and response.context.get(n) is not None and response.context[n].errors
        for n in form_names
    ):
        return Outcome(True)
    for name in form_names:
        form = response.context.get(name)
        if form is None or not form.errors:
            continue
        field, errors = next(iter(form.errors.get_json_data().items()))
        field = (aliases or {}).get(field, field)
        return Outcome.refused(field, errors[0]["message"])
    raise AssertionError(f"unexpected web answer {response.status_code}")


def _api(response) -> Outcome:
    if response.status_code in (200, 201):
        return Outcome(True)
    assert response.status_code in (409, 422), response.content
    error = response.json()["errors"][0]
    return Outcome.refused(error["field"], error["message"])


def _both(web, api) -> tuple[Outcome, Outcome]:
    """Run both doors on the same state; neither sees the other's write."""
    with transaction.atomic():
        from_web = web()
        transaction.set_rollback(True)
    with transaction.atomic():
        from_api = api()
        transaction.set_rollback(True)
    return from_web, from_api


# --- Registering and changing a patient -----------------------------------------------------------

PATIENT = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth": "1990-12-10",
    "sex": "f",
}
PATIENT_CASES = {
    "ok": ({}, None),
    "born tomorrow": (
        {"date_of_birth": (TODAY + timedelta(days=1)).isoformat()},
        ("date_of_birth", "cannot be in the future"),
    ),
    "born 1890": ({"date_of_birth": "1890-01-01"}, ("date_of_birth", "more than 120 years ago")),
}


@pytest.mark.parametrize("case", sorted(PATIENT_CASES))
def test_registering_a_patient(case, world, client_as, api_as):
    change, refusal = PATIENT_CASES[case]
    body = {**PATIENT, **change}
    web, api = _both(
        lambda: _web(client_as("fran").post(reverse("patient-create"), body), "form"),
        lambda: _api(api_as("fran").post("/api/v1/patients", body)),
    )
    assert web == api
    assert web.ok is (refusal is None)
    if refusal:
        assert (web.field, refusal[1] in web.message) == (refusal[0], True)


@pytest.mark.parametrize("case", sorted(PATIENT_CASES))
def test_changing_demographics(case, world, client_as, api_as):
    change, refusal = PATIENT_CASES[case]
    nora = world.nora
    page = {
        "given_name": nora.given_name, "family_name": nora.family_name,
        "date_of_birth": nora.date_of_birth.isoformat(), "sex": nora.sex, "phone": nora.phone,
        "email": nora.email, "email_reminders": "on", **change,
    }  # fmt: skip
    web, api = _both(
        lambda: _web(client_as("fran").post(reverse("patient-edit", args=[nora.pk]), page), "form"),
        lambda: _api(api_as("fran").patch(f"/api/v1/patients/{nora.pk}", change or {"sex": "f"})),
    )
    assert web == api and web.ok is (refusal is None)


# --- One search -----------------------------------------------------------------------------------

SEARCHES = ["07700900123", "07700 900123", "Quinn", "nora quinn", "14/03/1985", "1985-03-14", "zzz",
            "+44 7700 900123", "NÓRA", "14.03.1985", "14 Mar 1985"]  # fmt: skip


@pytest.mark.parametrize("q", SEARCHES)
def test_one_search_finds_the_same_patients(q, world, client_as, api_as):
    page = client_as("fran").get(reverse("patient-list"), {"q": q})
    on_page = [p.pk for p in page.context["page"]]
    by_api = [p["id"] for p in api_as("fran").get("/api/v1/patients", q=q).json()["items"]]
    assert on_page == by_api
    assert (world.nora.pk in on_page) is (q != "zzz")


# --- Booking an appointment -----------------------------------------------------------------------


def _when(days: int, hour: int, weekday: int | None = None) -> datetime:
    return factories.next_weekday_at(hour, days_ahead=days, weekday=weekday)


BOOKING_CASES = {
    "ok": (lambda: _when(3, 10, weekday=1), 60, "consultation", None),
    "ten hours": (
        lambda: _when(3, 8, weekday=1),
        600,
        "consultation",
        ("end", "between 5 and 480"),
    ),
    "in the past": (
        lambda: timezone.make_aware(datetime.combine(TODAY - timedelta(days=2), time(10))),
        60,
        "consultation",
        ("start", "in the past"),
    ),
    "sunday 03:00": (
        lambda: _when(1, 3, weekday=6),
        60,
        "consultation",
        ("start", "working hours"),
    ),
    "treatment in a deferral": (
        lambda: _when(20, 10, weekday=1),
        60,
        "treatment",
        ("start", "not before"),
    ),
}


@pytest.fixture
def deferred(world):
    """Nora screened with isotretinoin a month ago: microneedling deferred for months."""
    factories.working_hours(world.pat, days=range(6))
    intake = {"isotretinoin_last_dose": (TODAY - timedelta(days=30)).isoformat()}
    return factories.accepted_plan(world.pat, world.nora, intake=intake)


@pytest.mark.parametrize("case", sorted(BOOKING_CASES))
def test_booking_an_appointment(case, world, client_as, api_as, deferred):
    when, minutes, kind, refusal = BOOKING_CASES[case]
    start = when()
    location = world.northgate.locations.get()
    page = {
        "practitioner": world.pat.pk, "location": location.pk, "kind": kind,
        "start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"), "duration_minutes": minutes,
    }  # fmt: skip
    body = {
        "patient_id": world.nora.pk, "practitioner_id": world.pat.pk, "location_id": location.pk,
        "kind": kind, "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
    }  # fmt: skip
    url = reverse("appointment-create", args=[world.nora.pk])
    web, api = _both(
        lambda: _web(client_as("pat").post(url, page), "form", aliases={"duration_minutes": "end"}),
        lambda: _api(api_as("pat").post("/api/v1/appointments", body)),
    )
    assert web == api, (web, api)
    assert web.ok is (refusal is None)
    if refusal:
        assert web.field == refusal[0] and refusal[1] in web.message, web
    assert not Appointment.objects.exists()  # both were rolled back


def test_the_deferral_names_its_date(world, api_as, deferred):
    start = _when(20, 10, weekday=1)
    body = {
        "patient_id": world.nora.pk, "practitioner_id": world.pat.pk, "kind": "treatment",
        "start": start.isoformat(), "end": (start + timedelta(minutes=60)).isoformat(),
    }  # fmt: skip
    problem = api_as("pat").post("/api/v1/appointments", body).json()
    until = date.fromisoformat(problem["errors"][0]["possible_from"])
    assert until > start.date() and until.isoformat() in problem["detail"]


# --- Accepting a proposal -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "refused"),
    [(None, False), ({"what": "depth_mm", "value": 3.0, "reason": "deep"}, True)],
)
def test_accepting_a_proposal(change, refused, world, client_as, api_as):
    consultation = factories.consultation(world.pat, world.nora)
    web_changes = (
        {"c0-t0-depth_mm": change["value"], "c0-t0-reason": change["reason"]} if change else None
    )
    api_changes = [{"course": 0, "treatment": 0, **change}] if change else []
    web, api = _both(
        lambda: _web(
            client_as("pat").post(
                reverse("consultation-accept", args=[consultation.pk]),
                accept_post(consultation.proposal, web_changes),
            ),
            "adjust_form",
            "consent_form",
        ),
        lambda: _api(
            api_as("pat").post(
                f"/api/v1/consultations/{consultation.pk}/accept",
                {"signer_name": "Nora Quinn", "adjustments": api_changes},
            )
        ),
    )
    assert web == api and web.ok is not refused
    assert not TreatmentPlan.objects.exists() and Patient.objects.count() == 2


# --- Recording a consultation, revising a plan, cancelling, confirming facts -------------------

CONSULTATION_CASES = {
    "ok": ({}, None),
    "grade off its scale": ({"severity": 9}, ("severity", "outside")),
    "last dose in the future": (
        {"isotretinoin_last_dose": (TODAY + timedelta(days=3)).isoformat()},
        ("isotretinoin_last_dose", ""),
    ),
}


@pytest.mark.parametrize("case", sorted(CONSULTATION_CASES))
def test_recording_a_consultation(case, world, client_as, api_as):
    from tests.web.test_consultation_pages import form_data

    change, refusal = CONSULTATION_CASES[case]
    concern = {"area": "cheeks", "concern": "acne_scars_rolling", "severity": 3}
    concern.update({k: v for k, v in change.items() if k == "severity"})
    intake = {k: v for k, v in change.items() if k != "severity"}
    doc = {
        "patient": {"fitzpatrick": "III"},
        "intake": intake,
        "assessment": {"concerns": [concern]},
    }
    body = {"intake": intake, "assessment": {"concerns": [concern]}, "fitzpatrick": "III"}
    url = reverse("consultation-create", args=[world.nora.pk])
    web, api = _both(
        lambda: _web_consultation(client_as("pat").post(url, form_data(doc))),
        lambda: _api(api_as("pat").post(f"/api/v1/patients/{world.nora.pk}/consultations", body)),
    )
    assert web == api and web.ok is (refusal is None), (web, api)
    if refusal:
        assert web.field == refusal[0] and refusal[1] in web.message


def _web_consultation(response) -> Outcome:
    if response.status_code == 302:
        return Outcome(True)
    forms = response.context["forms"]
    for form in (forms.main, *forms.concerns.forms, *forms.procedures.forms):
        if form.errors:
            field, errors = next(iter(form.errors.get_json_data().items()))
            return Outcome.refused(field, errors[0]["message"])
    raise AssertionError(f"unexpected web answer {response.status_code}")


@pytest.mark.parametrize(("sessions", "refused"), [(5, False), (40, True)])
def test_revising_a_plan(sessions, refused, world, client_as, api_as):
    plan = factories.accepted_plan(world.pat, world.nora)
    page = {}
    for i, course in enumerate(plan.content["courses"]):
        page |= {
            f"c{i}-sessions": course["sessions"],
            f"c{i}-interval_days": course["interval_days"],
        }
        page[f"c{i}-reason"] = ""
        for j, t in enumerate(course["treatments"]):
            page |= {f"c{i}-t{j}-depth_mm": t["depth_mm"], f"c{i}-t{j}-reason": ""}
    page |= {"c0-sessions": sessions, "c0-reason": "slow response", "note": "more sessions"}
    body = {
        "changes": [
            {"course": 0, "what": "sessions", "value": sessions, "reason": "slow response"}
        ],
        "note": "more sessions",
    }
    web, api = _both(
        lambda: _web(client_as("pat").post(reverse("plan-revise", args=[plan.pk]), page), "form"),
        lambda: _api(api_as("pat").post(f"/api/v1/plans/{plan.pk}/revise", body)),
    )
    assert web == api and web.ok is not refused, (web, api)


@pytest.mark.parametrize("state", ["booked", "cancelled"])
def test_cancelling_an_appointment(state, world, client_as, api_as):
    factories.working_hours(world.pat)
    appointment = factories.appointment(world.pat, world.nora, _when(3, 10))
    if state == "cancelled":
        services.cancel_appointment(factories.actor(world.fran), appointment, "asked")

    def web():
        client_as("fran").post(
            reverse("appointment-cancel", args=[appointment.pk]), {"reason": "asked"}
        )
        appointment.refresh_from_db()
        return appointment.status

    def api():
        api_as("fran").post(f"/api/v1/appointments/{appointment.pk}/cancel", {"reason": "asked"})
        appointment.refresh_from_db()
        return appointment.status

    assert _both(web, api) == ("cancelled", "cancelled")
    again = api_as("fran").post(f"/api/v1/appointments/{appointment.pk}/cancel", {"reason": "x"})
    assert again.status_code == (409 if state == "cancelled" else 200)


def test_confirming_recognised_facts(world, client_as, api_as):
    consultation = factories.consultation(world.pat, world.nora, {"medications": ["warfarin"]})

    def after(response):
        consultation.refresh_from_db()
        return (response.status_code < 400, consultation.recognition["facts"])

    web, api = _both(
        lambda: after(
            client_as("pat").post(
                reverse("consultation-facts", args=[consultation.pk]), {"keep": "0"}
            )
        ),
        lambda: after(
            api_as("pat").post(f"/api/v1/consultations/{consultation.pk}/facts", {"keep": [0]})
        ),
    )
    assert web == api and web[0] and web[1][0]["confirmed"] is True
