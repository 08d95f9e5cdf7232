"""Realistic patient files: the finding, its action and the plan expected for each (issue 12).

Each case is a patient as a clinic would write them up, medicines and history often only in free
text. The table asserts the screening finding (rule, modality, severity), words of its action,
and what the plan does with it; the date cases assert the error that names the field.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from pydantic import ValidationError

from dermis.core.aftercare import aftercare
from dermis.core.errors import InputError
from dermis.core.patient import Assessment, Intake, Patient, Session, input_error
from dermis.core.planning import plan
from dermis.core.recognition import recognise
from dermis.core.screening import screen
from tests.core.plan_checks import (
    depth_at_most,
    device,
    interval_at_least,
    never,
    no_serum,
    not_treated,
    passes,
    starts,
    status,
    tip,
    treated,
    visits,
)

TODAY = date(2026, 11, 23)
FACE = ("forehead", "periorbital", "nose", "cheeks", "perioral", "chin", "jawline")


@dataclass(frozen=True)
class Case:
    name: str
    intake: dict
    concerns: tuple[tuple[str, str, float], ...] = ()  # none: boxcar scars on the cheeks
    finding: tuple[str, str, str] | None = None  # rule, modality, severity
    action: str = ""  # words the finding's action must contain
    checks: tuple = ()  # functions of the plan that must hold
    age: int = 40
    fitzpatrick: str = "II"
    extra: dict = field(default_factory=dict)  # assessment options


LINES = (("cheeks", "fine_lines", 3),)
TONE = (("cheeks", "uneven_tone", 3),)
MN, MD = "microneedling", "microdermabrasion"
ABS, REL, PRE = "absolute", "relative", "precaution"

# fmt: off
CASES = [
    Case("pregnant, box ticked", {"pregnant": True}, LINES, ("pregnancy", MN, ABS),
         "after the pregnancy", (never(MN), tip("cheeks", "medium"), passes("cheeks", 2))),
    Case("pregnant, only in the history", {"medical_history": ["12 weeks pregnant"]}, LINES,
         ("pregnancy", MN, ABS), "after the pregnancy", (never(MN), treated("cheeks", MD))),
    Case("breastfeeding, only in the history",
         {"medical_history": ["breastfeeding my 4-month-old"]}, LINES,
         ("breastfeeding", MN, REL), "no vitamin A priming",
         (treated("cheeks", MN), no_serum("vitamin_a_c_priming"))),
    Case("warfarin in free text", {"medications": ["Warfarin 5 mg daily (AF)"]}, (),
         ("anticoagulants", MN, REL), "recent INR", (depth_at_most("cheeks", 1.0),)),
    Case("apixaban by brand", {"medications": ["Eliquis 5mg BD"]}, (),
         ("anticoagulants", MN, REL), "confirm with the prescriber",
         (depth_at_most("cheeks", 1.0),)),
    Case("enoxaparin by brand", {"medications": ["Clexane 40mg injections"]}, (),
         ("anticoagulants", MN, REL), "never stop the medicine", (depth_at_most("cheeks", 1.0),)),
    Case("clopidogrel with a typo", {"medications": ["clopidogrol 75mg"]}, (),
         ("antiplatelets", MN, REL), "clopidogrel", (depth_at_most("cheeks", 1.0),)),
    Case("low-dose aspirin", {"medications": ["aspirin 75 mg daily"]}, (),
         ("antiplatelets", MN, REL), "reduce depth to 1.0 mm", (depth_at_most("cheeks", 1.0),)),
    Case("isotretinoin now, by brand", {"medications": ["Roaccutane 20mg daily"]}, TONE,
         ("systemic_retinoid_current", MN, ABS), "while taking it",
         (never(MN), tip("cheeks", "fine"), passes("cheeks", 1))),
    Case("isotretinoin now, the box", {"isotretinoin_current": True}, (),
         ("systemic_retinoid_current", MN, ABS), "record the last dose",
         (not_treated("cheeks", "systemic retinoid"),)),
    Case("acitretin for psoriasis",
         {"medications": ["Neotigason 25 mg"], "medical_history": ["psoriasis"]}, TONE,
         ("systemic_retinoid_current", MD, REL), "fine tip", (never(MN), tip("cheeks", "fine"))),
    Case("isotretinoin stopped, no date", {"medications": ["isotretinoin, stopped in August"]},
         (), ("systemic_retinoid_stopped_undated", MN, ABS), "date of the last dose",
         (not_treated("cheeks", "date of the last dose"),)),
    Case("topical tretinoin", {"medications": ["Tretinoin 0.05% cream at night"]}, (),
         ("topical_retinoid", MN, PRE), "3 days before", (treated("cheeks", MN),)),
    Case("methotrexate for arthritis", {"medications": ["methotrexate 15 mg weekly"]}, TONE,
         ("immunosuppression", MN, ABS), "ask the prescriber",
         (never(MN), tip("cheeks", "fine"), passes("cheeks", 1), interval_at_least(MD, 14))),
    Case("adalimumab by brand", {"medications": ["Humira pen every 2 weeks"]}, (),
         ("immunosuppression", MN, ABS), "immunosuppressed",
         (not_treated("cheeks", "immunosuppression"),)),
    Case("oral steroid, box not ticked", {"medications": ["prednisolone 20mg"]}, (),
         ("immunosuppression", MN, ABS), "prescriber", (not_treated("cheeks"),)),
    Case("recent chemotherapy", {"medical_history": ["breast cancer, chemo finished in October"]},
         TONE, ("immunosuppression", MD, REL), "fine tip", (never(MN), tip("cheeks", "fine"))),
    Case("kidney transplant on tacrolimus",
         {"medical_history": ["kidney transplant 2015"], "medications": ["Prograf 2mg bd"]},
         TONE, ("immunosuppression", MN, ABS), "immunosuppressed",
         (never(MN), tip("cheeks", "fine"))),
    Case("doxycycline", {"medications": ["doxycycline 40mg"]}, (),
         ("photosensitiser", MN, PRE), "sun avoidance", (treated("cheeks", MN),)),
    Case("gold injections for arthritis", {"medications": ["Myocrisin injections"]}, (),
         ("gold_therapy", MN, PRE), "no gold-plated needles", (device("cheeks", "automated_pen"),)),
    Case("metformin, diabetes not ticked", {"medications": ["metformin 500 mg"]}, (),
         ("diabetes_controlled", MN, PRE), "fully healed", (treated("cheeks", MN),)),
    Case("poorly controlled diabetes", {"medical_history": ["poorly controlled diabetes"]}, (),
         ("diabetes_uncontrolled", MN, ABS), "controlled",
         (not_treated("cheeks", "uncontrolled diabetes"),)),
    Case("basal cell carcinoma on the nose", {"medical_history": ["BCC on nose, excised 2022"]},
         (("nose", "uneven_texture", 2), ("cheeks", "uneven_texture", 2)),
         ("skin_cancer", MN, ABS), "dermatologist",
         (not_treated("nose", "skin cancer"), treated("cheeks", MN))),
    Case("melanoma, no area named", {"medical_history": ["melanoma 2018"]}, (),
         ("skin_cancer", MD, ABS), "ask where", (status("not_safe"),)),
    Case("actinic keratoses on the forehead",
         {"medical_history": ["actinic keratoses on forehead"]},
         (("forehead", "uneven_texture", 2), ("cheeks", "uneven_texture", 2)),
         ("actinic_keratosis", MN, ABS), "refer", (not_treated("forehead"), treated("cheeks", MN))),
    Case("changing mole on the back", {"medical_history": ["changing mole on back"]},
         (("back", "acne_scars_rolling", 3), ("cheeks", "acne_scars_rolling", 3)),
         ("suspicious_lesion", MN, ABS), "diagnosis",
         (not_treated("back"), treated("cheeks", MN))),
    Case("psoriasis", {"medical_history": ["psoriasis on elbows and scalp"]}, (),
         ("koebner", MN, REL), "test spot",
         (depth_at_most("cheeks", 0.5), interval_at_least(MN, 42))),
    Case("vitiligo", {"medical_history": ["vitiligo"]}, TONE, ("koebner", MD, REL),
         "never over active lesions", (tip("cheeks", "fine"), passes("cheeks", 1))),
    Case("lichen planus", {"medical_history": ["oral lichen planus"]}, (),
         ("koebner", MN, REL), "test spot", (depth_at_most("cheeks", 0.5),)),
    Case("eczema flaring on the neck", {"medical_history": ["eczema, flaring on neck"]},
         (("neck", "uneven_tone", 3), ("cheeks", "uneven_tone", 3)), ("eczema", MD, REL),
         "clear skin", (tip("neck", "fine"), tip("cheeks", "coarse"))),
    Case("von Willebrand disease", {"medical_history": ["von Willebrand disease"]}, (),
         ("bleeding_disorder", MN, ABS), "haematologist",
         (not_treated("cheeks", "bleeding disorder"),)),
    Case("radiotherapy to the chest", {"medical_history": ["radiotherapy to chest 2021"]},
         (("decolletage", "fine_lines", 3), ("cheeks", "fine_lines", 3)),
         ("radiotherapy", MN, ABS), "irradiated",
         (not_treated("decolletage"), treated("cheeks", MN))),
    Case("keloids only in the history", {"medical_history": ["keloid scars on chest"]}, (),
         ("keloid", MN, ABS), "do not microneedle", (not_treated("cheeks", "keloid"),)),
    Case("lupus", {"medical_history": ["SLE"]}, TONE, ("connective_tissue_disease", MN, ABS),
         "rheumatologist", (never(MN), tip("cheeks", "fine"))),
    Case("cold sores in the history", {"medical_history": ["gets cold sores"]}, (),
         ("herpes_simplex", MN, REL), "antiviral", (treated("cheeks", MN),)),
    Case("active cold sore beside the treated cheeks", {"active_herpes_areas": ["perioral"]},
         (("cheeks", "acne_scars_rolling", 3), ("abdomen", "stretch_marks", 3)),
         ("active_herpes", MN, ABS), "until the cold sore has healed",
         (not_treated("cheeks", "cold sore"), treated("abdomen", MN))),
    Case("nickel allergy", {"allergies": ["nickel (earrings)"]}, (),
         ("metal_allergy", MN, REL), "contain nickel", (device("cheeks", "dermaroller"),)),
    Case("gold allergy", {"allergies": ["gold"]}, (),
         ("metal_allergy", MN, REL), "no gold", (device("cheeks", "automated_pen"),)),
    Case("titanium allergy", {"allergies": ["titanium"]}, (),
         ("metal_allergy", MN, REL), "contain titanium", (device("cheeks", "automated_pen"),)),
    Case("nickel and titanium allergy", {"allergies": ["nickel", "titanium"]}, (),
         ("metal_allergy", MN, REL), "no needle in the knowledge base",
         (not_treated("cheeks", "metal"),)),
    Case("metal allergy, metal not named", {"metal_allergy": True}, (),
         ("metal_allergy", MN, REL), "nickel is assumed", (device("cheeks", "dermaroller"),)),
    Case("allergic to the numbing cream", {"allergies": ["EMLA cream - rash"]}, (),
         ("local_anaesthetic_allergy", MN, REL), "no topical anaesthetic",
         (treated("cheeks", MN),)),
    Case("latex allergy", {"allergies": ["latex gloves"]}, (),
         ("latex_allergy", MN, PRE), "latex-free"),
    Case("rosacea with visible vessels", {"rosacea": True, "telangiectasia": True}, TONE,
         ("rosacea", MD, REL), "without suction",
         (tip("cheeks", "fine"), passes("cheeks", 1), interval_at_least(MD, 14))),
    Case("active pustular acne on the cheeks", {"active_acne_areas": ["cheeks"]},
         (("cheeks", "uneven_texture", 3),), ("active_acne", MD, REL),
         "no abrasion or suction over pustules",
         (never(MN), tip("cheeks", "fine"), passes("cheeks", 1))),
    Case("seven cautions at once",
         {"rosacea": True, "telangiectasia": True, "active_acne_areas": ["chin"],
          "keloid_history": True, "herpes_simplex_history": True, "diabetes": "uncontrolled",
          "recent_tan_or_sunburn": "2026-09-01"},
         TONE, ("rosacea", MD, REL), "fine",
         (tip("cheeks", "fine"), passes("cheeks", 1), interval_at_least(MD, 14)),
         fitzpatrick="V"),
    Case("teenager, 17", {}, (), ("guardian_consent", MN, PRE), "parent or legal guardian",
         (treated("cheeks", MN),), age=17),
    Case("large body areas", {},
         (("abdomen", "stretch_marks", 4), ("thighs", "stretch_marks", 4)),
         checks=(visits(MN, 8),)),
    Case("back acne scars", {}, (("back", "acne_scars_rolling", 4),), checks=(visits(MN, 5),)),
    Case("face only fits one visit", {},
         (("cheeks", "fine_lines", 3), ("forehead", "fine_lines", 3)), checks=(visits(MN, 1),)),
    Case("a concern graded 0", {}, (("forehead", "fine_lines", 0), ("cheeks", "fine_lines", 3)),
         checks=(not_treated("forehead", "nothing to treat"), treated("cheeks", MN),
                 status("partial"))),
    Case("filler in the lips, cheeks too",
         {"recent_procedures": [{"kind": "filler", "date": "2026-10-01", "areas": ["perioral"]}]},
         (("cheeks", "fine_lines", 3), ("perioral", "fine_lines", 3)),
         ("recent_filler", MN, ABS), "in the filled areas",
         (starts("cheeks", TODAY), starts("perioral", date(2027, 4, 1)))),
    Case("permanent filler in the lips", {"medical_history": ["silicone injections in lips"]},
         (("perioral", "acne_scars_boxcar", 3), ("cheeks", "acne_scars_boxcar", 3)),
         ("permanent_filler", MN, ABS), "permanent filler",
         (not_treated("perioral"), treated("cheeks", MN))),
    Case("abdominoplasty two months ago",
         {"recent_procedures": [{"kind": "surgery", "date": "2026-09-20", "areas": ["abdomen"]}]},
         (("abdomen", "stretch_marks", 3),), ("recent_surgery", MN, ABS), "surgeon",
         (starts("abdomen", date(2027, 3, 20)),)),
]

# (name, intake, age, the field the error names)
ERRORS = [
    ("impossible date", {"isotretinoin_last_dose": "2026-02-30"}, 40,
     "intake.isotretinoin_last_dose"),
    ("last dose in the future", {"isotretinoin_last_dose": "2027-02-01"}, 40,
     "intake.isotretinoin_last_dose"),
    ("sunburn a century ago", {"recent_tan_or_sunburn": "1926-07-01"}, 40,
     "intake.recent_tan_or_sunburn"),
    ("laser seven years ago", {"recent_procedures": [{"kind": "laser", "date": "2019-05-01"}]}, 40,
     "intake.recent_procedures[0].date"),
    ("a procedure before birth", {"recent_procedures": [{"kind": "filler", "date": "2008-01-01"}]},
     16, "intake.recent_procedures[0].date"),
    ("aged 15", {}, 15, "age"),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_patient_case(kb, case: Case):
    who = Patient(age=case.age, fitzpatrick=case.fitzpatrick)
    screening = screen(who, Intake.model_validate(case.intake), kb, TODAY)
    if case.finding:
        rule, modality, severity = case.finding
        found = [f for f in screening.findings if (f.rule, f.modality) == (rule, modality)]
        assert found, [(f.rule, f.modality) for f in screening.findings]
        assert found[0].severity.value == severity
        assert case.action in found[0].action, found[0].action
        assert found[0].citations and all(c in kb.bibliography for c in found[0].citations)
    # Boxcar scars are for microneedling only, so a refusal shows as "not treated".
    concerns = case.concerns or (("cheeks", "acne_scars_boxcar", 3),)
    needs = Assessment(
        concerns=[{"area": a, "concern": c, "severity": s} for a, c, s in concerns], **case.extra
    )
    result = plan(who, needs, screening, kb)
    for check in case.checks:
        assert check(result), (check.__name__, result.to_dict())


def _screen_raw(answers: dict, age: int, kb) -> None:
    try:
        who = Patient(age=age, fitzpatrick="II")
        screen(who, Intake.model_validate(answers), kb, TODAY)
    except ValidationError as exc:
        raise input_error(exc, "" if not answers else "intake.") from None


@pytest.mark.parametrize(("name", "answers", "age", "field"), ERRORS, ids=[e[0] for e in ERRORS])
def test_impossible_and_implausible_dates_name_the_field(kb, name, answers, age, field):
    with pytest.raises(InputError) as err:
        _screen_raw(answers, age, kb)
    assert err.value.field == field
    assert "Traceback" not in err.value.message


def test_the_table_has_at_least_40_patient_files():
    assert len(CASES) >= 40


def test_free_text_findings_say_which_words_they_came_from(kb):
    answers = Intake(medications=["Xarelto 20mg", "fish oil"])
    screening = screen(Patient(age=60, fitzpatrick="III"), answers, kb, TODAY)
    finding = next(f for f in screening.findings if f.rule == "anticoagulants")
    assert finding.evidence == ("recognised from: 'Xarelto 20mg'",)
    assert recognise(answers, kb).unrecognised[0].source_text == "fish oil"


@pytest.mark.parametrize(
    "answers", [{"pregnant": True}, {"medical_history": ["pregnant"]}, {"breastfeeding": True}]
)
def test_pregnancy_and_breastfeeding_get_no_vitamin_a_before_or_after(kb, answers):
    session = Session(start=datetime(2026, 12, 1, 10), modality="microdermabrasion")
    care = aftercare(session, Patient(age=30, fitzpatrick="II"), Intake(**answers), kb)
    assert "vitamin_a_c" not in {p.rule for p in care.precare}
    texts = " ".join(p.text for p in care.precare) + " ".join(i.text for i in care.instructions)
    assert "no retinoids" in texts.lower()


def test_vitamin_a_priming_stays_for_other_patients(kb):
    session = Session(start=datetime(2026, 12, 1, 10), modality="microneedling", depth_mm=1.0)
    care = aftercare(session, Patient(age=30, fitzpatrick="II"), Intake(), kb)
    assert "vitamin_a_c" in {p.rule for p in care.precare}


def test_whole_face_is_deferred_for_a_cold_sore_anywhere_on_it(kb):
    screening = screen(
        Patient(age=30, fitzpatrick="II"), Intake(active_herpes_areas=["chin"]), kb, TODAY
    )
    for area in FACE:
        assert screening.blocking("microneedling", area)
        assert screening.blocking("microdermabrasion", area)
    assert not screening.blocking("microneedling", "abdomen")
