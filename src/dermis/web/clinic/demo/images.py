"""Synthetic images for the demo: a drawn signature and skin-tone photos (no real person)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

# A plausible skin tone per Fitzpatrick phototype, so the photos match the record.
SKIN = {
    "I": (241, 214, 196),
    "II": (230, 190, 160),
    "III": (208, 160, 122),
    "IV": (176, 126, 90),
    "V": (132, 90, 62),
    "VI": (92, 62, 44),
}
PHOTO_SIZE = (480, 360)


def signature_png(rng: random.Random) -> bytes:
    """A small PNG of a pen stroke: loops along a baseline, different for every seed."""
    image = Image.new("RGB", (300, 90), "white")
    draw = ImageDraw.Draw(image)
    x, points = 16.0, []
    while x < 284:
        points.append((x, 45 + rng.uniform(-28, 28)))
        x += rng.uniform(8, 22)
    draw.line(points, fill=(20, 30, 80), width=3, joint="curve")
    draw.line([(20, 78), (280, 78)], fill=(170, 170, 170), width=1)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def skin_jpeg(
    label: str, phototype: str, stage: str, smoothing: float, rng: random.Random
) -> tuple[bytes, int, int]:
    """A soft skin-tone gradient with some texture and a caption; returns JPEG, width, height.

    `smoothing` (0-1) thins out the blemishes, so an "after" photo looks a little better.
    """
    width, height = PHOTO_SIZE
    tone = SKIN.get(phototype, SKIN["III"])
    shade = tuple(int(c * 0.82) for c in tone)
    gradient = Image.linear_gradient("L").resize(PHOTO_SIZE)
    image = Image.composite(
        Image.new("RGB", PHOTO_SIZE, tone), Image.new("RGB", PHOTO_SIZE, shade), gradient
    )
    draw = ImageDraw.Draw(image)
    blemish = tuple(int(c * 0.88) for c in tone)
    for _ in range(int(140 * (1 - smoothing))):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height - 50), rng.uniform(2, 7)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=blemish)
    image = image.filter(ImageFilter.GaussianBlur(2.5))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - 44, width, height), fill=(255, 255, 255))
    caption = f"{label} - {stage.replace('_', '-')} (demo image)"
    draw.text((12, height - 36), caption, fill=(30, 30, 30), font=ImageFont.load_default(size=20))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return out.getvalue(), width, height
