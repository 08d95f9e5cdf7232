"""A page of a patient record merged into another leads to the kept record."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from dermis.web.clinic.errors import PatientMerged


class MergedPatientRedirect:
    """Turn `PatientMerged` (raised by `access.clinic_patient` on a read) into a 302 to the same
    page of the kept record. 302, not 301: a browser must not remember it past an erasure."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, PatientMerged) or request.resolver_match is None:
            return None
        match = request.resolver_match
        kwargs = {**match.kwargs, "patient_id": exception.kept_id}
        try:
            url = reverse(match.view_name, args=match.args, kwargs=kwargs)
        except NoReverseMatch:
            url = reverse("patient-detail", args=[exception.kept_id])
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{url}?{query}" if query else url)
