"""An API list's JSON as each worker last wrote it, by what it shows (`kept_json`): every column of
each row on the page, and what else the view names (how many matched, the page asked for, the
role's view of the rows, the time zone). Validating fifty rows against the response schema and
writing them out cost more (0.7–1.3 ms) than reading them.

On a miss the view returns its data as usual: django-ninja validates and renders it, and the
renderer (`KeepingRenderer`) keeps the body it wrote for a 200 under the request's key. A kept
body is the body ninja wrote, byte for byte (tests/api/test_api_lists_kept.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer

import dermis
from dermis.web.clinic.process_memo import ProcessMemo
from dermis.web.clinic.together import rows_digest

PAGES = ProcessMemo(size=128)
KEY = "dermis_api_kept_as"  # the request's key, for the renderer


class KeepingRenderer(JSONRenderer):
    def render(self, request: HttpRequest, data, *, response_status: int):
        body = super().render(request, data, response_status=response_status)
        key = getattr(request, KEY, None)
        if key is not None and response_status == 200:
            PAGES.put(key, body)
        return body


CONTENT_TYPE = f"{KeepingRenderer.media_type}; charset={KeepingRenderer.charset}"


def kept_json(request: HttpRequest, rows: list, *parts) -> HttpResponse | None:
    """The JSON kept for this address, the rows it lists (each by every column) and `parts`
    (everything else it shows or depends on); None where there is none, the request then
    carrying the key its body will be kept under."""
    key = rows_digest(rows, dermis.__version__, request.path, parts)
    body = PAGES.get(key)
    if body is not None:
        return HttpResponse(body, content_type=CONTENT_TYPE)
    setattr(request, KEY, key)
    return None
