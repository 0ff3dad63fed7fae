"""Halftoning: turning a coverage map (fraction of area to burn, 0–1, linear light) into dots.

Every mode is tone-exact on flat areas before dot gain: error diffusion carries the whole error forward, and the
ordered and clustered screens offset each cell by blue noise so the levels between a matrix's steps are reached
on average instead of being posterised. Dot gain is handled outside (see dotgain.py), on the coverage map.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from intaglio.imaging.artwork.tone import FUSED_MIN_PIXELS

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


def error_diffusion(
    coverage: np.ndarray,
    kernel: str = "floyd-steinberg",
    *,
    serpentine: bool = True,
    spill: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Error diffusion (generated kernels, see kernelgen.py).

    With `spill` (how much a mark darkens a clear neighbour above/below, beside and diagonally, as a fraction of a
    pixel) the diffusion is model-based, after Pappas and Neuhoff: each decision compares the picture with what
    the surface will show given the marks already decided, each pair of neighbours is accounted once (by the one
    decided second), and no pixel counts as more than fully covered. The input is then modulated by a little blue
    noise, and the decisions' thresholds too (`_THRESHOLD_JITTER`; both zero mean, fading out towards 0 and 1):
    with wide marks, diffusion otherwise locks into periodic patterns at some levels whose dot gain differs from
    their neighbours' by up to 2.5 % of the area, and the three-row kernels into long stripes whose coverage varies
    from place to place by 1–2 %, so a flat area's tone would depend on where it landed rather than on the
    calibration. Atkinson, which drops a
    quarter of its error, is given its light and dark ends as a dither of single marks and holes instead
    (`_atkinson_input`): flat, they would fire nothing or go solid.

    Parameters
    ----------
    coverage : numpy.ndarray
        H×W fraction of area to burn, 0–1.
    kernel : str
        One of `DIFFUSION_KERNELS`.
    serpentine : bool
        Alternate the scan direction per row.
    spill : (float, float, float), optional
        Coverage a mark adds to a clear neighbour above/below, beside and diagonally (dotgain.neighbour_spill).

    Returns
    -------
    numpy.ndarray
        H×W bool, True where the laser fires.
    """
    from intaglio.imaging.artwork.diffusion_kernels import FULL, KERNELS, SPILL_KERNELS

    coverage = np.ascontiguousarray(coverage, dtype=np.float32)
    if spill is not None and max(spill) > 0:
        s_v, s_h, s_d = (round(value * FULL) for value in spill)
        modulated = _atkinson_input(coverage, spill) if kernel == "atkinson" else _modulated(coverage)
        return SPILL_KERNELS[kernel](modulated, serpentine, s_v, s_h, s_d, _threshold_noise())
    return KERNELS[kernel](coverage, serpentine)


# Peak to peak, in pixels of covered area: a decision's threshold moves by up to ±1 pixel. Threshold modulation
# breaks the long stripes the three-row kernels lock into with wide marks (a flat area's coverage then varies
# from place to place by about a third as much), and unlike input noise it leaves the error carried exact.
_THRESHOLD_JITTER = 2.0


@cache
def _threshold_noise() -> np.ndarray:
    """64 × 64 blue noise in the kernels' integer steps, as added to twice a pixel's value (see kernelgen)."""
    from intaglio.imaging.artwork.diffusion_kernels import FULL

    noise = (blue_noise().astype(np.float64) + 0.5) / blue_noise().size - 0.5
    jitter = np.rint(noise * 2 * FULL * _THRESHOLD_JITTER).astype(np.int64)
    jitter.flags.writeable = False
    return jitter


_MODULATION = np.float32(0.1)  # peak to peak; half of it left streaks of locked patterns at 3 px marks
_MODULATION_FADE = np.float32(0.05)  # full strength from this far inside 0–1, so solid and clear stay exact


def _modulated(coverage: np.ndarray) -> np.ndarray:
    noise = _centred_blue_noise(coverage.shape)
    if coverage.size >= FUSED_MIN_PIXELS:
        from intaglio.imaging.artwork.fused import modulate

        # The same float32 steps as below, in one pass.
        return modulate(coverage, noise, _MODULATION, _MODULATION_FADE)
    strength = _MODULATION * np.minimum(np.float32(1), np.minimum(coverage, 1 - coverage) / _MODULATION_FADE)
    return np.ascontiguousarray(np.clip(coverage + strength * noise, 0, 1), dtype=np.float32)


# Atkinson, model-based: the nominal range given to isolated marks (spikes) at the light end and to isolated
# holes (dips) at the dark end; the rest is the flat, modulated input.
_ATKINSON_SPIKES = np.float32(0.15)
_ATKINSON_DIPS = np.float32(0.05)


def _atkinson_input(coverage: np.ndarray, spill: tuple[float, float, float]) -> np.ndarray:
    """Atkinson's input with wide marks: a blue-noise dither of spikes and dips over a flat, modulated remainder.

    Atkinson passes on only 6/8 of its error, so a flat area builds up at most 4 times its level, and a mark
    fires once that reaches half of what the mark costs on the surface (itself plus what it spills onto the
    neighbours decided before it): below about cost / 8, a flat area fires nothing (0.6 at 3 px marks), and
    near solid it jumps to solid. Spikes of exactly a mark's cost each fire one mark and leave no error, so
    the lightest `_ATKINSON_SPIKES` of the nominal range place marks one by one, at the density asked for; the
    flat remainder, stretched over the rest of the range, fires on top of them and takes over (the spikes seed
    its first marks, so the response rises without a jump). Dips of minus that cost clear holes at the dark end
    the same way. The response is not linear in the nominal coverage, nor need it be: the dot-gain compensation
    measures it (dotgain.compensate), and it rises from clear to solid in steps of about 1 % of the area.
    """
    s_v, s_h, s_d = spill
    cost = np.float32(1 + s_v + s_h + 2 * s_d)
    rank = _blue_noise_thresholds(coverage.shape)  # uniform in 0–1, blue-noise arranged
    spikes = np.minimum(coverage, _ATKINSON_SPIKES) / cost
    dips = np.minimum(1 - coverage, _ATKINSON_DIPS) / cost
    rest = np.clip((coverage - _ATKINSON_SPIKES) / (1 - _ATKINSON_SPIKES - _ATKINSON_DIPS), 0, 1)
    dithered = _modulated(rest) + cost * (rank < spikes) - cost * (rank > 1 - dips)
    return np.ascontiguousarray(dithered, dtype=np.float32)


@lru_cache(maxsize=16)
def _centred_blue_noise(shape: tuple[int, int]) -> np.ndarray:
    mask = blue_noise()
    noise = (_tile(mask, shape).astype(np.float32) + 0.5) / mask.size - np.float32(0.5)
    noise.flags.writeable = False
    return noise


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
    # Just under 1 at the top, so full coverage burns solid (the comparison is strict, and jitter reaches past 1).
    screen = np.clip(1 - ranks + jitter, 0, np.nextafter(np.float32(1), np.float32(0))).astype(np.float32)
    screen.flags.writeable = False
    return screen
