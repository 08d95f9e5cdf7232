"""Render a template to a PDF with WeasyPrint, fetching nothing but the app's own static files.

A document is rendered from HTML the app wrote itself, but a stray URL (in a stored text, say)
must never make the server call out: the fetcher serves static files from disk and inline
`data:` images, and refuses everything else.
"""

from __future__ import annotations

import base64
import functools
import logging
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

# WeasyPrint's step-by-step INFO messages would fill the log at every download; warnings stay.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# `.invalid` can never resolve (RFC 2606), so even a fetcher bug could not reach a real host.
BASE_URL = "https://dermis.invalid/"
_DATA_URL = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]*)")
_SAFE_NAME = re.compile(r"[^a-z0-9.-]+")


def local_resource(url: str) -> tuple[bytes, str] | None:
    """The body and type of a base64 `data:` URL or one of the app's static files, else None."""
    data = _DATA_URL.fullmatch(url)
    if data:
        return base64.b64decode(data["data"]), data["type"]
    static, parts = urlsplit(urljoin(BASE_URL, settings.STATIC_URL)), urlsplit(url)
    if (parts.scheme, parts.netloc) != (static.scheme, static.netloc):
        return None
    if not parts.path.startswith(static.path):
        return None
    try:
        found = finders.find(unquote(parts.path[len(static.path) :]))
    except SuspiciousFileOperation:  # "../" out of the static directories
        return None
    if not found:
        return None
    return Path(found).read_bytes(), mimetypes.guess_type(found)[0] or "application/octet-stream"


@functools.cache
def _fetcher_class():
    # WeasyPrint is imported on first use: loading it costs every process half a second.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            found = local_resource(url)
            if found is None:
                raise ValueError("only the app's own static files may be fetched")
            return URLFetcherResponse(url, found[0], {"Content-Type": found[1]})

    return StaticOnlyFetcher


def render_document(template_name: str, context: dict):
    """The template laid out as a WeasyPrint Document (tests read its text back)."""
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher_class()()).render()


def safe_filename(*parts: object) -> str:
    """`aftercare-session-12.pdf`: ids and kinds only, never a patient's name."""
    stem = "-".join(_SAFE_NAME.sub("-", str(p).lower()).strip("-") for p in parts)
    return f"{stem or 'document'}.pdf"


def pdf_response(document, filename: str) -> HttpResponse:
    """The document as a download; never cached, since it holds a patient's record."""
    response = HttpResponse(document.write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store, private"
    return response
