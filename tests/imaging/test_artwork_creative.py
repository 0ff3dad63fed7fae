"""intaglio.imaging.artwork.creative: sketch, stipple and hatch on synthetic pictures."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from intaglio.imaging.artwork.creative import hatch, sketch, stipple

PX_MM = 0.08
LEVELS = [round(0.1 * k, 1) for k in range(1, 10)]
AREA_MODES = {"stipple": stipple, "hatch": hatch}


def flat(value: float, shape: tuple[int, int] = (256, 256)) -> np.ndarray:
    return np.full(shape, value, dtype=np.float32)


def ramp(shape: tuple[int, int] = (128, 768)) -> np.ndarray:
    """Coverage rising from 0 on the left to 1 on the right."""
    return np.tile(np.linspace(0.0, 1.0, shape[1], dtype=np.float32), (shape[0], 1))


def disk_picture(size: int = 256, radius: float = 70.0, inside: float = 0.08, outside: float = 0.75) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    dist = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5)
    return np.where(dist < radius, inside, outside).astype(np.float32), dist


# --------------------------------------------------------------------------------------------------------------------
# Tone: burned area equals coverage


@pytest.mark.parametrize("mode", sorted(AREA_MODES))
@pytest.mark.parametrize("spot_px", [1.25, 2.0])
@pytest.mark.parametrize("level", LEVELS)
def test_flat_patch_area_matches_coverage(mode, spot_px, level):
    out = AREA_MODES[mode](flat(level), spot_px=spot_px, px_mm=PX_MM)
    assert abs(out.mean() - level) <= 0.05, (mode, spot_px, level, out.mean())


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 60.0, 90.0, 135.0, -20.0])
@pytest.mark.parametrize("level", [0.1, 0.35, 0.5, 0.75, 0.9])
def test_hatch_area_matches_coverage_at_any_angle(angle, level):
    out = hatch(flat(level), spot_px=1.25, px_mm=PX_MM, angle_deg=angle)
    assert abs(out.mean() - level) <= 0.05, (angle, level, out.mean())


@pytest.mark.parametrize("spacing_mm", [0.3, 0.55, 1.0])
def test_hatch_area_matches_coverage_at_any_spacing(spacing_mm):
    for level in (0.2, 0.5, 0.8):
        out = hatch(flat(level), spot_px=1.25, px_mm=PX_MM, spacing_mm=spacing_mm)
        assert abs(out.mean() - level) <= 0.05, (spacing_mm, level, out.mean())


@pytest.mark.parametrize("mode", sorted(AREA_MODES))
def test_blank_and_solid(mode):
    fn = AREA_MODES[mode]
    assert not fn(flat(0.0), spot_px=1.25, px_mm=PX_MM).any()
    assert fn(flat(1.0), spot_px=1.25, px_mm=PX_MM).all()


@pytest.mark.parametrize("mode", sorted(AREA_MODES))
@pytest.mark.parametrize("spot_px", [1.25, 2.0])
def test_gradient_density_is_monotone(mode, spot_px):
    cov = ramp()
    out = AREA_MODES[mode](cov, spot_px=spot_px, px_mm=PX_MM)
    blocks = 16
    density = out.reshape(out.shape[0], blocks, -1).mean(axis=(0, 2))
    target = cov.reshape(cov.shape[0], blocks, -1).mean(axis=(0, 2))
    assert np.all(np.diff(density) > 0), density
    assert np.abs(density - target).max() <= 0.06, np.round(density - target, 3)


@pytest.mark.parametrize("mode", sorted(AREA_MODES))
def test_photo_like_area_is_preserved(mode):
    # Smooth random tones with edges: the mean burned area still matches the mean coverage.
    rng = np.random.default_rng(5)
    noise = cv2.GaussianBlur(rng.random((300, 420)).astype(np.float32), (0, 0), 12)
    cov = np.clip((noise - noise.mean()) * 12 + 0.5, 0, 1).astype(np.float32)
    out = AREA_MODES[mode](cov, spot_px=1.25, px_mm=PX_MM)
    assert abs(out.mean() - cov.mean()) <= 0.02


# --------------------------------------------------------------------------------------------------------------------
# Contract: shape, dtype, determinism, validation


@pytest.mark.parametrize("mode", ["stipple", "hatch", "sketch"])
@pytest.mark.parametrize("shape", [(1, 1), (37, 91), (200, 13)])
def test_bool_output_of_input_shape(mode, shape):
    rng = np.random.default_rng(1)
    picture = rng.random(shape)  # float64 input is accepted too
    out = sketch(picture, px_mm=PX_MM) if mode == "sketch" else AREA_MODES[mode](picture, spot_px=1.25, px_mm=PX_MM)
    assert out.dtype == np.bool_
    assert out.shape == shape


@pytest.mark.parametrize("mode", ["stipple", "hatch", "sketch"])
def test_deterministic(mode):
    rng = np.random.default_rng(2)
    picture = cv2.GaussianBlur(rng.random((160, 200)).astype(np.float32), (0, 0), 3)
    if mode == "sketch":
        first, second = sketch(picture, px_mm=PX_MM), sketch(picture.copy(), px_mm=PX_MM)
    else:
        fn = AREA_MODES[mode]
        first, second = fn(picture, spot_px=1.25, px_mm=PX_MM), fn(picture.copy(), spot_px=1.25, px_mm=PX_MM)
    assert np.array_equal(first, second)


def test_stipple_seed_changes_the_pattern_not_the_tone():
    a = stipple(flat(0.3), spot_px=1.25, px_mm=PX_MM, seed=0)
    b = stipple(flat(0.3), spot_px=1.25, px_mm=PX_MM, seed=1)
    assert not np.array_equal(a, b)
    assert abs(a.mean() - b.mean()) < 0.01


def test_inputs_are_not_modified_and_bad_input_is_refused():
    picture = ramp((40, 60))
    saved = picture.copy()
    stipple(picture, spot_px=1.25, px_mm=PX_MM)
    hatch(picture, spot_px=1.25, px_mm=PX_MM)
    sketch(picture, px_mm=PX_MM)
    assert np.array_equal(picture, saved)
    with pytest.raises(ValueError):
        stipple(np.zeros((4, 4, 3), np.float32), spot_px=1.25, px_mm=PX_MM)
    with pytest.raises(ValueError):
        hatch(np.zeros((4, 4), np.float32), spot_px=0.0, px_mm=PX_MM)
    with pytest.raises(ValueError):
        sketch(np.zeros((4, 4), np.float32), px_mm=0.0)


def test_out_of_range_and_nan_coverage_is_clipped():
    cov = flat(0.4, (64, 64))
    cov[:8] = 1.7
    cov[8:16] = -0.5
    cov[16:18] = np.nan
    for fn in AREA_MODES.values():
        out = fn(cov, spot_px=1.25, px_mm=PX_MM)
        assert out.shape == cov.shape


# --------------------------------------------------------------------------------------------------------------------
# Stipple: distinct round dots, blue-noise spacing


def test_stipple_dots_are_distinct_in_light_tones():
    out = stipple(flat(0.2), spot_px=1.25, px_mm=PX_MM)
    count, _, stats, _ = cv2.connectedComponentsWithStats(out.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    single = np.bincount(areas).argmax()  # the dot footprint
    assert 8 <= single <= 16  # about 0.3 mm across at 0.08 mm per pixel
    assert (areas == single).mean() > 0.9  # nearly every dot stands alone


def test_stipple_holes_are_distinct_in_dark_tones():
    out = stipple(flat(0.85), spot_px=1.25, px_mm=PX_MM)
    count, _, stats, _ = cv2.connectedComponentsWithStats((~out).astype(np.uint8), connectivity=4)
    areas = stats[1:, cv2.CC_STAT_AREA]
    assert (areas == np.bincount(areas).argmax()).mean() > 0.8


def test_stipple_spacing_is_blue_noise():
    # Evenly spread: no two dot centres much closer than the dot, unlike a random (Poisson) scatter.
    out = stipple(flat(0.1), spot_px=1.25, px_mm=PX_MM)
    _, _, _, centroids = cv2.connectedComponentsWithStats(out.astype(np.uint8), connectivity=8)
    pts = centroids[1:]
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    np.fill_diagonal(d, np.inf)
    nearest = d.min(axis=1)
    mean_spacing = np.sqrt(out.size / len(pts))
    assert nearest.min() > 0.4 * mean_spacing
    assert nearest.mean() > 0.7 * mean_spacing


def test_stipple_dot_size_follows_the_spot():
    small = stipple(flat(0.2), spot_px=1.25, px_mm=PX_MM)
    large = stipple(flat(0.2), spot_px=2.5, px_mm=PX_MM)

    def dot_area(mask):
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        return np.median(stats[1:, cv2.CC_STAT_AREA])

    assert dot_area(large) > 2 * dot_area(small)


# --------------------------------------------------------------------------------------------------------------------
# Hatch: parallel lines, width from tone, cross-hatch in the darks


def test_hatch_draws_lines_at_the_spacing():
    out = hatch(flat(0.5), spot_px=1.25, px_mm=PX_MM, angle_deg=0.0, spacing_mm=0.8)
    rows = out.mean(axis=1)
    solid = np.flatnonzero(rows > 0.99)
    assert len(solid) > 0
    starts = solid[np.r_[True, np.diff(solid) > 1]]
    assert np.all(np.diff(starts[1:]) == 10)  # 0.8 mm / 0.08 mm per pixel
    assert not (out.mean(axis=0) > 0.99).any()  # no crossing lines at mid tone


def test_hatch_line_width_follows_tone():
    widths = []
    for level in (0.2, 0.4, 0.6):
        out = hatch(flat(level), spot_px=1.25, px_mm=PX_MM, angle_deg=0.0, spacing_mm=0.8, cross_above=1.0)
        widths.append((out.mean(axis=1) > 0.99).sum())
    assert widths[0] < widths[1] < widths[2]


def test_hatch_crosses_only_above_threshold():
    light = hatch(flat(0.5), spot_px=1.25, px_mm=PX_MM, angle_deg=0.0, cross_above=0.6)
    dark = hatch(flat(0.85), spot_px=1.25, px_mm=PX_MM, angle_deg=0.0, cross_above=0.6)
    assert not (light.mean(axis=0) > 0.99).any()
    assert (dark.mean(axis=0) > 0.99).any()  # vertical lines across the horizontal ones
    none = hatch(flat(0.85), spot_px=1.25, px_mm=PX_MM, angle_deg=0.0, cross_above=1.0)
    assert not (none.mean(axis=0) > 0.99).any()
    assert abs(none.mean() - 0.85) <= 0.05


def test_hatch_angle_orients_the_lines():
    out = hatch(flat(0.4), spot_px=1.25, px_mm=PX_MM, angle_deg=45.0)
    # Lines rising to the right (counter-clockwise from horizontal, row 0 at the top) are constant along x + y.
    along = np.mean(out[1:, :-1] == out[:-1, 1:])
    across = np.mean(out[1:, 1:] == out[:-1, :-1])
    assert along > 0.9 > across


# --------------------------------------------------------------------------------------------------------------------
# Sketch: edges become clean lines


def test_sketch_draws_the_outline_of_a_disk():
    picture, dist = disk_picture()
    out = sketch(picture, px_mm=PX_MM)
    assert out.any()
    near_edge = np.abs(dist - 70.0) <= 6
    assert out[near_edge].sum() / out.sum() > 0.95  # ink concentrates on the edge
    assert out[~near_edge].mean() < 0.002  # flat areas stay clean
    # The outline goes most of the way round.
    yy, xx = np.nonzero(out & near_edge)
    angles = np.degrees(np.arctan2(yy - 127.5, xx - 127.5)).astype(int) % 360
    assert len(np.unique(angles // 5)) >= 0.9 * 72


def test_sketch_of_a_flat_field_is_nearly_blank():
    assert sketch(flat(0.5), px_mm=PX_MM).mean() < 0.001
    rng = np.random.default_rng(3)
    noisy = np.clip(flat(0.4) + rng.normal(0, 0.004, (256, 256)).astype(np.float32), 0, 1)
    assert sketch(noisy, px_mm=PX_MM).mean() < 0.005


def test_sketch_line_width_scales():
    picture, _ = disk_picture()
    thin = sketch(picture, px_mm=PX_MM, line_width_mm=0.08)
    medium = sketch(picture, px_mm=PX_MM, line_width_mm=0.25)
    wide = sketch(picture, px_mm=PX_MM, line_width_mm=0.5)
    assert thin.sum() < medium.sum() < wide.sum()
    assert wide.sum() > 3 * thin.sum()
    assert thin[medium].mean() < 1.0 and medium[thin].all()  # wider lines are drawn around the same centre lines


def test_sketch_means_the_same_at_any_resolution():
    # The same disk at twice the resolution is drawn at the same place in millimetres.
    coarse, dist_c = disk_picture(256, 70.0)
    fine, dist_f = disk_picture(512, 140.0)
    a = sketch(coarse, px_mm=PX_MM)
    b = sketch(fine, px_mm=PX_MM / 2)
    ra = np.median(dist_c[a]) * PX_MM
    rb = np.median(dist_f[b]) * PX_MM / 2
    assert abs(ra - rb) < 0.1


def test_sketch_detail_and_threshold_control_how_much_is_drawn():
    rng = np.random.default_rng(4)
    texture = cv2.GaussianBlur(rng.random((256, 256)).astype(np.float32), (0, 0), 2.5)
    texture = np.clip((texture - texture.mean()) * 8 + 0.5, 0, 1)
    sparse = sketch(texture, px_mm=PX_MM, detail=0.2).sum()
    dense = sketch(texture, px_mm=PX_MM, detail=0.9).sum()
    assert dense > sparse
    fewer = sketch(texture, px_mm=PX_MM, threshold=0.2).sum()
    more = sketch(texture, px_mm=PX_MM, threshold=0.8).sum()
    assert more > fewer


# --------------------------------------------------------------------------------------------------------------------
# Scale: a 100 × 75 mm picture at 0.08 mm per pixel


def test_full_size_picture_runs(capsys):
    rng = np.random.default_rng(6)
    lum = cv2.GaussianBlur(rng.random((938, 1250)).astype(np.float32), (0, 0), 6)
    lum = np.clip((lum - lum.mean()) * 10 + 0.5, 0, 1).astype(np.float32)
    cov = 1.0 - lum
    runs = {
        "stipple": lambda: stipple(cov, spot_px=1.25, px_mm=PX_MM),
        "hatch": lambda: hatch(cov, spot_px=1.25, px_mm=PX_MM),
        "sketch": lambda: sketch(lum, px_mm=PX_MM),
    }
    timings = {}
    for name, run in runs.items():
        run()  # compiled (or loaded from the numba cache) on first use
        start = time.perf_counter()
        out = run()
        timings[name] = time.perf_counter() - start
        assert out.shape == cov.shape and out.dtype == np.bool_
    with capsys.disabled():
        print(" ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.items()), end=" ")
