"""Creative artwork modes: pen sketch, stipple and engraved hatching. Pure: no Django imports.

Inputs are 2-D float arrays. `coverage` is the fraction of area to burn at each pixel (0 leaves the surface, 1 burns
it fully), already in linear light and adjusted for the material; `luminance` is linear-light luminance 0–1. Outputs
are 2-D bool arrays of the same shape, True where the laser fires. Row 0 is the top. Every mode is deterministic.

- `sketch`: line art from edges. An XDoG-style difference of Gaussians (sigmas in millimetres, so a drawing looks
  the same at any resolution) is soft-thresholded with a tanh ramp and binarised with hysteresis; the strokes are
  thinned to their centre lines, short side branches and fragments are dropped, and the centre lines are redrawn at
  `line_width_mm`, like a pen. Tone is not reproduced.
- `stipple`: round dots about three laser marks across, placed with blue-noise spacing. A void-and-cluster ranking
  (with an energy kernel as wide as a dot) gives nested, evenly spread point sets; a pixel is a dot centre when its
  rank is under a limit read from a table that measures, on the ranking itself, the area the union of dots covers.
  Burned area therefore matches `coverage` whatever the overlap, and a darker tone only ever adds dots. Tones
  darker than `_STIPPLE_INVERT` are drawn as the negative, evenly spread round holes in a burned field.
- `hatch`: parallel engraved lines whose width is `coverage` times the spacing, crossed by a second set at right
  angles in dark tones (independent gratings: 1 - (1 - a)(1 - b) = coverage, so the area still matches). Pixels are
  sampled against the line's distance field. On a lattice angle (0°, 45°, 90°, 26.6°, ...) the spacing is snapped
  to a whole number of lattice steps, so every line meets the pixel grid the same way (no moiré), and each pixel
  takes the fraction of its lattice strip under the line; partial edge pixels fire by a golden-ratio sequence along
  the line. On other angles the pixel centre is sampled, which averages to the exact area on its own.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
from numba import njit

__all__ = ["hatch", "sketch", "stipple"]

_TILE = 128  # side of the blue-noise tile, in pixels
_LEVELS = 4096  # tone levels of the stipple's rank-limit table
_STIPPLE_INVERT = 0.7  # stipple tones darker than this are drawn as unburned holes in a burned field


# --------------------------------------------------------------------------------------------------------------------
# Shared helpers


def _plane(a: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must not be empty")
    arr = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(arr, 0.0, 1.0)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0.05:
        return img.astype(np.float32, copy=True)
    return cv2.GaussianBlur(
        img.astype(np.float32, copy=False), (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT
    )


@njit(cache=True)
def _void_and_cluster(size, seed, sigma, offsets):
    """Blue-noise ranks 0..size²-1 on a torus (Ulichney's void-and-cluster with a Gaussian energy).

    Each prefix of the ranking (the points of rank < k) is itself evenly spread; a larger `sigma` favours the sparse
    prefixes a stipple uses. Row extremes are cached, so a step costs a few rows instead of the whole tile. Once dots
    of footprint `offsets` at the ranked points cover the whole tile, later ranks cannot matter and are dealt in
    raster order.
    """
    n = size * size
    radius = min(int(math.ceil(3.0 * sigma)), size // 2 - 1)
    kw = 2 * radius + 1
    kernel = np.empty((kw, kw))
    for i in range(kw):
        for j in range(kw):
            dy = i - radius
            dx = j - radius
            kernel[i, j] = math.exp(-(dy * dy + dx * dx) / (2.0 * sigma * sigma))
    np.random.seed(seed)
    ones = np.zeros((size, size), dtype=np.bool_)
    # Energies carry a tiny random offset so that ties break without a directional bias.
    energy = np.random.random((size, size)) * 1e-9
    start = max(1, n // 10)
    placed = 0
    while placed < start:
        k = np.random.randint(0, n)
        y = k // size
        x = k - y * size
        if not ones[y, x]:
            ones[y, x] = True
            placed += 1
            _vac_add(energy, kernel, y, x, 1.0, radius, size)
    row_max = np.empty(size)
    row_max_x = np.zeros(size, dtype=np.int64)
    row_min = np.empty(size)
    row_min_x = np.zeros(size, dtype=np.int64)
    for y in range(size):
        _vac_row(energy, ones, y, size, row_max, row_max_x, row_min, row_min_x)

    # Phase 0: move the tightest cluster to the largest void until the pattern is stable.
    for _ in range(n):
        cy = np.argmax(row_max)
        cx = row_max_x[cy]
        _vac_flip(energy, kernel, ones, cy, cx, radius, size, row_max, row_max_x, row_min, row_min_x)
        vy = np.argmin(row_min)
        vx = row_min_x[vy]
        _vac_flip(energy, kernel, ones, vy, vx, radius, size, row_max, row_max_x, row_min, row_min_x)
        if vy == cy and vx == cx:
            break
    saved = (ones.copy(), energy.copy(), row_max.copy(), row_max_x.copy(), row_min.copy(), row_min_x.copy())

    ranks = np.empty((size, size), dtype=np.int32)
    # Phase 1: remove tightest clusters from the initial pattern, ranking downwards.
    for r in range(start - 1, -1, -1):
        cy = np.argmax(row_max)
        cx = row_max_x[cy]
        _vac_flip(energy, kernel, ones, cy, cx, radius, size, row_max, row_max_x, row_min, row_min_x)
        ranks[cy, cx] = r
    # Phases 2 and 3: from the initial pattern, fill the largest voids, ranking upwards.
    ones, energy, row_max, row_max_x, row_min, row_min_x = saved
    covered = np.zeros((size, size), dtype=np.bool_)
    count = 0
    for y in range(size):
        for x in range(size):
            if ones[y, x]:
                count += _cover(covered, offsets, y, x, size)
    r = start
    while r < n and count < n:
        vy = np.argmin(row_min)
        vx = row_min_x[vy]
        _vac_flip(energy, kernel, ones, vy, vx, radius, size, row_max, row_max_x, row_min, row_min_x)
        ranks[vy, vx] = r
        count += _cover(covered, offsets, vy, vx, size)
        r += 1
    for y in range(size):
        for x in range(size):
            if not ones[y, x]:
                ranks[y, x] = r
                r += 1
    return ranks


@njit(cache=True)
def _cover(covered, offsets, y, x, size):
    added = 0
    for m in range(offsets.shape[0]):
        yy = (y + offsets[m, 0]) % size
        xx = (x + offsets[m, 1]) % size
        if not covered[yy, xx]:
            covered[yy, xx] = True
            added += 1
    return added


@njit(cache=True)
def _vac_row(energy, ones, y, size, row_max, row_max_x, row_min, row_min_x):
    hi = -1e300
    hx = 0
    lo = 1e300
    lx = 0
    for x in range(size):
        e = energy[y, x]
        if ones[y, x]:
            if e > hi:
                hi = e
                hx = x
        elif e < lo:
            lo = e
            lx = x
    row_max[y] = hi
    row_max_x[y] = hx
    row_min[y] = lo
    row_min_x[y] = lx


@njit(cache=True)
def _vac_add(energy, kernel, y, x, sign, radius, size):
    for i in range(-radius, radius + 1):
        yy = (y + i) % size
        for j in range(-radius, radius + 1):
            xx = (x + j) % size
            energy[yy, xx] += sign * kernel[i + radius, j + radius]


@njit(cache=True)
def _vac_flip(energy, kernel, ones, y, x, radius, size, row_max, row_max_x, row_min, row_min_x):
    ones[y, x] = not ones[y, x]
    _vac_add(energy, kernel, y, x, 1.0 if ones[y, x] else -1.0, radius, size)
    for i in range(-radius, radius + 1):
        _vac_row(energy, ones, (y + i) % size, size, row_max, row_max_x, row_min, row_min_x)


def _blue_noise(seed: int, sigma: float, offsets: np.ndarray) -> np.ndarray:
    """A _TILE² tile of blue-noise ranks (int32, each of 0.._TILE²-1 once) for dots of footprint `offsets`."""
    return _void_and_cluster(_TILE, int(seed) % (2**31 - 1), float(sigma), offsets)


def _tiled(tile: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    reps = (-(-shape[0] // tile.shape[0]), -(-shape[1] // tile.shape[1]))
    return np.tile(tile, reps)[: shape[0], : shape[1]]


# --------------------------------------------------------------------------------------------------------------------
# Sketch


@njit(cache=True)
def _thin(img):
    """Zhang–Suen thinning of a 0/1 uint8 image, in place, then removal of staircase corners (8-connected lines)."""
    h, w = img.shape
    marks = np.empty((h * w, 2), dtype=np.int32)
    changed = True
    while changed:
        changed = False
        for step in range(2):
            count = 0
            for y in range(1, h - 1):
                for x in range(1, w - 1):
                    if img[y, x] == 0:
                        continue
                    p2 = img[y - 1, x]
                    p3 = img[y - 1, x + 1]
                    p4 = img[y, x + 1]
                    p5 = img[y + 1, x + 1]
                    p6 = img[y + 1, x]
                    p7 = img[y + 1, x - 1]
                    p8 = img[y, x - 1]
                    p9 = img[y - 1, x - 1]
                    b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9
                    if b < 2 or b > 6:
                        continue
                    a = 0
                    if p2 == 0 and p3 == 1:
                        a += 1
                    if p3 == 0 and p4 == 1:
                        a += 1
                    if p4 == 0 and p5 == 1:
                        a += 1
                    if p5 == 0 and p6 == 1:
                        a += 1
                    if p6 == 0 and p7 == 1:
                        a += 1
                    if p7 == 0 and p8 == 1:
                        a += 1
                    if p8 == 0 and p9 == 1:
                        a += 1
                    if p9 == 0 and p2 == 1:
                        a += 1
                    if a != 1:
                        continue
                    if step == 0:
                        if p2 * p4 * p6 != 0 or p4 * p6 * p8 != 0:
                            continue
                    else:
                        if p2 * p4 * p8 != 0 or p2 * p6 * p8 != 0:
                            continue
                    marks[count, 0] = y
                    marks[count, 1] = x
                    count += 1
            for k in range(count):
                img[marks[k, 0], marks[k, 1]] = 0
            if count > 0:
                changed = True
    # Staircases: a pixel with two 4-neighbours at a right angle whose opposite diagonal is empty is redundant.
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            if img[y, x] == 0:
                continue
            n = img[y - 1, x]
            s = img[y + 1, x]
            e = img[y, x + 1]
            wv = img[y, x - 1]
            if (
                (n and e and not img[y + 1, x - 1] and not s and not wv)
                or (e and s and not img[y - 1, x - 1] and not n and not wv)
                or (s and wv and not img[y - 1, x + 1] and not n and not e)
                or (wv and n and not img[y + 1, x + 1] and not s and not e)
            ):
                img[y, x] = 0
    return img


@njit(cache=True)
def _prune(img, max_len):
    """Remove side branches (end point to junction) of at most `max_len` pixels from a one-pixel skeleton."""
    h, w = img.shape
    dys = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
    dxs = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
    path_y = np.empty(max_len + 1, dtype=np.int64)
    path_x = np.empty(max_len + 1, dtype=np.int64)
    ends_y = []
    ends_x = []
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            if img[y, x] == 0:
                continue
            n = 0
            for k in range(8):
                n += img[y + dys[k], x + dxs[k]]
            if n == 1:
                ends_y.append(y)
                ends_x.append(x)
    for e in range(len(ends_y)):
        py = -1
        px = -1
        cy = ends_y[e]
        cx = ends_x[e]
        if img[cy, cx] == 0:
            continue
        length = 0
        while True:
            n = 0
            ny = -1
            nx = -1
            for k in range(8):
                yy = cy + dys[k]
                xx = cx + dxs[k]
                if img[yy, xx]:
                    n += 1
                    if not (yy == py and xx == px):
                        ny = yy
                        nx = xx
            if length > 0 and n >= 3:
                for m in range(length):
                    img[path_y[m], path_x[m]] = 0
                break
            if ny < 0 or length >= max_len or ny == 0 or nx == 0 or ny == h - 1 or nx == w - 1:
                break
            path_y[length] = cy
            path_x[length] = cx
            length += 1
            py = cy
            px = cx
            cy = ny
            cx = nx
    return img


def sketch(
    luminance: np.ndarray,
    *,
    px_mm: float,
    line_width_mm: float | None = None,
    detail: float = 0.5,
    threshold: float = 0.5,
) -> np.ndarray:
    """Line art from the edges of `luminance`, drawn as clean strokes `line_width_mm` wide (default: one pixel).

    `detail` (0–1) sets the scale of the edges kept: 0 keeps only broad contours, 1 keeps fine texture.
    `threshold` (0–1) is where the soft edge map is cut: higher draws more and weaker edges. Tone is not reproduced.
    """
    lum = _plane(luminance, "luminance")
    if px_mm <= 0:
        raise ValueError("px_mm must be positive")
    detail = float(np.clip(detail, 0.0, 1.0))
    threshold = float(np.clip(threshold, 0.0, 1.0))
    width_px = 1.0 if line_width_mm is None else max(float(line_width_mm) / px_mm, 1.0)

    # Perceptual lightness, so edges in shadows count as much as edges in highlights.
    light = np.sqrt(lum)
    sigma_mm = 0.45 * 4.0 ** (-detail)  # 0.45 mm (broad contours) .. 0.11 mm (fine texture)
    sigma = max(sigma_mm / px_mm, 0.6)
    dog = _blur(light, sigma) - _blur(light, 1.6 * sigma)
    # Contrast-normalised, so strong edges reach about -1 whatever the photo's contrast; the floor keeps a flat or
    # nearly flat picture from having its noise amplified into lines.
    scale = max(float(np.percentile(np.abs(dog[::2, ::2]), 99.5)), 0.02)
    d = dog / scale
    # XDoG soft threshold: paper (1) on the light side of an edge, a tanh ramp down to ink (0) on its dark side.
    eps = 0.02 + 0.2 * (1.0 - detail)
    soft = np.where(d >= -eps, 1.0, 1.0 + np.tanh(4.0 * (d + eps))).astype(np.float32)
    soft = _blur(soft, 0.4 * sigma)
    # Hysteresis: weaker ink survives where it continues a stroke that crosses the threshold somewhere.
    strong = soft < threshold
    weak = (soft < threshold + 0.4 * (1.0 - threshold)).astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    ink = keep[labels].astype(np.uint8)

    # Centre lines without short side branches or fragments, redrawn at the pen width.
    skeleton = _thin(np.pad(ink, 1))
    skeleton = _prune(skeleton, max(2, round(2.0 * sigma)))[1:-1, 1:-1]
    min_len = max(3, round((1.5 - detail) * 4.0 * sigma))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(skeleton, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_len
    keep[0] = False
    lines = keep[labels]
    radius = width_px / 2.0 - 0.25  # pixel centres this close to a centre line are inked
    if radius < 1.0:
        return lines
    dist = cv2.distanceTransform((~lines).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist <= radius


# --------------------------------------------------------------------------------------------------------------------
# Stipple


def _dot_offsets(diameter: float) -> np.ndarray:
    """Pixel offsets (dy, dx) of a round dot: whichever of pixel- or corner-centred footprints is closest in area."""
    best = None
    target = math.pi * diameter * diameter / 4.0
    r = diameter / 2.0
    span = int(math.ceil(r)) + 1
    for c in (0.5, 0.0):  # corner-centred first, so ties prefer the compact even footprint
        ys, xs = np.mgrid[-span : span + 1, -span : span + 1]
        inside = (ys - c) ** 2 + (xs - c) ** 2 < r * r + 1e-9
        offs = np.stack([ys[inside], xs[inside]], axis=1).astype(np.int32)
        if len(offs) == 0:
            continue
        if best is None or abs(len(offs) - target) < abs(len(best) - target):
            best = offs
    return best


@njit(cache=True)
def _coverage_table(ranks, offsets):
    """Fraction of the torus covered after the dots of rank < k are stamped, for k = 0..n."""
    size = ranks.shape[0]
    n = size * size
    order = np.empty((n, 2), dtype=np.int32)
    for y in range(size):
        for x in range(size):
            r = ranks[y, x]
            order[r, 0] = y
            order[r, 1] = x
    burned = np.zeros((size, size), dtype=np.bool_)
    table = np.empty(n + 1)
    table[0] = 0.0
    count = 0
    for k in range(n):
        y = order[k, 0]
        x = order[k, 1]
        for m in range(offsets.shape[0]):
            yy = (y + offsets[m, 0]) % size
            xx = (x + offsets[m, 1]) % size
            if not burned[yy, xx]:
                burned[yy, xx] = True
                count += 1
        table[k + 1] = count / n
    return table


@njit(cache=True)
def _stamp(centres, offsets, pad, out):
    h, w = out.shape
    ch, cw = centres.shape
    for y in range(ch):
        for x in range(cw):
            if not centres[y, x]:
                continue
            for m in range(offsets.shape[0]):
                yy = y - pad + offsets[m, 0]
                xx = x - pad + offsets[m, 1]
                if 0 <= yy < h and 0 <= xx < w:
                    out[yy, xx] = True
    return out


@lru_cache(maxsize=32)
def _stipple_pattern(seed: int, diameter: float):
    """The dot footprint, its blue-noise ranking and coverage table: built once per seed and dot size."""
    offsets = _dot_offsets(diameter)
    # A wide energy kernel makes the sparse prefixes of the ranking as even as a relaxed (Lloyd) stipple.
    ranks = _blue_noise(seed, min(0.95 * diameter, 6.0), offsets)
    return offsets, ranks, _coverage_table(ranks, offsets)


def stipple(coverage: np.ndarray, *, spot_px: float, px_mm: float, seed: int = 0) -> np.ndarray:
    """Blue-noise stipple: round dots about three laser marks (and at least 0.3 mm) across, density following tone.

    Light and mid tones are burned dots on the surface; tones darker than 70% are the negative, round unburned holes
    in a burned field, so dots stay distinct on both sides and only touch around the middle (about 40–70%). The
    burned area matches `coverage` to a fraction of a percent on flat areas. `seed` picks the blue-noise pattern.
    """
    cov = _plane(coverage, "coverage")
    if spot_px <= 0 or px_mm <= 0:
        raise ValueError("spot_px and px_mm must be positive")
    diameter = round(max(3.0 * float(spot_px), 0.3 / px_mm, 2.0), 3)
    offsets, ranks, table = _stipple_pattern(int(seed), diameter)
    # Both patterns are laid over the whole picture, each pixel then takes the one for its tone, so a dot (or hole)
    # centred across the boundary between the two still counts.
    pad = int(np.abs(offsets).max())
    ranks_full = _tiled(ranks, (cov.shape[0] + 2 * pad, cov.shape[1] + 2 * pad))
    # Rank limits through a table of 4096 tone levels: the smallest count whose dots cover at least that area.
    levels = np.searchsorted(table, np.linspace(0.0, 1.0, _LEVELS), side="left").astype(np.int32)
    index = np.rint(np.pad(cov, pad, mode="edge") * (_LEVELS - 1)).astype(np.intp)
    dot_limits = levels[index]
    hole_limits = levels[_LEVELS - 1 - index]
    dots = _stamp(ranks_full < dot_limits, offsets, pad, np.zeros(cov.shape, dtype=np.bool_))
    holes = _stamp(ranks_full < hole_limits, offsets, pad, np.zeros(cov.shape, dtype=np.bool_))
    return np.where(cov > _STIPPLE_INVERT, ~holes, dots)


# --------------------------------------------------------------------------------------------------------------------
# Hatch


def _lattice(angle_deg: float) -> tuple[int, int] | None:
    """Small integers (a, b) with the lines' normal parallel to (a, b), if the angle is a simple lattice direction."""
    theta = math.radians(angle_deg)
    nx, ny = -math.sin(theta), -math.cos(theta)
    for m in range(1, 5):
        for a in range(-m, m + 1):
            for b in range(-m, m + 1):
                if max(abs(a), abs(b)) != m or math.gcd(a, b) != 1:
                    continue
                norm = math.hypot(a, b)
                if abs(nx * b - ny * a) < 1e-9 * norm and nx * a + ny * b > 0:
                    return a, b
    return None


@njit(cache=True)
def _grating(width, nx, ny, spacing, box, along):
    """Pixels under lines of the given widths; the normal (nx, ny) points across the lines, `spacing` apart.

    With `box` > 0 (a simple lattice angle, the spacing snapped to its step) each pixel takes the fraction of a
    `box`-wide strip across it that the line covers; partial pixels fire by a golden-ratio sequence along the line,
    so an edge grows one pixel at a time, evenly, and the burned area equals the line width exactly. Otherwise the
    pixel centre is sampled: the lattice then meets the lines at every phase, which averages to the exact area.
    """
    h, w = width.shape
    out = np.zeros((h, w), dtype=np.bool_)
    tx = -ny
    ty = nx
    for y in range(h):
        for x in range(w):
            half = 0.5 * width[y, x]
            if half <= 0.0:
                continue
            u = x * nx + y * ny
            k = math.floor(u / spacing + 0.5)
            d = u - k * spacing
            if box <= 0.0:
                if abs(d) < half or spacing - abs(d) < half:
                    out[y, x] = True
                continue
            lo = d - 0.5 * box
            hi = d + 0.5 * box
            f = max(0.0, min(hi, half) - max(lo, -half))
            # The neighbouring line on the far side, when lines nearly touch.
            other = d - spacing if d > 0 else d + spacing
            f += max(0.0, min(other + 0.5 * box, half) - max(other - 0.5 * box, -half))
            f /= box
            if f >= 1.0 - 1e-9:
                out[y, x] = True
            elif f > 1e-9:
                idx = math.floor((x * tx + y * ty) / along + 0.5)
                tau = (idx * 0.6180339887498949 + k * 0.4142135623730951 + (0.5 if d > 0 else 0.0)) % 1.0
                out[y, x] = f > tau
    return out


def _hatch_set(width: np.ndarray, angle_deg: float, spacing: float) -> np.ndarray:
    theta = math.radians(angle_deg)
    nx, ny = -math.sin(theta), -math.cos(theta)
    lattice = _lattice(angle_deg)
    if lattice is None:
        return _grating(width, nx, ny, spacing, 0.0, 1.0)
    a, b = lattice
    norm = math.hypot(a, b)
    return _grating(width, a / norm, b / norm, spacing, 1.0 / norm, norm)


def _snap_spacing(spacing: float, angle_deg: float) -> float:
    """On a simple lattice angle, a whole number of lattice steps, coprime to a² + b² so crossed sets stay
    independent (the area of their overlap is then the product of their areas)."""
    lattice = _lattice(angle_deg)
    if lattice is None:
        return spacing
    a, b = lattice
    q = a * a + b * b
    step = 1.0 / math.sqrt(q)
    base = max(2, round(spacing / step))
    for delta in (0, 1, -1, 2, -2, 3, -3):
        n = base + delta
        if n >= 2 and math.gcd(n, q) == 1:
            return n * step
    return base * step


def hatch(
    coverage: np.ndarray,
    *,
    spot_px: float,
    px_mm: float,
    angle_deg: float = 45.0,
    spacing_mm: float | None = None,
    cross_above: float = 0.6,
) -> np.ndarray:
    """Engraved hatching: lines at `angle_deg` whose width is coverage × spacing, cross-hatched above `cross_above`.

    The default spacing is max(3 spots, 0.4 mm). Burned area matches `coverage` on flat areas.
    """
    cov = _plane(coverage, "coverage")
    if spot_px <= 0 or px_mm <= 0:
        raise ValueError("spot_px and px_mm must be positive")
    spacing = max(3.0 * spot_px, 0.4 / px_mm) if spacing_mm is None else max(float(spacing_mm) / px_mm, 2.0)
    cross_above = float(np.clip(cross_above, 0.0, 1.0))
    # Widths change smoothly along a line, as an engraver's would: tone is averaged over about a line spacing.
    tone = np.clip(_blur(cov, spacing / 3.0), 0.0, 1.0)
    if cross_above < 1.0:
        first = np.minimum(tone, cross_above)
        # Independent gratings: 1 - (1 - a)(1 - b) = tone.
        second = np.where(tone > cross_above, 1.0 - (1.0 - tone) / max(1.0 - cross_above, 1e-6), 0.0)
    else:
        first, second = tone, np.zeros_like(tone)
    spacing = _snap_spacing(spacing, angle_deg)
    out = _hatch_set((first * spacing).astype(np.float32), angle_deg, spacing)
    if np.any(second > 0):
        out |= _hatch_set((second * spacing).astype(np.float32), angle_deg + 90.0, spacing)
    return out
