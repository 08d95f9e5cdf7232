"""Appointments (simple booking; series booking and slot finding come with scheduling)."""

from __future__ import annotations

urlpatterns: list = []
