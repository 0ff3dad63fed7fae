"""Downscaled copies of a (clean, already ingested) image for lists and pages. Pure: no Django.

Reached through the package: ``from intaglio.imaging import render_rendition, open_clean_image``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from intaglio.imaging.ingest import encode_jpeg

__all__ = ["THUMBNAIL_EDGE", "WEB_PREVIEW_EDGE", "Rendition", "open_clean_image", "render_rendition"]

#: Longest edge, in pixels, of the thumbnail shown in lists.
THUMBNAIL_EDGE = 320
#: Longest edge, in pixels, of the preview shown on a page.
WEB_PREVIEW_EDGE = 1600


@dataclass(frozen=True)
class Rendition:
    """An encoded downscaled copy of an image, as made by `render_rendition`.

    Parameters
    ----------
    data : bytes
        The encoded image.
    width, height : int
        Its size in pixels.
    mime : str, optional
        Its media type; ``"image/jpeg"`` (the only format `render_rendition` writes).
    """

    data: bytes
    width: int
    height: int
    mime: str = "image/jpeg"


def render_rendition(image: Image.Image, *, longest_edge: int, quality: int) -> Rendition:
    """A JPEG no larger than `longest_edge` on its longer side (never upscaled), alpha flattened onto white.

    Parameters
    ----------
    image : PIL.Image.Image
        A clean image, e.g. from `open_clean_image`. It is not modified (the work is done on a copy).
    longest_edge : int
        Maximum size, in pixels, of the longer side (e.g. `THUMBNAIL_EDGE` or `WEB_PREVIEW_EDGE`). A smaller
        image keeps its size.
    quality : int
        JPEG quality, 1..95.

    Returns
    -------
    Rendition
        The progressive, optimised RGB JPEG and its size.
    """
    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if copy.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", copy.size, (255, 255, 255))
        background.paste(copy.convert("RGBA"), mask=copy.convert("RGBA").getchannel("A"))
        copy = background
    elif copy.mode != "RGB":
        copy = copy.convert("RGB")
    return Rendition(encode_jpeg(copy, quality=quality, progressive=True), copy.width, copy.height)


def open_clean_image(data: bytes) -> Image.Image:
    """Opens bytes that ingest already produced (JPEG or PNG); decoding is bounded by ingest's limits.

    Only pass the output of `intaglio.imaging.ingest_image` (``IngestedImage.data``): this function does no
    validation of its own, it relies on ingest having checked the type and pixel count.

    Parameters
    ----------
    data : bytes
        An ingested JPEG or PNG.

    Returns
    -------
    PIL.Image.Image
        The image, fully loaded (its pixels are decoded, so the buffer can be dropped).

    Raises
    ------
    PIL.UnidentifiedImageError
        If `data` is not an image Pillow can open.
    OSError
        If the image is truncated or damaged.
    """
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
