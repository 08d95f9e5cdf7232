"""Clinical photos: prove an upload is a JPEG or PNG, strip it, store it outside any web root.

An upload is decoded in full with Pillow (a renamed text file, an SVG, a GIF or a truncated file
is refused), capped in pixels from its header before any pixel is decoded (decompression bombs:
a small PNG can claim tens of megapixels and take hundreds of megabytes to decode), turned
upright from its EXIF
orientation, converted to sRGB, and re-encoded with no metadata at all: no GPS position, camera,
time, comment or colour profile leaves the clinic's server with a photo. The stored file gets a
random name; the uploaded name is never used.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from dermis.core.errors import InputError

log = logging.getLogger(__name__)

# 25 MP: a 24-megapixel camera or a phone's full-resolution photo fits; decoding one in RGB takes
# about 75 MB. A 39-megapixel PNG (about 120 MB decoded, a few hundred while re-encoding) does not.
DEFAULT_MAX_PIXELS = 25_000_000
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
THUMB_PX = 480
NAME = re.compile(r"^[0-9a-f]{16,64}\.(jpg|png)$")  # ours: 40 hex digits


@dataclass(frozen=True)
class StoredPhoto:
    storage_name: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str


def photo_root() -> Path:
    return Path(settings.PHOTO_ROOT)


def max_pixels() -> int:
    return int(getattr(settings, "PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS))


# Every Image.open in the process (thumbnails, PDFs) is bounded too: Pillow warns above this and
# refuses at twice it, before decoding.
Image.MAX_IMAGE_PIXELS = max(max_pixels(), DEFAULT_MAX_PIXELS)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _read(upload, field: str) -> bytes:
    limit = settings.PHOTO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise InputError(field, f"is {_megabytes(size)}; the limit is {_megabytes(limit)}")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InputError(field, f"is larger than the limit of {_megabytes(limit)}")
    if not data:
        raise InputError(field, "is empty")
    return data


def _jpeg_complete(data: bytes) -> bool:
    """Whether a JPEG's segments run, in order, to its end-of-image marker (not cut short)."""
    n, i = len(data), 2
    if data[:2] != b"\xff\xd8":
        return False
    while i + 2 <= n:
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xD9:
            return True
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 1 if marker == 0xFF else 2  # fill byte, or a marker without a length
            continue
        if i + 4 > n:
            return False
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if marker == 0xDA:  # start of scan: coded data runs to the next real marker
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return False
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i = j + 2  # a stuffed 0xFF byte or a restart marker: still in the scan
                elif following == 0xFF:
                    i = j + 1
                else:
                    i = j
                    break
    return False


def _complete(data: bytes, fmt: str) -> bool:
    # Pillow's own check is off for the whole process once WeasyPrint is imported (it sets
    # ImageFile.LOAD_TRUNCATED_IMAGES), so a cut-short file is detected here instead.
    if fmt == "JPEG":
        return _jpeg_complete(data)
    try:
        with Image.open(io.BytesIO(data)) as png:
            png.verify()  # every chunk's checksum, through to IEND
    except (OSError, SyntaxError, ValueError, EOFError):
        return False
    return True


def _decode(data: bytes, field: str) -> tuple[Image.Image, str]:
    """The fully decoded image and its format; InputError for anything but a sound JPEG/PNG."""
    refuse = InputError(field, "is not a JPEG or PNG photo (or the file is damaged)")
    with warnings.catch_warnings():
        # Pillow's own warning would stop Image.open before the size is known; the check below
        # refuses the same images with their dimensions (its error, at twice the limit, stays).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only: nothing decoded yet
            fmt = image.format
            if fmt not in FORMATS:
                raise InputError(field, f"must be a JPEG or PNG photo, not {fmt or 'unknown'}")
            width, height = image.size
            if width * height > max_pixels():
                raise InputError(
                    field,
                    f"is {width} x {height} pixels; the limit is {max_pixels() // 1_000_000} "
                    "megapixels",
                )
            if not _complete(data, fmt):
                raise refuse
            image.load()  # decodes everything: a corrupt file fails here
        except InputError:
            raise
        except Image.DecompressionBombError:
            limit = max_pixels() // 1_000_000
            raise InputError(
                field, f"has too many pixels (the limit is {limit} megapixels)"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise refuse from None
    return image, fmt


def _to_srgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(image, source, srgb, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are


def clean_image(data: bytes, field: str = "file") -> tuple[bytes, str, int, int]:
    """(re-encoded bytes, format, width, height) of a validated, upright, metadata-free image."""
    image, fmt = _decode(data, field)
    try:
        image = ImageOps.exif_transpose(image)
        if fmt == "JPEG":
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
        elif image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        image = _to_srgb(image)
        # A fresh image from the pixels alone: nothing of the original's info (EXIF, XMP,
        # comments, text chunks, ICC) can be carried into the saved file by Pillow's encoders.
        clean = Image.frombytes(image.mode, image.size, image.tobytes())
        out = io.BytesIO()
        if fmt == "JPEG":
            clean.save(out, "JPEG", quality=92, optimize=True)
        else:
            clean.save(out, "PNG", optimize=True)
    except (OSError, ValueError):
        raise InputError(field, "could not be processed as a photo") from None
    return out.getvalue(), fmt, clean.width, clean.height


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_upload(upload, field: str = "file") -> StoredPhoto:
    """Validate, clean and store an uploaded file; InputError(field, ...) when it is refused."""
    data, fmt, width, height = clean_image(_read(upload, field), field)
    content_type, ext = FORMATS[fmt]
    name = f"{secrets.token_hex(20)}.{ext}"
    _write(photo_root() / name, data)
    return StoredPhoto(
        name, content_type, width, height, len(data), hashlib.sha256(data).hexdigest()
    )


def path_of(storage_name: str) -> Path:
    """The file of a stored photo; refuses anything that is not one of our random names."""
    if not NAME.match(storage_name):
        raise ValueError("not a photo storage name")
    return photo_root() / storage_name


def discard(storage_name: str) -> None:
    """Remove a stored file whose database row was never written."""
    try:
        path_of(storage_name).unlink(missing_ok=True)
        thumb_path(storage_name).unlink(missing_ok=True)
    except (ValueError, OSError):
        log.warning("could not remove an orphaned photo file")


def thumb_path(storage_name: str) -> Path:
    return photo_root() / "thumbs" / (Path(storage_name).stem + ".jpg")


def thumbnail(storage_name: str) -> Path:
    """A small JPEG of the photo for lists, made on first use and kept next to it."""
    target = thumb_path(storage_name)
    if target.exists():
        return target
    with Image.open(path_of(storage_name)) as image:
        image.thumbnail((THUMB_PX, THUMB_PX))
        if image.mode != "RGB":
            background = Image.new("RGB", image.size, "white")
            background.paste(image, mask=image.getchannel("A") if "A" in image.mode else None)
            image = background
        out = io.BytesIO()
        image.save(out, "JPEG", quality=82)
    _write(target, out.getvalue())
    return target
