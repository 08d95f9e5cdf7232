"""The clinic's audit log, for its admin: read-only, newest first, filterable, 50 a page.

Paged by position (keyset: "older than this event"), not by page number, and never counted: a
page costs the same at the millionth event as at the first. The user filter's choices are the
clinic's staff, not a DISTINCT over every event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.template import engines
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from dermis.web.clinic.access import ADMIN_ONLY, staff_required
from dermis.web.clinic.models import AuditEvent, StaffMember
from dermis.web.clinic.prepared import PreparedRows, PreparedValues
from dermis.web.clinic.process_memo import ProcessMemo
from dermis.web.clinic.together import read_together
from dermis.web.jinja import WHERE, ZONE, per_render

PAGE_SIZE = 50
# Actors without a user (clinic/actors.py: Actor.username) that write to the log.
SYSTEM_NAMES = ("(command line)", "(demo)", "(import)", "(system)")


class AuditFilter(forms.Form):
    user = forms.ChoiceField(required=False, label="User")
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False, label="Action"
    )
    patient = forms.IntegerField(required=False, min_value=1, label="Patient id")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, usernames: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Anyone"), *((u, u) for u in usernames)]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "must be on or after the From date")
        return data


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(events, data: dict):
    if data.get("user"):
        events = events.filter(username=data["user"])
    if data.get("action"):
        events = events.filter(action=data["action"])
    if data.get("patient"):
        events = events.about_patient(data["patient"])
    if data.get("since"):
        events = events.filter(at__gte=_day_start(data["since"]))
    if data.get("until"):
        # The whole of the To day, in the clinic's time zone.
        events = events.filter(at__lt=_day_start(data["until"] + timedelta(days=1)))
    return events


@dataclass(frozen=True)
class Cursor:
    """A position in the log, newest first: the event at `at` with id `pk`."""

    at: datetime
    pk: int

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        at, _, pk = (text or "").rpartition("_")
        try:
            when = datetime.fromisoformat(at)
            return cls(when if timezone.is_aware(when) else timezone.make_aware(when), int(pk))
        except ValueError:
            return None  # a mangled link shows the newest page

    @classmethod
    def of(cls, event: AuditEvent) -> str:
        return f"{event.at.isoformat()}_{event.pk}"


def keyset_page(events, older_than: Cursor | None, newer_than: Cursor | None) -> dict:
    """One page of `events`, newest first, and the cursors of the pages either side (or None)."""
    if newer_than is not None:
        after = Q(at__gt=newer_than.at) | Q(at=newer_than.at, pk__gt=newer_than.pk)
        rows = list(events.filter(after).order_by("at", "id")[: PAGE_SIZE + 1])
        more_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        return {
            "events": rows,
            "newer": Cursor.of(rows[0]) if more_newer and rows else None,
            "older": Cursor.of(rows[-1]) if rows else None,
        }
    if older_than is not None:
        before = Q(at__lt=older_than.at) | Q(at=older_than.at, pk__lt=older_than.pk)
        events = events.filter(before)
    return _newest_first(list(events.order_by("-at", "-id")[: PAGE_SIZE + 1]), older_than)


def _newest_first(rows: list, older_than: Cursor | None) -> dict:
    """A page from up to PAGE_SIZE + 1 events read newest first (the one more says there are
    older ones)."""
    more_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {
        "events": rows,
        "newer": Cursor.of(rows[0]) if older_than is not None and rows else None,
        "older": Cursor.of(rows[-1]) if more_older else None,
    }


# The log as it opens, and the staff to choose from: composed once per process
# (clinic/prepared.py).
NEWEST = PreparedRows(
    AuditEvent,
    lambda clinic: AuditEvent.objects.filter(clinic_id=clinic).order_by("-at", "-id"),
    clinic=int,
)
# One person's events as the log opens on them (`?user=`, the other filters empty).
NEWEST_BY_USER = PreparedRows(
    AuditEvent,
    lambda clinic, username: AuditEvent.objects.filter(
        clinic_id=clinic, username=username
    ).order_by("-at", "-id"),
    clinic=int,
    username=str,
)
USERNAMES = PreparedValues(
    StaffMember,
    lambda clinic: (
        StaffMember.objects.filter(clinic_id=clinic)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    ),
    flat=True,
    clinic=int,
)


def user_choices(clinic) -> list[str]:
    return [*USERNAMES.rows(clinic=clinic.pk), *SYSTEM_NAMES]


@require_safe
@staff_required(ADMIN_ONLY)
def audit_log(request) -> HttpResponse:
    clinic = request.staff.clinic
    events = AuditEvent.objects.filter(clinic=clinic)
    # The log as it opens: its staff menu and its newest page in one round trip.
    if not request.GET:
        newest = NEWEST.ahead(PAGE_SIZE + 1, clinic=clinic.pk)
    elif username := _only_user(request.GET):
        newest = NEWEST_BY_USER.ahead(PAGE_SIZE + 1, clinic=clinic.pk, username=username)
    else:
        newest = None
    with read_together(USERNAMES.ahead(clinic=clinic.pk), newest):
        return _audit_log(request, events, clinic)


def _only_user(query) -> str:
    """The user the log is opened on, where nothing else narrows it and no page is asked for
    (other fields given empty, as the form sends them); else ''."""
    if any(v for key, values in query.lists() if key != "user" for v in values):
        return ""
    users = query.getlist("user")
    return users[0] if len(users) == 1 else ""


def _audit_log(request, events, clinic) -> HttpResponse:
    form = AuditFilter(request.GET or None, usernames=user_choices(clinic))
    username = ""
    if form.is_bound and form.is_valid():
        events = filtered(events, form.cleaned_data)
        username = _only_user(request.GET)
    elif form.is_bound:
        events = events.none()
    if username:  # read with the staff menu (`audit_log`)
        rows = NEWEST_BY_USER.rows(PAGE_SIZE + 1, clinic=clinic.pk, username=username)
        page = _newest_first(rows, None)
    elif request.GET:
        page = keyset_page(
            events,
            Cursor.parse(request.GET.get("older_than")),
            Cursor.parse(request.GET.get("newer_than")),
        )
    else:  # the log as it opens: the newest page
        rows = NEWEST.rows(PAGE_SIZE + 1, clinic=clinic.pk)
        page = _newest_first(rows, None)
    query = request.GET.copy()
    for key in ("older_than", "newer_than", "page"):
        query.pop(key, None)
    return render(
        request,
        "clinic/audit/audit_log.html",
        {
            "form": form,
            "filter_form": filter_form(request, form),
            "page": page,
            "rows": event_rows(page["events"]),
            "query": query.urlencode(),
        },
    )


# The filter as each worker last drew it, by what it is drawn from (`filter_form`): its five
# fields with the staff menu cost more to draw (1–2 ms) than the page's reads.
FILTERS = ProcessMemo(size=128)


def filter_form(request, form: AuditFilter) -> str:
    """The filter form (`_filter.html`), drawn once per worker for its menu's names, what was
    asked (its errors follow from the two), and the language and address prefix it is written
    in."""
    names = tuple(value for value, _ in form.fields["user"].choices)
    asked = tuple(sorted((name, tuple(values)) for name, values in request.GET.lists()))
    key = (names, asked, get_language(), get_script_prefix(), get_urlconf())
    html = FILTERS.get(key)
    if html is None:
        html = render_to_string("clinic/audit/_filter.html", {"form": form})
        FILTERS.put(key, html)
    return mark_safe(html)


# An event is never changed once written (append-only: models/audit.py and its triggers), so its
# row is the same on every view drawn in the same time zone, language and address prefix. Each
# worker keeps the rows it drew and draws only the ones it has not: drawing a page's fifty was
# 3 ms of the log's 7.5.
ROWS = ProcessMemo(5_000)
ROW_TEMPLATE = "clinic/audit/_row.html"


def event_rows(events) -> str:
    """The table rows of `events` (`_row.html`), each drawn once per worker."""
    values = per_render()
    urlconf, prefix = values[WHERE]
    drawn_for = (str(values[ZONE]), get_language(), urlconf, prefix)
    rows, row = [], None
    for event in events:
        key = (event.pk, *drawn_for)
        html = ROWS.get(key)
        if html is None:
            if row is None:
                row = engines["jinja2"].env.get_template(ROW_TEMPLATE).make_module(values).row
            html = str(row(event))
            ROWS.put(key, html)
        rows.append(html)
    return mark_safe("".join(rows))  # drawn by Jinja2, which escapes


urlpatterns = [path("audit/", audit_log, name="audit-log")]
