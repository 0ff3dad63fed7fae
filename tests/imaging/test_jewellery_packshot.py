"""intaglio.imaging.jewellery.packshot: deterministic studio packshots and metal recolouring."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.jewellery.packshot import (
    ASPECT_RATIOS,
    frame_size,
    matte,
    metal_and_stones,
    recolour_metal,
    render_packshot,
)
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
    args = {"aspect_ratio": "1:1", "metal": None, "seed": 1, "long_edge": 384}
    return render_packshot(refs, **{**args, **kw}).data


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
    assert w * rh == h * rw and 384 <= max(w, h) < 384 + max(rw, rh)
    if ratio in ("4:5", "16:9"):  # rendering is slow enough to sample two
        assert decode(render([ring_jpeg], aspect_ratio=ratio)).shape[:2] == (h, w)


def test_white_backdrop_corners_are_near_white(ring_jpeg):
    out = decode(render([ring_jpeg]))
    for corner in (out[:8, :8], out[:8, -8:], out[-8:, :8], out[-8:, -8:]):
        assert corner.min() >= 230, corner.min()


def test_the_default_output_is_print_grade_and_says_how_much_it_was_enlarged(ring_jpeg):
    shot = render_packshot([ring_jpeg], aspect_ratio="4:5", metal=None, seed=1)
    out = decode(shot.data)
    assert max(out.shape[:2]) >= 2048 and out.shape[1] * 5 == out.shape[0] * 4
    # a 480 px reference cannot fill 2048 px without enlarging it, and the packshot says so
    assert shot.enlargement > 2.0


def test_one_light_the_cast_shadow_falls_away_from_the_brighter_side(ring_jpeg):
    for seed in range(4):
        out = decode(render([ring_jpeg], seed=seed, long_edge=512)).astype(float).sum(axis=2)
        h, w = out.shape
        top = out[: h // 10]  # the bare sweep: which side does the key light brighten?
        lit_right = top[:, -w // 4 :].mean() > top[:, : w // 4].mean()
        # the shadow: darkening of the floor below the piece's middle, left half against right half
        band = out[int(h * 0.55) : int(h * 0.8)]
        left, right = band[:, : w // 2].mean(), band[:, w // 2 :].mean()
        assert (left < right) == lit_right, (seed, left, right)


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
        render([ring_jpeg], metal="mixed")
    with pytest.raises(ValueError):
        render([ring_jpeg], zoom=0.5)
    with pytest.raises(ValueError):
        render([])
    with pytest.raises(ValueError):
        recolour_metal(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), bool), "platinum")


# ------------------------------------------------------------------------------------- a synthetic gold ring

#: "Yellow" for these tests: CIE Lab hue between 55° and 110° with chroma above 12 (gold is about 80°, chroma 30–50;
#: a ruby is about 30°, a white metal has chroma under 5).
YELLOW_HUE = (55.0, 110.0)
YELLOW_CHROMA = 12.0


def _lab_to_rgb(L, a, b):
    return np.clip(cv2.cvtColor(np.dstack([L, a, b]).astype(np.float32), cv2.COLOR_Lab2RGB), 0, 1)


def gold_ring(size=720, stone_hue=32.0, stone_chroma=62.0):
    """A yellow-gold ring with a cabochon in a four-prong collet, drawn here at 2× and reduced (so its edges are
    anti-aliased): a shaded band with thin near-white specular streaks, the stone with its own white highlight.
    Returns (rgb uint8, metal coverage, stone coverage), the coverages 0..1 floats."""
    n = size * 2
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    cx, cy = 0.5, 0.56
    ex = ((xx - cx) / 0.30) ** 2 + ((yy - cy) / 0.17) ** 2
    band = (ex <= 1) & (((xx - cx) / 0.25) ** 2 + ((yy - cy - 0.015) / 0.12) ** 2 > 1)
    ang = np.arctan2(yy - cy, xx - cx)
    spec = np.exp(-((ex - 0.8) ** 2) / 0.0015) * (np.cos(ang - 2.4) > 0.3)
    L = np.clip(58 + 22 * np.cos(ang * 2 + 0.6) + 10 * np.sin(ex * 9) + 45 * spec, 15, 99)
    sx, sy, sr = 0.5, 0.37, 0.085
    d = np.hypot(xx - sx, (yy - sy) / 0.8)
    collet = d <= sr + 0.018
    prongs = np.zeros_like(band)
    for k in range(4):
        t = np.pi / 4 + k * np.pi / 2
        prongs |= np.hypot(xx - sx - (sr + 0.002) * np.cos(t), yy - sy - 0.8 * (sr + 0.002) * np.sin(t)) <= 0.016
    L = np.where((collet | prongs) & ~band, np.clip(50 + 25 * (1 - d / (sr + 0.02)), 20, 99), L)
    gold_chroma = 50 * np.sin(np.pi * np.clip(L, 0, 104) / 104) ** 1.3  # less colour in highlights and shadows
    gold = _lab_to_rgb(L, gold_chroma * np.cos(np.radians(84)), gold_chroma * np.sin(np.radians(84)))
    metal = band | collet | prongs
    stone = (d <= sr) & ~prongs
    highlight = np.exp(-((xx - sx + 0.025) ** 2 + (yy - sy + 0.02) ** 2) / 0.00025)
    Ls = 30 + 18 * (1 - d / sr) + 62 * highlight
    cs = stone_chroma * (1 - highlight)
    gem = _lab_to_rgb(Ls, cs * np.cos(np.radians(stone_hue)), cs * np.sin(np.radians(stone_hue)))
    img = np.ones((n, n, 3), np.float32) * (np.array([246, 245, 243], np.float32) / 255)
    img = np.where(metal[..., None], gold, img)
    img = np.where(stone[..., None], gem, img)

    def reduce(a):
        return cv2.resize(a.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)

    rgb = (np.clip(reduce(img), 0, 1) * 255 + 0.5).astype(np.uint8)
    return rgb, reduce(metal & ~stone), reduce(stone)


def _hue_chroma(rgb):
    lab = _lab(rgb)
    return np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360, np.hypot(lab[..., 1], lab[..., 2])


def _yellow(rgb):
    hue, chroma = _hue_chroma(rgb)
    return (hue > YELLOW_HUE[0]) & (hue < YELLOW_HUE[1]) & (chroma > YELLOW_CHROMA)


@pytest.fixture(scope="module")
def gold():
    return gold_ring()


def test_the_synthetic_ring_starts_yellow_with_a_red_stone(gold):
    rgb, metal, stone = gold
    assert _yellow(rgb)[metal > 0.5].mean() > 0.6
    hue, chroma = _hue_chroma(rgb)
    core = (stone > 0.99) & (chroma > 20)
    assert 20 < np.median(hue[core]) < 45


def test_metal_and_stones_split_the_ring(gold):
    rgb, metal, stone = gold
    found_metal, found_stones = metal_and_stones(rgb, (metal + stone) > 0.02)
    assert not (found_metal & found_stones).any()
    assert found_stones[metal > 0.99].mean() < 0.01  # prongs, collet, rims are metal
    assert found_metal[stone > 0.99].mean() < 0.01  # the stone, its white highlight too, is stone


@pytest.mark.parametrize("target", ["white_metal", "rose_gold"])
def test_a_variant_recolours_all_the_metal_and_none_of_the_stone(gold, target):
    rgb, metal, stone = gold
    out = recolour_metal(rgb, (metal + stone) > 0.02, target)
    on_metal = metal > 0.5
    assert _yellow(out)[on_metal].sum() == 0  # no yellow left on rims, collet, prongs or shank
    hue, chroma = _hue_chroma(out)
    if target == "rose_gold":  # rose gold's hue (about 40°), highlights included, all over the metal
        coloured = on_metal & (chroma > 6)
        assert coloured.mean() / on_metal.mean() > 0.8 and 30 < np.median(hue[coloured]) < 55
    else:
        assert np.percentile(chroma[on_metal], 99) < 6
    # the stone: its hue unchanged, and its pixels (the white highlight too) exactly as they were, but for a seam of
    # three pixels at the metal's edge, where the metal's share of a mixed pixel is recoloured
    before_hue, before_chroma = _hue_chroma(rgb)
    core = cv2.erode((stone > 0.99).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    vivid = core & (before_chroma > 20)
    assert abs(np.median(hue[vivid]) - np.median(before_hue[vivid])) < 1.0
    assert (out[core] == rgb[core]).all()
    assert (out[(metal + stone) == 0] == rgb[(metal + stone) == 0]).all()  # the backdrop is untouched


def test_a_pink_stones_highlight_stays_pink_and_white_on_a_white_variant():
    rgb, metal, stone = gold_ring(size=480, stone_hue=355.0, stone_chroma=45.0)
    out = recolour_metal(rgb, (metal + stone) > 0.02, "white_metal")
    core = cv2.erode((stone > 0.99).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert (out[core] == rgb[core]).all()
    assert _yellow(out)[metal > 0.5].sum() == 0


def test_the_white_metal_packshot_of_the_gold_ring_has_no_yellow_and_keeps_the_red(gold):
    rgb, _, _ = gold
    out = decode(render([jpeg(rgb)], metal="white_metal", long_edge=1024))
    hue, chroma = _hue_chroma(out)
    assert _yellow(out).sum() == 0  # the backdrop is neutral, so no yellow anywhere means none on the metal
    red = (chroma > 30) & ((hue < 45) | (hue > 345))
    assert red.sum() > 2000
    before_hue, before_chroma = _hue_chroma(rgb)
    before_red = (before_chroma > 30) & ((before_hue < 45) | (before_hue > 345))
    assert abs(np.median(hue[red]) - np.median(before_hue[before_red])) < 3.0


def test_the_matte_is_anti_aliased_where_the_rough_cut_out_is_jagged():
    """A disc drawn at 8× and reduced (true coverage known) on a light backdrop; the rough cut-out is that disc's
    coverage at an eighth of the size, enlarged with nearest neighbour: a staircase. The matte must follow the true
    coverage, not the staircase."""
    n, big = 320, 320 * 8
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32) / big
    inside = np.hypot(xx - 0.5, yy - 0.52) < 0.3
    truth = cv2.resize(inside.astype(np.float32), (n, n), interpolation=cv2.INTER_AREA)
    metal = np.array([200, 160, 70], np.float32)
    backdrop = np.array([245, 244, 242], np.float32)
    shading = (0.8 + 0.2 * np.cos(np.linspace(0, 6, n)))[None, :, None]
    rgb = (truth[..., None] * metal * shading + (1 - truth[..., None]) * backdrop).astype(np.uint8)
    coarse = cv2.resize(truth, (n // 8, n // 8), interpolation=cv2.INTER_AREA) > 0.5
    rough = cv2.resize(coarse.astype(np.uint8), (n, n), interpolation=cv2.INTER_NEAREST).astype(bool)
    alpha, fg = matte(rgb, rough, np.zeros_like(rough), band=10)
    edge = (truth > 0.02) & (truth < 0.98)
    assert edge.sum() > 200
    assert np.abs(alpha - truth)[edge].mean() < 0.12
    assert np.abs(alpha - truth)[edge].mean() < 0.5 * np.abs(rough - truth)[edge].mean()
    assert np.abs(alpha - truth).max() < 0.35  # no stair step survives
    solid = truth > 0.999
    assert np.abs(fg[solid] * 255 - rgb[solid]).mean() < 3  # the piece's own colours come back


def test_a_stone_larger_than_the_band_is_not_taken_for_the_metal():
    """The benchmark renderer's ruby solitaire: the stone covers more pixels than the thin band, so the commonest
    coloured hue is the ruby's. The metal must still be read as the gold and recoloured, the ruby left alone."""
    rgb, alpha, stones = sample(
        [7, 1], type="ring", metal="yellow_gold", stones="red", shot="packshot", width=600, height=600
    )
    piece = alpha > 0.5
    metal = piece & (stones < 0.01)
    hue, chroma = _hue_chroma(rgb)
    core = cv2.erode((stones > 0.99).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & (chroma > 20)
    assert core.sum() > metal.sum() * 0.5  # a big stone against the band
    out = recolour_metal(rgb, piece, "white_metal")
    assert _yellow(rgb)[metal].mean() > 0.3 and _yellow(out)[metal].sum() == 0
    after_hue, _ = _hue_chroma(out)
    assert abs(np.median(after_hue[core]) - np.median(hue[core])) < 1.0


def test_without_shadow_nothing_darkens_the_sweep_and_the_rest_is_the_same(ring_jpeg):
    shaded = decode(render([ring_jpeg], seed=2, long_edge=512)).astype(float).sum(axis=2)
    bare = decode(render([ring_jpeg], seed=2, long_edge=512, shadow=False)).astype(float).sum(axis=2)
    h, w = bare.shape
    lighter = bare - shaded  # what the shadows and the reflection took away
    assert np.percentile(lighter, 0.5) > -6  # taking them out darkens nothing (but JPEG blocks at the piece's rim)
    assert lighter[h // 2 :].mean() > 8 * lighter[: h // 10].mean() + 2  # they sat on the floor, under the piece
    assert np.abs(lighter[: h // 10]).mean() < 1.5  # the bare sweep above is the same light and tone
