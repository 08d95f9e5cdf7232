"""The patient record's content, drawn with Jinja2 (`jinja2/clinic/patients/_record.html` and its
partials), is what its Django templates wrote. Those templates are kept as the reference
(`jinja_reference/record/`) and rendered with Django's engine from the page's own context, for a
record with every panel filled: names that need escaping, appointments with and without a room's
location, a late cancellation, a revised plan (one version by a user who is not on the staff),
screening findings with sources, a session, a photo, a grade, the patient's own check-ins, portal
answers awaiting review and an erasure request; as the practitioner, the front desk and the
admin. Whitespace is compared as a browser lays it out (`_read`)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Engine, engines
from django.urls import reverse
from django.utils import timezone

from dermis.core.screening import screen
from dermis.web import jinja as dermis_jinja
from dermis.web.clinic import core_inputs
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.models import (
    Appointment,
    CheckIn,
    Consultation,
    ErasureRequest,
    PortalIntake,
    TreatmentPlan,
)
from dermis.web.clinic.patients import services as patients
from tests.web.full_world import journey

REFERENCE = Path(__file__).parent / "jinja_reference" / "record"
INCLUDE = re.compile(r'\{% include "([^"]+)"')


def _reference_engine() -> Engine:
    """Django's engine as the site configures it, with the reference partials under the names
    the reference templates include them by."""
    files = {p.name: p.read_text() for p in REFERENCE.glob("*.html")}
    named = {"record": files["record.html"]}
    for text in files.values():
        for name in INCLUDE.findall(text):
            named[name] = files[Path(name).name]
    site = engines["django"].engine
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", named)],
        libraries=site.libraries,
        builtins=site.builtins[len(Engine.default_builtins) :],
    )


def _flat(response) -> dict:
    flat: dict = {}
    for layer in response.context:
        flat.update(layer.flatten())
    return flat


def _drawn_from(staff, patient) -> dict:
    """The context the record page draws its body from (`views._record_context`), for `staff`,
    with what the site's context processors add."""
    from django.test import RequestFactory

    from dermis.web.clinic.access import staff_context
    from dermis.web.clinic.models import Patient
    from dermis.web.clinic.patients import views

    request = RequestFactory().get(reverse("patient-detail", args=[patient.pk]))
    request.user, request.staff = staff.user, staff
    fresh = Patient.objects.select_related("clinic").get(pk=patient.pk)  # as the view reads it
    with core_inputs.read_once(fresh):
        context = views._record_context(request, fresh, timezone.now())
    return context | staff_context(request) | {"request": request, "user": staff.user}


def _read(html: str) -> str:
    """The text as a browser lays it out: any run of whitespace as one space, and none before a
    paragraph's or a list item's end (a partial's last newline, which Django's engine keeps and
    Jinja2 leaves out)."""
    return re.sub(r" (</(?:p|li|dd)>)", r"\1", re.sub(r"\s+", " ", html)).strip()


@pytest.fixture
def full_record(world, settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    nora = world.nora
    patients.update_patient(
        Actor.of_staff(world.alice), nora, family_name="O'Brien & <Sons>", given_name='Zoë "Z"'
    )
    made = journey(nora, world.pat)
    first = made["plan"]
    stranger = get_user_model().objects.create_user("no-staff-row", password="x" * 20)
    TreatmentPlan.objects.filter(pk=first.pk).update(status=TreatmentPlan.Status.SUPERSEDED)
    change = {"what": "sessions", "modality": "microneedling", "area": None, "concern": None}
    TreatmentPlan.objects.create(
        patient=nora, consultation=first.consultation, consent=first.consent, version=2,
        content=first.content, created_by=stranger, previous=first,
        adjustments=[{**change, "from": 3, "to": 4, "reason": "asked"}],
    )  # fmt: skip
    for day, improvement in ((1, None), (3, 2), (9, 3)):
        CheckIn.objects.create(
            patient=nora, session=made["session"], day=day, looks="same", feels="fine",
            improvement=improvement,
        )  # fmt: skip
    # A later consultation whose screening found reasons to wait or not to treat, with sources.
    later = made["consultation"]
    kb, today = core_inputs.knowledge(), timezone.localdate()
    intake = core_inputs.cp.Intake(
        isotretinoin_last_dose=today - timedelta(days=30), herpes_simplex_history=True
    )
    found = screen(core_inputs.core_patient(nora, today), intake, kb, today)
    assert found.findings
    later.pk, later.as_of = None, today
    later.intake, later.screening = intake.model_dump(mode="json"), found.to_dict()
    later.status = Consultation.Status.OPEN
    later.save()
    ErasureRequest.objects.create(patient=nora, reason='please <remove> "all"')
    PortalIntake.objects.create(patient=nora, answers={}, screening={})
    location = world.northgate.locations.get()
    now = timezone.now()
    for days, status, where, late in (
        (3, Appointment.Status.BOOKED, location, False),
        (5, Appointment.Status.CONFIRMED, None, False),
        (-4, Appointment.Status.CANCELLED, location, True),
        (-2, Appointment.Status.BOOKED, None, False),  # over, still open: "Needs an outcome"
    ):
        start = now + timedelta(days=days)
        Appointment.objects.create(
            clinic=world.northgate, patient=nora, practitioner=world.pat, location=where,
            start=start, end=start + timedelta(hours=1), status=status, late_cancel=late,
            kind=Appointment.Kind.TREATMENT if days % 2 else Appointment.Kind.FOLLOW_UP,
        )  # fmt: skip
    return nora


@pytest.mark.parametrize("persona", ["pat", "fran", "alice"])
def test_the_record_is_what_its_django_templates_wrote(world, full_record, client_as, persona):
    page = client_as(persona).get(reverse("patient-detail", args=[full_record.pk]))
    assert page.status_code == 200
    context = _drawn_from(getattr(world, persona), full_record)
    django = _reference_engine().get_template("record").render(Context(context))
    jinja = (
        engines["jinja2"]
        .env.get_template("clinic/patients/_record.html")
        .render(context | dermis_jinja.per_render())
    )
    assert _read(jinja) == _read(django)
    assert _read(jinja) in _read(page.content.decode())
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in jinja
    if persona == "fran":
        assert "Consultations and screening" not in jinja and "Outcome forecast" not in jinja
        return
    for seen in (
        "Needs an outcome", "(late)", "Version 2", "by no-staff-row", "Sources", "Follow-up grades",
        "Photos", "Treatment sessions", "Patient-reported change", "1 set of answers to review",
        "please &lt;remove&gt; &quot;all&quot;", "Aftercare in progress", "Outcome forecast",
        "1 change from the proposal", "(until ",
    ):  # fmt: skip
        assert seen in jinja, seen
    assert ('href="#ref-1"' in jinja) and ('<li id="ref-1" value="1">' in jinja)
    assert ("Merge a duplicate" in jinja) == (persona == "alice")


def test_the_consultation_and_plan_pages_draw_the_shared_partials_as_before(
    world, full_record, client_as
):
    """The findings, sources, versions and references are Jinja2 partials on the consultation
    and plan pages too: each page holds what the Django partial drew from its context."""
    engine = _reference_engine()
    later = Consultation.objects.filter(patient=full_record).latest("pk")
    page = client_as("pat").get(reverse("consultation-detail", args=[later.pk]))
    assert page.status_code == 200
    context, shown = _flat(page), _read(page.content.decode())
    for name in ("clinic/consultations/_findings.html", "clinic/consultations/_references.html"):
        drawn = _read(engine.get_template(name).render(Context(context)))
        assert drawn and drawn in shown, name
    assert "(until " in shown and 'href="#ref-1"' in shown
    plan = TreatmentPlan.objects.filter(patient=full_record).latest("version")
    page = client_as("pat").get(reverse("plan-detail", args=[plan.pk]))
    assert page.status_code == 200
    context, shown = _flat(page), _read(page.content.decode())
    versions = engine.get_template("clinic/plans/_versions.html")
    drawn = _read(versions.render(Context(context | {"current": plan})))
    assert "Version 2 (this page)" in drawn and drawn in shown
    drawn = _read(
        engine.get_template("clinic/consultations/_references.html").render(Context(context))
    )
    assert drawn and drawn in shown
