"""Halftoning: turning a coverage map (fraction of area to burn, 0–1, linear light) into dots.

Every mode is tone-exact on flat areas before dot gain: error diffusion carries the whole error forward, and the
ordered and clustered screens offset each cell by blue noise so the levels between a matrix's steps are reached
on average instead of being posterised. Dot gain is handled outside (see dotgain.py), on the coverage map.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
from numba import njit

# Error-diffusion kernels: (dy, dx, weight) with weights summing to the divisor.
DIFFUSION_KERNELS: dict[str, tuple[tuple[tuple[int, int, int], ...], int]] = {
    "floyd-steinberg": (((0, 1, 7), (1, -1, 3), (1, 0, 5), (1, 1, 1)), 16),
    "atkinson": (((0, 1, 1), (0, 2, 1), (1, -1, 1), (1, 0, 1), (1, 1, 1), (2, 0, 1)), 8),
    "jarvis": (
        ((0, 1, 7), (0, 2, 5), (1, -2, 3), (1, -1, 5), (1, 0, 7), (1, 1, 5), (1, 2, 3))
        + ((2, -2, 1), (2, -1, 3), (2, 0, 5), (2, 1, 3), (2, 2, 1)),
        48,
    ),
    "stucki": (
        ((0, 1, 8), (0, 2, 4), (1, -2, 2), (1, -1, 4), (1, 0, 8), (1, 1, 4), (1, 2, 2))
        + ((2, -2, 1), (2, -1, 2), (2, 0, 4), (2, 1, 2), (2, 2, 1)),
        42,
    ),
    "burkes": (((0, 1, 8), (0, 2, 4), (1, -2, 2), (1, -1, 4), (1, 0, 8), (1, 1, 4), (1, 2, 2)), 32),
    "sierra3": (
        ((0, 1, 5), (0, 2, 3), (1, -2, 2), (1, -1, 4), (1, 0, 5), (1, 1, 4), (1, 2, 2))
        + ((2, -1, 2), (2, 0, 3), (2, 1, 2)),
        32,
    ),
    "sierra2": (((0, 1, 4), (0, 2, 3), (1, -2, 1), (1, -1, 2), (1, 0, 3), (1, 1, 2), (1, 2, 1)), 16),
    "sierra-lite": (((0, 1, 2), (1, -1, 1), (1, 0, 1)), 4),
}
ORDERED_SIZES = {"bayer2": 2, "bayer4": 4, "bayer8": 8}


@cache
def _kernel_arrays(name: str) -> tuple[np.ndarray, ...]:
    """Per-row tap offsets and weights (rows 0, 1, 2 below the current pixel)."""
    taps, divisor = DIFFUSION_KERNELS[name]
    out = []
    for row in (0, 1, 2):
        chosen = [t for t in taps if t[0] == row]
        out.append(np.array([t[1] for t in chosen], dtype=np.int64))
        # Atkinson's weights sum to 6/8 by design: it drops a quarter of the error (dot gain calibration evens
        # out the resulting tone shift); the classic weights are kept so it looks like Atkinson.
        out.append(np.array([t[2] / divisor for t in chosen], dtype=np.float32))
    return tuple(out)


@njit(cache=True, nogil=True, fastmath=True)
def _diffuse_with_spill(coverage, dx0, w0, dx1, w1, dx2, w2, serpentine, s_v, s_h, s_d):
    """Error diffusion that knows marks are wider than pixels (model-based, after Pappas and Neuhoff).

    A burned pixel darkens its unburned neighbours by s_v (above/below), s_h (beside) and s_d (diagonal), and no
    pixel is ever more than fully covered. Each pair of neighbours is accounted once, by whichever of the two is
    decided second, so the error carried forward is the difference from what the surface will really show.
    """
    h, width = coverage.shape
    pad = 2
    r0 = np.zeros(width + 2 * pad, dtype=np.float32)
    r1 = np.zeros(width + 2 * pad, dtype=np.float32)
    r2 = np.zeros(width + 2 * pad, dtype=np.float32)
    seen_above = np.zeros(width, dtype=np.float32)  # covered area of the decided pixels in the row above
    seen_here = np.zeros(width, dtype=np.float32)  # and in this row
    out = np.zeros((h, width), dtype=np.bool_)
    n0, n1, n2 = dx0.shape[0], dx1.shape[0], dx2.shape[0]
    for y in range(h):
        reverse = serpentine and (y & 1) == 1
        step = -1 if reverse else 1
        x = width - 1 if reverse else 0
        row = coverage[y]
        out_row = out[y]
        above = out[y - 1] if y > 0 else out[0]
        for _ in range(width):
            xp = x + pad
            value = row[x] + r0[xp]
            behind = x - step
            has_behind = 0 <= behind < width
            # If left clear: the spill it receives from burned decided neighbours (at most full cover).
            received = 0.0
            # If burned: itself, plus what it adds to clear decided neighbours (each at most up to full cover).
            added = 1.0
            if has_behind:
                if out_row[behind]:
                    received += s_h
                else:
                    added += min(s_h, 1.0 - seen_here[behind])
            if y > 0:
                if above[x]:
                    received += s_v
                else:
                    added += min(s_v, 1.0 - seen_above[x])
                for nx in (x - 1, x + 1):
                    if 0 <= nx < width:
                        if above[nx]:
                            received += s_d
                        else:
                            added += min(s_d, 1.0 - seen_above[nx])
            received = min(received, 1.0)
            if value >= 0.5 * (added + received):
                out_row[x] = True
                seen_here[x] = 1.0
                if has_behind and not out_row[behind]:
                    seen_here[behind] = min(1.0, seen_here[behind] + s_h)
                if y > 0:
                    for nx in (x - 1, x, x + 1):
                        if 0 <= nx < width and not above[nx]:
                            seen_above[nx] = min(1.0, seen_above[nx] + (s_v if nx == x else s_d))
                e = value - added
            else:
                seen_here[x] = received
                e = value - received
            for t in range(n0):
                r0[xp + dx0[t] * step] += e * w0[t]
            for t in range(n1):
                r1[xp + dx1[t] * step] += e * w1[t]
            for t in range(n2):
                r2[xp + dx2[t] * step] += e * w2[t]
            x += step
        r0, r1, r2 = r1, r2, r0
        r2[:] = 0.0
        r0[:pad] = 0.0
        r0[width + pad :] = 0.0
        r1[:pad] = 0.0
        r1[width + pad :] = 0.0
        seen_above, seen_here = seen_here, seen_above
        seen_here[:] = 0.0
    return out


def error_diffusion(
    coverage: np.ndarray,
    kernel: str = "floyd-steinberg",
    *,
    serpentine: bool = True,
    spill: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Error diffusion; with `spill` (vertical, horizontal, diagonal darkening of a mark's neighbours) the error
    is measured against what the surface will show (see _diffuse_with_spill)."""
    if spill is not None and max(spill) > 0:
        arrays = _kernel_arrays(kernel)
        return _diffuse_with_spill(np.ascontiguousarray(coverage, dtype=np.float32), *arrays, serpentine, *spill)
    from intaglio.imaging.artwork.diffusion_kernels import KERNELS

    return KERNELS[kernel](np.ascontiguousarray(coverage, dtype=np.float32), serpentine)


@cache
def bayer_matrix(n: int) -> np.ndarray:
    matrix = np.zeros((1, 1), dtype=np.int64)
    while matrix.shape[0] < n:
        m = matrix
        matrix = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return matrix


@cache
def blue_noise(size: int = 64, sigma: float = 1.5) -> np.ndarray:
    """A void-and-cluster blue-noise rank mask (values 0 … size²−1), deterministic, tileable."""
    n = size * size
    coords = np.arange(size)
    d = np.minimum(coords, size - coords).astype(np.float64)
    kernel = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma**2))
    rng = np.random.default_rng(20261122)
    pattern = np.zeros((size, size), dtype=bool)
    pattern.flat[rng.choice(n, n // 10, replace=False)] = True

    def energy(p):
        return np.real(np.fft.ifft2(np.fft.fft2(p.astype(np.float64)) * np.fft.fft2(kernel)))

    # Relax the initial pattern: move the tightest cluster into the largest void until stable.
    for _ in range(n):
        e = energy(pattern)
        cluster = np.argmax(np.where(pattern, e, -np.inf))
        pattern.flat[cluster] = False
        e = energy(pattern)
        void = np.argmin(np.where(pattern, np.inf, e))
        pattern.flat[void] = True
        if void == cluster:
            break
    ranks = np.zeros(n, dtype=np.int64)
    ones = int(pattern.sum())
    p = pattern.copy()
    e = energy(p)
    for rank in range(ones - 1, -1, -1):  # remove clusters: ranks below the initial density
        idx = np.argmax(np.where(p, e, -np.inf))
        p.flat[idx] = False
        ranks[idx] = rank
        e -= np.roll(np.roll(kernel, idx // size, 0), idx % size, 1)
    p = pattern.copy()
    e = energy(p)
    for rank in range(ones, n):  # fill voids: ranks above
        idx = np.argmin(np.where(p, np.inf, e))
        p.flat[idx] = True
        ranks[idx] = rank
        e += np.roll(np.roll(kernel, idx // size, 0), idx % size, 1)
    return ranks.reshape(size, size)


def _tile(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    reps = (-(-shape[0] // mask.shape[0]), -(-shape[1] // mask.shape[1]))
    return np.tile(mask, reps)[: shape[0], : shape[1]]


def ordered(coverage: np.ndarray, n: int) -> np.ndarray:
    """Bayer n×n dots; each n×n cell gets a blue-noise offset so in-between levels average out exactly."""
    return coverage > _ordered_thresholds(coverage.shape, n)


@lru_cache(maxsize=16)
def _ordered_thresholds(shape: tuple[int, int], n: int) -> np.ndarray:
    h, w = shape
    matrix = _tile(bayer_matrix(n).astype(np.float32), (h, w))
    noise = blue_noise().astype(np.float32) / blue_noise().size
    cell_noise = np.repeat(np.repeat(_tile(noise, (-(-h // n), -(-w // n))), n, 0), n, 1)[:h, :w]
    thresholds = (matrix + cell_noise) / (n * n)
    thresholds.flags.writeable = False
    return thresholds


def blue_noise_dither(coverage: np.ndarray) -> np.ndarray:
    return coverage > _blue_noise_thresholds(coverage.shape)


@lru_cache(maxsize=16)
def _blue_noise_thresholds(shape: tuple[int, int]) -> np.ndarray:
    mask = blue_noise()
    thresholds = (_tile(mask, shape).astype(np.float32) + 0.5) / mask.size
    thresholds.flags.writeable = False
    return thresholds


def clustered(coverage: np.ndarray, *, cell_px: float, angle_deg: float = 45.0) -> np.ndarray:
    """Newsprint-style round dots on a rotated screen; dot area follows coverage."""
    return coverage > _screen(coverage.shape, round(float(cell_px), 4), float(angle_deg))


@lru_cache(maxsize=16)
def _screen(shape: tuple[int, int], cell_px: float, angle_deg: float) -> np.ndarray:
    """The clustered screen's threshold map, built once per size, cell and angle.

    The spot function's values are replaced by their rank within one screen cell (equalised), so a flat area of
    coverage c burns exactly c of each cell; a blue-noise offset per cell reaches the levels between steps.
    """
    h, w = shape
    theta = np.deg2rad(angle_deg)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx * np.cos(theta) + yy * np.sin(theta)) / cell_px
    v = (-xx * np.sin(theta) + yy * np.cos(theta)) / cell_px
    fu, fv = u - np.floor(u), v - np.floor(v)
    # Round dots growing from the cell centre (lower value = burns first), checkerboard-joined at 50 %.
    spot = -(np.cos(2 * np.pi * fu) + np.cos(2 * np.pi * fv)) / 4 + 0.5
    grid = np.cos(2 * np.pi * np.linspace(0, 1, 256, endpoint=False))
    sample = np.sort((-(grid[:, None] + grid[None, :]) / 4 + 0.5).ravel())
    ranks = np.searchsorted(sample, spot).astype(np.float32) / sample.size
    noise = blue_noise().astype(np.float32) / blue_noise().size
    cell_index = (np.floor(u).astype(np.int64) % 64, np.floor(v).astype(np.int64) % 64)
    jitter = (noise[cell_index] - 0.5) / max(1.0, cell_px * cell_px)
    screen = np.clip(1 - ranks + jitter, 0, 1).astype(np.float32)
    screen.flags.writeable = False
    return screen


def grayscale_power(coverage: np.ndarray) -> np.ndarray:
    """Grayscale mode's power per pixel (0–255) before the material's tone curve is inverted."""
    return np.round(np.clip(coverage, 0, 1) * 255).astype(np.uint8)
