"""iCalendar feeds behind secret, revocable URLs: a practitioner's diary, a patient's bookings.

The token is shown once when the feed is made; only its SHA-256 is stored, so a copy of the
database does not hand out working feed addresses. What a feed says is decided in `ical.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from datetime import datetime, timedelta
from functools import partial

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dermis.web.clinic.access import (
    ANY_STAFF,
    CLINICAL,
    actor_of,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.form_errors import sentence
from dermis.web.clinic.models import OPEN_STATUSES, Appointment, CalendarFeed
from dermis.web.clinic.prepared import Paged, PreparedCount, PreparedRows, PreparedStatement
from dermis.web.clinic.scheduling import ical, setup, versions
from dermis.web.clinic.scheduling.availability import local_midnight

FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)
FEED_CACHE_SECONDS = 24 * 3600
FEED_COMPRESSION = 6  # zlib's level: written once per change, read on every fetch
FEEDS_PER_PAGE = 25  # an admin sees every feed of the clinic, patients' too: a page at a time


def _clinic_feeds(request: HttpRequest) -> QuerySet[CalendarFeed]:
    return _of_clinic(request.staff.clinic_id)


def _of_clinic(clinic: int) -> QuerySet[CalendarFeed]:
    feeds = CalendarFeed.objects.filter(Q(staff__clinic_id=clinic) | Q(patient__clinic_id=clinic))
    return feeds.select_related("staff", "patient", "created_by").order_by("-created_at", "-pk")


def _mine(clinic: int, staff: int, user: int) -> QuerySet[CalendarFeed]:
    return _of_clinic(clinic).filter(Q(staff_id=staff) | Q(created_by_id=user))


# The feeds page (an admin's: the clinic's; anyone else's: their own), composed once per process.
CLINIC_FEEDS = PreparedRows(CalendarFeed, _of_clinic, clinic=int)
CLINIC_FEEDS_COUNT = PreparedCount(CalendarFeed, _of_clinic, clinic=int)
MY_FEEDS = PreparedRows(CalendarFeed, _mine, clinic=int, staff=int, user=int)
MY_FEEDS_COUNT = PreparedCount(CalendarFeed, _mine, clinic=int, staff=int, user=int)


def _may_manage(request: HttpRequest, feed: CalendarFeed) -> bool:
    staff = request.staff
    return staff.is_admin or feed.staff_id == staff.pk or feed.created_by_id == request.user.pk


def _created(request: HttpRequest, feed: CalendarFeed, token: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
    webcal = "webcal://" + url.split("://", 1)[1]
    return render(
        request, "clinic/calendar/feed_created.html", {"feed": feed, "url": url, "webcal": webcal}
    )


@staff_required(ANY_STAFF)
@require_GET
def feed_list(request: HttpRequest) -> HttpResponse:
    """Your feeds (the ones for you and the ones you made); an admin sees the clinic's."""
    me, clinic = request.staff, request.staff.clinic_id
    if me.is_admin:
        values = {"clinic": clinic}
        feeds = Paged(CLINIC_FEEDS, lambda: CLINIC_FEEDS_COUNT.count(**values), **values)
    else:
        values = {"clinic": clinic, "staff": me.pk, "user": request.user.pk}
        feeds = Paged(MY_FEEDS, lambda: MY_FEEDS_COUNT.count(**values), **values)
    page = Paginator(feeds, FEEDS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(feed, _may_manage(request, feed)) for feed in page]
    return render(request, "clinic/calendar/feed_list.html", {"rows": rows, "page": page})


@staff_required(CLINICAL)
@require_POST
@never_cache
def create_staff_feed(request: HttpRequest) -> HttpResponse:
    feed, token = setup.create_feed(actor_of(request), staff=request.staff)
    return _created(request, feed, token)


@staff_required(ANY_STAFF)
@require_http_methods(["GET", "POST"])
@never_cache
def create_patient_feed(request: HttpRequest, patient_id: int) -> HttpResponse:
    """GET asks for confirmation; POST makes the feed and shows its address once."""
    patient = clinic_patient(request, patient_id)
    if request.method == "GET":
        return render(request, "clinic/calendar/patient_feed_new.html", {"patient": patient})
    feed, token = setup.create_feed(actor_of(request), patient=patient)
    return _created(request, feed, token)


@staff_required(ANY_STAFF)
@require_POST
def revoke_feed(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(_clinic_feeds(request), pk=pk)
    try:
        setup.revoke_feed(actor_of(request), feed)
    except ServiceError as err:
        raise PermissionDenied(sentence(err.message)) from None
    # No flash message: base.html's message list fails axe (role=status on the <ul>); the
    # list shows the feed as revoked.
    return redirect("calendar-feed-list")


def _feed_rows(audience: ical.Audience, owner: int, since: datetime, until: datetime) -> QuerySet:
    """A feed's appointments: its practitioner's (or patient's) open ones in the window."""
    rows = Appointment.objects.filter(status__in=OPEN_STATUSES, start__gte=since, start__lt=until)
    if audience == ical.Audience.STAFF:
        rows = rows.filter(practitioner_id=owner)
    else:
        rows = rows.filter(patient_id=owner)
    return rows.order_by("start", "pk")


# Read on every fetch of every feed: composed once per process (clinic/prepared.py).
FEED_BY_DIGEST = PreparedRows(
    CalendarFeed,
    lambda digest: CalendarFeed.objects.select_related(
        "staff__clinic", "staff__user", "patient__clinic"
    ).filter(token_sha256=digest, revoked_at__isnull=True),
    digest=str,
)
FEED_SAID = {
    audience: PreparedStatement(
        Appointment,
        partial(lambda audience, **window: ical.said(_feed_rows(audience, **window)), audience),
        owner=int,
        since=datetime,
        until=datetime,
    )
    for audience in ical.Audience
}


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The public feed: anyone with the token; 404 for an unknown or revoked one."""
    digest = ical.token_hash(token)
    found = next(iter(FEED_BY_DIGEST.rows(1, digest=digest)), None)
    # The lookup is by hash, so its timing says nothing about the token; compare anyway.
    if found is None or not hmac.compare_digest(found.token_sha256, digest):
        raise Http404("no such feed")
    now = timezone.now()
    # Whole days, so what the feed holds changes at midnight (and when its rows do), not with
    # every fetch.
    today = timezone.localdate(now)
    window = {
        "since": local_midnight(today) - FEED_PAST,
        "until": local_midnight(today) + FEED_FUTURE,
    }
    if found.staff is not None:
        if not found.staff.user.is_active:
            raise Http404("no such feed")
        audience, name = ical.Audience.STAFF, f"{found.staff.clinic.name}: my appointments"
        window["owner"] = found.staff_id
        clinic_id = found.staff.clinic_id
    else:
        audience, name = ical.Audience.PATIENT, f"{found.patient.clinic.name} appointments"
        window["owner"] = found.patient_id
        clinic_id = found.patient.clinic_id
    rows = _feed_rows(audience, **window)
    # What the events are made of tells whether anything changed since the last fetch; the
    # events and the calendar's bytes are built only when a client has not got them, and kept
    # in the shared cache. The fingerprint itself (a few milliseconds of PostgreSQL's for a
    # practitioner's year) is kept while the clinic's schedule version stands, until midnight.
    said = FEED_SAID[audience]

    def fingerprint() -> tuple[str, datetime]:
        content = ical.columns_fingerprint(
            name, audience, rows, statement=lambda: said.statement(**window)
        )
        return content, local_midnight(today + timedelta(days=1))

    parts = (found.pk, audience, name, *window.values())
    content = versions.kept("ics-said", clinic_id, parts, now, fingerprint)
    changed_at = setup.note_feed_content(found, content)
    etag = f'"{hashlib.sha256(f"{content}{changed_at.isoformat()}".encode()).hexdigest()[:32]}"'
    response = get_conditional_response(
        request, etag=etag, last_modified=int(changed_at.timestamp())
    ) or HttpResponse(
        _body(f"dermis:ics-z:{found.pk}:{etag}", rows, audience, name, changed_at),
        content_type="text/calendar; charset=utf-8",
    )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(changed_at.timestamp())
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    # Private (the address is a secret) and asked again every time: a 304 when unchanged.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response


def _body(key: str, rows: QuerySet, audience, name: str, changed_at: datetime) -> bytes:
    """The calendar's bytes, kept compressed in the shared cache: a practitioner's year of
    appointments is about 300 KB of text, which the database cache would otherwise send and
    decode in base64 on every fetch (a tenth of that compressed)."""
    kept = cache.get(key)
    if kept is not None:
        return zlib.decompress(kept)
    events = [ical.row_facts(row, audience) for row in rows.values(*ical.ROW_FIELDS)]
    body = ical.to_bytes(ical.calendar(events, audience, name, stamp=changed_at))
    cache.set(key, zlib.compress(body, FEED_COMPRESSION), FEED_CACHE_SECONDS)
    return body


urlpatterns = [
    path("calendar/feeds/", feed_list, name="calendar-feed-list"),
    path("calendar/feeds/new/", create_staff_feed, name="calendar-feed-create-staff"),
    path("calendar/feeds/<int:pk>/revoke/", revoke_feed, name="calendar-feed-revoke"),
    path(
        "patients/<int:patient_id>/calendar/new/",
        create_patient_feed,
        name="calendar-feed-create-patient",
    ),
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$", feed, name="calendar-feed"),
]
