"""Writes diffusion_kernels.py: one unrolled numba function per error-diffusion kernel.

Run `python -m intaglio.imaging.artwork.kernelgen` after changing DIFFUSION_KERNELS; a test checks the file is
current. Two things make these fast:
- The weights are constants, so the error of the rows below is kept in registers (a sliding window per row):
  each pixel stores one value per row below instead of one per tap.
- Integer arithmetic: coverage in 1/4080 steps, errors accumulated as error × weight and divided by the kernel's
  divisor once, when read (a shift for power-of-two divisors, a fixed-point multiply otherwise). The chain from
  one pixel's decision to the next is then a few one-cycle integer operations instead of float latencies.
"""

from __future__ import annotations

from pathlib import Path

from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS

TARGET = Path(__file__).with_name("diffusion_kernels.py")
SPAN = 2  # taps reach at most two pixels either side


def _function_name(kernel: str) -> str:
    return "diffuse_" + kernel.replace("-", "_")


def _scaled(expression: str, divisor: int) -> str:
    if divisor & (divisor - 1) == 0:
        return f"(({expression}) >> {divisor.bit_length() - 1})"
    return f"((({expression}) * {round(2**20 / divisor)}) >> 20)"


def _direction(taps, divisor, reverse: bool, spill: bool = False) -> list[str]:
    sign = -1 if reverse else 1
    lines = []
    loop = "for x in range(width - 1, -1, -1):" if reverse else "for x in range(width):"
    lines.append(f"            {loop}")
    # Coverage is read as float and turned into integer steps here, saving a separate pass over the image.
    lines.append("                level = np.int64(row[x] * SCALE + ROUND)")
    lines.append(f"                value = level + {_scaled('cur[x + PAD] + c1', divisor)}")
    if spill:
        lines += _spill_decision(sign)
    else:
        lines.append("                burn = value >= HALF")
        lines.append("                out_row[x] = burn")
        lines.append("                e = value - FULL * burn")
    # This row: taps at dx = 1, 2 become the carries for the next one or two pixels.
    row0 = {dx: w for dy, dx, w in taps if dy == 0}
    w1, w2 = row0.get(1, 0), row0.get(2, 0)
    lines.append(f"                c1 = c2 + e * {w1}" if w1 else "                c1 = c2")
    lines.append(f"                c2 = e * {w2}" if w2 else "                c2 = 0")
    for dy, array in ((1, "nxt1"), (2, "nxt2")):
        weights = {dx: w for ddy, dx, w in taps if ddy == dy}
        if not weights:
            continue
        # Window registers a{dy}_k hold the partial error for position x + sign·k (k = -2 … 2) from this row.
        for k in range(-SPAN, SPAN + 1):
            w = weights.get(k)
            if w:
                lines.append(f"                a{dy}_{k + SPAN} += e * {w}")
        # Position x - 2·sign is final: flush it, then slide the window by one.
        lines.append(f"                {array}[x + PAD - {2 * sign}] += a{dy}_0")
        for k in range(0, 2 * SPAN):
            lines.append(f"                a{dy}_{k} = a{dy}_{k + 1}")
        lines.append(f"                a{dy}_{2 * SPAN} = 0")
    # Flush the window's remaining positions at the end of the row.
    for dy, array in ((1, "nxt1"), (2, "nxt2")):
        if any(ddy == dy for ddy, _, _ in taps):
            end = "0" if reverse else "width - 1"
            for k in range(0, 2 * SPAN):
                lines.append(f"            {array}[{end} + PAD + {sign} * ({k} - 1)] += a{dy}_{k}")
    return lines


def _spill_decision(sign: int) -> list[str]:
    """The model-based decision: compare with what the surface shows, given the decided neighbours' marks.

    Rows of decisions and of covered area are padded by one pixel each side (pads: not burned, fully covered),
    so there are no bounds checks. b_* are 0/1; covered areas and spills are in FULL units.
    """
    behind = f"x + 1 - {sign}"
    return [
        "                a_l = np.int64(above_b[x])",
        "                a_c = np.int64(above_b[x + 1])",
        "                a_r = np.int64(above_b[x + 2])",
        f"                b_h = np.int64(here_b[{behind}])",
        "                received = min(FULL, s_v * a_c + s_d * (a_l + a_r) + s_h * b_h)",
        "                g_c = (1 - a_c) * min(s_v, FULL - above_seen[x + 1])",
        "                g_l = (1 - a_l) * min(s_d, FULL - above_seen[x])",
        "                g_r = (1 - a_r) * min(s_d, FULL - above_seen[x + 2])",
        f"                g_h = (1 - b_h) * min(s_h, FULL - here_seen[{behind}])",
        "                added = FULL + g_c + g_l + g_r + g_h",
        "                burn = 2 * value >= added + received",
        "                out_row[x] = burn",
        "                here_b[x + 1] = burn",
        "                if burn:",
        "                    here_seen[x + 1] = FULL",
        f"                    here_seen[{behind}] += g_h",
        "                    above_seen[x + 1] += g_c",
        "                    above_seen[x] += g_l",
        "                    above_seen[x + 2] += g_r",
        "                    e = value - added",
        "                else:",
        "                    here_seen[x + 1] = received",
        "                    e = value - received",
    ]


def _function(kernel: str, taps, divisor: int, *, spill: bool) -> list[str]:
    """One kernel's function; the spill variant also keeps rows of decisions and covered area (see
    _spill_decision)."""
    rows = sorted({dy for dy, _, _ in taps if dy > 0})
    name = _function_name(kernel) + ("_spill" if spill else "")
    if spill:
        signature = "coverage, serpentine, s_v, s_h, s_d"
        doc = f"{kernel}, model-based: a mark darkens clear neighbours by s_v/s_h/s_d (FULL units)."
    else:
        signature = "coverage, serpentine"
        doc = f"{kernel}: {len(taps)} taps over {len(rows) + 1} rows; `coverage` is float32 in 0–1."
    lines = [
        "",
        "@njit(cache=True, nogil=True)",
        f"def {name}({signature}):",
        f'    """{doc}"""',
        "    h, width = coverage.shape",
        "    cur = np.zeros(width + 2 * PAD, dtype=np.int32)",
        "    nxt1 = np.zeros(width + 2 * PAD, dtype=np.int32)",
        "    nxt2 = np.zeros(width + 2 * PAD, dtype=np.int32)",
    ]
    if spill:
        lines += [
            "    above_b = np.zeros(width + 2, dtype=np.uint8)",
            "    here_b = np.zeros(width + 2, dtype=np.uint8)",
            "    above_seen = np.full(width + 2, FULL, dtype=np.int64)",
            "    here_seen = np.full(width + 2, FULL, dtype=np.int64)",
        ]
    lines += [
        "    out = np.empty((h, width), dtype=np.bool_)",
        "    for y in range(h):",
        "        row = coverage[y]",
        "        out_row = out[y]",
        "        c1 = 0",
        "        c2 = 0",
    ]
    for dy in rows:
        lines.append("        " + " = ".join(f"a{dy}_{k}" for k in range(2 * SPAN + 1)) + " = 0")
    lines.append("        if serpentine and (y & 1) == 1:")
    lines += _direction(taps, divisor, reverse=True, spill=spill)
    lines.append("        else:")
    lines += _direction(taps, divisor, reverse=False, spill=spill)
    lines += [
        "        # Error pushed past the side edges is dropped, as in every classic implementation.",
        "        nxt1[:PAD] = 0",
        "        nxt1[width + PAD :] = 0",
        "        cur, nxt1, nxt2 = nxt1, nxt2, cur",
        "        nxt2[:] = 0",
    ]
    if spill:
        lines += [
            "        above_b, here_b = here_b, above_b",
            "        above_seen, here_seen = here_seen, above_seen",
            "        here_b[:] = 0",
            "        here_seen[:] = 0",
            "        here_seen[0] = FULL",
            "        here_seen[width + 1] = FULL",
        ]
    return [*lines, "    return out", ""]


def generate() -> str:
    out = [
        '"""Generated by kernelgen.py: do not edit. Unrolled error-diffusion kernels, one per name."""',
        "",
        "import numpy as np",
        "from numba import njit",
        "",
        "PAD = 4",
        "FULL = 4080  # coverage 1.0 in integer steps (255 × 16)",
        "HALF = FULL // 2",
        "SCALE = np.float32(FULL)",
        "ROUND = np.float32(0.5)",
        "",
    ]
    for kernel, (taps, divisor) in DIFFUSION_KERNELS.items():
        out += _function(kernel, taps, divisor, spill=False)
        out += _function(kernel, taps, divisor, spill=True)
    out += ["", "KERNELS = {"]
    out += [f'    "{kernel}": {_function_name(kernel)},' for kernel in DIFFUSION_KERNELS]
    out += ["}", "", "SPILL_KERNELS = {"]
    out += [f'    "{kernel}": {_function_name(kernel)}_spill,' for kernel in DIFFUSION_KERNELS]
    out += ["}", ""]
    return "\n".join(out)


if __name__ == "__main__":
    TARGET.write_text(generate())
    print(f"wrote {TARGET}")
