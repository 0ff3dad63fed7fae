"""Writes diffusion_kernels.py: one unrolled numba function per error-diffusion kernel.

Run `python -m intaglio.imaging.artwork.kernelgen` after changing DIFFUSION_KERNELS; a test checks the file is
current. Shared by both kinds of kernel: the weights are constants, and the arithmetic is in integers (coverage in
1/4080 steps, errors accumulated as error × weight and divided by the kernel's divisor once, when read: a shift for
power-of-two divisors, a fixed-point multiply otherwise).

Plain kernels (diffuse_<name>). Each pixel's decision needs the error carried from the pixel before, so a row
is one chain of dependent operations and its latency sets the speed, not the amount of work. Only that chain runs
pixel by pixel (_scan_<name>), kept to a shift, a subtract, a conditional move and a multiply-add (4–5 cycles,
about half of the former value → decision → error → carry): with s the weighted error arriving at a pixel,
t = s ÷ divisor and m = t − FULL if the pixel burns, else t (its error is level + m), the next pixel's s is
base + w1·m, where base (error from the rows above, the dx = 2 tap of the pixel before, w1·level) is worked out
off the chain, and the burn test compares s with a threshold from the level alone, beside the shift. The error for
the rows below is spread afterwards from the row's stored errors, in loops numba vectorises; the next row's
coverage is turned into levels inside the scan, where the floating-point unit is idle and the reads overlap the
chain. Serpentine rows run the same scan with step −1, on unsigned indices, so numba emits no negative-index
wraparound code. Rows are not interleaved (a wavefront of rows in one loop): with serpentine scanning each row
starts where the one before ended, so the whole image is one chain; a wavefront could only help serpentine=False.

Model-based (spill) kernels (diffuse_<name>_spill) run row by row in both directions, keeping the error of the
rows below in registers (a sliding window per row: each pixel stores one value per row below instead of one per
tap), with the decision of _spill_decision and its blue-noise threshold modulation.
"""

from __future__ import annotations

from pathlib import Path

from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS

TARGET = Path(__file__).with_name("diffusion_kernels.py")
SPAN = 2  # taps reach at most two pixels either side


def _function_name(kernel: str) -> str:
    return "diffuse_" + kernel.replace("-", "_")


def _row0(taps) -> tuple[int, int]:
    """Weights of the taps at dx = 1 and dx = 2 in the pixel's own row."""
    row0 = {dx: w for dy, dx, w in taps if dy == 0}
    return row0.get(1, 0), row0.get(2, 0)


def _at(index: str, offset: int) -> str:
    return f"{index} + {offset}" if offset > 0 else f"{index} - {-offset}" if offset < 0 else index


def _terms(terms: list[str]) -> str:
    return " + ".join(terms) if terms else "0"


def _scan(kernel: str, taps, divisor: int) -> list[str]:
    """The serial part of a plain kernel: one row, x = x0 + step·i, step ±1 (see the module docstring).

    In: lev (this row's levels), cur (error from the rows above, × divisor), both padded by PAD. Out: burned (the
    row of decisions), err (each pixel's error, padded), next_lev (the next row's levels). The callers pass the step
    as a literal, so numba compiles one scan per direction with the step as a constant."""
    w1, w2 = _row0(taps)
    carry = [f"{w1} * level"] if w1 else []  # in base: the next pixel's s but for w1·m (module docstring)
    lines = [
        "",
        "@njit(cache=True, nogil=True)",
        f"def _scan_{_function_name(kernel).removeprefix('diffuse_')}(lev, cur, err, burned, x0, step, next_coverage, "
        "next_lev):",
        f'    """{kernel}: one row, pixel by pixel from x0 in steps of `step` (±1)."""',
        "    ustep = np.uint64(step)",
        "    ustep2 = np.uint64(2 * step)",
        "    u0 = PAD + x0",
        "    s = np.int64(cur[u0])",
        "    level = np.int64(lev[u0])",
        f"    base = {_terms(['cur[u0 + step]', *carry])}",
        "    for i in range(burned.size):",
        "        next_lev[PAD + i] = np.int64(next_coverage[i] * SCALE + ROUND)",
        "        u = np.uint64(u0 + step * i)  # u + ustep wraps round to u - 1 when step = -1",
    ]
    if divisor & (divisor - 1) == 0:
        shift = divisor.bit_length() - 1
        lines += [f"        t = s >> {shift}", f"        burn = s >= ((HALF - level) << {shift})"]
    else:
        lines += [f"        t = (s * {round(2**20 / divisor)}) >> 20", "        burn = t >= HALF - level"]
    lines += [
        "        burned[u - UPAD] = burn",
        "        m = t - FULL if burn else t",
        "        e = level + m",
        "        err[u] = e",
        f"        s = base + {w1} * m" if w1 else "        s = base",
        "        level = np.int64(lev[u + ustep])",
        f"        base = {_terms(['cur[u + ustep2]', *carry, *([f'{w2} * e'] if w2 else [])])}",
        "",
    ]
    return lines


def _plain_function(kernel: str, taps, divisor: int) -> list[str]:
    """A plain kernel: per row, the scan, then the error of the rows below from the row's errors."""
    assert all(dy >= 0 and abs(dx) <= SPAN and (dy > 0 or dx > 0) for dy, dx, _ in taps), kernel
    rows = sorted({dy for dy, _, _ in taps if dy > 0})
    name = _function_name(kernel)
    scan = f"_scan_{name.removeprefix('diffuse_')}"
    lines = [
        "",
        "@njit(cache=True, nogil=True)",
        f"def {name}(coverage, serpentine):",
        f'    """{kernel}: {len(taps)} taps over {len(rows) + 1} rows; `coverage` is float32 in 0–1."""',
        "    h, width = coverage.shape",
        "    n = width + 2 * PAD",
        "    cur = np.zeros(n, dtype=np.int32)",
        "    nxt1 = np.zeros(n, dtype=np.int32)",
        *(["    nxt2 = np.zeros(n, dtype=np.int32)"] if 2 in rows else []),
        "    lev = np.zeros(n, dtype=np.int32)",
        "    next_lev = np.zeros(n, dtype=np.int32)",
        "    err = np.zeros(n, dtype=np.int32)",
        "    out = np.empty((h, width), dtype=np.bool_)",
        "    if h:",
        "        row = coverage[0]",
        "        for x in range(width):",
        "            lev[PAD + x] = np.int64(row[x] * SCALE + ROUND)",
        "    for y in range(h):",
        "        next_coverage = coverage[min(y + 1, h - 1)]",
        "        if serpentine and (y & 1) == 1:",
        f"            {scan}(lev, cur, err, out[y], width - 1, -1, next_coverage, next_lev)",
    ]
    for reverse in (True, False):
        if not reverse:
            lines += ["        else:", f"            {scan}(lev, cur, err, out[y], 0, 1, next_coverage, next_lev)"]
        # Pixel x sends w·e to x + dx (x − dx when scanning right to left), so position j receives from j ∓ dx.
        sign = 1 if reverse else -1
        # A range from 0 lets numba see the indices are not negative: no wraparound code, so the loop vectorises.
        lines += ["            for i in range(width):", "                j = PAD + i"]
        for dy, array in ((1, "nxt1"), (2, "nxt2")):
            weights = sorted((dx, w) for ddy, dx, w in taps if ddy == dy)
            if weights:
                op = "+=" if dy == 1 and 2 in rows else "="  # the row after next starts afresh
                terms = _terms([f"{w} * err[{_at('j', sign * dx)}]" for dx, w in weights])
                lines.append(f"                {array}[j] {op} {terms}")
    # The error arrays' pads are never written, so error pushed past the side edges is dropped, as in every
    # classic implementation.
    lines.append("        cur, nxt1, nxt2 = nxt1, nxt2, cur" if 2 in rows else "        cur, nxt1 = nxt1, cur")
    lines.append("        lev, next_lev = next_lev, lev")
    return [*lines, "    return out", ""]


# ------------------------------------------------------------------------- model-based (spill) kernels


def _scaled(expression: str, divisor: int) -> str:
    if divisor & (divisor - 1) == 0:
        return f"(({expression}) >> {divisor.bit_length() - 1})"
    return f"((({expression}) * {round(2**20 / divisor)}) >> 20)"


def _direction(taps, divisor, reverse: bool) -> list[str]:
    """One direction of a spill kernel's row loop."""
    sign = -1 if reverse else 1
    lines = []
    loop = "for x in range(width - 1, -1, -1):" if reverse else "for x in range(width):"
    lines.append(f"            {loop}")
    # Coverage is read as float and turned into integer steps here, saving a separate pass over the image.
    lines.append("                level = np.int64(row[x] * SCALE + ROUND)")
    lines.append(f"                value = level + {_scaled('cur[x + PAD] + c1', divisor)}")
    lines += _spill_decision(sign)
    # This row: taps at dx = 1, 2 become the carries for the next one or two pixels.
    w1, w2 = _row0(taps)
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
    so there are no bounds checks. b_* are 0/1; covered areas and spills are in FULL units. The threshold is
    modulated by `jitter` (this row of the caller's 64 × 64 blue noise, FULL units), fading out over the last FADE
    steps of the pixel's level towards clear and solid so those stay exact.
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
        "                shake = jitter[x & 63]",
        "                if level < FADE or level > FULL - FADE:  # the fade; a branch keeps its division off the path",
        "                    shake = shake * max(0, min(level, FULL - level)) // FADE",
        "                burn = 2 * value >= added + received + shake",
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


def _spill_function(kernel: str, taps, divisor: int) -> list[str]:
    """One kernel's spill variant: it also keeps rows of decisions and covered area (see _spill_decision)."""
    rows = sorted({dy for dy, _, _ in taps if dy > 0})
    name = _function_name(kernel) + "_spill"
    signature = "coverage, serpentine, s_v, s_h, s_d, threshold"
    doc = f"{kernel}, model-based: marks darken clear neighbours by s_v/s_h/s_d, thresholds shaken (FULL units)."
    lines = [
        "",
        "@njit(cache=True, nogil=True)",
        f"def {name}({signature}):",
        f'    """{doc}"""',
        "    h, width = coverage.shape",
        "    cur = np.zeros(width + 2 * PAD, dtype=np.int32)",
        "    nxt1 = np.zeros(width + 2 * PAD, dtype=np.int32)",
        "    nxt2 = np.zeros(width + 2 * PAD, dtype=np.int32)",
        "    above_b = np.zeros(width + 2, dtype=np.uint8)",
        "    here_b = np.zeros(width + 2, dtype=np.uint8)",
        "    above_seen = np.full(width + 2, FULL, dtype=np.int64)",
        "    here_seen = np.full(width + 2, FULL, dtype=np.int64)",
        "    out = np.empty((h, width), dtype=np.bool_)",
        "    for y in range(h):",
        "        row = coverage[y]",
        "        out_row = out[y]",
        "        jitter = threshold[y & 63]",
        "        c1 = 0",
        "        c2 = 0",
    ]
    for dy in rows:
        lines.append("        " + " = ".join(f"a{dy}_{k}" for k in range(2 * SPAN + 1)) + " = 0")
    lines.append("        if serpentine and (y & 1) == 1:")
    lines += _direction(taps, divisor, reverse=True)
    lines.append("        else:")
    lines += _direction(taps, divisor, reverse=False)
    lines += [
        "        # Error pushed past the side edges is dropped, as in every classic implementation.",
        "        nxt1[:PAD] = 0",
        "        nxt1[width + PAD :] = 0",
        "        cur, nxt1, nxt2 = nxt1, nxt2, cur",
        "        nxt2[:] = 0",
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
        "UPAD = np.uint64(PAD)",
        "FULL = 4080  # coverage 1.0 in integer steps (255 × 16)",
        "HALF = FULL // 2",
        "SCALE = np.float32(FULL)",
        "ROUND = np.float32(0.5)",
        "FADE = FULL // 20  # threshold modulation at full strength from 5 % inside 0–1",
        "",
    ]
    for kernel, (taps, divisor) in DIFFUSION_KERNELS.items():
        out += _scan(kernel, taps, divisor)
        out += _plain_function(kernel, taps, divisor)
        out += _spill_function(kernel, taps, divisor)
    out += ["", "KERNELS = {"]
    out += [f'    "{kernel}": {_function_name(kernel)},' for kernel in DIFFUSION_KERNELS]
    out += ["}", "", "SPILL_KERNELS = {"]
    out += [f'    "{kernel}": {_function_name(kernel)}_spill,' for kernel in DIFFUSION_KERNELS]
    out += ["}", ""]
    return "\n".join(out)


if __name__ == "__main__":
    TARGET.write_text(generate())
    print(f"wrote {TARGET}")
