"""Clinical photos: upload, serve to authorised staff, compare."""

from __future__ import annotations

urlpatterns: list = []
