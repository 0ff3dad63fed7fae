"""`intaglio engrave`: photos → laser-ready files from the command line (runs without Django, for a fast start)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ADJUSTMENT_FLAGS = {
    "brightness": ("--brightness", float, "−1…1 (0 = unchanged)"),
    "contrast": ("--contrast", float, "0.2…3 (1 = unchanged)"),
    "gamma": ("--gamma", float, "0.2…5 (1 = unchanged; above 1 darkens mid-tones)"),
    "auto_levels_clip": ("--auto-levels", float, "stretch levels, clipping this percent at each end"),
    "clahe": ("--clahe", float, "0…1 local contrast"),
    "sharpen_amount": ("--sharpen", float, "0…3 unsharp-mask amount"),
    "sharpen_radius_mm": ("--sharpen-radius-mm", float, "sharpen radius in mm"),
    "denoise": ("--denoise", float, "0…1 edge-preserving smoothing"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intaglio engrave",
        description="Turn photos into laser-ready artwork for a material and machine: a 1-bit (or grayscale) PNG "
        "with its DPI, and optionally G-code, an SVG trace and a preview of the burn.",
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="photos (JPEG, PNG, WebP, HEIC, TIFF)")
    parser.add_argument("--material", help="material name (see --list-materials)")
    parser.add_argument("--machine", help="machine name (see --list-machines)")
    parser.add_argument("--width-mm", type=float, help="width of the artwork in millimetres")
    parser.add_argument("--height-mm", type=float, help="height in mm (default: from the photo's aspect ratio)")
    parser.add_argument("--fit", default="crop", choices=["crop", "fit", "stretch"], help="when both sides are given")
    parser.add_argument("--mode", default="floyd-steinberg", help="halftoning mode (default floyd-steinberg)")
    parser.add_argument("--dpi", type=float, help="resolution (default: from the line interval)")
    parser.add_argument("--line-interval-mm", type=float, help="distance between raster lines in mm")
    parser.add_argument("--out", type=Path, default=Path("."), help="output directory (default: here)")
    parser.add_argument("--gcode", action="store_true", help="also write GRBL G-code")
    parser.add_argument("--svg", action="store_true", help="also write an SVG trace (mm units)")
    parser.add_argument("--preview", action="store_true", help="also write a PNG preview of the burn on the material")
    for name, (flag, kind, text) in ADJUSTMENT_FLAGS.items():
        parser.add_argument(flag, dest=name, type=kind, help=text)
    parser.add_argument("--invert", action="store_true", default=None, help="invert the picture")
    parser.add_argument("--isolate-subject", action="store_true", default=None, help="cut the subject out")
    parser.add_argument("--no-serpentine", action="store_true", help="error diffusion: scan every row the same way")
    parser.add_argument("--no-dot-gain", action="store_true", help="do not compensate the material's dot gain")
    parser.add_argument("--cell-mm", type=float, help="halftone: cell size in mm")
    parser.add_argument("--lpi", type=float, help="halftone: lines per inch")
    parser.add_argument("--angle", type=float, default=45.0, help="halftone/hatch: angle in degrees (default 45)")
    parser.add_argument("--threshold", type=float, default=0.5, help="threshold mode: 0…1 (default 0.5)")
    parser.add_argument("--list-materials", action="store_true", help="list the materials and exit")
    parser.add_argument("--list-machines", action="store_true", help="list the machines and exit")
    return parser


def _list(kind: str) -> str:
    from intaglio.imaging.artwork import library

    lines = []
    if kind == "materials":
        for m in library.materials().values():
            kinds = ", ".join(m.suggestions)
            lines.append(f"{m.name:28} {m.label:40} {m.polarity}-marking, interval {m.line_interval_mm} mm ({kinds})")
    else:
        for m in library.machines().values():
            w, h = m.work_area_mm
            lines.append(f"{m.name:14} {m.label:40} spot {m.spot_mm} mm, area {w:g}×{h:g} mm")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_materials or args.list_machines:
        print(_list("materials" if args.list_materials else "machines"))
        return 0
    missing = [
        flag
        for flag, value in (
            ("INPUT", args.inputs),
            ("--material", args.material),
            ("--machine", args.machine),
            ("--width-mm", args.width_mm),
        )
        if not value
    ]
    if missing:
        parser.error(f"missing {', '.join(missing)}")

    from intaglio.imaging.artwork import ArtworkError, get_machine, get_material, prepare_artwork
    from intaglio.imaging.artwork.library import UnknownName

    try:
        get_material(args.material)
        get_machine(args.machine)
    except UnknownName as unknown:
        parser.error(str(unknown))
    adjustments = {name: getattr(args, name) for name in ADJUSTMENT_FLAGS if getattr(args, name) is not None}
    for flag in ("invert", "isolate_subject"):
        if getattr(args, flag):
            adjustments[flag] = True
    args.out.mkdir(parents=True, exist_ok=True)

    failures = 0
    total = len(args.inputs)
    for index, name in enumerate(args.inputs, 1):
        path = Path(name)
        started = time.perf_counter()
        _progress(index - 1, total, path.name)
        try:
            artwork = prepare_artwork(
                path,
                material=args.material,
                machine=args.machine,
                width_mm=args.width_mm,
                height_mm=args.height_mm,
                fit=args.fit,
                mode=args.mode,
                dpi=args.dpi,
                line_interval_mm=args.line_interval_mm,
                compensate_dot_gain=not args.no_dot_gain,
                serpentine=not args.no_serpentine,
                threshold=args.threshold,
                cell_mm=args.cell_mm,
                lpi=args.lpi,
                angle_deg=args.angle,
                **adjustments,
            )
            written = _write(artwork, path, args)
        except ArtworkError as refused:
            failures += 1
            _finish_line(f"✗ {path.name}: {refused}")
            continue
        except (OSError, ValueError) as unreadable:
            failures += 1
            _finish_line(f"✗ {path.name}: cannot read this file as an image ({unreadable})")
            continue
        _finish_line(f"✓ {path.name} → {', '.join(p.name for p in written)} ({time.perf_counter() - started:.2f} s)")
    _progress(total, total, "done")
    sys.stderr.write("\n")
    return 1 if failures else 0


def _write(artwork, source: Path, args) -> list[Path]:
    stem = f"{source.stem}-{artwork.material.name}-{artwork.width_mm:.0f}x{artwork.height_mm:.0f}mm-{artwork.mode}"
    written = [args.out / f"{stem}.png"]
    written[0].write_bytes(artwork.png())
    if args.gcode:
        written.append(args.out / f"{stem}.gcode")
        written[-1].write_text(artwork.gcode())
    if args.svg:
        written.append(args.out / f"{stem}.svg")
        written[-1].write_text(artwork.svg())
    if args.preview:
        written.append(args.out / f"{stem}-preview.png")
        written[-1].write_bytes(artwork.simulated_burn_png())
    return written


def _progress(done: int, total: int, label: str) -> None:
    if not sys.stderr.isatty() and done not in (0, total):
        return
    width = 24
    filled = round(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40}")
    sys.stderr.flush()


def _finish_line(message: str) -> None:
    sys.stderr.write("\r" + " " * 80 + "\r")
    print(message, flush=True)
