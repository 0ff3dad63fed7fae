"""Shared pieces of the engraving benchmarks (bench/engrave*.py, bench/golden.py): sample photos, the MeerK40t and
Pillow reference dithers, the engine's revision, and a plain Markdown table."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
PHOTOS = ("astronaut", "chelsea", "coffee", "camera", "china", "flower")

# Our error-diffusion / screen modes and MeerK40t's kernel of the same name (meerk40t.image.dither.function_map).
MEERK40T_KERNELS = {
    "floyd-steinberg": "legacy-floyd-steinberg",
    "atkinson": "atkinson",
    "jarvis": "jarvis-judice-ninke",
    "stucki": "stucki",
    "burkes": "burkes",
    "sierra3": "sierra3",
    "sierra2": "sierra2",
    "sierra-lite": "sierra-2-4a",
    "bayer8": "bayer",
}


def sample_photos(names=PHOTOS) -> dict[str, np.ndarray]:
    """uint8 photos: skimage.data (astronaut, chelsea, coffee, camera) and sklearn's sample images (china, flower)."""
    import skimage.data

    out = {}
    for name in names:
        if name in ("china", "flower"):
            from sklearn.datasets import load_sample_image

            out[name] = load_sample_image(f"{name}.jpg")
        else:
            out[name] = getattr(skimage.data, name)()
    return out


def engine_revision() -> str:
    """The git commit of the tree being measured, and whether the engine has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src/intaglio/imaging/artwork"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"commit {head}" + (" + uncommitted engine changes" if dirty else "")


def meerk40t_burn(gray: np.ndarray, kernel: str) -> np.ndarray:
    """MeerK40t's numba kernel on an 8-bit grey picture (0 = black = burn), as its dither() calls it."""
    import importlib

    dither = importlib.import_module("meerk40t.image.dither")
    data = np.ascontiguousarray(gray, dtype=np.float32).copy()
    result = dither.function_map[kernel](data)
    return np.asarray(result) < 128


def meerk40t_halftone_burn(gray: np.ndarray) -> np.ndarray:
    """MeerK40t's halftone as its 'newsy' raster script runs it: black dots (sample 10, angle 22°, oversample 2),
    then its dither step (Pillow Floyd–Steinberg)."""
    from meerk40t.image.imagetools import RasterScripts

    image = RasterScripts.halftone(Image.fromarray(gray), sample=10, angle=22, oversample=2, black=True)
    return np.asarray(image.convert("1")) == 0


def pillow_burn(gray: np.ndarray, dither: bool = True) -> np.ndarray:
    """Pillow's convert('1') (Floyd–Steinberg, or a plain 50 % threshold) on an 8-bit grey picture."""
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    return np.asarray(Image.fromarray(gray).convert("1", dither=mode)) == 0


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
