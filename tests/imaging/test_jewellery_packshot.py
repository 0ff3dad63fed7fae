"""intaglio.imaging.jewellery.packshot: deterministic studio packshots and metal recolouring."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.jewellery.packshot import ASPECT_RATIOS, frame_size, recolour_metal, render_packshot
from tests.imaging.test_jewellery_analysis import JS, jpeg


def sample(seed=0, **fields):
    spec = JS.Spec(**{"finish": "polished", "width": 480, "height": 480, **fields})
    return JS.render_sample_with_masks(spec, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def ring_jpeg() -> bytes:
    rgb, _, _ = sample(1, type="ring", metal="yellow_gold", stones="blue", shot="packshot", variant="solitaire")
    return jpeg(rgb)


def decode(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    return np.asarray(im.convert("RGB"))


def render(refs, **kw):
    args = {"aspect_ratio": "1:1", "metal": None, "backdrop": "white", "seed": 1, "long_edge": 384}
    return render_packshot(refs, **{**args, **kw})


def test_same_seed_same_bytes_other_seed_other_bytes(ring_jpeg):
    first = render([ring_jpeg], seed=7)
    assert render([ring_jpeg], seed=7) == first
    other = render([ring_jpeg], seed=8)
    assert other != first
    # a variant differs a little, not wholesale
    diff = np.abs(decode(first).astype(int) - decode(other).astype(int))
    assert diff.mean() < 12


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
def test_aspect_ratio_is_exact(ring_jpeg, ratio):
    w, h = frame_size(ratio, 384)
    rw, rh = (int(x) for x in ratio.split(":"))
    assert w * rh == h * rw and max(w, h) <= 384 and max(w, h) > 384 - max(rw, rh)
    if ratio in ("4:5", "16:9"):  # rendering is slow enough to sample two
        assert decode(render([ring_jpeg], aspect_ratio=ratio)).shape[:2] == (h, w)


def test_white_backdrop_corners_are_near_white(ring_jpeg):
    out = decode(render([ring_jpeg], backdrop="white"))
    for corner in (out[:8, :8], out[:8, -8:], out[-8:, :8], out[-8:, -8:]):
        assert corner.min() >= 230, corner.min()


@pytest.mark.parametrize("backdrop", ["surface", "skin"])
def test_other_backdrops_are_warm_and_the_piece_is_there(ring_jpeg, backdrop):
    out = decode(render([ring_jpeg], backdrop=backdrop)).astype(int)
    corner = out[:16, :16].reshape(-1, 3).mean(0)
    assert corner[0] > corner[2] + 8  # warm: more red than blue
    blue = (out[..., 2] > out[..., 0] + 40).sum()  # the sapphire came along
    assert blue > 20


def test_zoom_crops_tighter(ring_jpeg):
    def piece_share(data):
        out = decode(data).astype(int)
        return float((np.abs(out - out[:4, :4].reshape(-1, 3).mean(0)).sum(axis=2) > 60).mean())

    assert piece_share(render([ring_jpeg], zoom=2.0)) > 1.5 * piece_share(render([ring_jpeg]))


def test_the_best_reference_is_used(ring_jpeg):
    noise = np.random.default_rng(3).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    assert render([jpeg(noise), ring_jpeg]) == render([ring_jpeg])


def _lab(rgb):
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)


@pytest.mark.parametrize(("target", "hue_range"), [("rose_gold", (20, 60)), ("white_metal", None)])
def test_recolour_moves_metal_and_keeps_stones(target, hue_range):
    rgb, alpha, stones = sample(2, type="ring", metal="yellow_gold", stones="red", shot="packshot", variant="solitaire")
    piece = alpha > 0.5
    out = recolour_metal(rgb, piece, target)
    before, after = _lab(rgb), _lab(out)
    metal = cv2.erode((piece & (stones < 0.01)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    metal &= (before[..., 0] > 35) & (before[..., 0] < 85)
    assert metal.sum() > 300
    ab_before = before[metal][:, 1:]
    ab_after = after[metal][:, 1:]
    hue_before = np.degrees(np.arctan2(ab_before[:, 1], ab_before[:, 0]))
    hue_after = np.degrees(np.arctan2(ab_after[:, 1], ab_after[:, 0]))
    assert np.median(hue_before) > 70  # yellow gold to start with
    if hue_range:
        assert hue_range[0] < np.median(hue_after) < hue_range[1]
    else:
        assert np.median(np.hypot(*ab_after.T)) < 4 < np.median(np.hypot(*ab_before.T))
    assert np.abs(after[metal][:, 0] - before[metal][:, 0]).mean() < 3  # lightness (shading) kept
    core = cv2.erode((stones > 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert core.sum() > 100
    delta_e = np.linalg.norm(after[core] - before[core], axis=1)
    assert delta_e.mean() < 2.0 and np.percentile(delta_e, 95) < 6.0
    assert (out[~piece] == rgb[~piece]).all()  # the backdrop is untouched


def test_recolour_changes_the_packshot(ring_jpeg):
    kept = decode(render([ring_jpeg])).astype(int)
    rose = decode(render([ring_jpeg], metal="rose_gold")).astype(int)
    assert np.abs(kept - rose).sum(axis=2).max() > 40


def test_bad_arguments(ring_jpeg):
    with pytest.raises(ValueError):
        render([ring_jpeg], aspect_ratio="5:4")
    with pytest.raises(ValueError):
        render([ring_jpeg], backdrop="velvet")
    with pytest.raises(ValueError):
        render([ring_jpeg], metal="mixed")
    with pytest.raises(ValueError):
        render([ring_jpeg], zoom=0.5)
    with pytest.raises(ValueError):
        render([])
    with pytest.raises(ValueError):
        recolour_metal(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), bool), "platinum")
