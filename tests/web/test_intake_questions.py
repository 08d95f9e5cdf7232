"""Both forms are built from the one health-question list: a question in the list is asked on
the clinic's consultation page and in the patient's portal, each in its own words."""

from __future__ import annotations

import re
from html import unescape

from django.test import Client
from django.urls import reverse

from dermis.core.intake_questions import QUESTIONS, asked
from dermis.web.clinic.consultations.forms import ConsultationForm
from dermis.web.clinic.portal.forms import IntakeForm
from tests import factories


def _text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_each_form_asks_its_questions_in_its_own_words():
    for q in QUESTIONS:
        if q.clinic is not None:
            assert ConsultationForm.base_fields[q.name].label == q.clinic
        else:
            assert q.name not in ConsultationForm.base_fields
        if q.patient is not None:
            assert IntakeForm.base_fields[q.name].label == q.patient
        else:
            assert q.name not in IntakeForm.base_fields
    assert list(IntakeForm.base_fields) == [q.name for q in asked("patient")]


def test_the_consultation_page_asks_every_clinic_question_in_its_section(world, client_as):
    html = _text(client_as("pat").get(reverse("consultation-create", args=[world.nora.pk])))
    for q in asked("clinic"):
        legend = html.index(f"<legend>{q.section}</legend>")
        assert html.index(f'name="{q.name}"') > legend, q.name
        assert q.clinic in html, q.name
    assert "thread veins (telangiectasia)" in html


def test_the_portal_asks_every_patient_question_with_its_follow_ups(world):
    factories.working_hours(world.pat)
    html = _text(Client().get(reverse("portal-book", args=[world.pat.pk])))
    for q in asked("patient"):
        assert q.patient in html, q.name
    boxes = dict(re.findall(r'data-shown-by="(\w+)" data-shown-when="([\w ]+)"', html))
    assert boxes == {"takes_medicines": "yes", "isotretinoin": "now past"}
    box = html.index('data-shown-by="isotretinoin"')
    assert html.index('name="isotretinoin_last_dose"', box) < html.index("</div>", box)


def test_a_follow_up_the_answer_needs_is_asked_for_in_plain_words():
    form = IntakeForm({"takes_medicines": "yes", "isotretinoin": "past", "diabetes": "none"})
    assert not form.is_valid()
    assert form.errors["medications"] == ["Tell us which medicines or supplements you take."]
    assert form.errors["isotretinoin_last_dose"] == ["Tell us roughly when your last dose was."]
