"""Web and API agree on registering a likely duplicate and on merging two records (see
test_parity.py for how both doors are run on the same state)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.personas import stored_patient
from tests.web.test_parity import _api, _both, _web

NORA = {"given_name": "Nora", "family_name": "Quinn", "date_of_birth": "1985-03-14", "sex": "f"}
REGISTRATIONS = {  # body, confirmed, refused
    "duplicate": (NORA, False, True),
    "duplicate confirmed": (NORA, True, False),
    "same phone": ({**NORA, "given_name": "Ann", "phone": "+447700900123"}, False, True),
    "someone else": ({**NORA, "given_name": "Ann"}, False, False),
}


@pytest.mark.parametrize("case", sorted(REGISTRATIONS))
def test_registering_a_likely_duplicate(case, world, client_as, api_as):
    body, confirm, refusal = REGISTRATIONS[case]
    page = {**body, **({"confirm_not_duplicate": "on"} if confirm else {})}
    web, api = _both(
        lambda: _web(client_as("fran").post(reverse("patient-create"), page), "form"),
        lambda: _api(
            api_as("fran").post("/api/v1/patients", {**body, "confirm_not_duplicate": confirm})
        ),
    )
    assert web == api
    assert web.ok is not refusal
    if refusal:
        assert web.field == "confirm_not_duplicate" and "already has" in web.message


MERGES = {"ok": "dup", "itself": "nora"}


@pytest.mark.parametrize("case", sorted(MERGES))
def test_merging_two_records(case, world, client_as, api_as):
    dup = stored_patient(
        clinic=world.northgate, given_name="Nora", family_name="Quinn",
        date_of_birth=date(1985, 3, 14),
    )  # fmt: skip
    away = dup if MERGES[case] == "dup" else world.nora
    url = reverse("patient-merge", args=[world.nora.pk])
    web, api = _both(
        lambda: _web(
            client_as("alice").post(url, {"merge_away_id": away.pk, "confirm": "on"}), "form"
        ),
        lambda: _api(
            api_as("alice").post(
                f"/api/v1/patients/{world.nora.pk}/merge", {"merge_away_id": away.pk}
            )
        ),
    )
    assert web == api
    assert web.ok is (case == "ok")
