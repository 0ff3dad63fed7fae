"""How long a raster job takes: the head's path as `outputs.gcode` writes it, timed with acceleration.

The path: rows top to bottom, every other burning row right to left (bidirectional); in each row, the burned runs
joined into segments wherever the white gap between them is at most ``max(gap_g0_mm, 2 × overscan)`` (crossed at
feed with the laser off); each segment run at feed from ``overscan_mm`` before its first burned pixel to
``overscan_mm`` after its last; rapid moves (G0, at the machine's maximum feed) from the start at (0, 0) to each
segment's start, between passes and back to (0, 0) at the end. Rows without burns cost nothing.

Timing: every move is a straight line with a trapezoidal speed profile at the machine's acceleration
(``Machine.accel_mm_s2``); from rest to rest, a move of length d at speed v takes d/v + v/a when it reaches v
(d ≥ v²/a), else 2·√(d/a). A segment is one move (its G1 words are collinear, so the controller runs them without
slowing). Within a row the head keeps its speed through the junctions between a segment and the rapid to the next
one (same direction), up to the feed and to √(a·L) of the shorter neighbouring segment; it stops at each row's
ends (a turn or a step). bench/burn_time.py checks this against a separate G-code reader and planner.

The fast estimate (before preparing): pass the artwork prepared at preview size (a coarser line interval, the same
millimetre size) and ``line_interval_mm`` of the real job. Each real row takes the segments of the preview row it
falls in, in millimetres: the path's lengths, row count and rapids are the real job's, only the burned runs'
extents come from the coarser picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from intaglio.imaging.artwork.outputs import DEFAULT_G0_GAP_MM, _runs, _s_levels


@dataclass(frozen=True)
class BurnTime:
    """A job's estimated duration, split into time at feed (burning and its run-ups) and rapid travel."""

    burn_s: float  # at feed: burned segments with their overscan and the white gaps crossed inside them
    travel_s: float  # rapid moves between segments, rows and passes, and to and from (0, 0)
    rows: int  # rows with something to burn, times passes
    segments: int  # feed moves, times passes

    @property
    def seconds(self) -> float:
        return self.burn_s + self.travel_s

    def text(self) -> str:
        """The duration for people: "45 s", "12 min 05 s", "2 h 03 min"."""
        return format_duration(self.seconds)


def format_duration(seconds: float) -> str:
    """A duration for people: "45 s", "12 min 05 s", "2 h 03 min".

    Parameters
    ----------
    seconds : float

    Returns
    -------
    str
    """
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def move_time(
    distance_mm: np.ndarray,
    speed_mm_s: float,
    accel_mm_s2: float,
    entry_mm_s: np.ndarray | float = 0.0,
    exit_mm_s: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Time of straight moves with a trapezoidal (or triangular) speed profile.

    Parameters
    ----------
    distance_mm : numpy.ndarray
        Move lengths.
    speed_mm_s : float
        The nominal speed.
    accel_mm_s2 : float
        The acceleration and deceleration.
    entry_mm_s, exit_mm_s : numpy.ndarray or float
        The speed at the move's start and end (at most the nominal speed, and reachable within the move).

    Returns
    -------
    numpy.ndarray
        Seconds per move.
    """
    d = np.maximum(np.asarray(distance_mm, dtype=np.float64), 0.0)
    v, a = float(speed_mm_s), float(accel_mm_s2)
    u, w = np.asarray(entry_mm_s, dtype=np.float64), np.asarray(exit_mm_s, dtype=np.float64)
    peak = np.minimum(v, np.sqrt((2 * a * d + u * u + w * w) / 2))
    ramps = (2 * peak * peak - u * u - w * w) / (2 * a)
    cruise = np.maximum(d - ramps, 0.0) / np.maximum(peak, 1e-12)
    return np.where(d > 0, (2 * peak - u - w) / a + cruise, 0.0)


def row_segments(
    mask: np.ndarray, px_mm: float, overscan_mm: float, gap_g0_mm: float = DEFAULT_G0_GAP_MM
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feed segments of each row, as `outputs.gcode` joins them, left to right.

    Parameters
    ----------
    mask : numpy.ndarray
        H×W bool: where the laser fires (S > 0).
    px_mm : float
        The pixel pitch.
    overscan_mm, gap_g0_mm : float
        As `outputs.gcode`'s: white gaps up to ``max(gap_g0_mm, 2 × overscan_mm)`` are crossed inside a segment.

    Returns
    -------
    rows, lo_mm, hi_mm : numpy.ndarray
        Per segment: its row (0 at the top) and the left and right edges of its burned pixels, in mm from the
        artwork's left edge; sorted by row, then left to right.
    """
    rows, c0, c1, _ = _runs(np.ascontiguousarray(mask).view(np.uint8))
    if rows.size == 0:
        return rows, np.empty(0), np.empty(0)
    long_gap_px = max(gap_g0_mm, 2.0 * overscan_mm) / px_mm
    start = np.ones(rows.size, dtype=bool)
    start[1:] = (rows[1:] != rows[:-1]) | (c0[1:] - c1[:-1] > long_gap_px + 1e-9)
    first = np.flatnonzero(start)
    last = np.append(first[1:], rows.size) - 1
    return rows[first], c0[first] * px_mm, c1[last] * px_mm


def path_time(
    rows: np.ndarray,
    lo_mm: np.ndarray,
    hi_mm: np.ndarray,
    row_y_mm: np.ndarray,
    *,
    origin: tuple[float, float],
    feed_mm_min: float,
    rapid_mm_min: float,
    accel_mm_s2: float,
    overscan_mm: float,
    bidirectional: bool,
    passes: int,
    return_home: bool = True,
) -> BurnTime:
    """The time of a raster path given its segments (see the module docstring for the path and the model).

    Parameters
    ----------
    rows, lo_mm, hi_mm : numpy.ndarray
        Segments as `row_segments` gives them (sorted by row, then left to right).
    row_y_mm : numpy.ndarray
        The Y of each row index, relative to the origin.
    origin : tuple of float
        The artwork's lower-left corner on the bed.
    feed_mm_min, rapid_mm_min, accel_mm_s2 : float
        Feed, rapid speed and acceleration.
    overscan_mm : float
        Run-up before and after each segment.
    bidirectional : bool
        Whether every other burning row runs right to left.
    passes : int
        How many times the path is run.
    return_home : bool
        Whether the head goes back to (0, 0) at the end.

    Returns
    -------
    BurnTime
    """
    n = rows.size
    if n == 0:
        return BurnTime(0.0, 0.0, 0, 0)
    ox, oy = origin
    new_row = np.ones(n, dtype=bool)
    new_row[1:] = rows[1:] != rows[:-1]
    rank = np.cumsum(new_row) - 1
    reverse = (rank % 2 == 1) if bidirectional else np.zeros(n, dtype=bool)
    if reverse.any():  # right-to-left rows run their segments in reverse order
        row_start = np.flatnonzero(new_row)
        row_stop = np.append(row_start[1:], n)
        counts = row_stop - row_start
        first, last = np.repeat(row_start, counts), np.repeat(row_stop - 1, counts)
        order = np.where(reverse, first + last - np.arange(n), np.arange(n))
        rows, lo_mm, hi_mm = rows[order], lo_mm[order], hi_mm[order]
    x_start = ox + np.where(reverse, hi_mm + overscan_mm, lo_mm - overscan_mm)
    x_end = ox + np.where(reverse, lo_mm - overscan_mm, hi_mm + overscan_mm)
    y = oy + row_y_mm[rows]

    a = float(accel_mm_s2)
    feed, rapid = feed_mm_min / 60.0, rapid_mm_min / 60.0
    length = np.abs(x_end - x_start)
    # Segments of one row run in one direction, and so do the rapids between them: the head keeps its speed
    # through those junctions (up to the feed, and what it can reach over the segments either side); at a row's
    # ends it stops, to turn or to step to the next row.
    same_row = rows[1:] == rows[:-1]
    carried = np.where(same_row, np.minimum(feed, np.sqrt(a * np.minimum(length[1:], length[:-1]))), 0.0)
    entry = np.concatenate(([0.0], carried))
    leave = np.concatenate((carried, [0.0]))
    burn_one = float(move_time(length, feed, a, entry, leave).sum())
    # Rapids: between consecutive segments, and the pass's way in (from home, or from the previous pass's end).
    hops = np.hypot(x_start[1:] - x_end[:-1], y[1:] - y[:-1])
    between = float(move_time(hops, rapid, a, carried, carried).sum())
    way_in = float(move_time(np.hypot(x_start[0], y[0]), rapid, a))
    next_pass = float(move_time(np.hypot(x_start[0] - x_end[-1], y[0] - y[-1]), rapid, a))
    home = float(move_time(np.hypot(x_end[-1], y[-1]), rapid, a)) if return_home else 0.0
    travel = way_in + passes * between + (passes - 1) * next_pass + home
    rows_burned = int(new_row.sum())
    return BurnTime(burn_s=passes * burn_one, travel_s=travel, rows=passes * rows_burned, segments=passes * n)


def estimate_burn_time(prepared, laser=None, *, line_interval_mm: float | None = None, layout=None) -> BurnTime:
    """How long the laser takes to run `prepared`'s G-code (see the module docstring for the model).

    Parameters
    ----------
    prepared : PreparedArtwork
        The artwork; for the fast estimate, the artwork prepared at preview size (same millimetres, coarser lines).
    laser : LaserSettings, optional
        Power, speed, passes, overscan and direction; by default `suggest_laser_settings` for its material and
        machine.
    line_interval_mm : float, optional
        The line interval of the real job when `prepared` is a coarser preview: the rows are the real job's, each
        taking the burned extents of the preview row it falls in. By default `prepared`'s own.
    layout : Layout, optional
        Where the piece sits (only its anchor and offset matter here); by default `prepared.layout`.

    Returns
    -------
    BurnTime
    """
    from intaglio.imaging.artwork.laser import suggest_laser_settings

    laser = laser or suggest_laser_settings(prepared.material, prepared.machine)
    layout = layout or prepared.layout
    machine = prepared.machine
    art = prepared.power if prepared.power is not None else prepared.burn
    firing = _s_levels(art, s_max=machine.s_max, s_min=machine.s_min, power_pct=laser.power_pct) != 0
    rows, lo, hi = row_segments(firing, prepared.px_mm, laser.overscan_mm)
    height_px = art.shape[0]
    interval = prepared.px_mm
    if line_interval_mm is not None and abs(line_interval_mm - interval) > 1e-9:
        # Real rows j = 0 … n-1 (top first), each with the segments of the preview row it falls in.
        interval = float(line_interval_mm)
        real_rows = max(1, round(height_px * prepared.px_mm / interval))
        source = np.minimum((np.arange(real_rows) + 0.5) * height_px / real_rows, height_px - 1).astype(np.intp)
        starts = np.searchsorted(rows, source, side="left")
        stops = np.searchsorted(rows, source, side="right")
        counts = stops - starts
        picks = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        rows, lo, hi = np.repeat(np.arange(real_rows), counts), lo[picks], hi[picks]
        height_px = real_rows
    row_y = (height_px - 1 - np.arange(height_px) + 0.5) * interval
    width_mm, height_mm = prepared.burn.shape[1] * prepared.px_mm, height_px * interval
    return path_time(
        rows,
        lo,
        hi,
        row_y,
        origin=layout.origin_mm(width_mm, height_mm, machine.work_area_mm),
        feed_mm_min=laser.speed_mm_min,
        rapid_mm_min=machine.max_feed_mm_min,
        accel_mm_s2=machine.accel_mm_s2,
        overscan_mm=laser.overscan_mm,
        bidirectional=laser.bidirectional,
        passes=laser.passes,
    )
