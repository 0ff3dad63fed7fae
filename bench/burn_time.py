"""Burn-time estimate against a separate G-code reader.

For several jobs (materials, machines, modes, sizes, placements, passes) this prepares the artwork, writes its
G-code, and times the program two ways:

- the engine: ``estimate_burn_time`` (artwork.burntime), from the artwork's own rows and runs;
- the reader here, which knows nothing of rows: it parses the G-code text (G0/G1 with modal X, Y, F; M and S words
  do not move), and runs every move through a look-ahead planner with trapezoidal speed profiles at the machine's
  acceleration. Junctions: a move continuing in the same direction (within 0.5°) keeps the lower of the two
  speeds, any turn or reversal stops the head (junction speed zero). Entry speeds are limited backwards and
  forwards by what the acceleration allows over each move, as GRBL's planner does. G0 runs at the machine's
  maximum feed. The head starts at rest at (0, 0).

Then the fast estimate: the same job prepared at a preview line interval (400 pixels across) and estimated for the real
interval, against the full estimate.

Prints, per job: the reader's time, the estimate, their ratio, and the preview estimate's ratio to the full one.
Target: within 10 %. Photos are synthetic (seeded), nothing is downloaded.

    .venv/bin/python bench/burn_time.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import re
import time

import numpy as np

from intaglio.imaging.artwork import (
    Layout,
    estimate_burn_time,
    get_machine,
    prepare_artwork,
    suggest_laser_settings,
)
from intaglio.imaging.artwork.laser import LaserSettings

WORD = re.compile(r"([A-Z])([-+]?\d*\.?\d+)")
PREVIEW_PX = 400  # the fast estimate's artwork: this many pixels wide, as the studio's preview
SAME_DIRECTION_COS = math.cos(math.radians(0.5))


def synthetic_photo(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A photo-like picture: a lit sphere, soft background gradient, a few dark shapes and fine noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    picture = 0.75 - 0.35 * (yy / height) + 0.1 * np.sin(xx / rng.uniform(40, 90))
    for _ in range(4):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(40, 160)
        d = np.hypot(xx - cx, yy - cy) / r
        shade = np.clip(1 - d, 0, 1) ** 0.7 * rng.uniform(-0.6, 0.5)
        picture += shade
    picture += rng.normal(0, 0.03, picture.shape)
    return np.clip(picture * 255, 0, 255).astype(np.uint8)


def read_moves(gcode: str) -> list[tuple[float, float, float, float, float]]:
    """(x0, y0, x1, y1, speed mm/s) of every move the program makes, in order; modal G, X, Y and F."""
    moves = []
    x = y = 0.0
    motion, feed = 0, None
    rapid_marker = -1.0
    for raw in gcode.splitlines():
        line = raw.split(";", 1)[0].strip().upper()
        if not line:
            continue
        nx, ny = x, y
        for letter, value in WORD.findall(line):
            if letter == "G":
                motion = int(float(value))
            elif letter == "X":
                nx = float(value)
            elif letter == "Y":
                ny = float(value)
            elif letter == "F":
                feed = float(value)
        if (nx, ny) != (x, y):
            if motion == 1 and feed is None:
                raise ValueError(f"G1 without a feed: {raw!r}")
            speed = rapid_marker if motion == 0 else feed / 60.0
            moves.append((x, y, nx, ny, speed))
            x, y = nx, ny
    return moves


def planned_time(moves, *, rapid_mm_s: float, accel: float) -> tuple[float, float]:
    """(seconds at feed, seconds in rapids) with look-ahead trapezoidal planning (see the module docstring)."""
    n = len(moves)
    if n == 0:
        return 0.0, 0.0
    start = np.array([(m[0], m[1]) for m in moves])
    end = np.array([(m[2], m[3]) for m in moves])
    speed = np.array([rapid_mm_s if m[4] < 0 else m[4] for m in moves])
    rapid = np.array([m[4] < 0 for m in moves])
    vec = end - start
    length = np.hypot(vec[:, 0], vec[:, 1])
    unit = vec / length[:, None]
    # junction[i]: the highest speed between move i-1 and move i (junction[0] and junction[n]: at rest).
    junction = np.zeros(n + 1)
    cos = np.einsum("ij,ij->i", unit[1:], unit[:-1])
    junction[1:n] = np.where(cos > SAME_DIRECTION_COS, np.minimum(speed[1:], speed[:-1]), 0.0)
    for i in range(n - 1, -1, -1):  # backwards: able to slow down in time
        junction[i] = min(junction[i], math.sqrt(junction[i + 1] ** 2 + 2 * accel * length[i]))
    for i in range(n):  # forwards: able to speed up in time
        junction[i + 1] = min(junction[i + 1], math.sqrt(junction[i] ** 2 + 2 * accel * length[i]))
    feed_s = rapid_s = 0.0
    for i in range(n):
        u, w, v, d = junction[i], junction[i + 1], speed[i], length[i]
        peak = min(v, math.sqrt((2 * accel * d + u * u + w * w) / 2))
        ramp = (peak * peak - u * u) / (2 * accel) + (peak * peak - w * w) / (2 * accel)
        t = (peak - u) / accel + (peak - w) / accel + max(d - ramp, 0.0) / peak
        if rapid[i]:
            rapid_s += t
        else:
            feed_s += t
    return feed_s, rapid_s


JOBS = [
    # (label, material, machine, mode, width mm, layout, laser override)
    ("birch FS diode-10w 80 mm", "birch-plywood", "diode-10w", "floyd-steinberg", 80, None, None),
    (
        "slate halftone co2-40w 120 mm, centred",
        "slate",
        "co2-40w",
        "halftone",
        120,
        Layout(anchor="center"),
        None,
    ),
    (
        "maple grayscale diode-5w 60 mm, oval, 2 passes one way",
        "maple",
        "diode-5w",
        "grayscale",
        60,
        Layout(mask="oval", mask_edge="soft", anchor="top-right", offset_mm=(-20, -20)),
        "two-passes",
    ),
    ("birch sketch diode-20w 100 mm", "birch-plywood", "diode-20w", "sketch", 100, None, None),
    ("anodised Jarvis fibre-30w 50 mm", "black-anodised-aluminium", "fibre-30w", "jarvis", 50, None, None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="photos per job (seeds 11, 12, …)")
    args = parser.parse_args()
    print(f"{'job':58} {'seed':>4} {'reader s':>9} {'estimate s':>10} {'ratio':>6} {'preview/full':>12} {'est ms':>7}")
    ratios, preview_ratios = [], []
    for label, material, machine_name, mode, width_mm, layout, override in JOBS:
        machine = get_machine(machine_name)
        laser = suggest_laser_settings(material, machine)
        if override == "two-passes":
            laser = LaserSettings(
                laser.power_pct, laser.speed_mm_min, 2, laser.overscan_mm, laser.air_assist, bidirectional=False
            )
        for seed in range(11, 11 + args.seeds):
            photo = synthetic_photo(seed)
            art = prepare_artwork(
                photo, material=material, machine=machine, width_mm=width_mm, mode=mode, layout=layout
            )
            started = time.perf_counter()
            estimate = estimate_burn_time(art, laser)
            estimate_ms = (time.perf_counter() - started) * 1000
            feed_s, rapid_s = planned_time(
                read_moves(art.gcode(laser)), rapid_mm_s=machine.max_feed_mm_min / 60, accel=machine.accel_mm_s2
            )
            truth = feed_s + rapid_s
            preview = prepare_artwork(
                photo,
                material=material,
                machine=machine,
                width_mm=width_mm,
                mode=mode,
                layout=layout,
                line_interval_mm=max(art.px_mm, width_mm / PREVIEW_PX),
            )
            quick = estimate_burn_time(preview, laser, line_interval_mm=art.px_mm)
            ratio, preview_ratio = estimate.seconds / truth, quick.seconds / estimate.seconds
            ratios.append(ratio)
            preview_ratios.append(preview_ratio)
            print(
                f"{label:58} {seed:>4} {truth:9.1f} {estimate.seconds:10.1f} {ratio:6.3f} {preview_ratio:12.3f} "
                f"{estimate_ms:7.1f}"
            )
            print(
                f"{'':58} {'':>4} feed {feed_s:.1f} + rapid {rapid_s:.1f}; estimate burn {estimate.burn_s:.1f} + "
                f"travel {estimate.travel_s:.1f}"
            )
    ratios, preview_ratios = np.array(ratios), np.array(preview_ratios)
    print(
        f"\nestimate / reader: worst {np.max(np.abs(ratios - 1)) * 100:.1f} % off (range {ratios.min():.3f}–"
        f"{ratios.max():.3f}); preview / full: worst {np.max(np.abs(preview_ratios - 1)) * 100:.1f} % off "
        f"(range {preview_ratios.min():.3f}–{preview_ratios.max():.3f})"
    )


if __name__ == "__main__":
    main()
