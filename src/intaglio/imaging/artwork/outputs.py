"""Output writers for finished artwork: PNG (1-bit and grayscale), GRBL raster G-code and SVG (strokes, outlines or
bitmap).

Pure functions of their inputs (no Django, no clock, no randomness): the same input gives identical bytes.

Conventions shared with the engine:

- A 1-bit artwork is a 2-D bool array ``burn`` of shape (H, W); row 0 is the TOP of the artwork; True fires the laser.
- A grayscale artwork is a 2-D uint8 array ``power``: 0 is off, 255 is full power of the chosen range.
- The pixel pitch is ``px_mm = 25.4 / dpi``; the artwork measures ``W * px_mm`` by ``H * px_mm``.

G-code conventions (see :func:`gcode`):

- GRBL, millimetres (``G21``), absolute (``G90``), dynamic laser power (``M4``: the laser only fires while moving
  and GRBL scales the power with the actual speed, so corners and accelerations do not over-burn).
- GRBL's Y axis points up, so the artwork's bottom row is nearest ``origin``: pixel row ``r`` is scanned at
  ``y = origin_y + (H - 1 - r + 0.5) * px_mm`` and pixel column ``c`` spans ``origin_x + [c, c + 1) * px_mm``.
  Rows are scanned from the top of the artwork (largest Y) downwards.
- Coordinates have 3 decimals (1 µm), trailing zeros dropped: ``X12.345``, ``X12.3``, ``X12``.
- Modal words are only written when they change: ``G0``/``G1``, ``Y``, ``S`` and ``F`` (F is written once, on the
  first ``G1``). No ``G0`` runs with power in effect: without overscan every ``G0`` carries ``S0``; with overscan
  the lead-out has already set ``S0``. The laser is then off even on a controller not in laser mode (``$32=0``).
- White gaps inside a row up to ``gap_g0_mm`` (default 5 mm, and never less than twice the overscan) are crossed
  at feed with ``S0``; longer gaps end the segment (lead-out) and jump with ``G0`` to the next one (lead-in).
"""

from __future__ import annotations

import io
import itertools
import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = [
    "GcodeRaster",
    "gcode",
    "parse_gcode_raster",
    "png_1bit",
    "png_gray",
    "svg",
    "svg_image",
    "svg_outlines",
    "svg_strokes",
]

# zlib level for the PNG writers. Measured on dithered 1-bit artwork (the worst case for deflate): level 1 is the
# fastest (faster than level 0, which writes ~5 % more bytes) and within 0.3 % of level 9's size.
PNG_COMPRESS_LEVEL = 1

# Gaps inside a row at most this long are crossed at feed with the laser off rather than with a rapid.
DEFAULT_G0_GAP_MM = 5.0


# --------------------------------------------------------------------------------------------------------------
# PNG


def _check_dpi(dpi: float) -> float:
    dpi = float(dpi)
    if not math.isfinite(dpi) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}.")
    return dpi


def _check_2d(array: np.ndarray, name: str, *, allow_empty: bool) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {array.shape}.")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}.")
    return array


def _checked_burn(burn: np.ndarray, px_mm: float) -> tuple[np.ndarray, float]:
    """A bool artwork and a positive pixel pitch, or the error that says which is wrong."""
    burn = _check_2d(burn, "burn", allow_empty=True)
    if burn.dtype != np.bool_:
        raise TypeError(f"burn must be a bool array, got {burn.dtype}.")
    px_mm = float(px_mm)
    if not (math.isfinite(px_mm) and px_mm > 0):
        raise ValueError(f"px_mm must be positive, got {px_mm!r}.")
    return burn, px_mm


def _save_png(image: Image.Image, dpi: float) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def png_1bit(burn: np.ndarray, dpi: float) -> bytes:
    """A 1-bit PNG (mode "1") of ``burn``: burned pixels black (0), the rest white; the DPI is stored in pHYs.

    PNG stores whole pixels per metre, so the DPI reads back as ``round(dpi / 0.0254) * 0.0254``: within
    0.0127 dpi of the request (254, 300, 600 and 1000 dpi read back within 0.005).
    """
    burn = _check_2d(burn, "burn", allow_empty=False)
    if burn.dtype != np.bool_:
        raise TypeError(f"burn must be a bool array, got {burn.dtype}.")
    height, width = burn.shape
    # Mode "1" raw data: rows packed MSB first, padded to whole bytes, 1 = white.
    packed = np.packbits(~burn, axis=1)
    image = Image.frombytes("1", (width, height), packed.tobytes())
    return _save_png(image, _check_dpi(dpi))


def png_gray(power: np.ndarray, dpi: float) -> bytes:
    """An 8-bit grayscale PNG of ``power`` where darkness is power (pixel value ``255 - power``); DPI in pHYs."""
    power = _check_2d(power, "power", allow_empty=False)
    if power.dtype != np.uint8:
        raise TypeError(f"power must be a uint8 array, got {power.dtype}.")
    height, width = power.shape
    image = Image.frombytes("L", (width, height), np.ascontiguousarray(255 - power).tobytes())
    return _save_png(image, _check_dpi(dpi))


# --------------------------------------------------------------------------------------------------------------
# G-code


def _num(value: float) -> str:
    """Compact fixed-point: 3 decimals, no trailing zeros, no negative zero."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _s_levels(art: np.ndarray, *, s_max: int, s_min: int, power_pct: float) -> np.ndarray:
    """The S word of every pixel (int32, 0 = off); rounding is to nearest, halves up."""
    scale = power_pct / 100.0
    if art.dtype == np.bool_:
        s = math.floor(s_max * scale + 0.5)
        return np.where(art, np.int32(s), np.int32(0))
    if art.dtype == np.uint8:
        levels = np.floor(s_min + (s_max - s_min) * (np.arange(256) / 255.0) * scale + 0.5).astype(np.int32)
        levels[0] = 0
        return levels[art]
    raise TypeError(f"the artwork must be a bool or uint8 array, got {art.dtype}.")


def _runs(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of equal, non-zero level in each row: (row, c0, c1, s), sorted by row then column."""
    height, width = levels.shape
    padded = np.zeros((height, width + 2), dtype=np.int32)
    padded[:, 1:-1] = levels
    rows, cols = np.nonzero(padded[:, 1:] != padded[:, :-1])  # cols: index of the first pixel after a change
    values = padded[rows, cols + 1]
    # A segment starting at a change ends at the next change in the same row; the last segment of a row starts
    # at the right padding and has value 0, so it never survives the filter below.
    ends = np.empty_like(cols)
    ends[:-1] = cols[1:]
    ends[-1:] = width
    keep = values != 0
    return rows[keep], cols[keep], ends[keep], values[keep]


def gcode(
    burn_or_power: np.ndarray,
    *,
    px_mm: float,
    feed_mm_min: float,
    s_max: int,
    s_min: int = 0,
    power_pct: float = 100.0,
    overscan_mm: float = 0.0,
    bidirectional: bool = True,
    origin: tuple[float, float] = (0.0, 0.0),
    passes: int = 1,
    air_assist: bool = False,
    header_comment: str = "",
    gap_g0_mm: float = DEFAULT_G0_GAP_MM,
    return_home: bool = True,
) -> str:
    """GRBL raster G-code for a bool ``burn`` or uint8 ``power`` artwork (conventions in the module docstring).

    Power: a bool artwork fires at ``S = round(s_max * power_pct / 100)``; a uint8 artwork at
    ``S = round(s_min + (s_max - s_min) * power / 255 * power_pct / 100)``, with power 0 always off. Runs of equal S
    are one move each; a run over pixels ``[c0, c1)`` is ``X{origin_x + c1 * px_mm} S{s}`` after reaching
    ``origin_x + c0 * px_mm`` with the laser off (mirrored on right-to-left rows).

    ``bidirectional`` alternates the direction of the rows that burn (each pass starts left to right).
    ``overscan_mm`` adds a lead-in and lead-out at feed with ``S0`` around each burned segment, so the head is at
    speed over the artwork; it may take X below ``origin_x`` (keep soft limits and the work area in mind).
    ``passes`` repeats the raster. ``air_assist`` wraps the job in ``M8``/``M9``. ``return_home`` ends with
    ``G0 X0 Y0``. Rows with nothing to burn produce no moves at all.
    """
    art = _check_2d(burn_or_power, "burn_or_power", allow_empty=True)
    px_mm, feed_mm_min, overscan_mm, gap_g0_mm = float(px_mm), float(feed_mm_min), float(overscan_mm), float(gap_g0_mm)
    ox, oy = (float(v) for v in origin)
    if not (math.isfinite(px_mm) and px_mm > 0):
        raise ValueError(f"px_mm must be positive, got {px_mm!r}.")
    if not (math.isfinite(feed_mm_min) and feed_mm_min > 0):
        raise ValueError(f"feed_mm_min must be positive, got {feed_mm_min!r}.")
    if not (0 <= s_min <= s_max) or s_max <= 0:
        raise ValueError(f"need 0 <= s_min <= s_max and s_max > 0, got s_min={s_min!r}, s_max={s_max!r}.")
    if not (math.isfinite(power_pct) and 0 <= power_pct <= 100):
        raise ValueError(f"power_pct must be within 0..100, got {power_pct!r}.")
    if not (math.isfinite(overscan_mm) and overscan_mm >= 0):
        raise ValueError(f"overscan_mm must be >= 0, got {overscan_mm!r}.")
    if not (math.isfinite(gap_g0_mm) and gap_g0_mm >= 0):
        raise ValueError(f"gap_g0_mm must be >= 0, got {gap_g0_mm!r}.")
    if int(passes) != passes or passes < 1:
        raise ValueError(f"passes must be a whole number >= 1, got {passes!r}.")
    if not (math.isfinite(ox) and math.isfinite(oy)):
        raise ValueError(f"origin must be finite, got {origin!r}.")

    height, width = art.shape
    levels = _s_levels(art, s_max=int(s_max), s_min=int(s_min), power_pct=float(power_pct))

    head = [f"; {line}" for line in _comment_lines(header_comment)]
    head += ["G21", "G90", "M4 S0"]
    if air_assist:
        head.append("M8")
    tail = ["M5"]
    if air_assist:
        tail.append("M9")
    if return_home:
        tail.append("G0 X0 Y0")

    rows, c0, c1, s = _runs(levels) if levels.size else (np.empty(0, np.intp),) * 4
    if rows.size == 0:
        return "\n".join(head + tail) + "\n"

    # Scan order: rows top to bottom; on right-to-left rows, the runs in reverse.
    row_change = np.flatnonzero(np.diff(rows)) + 1
    row_start = np.concatenate(([0], row_change))
    row_stop = np.concatenate((row_change, [rows.size]))
    reverse = np.zeros(rows.size, dtype=bool)
    if bidirectional:
        rank = np.repeat(np.arange(row_start.size), row_stop - row_start)
        reverse = rank % 2 == 1
    order = np.arange(rows.size)
    if reverse.any():
        # Within each right-to-left row, index i maps to row_start + row_stop - 1 - i.
        first = np.repeat(row_start, row_stop - row_start)
        last = np.repeat(row_stop - 1, row_stop - row_start)
        order = np.where(reverse, first + last - order, order)
    rows, c0, c1, s, reverse = rows[order], c0[order], c1[order], s[order], reverse[order]
    enter = np.where(reverse, c1, c0)  # column edge where the run starts
    leave = np.where(reverse, c0, c1)  # column edge where the run ends

    n = rows.size
    new_row = np.ones(n, dtype=bool)
    new_row[1:] = rows[1:] != rows[:-1]
    gap = np.zeros(n, dtype=np.int64)
    gap[1:] = np.abs(enter[1:] - leave[:-1])
    gap[new_row] = 0
    long_gap_px = max(gap_g0_mm, 2.0 * overscan_mm) / px_mm
    seg_start = new_row | (gap > long_gap_px + 1e-9)
    seg_end = np.ones(n, dtype=bool)
    seg_end[:-1] = seg_start[1:]

    # String tables: every X a run can start or end at, and every S level in use.
    xs = [_num(ox + c * px_mm) for c in range(width + 1)]
    x_burn = np.array(["X" + x for x in xs], dtype=object)
    x_cross = np.array(["X" + x + " S0\n" for x in xs], dtype=object)
    s_used, s_index = np.unique(s, return_inverse=True)
    s_text = np.array([f" S{int(v)}\n" for v in s_used], dtype=object)
    ys = [_num(oy + (height - 1 - r + 0.5) * px_mm) for r in range(height)]
    f_word = "F" + _num(math.floor(feed_mm_min * 1000) / 1000)  # never above the requested feed

    pieces = np.empty((n, 4), dtype=object)
    pieces[:, 0] = np.where(gap > 0, x_cross[enter], "")
    pieces[:, 1] = x_burn[leave]
    pieces[:, 2] = s_text[s_index.reshape(-1)]
    pieces[:, 3] = ""

    # Segment openings and closings (few: one per row, plus one per long gap), built one by one.
    starts = np.flatnonzero(seg_start).tolist()
    openings = []
    previous_row = -1
    for i in starts:
        r, e = int(rows[i]), int(enter[i])
        y_word = f" Y{ys[r]}" if r != previous_row else ""
        previous_row = r
        if overscan_mm > 0:
            lead_in = _num(ox + e * px_mm + (overscan_mm if reverse[i] else -overscan_mm))
            openings.append((f"G0 X{lead_in}{y_word}\nG1 X{xs[e]}", "\n"))
        else:
            openings.append((f"G0 X{xs[e]}{y_word} S0\nG1 ", ""))
        pieces[i, 0] = "".join(openings[-1])
    if overscan_mm > 0:
        for i in np.flatnonzero(seg_end).tolist():
            lead_out = _num(ox + int(leave[i]) * px_mm + (-overscan_mm if reverse[i] else overscan_mm))
            pieces[i, 3] = f"X{lead_out} S0\n"
    later_passes = "".join(pieces.ravel().tolist()) if passes > 1 else ""
    # F once, on the first G1 of the job.
    before, after = openings[0]
    pieces[starts[0], 0] = f"{before} {f_word}{after}" if overscan_mm > 0 else f"{before}{f_word} "
    first_pass = "".join(pieces.ravel().tolist())

    return "\n".join(head) + "\n" + first_pass + later_passes * (int(passes) - 1) + "\n".join(tail) + "\n"


def _comment_lines(text: str) -> list[str]:
    """Header comment lines, printable ASCII only (anything else becomes '?')."""
    if not text:
        return []
    lines = []
    for line in text.splitlines():
        lines.append("".join(ch if 32 <= ord(ch) < 127 else "?" for ch in line).rstrip())
    return lines


# --------------------------------------------------------------------------------------------------------------
# G-code read-back (for tests and checks: exactly the subset gcode() writes)


@dataclass(frozen=True)
class GcodeRaster:
    """What a program written by :func:`gcode` burns, pixel by pixel."""

    bitmap: np.ndarray  # bool (H, W): burned at least once
    hits: np.ndarray  # int (H, W): how many times each pixel centre was burned (passes)
    s_map: np.ndarray  # int (H, W): the last S that burned each pixel (0 = never)
    x_range: tuple[float, float] | None  # min/max X of burning moves (mm), None when nothing burns
    y_range: tuple[float, float] | None  # min/max Y of burning moves (mm)
    feed: float | None  # the highest F in effect on any G1 move, None when there is no G1
    s_values: tuple[int, ...]  # the distinct S>0 of burning moves, ascending
    rapids_with_power: int  # G0 moves made with the laser on and S>0 in effect (should be 0)


_WORD = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))")


def parse_gcode_raster(
    text: str,
    *,
    px_mm: float,
    width_px: int,
    height_px: int,
    origin: tuple[float, float] = (0.0, 0.0),
) -> GcodeRaster:
    """Interpret the raster subset of G-code :func:`gcode` writes and rebuild the bitmap it burns.

    Understands G0/G1/G21/G90, M3/M4 (laser on), M5 (off), M8/M9 (ignored), X/Y/S/F with modal state and
    ``;``/``( )`` comments. A pixel is burned when a G1 with the laser on and S>0 passes over its centre on its
    row. Raises ValueError on anything else: other codes, a burning move that is not horizontal, not on a pixel
    row's centre line, or that leaves the artwork.
    """
    ox, oy = (float(v) for v in origin)
    hits = np.zeros((height_px, width_px), dtype=np.int32)
    s_map = np.zeros((height_px, width_px), dtype=np.int32)
    x = y = 0.0
    motion, s_now, feed_now, laser_on = 0, 0.0, None, False
    feed_max: float | None = None
    s_seen: set[int] = set()
    x_lo = y_lo = math.inf
    x_hi = y_hi = -math.inf
    rapids_with_power = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"\(.*?\)", "", raw.split(";", 1)[0]).strip().upper()
        if not line:
            continue
        words = _WORD.findall(line)
        if re.sub(r"\s", "", line) != "".join(letter + value for letter, value in words):
            raise ValueError(f"line {number}: cannot parse {raw!r}")
        nx, ny = x, y
        moved = False
        for letter, value in words:
            if letter == "G":
                code = float(value)
                if code in (0, 1):
                    motion = int(code)
                elif code not in (21, 90):
                    raise ValueError(f"line {number}: unsupported G{value}")
            elif letter == "M":
                code = float(value)
                if code in (3, 4):
                    laser_on = True
                elif code == 5:
                    laser_on = False
                elif code not in (8, 9):
                    raise ValueError(f"line {number}: unsupported M{value}")
            elif letter == "X":
                nx, moved = float(value), True
            elif letter == "Y":
                ny, moved = float(value), True
            elif letter == "S":
                s_now = float(value)
            elif letter == "F":
                feed_now = float(value)
            else:
                raise ValueError(f"line {number}: unsupported word {letter}{value}")
        if not moved:
            continue
        if motion == 0:
            if laser_on and s_now > 0:
                rapids_with_power += 1
        else:
            if feed_now is not None:
                feed_max = feed_now if feed_max is None else max(feed_max, feed_now)
            if laser_on and s_now > 0 and (nx != x or ny != y):
                if ny != y:
                    raise ValueError(f"line {number}: burning move is not horizontal")
                k = (y - oy) / px_mm - 0.5
                row_index = round(k)
                if abs(k - row_index) * px_mm > 0.001:
                    raise ValueError(f"line {number}: Y{y} is not on a pixel row's centre line")
                r = height_px - 1 - row_index
                lo, hi = min(x, nx), max(x, nx)
                c_lo = math.floor((lo - ox) / px_mm - 0.5) + 1
                c_hi = math.ceil((hi - ox) / px_mm - 0.5) - 1
                if c_hi >= c_lo:
                    if not (0 <= r < height_px and c_lo >= 0 and c_hi < width_px):
                        raise ValueError(f"line {number}: burning move leaves the artwork")
                    hits[r, c_lo : c_hi + 1] += 1
                    s_map[r, c_lo : c_hi + 1] = round(s_now)
                s_seen.add(round(s_now))
                x_lo, x_hi = min(x_lo, lo), max(x_hi, hi)
                y_lo, y_hi = min(y_lo, y), max(y_hi, y)
        x, y = nx, ny
    burned = bool(s_seen)
    return GcodeRaster(
        bitmap=hits > 0,
        hits=hits,
        s_map=s_map,
        x_range=(x_lo, x_hi) if burned else None,
        y_range=(y_lo, y_hi) if burned else None,
        feed=feed_max,
        s_values=tuple(sorted(s_seen)),
        rapids_with_power=rapids_with_power,
    )


# --------------------------------------------------------------------------------------------------------------
# SVG

# vtracer labels clusters with 16-bit numbers and panics past 65,535 provisional labels. A raster scan opens a new
# label at a pixel whose upper and left neighbours differ from it, so counting those pixels (for the artwork and
# for its negative) bounds the labels; above this bound the artwork is written pixel-exact instead of traced.
VTRACER_MAX_LABELS = 60_000

# "auto" traces shapes and writes textures pixel-exact: when the burned area averages fewer than this many pixels
# per 4-connected fragment (dithering, fine halftones), a polygon trace would smear it (a Floyd-Steinberg dither
# traces back with ~30 % of pixels wrong) and only grows the file. A few fragments are always traced.
TEXTURE_PX_PER_FRAGMENT = 16
TEXTURE_MIN_FRAGMENTS = 64

_PATH = re.compile(r"<path\b[^>]*/>")


def _label_starts(mask: np.ndarray) -> int:
    """Pixels of ``mask`` whose upper and left neighbours are outside it (a raster scan's new labels)."""
    fresh = mask.copy()
    fresh[1:] &= ~mask[:-1]
    fresh[:, 1:] &= ~mask[:, :-1]
    return int(np.count_nonzero(fresh))


def svg(
    burn: np.ndarray,
    *,
    px_mm: float,
    mode: str = "auto",
    filter_speckle: int = 2,
) -> str:
    """An SVG of the burned regions as filled black paths, sized in millimetres.

    The root has ``width="{W * px_mm}mm" height="{H * px_mm}mm" viewBox="0 0 W H"``: path coordinates are pixels,
    one unit per pixel edge, row 0 at the top.

    ``mode``:
    - ``"polygon"`` / ``"spline"``: a vtracer trace (binary colour mode); ``filter_speckle`` drops fragments smaller
      than about ``filter_speckle`` squared pixels (``0`` keeps everything).
    - ``"pixel"``: exact pixel outlines, one rectangle per horizontal run (large, but lossless).
    - ``"auto"`` (default): ``"polygon"`` for shapes, ``"pixel"`` for textures (see ``TEXTURE_PX_PER_FRAGMENT``).
    Artwork too fragmented for vtracer (``VTRACER_MAX_LABELS``) is always written as ``"pixel"``.

    Measured: vtracer overflows on a Floyd-Steinberg dither of 1250 x 938 px, which is written pixel-exact instead
    (~0.15 s, 8 MB; 4000 x 3000: ~1.1 s, 95 MB). Line art traces in ~0.05 s at 1250 x 938 and ~0.35 s at
    4000 x 3000 (a few kB).
    """
    burn = _check_2d(burn, "burn", allow_empty=True)
    if burn.dtype != np.bool_:
        raise TypeError(f"burn must be a bool array, got {burn.dtype}.")
    if mode not in ("auto", "polygon", "spline", "pixel"):
        raise ValueError(f"mode must be 'auto', 'polygon', 'spline' or 'pixel', got {mode!r}.")
    px_mm = float(px_mm)
    if not (math.isfinite(px_mm) and px_mm > 0):
        raise ValueError(f"px_mm must be positive, got {px_mm!r}.")
    height, width = burn.shape

    paths: list[str] = []
    burned = int(np.count_nonzero(burn))
    if burned:
        fragments = _label_starts(burn)
        if mode == "auto":
            texture = fragments > TEXTURE_MIN_FRAGMENTS and fragments * TEXTURE_PX_PER_FRAGMENT > burned
            mode = "pixel" if texture else "polygon"
        if max(fragments, _label_starts(~burn)) > VTRACER_MAX_LABELS:
            mode = "pixel"
        paths = _pixel_paths(burn) if mode == "pixel" else _traced_paths(burn, mode, filter_speckle)

    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(width * px_mm)}mm" '
        f'height="{_num(height * px_mm)}mm" viewBox="0 0 {width} {height}">\n'
    )
    return head + "".join(path + "\n" for path in paths) + "</svg>\n"


def _traced_paths(burn: np.ndarray, mode: str, filter_speckle: int) -> list[str]:
    import vtracer  # imported here: only the SVG writer needs it

    height, width = burn.shape
    image = Image.frombytes("1", (width, height), np.packbits(~burn, axis=1).tobytes())
    encoded = io.BytesIO()
    image.save(encoded, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    traced = vtracer.convert_raw_image_to_svg(
        encoded.getvalue(),
        img_format="png",
        colormode="binary",
        mode=mode,
        filter_speckle=int(filter_speckle),
    )
    return _PATH.findall(traced)


def _pixel_paths(burn: np.ndarray) -> list[str]:
    """One path per row with burned pixels: a rectangle ``M c0 r H c1 V r+1 H c0 Z`` per run."""
    rows, c0, c1, _ = _runs(burn.view(np.uint8))
    if rows.size == 0:
        return []
    height, width = burn.shape
    cols = np.array([str(c) for c in range(width + 1)], dtype=object)
    tops = np.array([f" {r}H" for r in range(height)], dtype=object)
    bottoms = np.array([f"V{r + 1}H" for r in range(height)], dtype=object)
    pieces = np.empty((rows.size, 7), dtype=object)
    pieces[:, 0] = "M"
    pieces[:, 1] = cols[c0]
    pieces[:, 2] = tops[rows]
    pieces[:, 3] = cols[c1]
    pieces[:, 4] = bottoms[rows]
    pieces[:, 5] = cols[c0]
    pieces[:, 6] = "Z"
    row_change = (np.flatnonzero(np.diff(rows)) + 1).tolist()
    bounds = [0, *row_change, rows.size]
    flat = pieces.ravel().tolist()
    return ['<path d="' + "".join(flat[7 * a : 7 * b]) + '" fill="#000000"/>' for a, b in itertools.pairwise(bounds)]


# --------------------------------------------------------------------------------------------------------------
# SVG for laser programs: centre-line strokes for line art, filled outlines for hatching, the exact bitmap for the rest

# Douglas–Peucker tolerance for stroke paths: half a pixel keeps every point within the line's own pixel.
STROKE_TOLERANCE_PX = 0.5

# The 8 neighbours (dy, dx), straight ones first.
_STRAIGHT = ((-1, 0), (0, -1), (0, 1), (1, 0))
_DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))


def _svg_head(width_mm: float, height_mm: float) -> str:
    w, h = _num(width_mm), _num(height_mm)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">\n'
    )


def svg_image(png: bytes, *, width_mm: float, height_mm: float) -> str:
    """An SVG that shows a PNG at an exact size in millimetres, pixel for pixel (no tracing, no smoothing).

    The root's viewBox is in millimetres; the ``<image>`` fills it (``preserveAspectRatio="none"``) and asks for
    nearest-neighbour scaling (``image-rendering``), so a laser program imports the dithered dots unchanged.

    Parameters
    ----------
    png : bytes
        The artwork's PNG (1-bit or grey), as `png_1bit` / `png_gray` write it.
    width_mm, height_mm : float
        The size it is shown at.

    Returns
    -------
    str
    """
    import base64

    if not (math.isfinite(width_mm) and math.isfinite(height_mm) and width_mm > 0 and height_mm > 0):
        raise ValueError(f"width_mm and height_mm must be positive, got {width_mm!r} x {height_mm!r}.")
    data = base64.b64encode(png).decode("ascii")
    w, h = _num(width_mm), _num(height_mm)
    return (
        _svg_head(width_mm, height_mm)
        + f'<image x="0" y="0" width="{w}" height="{h}" preserveAspectRatio="none" image-rendering="optimizeSpeed" '
        f'style="image-rendering:pixelated" xlink:href="data:image/png;base64,{data}"/>\n'
        "</svg>\n"
    )


def svg_strokes(
    burn: np.ndarray, *, px_mm: float, line_width_mm: float, tolerance_px: float = STROKE_TOLERANCE_PX
) -> str:
    """Line art as centre-line strokes: the burn thinned to its skeleton, traced and simplified.

    The skeleton (scikit-image's ``skeletonize``) is traced into polylines that end where lines meet (so branches
    share their junction point and round joins close them), closed loops become closed subpaths and lone dots
    zero-length strokes (a round cap draws them). Each polyline is simplified with Douglas–Peucker within
    `tolerance_px`. Everything is one ``<path>`` with ``stroke-width`` the line width, round caps and joins, no
    fill; coordinates in millimetres, the viewBox the artwork's size.

    Parameters
    ----------
    burn : numpy.ndarray
        H×W bool line art.
    px_mm : float
        The pixel pitch.
    line_width_mm : float
        The stroke width.
    tolerance_px : float
        How far (in pixels) a simplified line may stray from the skeleton.

    Returns
    -------
    str
    """
    burn, px_mm = _checked_burn(burn, px_mm)
    height, width = burn.shape
    head = _svg_head(width * px_mm, height * px_mm)
    polylines = _skeleton_polylines(burn) if burn.any() else []
    if not polylines:
        return head + "</svg>\n"
    import cv2

    parts = []
    for points, closed in polylines:
        if len(points) == 1:
            y, x = points[0]
            parts.append(f"M{_num((x + 0.5) * px_mm)} {_num((y + 0.5) * px_mm)}h0")
            continue
        xy = np.array(points, dtype=np.int32)[:, ::-1].reshape(-1, 1, 2)
        simple = cv2.approxPolyDP(xy, float(tolerance_px), closed).reshape(-1, 2)
        coords = [f"{_num((x + 0.5) * px_mm)} {_num((y + 0.5) * px_mm)}" for x, y in simple.tolist()]
        parts.append("M" + "L".join(coords) + ("Z" if closed else ""))
    return (
        head + f'<path d="{"".join(parts)}" fill="none" stroke="#000000" stroke-width="{_num(line_width_mm)}" '
        'stroke-linecap="round" stroke-linejoin="round"/>\n'
        "</svg>\n"
    )


def _skeleton_polylines(burn: np.ndarray) -> list[tuple[list[tuple[int, int]], bool]]:
    """The skeleton's lines as (row, column) pixel lists, each with whether it is a closed loop."""
    from skimage.morphology import skeletonize

    skeleton = np.pad(skeletonize(burn), 1)
    # m-adjacency: a diagonal neighbour counts only when no straight neighbour already links the two, so a
    # staircase is a line, not a chain of little triangles that would read as junctions.
    neighbours: dict[tuple[int, int], list[tuple[int, int]]] = {}
    ys, xs = np.nonzero(skeleton)
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        near = [(y + dy, x + dx) for dy, dx in _STRAIGHT if skeleton[y + dy, x + dx]]
        near += [
            (y + dy, x + dx)
            for dy, dx in _DIAGONAL
            if skeleton[y + dy, x + dx] and not skeleton[y + dy, x] and not skeleton[y, x + dx]
        ]
        neighbours[(y, x)] = near

    def unpadded(path):
        return [(y - 1, x - 1) for y, x in path]

    lines: list[tuple[list[tuple[int, int]], bool]] = []
    used: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    nodes = [p for p, near in neighbours.items() if len(near) != 2]
    for node in nodes:
        if not neighbours[node]:
            lines.append((unpadded([node]), False))
            continue
        for first in neighbours[node]:
            if (node, first) in used:
                continue
            path, previous, current = [node, first], node, first
            used.add((node, first))
            used.add((first, node))
            while len(neighbours[current]) == 2:
                a, b = neighbours[current]
                following = b if a == previous else a
                if (current, following) in used:
                    break
                used.add((current, following))
                used.add((following, current))
                path.append(following)
                previous, current = current, following
            lines.append((unpadded(path), False))
    # What is left are loops with no end or junction: trace each once, closed.
    for start, near in neighbours.items():
        if len(near) != 2 or (start, near[0]) in used:
            continue
        path, previous, current = [start], start, near[0]
        used.add((start, current))
        used.add((current, start))
        while current != start:
            path.append(current)
            a, b = neighbours[current]
            following = b if a == previous else a
            used.add((current, following))
            used.add((following, current))
            previous, current = current, following
        lines.append((unpadded(path), True))
    return lines


def svg_outlines(burn: np.ndarray, *, px_mm: float, tolerance_px: float = STROKE_TOLERANCE_PX) -> str:
    """Artwork as filled outlines: the closed contour of every burned shape, holes included, as one path.

    For artwork whose lines vary in width (hatch), which a single stroke width cannot draw: each burned line is
    its outline, so a laser program can fill, score or cut it. The contours follow the pixels' edges (traced on
    the artwork doubled in size, where every boundary pixel's outer half lies on an edge of the original pixel),
    through the middle of each pixel edge, so a staircase reads as the slanted line it stands for; they are then
    simplified with Douglas–Peucker within `tolerance_px` (a shape so small it would flatten is kept unsimplified).
    Shapes and their holes are subpaths of one ``<path fill-rule="evenodd">``, coordinates in millimetres, the
    viewBox the artwork's size.

    Parameters
    ----------
    burn : numpy.ndarray
        H×W bool artwork.
    px_mm : float
        The pixel pitch.
    tolerance_px : float
        How far (in pixels) a simplified outline may stray from the pixels' edges.

    Returns
    -------
    str
    """
    burn, px_mm = _checked_burn(burn, px_mm)
    height, width = burn.shape
    head = _svg_head(width * px_mm, height * px_mm)
    if not burn.any():
        return head + "</svg>\n"
    import cv2

    doubled = np.repeat(np.repeat(burn.view(np.uint8), 2, axis=0), 2, axis=1)
    contours, _ = cv2.findContours(doubled, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    parts = []
    for contour in contours:
        # Doubled pixel q is the left (top) half of pixel q // 2 when even, the right (bottom) half when odd: a
        # boundary on a left or top side lies on even q, on a right or bottom side on odd q, so (q + 1) // 2 is
        # the original pixel edge the outline runs along, one pixel step at a time.
        corners = (contour.reshape(-1, 2) + 1) // 2
        step = np.any(corners != np.roll(corners, 1, axis=0), axis=1)
        corners = corners[step]
        if len(corners) < 3:
            continue
        # The midpoints of the unit edges: on straight sides they are the side, across a staircase they are the
        # slanted line it stands for, so Douglas–Peucker can then replace it by one segment.
        middles = ((corners + np.roll(corners, -1, axis=0)) / 2).astype(np.float32)
        simple = cv2.approxPolyDP(middles.reshape(-1, 1, 2), float(tolerance_px), True).reshape(-1, 2)
        if len(simple) < 3:  # a shape of a pixel or two, which simplifying would flatten: kept as it is
            simple = middles
        parts.append("M" + "L".join(f"{_num(x * px_mm)} {_num(y * px_mm)}" for x, y in simple.tolist()) + "Z")
    return head + f'<path d="{"".join(parts)}" fill="#000000" fill-rule="evenodd" stroke="none"/>\n</svg>\n'
