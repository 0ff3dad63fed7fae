"""The IPTC digital source type written into JPEG, PNG and WebP files: read back by Pillow (an independent reader),
the pixels untouched, an earlier XMP packet replaced rather than doubled."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from intaglio.imaging import COMPOSITE_SYNTHETIC, TRAINED_ALGORITHMIC_MEDIA, with_source_type

PIXELS = (np.random.default_rng(3).random((40, 60, 3)) * 255).astype("uint8")


def _encode(fmt: str, mode: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(PIXELS).convert(mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def _xmp(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    return packet.decode() if isinstance(packet, bytes) else packet


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA"))


CASES = [
    ("JPEG", "RGB", "image/jpeg", {}),
    ("JPEG", "RGB", "image/jpeg", {"xmp": b"<x:xmpmeta>old packet</x:xmpmeta>", "exif": b"Exif\x00\x00MM\x00*"}),
    ("PNG", "RGB", "image/png", {}),
    ("PNG", "RGBA", "image/png", {}),
    ("WEBP", "RGB", "image/webp", {"quality": 80}),  # simple lossy (VP8)
    ("WEBP", "RGBA", "image/webp", {"lossless": True}),  # simple lossless with alpha (VP8L)
    ("WEBP", "RGB", "image/webp", {"quality": 80, "exif": b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00"}),  # VP8X
]


@pytest.mark.parametrize(("fmt", "mode", "mime", "options"), CASES)
def test_the_source_type_is_written_once_and_the_pixels_stay(fmt, mode, mime, options):
    original = _encode(fmt, mode, **options)
    once = with_source_type(original, mime, COMPOSITE_SYNTHETIC)
    assert f">{COMPOSITE_SYNTHETIC}<" in _xmp(once)
    again = with_source_type(once, mime, TRAINED_ALGORITHMIC_MEDIA)
    packet = _xmp(again)
    assert packet.count("DigitalSourceType>") == 2  # one element, opened and closed: the first packet is gone
    assert f">{TRAINED_ALGORITHMIC_MEDIA}<" in packet and "old packet" not in packet
    assert np.array_equal(_pixels(again), _pixels(original))


def test_a_file_that_is_not_what_it_says_is_refused():
    with pytest.raises(ValueError):
        with_source_type(_encode("PNG", "RGB"), "image/jpeg", COMPOSITE_SYNTHETIC)
    with pytest.raises(ValueError):
        with_source_type(b"GIF89a", "image/gif", COMPOSITE_SYNTHETIC)
