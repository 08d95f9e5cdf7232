"""The clinic's consultation form and the patient's health questions, filled with the same
answers, give the screening the same inputs.

Each answer is written here twice, as a practitioner ticks it and as a patient answers it in the
portal, by hand: the test does not ask the forms how they are built.
"""

from __future__ import annotations

import string
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermis.core import patient as cp
from dermis.core.knowledge import load_knowledge
from dermis.web.clinic.consultations.forms import ConsultationForms
from dermis.web.clinic.portal.forms import IntakeForm

KB = load_knowledge()
TODAY = date(2026, 11, 20)
YES_NO = (
    "pregnant",
    "breastfeeding",
    "anticoagulants",
    "keloid_history",
    "hypertrophic_scar_history",
    "herpes_simplex_history",
    "immunosuppressed",
    "metal_allergy",
    "rosacea",
    "telangiectasia",
)
LISTS = ("medical_history", "medications", "allergies")
# Asked of the patient too: everything but what the practitioner sees on the skin today and
# the procedures the practitioner records row by row.
CLINIC_ONLY = {"active_infection_areas", "active_acne_areas", "active_herpes_areas"}
CLINIC_ONLY |= {"recent_procedures"}

line = st.text(string.ascii_letters + " -", min_size=1, max_size=20).map(str.strip).filter(bool)
recent = st.none() | st.dates(TODAY - timedelta(days=700), TODAY)
answers = st.fixed_dictionaries(
    {
        **{name: st.booleans() for name in YES_NO},
        **{name: st.lists(line, max_size=3) for name in LISTS},
        "diabetes": st.sampled_from(["none", "controlled", "uncontrolled"]),
        "isotretinoin_current": st.booleans(),
        "isotretinoin_last_dose": recent,
        "recent_tan_or_sunburn": recent,
    }
)


def clinic_post(a: dict) -> dict:
    """The consultation form as the practitioner sends it (one concern, to be complete)."""
    data = {
        "procedures-TOTAL_FORMS": 0,
        "procedures-INITIAL_FORMS": 0,
        "concerns-TOTAL_FORMS": 1,
        "concerns-INITIAL_FORMS": 0,
        "concerns-0-area": "cheeks",
        "concerns-0-concern": "fine_lines",
        "concerns-0-severity": 2,
        "fitzpatrick": "II",
        "skin_thickness": "normal",
        "diabetes": a["diabetes"],
    }
    data |= {name: "on" for name in (*YES_NO, "isotretinoin_current") if a[name]}
    data |= {name: "\n".join(a[name]) for name in LISTS}
    for name in ("isotretinoin_last_dose", "recent_tan_or_sunburn"):
        data[name] = a[name].isoformat() if a[name] else ""
    return data


def patient_post(a: dict) -> dict:
    """The health questions as a patient answers them."""
    if a["isotretinoin_current"]:
        isotretinoin = "now"
    else:
        isotretinoin = "past" if a["isotretinoin_last_dose"] else "never"
    data = {name: "yes" if a[name] else "no" for name in YES_NO}
    data |= {
        "takes_medicines": "yes" if a["medications"] else "no",
        "isotretinoin": isotretinoin,
        "diabetes": a["diabetes"],
    }
    data |= {name: "\n".join(a[name]) for name in LISTS}
    for name in ("isotretinoin_last_dose", "recent_tan_or_sunburn"):
        data[name] = a[name].isoformat() if a[name] else ""
    return data


def clinic_intake(a: dict) -> cp.Intake:
    forms = ConsultationForms(KB, clinic_post(a))
    assert forms.is_valid(), forms.error_summary()
    return forms.inputs()[0]


def patient_intake(a: dict) -> cp.Intake:
    form = IntakeForm(patient_post(a))
    assert form.is_valid(), form.errors
    return form.intake()


def test_every_screening_input_is_either_asked_of_the_patient_or_seen_in_the_clinic():
    written_here = {*YES_NO, *LISTS, "diabetes", "isotretinoin_current"}
    written_here |= {"isotretinoin_last_dose", "recent_tan_or_sunburn"}
    assert written_here | CLINIC_ONLY == set(cp.Intake.model_fields)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers)
def test_the_same_answers_give_the_screening_the_same_inputs(a):
    expected = cp.Intake(**a)
    assert clinic_intake(a) == expected
    assert patient_intake(a) == expected


def test_each_yes_reaches_the_screening_from_both_forms():
    none = {name: False for name in (*YES_NO, "isotretinoin_current")}
    none |= {name: [] for name in LISTS}
    none |= {"diabetes": "none", "isotretinoin_last_dose": None, "recent_tan_or_sunburn": None}
    for name in (*YES_NO, "isotretinoin_current"):
        a = none | {name: True}
        assert getattr(clinic_intake(a), name) is True, name
        assert getattr(patient_intake(a), name) is True, name


def test_a_last_dose_the_patient_then_denies_is_not_screened():
    """'Never taken' wins over a date left in the hidden follow-up; same for medicines."""
    data = patient_post(
        {
            **{name: False for name in (*YES_NO, "isotretinoin_current")},
            **{name: [] for name in LISTS},
            "diabetes": "none",
            "isotretinoin_last_dose": None,
            "recent_tan_or_sunburn": None,
        }
    )
    data |= {"isotretinoin_last_dose": "2026-10-01", "medications": "warfarin"}
    form = IntakeForm(data)
    assert form.is_valid(), form.errors
    intake = form.intake()
    assert intake.isotretinoin_last_dose is None
    assert intake.medications == []
