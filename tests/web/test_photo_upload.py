"""Photo upload: only real JPEG/PNG photos are kept, upright and with no metadata at all."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, PngImagePlugin

from dermis.web.clinic.models import AuditEvent, Photo

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION, DATETIME = 0x010F, 0x0110, 0x0112, 0x0132


@pytest.fixture(autouse=True)
def photo_root(settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    return settings.PHOTO_ROOT


def jpeg(size=(60, 40), exif: Image.Exif | None = None, **save) -> bytes:
    image = Image.new("RGB", size, (200, 150, 130))
    image.paste((20, 20, 160), (0, 0, size[0] // 3, size[1]))  # a dark band on the left edge
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif or Image.Exif(), **save)
    return out.getvalue()


def png(size=(30, 20), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 30, 255)).save(out, "PNG", **save)
    return out.getvalue()


def located_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Pocket Camera 9"
    exif[DATETIME] = "2026:11:20 10:00:00"
    exif[ORIENTATION] = 6  # stored sideways: rotate 90 degrees clockwise to view
    exif[GPS_IFD] = {1: "N", 2: (53.0, 48.0, 1.0), 3: "W", 4: (1.0, 32.0, 50.0)}
    return exif


def post(client, patient, data: bytes, name="photo.jpg", **fields):
    form = {
        "area": "cheeks",
        "stage": "before",
        "taken_on": timezone.localdate().isoformat(),
        "consent_for_record": "on",
        "file": SimpleUploadedFile(name, data, content_type="image/jpeg"),
    }
    form.update(fields)
    return client.post(reverse("photo-upload", args=[patient.pk]), form)


def stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_jpeg_is_stored_under_a_random_name_with_its_hash_size_and_dimensions(
    client_as, world, photo_root
):
    response = post(client_as("pat"), world.nora, jpeg(), name="nora-quinn-cheeks.jpg")
    assert response.status_code == 302
    photo = Photo.objects.get()
    (path,) = stored_files(photo_root)
    assert path.name == photo.storage_name and "nora" not in photo.storage_name
    data = path.read_bytes()
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.size_bytes, photo.width, photo.height) == (len(data), 60, 40)
    assert (photo.content_type, photo.area, photo.stage) == ("image/jpeg", "cheeks", "before")
    assert photo.uploaded_by == world.pat.user and photo.consent_for_record
    assert AuditEvent.objects.filter(action="create", object_type="Photo").exists()


def test_gps_camera_and_every_other_piece_of_metadata_is_removed_and_the_photo_is_upright(
    client_as, world, photo_root
):
    original = jpeg(exif=located_exif(), comment=b"taken at 12 Home Street")
    assert b"PhoneMaker" in original and b"Home Street" in original  # the test's own premise
    assert post(client_as("pat"), world.nora, original).status_code == 302
    (path,) = stored_files(photo_root)
    data = path.read_bytes()
    for secret in (b"Exif", b"PhoneMaker", b"Pocket Camera", b"2026:11:20", b"Home Street"):
        assert secret not in data
    with Image.open(path) as stored:
        assert not stored.getexif()
        assert not stored.info.get("exif") and "comment" not in stored.info
        assert "icc_profile" not in stored.info
        # orientation 6 applied: 60x40 sideways becomes 40x60, the dark band now on top
        assert stored.size == (40, 60)
        top, bottom = stored.getpixel((20, 2)), stored.getpixel((20, 57))
        assert top[2] > 120 and top[0] < 80
        assert bottom[0] > 150
    assert (Photo.objects.get().width, Photo.objects.get().height) == (40, 60)


def test_a_png_keeps_its_format_and_loses_its_text_chunks(client_as, world, photo_root):
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "53.8 N 1.5 W")
    response = post(client_as("pat"), world.nora, png(pnginfo=info), name="p.png")
    assert response.status_code == 302
    (path,) = stored_files(photo_root)
    assert b"Location" not in path.read_bytes()
    assert Photo.objects.get().content_type == "image/png"
    with Image.open(path) as stored:
        assert stored.format == "PNG" and stored.size == (30, 20)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims enormous dimensions: what a decompression bomb looks like at first."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"name,date of birth\nNora,1985-03-14\n", "notes.jpg", "is not a JPEG or PNG photo"),
        (jpeg(size=(400, 300))[:700], "cut.jpg", "is not a JPEG or PNG photo"),
        (SVG, "vector.png", "is not a JPEG or PNG photo"),
        (_gif(), "anim.jpg", "must be a JPEG or PNG photo, not GIF"),
        (_png_header_only(60_000, 60_000), "bomb.png", "megapixels"),
    ],
    ids=["renamed-text", "truncated", "svg", "gif", "decompression-bomb"],
)
def test_anything_but_a_sound_jpeg_or_png_is_refused_naming_the_field(
    client_as, world, photo_root, data, name, message
):
    response = post(client_as("pat"), world.nora, data, name=name)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_file">Photo</a>' in html and message in html
    assert not Photo.objects.exists()
    assert stored_files(photo_root) == []


@pytest.mark.parametrize(
    "options",
    [{"progressive": True}, {"optimize": True}, {"restart_marker_rows": 1}, {"subsampling": 0}],
    ids=["progressive", "optimized", "restart-markers", "no-subsampling"],
)
def test_ordinary_jpeg_variants_are_accepted(client_as, world, options):
    data = jpeg(size=(120, 90), exif=located_exif(), **options)
    assert post(client_as("pat"), world.nora, data).status_code == 302


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_a_cut_short_file_is_refused_even_when_pillow_is_told_to_tolerate_it(
    client_as, world, monkeypatch, kind
):
    """WeasyPrint switches Pillow's truncation check off for the whole process when imported."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    whole = jpeg(size=(300, 200)) if kind == "jpeg" else png(size=(300, 200))
    assert post(client_as("pat"), world.nora, whole).status_code == 302
    cut = whole[: len(whole) - 40]
    response = post(client_as("pat"), world.nora, cut, name=f"cut.{kind}")
    assert response.status_code == 400
    assert "is not a JPEG or PNG photo" in response.content.decode()
    assert Photo.objects.count() == 1


def test_the_pixel_cap_is_a_setting(client_as, world, settings):
    settings.PHOTO_MAX_PIXELS = 1000
    response = post(client_as("pat"), world.nora, jpeg(size=(50, 50)))
    assert response.status_code == 400 and "50 x 50 pixels" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused_with_the_limit(client_as, world, settings):
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    noisy = Image.effect_noise((1400, 1400), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=100)
    big = out.getvalue()
    assert len(big) > 1024 * 1024
    response = post(client_as("pat"), world.nora, big)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Photo</a>: is " in html and "the limit is 1.0 MB" in html
    assert not Photo.objects.exists()


def test_consent_a_future_date_and_a_missing_file_are_each_named(client_as, world):
    tomorrow = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()
    response = post(client_as("pat"), world.nora, jpeg(), consent_for_record="", taken_on=tomorrow)
    html = response.content.decode()
    assert response.status_code == 400
    assert "The patient agreed to this photo being kept in their record</a>: is required" in html
    assert "Date taken</a>: cannot be in the future" in html
    no_file = client_as("pat").post(
        reverse("photo-upload", args=[world.nora.pk]), {"area": "cheeks", "stage": "before"}
    )
    assert no_file.status_code == 400 and "Photo</a>: This field is required" in (
        no_file.content.decode()
    )
    assert not Photo.objects.exists()


def test_a_photo_can_belong_to_one_of_the_patients_sessions_only(client_as, world):
    from dermis.web.clinic.models import TreatmentSession

    theirs = TreatmentSession.objects.create(
        patient=world.rhys, practitioner=world.oscar, modality="microneedling", device="x"
    )
    response = post(client_as("pat"), world.nora, jpeg(), session=str(theirs.pk))
    assert response.status_code == 400 and "Session (optional)</a>" in response.content.decode()
    assert not Photo.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("fran", 403), ("oscar", 404), ("nobody", 403)])
def test_only_clinical_staff_of_the_clinic_may_upload(
    client_as, world, photo_root, persona, status
):
    c = client_as(persona)
    assert c.get(reverse("photo-upload", args=[world.nora.pk])).status_code == status
    assert post(c, world.nora, jpeg()).status_code == status
    assert not Photo.objects.exists() and stored_files(photo_root) == []


def test_anonymous_upload_goes_to_the_login_page(client_as, world):
    response = post(client_as("anonymous"), world.nora, jpeg())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
