"""The design-preservation check: a changed design is named, the same design after innocuous changes is not."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.jewellery.preservation import FLAG_BELOW, check_preservation
from tests.jewellery import ring_jpeg

WHITE = (214, 216, 220)


def _transformed(data: bytes, *, angle: float = 0.0, scale: float = 1.0, fmt: str = "PNG", quality: int = 90) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if angle or scale != 1.0:
        w, h = image.size
        image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(246, 245, 243))
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def reference() -> bytes:
    return ring_jpeg()


def test_the_same_design_is_kept_and_scores_high(reference):
    check = check_preservation([reference], _transformed(reference))
    assert check.score > 0.9 and not check.flagged and check.changes == []
    assert check.measures["stones_reference"] == check.measures["stones_output"] == 1


def test_a_small_rotation_scale_and_jpeg_are_not_a_change(reference):
    check = check_preservation([reference], _transformed(reference, angle=8, scale=1.12, fmt="JPEG", quality=60))
    assert not check.flagged, (check.score, check.changes, check.measures)


def test_a_missing_stone_is_named(reference):
    check = check_preservation([reference], ring_jpeg(stone=None))
    assert check.flagged and check.score < FLAG_BELOW
    assert "a stone is missing near the top" in check.changes, check.changes


def test_a_recoloured_stone_is_named(reference):
    check = check_preservation([reference], ring_jpeg(stone=(30, 60, 190)))
    assert check.flagged
    assert any("changed colour from red to blue" in change for change in check.changes), check.changes


def test_a_changed_metal_is_named(reference):
    check = check_preservation([reference], ring_jpeg(metal=WHITE))
    assert check.flagged
    assert "the metal colour changed from yellow gold to white" in check.changes, check.changes


def test_a_metal_variant_is_checked_against_the_metal_asked_for(reference):
    rose = check_preservation([reference], ring_jpeg(metal=(226, 160, 136)), metal="rose_gold")
    assert not rose.flagged, (rose.changes, rose.measures)
    check = check_preservation([reference], reference, metal="rose_gold")
    assert check.flagged and "the metal is yellow gold, not the rose gold asked for" in check.changes, check.changes


def test_a_changed_outline_says_where(reference):
    rgb = np.asarray(Image.open(io.BytesIO(reference)).convert("RGB")).copy()
    rgb[400:520, 100:260] = (246, 245, 243)  # the lower left of the band is gone
    check = check_preservation([reference], _transformed_array(rgb))
    assert check.flagged
    assert any(change.startswith("the outline changed near the bottom left") for change in check.changes), check.changes


def test_the_best_matching_reference_decides(reference):
    other = ring_jpeg(metal=WHITE, stone=None)
    check = check_preservation([other, reference], _transformed(reference))
    assert not check.flagged and check.measures["reference"] == 1


def test_refuses_no_reference_and_a_file_that_is_not_an_image(reference):
    with pytest.raises(ValueError):
        check_preservation([], reference)
    with pytest.raises(ValueError):
        check_preservation([reference], b"not an image")


def _transformed_array(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()
