"""iCalendar feeds behind secret, revocable URLs."""

from __future__ import annotations

urlpatterns: list = []
