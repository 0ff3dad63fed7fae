"""One-pass loops for the engine's hot path: what numpy does in several passes over a picture, in one.

`tone.lookup`'s index is clip(value · (n − 1) + ½, 0, n − 1) truncated, in float32; numpy spends four passes and
two temporaries of the picture's size on it (a multiply-add, a clip, a cast, a gather). The loops here compute the
very same values per pixel, with the same float32 operations in the same order (no fused multiply-adds), so they
agree with numpy to the bit (tests/imaging/test_tone_fused.py). Compiled on first use (numba, cached on disk); the
callers import this module only for pictures large enough to gain from it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_HALF = np.float32(0.5)
_ZERO = np.float32(0.0)


@njit(cache=True, nogil=True)
def _gather_values(values, table, out):
    scale = np.float32(table.size - 1)
    for i in range(values.size):
        # Same operations as tone.lookup: a float32 multiply, then add (no fused multiply-add), clip, truncate.
        index = min(max(values[i] * scale + _HALF, _ZERO), scale)
        out[i] = table[np.int32(index)]


@njit(cache=True, nogil=True)
def _gather_codes(codes, table, out):
    for i in range(codes.size):
        out[i] = table[codes[i]]


def gather_values(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[index(values)] with `tone.lookup`'s index, in one pass.

    Parameters
    ----------
    values : numpy.ndarray
        float32, any shape; values in 0–1 (beyond it they take the table's ends).
    table : numpy.ndarray
        float32, sampled evenly over 0–1.

    Returns
    -------
    numpy.ndarray
        float32, the shape of `values`.
    """
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    _gather_values(flat, np.ascontiguousarray(table, dtype=np.float32), out)
    return out.reshape(np.shape(values))


def gather_codes(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[codes] for 8-bit codes and a 256-entry float32 table, in one pass.

    Parameters
    ----------
    codes : numpy.ndarray
        uint8, any shape.
    table : numpy.ndarray
        256 float32 values.

    Returns
    -------
    numpy.ndarray
        float32, the shape of `codes`.
    """
    if table.size != 256:
        raise ValueError(f"an 8-bit table has 256 entries, not {table.size}")
    flat = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    _gather_codes(flat, np.ascontiguousarray(table, dtype=np.float32), out)
    return out.reshape(np.shape(codes))


@njit(cache=True, nogil=True)
def _blend(coverage, texture, unburned, burned, table, out):
    scale = np.float32(table.size - 1)
    one = np.float32(1.0)
    for i in range(coverage.size):
        c = coverage[i]
        clear = one - c
        shade = texture[i]
        for channel in range(3):
            # As numpy evaluates it: (unburned · (1 − c) + burned · c) · texture, each product rounded to float32.
            linear = (unburned[channel] * clear + burned[channel] * c) * shade
            index = min(max(linear * scale + _HALF, _ZERO), scale)
            out[3 * i + channel] = table[np.int32(index)]


def blend_to_srgb(
    coverage: np.ndarray, texture: np.ndarray, unburned: np.ndarray, burned: np.ndarray, table: np.ndarray
) -> np.ndarray:
    """A surface's picture from its coverage: per pixel and channel, table[index((u·(1−c) + b·c)·texture)].

    Parameters
    ----------
    coverage, texture : numpy.ndarray
        H×W float32: the marked fraction of each pixel and the surface's multiplicative texture.
    unburned, burned : numpy.ndarray
        3 float32 linear-light colours.
    table : numpy.ndarray
        uint8 codes sampled evenly over linear 0–1 (`tone.lookup`'s index).

    Returns
    -------
    numpy.ndarray
        H×W×3 uint8.
    """
    h, w = coverage.shape
    out = np.empty(h * w * 3, dtype=np.uint8)
    _blend(
        np.ascontiguousarray(coverage, dtype=np.float32).reshape(-1),
        np.ascontiguousarray(texture, dtype=np.float32).reshape(-1),
        np.ascontiguousarray(unburned, dtype=np.float32),
        np.ascontiguousarray(burned, dtype=np.float32),
        np.ascontiguousarray(table, dtype=np.uint8),
        out,
    )
    return out.reshape(h, w, 3)


@njit(cache=True, nogil=True)
def _neighbourhood_gather(burn, table, out):
    h, w = burn.shape
    column = np.zeros(w + 4, dtype=np.int64)  # per column: the 3 rows around the pixel's, as bits 0, 5 and 10
    for y in range(h):
        for x in range(w):
            code = np.int64(burn[y, x]) << 5
            if y > 0:
                code |= np.int64(burn[y - 1, x])
            if y + 1 < h:
                code |= np.int64(burn[y + 1, x]) << 10
            column[x + 2] = code
        for x in range(w):
            code = column[x] | (column[x + 1] << 1) | (column[x + 2] << 2) | (column[x + 3] << 3) | (column[x + 4] << 4)
            out[y, x] = table[code]


def neighbourhood_gather(burn: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[code] per pixel, where code holds the 3 × 5 burned pixels around it (beyond the edges: unburned).

    Bits 0–4 are the row above (columns −2 … +2), 5–9 the pixel's own row, 10–14 the row below: the index of
    dotgain's coverage table.

    Parameters
    ----------
    burn : numpy.ndarray
        H×W bool.
    table : numpy.ndarray
        2¹⁵ float32 values.

    Returns
    -------
    numpy.ndarray
        H×W float32.
    """
    if table.size != 1 << 15:
        raise ValueError(f"a 3 × 5 neighbourhood table has 32768 entries, not {table.size}")
    burn = np.ascontiguousarray(burn, dtype=np.bool_)
    out = np.empty(burn.shape, dtype=np.float32)
    _neighbourhood_gather(burn, np.ascontiguousarray(table, dtype=np.float32), out)
    return out


@njit(cache=True, nogil=True)
def _modulate(coverage, noise, modulation, fade, out):
    one = np.float32(1.0)
    for i in range(coverage.size):
        c = coverage[i]
        # As numpy evaluates it: modulation · min(1, min(c, 1 − c) / fade), then c + strength · noise, clipped.
        strength = modulation * min(one, min(c, one - c) / fade)
        out[i] = min(max(c + strength * noise[i], _ZERO), one)


def modulate(coverage: np.ndarray, noise: np.ndarray, modulation: np.float32, fade: np.float32) -> np.ndarray:
    """clip(c + modulation · min(1, min(c, 1 − c) / fade) · noise, 0, 1) per pixel, in float32.

    Parameters
    ----------
    coverage, noise : numpy.ndarray
        H×W float32 of the same shape.
    modulation, fade : numpy.float32
        Peak-to-peak strength, and how far inside 0–1 it reaches full strength.

    Returns
    -------
    numpy.ndarray
        H×W float32.
    """
    flat = np.ascontiguousarray(coverage, dtype=np.float32).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    _modulate(
        flat,
        np.ascontiguousarray(noise, dtype=np.float32).reshape(-1),
        np.float32(modulation),
        np.float32(fade),
        out,
    )
    return out.reshape(np.shape(coverage))
