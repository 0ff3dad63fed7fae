"""Shared helpers for the jewellery studio tests."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter

GOLD = (214, 172, 72)


def ring_jpeg(*, size: int = 640, metal=GOLD, stone=(190, 20, 35), angle_px: int = 0) -> bytes:
    """A simple ring photo: a shaded metal band with one coloured stone on a light backdrop."""
    image = Image.new("RGB", (size, size), (246, 245, 243))
    draw = ImageDraw.Draw(image)
    c, r = size // 2 + angle_px, size // 4
    for step in range(14, 0, -1):
        shade = tuple(min(255, int(channel * (0.75 + step / 40))) for channel in metal)
        draw.ellipse((c - r - step, c - r - step, c + r + step, c + r + step), outline=shade, width=3)
    draw.ellipse((c - r + 16, c - r + 16, c + r - 16, c + r - 16), fill=(246, 245, 243))
    if stone:
        draw.ellipse((c - 26, c - r - 40, c + 26, c - r + 12), fill=stone, outline=(90, 10, 15), width=2)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def ring_upload(name: str = "ring.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ring_jpeg(**kwargs), "image/jpeg")


ATTRIBUTES = {
    "type": {"value": "ring", "confidence": 0.9},
    "metal": {"value": "yellow_gold", "confidence": 0.8},
    "stones": [{"colour": "red", "count": 1, "cut": "round", "confidence": 0.7}],
    "stones_confidence": 0.7,
    "finish": {"value": "polished", "confidence": 0.6},
    "shots": [{"value": "packshot", "confidence": 0.9}, {"value": "packshot", "confidence": 0.9}],
}
