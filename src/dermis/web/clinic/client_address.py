"""The client's address, read through the reverse proxies the deployment says it has.

With `DERMIS_TRUSTED_PROXIES = N`, each of N proxies appends the address it received from to
X-Forwarded-For, so the client is the N-th entry from the right; anything left of it was written
by the client and is ignored. With 0 (the default) the connection's own address is used. Login
throttling (django-axes) and the audit trail both use this.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    hops = int(getattr(settings, "DERMIS_TRUSTED_PROXIES", 0) or 0)
    if hops <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote  # the request did not come through every proxy
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote
