"""Held-out check of dot-gain compensation: flat patches at marks and targets the tests do not use.

For every error-diffusion kernel, random marks of 1.3–2.95 px and targets of 0.03–0.97 (drawn from --seed) are
burned as 320 × 256 px flat patches through `prepare_artwork`, and the marked area is measured over rows 96–288
and columns 40–216 (not the window the calibration measured) under a stroke model written here: each fired pixel
marks every point within d/2 of its scan-line segment, sampled at 4 × 4 jittered points per pixel. Prints each
kernel's worst and mean absolute miss, in % of the area; nothing fails.

    python bench/dotgain_heldout.py [--seed 7] [--n 12] [--modes sierra3,jarvis]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import numpy as np

from intaglio.imaging import prepare_artwork
from intaglio.imaging.artwork import NEUTRAL_ADJUSTMENTS, get_machine, get_material
from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS

HEIGHT, WIDTH = 320, 256
ROWS, COLS = (96, 288), (40, 216)
INTERVAL_MM = 0.1


def stroke_coverage(burn: np.ndarray, mark_px: float, rng: np.random.Generator, strata: int = 4) -> float:
    """Marked fraction of the measured window: points tested against the nearest fired segment of each row."""
    h, w = burn.shape
    radius = mark_px / 2
    rows, cols = np.arange(*ROWS), np.arange(*COLS)
    shape = (rows.size, strata, cols.size, strata)
    offsets = (np.arange(strata) + 0.5) / strata - 0.5
    ys = rows[:, None, None, None] + offsets[None, :, None, None] + rng.uniform(-0.5, 0.5, shape) / strata
    xs = cols[None, None, :, None] + offsets[None, None, None, :] + rng.uniform(-0.5, 0.5, shape) / strata
    ys, xs = ys.ravel(), xs.ravel()
    fired_y, fired_x = np.nonzero(burn)
    covered = np.zeros(xs.size, dtype=bool)
    # For each row within reach, the distance from each point to the nearest fired segment of that row.
    by_row = {int(r): np.sort(fired_x[fired_y == r]).astype(np.float64) for r in np.unique(fired_y)}
    reach = math.ceil(radius + 0.5)
    centre = np.rint(ys).astype(np.int64)
    for dy in range(-reach, reach + 1):
        row = centre + dy
        for r in np.unique(row):
            segments = by_row.get(int(r))
            if segments is None:
                continue
            at = row == r
            x = xs[at]
            i = np.clip(np.searchsorted(segments, x), 1, segments.size - 1) if segments.size > 1 else None
            candidates = [segments[i - 1], segments[i]] if i is not None else [np.full(x.size, segments[0])]
            dx = np.min([np.maximum(0.0, np.abs(x - c) - 0.5) for c in candidates], axis=0)
            covered[at] |= dx * dx + (ys[at] - r) ** 2 <= radius * radius
    return float(covered.mean())


def grey_for(target: float) -> float:
    y = 1.0 - target
    return y * 12.92 if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055


def miss(mode: str, mark_px: float, target: float, rng: np.random.Generator) -> float:
    machine = dataclasses.replace(get_machine("diode-10w"), spot_mm=0.05)
    material = dataclasses.replace(get_material("maple"), spread_mm=mark_px * INTERVAL_MM - 0.05)
    art = prepare_artwork(
        np.full((HEIGHT, WIDTH), grey_for(target), dtype=np.float32),
        material=material,
        machine=machine,
        width_mm=WIDTH * INTERVAL_MM,
        height_mm=HEIGHT * INTERVAL_MM,
        line_interval_mm=INTERVAL_MM,
        mode=mode,
        **NEUTRAL_ADJUSTMENTS,
    )
    return stroke_coverage(art.burn, mark_px, rng) - target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n", type=int, default=12, help="(mark, target) points per kernel")
    parser.add_argument("--modes", default=",".join(DIFFUSION_KERNELS))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    points = [(round(rng.uniform(1.3, 2.95), 3), round(rng.uniform(0.03, 0.97), 3)) for _ in range(args.n)]
    print(f"seed {args.seed}: {args.n} points, marks 1.3–2.95 px, targets 0.03–0.97, {HEIGHT}×{WIDTH} px patches")
    for mode in args.modes.split(","):
        start = time.perf_counter()
        misses = {point: miss(mode, *point, rng) for point in points}
        worst = max(misses, key=lambda point: abs(misses[point]))
        mean = np.mean(np.abs(list(misses.values())))
        print(
            f"{mode:16s} worst {100 * misses[worst]:+.2f} % at (mark px, target) {worst}, mean |miss| "
            f"{100 * mean:.2f} %  ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
