"""Contact sheets of every artwork mode on the six sample photos, for looking at (no assertions).

    .venv/bin/python bench/golden.py          → bench/out/golden/

For each material (reference, birch-plywood, slate), 50 mm wide on the 10 W diode, with the material's default
adjustments (what a user gets), every mode's simulated preview (PreparedArtwork.simulate(): dot gain, the material's
colours and texture):

* contact-<material>.png         the whole picture, downscaled in linear light into ~300 px tiles: tone at a glance;
* contact-<material>-detail.png  a 300×300 px crop at 1:1 from the picture's centre: dot structure (worms, moiré);
* contact-burns-reference.png    the raw 1-bit burns on `reference`, 300×300 px crops at 1:1 (grayscale: power).

Rows are photos, columns are modes; each tile carries its mode (and photo) as a caption.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's `queue` while this directory leads sys.path, so the
# directory goes last: the standard library wins, and sibling modules still import by name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]

import argparse  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import engrave_common as common  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

MACHINE = "diode-10w"
WIDTH_MM = 50.0
TILE = 300
CAPTION = 20
GAP = 6
BACKGROUND = (200, 200, 200)


def _font():
    try:
        return ImageFont.load_default(size=14)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _to_linear(rgb: np.ndarray) -> np.ndarray:
    p = rgb.astype(np.float32) / 255
    return np.where(p <= 0.04045, p / 12.92, ((p + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    y = np.clip(linear, 0, 1)
    return np.round(255 * np.where(y <= 0.0031308, y * 12.92, 1.055 * y ** (1 / 2.4) - 0.055)).astype(np.uint8)


def fit_tile(rgb: np.ndarray) -> Image.Image:
    """The whole picture scaled into TILE×TILE, centred on the sheet background.

    Downscaling averages in linear light (INTER_AREA on linear values), as the eye does from a distance: averaging
    a dither's sRGB code values would show a 50 % pattern at 21 % luminance instead of 50 %, far too dark.
    """
    h, w = rgb.shape[:2]
    scale = min(TILE / w, TILE / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale < 1:
        small = _to_srgb(cv2.resize(_to_linear(rgb), size, interpolation=cv2.INTER_AREA))
    else:
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_NEAREST)
    tile = Image.new("RGB", (TILE, TILE), BACKGROUND)
    tile.paste(Image.fromarray(small), ((TILE - size[0]) // 2, (TILE - size[1]) // 2))
    return tile


def crop_tile(rgb: np.ndarray) -> Image.Image:
    """A TILE×TILE crop at 1:1 from the centre (smaller pictures are centred on the background)."""
    h, w = rgb.shape[:2]
    y0, x0 = max(0, (h - TILE) // 2), max(0, (w - TILE) // 2)
    part = rgb[y0 : y0 + TILE, x0 : x0 + TILE]
    tile = Image.new("RGB", (TILE, TILE), BACKGROUND)
    tile.paste(Image.fromarray(np.ascontiguousarray(part)), ((TILE - part.shape[1]) // 2, (TILE - part.shape[0]) // 2))
    return tile


def sheet(tiles: dict[tuple[str, str], Image.Image], photos: list[str], modes: list[str], title: str) -> Image.Image:
    font = _font()
    head = 28
    width = GAP + len(modes) * (TILE + GAP)
    height = head + GAP + len(photos) * (TILE + CAPTION + GAP)
    out = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    draw.text((GAP, 6), title, fill=(0, 0, 0), font=font)
    for row, photo in enumerate(photos):
        for col, mode in enumerate(modes):
            x = GAP + col * (TILE + GAP)
            y = head + GAP + row * (TILE + CAPTION + GAP)
            out.paste(tiles[photo, mode], (x, y))
            draw.text((x + 2, y + TILE + 2), f"{mode} · {photo}", fill=(0, 0, 0), font=font)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "golden")
    parser.add_argument("--materials", nargs="*", default=["reference", "birch-plywood", "slate"])
    parser.add_argument("--photos", nargs="*", default=list(common.PHOTOS))
    args = parser.parse_args()

    from intaglio.imaging.artwork import MODES, get_machine, get_material, prepare_artwork

    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    photos = common.sample_photos(args.photos)
    machine = get_machine(MACHINE)
    modes = list(MODES)
    revision = common.engine_revision()
    for material_name in args.materials:
        material = get_material(material_name)
        whole, detail, burns = {}, {}, {}
        for photo_name, photo in photos.items():
            for mode in modes:
                art = prepare_artwork(photo, material=material, machine=machine, width_mm=WIDTH_MM, mode=mode)
                preview = art.simulate()
                whole[photo_name, mode] = fit_tile(preview)
                detail[photo_name, mode] = crop_tile(preview)
                if material_name == "reference":
                    raw = 255 - art.power if art.power is not None else np.where(art.burn, 0, 255).astype(np.uint8)
                    burns[photo_name, mode] = crop_tile(np.repeat(raw[..., None], 3, axis=2))
        px = f"{art.px_mm:.2f} mm/px, {art.burn.shape[1]} px wide, mark {art.mark_px:.2f} px"
        title = (
            f"{material.label} - {WIDTH_MM:g} mm on {MACHINE} ({px}), default adjustments, simulated preview; "
            f"engine {revision}"
        )
        sheet(whole, list(photos), modes, title + " - whole picture").save(args.out / f"contact-{material_name}.png")
        sheet(detail, list(photos), modes, title + " - 1:1 centre crop").save(
            args.out / f"contact-{material_name}-detail.png"
        )
        if burns:
            sheet(
                burns,
                list(photos),
                modes,
                title.replace("simulated preview", "raw 1-bit burn (black = fire)") + " - 1:1 centre crop",
            ).save(args.out / "contact-burns-reference.png")
        print(f"{material_name}: written ({time.perf_counter() - started:.0f} s)")
    print(f"sheets in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
