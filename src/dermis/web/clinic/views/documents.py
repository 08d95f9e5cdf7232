"""Documents: aftercare on screen and as PDF, plan PDF, printable consent."""

from __future__ import annotations

urlpatterns: list = []
