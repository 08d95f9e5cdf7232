"""The Content-Security-Policy every page is sent with (django-csp's `CONTENT_SECURITY_POLICY`).

Strict: scripts, styles, images and fonts from this site only. No inline `<script>`, `on…=`
attributes or `style=` attributes work, so templates load JavaScript and CSS from static files
(`clinic/static/clinic/`). Scripts may still set `element.style` properties (the photo slider).
"""

from __future__ import annotations

from csp.constants import NONE, SELF

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI (/api/docs) draws its icons as data: images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
