"""Table look-ups over whole pictures in one pass: the tone chain's hot loops.

`tone.lookup`'s index is clip(value · (n − 1) + ½, 0, n − 1) truncated, in float32; numpy spends four passes and
two temporaries of the picture's size on it (a multiply-add, a clip, a cast, a gather). These loops compute the very
same index per pixel, with the same float32 operations in the same order, and gather in the same pass, so they
agree with numpy to the bit (tests/imaging/test_tone_fused.py). Compiled on first use (numba, cached on disk); the
caller imports this module only for pictures large enough to gain from it.
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
