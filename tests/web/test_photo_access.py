"""Photo files reach only clinical staff of the patient's clinic, never a cache or a static URL."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from dermis.web.clinic.charting import photos as photo_store
from dermis.web.clinic.models import AuditEvent, Photo


@pytest.fixture(autouse=True)
def photo_root(settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return settings.PHOTO_ROOT


def add_photo(
    world, patient, area="cheeks", taken_on=date(2026, 1, 5), stage="before", size=(800, 600)
):
    image = Image.new("RGB", size, (180, 140, 120))
    out = io.BytesIO()
    image.save(out, "JPEG")
    stored = photo_store.store_upload(SimpleUploadedFile("x.jpg", out.getvalue()))
    return Photo.objects.create(
        patient=patient,
        area=area,
        stage=stage,
        taken_on=taken_on,
        storage_name=stored.storage_name,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by=world.pat.user,
    )


@pytest.fixture
def photo(world):
    return add_photo(world, world.nora)


@pytest.mark.parametrize("persona", ["pat", "alice"])
def test_clinical_staff_get_the_file_uncached_with_its_type_and_an_audit_entry(
    client_as, world, photo, persona
):
    response = client_as(persona).get(reverse("photo-file", args=[photo.pk]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert body == photo_store.path_of(photo.storage_name).read_bytes()
    event = AuditEvent.objects.get(action="view", object_type="Photo")
    assert event.user == world.user(persona) and event.object_id == str(photo.pk)
    assert event.patient_id_ref == world.nora.pk


@pytest.mark.parametrize(("persona", "status"), [("fran", 403), ("nobody", 403), ("oscar", 404)])
def test_front_desk_and_other_clinics_never_get_the_file(client_as, photo, persona, status):
    for suffix in ("", "?size=thumb"):
        response = client_as(persona).get(reverse("photo-file", args=[photo.pk]) + suffix)
        assert response.status_code == status
    assert not AuditEvent.objects.filter(action="view", object_type="Photo").exists()


def test_anonymous_is_sent_to_log_in(client_as, photo):
    response = client_as("anonymous").get(reverse("photo-file", args=[photo.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_thumbnail_is_a_small_jpeg_served_the_same_way(client_as, photo, photo_root):
    response = client_as("pat").get(reverse("photo-file", args=[photo.pk]) + "?size=thumb")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    with Image.open(io.BytesIO(body)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == photo_store.THUMB_PX
    assert AuditEvent.objects.get(object_type="Photo").summary == "photo thumbnail"


def test_a_missing_file_is_a_404_not_a_traceback(client_as, photo):
    photo_store.path_of(photo.storage_name).unlink()
    assert client_as("pat").get(reverse("photo-file", args=[photo.pk])).status_code == 404


def test_photo_files_live_outside_every_static_or_media_location(client_as, photo, photo_root):
    root = Path(django_settings.PHOTO_ROOT).resolve()
    for served in (django_settings.STATIC_ROOT, getattr(django_settings, "MEDIA_ROOT", "")):
        if served:
            assert not root.is_relative_to(Path(served).resolve())
    for finder_dir in finders.get_finder(
        "django.contrib.staticfiles.finders.AppDirectoriesFinder"
    ).storages.values():
        assert not root.is_relative_to(Path(finder_dir.location).resolve())
    assert finders.find(photo.storage_name) is None
    c = client_as("pat")
    for prefix in ("/static/", "/media/", "/photos/", "/"):
        assert c.get(prefix + photo.storage_name).status_code == 404
    # the default location is outside the static root too
    default = Path(django_settings.DATA_DIR) / "photos"
    assert not default.resolve().is_relative_to(Path(django_settings.STATIC_ROOT).resolve())


def test_pages_never_reveal_the_storage_name(client_as, world, photo):
    c = client_as("pat")
    for url in (
        reverse("photo-list", args=[world.nora.pk]),
        reverse("photo-compare", args=[world.nora.pk]) + f"?a={photo.pk}&b={photo.pk}",
    ):
        assert photo.storage_name not in c.get(url).content.decode()


def test_the_list_groups_photos_by_area_then_date(client_as, world):
    add_photo(world, world.nora, "forehead", date(2026, 3, 1), "follow_up")
    add_photo(world, world.nora, "cheeks", date(2026, 3, 1), "after")
    add_photo(world, world.nora, "cheeks", date(2026, 1, 5), "before")
    add_photo(world, world.rhys, "cheeks", date(2026, 2, 1))
    response = client_as("pat").get(reverse("photo-list", args=[world.nora.pk]))
    html = response.content.decode()
    # knowledge-base order (forehead before cheeks), then date within an area
    assert html.index('id="area-forehead"') < html.index('id="area-cheeks"')
    cheeks = html[html.index('id="area-cheeks"') :]
    assert cheeks.index("5 January 2026") < cheeks.index("1 March 2026")
    assert "1 February 2026" not in html  # Rhys's photo is another clinic's
    assert "Compare first and latest" in cheeks
    assert AuditEvent.objects.filter(action="view", summary="photo list").count() == 1


def test_compare_shows_two_photos_of_one_area_side_by_side_and_with_a_labelled_slider(
    client_as, world
):
    first = add_photo(world, world.nora, "cheeks", date(2026, 1, 5), "before")
    later = add_photo(world, world.nora, "cheeks", date(2026, 4, 5), "follow_up")
    url = reverse("photo-compare", args=[world.nora.pk])
    response = client_as("pat").get(url + f"?a={first.pk}&b={later.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    for p in (first, later):
        assert reverse("photo-file", args=[p.pk]) in html
    assert '<label for="compare-range">' in html and 'type="range" id="compare-range"' in html
    assert "compare.js" in html
    assert AuditEvent.objects.filter(summary="photo comparison").exists()
    by_area = client_as("pat").get(url + "?area=cheeks").content.decode()
    assert f'src="{reverse("photo-file", args=[later.pk])}"' in by_area


def test_compare_refuses_two_areas_or_another_clinics_photo(client_as, world):
    cheeks = add_photo(world, world.nora, "cheeks")
    chin = add_photo(world, world.nora, "chin")
    theirs = add_photo(world, world.rhys, "cheeks")
    url = reverse("photo-compare", args=[world.nora.pk])
    c = client_as("pat")
    mixed = c.get(url + f"?a={cheeks.pk}&b={chin.pk}")
    assert mixed.status_code == 400
    assert "Second photo</a>: choose a photo of the same area as the first (Cheeks)" in (
        mixed.content.decode()
    )
    foreign = c.get(url + f"?a={cheeks.pk}&b={theirs.pk}")
    assert foreign.status_code == 400
    assert reverse("photo-file", args=[theirs.pk]) not in foreign.content.decode()


@pytest.mark.parametrize(("persona", "status"), [("fran", 403), ("oscar", 404)])
def test_list_and_compare_are_refused_outside_clinical_staff_of_the_clinic(
    client_as, world, persona, status
):
    for name in ("photo-list", "photo-compare"):
        assert client_as(persona).get(reverse(name, args=[world.nora.pk])).status_code == status


def test_the_record_page_shows_thumbnails_and_links_for_clinical_staff_only(world, client_as):
    first = add_photo(world, world.nora, "cheeks", date(2026, 1, 5))
    add_photo(world, world.nora, "cheeks", date(2026, 4, 5), "follow_up")
    record = reverse("patient-detail", args=[world.nora.pk])
    html = client_as("pat").get(record).content.decode()
    assert f'src="{reverse("photo-file", args=[first.pk])}?size=thumb"' in html
    assert 'alt="Cheeks, before, 05 Jan 2026"' in html
    assert reverse("photo-upload", args=[world.nora.pk]) in html
    assert reverse("photo-compare", args=[world.nora.pk]) + "?area=cheeks" in html
    hidden = client_as("fran").get(record).content.decode()
    assert reverse("photo-file", args=[first.pk]) not in hidden
    assert reverse("photo-upload", args=[world.nora.pk]) not in hidden
