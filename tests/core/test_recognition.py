"""Recognition: free-text medicines, history and allergies -> facts with their words, or review."""

from dermis.core.recognition import NOT_RECOGNISED, Fact, Recognition, recognise
from dermis.core.screening import screen
from tests.core.clinical_factories import TODAY, intake, patient


def _classes(result):
    return {(f.class_id, f.entry) for f in result.facts}


def test_doses_case_brands_and_typos_are_recognised(kb):
    result = recognise(
        intake(medications=["WARFARIN 5 mg", "Roaccutane 20mg", "clopidogrol 75", "Eliquis"]), kb
    )
    assert _classes(result) == {
        ("anticoagulant", "warfarin"),
        ("systemic_retinoid", "isotretinoin"),
        ("antiplatelet", "clopidogrel"),
        ("anticoagulant", "apixaban"),
    }
    warfarin = next(f for f in result.facts if f.entry == "warfarin")
    assert warfarin.recognised_from == "recognised from: 'WARFARIN 5 mg'"
    assert not warfarin.confirmed
    assert not result.unrecognised


def test_anything_not_recognised_is_listed_for_review_never_dropped(kb):
    result = recognise(intake(medications=["fish oil, warfarin"], allergies=["bee stings"]), kb)
    assert _classes(result) == {("anticoagulant", "warfarin")}
    assert [(u.field, u.source_text, u.note) for u in result.unrecognised] == [
        ("medications", "fish oil", NOT_RECOGNISED),
        ("allergies", "bee stings", NOT_RECOGNISED),
    ]


def test_nothing_lines_are_not_left_for_review(kb):
    result = recognise(intake(medications=["None"], allergies=["No known allergies", "nkda"]), kb)
    assert result.facts == () and result.unrecognised == ()


def test_negated_history_is_not_a_fact_but_is_shown(kb):
    result = recognise(intake(medical_history=["no history of cold sores"]), kb)
    assert result.facts == ()
    assert "negated" in result.unrecognised[0].note


def test_stopped_medicine_is_past_and_areas_come_from_the_text(kb):
    result = recognise(
        intake(medications=["isotretinoin (stopped)"], medical_history=["BCC left cheek"]), kb
    )
    by_class = {f.class_id: f for f in result.facts}
    assert by_class["systemic_retinoid"].past
    assert by_class["skin_cancer"].areas == ("cheeks",)


def test_an_allergy_to_a_medicine_is_not_taking_it(kb):
    result = recognise(intake(medical_history=["allergic to lidocaine"], allergies=["aspirin"]), kb)
    assert _classes(result) == {("local_anaesthetic", "lidocaine")}
    assert result.unrecognised[0].source_text == "aspirin"


def test_recognition_round_trips_through_a_dict(kb):
    result = recognise(intake(medications=["warfarin"], medical_history=["keloids", "HIV"]), kb)
    assert Recognition.from_dict(result.to_dict()) == result


def test_a_recognised_anticoagulant_sets_the_same_finding_as_the_box(kb):
    from_text = screen(patient(), intake(medications=["Xarelto 20 mg"]), kb, TODAY)
    from_box = screen(patient(), intake(anticoagulants=True), kb, TODAY)
    assert [(f.rule, f.action) for f in from_text.findings] == [
        (f.rule, f.action) for f in from_box.findings
    ]
    assert from_text.findings[0].evidence == ("recognised from: 'Xarelto 20 mg'",)
    assert from_box.findings[0].evidence == ("intake.anticoagulants: True",)


def test_confirmed_facts_replace_recognition_and_a_removed_fact_no_longer_counts(kb):
    answers = intake(medications=["aspirin 75 mg"])
    recognised = recognise(answers, kb).facts
    assert any(f.rule == "antiplatelets" for f in screen(patient(), answers, kb, TODAY).findings)
    assert screen(patient(), answers, kb, TODAY, facts=[]).clear
    corrected = Fact("medicine", "anticoagulant", "Anticoagulant", "aspirin 75 mg", confirmed=True)
    rules = {f.rule for f in screen(patient(), answers, kb, TODAY, facts=[corrected]).findings}
    assert rules == {"anticoagulants"}
    assert recognised[0].class_id == "antiplatelet"
