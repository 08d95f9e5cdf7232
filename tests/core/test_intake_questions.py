"""The health-question list and the one mapping from answers to the screening's inputs."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from dermis.core import intake_questions as iq
from dermis.core.patient import Intake

LAST_DOSE = date(2026, 6, 1)


def test_every_screening_input_has_exactly_one_question():
    screened = [q.screens for q in iq.QUESTIONS if q.screens]
    assert len(screened) == len(set(screened))
    assert set(screened) == set(Intake.model_fields) - {"recent_procedures"}


def test_the_clinic_form_asks_every_screening_input_itself():
    assert {q.screens for q in iq.asked("clinic")} - {None} == {
        q.screens for q in iq.QUESTIONS if q.screens
    }


def test_every_question_is_in_plain_words_for_the_patient_unless_seen_in_the_clinic():
    for q in iq.QUESTIONS:
        if q.patient is None:
            # seen on the skin today, or answered by a lead-in question
            assert q.kind == "areas" or any(
                q.screens in c.sets for lead in iq.QUESTIONS for c in lead.choices
            ), q.name
        else:
            assert q.patient.endswith("?"), q.name


def test_follow_ups_follow_a_question_the_patient_is_asked_and_name_real_answers():
    for q in iq.QUESTIONS:
        if q.follows is None:
            continue
        lead = iq.BY_NAME[q.follows]
        assert lead.patient is not None, q.name
        answers = {c.value for c in lead.choices} if lead.choices else {True, False}
        assert set(q.asked_when) <= answers, q.name
        assert set(q.needed_when) <= set(q.asked_when), q.name
        assert q.needed_message or not q.needed_when, q.name


def test_answers_of_the_clinic_form_are_the_inputs_as_given():
    inputs = iq.screening_inputs(
        {
            "medications": "warfarin\n\n  zinc ",
            "isotretinoin_current": False,
            "isotretinoin_last_dose": LAST_DOSE,
            "pregnant": True,
            "diabetes": "controlled",
            "active_acne_areas": ["cheeks"],
        }
    )
    assert inputs == {
        "medications": ["warfarin", "zinc"],
        "isotretinoin_current": False,
        "isotretinoin_last_dose": LAST_DOSE,
        "pregnant": True,
        "diabetes": "controlled",
        "active_acne_areas": ["cheeks"],
    }


def test_a_lead_in_answers_its_input_and_asks_its_follow_up():
    now = iq.screening_inputs({"isotretinoin": "now", "isotretinoin_last_dose": LAST_DOSE})
    assert now == {"isotretinoin_current": True, "isotretinoin_last_dose": LAST_DOSE}
    past = iq.screening_inputs({"isotretinoin": "past", "isotretinoin_last_dose": LAST_DOSE})
    assert past == {"isotretinoin_current": False, "isotretinoin_last_dose": LAST_DOSE}


def test_a_follow_up_its_lead_in_did_not_ask_counts_as_unanswered():
    never = iq.screening_inputs({"isotretinoin": "never", "isotretinoin_last_dose": LAST_DOSE})
    assert never == {"isotretinoin_current": False, "isotretinoin_last_dose": None}
    no = iq.screening_inputs({"takes_medicines": False, "medications": "warfarin"})
    assert no == {"medications": []}
    yes = iq.screening_inputs({"takes_medicines": True, "medications": "warfarin"})
    assert yes == {"medications": ["warfarin"]}


def test_a_needed_follow_up_left_empty_is_named():
    assert iq.missing_follow_ups({"takes_medicines": True, "medications": " \n"}) == {
        "medications": "Tell us which medicines or supplements you take."
    }
    assert iq.missing_follow_ups({"isotretinoin": "past", "isotretinoin_last_dose": None}) == {
        "isotretinoin_last_dose": "Tell us roughly when your last dose was."
    }
    assert iq.missing_follow_ups({"isotretinoin": "now", "isotretinoin_last_dose": None}) == {}
    assert iq.missing_follow_ups({"takes_medicines": False, "medications": ""}) == {}
    # the clinic form has no lead-ins: nothing is needed
    assert iq.missing_follow_ups({"medications": "", "isotretinoin_last_dose": None}) == {}


def test_the_list_is_plain_python():
    tree = ast.parse(Path(iq.__file__).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and m.split(".")[0] == "django" for m in modules)
