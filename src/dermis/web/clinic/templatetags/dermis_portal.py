"""`{% portal_alerts as alerts %}`: check-ins with a warning sign awaiting a practitioner."""

from __future__ import annotations

from django import template

from dermis.web.clinic.portal import checkins

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_alerts(context) -> list:
    """Unacknowledged alerts of the staff member's clinic; nothing for non-clinical staff."""
    staff = context.get("staff")
    if staff is None or not staff.is_clinical:
        return []
    alerts = list(checkins.open_alerts(staff.clinic))
    for c in alerts:
        c.warning_texts = [checkins.WARNING_SIGNS.get(w, w) for w in c.warnings]
    return alerts
