"""Dot gain: how burned pixels look on a real surface, and the compensation that makes the result true to tone.

Model: the head moves along each row while firing, so a burned pixel leaves its one-pixel stretch of the scan
line widened by a round spot of diameter `mark_px` (the machine's spot plus the material's spread, in pixels):
a run of burned pixels becomes a stroke with round ends, and strokes merge where they overlap. The `reference`
material's marks are exactly one pixel square (no gain). Effective coverage is computed on a 5× supersampled grid.
When marks are narrower than the line interval, even a solid area leaves gaps; the darkest tone is then what a
solid area achieves, and the compensation maps the picture's range onto that.

Compensation: for a mode and mark size, flat patches at 129 nominal levels are halftoned and simulated; the
measured effective coverage gives a monotone curve, and its inverse maps the coverage we want seen to the
coverage we ask the halftoner for. So the pattern is chosen such that the *simulated burn* has the target tone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np

from intaglio.imaging.artwork.tone import lookup

SUPERSAMPLE = 5  # odd, so a mark is centred on a subpixel and spills evenly up and down
# Nominal levels for calibration, denser towards both ends where patterns respond least linearly.
_LEVELS = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, 129))).astype(np.float32)


def effective_coverage(burn: np.ndarray, mark_px: float) -> np.ndarray:
    """Fraction (0–1) of each pixel's area covered by marks."""
    if mark_px <= 0:  # the ideal surface: a mark is exactly its pixel
        return burn.astype(np.float32)
    s = SUPERSAMPLE
    h, w = burn.shape
    centres = np.zeros((h * s, w * s), dtype=np.uint8)
    centres[s // 2 :: s, :] = np.repeat(burn, s, axis=1)  # the scan line's path through each burned pixel
    diameter = max(1, round(mark_px * s))
    # An odd-sized disk centred on a subpixel; an even diameter is approximated by the next odd one.
    size = diameter | 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    covered = cv2.dilate(centres, disk)
    return cv2.resize(covered.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def mark_diameter_px(*, spot_mm: float, spread_mm: float, px_mm: float, ideal: bool) -> float:
    return 0.0 if ideal else (spot_mm + spread_mm) / px_mm


_responses: dict[tuple, np.ndarray] = {}


def _response(mode_key: tuple, mark_px_rounded: float, halftone: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Measured effective coverage at each nominal level; cached per mode settings and mark size."""
    key = (mode_key, mark_px_rounded)
    if key not in _responses:
        _responses[key] = _measure(mark_px_rounded, halftone)
    return _responses[key]


def _measure(mark_px_rounded: float, halftone: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    size = 192
    measured = np.empty_like(_LEVELS)
    for i, level in enumerate(_LEVELS):
        patch = np.full((size, size), level, dtype=np.float32)
        coverage = effective_coverage(halftone(patch), mark_px_rounded)
        measured[i] = coverage[24:-24, 24:-24].mean()  # away from the edges, where diffusion starts up
    return np.maximum.accumulate(measured)


def compensation_curve(mode_key: tuple, mark_px: float, halftone: Callable[[np.ndarray], np.ndarray]):
    """(wanted effective coverage → nominal coverage) as two arrays for np.interp."""
    measured = _response(mode_key, round(float(mark_px), 2), halftone)
    # Strictly increasing x for interpolation: nudge flat stretches (levels that all saturate) apart.
    x = measured + np.arange(measured.size, dtype=np.float32) * 1e-6
    return x, _LEVELS


def compensate(coverage: np.ndarray, mode_key: tuple, mark_px: float, halftone) -> np.ndarray:
    return lookup(coverage, _compensation_table(mode_key, mark_px, halftone))


def _compensation_table(mode_key: tuple, mark_px: float, halftone) -> np.ndarray:
    """wanted coverage (sampled over 0–1) → nominal coverage, as a table for a fast gather."""
    x, y = compensation_curve(mode_key, mark_px, halftone)
    darkest = float(x[-1])  # what a solid area achieves on this surface
    wanted = np.linspace(0.0, 1.0, 4096, dtype=np.float32) * min(1.0, darkest)
    return np.interp(wanted, x, y).astype(np.float32)


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
    """How much one isolated mark darkens its unburned neighbours (above/below, beside, diagonal), measured
    with the same model as effective_coverage."""
    if mark_px <= 0:
        return (0.0, 0.0, 0.0)
    single = np.zeros((5, 5), dtype=bool)
    single[2, 2] = True
    seen = effective_coverage(single, mark_px)
    return (float(seen[1, 2]), float(seen[2, 1]), float(seen[1, 1]))
