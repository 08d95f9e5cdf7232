"""Impossible and implausible dates in a patient file: one line naming the field, exit 2."""

import pytest

from dermis.cli.main import main

HEAD = (
    "as_of: 2026-11-23\npatient: {age: 30, fitzpatrick: II}\n"
    "assessment: {concerns: [{area: cheeks, concern: fine_lines, severity: 2}]}\n"
)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            "intake: {isotretinoin_last_dose: 2026-02-30}",
            "intake.isotretinoin_last_dose",
            "'2026-02-30' is not a valid date",
        ),
        (
            "intake: {recent_tan_or_sunburn: 2026-13-01}",
            "intake.recent_tan_or_sunburn",
            "'2026-13-01' is not a valid date",
        ),
        (
            "intake: {isotretinoin_last_dose: 2027-01-05}",
            "intake.isotretinoin_last_dose",
            "cannot be in the future",
        ),
        (
            "intake: {recent_tan_or_sunburn: 1926-07-01}",
            "intake.recent_tan_or_sunburn",
            "before the patient was born",
        ),
        (
            "intake: {recent_procedures: [{kind: laser, date: 2019-05-01}]}",
            "intake.recent_procedures[0].date",
            "more than 5 years before 2026-11-23",
        ),
        (
            "session: {start: 2026-02-30T10:00, modality: microneedling, depth_mm: 1}",
            "session.start",
            "'2026-02-30T10:00' is not a valid date",
        ),
    ],
)
@pytest.mark.parametrize("command", ["screen", "plan"])
def test_bad_date_is_one_line_naming_the_field(tmp_path, capsys, body, field, words, command):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + body + "\n")
    code = main([command, str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"dermis: error: {field}: ")
    assert words in err
