"""How the OpenAPI fuzzer makes files for the media types the upload operation documents.

A photo part is judged by its content, so "any bytes" is not a valid photo: without these strategies every
schema-valid upload the fuzzer sends would be random bytes, rightly refused. Invalid files are still sent in
its negative mode, where they must be refused with a documented 4xx.
"""

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image


@st.composite
def _images(draw, image_format: str) -> bytes:
    width = draw(st.integers(min_value=1, max_value=64))
    height = draw(st.integers(min_value=1, max_value=64))
    color = draw(st.tuples(*[st.integers(min_value=0, max_value=255)] * 3))
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, image_format)
    return buffer.getvalue()


# `files` is an array of parts, and a media type strategy stands for the whole property: it draws the list.
for _media_type, _format in (("image/jpeg", "JPEG"), ("image/png", "PNG"), ("image/webp", "WEBP")):
    schemathesis.openapi.media_type(_media_type, st.lists(_images(_format), min_size=1, max_size=3))
