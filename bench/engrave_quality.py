"""Tone fidelity of every artwork mode against Pillow and MeerK40t, on the material as the preview models it.

    .venv/bin/python bench/engrave_quality.py        (about 1–2 minutes; --photos / --materials to subsample)

For six sample photos (skimage astronaut, chelsea, coffee, camera; sklearn china, flower), 60 mm wide on the
10 W diode, on `reference` (ideal one-pixel black marks), `birch-plywood` (dark-marking) and `slate`
(light-marking), with neutral adjustments (no contrast, sharpening, levels, CLAHE, denoise):

* target  = the picture in linear light on the artwork's pixel grid, exactly as the engine resamples it
            (tone.load_linear): coverage = 1 − luminance on dark-marking materials, luminance on light-marking ones;
* ours    = PreparedArtwork.effective_coverage() — the simulated marked area including dot gain (grayscale mode: the
            material's tone response of the power, spread by the mark);
* Pillow  = Image.convert('1') (Floyd–Steinberg; the threshold row uses Dither.NONE), MeerK40t = its numba
            kernels (meerk40t.image.dither) and its halftone raster script, on the same grid; their dots are
            simulated with the same dotgain.effective_coverage(burn, mark_px) as ours. Each gets two inputs:
            "sRGB" = the 8-bit sRGB-encoded grey picture (what users feed them; inverted for light-marking slate,
            as one inverts the image for slate in those tools), and "lin" = 8-bit 1 − target coverage (the same
            linear-light convention as ours, so only the kernel and the missing dot-gain correction differ).

Fidelity = RMSE and SSIM (skimage structural_similarity, data_range 1) of the two coverage maps after a visual
low-pass: a Gaussian with σ = 0.3 mm on the material (≈1.5 arc-minutes at 70 cm, about where single dots stop
being resolved), in pixels σ = 0.3 mm / line interval. bias = mean(simulated) − mean(target) (+ = too dark on
dark-marking materials, too light on slate). Figures are means over the photos. Lower RMSE / higher SSIM is better.
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
from collections import defaultdict  # noqa: E402

import cv2  # noqa: E402
import engrave_common as common  # noqa: E402
import numpy as np  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

MACHINE = "diode-10w"
WIDTH_MM = 60.0
SIGMA_MM = 0.3
NEUTRAL = {
    "brightness": 0.0,
    "contrast": 1.0,
    "gamma": 1.0,
    "sharpen_amount": 0.0,
    "clahe": 0.0,
    "auto_levels_clip": 0.0,
    "denoise": 0.0,
}


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    y = np.clip(linear.astype(np.float64), 0, 1)
    p = np.where(y <= 0.0031308, y * 12.92, 1.055 * np.power(y, 1 / 2.4) - 0.055)
    return np.round(p * 255).astype(np.uint8)


def scores(seen: np.ndarray, target_lp: np.ndarray, target_mean: float, sigma_px: float) -> tuple[float, ...]:
    seen_lp = cv2.GaussianBlur(seen.astype(np.float32), (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    rmse = float(np.sqrt(np.mean((seen_lp - target_lp) ** 2)))
    ssim = float(structural_similarity(seen_lp, target_lp, data_range=1.0))
    return rmse, ssim, float(seen.mean()) - target_mean


def competitors(gray_srgb: np.ndarray, gray_lin: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    """(mode row, column) → burn, for Pillow and MeerK40t on both inputs."""
    burns = {}
    for tag, gray in (("sRGB", gray_srgb), ("lin", gray_lin)):
        burns["floyd-steinberg", f"Pillow {tag}"] = common.pillow_burn(gray)
        burns["threshold", f"Pillow {tag}"] = common.pillow_burn(gray, dither=False)
        for mode, kernel in common.MEERK40T_KERNELS.items():
            burns[mode, f"MeerK40t {tag}"] = common.meerk40t_burn(gray, kernel)
        burns["halftone", f"MeerK40t {tag}"] = common.meerk40t_halftone_burn(gray)
    return burns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", nargs="*", default=list(common.PHOTOS))
    parser.add_argument("--materials", nargs="*", default=["reference", "birch-plywood", "slate"])
    parser.add_argument("--per-photo", action="store_true", help="also print ours vs Pillow FS per photo")
    args = parser.parse_args()

    from intaglio.imaging.artwork import MODES, dotgain, get_machine, get_material, prepare_artwork
    from intaglio.imaging.artwork.tone import load_linear

    started = time.perf_counter()
    photos = common.sample_photos(args.photos)
    machine = get_machine(MACHINE)
    print(
        f"# Tone fidelity — engine {common.engine_revision()}; {WIDTH_MM:g} mm wide on {MACHINE}; "
        f"photos: {', '.join(photos)}; low-pass σ = {SIGMA_MM} mm"
    )
    columns = ["Pillow sRGB", "Pillow lin", "MeerK40t sRGB", "MeerK40t lin"]
    for material_name in args.materials:
        material = get_material(material_name)
        ours = defaultdict(list)  # mode → [(rmse, ssim, bias)]
        theirs = defaultdict(list)  # (mode, column) → [(rmse, ssim, bias)]
        per_photo = []
        info = ""
        for photo_name, photo in photos.items():
            target_lp = target = sigma_px = None
            for mode in MODES:
                art = prepare_artwork(
                    photo, material=material, machine=machine, width_mm=WIDTH_MM, mode=mode, **NEUTRAL
                )
                if target is None:
                    luminance = load_linear(photo, size=art.burn.shape[::-1])
                    target = luminance if material.polarity == "light" else 1.0 - luminance
                    sigma_px = SIGMA_MM / art.px_mm
                    target_lp = cv2.GaussianBlur(target, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
                    info = (
                        f"{material.polarity}-marking, line interval {art.px_mm:.3f} mm, mark "
                        f"{art.mark_px:.2f} px, σ = {sigma_px:.2f} px"
                    )
                ours[mode].append(scores(art.effective_coverage(), target_lp, float(target.mean()), sigma_px))
            srgb = srgb_encode(luminance)
            gray_srgb = 255 - srgb if material.polarity == "light" else srgb  # black = burn in those tools
            gray_lin = np.round(255 * (1.0 - target)).astype(np.uint8)
            for key, burn in competitors(gray_srgb, gray_lin).items():
                seen = dotgain.effective_coverage(burn, art.mark_px)
                theirs[key].append(scores(seen, target_lp, float(target.mean()), sigma_px))
            per_photo.append(
                (
                    photo_name,
                    ours["floyd-steinberg"][-1],
                    theirs["floyd-steinberg", "Pillow sRGB"][-1],
                    theirs["floyd-steinberg", "Pillow lin"][-1],
                )
            )

        def cell(values, with_bias=False):
            if not values:
                return "—"
            rmse, ssim, bias = np.mean(values, axis=0)
            return f"{rmse:.3f} / {ssim:.3f}" + (f" ({bias:+.3f})" if with_bias else "")

        rows = []
        for mode in MODES:
            rmse, ssim, bias = np.mean(ours[mode], axis=0)
            label = mode + (" (line art)" if mode == "sketch" else "")
            rows.append(
                [
                    label,
                    f"{rmse:.3f}",
                    f"{ssim:.3f}",
                    f"{bias:+.3f}",
                    *(cell(theirs.get((mode, c), []), with_bias=True) for c in columns),
                ]
            )
        print(f"\n## {material.label} ({material_name}: {info})")
        print(
            common.table(
                ["mode", "ours RMSE", "ours SSIM", "ours bias", *(f"{c} RMSE / SSIM (bias)" for c in columns)], rows
            )
        )
        if args.per_photo:
            print("\nper photo, floyd-steinberg — ours | Pillow sRGB | Pillow lin  (RMSE / SSIM / bias)")
            for name, a, b, c in per_photo:
                print(f"  {name:10} " + " | ".join(f"{r:.3f} / {s:.3f} / {m:+.3f}" for r, s, m in (a, b, c)))
    print(
        "\nNotes: 'MeerK40t' floyd-steinberg is its numba 'legacy-floyd-steinberg' (its default FS is Pillow's); "
        "its 'bayer' uses an 8×8 matrix of 0–63 against 0–255 code values (so it only burns pixels darker than "
        "~63), shown in the bayer8 row as it ships. Sketch is line art: tone fidelity is not its aim."
    )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
