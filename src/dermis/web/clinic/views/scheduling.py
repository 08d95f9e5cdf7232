"""Scheduling: availability, series booking, rescheduling, the recall worklist."""

from __future__ import annotations

urlpatterns: list = []
