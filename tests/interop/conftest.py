"""Interoperability tests: clients, parsers and validators that Dermis did not write."""

from __future__ import annotations

import pytest

from tests.api.api_records import journey


@pytest.fixture
def record(world, settings, tmp_path):
    """Nora's whole record (consultation, plan, consent, booking, session, photo, grade,
    reminder sent), built through the core as the API tests build it."""
    settings.PHOTO_ROOT = tmp_path / "photos"
    return journey(world.nora, world.pat, settings.PHOTO_ROOT)
