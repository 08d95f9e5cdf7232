"""The knowledge base: cited, validated at load, overridable by a clinic file."""

from datetime import date

import pytest

from dermis.core.errors import KnowledgeError
from dermis.core.knowledge import build_knowledge
from dermis.core.screening import screen
from tests.core.clinical_factories import TODAY, intake, patient


def _rules(kb):
    for section in (
        "modalities",
        "devices",
        "scales",
        "serums",
        "aftercare",
        "precare",
        "contraindications",
    ):
        for rule_id, rule in getattr(kb, section).items():
            yield f"{section}.{rule_id}", rule.sources
    for area, profiles in kb.depth_limits.items():
        for profile, limit in profiles.items():
            yield f"depth_limits.{area}.{profile}", limit.sources
    for modality, by_concern in kb.protocols.items():
        for concern, protocol in by_concern.items():
            yield f"protocols.{modality}.{concern}", protocol.sources


def test_every_rule_cites_a_source_in_the_bibliography(kb):
    rules = list(_rules(kb))
    assert len(rules) > 80
    for key, sources in rules:
        assert sources, key
        assert all(s in kb.bibliography for s in sources), key


def test_bibliography_covers_the_evidence_digest_keys(kb):
    for key in (
        "harris2015",
        "alster2018",
        "drpen",
        "waldman2017",
        "alam2014",
        "cohen2016",
        "chu2021",
        "karimipour2009",
        "mohamedali2017",
        "aust2008",
        "gupta2011",
    ):
        assert key in kb.bibliography


def test_knowledge_covers_the_required_concerns_devices_and_areas(kb):
    assert {
        "fine_lines",
        "acne_scars_rolling",
        "acne_scars_boxcar",
        "acne_scars_icepick",
        "enlarged_pores",
        "uneven_texture",
        "uneven_tone",
        "stretch_marks",
        "laxity",
    } <= set(kb.concerns)
    kinds = {(d.kind, d.setting) for d in kb.devices.values()}
    assert {
        ("roller", "professional"),
        ("pen", "professional"),
        ("roller", "home"),
        ("crystal", "professional"),
        ("diamond_tip", "professional"),
        ("diamond_tip", "home"),
    } <= kinds
    assert {a.region for a in kb.areas.values()} == {"face", "body"}
    tips = kb.devices["diamond_tip"].tips
    assert tips["coarse"].grit_um > tips["medium"].grit_um


def test_clinic_override_changes_one_number_and_keeps_the_rest(tmp_path, kb):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("contraindications:\n  isotretinoin:\n    condition: {months: 12}\n")
    custom = build_knowledge(clinic)
    assert custom.contraindications["isotretinoin"].condition.months == 12
    assert custom.contraindications["isotretinoin"].sources == ["waldman2017", "alam2014"]
    assert custom.aftercare == kb.aftercare

    answers = intake(isotretinoin_last_dose=date(2026, 9, 23))
    default_until = screen(patient(), answers, kb, TODAY).findings[0].until
    clinic_until = screen(patient(), answers, custom, TODAY).findings[0].until
    assert (default_until, clinic_until) == (date(2027, 3, 23), date(2027, 9, 23))


def test_clinic_override_can_add_a_rule(tmp_path):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        "contraindications:\n"
        "  gold_threads:\n"
        "    name: Gold threads\n"
        "    reason: Needling over threads\n"
        "    condition: {kind: flag, field: metal_allergy}\n"
        "    effects: {microneedling: {severity: absolute, action: refer}}\n"
        "    sources: [dermis_default]\n"
    )
    assert "gold_threads" in build_knowledge(clinic).contraindications


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            "contraindications:\n  isotretinoin:\n    condition: {months: -1}\n",
            "contraindications.isotretinoin.condition.months",
            "greater than 0",
        ),
        (
            "aftercare:\n  no_makeup:\n    sources: [nobody2020]\n",
            "aftercare.no_makeup.sources",
            "unknown citation 'nobody2020'",
        ),
        (
            "depth_limits:\n  cheeks:\n    standard:\n      thin: {min: 2.0, max: 1.0}\n",
            "depth_limits.cheeks.standard.thin",
            "greater than max",
        ),
        ("recalls: {}\n", "recalls", "not a knowledge-base section"),
        (
            "contraindications:\n  x:\n    name: X\n    reason: r\n"
            "    condition: {kind: flag, field: likes_cats}\n"
            "    effects: {microneedling: {severity: absolute, action: a}}\n"
            "    sources: [dermis_default]\n",
            "contraindications.x.condition.field",
            "unknown intake field 'likes_cats'",
        ),
    ],
)
def test_invalid_override_names_the_file_and_the_key(tmp_path, text, key, message):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(text)
    with pytest.raises(KnowledgeError) as err:
        build_knowledge(clinic)
    assert err.value.path == str(clinic)
    assert err.value.key == key
    assert message in err.value.message


def test_broken_yaml_names_the_line(tmp_path):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("contraindications:\n  x: [unclosed\n")
    with pytest.raises(KnowledgeError) as err:
        build_knowledge(clinic)
    assert err.value.key.startswith("line ")


def test_missing_override_file_is_a_clear_error(tmp_path):
    with pytest.raises(KnowledgeError, match="cannot be read"):
        build_knowledge(tmp_path / "nope.yaml")


def test_the_knowledge_base_doc_lists_every_rule_with_its_sources(kb):
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "knowledge-base.md").read_text(encoding="utf-8")
    for rule_id, rule in kb.contraindications.items():
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{rule_id}` |")), "")
        assert row, rule_id
        assert all(source in row for source in rule.sources), (rule_id, rule.sources)
