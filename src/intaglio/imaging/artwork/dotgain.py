"""Dot gain: how burned pixels look on a real surface, and the compensation that makes the result true to tone.

Model: the head moves along each row while firing, so a burned pixel leaves its one-pixel stretch of the scan
line widened by a round spot of diameter `mark_px` (the machine's spot plus the material's spread, in pixels):
a run of burned pixels becomes a stroke with round ends, and strokes merge where they overlap. The `reference`
material's marks are exactly one pixel square (no gain). The marked fraction of each pixel is the exact area of
the union of strokes over it: across the scan line (y) it is computed in closed form, along it (x) by quadrature
on a fine grid, so 1.4 px and 1.6 px marks differ as much as they do on the surface. When marks are narrower than
the line interval, even a solid area leaves gaps; the darkest tone is then what a solid area achieves, and the
compensation maps the picture's range onto that.

Compensation: for a mode and mark size (to 1/64 px), flat patches at 513 nominal levels are halftoned and
simulated; the measured effective coverage, fitted monotone, and its inverse map the coverage we want seen to the
coverage we ask the halftoner for, with 0 kept clear and the darkest tone asked for as solid. So the pattern is
chosen such that the *simulated burn* has the target tone: tests/imaging/test_dotgain_exact.py holds every
halftoning mode to 1 % of the area on flat patches for marks of 1–3 px, under its own exact-area model.

References
----------
T. N. Pappas and D. L. Neuhoff, "Printer models and error diffusion", IEEE Trans. Image Processing 4(1), 1995:
the circular-dot overlap model, here with strokes along the scan line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np

from intaglio.imaging.artwork.tone import FUSED_MIN_PIXELS, lookup

# Marks are modelled to 1/64 px: far finer than any spot or spread is known, and a stable key for the caches
# (a mark computed as (spot + spread) / interval carries float noise).
MARK_STEP = 1 / 64
# Samples along the scan line per pixel. The table is built once per mark size, so it can afford many; the direct
# path (marks over 3 px) runs per pixel. Both keep each pixel's area within about 0.1 % of 1024 samples' answer.
_TABLE_SAMPLES = 512
_DIRECT_SAMPLES = 48
# Up to this radius a pixel's coverage depends only on the 3 rows × 5 columns around it (15 bits, one table).
_TABLE_RADIUS = 1.5
# Nominal levels for calibration, denser towards both ends where patterns respond least linearly. Wide marks make
# error diffusion's response steep in places (its patterns change kind), so the levels are dense throughout:
# interpolating across a steep step would miss the target by the step.
_LEVELS = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, 513))).astype(np.float32)


def quantise_mark(mark_px: float) -> float:
    """The mark diameter the model uses: `mark_px` to the nearest 1/64 px (a positive mark stays positive).

    Parameters
    ----------
    mark_px : float
        Mark diameter in pixels; 0 or less for the ideal surface.

    Returns
    -------
    float
        A multiple of `MARK_STEP`, or 0.0 for the ideal surface.
    """
    if mark_px <= 0:
        return 0.0
    return max(1, round(float(mark_px) / MARK_STEP)) * MARK_STEP


def effective_coverage(burn: np.ndarray, mark_px: float) -> np.ndarray:
    """Fraction (0–1) of each pixel's area covered by marks: the exact area of the union of strokes over it.

    Parameters
    ----------
    burn : numpy.ndarray
        H×W bool, True where the laser fires.
    mark_px : float
        Mark diameter in pixels (taken to 1/64 px, see `quantise_mark`); 0 or less for marks that are exactly
        their pixel.

    Returns
    -------
    numpy.ndarray
        H×W float32 in 0–1.
    """
    burn = np.asarray(burn, dtype=bool)
    mark = quantise_mark(mark_px)
    if mark == 0:  # the ideal surface: a mark is exactly its pixel
        return burn.astype(np.float32)
    if mark / 2 <= _TABLE_RADIUS:
        return _coverage_by_table(burn, mark)
    return _coverage_direct(burn, mark)


def _covered_length(top: np.ndarray, own: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """How much of a pixel's height (one unit, centred on its scan line) the strokes cover at one x.

    `own` is the half-height of the pixel's own row's strokes there (reaching up and down from the centre);
    `top` and `bottom` how far strokes of the rows above and below reach in from the pixel's edges. The union
    of [−½, −½ + top], [−own, own] and [½ − bottom, ½] is one minus the gap between the edge reaches that the
    own row leaves open.
    """
    own = np.minimum(own, 0.5)
    gap = np.maximum(0.0, 1.0 - top - bottom)
    filled = np.maximum(0.0, np.minimum(0.5 - bottom, own) - np.maximum(top - 0.5, -own))
    return 1.0 - gap + filled


def _half_heights(distance: np.ndarray, radius: float) -> np.ndarray:
    """Half-height of a stroke at a horizontal distance from its segment: the circle's, zero beyond it."""
    return np.sqrt(np.maximum(0.0, radius * radius - distance * distance))


@lru_cache(maxsize=64)
def _coverage_table(mark: float) -> np.ndarray:
    """Coverage of a pixel for each of the 2¹⁵ patterns of the 3 × 5 burned pixels around it.

    Index bits: 0–4 the row above (columns −2 … +2), 5–9 the pixel's own row, 10–14 the row below. A radius
    of at most 1.5 px reaches no further: rows two away stop at the pixel's edge, and columns three away end
    their strokes 2 px from it.
    """
    radius = mark / 2
    x = (np.arange(_TABLE_SAMPLES, dtype=np.float64) + 0.5) / _TABLE_SAMPLES - 0.5  # midpoints along the row
    offsets = np.arange(-2, 3)
    # Distance from each sample to the scan-line segment [o − ½, o + ½] of the pixel at column offset o.
    to_segment = np.maximum(0.0, np.abs(x[None, :] - offsets[:, None]) - 0.5)  # 5 × samples
    patterns = np.arange(32)
    fired = (patterns[:, None] >> np.arange(5)[None, :]) & 1  # 32 × 5
    nearest = np.where(fired[:, :, None] == 1, to_segment[None, :, :], np.inf).min(axis=1)  # 32 × samples
    height = _half_heights(nearest, radius)
    reach = np.clip(height - 0.5, 0.0, 1.0)  # a neighbouring row's stroke, in from the pixel's edge
    table = np.empty((32, 32, 32), dtype=np.float32)  # [below, own, above]
    for own in patterns:
        table[:, own, :] = _covered_length(reach[None, :, :], height[own], reach[:, None, :]).mean(axis=-1)
    return table.reshape(-1)


def _coverage_by_table(burn: np.ndarray, mark: float) -> np.ndarray:
    if burn.size >= FUSED_MIN_PIXELS:
        from intaglio.imaging.artwork.fused import neighbourhood_gather

        # The same codes and table in one pass (a live preview simulates every change).
        return neighbourhood_gather(burn, _coverage_table(mark))
    h, w = burn.shape
    padded = np.zeros((h + 2, w + 4), dtype=np.uint16)
    padded[1:-1, 2:-2] = burn
    rows = padded[:, 0:w].copy()
    for bit in range(1, 5):
        rows |= padded[:, bit : bit + w] << bit
    code = rows[0:h] | (rows[1 : h + 1] << 5) | (rows[2 : h + 2] << 10)
    return _coverage_table(mark)[code]


def _coverage_direct(burn: np.ndarray, mark: float, band: int = 16) -> np.ndarray:
    """The same model for marks over 3 px, whose reach is too wide for one table: per sample, a band of rows at
    a time."""
    radius = mark / 2
    h, w = burn.shape
    rows = math.ceil(radius + 0.5) - 1  # how many rows away a stroke still enters a pixel (m − ½ < radius)
    padded = np.zeros((h + 2 * rows, w), dtype=bool)  # rows beyond the picture never fire
    padded[rows : rows + h] = burn
    columns = np.arange(w, dtype=np.float32)
    far = np.float32(2 * w + 2 * radius + 2)
    # Nearest fired pixel at or left of each pixel, and at or right of it, per row.
    left = np.maximum.accumulate(np.where(padded, columns, -far), axis=1)
    right = np.minimum.accumulate(np.where(padded, columns, far)[:, ::-1], axis=1)[:, ::-1]
    position = columns[None, :, None] + (np.arange(_DIRECT_SAMPLES, dtype=np.float32) + 0.5) / _DIRECT_SAMPLES - 0.5
    out = np.empty((h, w), dtype=np.float32)
    for start in range(0, h, band):
        n = min(h, start + band) - start
        seen = slice(start, start + n + 2 * rows)  # this band's rows and the rows that reach into them
        distance = np.minimum(
            np.maximum(0.0, position - (left[seen, :, None] + 0.5)),
            np.maximum(0.0, (right[seen, :, None] - 0.5) - position),
        )
        height = _half_heights(distance, radius)
        top = np.zeros((n, *height.shape[1:]), dtype=np.float32)
        bottom = np.zeros_like(top)
        for m in range(1, rows + 1):
            np.maximum(top, height[rows - m : rows - m + n] - np.float32(m - 0.5), out=top)
            np.maximum(bottom, height[rows + m : rows + m + n] - np.float32(m - 0.5), out=bottom)
        covered = _covered_length(np.minimum(top, 1), height[rows : rows + n], np.minimum(bottom, 1))
        out[start : start + n] = covered.mean(axis=-1)
    return out


def mark_diameter_px(*, spot_mm: float, spread_mm: float, px_mm: float, ideal: bool) -> float:
    """The diameter of one mark in pixels: the machine's spot plus the material's spread, over the line interval.

    Parameters
    ----------
    spot_mm, spread_mm : float
        The machine's spot and the material's extra spread, in millimetres.
    px_mm : float
        The line interval (pixel size), in millimetres.
    ideal : bool
        True for the `reference` surface, whose marks are exactly their pixel.

    Returns
    -------
    float
        Mark diameter in pixels, 0.0 for the ideal surface (the model takes it to 1/64 px, `quantise_mark`).
    """
    return 0.0 if ideal else (spot_mm + spread_mm) / px_mm


_responses: dict[tuple, np.ndarray] = {}
_tables: dict[tuple, np.ndarray] = {}


def _response(mode_key: tuple, mark: float, halftone: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Measured effective coverage at each nominal level; cached per mode settings and (quantised) mark size."""
    key = (mode_key, mark)
    if key not in _responses:
        _responses[key] = _measure(mark, halftone)
    return _responses[key]


def _measure(mark: float, halftone: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    measured = np.empty_like(_LEVELS)
    for i, level in enumerate(_LEVELS):
        patch = np.full((256, 192), level, dtype=np.float32)
        coverage = effective_coverage(halftone(patch), mark)
        # Away from the edges, and further from the top: at the sparse levels wide marks need, diffusion takes
        # tens of rows to build up its first marks, and counting them would make every flat area too dark.
        measured[i] = coverage[64:-24, 24:-24].mean()
    return _monotone(measured)


def _monotone(values: np.ndarray) -> np.ndarray:
    """The least-squares non-decreasing fit (pool adjacent violators).

    Where wide marks make a pattern's response dip, averaging over the dip lands nearer the target on both sides
    of it than a running maximum, which would always err dark.
    """
    means: list[float] = []
    counts: list[int] = []
    for value in values.tolist():
        means.append(value)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            n = counts[-2] + counts[-1]
            means[-2:] = [(means[-2] * counts[-2] + means[-1] * counts[-1]) / n]
            counts[-2:] = [n]
    return np.repeat(np.array(means, dtype=np.float32), counts)


def compensation_curve(
    mode_key: tuple, mark_px: float, halftone: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The measured response of a mode on this surface, as (effective coverage, nominal coverage) pairs.

    Parameters
    ----------
    mode_key : tuple
        Hashable description of the halftoner (mode and settings); the cache key with the mark size.
    mark_px : float
        Mark diameter in pixels, taken to 1/64 px (`quantise_mark`).
    halftone : callable
        The halftoner: coverage (H×W float32) → burn (H×W bool).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Strictly increasing effective coverage and the nominal levels that produce it, for np.interp(wanted,
        *curve) to give the nominal coverage to ask for.
    """
    measured = _response(mode_key, quantise_mark(mark_px), halftone)
    # Strictly increasing x for interpolation: nudge flat stretches (levels that all saturate) apart.
    x = measured + np.arange(measured.size, dtype=np.float32) * 1e-6
    return x, _LEVELS


def compensate(
    coverage: np.ndarray, mode_key: tuple, mark_px: float, halftone: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """The coverage to ask `halftone` for so that the simulated burn shows `coverage`.

    Where a solid area cannot cover its pixels (marks narrower than the line interval), the picture's range is
    mapped onto what a solid area achieves.

    Parameters
    ----------
    coverage : numpy.ndarray
        Wanted effective coverage, 0–1.
    mode_key, mark_px, halftone
        As for `compensation_curve`.

    Returns
    -------
    numpy.ndarray
        Nominal coverage, float32, the shape of `coverage`.
    """
    return lookup(coverage, _compensation_table(mode_key, quantise_mark(mark_px), halftone))


def _compensation_table(mode_key: tuple, mark: float, halftone) -> np.ndarray:
    """wanted coverage (sampled over 0–1) → nominal coverage, as a table for a fast gather."""
    key = (mode_key, mark)
    if key not in _tables:
        x, y = compensation_curve(mode_key, mark, halftone)
        darkest = float(x[-1])  # what a solid area achieves on this surface
        wanted = np.linspace(0.0, 1.0, 4096, dtype=np.float32) * min(1.0, darkest)
        table = np.interp(wanted, x, y).astype(np.float32)
        # The darkest tone is what a solid area achieves, so it is asked for as solid; the calibration's last
        # saturated levels would otherwise leave a few clear pixels that wide marks do not quite close.
        table[0], table[-1] = 0.0, 1.0
        _tables[key] = table
    return _tables[key]


def material_texture(kind: str, shape: tuple[int, int], *, strength: float, px_mm: float, seed: int) -> np.ndarray:
    """A mean-1 multiplicative texture (wood grain, stone speckle, …) so the preview looks like the surface.

    Read-only and cached: a live preview re-renders the same size many times, and the blurs cost more than the
    rest of the simulation."""
    if kind == "none" or strength <= 0:
        return np.ones(shape, dtype=np.float32)
    return _texture(kind, tuple(shape), strength, px_mm, seed)


@lru_cache(maxsize=8)
def _texture(kind: str, shape: tuple[int, int], strength: float, px_mm: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = shape
    noise = rng.standard_normal((h, w)).astype(np.float32)
    if kind == "wood":
        yy = np.arange(h, dtype=np.float32)[:, None] * px_mm
        xx = np.arange(w, dtype=np.float32)[None, :] * px_mm
        wobble = cv2.GaussianBlur(noise, (0, 0), max(1.0, 4.0 / px_mm)) * 40
        field = np.sin((yy + 0.15 * xx + wobble) * 2 * np.pi / 2.5)
        field += 0.5 * cv2.GaussianBlur(noise, (0, 0), sigmaX=max(1.0, 3.0 / px_mm), sigmaY=0.5)
    else:
        scale = {"stone": 0.3, "leather": 0.4, "cork": 0.6, "paper": 0.2, "metal": 0.15, "glass": 1.0}.get(kind, 0.3)
        field = cv2.GaussianBlur(noise, (0, 0), max(0.5, scale / px_mm))
    field = (field - field.mean()) / (field.std() + 1e-6)
    texture = (1 + strength * field).astype(np.float32)
    texture.flags.writeable = False
    return texture


def neighbour_spill(mark_px: float) -> tuple[float, float, float]:
    """How much one isolated mark covers of its unburned neighbours, by the same exact-area model.

    Parameters
    ----------
    mark_px : float
        Mark diameter in pixels (0 for the ideal surface).

    Returns
    -------
    (float, float, float)
        Covered fraction of the neighbour above (or below), beside, and diagonal.
    """
    if mark_px <= 0:
        return (0.0, 0.0, 0.0)
    single = np.zeros((5, 5), dtype=bool)
    single[2, 2] = True
    seen = effective_coverage(single, mark_px)
    return (float(seen[1, 2]), float(seen[2, 1]), float(seen[1, 1]))
