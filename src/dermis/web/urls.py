"""URL routes of the web app: each view module of the clinic app brings its own `urlpatterns`."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from dermis.web.api import fallback
from dermis.web.api.api import api
from dermis.web.clinic.accounts import views as accounts
from dermis.web.clinic.audit_log import views as audit_log
from dermis.web.clinic.charting.views import photos, sessions
from dermis.web.clinic.consultations.views import consultation, plans
from dermis.web.clinic.directory import views as directory
from dermis.web.clinic.documents import views as documents
from dermis.web.clinic.outcomes import calibration_views
from dermis.web.clinic.outcomes import views as followups
from dermis.web.clinic.patients import views as patients
from dermis.web.clinic.portal.views import aftercare as portal_aftercare
from dermis.web.clinic.portal.views import athome as portal_athome
from dermis.web.clinic.portal.views import booking as portal_booking
from dermis.web.clinic.portal.views import data as portal_data
from dermis.web.clinic.portal.views import forecast as portal_forecast
from dermis.web.clinic.portal.views import move as portal_move
from dermis.web.clinic.portal.views import plan as portal_plan
from dermis.web.clinic.portal.views import settings as portal_settings
from dermis.web.clinic.portal.views import signin as portal_signin
from dermis.web.clinic.reminders import views as reminder_views
from dermis.web.clinic.scheduling.views import appointments, calendar_feeds, dashboard
from dermis.web.clinic.scheduling.views import availability as scheduling
from dermis.web.clinic.waitlist import views as waitlist
from dermis.web.fhir.rest import views as fhir_rest
from dermis.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="clinic/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    *accounts.urlpatterns,
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("api/<path:rest>", fallback.unknown),
    *fhir_rest.urlpatterns,
    *dashboard.urlpatterns,
    *patients.urlpatterns,
    *consultation.urlpatterns,
    *plans.urlpatterns,
    *sessions.urlpatterns,
    *photos.urlpatterns,
    *followups.urlpatterns,
    *calibration_views.urlpatterns,
    *documents.urlpatterns,
    *appointments.urlpatterns,
    *directory.urlpatterns,
    *audit_log.urlpatterns,
    *calendar_feeds.urlpatterns,
    *scheduling.urlpatterns,
    *portal_signin.urlpatterns,
    *portal_settings.urlpatterns,
    *portal_booking.urlpatterns,
    *portal_aftercare.urlpatterns,
    *portal_athome.urlpatterns,
    *portal_forecast.urlpatterns,
    *portal_plan.urlpatterns,
    *portal_move.urlpatterns,
    *portal_data.urlpatterns,
    *reminder_views.urlpatterns,
    *waitlist.urlpatterns,
]

# Error pages that never fail themselves (an unknown Host, a database that is down).
handler400 = "dermis.web.error_pages.bad_request"
handler403 = "dermis.web.error_pages.permission_denied"
handler404 = "dermis.web.error_pages.page_not_found"
handler500 = "dermis.web.error_pages.server_error"
