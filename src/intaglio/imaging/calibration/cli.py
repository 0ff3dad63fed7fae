"""`intaglio calibrate card`: a material test card's four files from the command line (no Django, a fast start)."""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intaglio calibrate",
        description="Calibration: burn a material test card and photograph it to measure a material and machine.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    card = commands.add_parser(
        "card",
        help="make a material test card",
        description="Write card.png (1-bit, with its DPI), card.gcode (GRBL), card.svg and card.json (the layout, "
        "docs/card-format.md) for a material, a machine, a dithering mode and a line interval.",
    )
    card.add_argument("--material", required=True, help="material name (intaglio engrave --list-materials)")
    machine = card.add_mutually_exclusive_group(required=True)
    machine.add_argument("--machine", help="machine name (intaglio engrave --list-machines)")
    machine.add_argument(
        "--machine-spec",
        type=Path,
        help="your own machine as JSON: label, kind, power_w, spot_mm, line_interval_mm, max_feed_mm_min, "
        "work_area_mm [w, h], and optionally s_max, s_min, min_power_pct",
    )
    card.add_argument("--mode", default="floyd-steinberg", help="dithering mode (default floyd-steinberg)")
    card.add_argument("--interval", type=float, help="line interval in mm (default: the material's and machine's)")
    card.add_argument("--card-id", help="the card's id, 8 hex digits (default: random)")
    card.add_argument("--out", type=Path, default=Path("."), help="output directory (default: here)")
    _add_read(commands)
    return parser


def _machine(args, parser):
    from intaglio.imaging.artwork import Machine

    if args.machine is not None:
        return args.machine
    try:
        spec = json.loads(args.machine_spec.read_text(encoding="utf-8"))
        spec["work_area_mm"] = tuple(spec["work_area_mm"])
        return Machine(name="custom", **spec)
    except (OSError, ValueError, KeyError, TypeError) as unusable:
        parser.error(f"cannot use {args.machine_spec} as a machine: {unusable}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "read":
        return _read(args, parser)
    from intaglio.imaging.artwork.library import UnknownName
    from intaglio.imaging.calibration import CardError, make_card

    card_id = secrets.randbits(32)
    if args.card_id is not None:
        try:
            card_id = int(args.card_id, 16)
        except ValueError:
            parser.error(f"--card-id must be hexadecimal, not {args.card_id!r}")
    try:
        card = make_card(
            material=args.material,
            machine=_machine(args, parser),
            mode=args.mode,
            line_interval_mm=args.interval,
            card_id=card_id,
        )
    except UnknownName as unknown:
        parser.error(str(unknown))
    except CardError as refused:
        print(f"✗ {refused}")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "card.png").write_bytes(card.png())
    (args.out / "card.gcode").write_text(card.gcode(), encoding="utf-8")
    (args.out / "card.svg").write_text(card.svg(), encoding="utf-8")
    (args.out / "card.json").write_text(card.json(), encoding="utf-8")
    layout = card.layout
    print(
        f"✓ card {layout['card_id']}: {layout['width_mm']:g} × {layout['height_mm']:g} mm, {layout['material']} on "
        f"{layout['machine']}, {layout['mode']} at {layout['line_interval_mm']:g} mm → "
        f"{args.out}/card.png, card.gcode, card.svg, card.json"
    )
    return 0


# ------------------------------------------------------------------------------------- `intaglio calibrate read`


def _add_read(commands) -> None:
    read = commands.add_parser(
        "read",
        help="read a photo of a burned test card",
        description="Measure a burned test card from a photo: the mark diameter, the mode's tone response and the "
        "grid cell to use. Needs the card's card.json and its card.png (looked for beside card.json).",
    )
    read.add_argument("photo", type=Path, metavar="PHOTO", help="the photo of the burned card (JPEG, PNG, …)")
    read.add_argument("--card", type=Path, required=True, help="the card's card.json")
    read.add_argument("--card-png", type=Path, help="the card's PNG (default: card.png beside card.json)")
    read.add_argument("--json", action="store_true", help="print the reading as JSON")


def _read(args, parser) -> int:
    from intaglio.imaging.calibration import CardRefused, read_card

    try:
        layout = json.loads(args.card.read_text(encoding="utf-8"))
        png_path = args.card_png or args.card.with_suffix(".png")
        if not png_path.exists():
            png_path = args.card.parent / "card.png"
        card_png = png_path.read_bytes()
        photo = args.photo.read_bytes()
    except (OSError, ValueError) as unusable:
        parser.error(str(unusable))
    try:
        reading = read_card(photo, layout, card_png=card_png)
    except CardRefused as refused:
        if args.json:
            print(json.dumps({"refused": refused.code, "message": refused.message}))
        else:
            print(f"✗ refused ({refused.code}): {refused.message}")
        return 2
    body = reading.as_json()
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    tone = "  ".join(f"{n:.2f}→{e:.2f}" for n, e in body["tone_response"])
    cell = body["best_cell"]
    lines = [
        f"✓ card {body['card_id']}: registered to {body['registration_rms_px']:.2f} card px ({body['corners']} "
        f"corners), tilt {body['tilt_deg']:.0f}°, blur {body['blur_mm']:.2f} mm",
        f"  mark diameter   {body['mark_diameter_mm']:.3f} mm (fit residual {body['residual']:.3f})",
        f"  tone response   {tone}",
    ]
    if cell:
        lines.append(f"  use             {cell['power_pct']:g} % at {cell['speed_mm_min']:g} mm/min")
    print("\n".join(lines))
    return 0
