"""A photo's pixels are capped from its header, before anything is decoded, on both doors."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFile

from dermis.web.clinic.charting import photos
from dermis.web.clinic.models import Photo

WIDTH, HEIGHT = 7800, 5000  # 39 megapixels


@pytest.fixture(autouse=True)
def photo_root(settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return settings.PHOTO_ROOT


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """A real, complete 39-megapixel PNG that is small on disk (one colour compresses well)."""
    out = io.BytesIO()
    Image.new("1", (WIDTH, HEIGHT), 1).save(out, "PNG")
    data = out.getvalue()
    assert len(data) < 200_000
    return data


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any image's pixels are decoded."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image.Image, "load", refuse)


def _form(data: bytes) -> dict:
    return {
        "area": "cheeks",
        "stage": "before",
        "taken_on": timezone.localdate().isoformat(),
        "consent_for_record": "on",
        "file": SimpleUploadedFile("big.png", data, content_type="image/png"),
    }


def test_the_default_cap_refuses_39_megapixels_and_keeps_a_24_megapixel_camera():
    assert 24_000_000 <= photos.DEFAULT_MAX_PIXELS < WIDTH * HEIGHT
    assert Image.MAX_IMAGE_PIXELS <= photos.DEFAULT_MAX_PIXELS


def test_a_39_megapixel_png_is_refused_on_the_web_before_it_is_decoded(
    client_as, world, big_png, no_decoding, photo_root
):
    url = reverse("photo-upload", args=[world.nora.pk])
    response = client_as("pat").post(url, _form(big_png))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_file">Photo</a>' in html
    assert f"is {WIDTH} x {HEIGHT} pixels; the limit is 25 megapixels" in html
    assert not Photo.objects.exists()
    assert not photo_root.exists() or not any(photo_root.rglob("*.png"))


def test_a_39_megapixel_png_is_refused_by_the_api_before_it_is_decoded(
    world, token_for, big_png, no_decoding
):
    from django.test import Client

    form = _form(big_png)
    form["consent_for_record"] = "true"
    response = Client().post(
        f"/api/v1/patients/{world.nora.pk}/photos",
        form,
        headers={"Authorization": f"Bearer {token_for('pat')}"},
    )
    assert response.status_code == 422, response.content  # the API's status for a field error
    error = response.json()["errors"][0]
    assert error == {
        "field": "body.file",
        "message": f"is {WIDTH} x {HEIGHT} pixels; the limit is 25 megapixels",
    }
    assert not Photo.objects.exists()
