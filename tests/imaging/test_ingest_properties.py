"""No legitimate image makes ingest or its renditions fail: every generated file is either stored (and renders its
thumbnail and web picture) or refused with an IngestError that says why. Never another exception, which the
platform would answer with a 500 and a useless "please retry"."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from intaglio.imaging import (
    THUMBNAIL_EDGE,
    WEB_PREVIEW_EDGE,
    IngestError,
    encode_jpeg,
    ingest_image,
    open_clean_image,
    render_rendition,
)

MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F")
# What each format can store (Pillow's writers), so a case is a file a camera, scanner or editor could make.
WRITABLE = {
    "JPEG": {"L", "RGB", "CMYK"},
    "PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"},
    "WEBP": {"RGB", "RGBA"},
    "TIFF": {"1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"},
}


def pixels(rng: np.random.Generator, size: tuple[int, int], noise: float, smooth: bool) -> np.ndarray:
    """An RGB picture between a smooth gradient and pure noise (film grain, sensor noise, a scan of paper)."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / max(width - 1, 1), y * 255 / max(height - 1, 1), (x + y) % 256], axis=-1)
    if not smooth:
        base = np.full_like(base, 128.0)
    grain = rng.normal(0, 255 * noise, (height, width, 3))
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def encoded(rgb: np.ndarray, *, mode: str, fmt: str, quality: int, subsampling: int, bits16: bool) -> bytes:
    image = Image.fromarray(rgb)
    if mode in ("I;16", "I") and bits16:
        image = Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)  # 16-bit grey, as scanners write it
        if mode == "I":
            image = image.convert("I")
    elif mode == "F":
        image = Image.fromarray(rgb[..., 0].astype(np.float32) / 255.0)
    else:
        image = image.convert(mode if mode not in ("I;16", "I") else "L")
    buffer = io.BytesIO()
    options = {"JPEG": {"quality": quality, "subsampling": subsampling}, "WEBP": {"quality": quality}}.get(fmt, {})
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@st.composite
def image_files(draw):
    fmt = draw(st.sampled_from(sorted(WRITABLE)))
    mode = draw(st.sampled_from([m for m in MODES if m in WRITABLE[fmt]]))
    size = (draw(st.integers(1, 640)), draw(st.integers(1, 480)))
    rgb = pixels(
        np.random.default_rng(draw(st.integers(0, 2**32 - 1))),
        size,
        noise=draw(st.sampled_from([0.0, 0.02, 0.1, 0.3, 1.0])),
        smooth=draw(st.booleans()),
    )
    return encoded(
        rgb,
        mode=mode,
        fmt=fmt,
        quality=draw(st.sampled_from([50, 75, 90, 95, 100])),
        subsampling=draw(st.sampled_from([0, 1, 2])),
        bits16=draw(st.booleans()),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=image_files())
def test_any_image_is_stored_and_rendered_or_refused_with_a_reason(data):
    try:
        stored = ingest_image(data)
    except IngestError as refusal:
        assert refusal.code and refusal.message  # a reason a person can read, never a crash
        return
    clean = open_clean_image(stored.data)
    for edge, quality in ((WEB_PREVIEW_EDGE, 85), (THUMBNAIL_EDGE, 82)):
        rendition = render_rendition(clean, longest_edge=edge, quality=quality)
        assert max(rendition.width, rendition.height) <= edge
        assert Image.open(io.BytesIO(rendition.data)).format == "JPEG"


def grainy(width: int, height: int, *, quality: int, subsampling: int) -> bytes:
    noise = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    return buffer.getvalue()


@pytest.mark.parametrize("quality", [92, 95, 100])
def test_a_grainy_photo_at_high_quality_with_full_colour_is_stored(quality):
    """The case that failed: Pillow's one-shot buffer for optimised JPEGs holds one byte per pixel, and film grain
    at quality 95 with 4:4:4 colour needs more (an 800 × 600 photo gave "broken data stream")."""
    data = grainy(800, 600, quality=quality, subsampling=0)
    assert len(data) > 800 * 600  # more than Pillow's guess, or this test proves nothing
    stored = ingest_image(data)
    assert (stored.width, stored.height) == (800, 600)
    web = render_rendition(open_clean_image(stored.data), longest_edge=WEB_PREVIEW_EDGE, quality=85)
    assert (web.width, web.height) == (800, 600)


def test_encode_jpeg_writes_optimised_files_when_they_fit():
    smooth = Image.fromarray(pixels(np.random.default_rng(1), (400, 300), noise=0.0, smooth=True))
    optimised, baseline = encode_jpeg(smooth, quality=85), io.BytesIO()
    smooth.save(baseline, "JPEG", quality=85)
    assert len(optimised) < len(baseline.getvalue())
