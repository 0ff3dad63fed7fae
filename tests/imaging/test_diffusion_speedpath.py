"""The generated plain error-diffusion kernels (kernelgen.py's split into a serial scan and vectorised loops) give
exactly the decisions of the textbook integer algorithm, for every kernel, both scan orders and odd sizes."""

from __future__ import annotations

import numpy as np
import pytest

from intaglio.imaging.artwork import halftone

FULL, HALF = 4080, 2040


def reference(coverage: np.ndarray, kernel: str, serpentine: bool) -> np.ndarray:
    """Plain Python: each pixel adds its weighted error to the pixels ahead, divided by the divisor when read."""
    taps, divisor = halftone.DIFFUSION_KERNELS[kernel]
    levels = (coverage.astype(np.float32) * np.float32(FULL) + np.float32(0.5)).astype(np.int64)
    h, w = coverage.shape
    incoming = [[0] * w for _ in range(h + 2)]
    out = np.zeros((h, w), dtype=bool)
    for y in range(h):
        step = -1 if serpentine and y % 2 else 1
        for x in range(w) if step == 1 else range(w - 1, -1, -1):
            total = incoming[y][x]
            if divisor & (divisor - 1) == 0:
                value = int(levels[y, x]) + (total >> (divisor.bit_length() - 1))
            else:
                value = int(levels[y, x]) + ((total * round(2**20 / divisor)) >> 20)
            burn = value >= HALF
            out[y, x] = burn
            error = value - FULL * burn
            for dy, dx, weight in taps:
                if 0 <= x + step * dx < w:
                    incoming[y + dy][x + step * dx] += error * weight
    return out


SHAPES = [(1, 1), (1, 7), (7, 1), (2, 2), (3, 5), (13, 29), (4, 300), (3, 1001)]


@pytest.mark.parametrize("kernel", list(halftone.DIFFUSION_KERNELS))
def test_plain_kernels_match_the_reference(kernel):
    rng = np.random.default_rng(7)
    for shape in SHAPES:
        inputs = [
            rng.random(shape, dtype=np.float32),
            (rng.random(shape, dtype=np.float32) * 1.4 - 0.2).astype(np.float32),  # resampling overshoot
            np.full(shape, 0.37, dtype=np.float32),
        ]
        for coverage in inputs:
            for serpentine in (True, False):
                got = halftone.error_diffusion(coverage, kernel, serpentine=serpentine)
                assert np.array_equal(got, reference(coverage, kernel, serpentine)), (shape, serpentine)


def test_empty_images():
    for kernel in halftone.DIFFUSION_KERNELS:
        for shape in ((0, 0), (0, 5), (5, 0)):
            assert halftone.error_diffusion(np.zeros(shape, dtype=np.float32), kernel).shape == shape
