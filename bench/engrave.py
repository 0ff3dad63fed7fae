"""Speed of the artwork engine against Pillow and MeerK40t, in one process. Prints figures; never fails on time.

    .venv/bin/python bench/engrave.py            (about 1–2 minutes on 2 cores; --runs to change the repeat count)

(a) Full pipeline 24 MP / 12 MP camera-like JPEG → 100 mm wide at 0.08 mm (317.5 DPI, 1250 px) → 1-bit PNG, against
    the Pillow-only floor chain (draft decode → resize → convert('1') → PNG), with our stage breakdown.
(b) ns/pixel of every halftoning kernel at 1250×938 and 12 MP, against Pillow convert('1') (Floyd–Steinberg, C).
(c) MeerK40t's numba kernels (meerk40t.image.dither) and its halftone (RasterScripts.halftone) on the same inputs;
    error diffusion both with our default serpentine scan and raster (every row the same way, as MeerK40t scans).
(d) `intaglio engrave` as a subprocess: first and second run, and the import cost.
(e) Full resolution: prepare_artwork on the 12 MP photo's grey pixels as a uint8 array, one laser dot per pixel
    (reference material, Floyd–Steinberg, 0.08 mm lines), against Pillow's convert('1') on the same array: the whole
    engine (tone chain, dot-gain compensation, diffusion) against Pillow's bare dither. Runs alternate between the
    two, so a change of load on a shared machine touches both alike.

Times are CPU time of this process (time.process_time), as ANCHORS.md measures, so other load on a shared machine
does not count; median of --runs runs after one warm-up run (numba compilation and the engine's per-process dot-gain
calibration are excluded; the first call is reported separately in (a)). The CLI start-up in (d) is wall time.
"""

# Every closure below is timed at once by median_time, inside the loop iteration that defines it.
# ruff: noqa: B023

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so the
# directory goes last: the standard library wins, and sibling modules still import by name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import engrave_common as common  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

table = common.table

MATERIAL, MACHINE, WIDTH_MM = "maple", "diode-10w", 100.0  # maple and the 10 W diode both use 0.08 mm lines
SIZES = {"24MP": (6000, 4000), "12MP": (4000, 3000)}


# ---------------------------------------------------------------------------------------------------------- helpers


def median_time(fn, *, runs: int, warmup: int = 1, setup=None) -> float:
    """Median CPU time of fn(arg) in seconds; setup() (untimed) makes a fresh argument for each call."""
    times = []
    for i in range(warmup + runs):
        arg = setup() if setup else None
        start = time.process_time()
        fn(arg) if setup else fn()
        elapsed = time.process_time() - start
        if i >= warmup:
            times.append(elapsed)
    return statistics.median(times)


def make_jpeg(path: Path, size: tuple[int, int], photo: str, seed: int) -> None:
    """A real photo upscaled (INTER_CUBIC) to `size`, plus Gaussian noise σ=6 code values, saved at quality 92."""
    import skimage.data

    rgb = getattr(skimage.data, photo)()
    w, h = size
    src_h, src_w = rgb.shape[:2]
    if src_w / src_h > w / h:  # crop the source to the target aspect first
        cw = round(src_h * w / h)
        rgb = rgb[:, (src_w - cw) // 2 : (src_w - cw) // 2 + cw]
    else:
        ch = round(src_w * h / w)
        rgb = rgb[(src_h - ch) // 2 : (src_h - ch) // 2 + ch]
    big = cv2.resize(np.ascontiguousarray(rgb), (w, h), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(seed)
    for y0 in range(0, h, 500):  # in strips, so 24 MP of float noise does not need 300 MB at once
        strip = big[y0 : y0 + 500].astype(np.float32)
        strip += rng.standard_normal(strip.shape, dtype=np.float32) * 6
        big[y0 : y0 + 500] = np.clip(np.round(strip), 0, 255).astype(np.uint8)
    Image.fromarray(big).save(path, "JPEG", quality=92)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms"


# ------------------------------------------------------------------------------------------------- (a) pipeline


# Stages inside others (load_linear's parts), or that the engine runs fused (adjust and compensate, separately).
SUM_SKIPS = ("open", "sRGB", "resize", "adjust (", "dot-gain")


def pipeline(paths: dict[str, Path], runs: int, summary: dict) -> None:
    from intaglio.imaging.artwork import dotgain, get_machine, get_material, outputs, prepare_artwork, tone
    from intaglio.imaging.artwork.core import ModeOptions, _halftoner

    material, machine = get_material(MATERIAL), get_machine(MACHINE)
    interval = max(material.line_interval_mm, machine.line_interval_mm)
    print(f"\n## (a) full pipeline: JPEG → {MATERIAL}/{MACHINE}, {WIDTH_MM:g} mm at {interval} mm lines → 1-bit PNG")
    print(
        "Pillow floor: Image.open → draft('L', size) (libjpeg DCT scaling, grey decode) → convert('L') → resize to "
        "the exact size → convert('1') (FS) → PNG into BytesIO.\nThe floor uses BILINEAR (Pillow's antialiased "
        "bilinear, the cheapest filter that does not alias); BOX and LANCZOS shown for reference."
    )
    for label, path in paths.items():
        src_w, src_h = Image.open(path).size
        width = round(WIDTH_MM / interval)
        height = max(1, round(width * src_h / src_w))

        def ours():
            return prepare_artwork(path, material=MATERIAL, machine=MACHINE, width_mm=WIDTH_MM).png()

        start = time.perf_counter()
        ours()
        first = time.perf_counter() - start
        t_ours = median_time(ours, runs=runs)

        def floor(resample):
            im = Image.open(path)
            im.draft("L", (width, height))
            im = im.convert("L")
            if im.size != (width, height):
                im = im.resize((width, height), resample)
            buffer = io.BytesIO()
            im.convert("1").save(buffer, "PNG")
            return buffer.getvalue()

        floors = {
            name: median_time(lambda r=r: floor(r), runs=runs)
            for name, r in (
                ("BILINEAR", Image.Resampling.BILINEAR),
                ("BOX", Image.Resampling.BOX),
                ("LANCZOS", Image.Resampling.LANCZOS),
            )
        }
        t_floor = floors["BILINEAR"]
        draft_size = Image.open(path)
        draft_size.draft("L", (width, height))
        print(
            f"\n### {label} ({src_w}×{src_h} → {width}×{height}; JPEG draft decodes at {draft_size.size[0]}×"
            f"{draft_size.size[1]})"
        )
        print(f"ours  prepare_artwork(...).png()   {fmt_ms(t_ours)}   (first call in this process {fmt_ms(first)})")
        for name, t in floors.items():
            print(f"Pillow floor ({name:8})          {fmt_ms(t)}   ours/floor = {t_ours / t:.2f}×")

        # Our stages, measured from outside with the engine's own functions.
        adjustments = tone.Adjustments.from_kwargs(material.default_adjustments)
        mark_px = dotgain.mark_diameter_px(
            spot_mm=machine.spot_mm, spread_mm=material.spread_mm, px_mm=interval, ideal=False
        )
        extra = {"mark_px": mark_px} if "mark_px" in inspect.signature(_halftoner).parameters else {}
        halftoner, key = _halftoner(
            "floyd-steinberg", ModeOptions(), px_mm=interval, spot_px=machine.spot_mm / interval, **extra
        )

        def decode():
            im = Image.open(path)
            im.draft("L", (width, height))
            return np.asarray(ImageOps.exif_transpose(im))

        decoded = decode()
        linear_full = tone.SRGB_CODE_TO_LINEAR[decoded]
        luminance = tone.load_linear(path, size=(width, height))
        adjusted = tone.adjust(luminance, adjustments, px_mm=interval)
        coverage = 1.0 - adjusted
        compensated = dotgain.compensate(coverage, key, mark_px, halftoner)
        burn = halftoner(np.ascontiguousarray(compensated, dtype=np.float32))
        stages = {
            "open + draft decode (Pillow)": median_time(decode, runs=runs),
            "sRGB→linear LUT": median_time(lambda: tone.SRGB_CODE_TO_LINEAR[decoded], runs=runs),
            "resize (cv2 INTER_AREA, float)": median_time(
                lambda: tone._reframe(linear_full, width, height, "crop"), runs=runs
            ),
            "= load_linear total": median_time(lambda: tone.load_linear(path, size=(width, height)), runs=runs),
            "adjust (maple defaults)": median_time(
                lambda: tone.adjust(luminance, adjustments, px_mm=interval), runs=runs
            ),
            "dot-gain compensate (cached)": median_time(
                lambda: dotgain.compensate(1.0 - adjusted, key, mark_px, halftoner), runs=runs
            ),
            "adjust → compensate as the engine runs them": median_time(
                lambda: tone.adjust(
                    luminance,
                    adjustments,
                    px_mm=interval,
                    then=lambda y: dotgain.compensate(1.0 - y, key, mark_px, halftoner),
                ),
                runs=runs,
            ),
            "halftone (engine FS for maple: spill)": median_time(
                lambda: halftoner(np.ascontiguousarray(compensated, dtype=np.float32)), runs=runs
            ),
            "png_1bit": median_time(lambda: outputs.png_1bit(burn, 25.4 / interval), runs=runs),
        }
        gray = Image.open(path)
        gray.draft("L", (width, height))
        gray = gray.convert("L").resize((width, height), Image.Resampling.BILINEAR)
        dithered = gray.convert("1")

        def pillow_decode_resize():
            im = Image.open(path)
            im.draft("L", (width, height))
            return im.convert("L").resize((width, height), Image.Resampling.BILINEAR)

        pillow_stages = {
            "decode + resize": median_time(pillow_decode_resize, runs=runs),
            "convert('1') FS": median_time(lambda: gray.convert("1"), runs=runs),
            "PNG": median_time(lambda: dithered.save(io.BytesIO(), "PNG"), runs=runs),
        }
        print("stage breakdown (median each):")
        for name, t in stages.items():
            print(f"  ours   {name:32} {fmt_ms(t)}")
        print(
            f"  ours   {'sum of load/tone chain/halftone/png':32} "
            f"{fmt_ms(sum(t for n, t in stages.items() if not n.startswith(SUM_SKIPS)))}"
        )
        for name, t in pillow_stages.items():
            print(f"  Pillow {name:32} {fmt_ms(t)}")
        summary[f"pipeline {label}"] = (t_ours, t_floor, first, stages, pillow_stages)


# ---------------------------------------------------------------------------------------------- (b)+(c) kernels


def kernels(path12: Path, runs_small: int, runs_big: int, summary: dict, meerk40t_halftone_12mp: bool) -> None:
    from intaglio.imaging.artwork import creative, halftone, tone

    interval = 0.08
    cell_px = 0.6 / interval  # the engine's default halftone cell at this interval: max(0.6 mm, 6 px)
    ours = {k: (lambda c, k=k: halftone.error_diffusion(c, k)) for k in halftone.DIFFUSION_KERNELS}
    ours |= {f"bayer{n}": (lambda c, n=n: halftone.ordered(c, n)) for n in (2, 4, 8)}
    ours["blue-noise"] = halftone.blue_noise_dither
    ours["halftone (clustered)"] = lambda c: halftone.clustered(c, cell_px=cell_px, angle_deg=45.0)
    ours["stipple"] = lambda c: creative.stipple(c, spot_px=1.0, px_mm=interval)
    ours["hatch"] = lambda c: creative.hatch(c, spot_px=1.0, px_mm=interval)
    ours["sketch"] = lambda c: creative.sketch(1.0 - c, px_mm=interval)

    # On real materials the engine diffuses against the marks' spill into neighbours (when this engine has it).
    from intaglio.imaging.artwork import dotgain, get_machine, get_material

    spill = None
    if hasattr(dotgain, "neighbour_spill") and "spill" in inspect.signature(halftone.error_diffusion).parameters:
        material, machine = get_material(MATERIAL), get_machine(MACHINE)
        spill = dotgain.neighbour_spill(
            dotgain.mark_diameter_px(spot_mm=machine.spot_mm, spread_mm=material.spread_mm, px_mm=interval, ideal=False)
        )

    start = time.perf_counter()
    mk_dither = importlib.import_module("meerk40t.image.dither")  # compiles its numba kernels eagerly (signatures)
    from meerk40t.image.imagetools import RasterScripts

    mk_import = time.perf_counter() - start
    mk_map = common.MEERK40T_KERNELS

    def mk_halftone(im):  # MeerK40t's "newsy" raster script: halftone (black dots) then its dither step (Pillow FS)
        return RasterScripts.halftone(im, sample=10, angle=22, oversample=2, black=True).convert("1")

    if spill is not None:
        print(
            f"'ours+spill' = error_diffusion(..., spill={tuple(round(v, 3) for v in spill)}), the variant the "
            f"engine runs on {MATERIAL} with the {MACHINE} (marks wider than a pixel); plain = reference surface."
        )
    print(
        f"\n## (b)+(c) kernels: ns/pixel, median of {runs_small} runs after a warm-up at 1250×938 and of {runs_big} "
        "runs at 12 MP (no extra warm-up there), input = photo coverage (float32)"
    )
    print(
        f"MeerK40t {importlib.import_module('importlib.metadata').version('meerk40t')}: meerk40t.image.dither "
        f"kernels (numba, eager signatures; import + compile {mk_import:.1f} s, excluded); input float32 0–255 "
        "copied outside the timer (they dither in place). 'mk API' = its dither(PIL image, method) wrapper "
        "+ convert('1') as MeerK40t calls it. MeerK40t's own 'Floyd-Steinberg' is Pillow's convert('1'); its "
        "numba FS is 'legacy-floyd-steinberg'. MeerK40t halftone = RasterScripts.halftone(sample=10, angle=22, "
        "oversample=2, black=True) + convert('1') (the 'newsy' script)."
    )
    print(
        "Scan order: MeerK40t's kernels scan every line the same way (no serpentine; their lines run along the "
        "array's first axis). 'ours' is the engine default, serpentine (alternate rows reversed); 'ours raster' is "
        "serpentine=False, every row the same way as MeerK40t. 'mk ÷ ours' compares with the default, 'mk ÷ raster' "
        "like for like. Same picture and CPU-time measure for both sides."
    )

    coverage_full = 1.0 - tone.load_linear(path12, size=Image.open(path12).size)
    for label, size in (("1250×938", (1250, 938)), ("12MP", Image.open(path12).size)):
        coverage = np.ascontiguousarray(
            coverage_full if size == coverage_full.shape[::-1] else 1.0 - tone.load_linear(path12, size=size),
            dtype=np.float32,
        )
        n = coverage.size
        big = n > 5_000_000
        runs = runs_big if big else runs_small
        gray = Image.fromarray(np.round((1.0 - coverage) * 255).astype(np.uint8))
        mk_input = ((1.0 - coverage) * 255).astype(np.float32)
        t_pillow = median_time(lambda: gray.convert("1"), runs=runs)
        ns_pillow = t_pillow / n * 1e9
        rows = []
        for name, fn in ours.items():
            t = median_time(lambda: fn(coverage), runs=runs, warmup=0 if big else 1)
            ns = t / n * 1e9
            spill_ns = raster_ns = "—"
            t_raster = None
            if name in halftone.DIFFUSION_KERNELS:
                t_raster = median_time(
                    lambda: halftone.error_diffusion(coverage, name, serpentine=False),
                    runs=runs,
                    warmup=0 if big else 1,
                )
                raster_ns = f"{t_raster / n * 1e9:.1f}"
                summary[f"ours {label} {name} raster"] = t_raster / n * 1e9
            if spill is not None and name in halftone.DIFFUSION_KERNELS:
                t_spill = median_time(
                    lambda: halftone.error_diffusion(coverage, name, spill=spill), runs=runs, warmup=0 if big else 1
                )
                spill_ns = f"{t_spill / n * 1e9:.1f}"
                summary[f"ours {label} {name} spill"] = t_spill / n * 1e9
            mk_ns = mk_api = "—"
            ratio = raster_ratio = "—"
            mk_name = mk_map.get(name)
            if mk_name:
                mk_fn = mk_dither.function_map[mk_name]
                t_mk = median_time(mk_fn, runs=runs, warmup=0 if big else 1, setup=mk_input.copy)
                t_api = median_time(
                    lambda m=mk_name: mk_dither.dither(gray, m).convert("1"), runs=runs, warmup=0 if big else 1
                )
                mk_ns, mk_api, ratio = f"{t_mk / n * 1e9:.1f}", f"{t_api / n * 1e9:.1f}", f"{t_mk / t:.2f}×"
                if t_raster is not None:
                    raster_ratio = f"{t_mk / t_raster:.2f}×"
                summary[f"mk {label} {name}"] = (ns, t_mk / n * 1e9, t_api / n * 1e9)
            elif name.startswith("halftone") and (meerk40t_halftone_12mp or not big):
                mk_runs = runs if not big else 1
                t_mk = median_time(lambda: mk_halftone(gray), runs=mk_runs, warmup=0 if big else 1)
                mk_ns = mk_api = f"{t_mk / n * 1e9:.0f}" + ("" if mk_runs == runs else " (1 run)")
                ratio = f"{t_mk / t:.2f}×"
                summary[f"mk {label} {name}"] = (ns, t_mk / n * 1e9, t_mk / n * 1e9)
            elif name.startswith("halftone"):
                mk_ns = mk_api = "skipped (--mk-halftone-12mp)"
            summary[f"ours {label} {name}"] = (ns, t)
            rows.append(
                [
                    name,
                    f"{t * 1e3:.1f}",
                    f"{ns:.1f}",
                    raster_ns,
                    f"{ns / ns_pillow:.2f}×",
                    spill_ns,
                    mk_ns,
                    mk_api,
                    ratio,
                    raster_ratio,
                ]
            )
        rows.append(
            ["Pillow convert('1') FS", f"{t_pillow * 1e3:.1f}", f"{ns_pillow:.1f}", "", "1.00×", "", "", "", "", ""]
        )
        summary[f"pillow {label}"] = ns_pillow
        print(f"\n### {label} ({size[0]}×{size[1]} = {n / 1e6:.2f} Mpx)")
        print(
            table(
                [
                    "kernel",
                    "ours ms",
                    "ours ns/px",
                    "ours raster ns/px",
                    "÷ Pillow FS",
                    "ours+spill ns/px",
                    "mk kernel ns/px",
                    "mk API ns/px",
                    "mk ÷ ours",
                    "mk ÷ raster",
                ],
                rows,
            )
        )

    # MeerK40t as pip installs it has no numba: its kernels then run as plain Python (py_func); extrapolated
    # from a small crop.
    crop = ((1.0 - coverage_full[:188, :250]) * 255).astype(np.float32)
    print("\nMeerK40t without numba (its pure-Python py_func, 250×188 crop, extrapolated):")
    for name in ("legacy-floyd-steinberg", "jarvis-judice-ninke"):
        fn = mk_dither.function_map[name].py_func
        t = median_time(fn, runs=1, warmup=0, setup=crop.copy)
        ns = t / crop.size * 1e9
        summary[f"mk python {name}"] = ns
        print(
            f"  {name:24} {ns:8.0f} ns/px  → ≈{ns * 1250 * 938 / 1e9:.1f} s at 1250×938, "
            f"≈{ns * 12e6 / 1e9:.0f} s at 12 MP"
        )


# ------------------------------------------------------------------------------------------- (e) full resolution

FULL_RES_TARGET = 1.5  # prepare_artwork ÷ Pillow convert('1'), issue 18


def full_resolution(path12: Path, runs: int, summary: dict) -> None:
    from intaglio.imaging.artwork import prepare_artwork

    grey = np.asarray(ImageOps.exif_transpose(Image.open(path12)).convert("L"))
    height, width = grey.shape
    interval = 0.08
    gray_image = Image.fromarray(grey)

    def ours(material="reference", **adjustments):
        return prepare_artwork(
            grey,
            material=material,
            machine=MACHINE,
            width_mm=width * interval,
            line_interval_mm=interval,
            mode="floyd-steinberg",
            **adjustments,
        )

    burn = ours().burn
    if burn.shape != grey.shape:
        raise SystemExit(f"full resolution expected {grey.shape}, the engine made {burn.shape}")
    cases = {
        "reference (no adjustments)": lambda: ours(),
        "reference, contrast 1.2 + gamma 1.1": lambda: ours(contrast=1.2, gamma=1.1),
        "maple defaults (sharpen; marks > 1 px)": lambda: ours("maple"),
    }
    for fn in cases.values():
        fn()  # per-process dot-gain calibration, numba loading
    times = {name: [] for name in cases} | {"pillow": []}
    for _ in range(runs):
        for name, fn in (*cases.items(), ("pillow", lambda: gray_image.convert("1"))):
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    pillow = statistics.median(times["pillow"])
    print(
        f"\n## (e) full resolution: {width}×{height} uint8 grey array → {width}×{height} dots, median of {runs} "
        f"alternating runs (CPU time); load average {' / '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    rows = []
    for name in cases:
        t = statistics.median(times[name])
        rows.append([f"prepare_artwork, {name}", f"{t * 1e3:.1f}", f"{t / pillow:.2f}×"])
        summary[f"full {name}"] = t
    rows.append(["Pillow convert('1') FS, same array", f"{pillow * 1e3:.1f}", "1.00×"])
    summary["full pillow"] = pillow
    print(table(["12 MP full resolution", "ms", "÷ Pillow"], rows))
    reference = summary["full reference (no adjustments)"] / pillow
    print(
        f"12 MP full resolution, reference FS: {reference:.2f}× Pillow convert('1') "
        f"(target ≤ {FULL_RES_TARGET}×: {'met' if reference <= FULL_RES_TARGET else 'NOT met'})"
    )


# ---------------------------------------------------------------------------------------------------------- (d) CLI


def cli(path12: Path, workdir: Path, summary: dict) -> None:
    exe = Path(sys.executable).with_name("intaglio")
    print("\n## (d) `intaglio engrave` cold start (subprocess, wall time)")
    command = [
        str(exe),
        "engrave",
        str(path12),
        "--material",
        MATERIAL,
        "--machine",
        MACHINE,
        "--width-mm",
        f"{WIDTH_MM:g}",
        "--out",
        str(workdir / "cli-out"),
    ]
    for attempt in ("first", "second"):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        reported = re.search(r"\((\d+\.\d+) s\)", done.stdout)
        print(
            f"{attempt:6} run: {wall:6.2f} s wall (exit {done.returncode}; the CLI reports "
            f"{reported.group(1) if reported else '?'} s for the photo itself)"
        )
        summary[f"cli {attempt}"] = (wall, float(reported.group(1)) if reported else float("nan"))
    for label, code in (
        ("python -c pass", "pass"),
        ("import intaglio.imaging.artwork", "import intaglio.imaging.artwork"),
        (
            "… + halftone, creative (numba)",
            "import intaglio.imaging.artwork.halftone, intaglio.imaging.artwork.creative",
        ),
        ("… + outputs, cv2", "import intaglio.imaging.artwork.outputs, cv2, intaglio.imaging.artwork.halftone"),
    ):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        print(f"{label:36} {statistics.median(times):6.2f} s (median of 3)")
        summary[f"import {label}"] = statistics.median(times)


# ------------------------------------------------------------------------------------------------------- summary


def final_table(summary: dict) -> None:
    print("\n## Summary (paste into the issue note)")
    rows = []
    for label in SIZES:
        t_ours, t_floor, first, stages, pillow_stages = summary[f"pipeline {label}"]
        # Where the time over Pillow's chain goes: our stages after decoding against Pillow's FS + PNG.
        slow = max(((n, t) for n, t in stages.items() if not n.startswith(("=", *SUM_SKIPS))), key=lambda item: item[1])
        extra = f"decode {stages['open + draft decode (Pillow)'] * 1e3:.0f} ms (Pillow's own); "
        pillow_fs = pillow_stages["convert('1') FS"]
        rows.append(
            [
                f"pipeline {label} JPEG → 1250 px PNG",
                f"{t_ours * 1e3:.0f} ms",
                f"{t_floor * 1e3:.0f} ms",
                f"{t_ours / t_floor:.2f}×",
                "≤ 1.3×",
                f"first call {first * 1e3:.0f} ms; {extra}our slowest stage: {slow[0]} {slow[1] * 1e3:.0f} ms "
                f"(Pillow FS {pillow_fs * 1e3:.0f} ms)",
            ]
        )
    for label in ("1250×938", "12MP"):
        ns_p = summary[f"pillow {label}"]
        ns_fs = summary[f"ours {label} floyd-steinberg"][0]
        spill_fs = summary.get(f"ours {label} floyd-steinberg spill")
        rows.append(
            [
                f"FS ns/px {label}",
                f"{ns_fs:.1f}",
                f"{ns_p:.1f} (Pillow)",
                f"{ns_fs / ns_p:.2f}×",
                "≤ 1.5×",
                f"with spill (real materials) {spill_fs:.1f} ns/px = {spill_fs / ns_p:.2f}×" if spill_fs else "",
            ]
        )
        for k in ("jarvis", "stucki"):
            ns = summary[f"ours {label} {k}"][0]
            spill_k = summary.get(f"ours {label} {k} spill")
            rows.append(
                [
                    f"{k} ns/px {label}",
                    f"{ns:.1f}",
                    "",
                    "",
                    "≤ 30 ns/px",
                    f"with spill {spill_k:.1f} ns/px" if spill_k else "",
                ]
            )
    for label in ("1250×938", "12MP"):
        for k in (*common.MEERK40T_KERNELS, "halftone (clustered)"):
            key = f"mk {label} {k}"
            if key in summary:
                ours_ns, mk_ns, mk_api = summary[key]
                raster = summary.get(f"ours {label} {k} raster")
                rows.append(
                    [
                        f"vs MeerK40t {k} {label}",
                        f"{ours_ns:.1f} ns/px",
                        f"{mk_ns:.1f} ns/px",
                        f"ours {mk_ns / ours_ns:.2f}× faster",
                        "≥ 3×",
                        f"via its API {mk_api:.1f} ns/px"
                        + (f"; ours raster (MeerK40t's scan order) {mk_ns / raster:.2f}× faster" if raster else ""),
                    ]
                )
    for k in ("legacy-floyd-steinberg", "jarvis-judice-ninke"):
        rows.append([f"MeerK40t no-numba {k}", "", f"{summary[f'mk python {k}']:.0f} ns/px", "", "", "extrapolated"])
    pillow = summary["full pillow"]
    for name in ("reference (no adjustments)", "maple defaults (sharpen; marks > 1 px)"):
        t = summary[f"full {name}"]
        rows.append(
            [
                f"12 MP full resolution, {name}",
                f"{t * 1e3:.0f} ms",
                f"{pillow * 1e3:.0f} ms (Pillow convert('1'))",
                f"{t / pillow:.2f}×",
                f"≤ {FULL_RES_TARGET}×" if name.startswith("reference") else "",
                "prepare_artwork on the uint8 array vs Pillow's dither of the same array",
            ]
        )
    first, second = summary["cli first"], summary["cli second"]
    rows.append(
        [
            "CLI 12MP → PNG (subprocess)",
            f"{first[0]:.2f} s / {second[0]:.2f} s",
            "",
            "",
            "",
            f"first/second run; in-process {first[1]:.2f} / {second[1]:.2f} s",
        ]
    )
    rows.append(
        [
            "import intaglio.imaging.artwork",
            f"{summary['import import intaglio.imaging.artwork']:.2f} s",
            f"{summary['import python -c pass']:.2f} s (bare python)",
            "",
            "",
            "",
        ]
    )
    print(table(["measure", "ours", "other", "ratio", "target", "note"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median), default 5")
    parser.add_argument("--runs-12mp", type=int, default=3, help="timed runs for the 12 MP kernel figures")
    parser.add_argument("--photo", default="chelsea", choices=["chelsea", "astronaut"])
    parser.add_argument("--mk-halftone-12mp", action="store_true", help="also time MeerK40t's halftone at 12 MP")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"# intaglio artwork engine speed — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, Pillow {Image.__version__}, OpenCV {cv2.__version__}, "
        f"numba {importlib.import_module('numba').__version__}; engine {common.engine_revision()}"
    )
    summary: dict = {}
    with tempfile.TemporaryDirectory(prefix="engrave-bench-") as tmp:
        workdir = Path(tmp)
        paths = {}
        for i, (label, size) in enumerate(SIZES.items()):
            paths[label] = workdir / f"{args.photo}-{label}.jpg"
            make_jpeg(paths[label], size, args.photo, seed=i)
        print(
            f"inputs: skimage.data.{args.photo} upscaled (INTER_CUBIC) + Gaussian noise σ=6, JPEG q92: "
            + ", ".join(f"{k} {v.stat().st_size / 1e6:.1f} MB" for k, v in paths.items())
            + f" (made in {time.perf_counter() - started:.1f} s)"
        )
        pipeline(paths, args.runs, summary)
        full_resolution(paths["12MP"], max(args.runs, 9), summary)
        kernels(paths["12MP"], args.runs, args.runs_12mp, summary, args.mk_halftone_12mp)
        if not args.skip_cli:
            cli(paths["12MP"], workdir, summary)
            final_table(summary)
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
