"""Session charting: draft, finalise (sign and lock), addenda."""

from __future__ import annotations

urlpatterns: list = []
