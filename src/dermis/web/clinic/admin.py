"""Django admin, for superusers only: clinics, locations, staff, and the audit trail (read-only).

Clinic staff work in the app's own pages; the admin is the operator's tool for setting up
clinics and people. Patient records are deliberately not registered here: the admin would show
them without the clinic scoping and auditing every clinical page has. Its writes do not go
through tenancy's services (`clinic/tenancy/`), which every other door uses: it is the
superuser's own tool, outside the clinics' roles.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from dermis.web.clinic.models import AuditEvent, Clinic, Location, StaffMember


class SuperuserOnly(admin.ModelAdmin):
    """Only superusers, even if a user with `is_staff` were given model permissions."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(SuperuserOnly):
    list_display = ("name", "town", "postcode", "phone", "email")
    search_fields = ("name", "town", "postcode")
    prepopulated_fields = {"slug": ("name",)}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(SuperuserOnly):
    list_display = ("name", "clinic", "town", "postcode")
    list_filter = ("clinic",)
    search_fields = ("name", "town", "postcode")


@admin.register(StaffMember)
class StaffMemberAdmin(SuperuserOnly):
    list_display = ("display_name", "user", "clinic", "role", "listed_in_directory")
    list_filter = ("clinic", "role", "listed_in_directory")
    search_fields = ("display_name", "user__username", "credentials")
    autocomplete_fields = ("user",)
    filter_horizontal = ("locations",)


@admin.register(AuditEvent)
class AuditEventAdmin(SuperuserOnly):
    """The trail is append-only: viewable, never added, changed or deleted here."""

    list_display = ("at", "clinic", "username", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "clinic")
    search_fields = ("username", "object_type", "object_id", "path")
    date_hierarchy = "at"
    actions = None
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
