"""`{% aftercare_in_progress patient as items %}`: recent sessions' aftercare for the record."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

from dermis.web.clinic import core_inputs
from dermis.web.clinic.documents.selectors import RECENT_DAYS, recent_sessions, today_for

register = template.Library()


@register.simple_tag(takes_context=True)
def aftercare_in_progress(context, patient) -> list[dict]:
    """Sessions of the last 14 days with today's instructions; nothing for non-clinical staff."""
    # The record page only includes the partial for clinical roles; this holds even if it did not.
    if not context.get("clinical"):
        return []
    today = timezone.localdate()
    read = core_inputs.sessions(patient)  # inside the record page's read_once: read once
    if read is None:
        return [today_for(session, today) for session in recent_sessions(patient)]
    now = timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    recent = [s for s in reversed(read) if since <= s.performed_at <= now]
    return [today_for(session, today) for session in recent]
