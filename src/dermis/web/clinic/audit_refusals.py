"""Refused access is audited too: a 403 or 404 answered to a member of staff by a page or an API
operation (a route that matched: another clinic's patient, a record their role may not see).

The event names the route and the id asked for, never the query string (search words stay out
of the trail), and no patient: a 404 does not confirm that a record exists, even to the audit.
"""

from __future__ import annotations

from dermis.web.clinic.access import client_ip, staff_of
from dermis.web.clinic.actors import Actor
from dermis.web.clinic.audit import Action, record

REFUSED = {403: "access refused (403)", 404: "not found (404)"}


class AuditRefusalsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in REFUSED and getattr(request, "resolver_match", None):
            self._record(request, response.status_code)
        return response

    def _record(self, request, status: int) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        staff = staff_of(request)
        if staff is None:
            return
        match = request.resolver_match
        ids = [str(v) for v in match.kwargs.values() if isinstance(v, int) or str(v).isdigit()]
        channel = "api" if request.path.startswith("/api/") else "web"
        actor = Actor.of_staff(
            staff, channel=channel, path=request.path, ip_address=client_ip(request)
        )
        record(
            actor,
            Action.DENIED,
            summary=REFUSED[status],
            object_type=match.url_name or "",
            object_id=ids[0] if ids else "",
        )
