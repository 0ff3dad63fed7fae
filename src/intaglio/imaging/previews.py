"""Downscaled copies of a (clean, already ingested) image for lists and pages. Pure: no Django."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

THUMBNAIL_EDGE = 320
WEB_PREVIEW_EDGE = 1600


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int
    mime: str = "image/jpeg"


def render_rendition(image: Image.Image, *, longest_edge: int, quality: int) -> Rendition:
    """A JPEG no larger than `longest_edge` on its longer side (never upscaled), alpha flattened onto white."""
    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if copy.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", copy.size, (255, 255, 255))
        background.paste(copy.convert("RGBA"), mask=copy.convert("RGBA").getchannel("A"))
        copy = background
    elif copy.mode != "RGB":
        copy = copy.convert("RGB")
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return Rendition(out.getvalue(), copy.width, copy.height)


def open_clean_image(data: bytes) -> Image.Image:
    """Opens bytes that ingest already produced (JPEG or PNG); decoding is bounded by ingest's limits."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
