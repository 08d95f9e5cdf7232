"""Treatment plans: versions, revisions within safe bounds."""

from __future__ import annotations

urlpatterns: list = []
