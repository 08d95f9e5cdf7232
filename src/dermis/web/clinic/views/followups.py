"""Follow-up grades and the outcome forecast chart."""

from __future__ import annotations

urlpatterns: list = []
