"""Downscaled copies of a (clean, already ingested) image for lists and pages. Pure: no Django.

Reached through the package: ``from intaglio.imaging import render_rendition, open_clean_image``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from intaglio.imaging.ingest import encode_jpeg
from intaglio.imaging.memory import decode_memory_bytes, image_memory_budget, reserve_decode

__all__ = [
    "THUMBNAIL_EDGE",
    "WEB_PREVIEW_EDGE",
    "Rendition",
    "open_clean_image",
    "render_rendition",
    "render_renditions",
    "rendition_size",
]

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


def rendition_size(size: tuple[int, int], longest_edge: int) -> tuple[int, int]:
    """The size `render_rendition` gives an image of ``size``: Pillow's ``thumbnail`` rounding, never upscaled.

    Parameters
    ----------
    size : (int, int)
        Width and height of the image.
    longest_edge : int
        Maximum size of the longer side.

    Returns
    -------
    (int, int)
        Width and height of the rendition.
    """
    width, height = size
    if width <= longest_edge and height <= longest_edge:
        return size
    aspect = width / height
    if aspect >= 1:
        x = longest_edge
        y = _round_aspect(x / aspect, lambda n: 0 if n == 0 else abs(aspect - x / n))
    else:
        y = longest_edge
        x = _round_aspect(y * aspect, lambda n: abs(aspect - n / y))
    return x, y


def _round_aspect(number: float, key) -> int:
    return max(min(math.floor(number), math.ceil(number), key=key), 1)


def render_rendition(image: Image.Image, *, longest_edge: int, quality: int) -> Rendition:
    """A JPEG no larger than `longest_edge` on its longer side (never upscaled), alpha flattened onto white.

    Parameters
    ----------
    image : PIL.Image.Image
        A clean image, e.g. from `open_clean_image`. It is not modified, nor copied at full size: the downscale
        reads it and makes a small image.
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
    size = rendition_size(image.size, longest_edge)
    small = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if small.mode in ("RGBA", "LA", "P"):
        rgba = small.convert("RGBA")
        small = Image.new("RGB", small.size, (255, 255, 255))
        small.paste(rgba, mask=rgba.getchannel("A"))
    elif small.mode != "RGB":
        small = small.convert("RGB")
    return Rendition(encode_jpeg(small, quality=quality, progressive=True), small.width, small.height)


def render_renditions(data: bytes, specs: Sequence[tuple[int, int]]) -> list[Rendition]:
    """Every rendition of an ingested image from one decode, under the process's image memory budget.

    The decode is priced from the header (the decoded pixels and the downscale's intermediate) and held from
    ``imaging.memory``'s budget while it runs; a JPEG is decoded at reduced size (DCT scaling) when the largest
    rendition is much smaller than the photo.

    Parameters
    ----------
    data : bytes
        An ingested JPEG or PNG (``IngestedImage.data``).
    specs : sequence of (int, int)
        ``(longest_edge, quality)`` of each rendition, as for `render_rendition`.

    Returns
    -------
    list of Rendition
        One per spec, in order.

    Raises
    ------
    ImageMemoryRefused
        If the decode would need more than the whole budget.
    ImageMemoryBusy
        If the budget stayed spent by other work for too long.
    """
    edge = max(longest for longest, _ in specs)
    draft = ("RGB", (edge, edge))
    with reserve_decode(data, into=[_DOWNSCALE_BYTES], draft=draft):
        image = open_clean_image(data, draft=draft)
        try:
            return [render_rendition(image, longest_edge=longest, quality=quality) for longest, quality in specs]
        finally:
            image.close()


# Per source pixel: the downscale's reduced intermediate (a quarter of the pixels, four bytes each) and the decoder's
# own buffers.
_DOWNSCALE_BYTES = 2


def open_clean_image(data: bytes, *, draft: tuple[str, tuple[int, int]] | None = None) -> Image.Image:
    """Opens bytes that ingest already produced (JPEG or PNG); decoding is bounded by ingest's limits.

    Only pass the output of `intaglio.imaging.ingest_image` (``IngestedImage.data``): this function does no
    validation of its own, it relies on ingest having checked the type and pixel count. Its memory is refused
    when over the process's whole image budget (``imaging.memory``); `render_renditions` also holds it.

    Parameters
    ----------
    data : bytes
        An ingested JPEG or PNG.
    draft : (str, (int, int)) or None, optional
        Passed to Pillow's ``draft`` before decoding: a JPEG then decodes at 1/2, 1/4 or 1/8 of its size, never
        below the size asked for.

    Returns
    -------
    PIL.Image.Image
        The image, fully loaded (its pixels are decoded, so the buffer can be dropped).

    Raises
    ------
    ImageMemoryRefused
        If the decoded image alone would need more than the whole budget.
    PIL.UnidentifiedImageError
        If `data` is not an image Pillow can open.
    OSError
        If the image is truncated or damaged.
    """
    image_memory_budget().check(decode_memory_bytes(data, draft=draft))
    image = Image.open(io.BytesIO(data))
    if draft is not None and image.format == "JPEG":
        image.draft(*draft)
    image.load()
    return image
