"""Clinical photos: upload, serve to authorised staff, compare."""

from __future__ import annotations

import logging
from itertools import groupby

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from dermis.web.clinic.access import (
    CLINICAL,
    actor_of,
    audit,
    clinic_object,
    clinic_patient,
    staff_required,
)
from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.choice_fields import RowChoiceField
from dermis.web.clinic.core_inputs import knowledge
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import Photo, TreatmentSession

log = logging.getLogger(__name__)


class PhotoUploadForm(forms.Form):
    file = forms.FileField(
        label="Photo",
        help_text="A JPEG or PNG. Location and camera details are removed when it is stored.",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    area = forms.ChoiceField(label="Area")
    stage = forms.ChoiceField(label="Stage", choices=Photo.Stage.choices)
    taken_on = forms.DateField(
        label="Date taken", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    session = RowChoiceField(
        label="Session (optional)", queryset=TreatmentSession.objects.none(), required=False
    )
    consent_for_record = forms.BooleanField(
        label="The patient agreed to this photo being kept in their record",
        error_messages={"required": "is required: only keep photos the patient agreed to"},
    )

    def __init__(self, *args, patient, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(k, a.name) for k, a in knowledge().areas.items()]
        sessions = patient.sessions.order_by("-performed_at")
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = lambda s: (
            f"{timezone.localtime(s.performed_at):%d %b %Y %H:%M}, {s.get_modality_display()}"
        )

    def clean_taken_on(self):
        day = self.cleaned_data["taken_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("cannot be in the future")
        return day


def _area_name(key: str) -> str:
    areas = knowledge().areas
    return areas[key].name if key in areas else key


def _label(photo: Photo) -> str:
    return (
        f"{_area_name(photo.area)}, {photo.get_stage_display().lower()}, {photo.taken_on:%d %b %Y}"
    )


@staff_required(CLINICAL)
def photo_upload(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    if request.method == "POST":
        form = PhotoUploadForm(request.POST, request.FILES, patient=patient)
        if form.is_valid():
            data = form.cleaned_data
            try:
                charting.upload_photo(
                    actor_of(request),
                    patient,
                    data["file"],
                    area=data["area"],
                    stage=data["stage"],
                    taken_on=data["taken_on"],
                    session=data["session"],
                    consent_for_record=data["consent_for_record"],
                )
            except ServiceError as err:
                form.add_error(err.field if err.field in form.fields else None, err.message)
            else:
                messages.success(request, "Photo saved.")
                return redirect("photo-list", patient_id=patient.pk)
        status = 400
    else:
        initial = {"taken_on": timezone.localdate(), "stage": request.GET.get("stage", "before")}
        if request.GET.get("area") in knowledge().areas:
            initial["area"] = request.GET["area"]
        if (raw := request.GET.get("session", "")).isdigit():
            initial["session"] = patient.sessions.filter(pk=int(raw)).first()
        form = PhotoUploadForm(initial=initial, patient=patient)
        audit(request, "view", patient, summary="photo upload form")
        status = 200
    return render(
        request, "clinic/photos/upload.html", {"patient": patient, "form": form}, status=status
    )


def _grouped(photos) -> list[dict]:
    """Photos by area (knowledge-base order) and then by date."""
    order = list(knowledge().areas)
    by_area = sorted(
        photos, key=lambda p: (order.index(p.area) if p.area in order else 999, p.area)
    )
    groups = []
    for area, items in groupby(by_area, key=lambda p: p.area):
        items = sorted(items, key=lambda p: (p.taken_on, p.uploaded_at, p.pk))
        dates = [
            {"date": day, "photos": [{"photo": p, "alt": _label(p)} for p in ps]}
            for day, ps in groupby(items, key=lambda p: p.taken_on)
        ]
        groups.append(
            {
                "id": area,
                "name": _area_name(area),
                "dates": dates,
                "first": items[0],
                "last": items[-1],
                "count": len(items),
            }
        )
    return groups


@staff_required(CLINICAL)
def photo_list(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    audit(request, "view", patient, summary="photo list")
    groups = _grouped(patient.photos.all())
    return render(request, "clinic/photos/list.html", {"patient": patient, "groups": groups})


@staff_required(CLINICAL)
def photo_file(request, pk: int):
    photo = clinic_object(request, Photo, pk)
    thumb = request.GET.get("size") == "thumb"
    try:
        file_path = (
            photo_store.thumbnail(photo.storage_name)
            if thumb
            else photo_store.path_of(photo.storage_name)
        )
        handle = open(file_path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (OSError, ValueError):
        log.warning("photo %s: stored file missing or unreadable", photo.pk)
        raise Http404("photo file not found") from None
    audit(request, "view", photo, summary="photo thumbnail" if thumb else "photo file")
    content_type = "image/jpeg" if thumb else photo.content_type
    ext = "jpg" if content_type == "image/jpeg" else "png"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _pick(photos: dict[int, Photo], raw: str | None) -> Photo | None:
    return photos.get(int(raw)) if raw and raw.isdigit() else None


@staff_required(CLINICAL)
def photo_compare(request, patient_id: int):
    patient = clinic_patient(request, patient_id)
    photos = {p.pk: p for p in patient.photos.all()}
    ordered = sorted(photos.values(), key=lambda p: (p.area, p.taken_on, p.pk))
    a, b = _pick(photos, request.GET.get("a")), _pick(photos, request.GET.get("b"))
    errors = {}
    area = request.GET.get("area")
    if a is None and b is None and area:
        same = [p for p in ordered if p.area == area]
        if len(same) >= 2:
            a, b = same[0], same[-1]
    elif "a" in request.GET or "b" in request.GET:
        if a is None:
            errors["a"] = "choose one of this patient's photos"
        if b is None:
            errors["b"] = "choose one of this patient's photos"
        if a and b and a.area != b.area:
            errors["b"] = f"choose a photo of the same area as the first ({_area_name(a.area)})"
        if a and b and a.pk == b.pk:
            errors["b"] = "choose a different photo from the first"
    ready = bool(a and b and not errors)
    audit(request, "view", patient, summary="photo comparison")
    context = {
        "patient": patient,
        "choices": [(p.pk, _label(p)) for p in ordered],
        "a": a,
        "b": b,
        "a_label": _label(a) if a else "",
        "b_label": _label(b) if b else "",
        "ready": ready,
        "errors": errors,
    }
    return render(request, "clinic/photos/compare.html", context, status=400 if errors else 200)


urlpatterns = [
    path("patients/<int:patient_id>/photos/", photo_list, name="photo-list"),
    path("patients/<int:patient_id>/photos/upload/", photo_upload, name="photo-upload"),
    path("photos/<int:pk>/file", photo_file, name="photo-file"),
    path("patients/<int:patient_id>/photos/compare/", photo_compare, name="photo-compare"),
]
