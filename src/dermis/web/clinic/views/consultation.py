"""Consultation: intake, assessment, screening, proposal, consent, acceptance."""

from __future__ import annotations

urlpatterns: list = []
