"""Names people read for the engraving library and the studio: modes, categories, textures, laser kinds."""

from __future__ import annotations

from intaglio.engrave.models import LaserKind
from intaglio.engrave.params import STYLES
from intaglio.imaging.artwork import MODES
from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS

# Display order of the library's categories; a category added to the library later is shown after these.
CATEGORY_LABELS = {
    "wood": "Wood",
    "leather": "Leather",
    "paper": "Paper and card",
    "stone": "Stone",
    "metal": "Metal",
    "polymer": "Plastics",
    "glass": "Glass",
    "ceramic": "Ceramic",
    "reference": "Calibration",
}
KIND_LABELS = dict(LaserKind.choices)
KIND_SHORT = {"diode": "Diode", "co2": "CO₂", "fibre": "Fibre", "galvo": "Galvo"}
# The machine each kind's suggestions were made for (library.toml's header: "Suggestions are starting points for one
# reference machine per kind").
REFERENCE_MACHINES = {"diode": "diode-10w", "co2": "co2-60w", "fibre": "fibre-30w", "galvo": "galvo"}
TEXTURE_LABELS = {
    "none": "Even, no texture",
    "wood": "Wood grain",
    "stone": "Stone",
    "leather": "Leather grain",
    "paper": "Paper fibre",
    "cork": "Cork granules",
    "metal": "Brushed metal",
    "glass": "Glass",
    "ceramic": "Glaze",
}
MODE_LABELS = {
    "floyd-steinberg": "Floyd–Steinberg",
    "atkinson": "Atkinson",
    "jarvis": "Jarvis–Judice–Ninke",
    "stucki": "Stucki",
    "burkes": "Burkes",
    "sierra3": "Sierra",
    "sierra2": "Sierra two-row",
    "sierra-lite": "Sierra Lite",
    "threshold": "Threshold (no dither)",
    "bayer2": "Ordered dither, 2 × 2",
    "bayer4": "Ordered dither, 4 × 4",
    "bayer8": "Ordered dither, 8 × 8",
    "blue-noise": "Blue-noise dither",
    "grayscale": "Grayscale (variable power)",
    **STYLES,
}
ADJUSTMENT_ORDER = (
    "auto_levels_clip",
    "brightness",
    "contrast",
    "gamma",
    "clahe",
    "denoise",
    "sharpen_amount",
    "sharpen_radius_mm",
    "invert",
    "isolate_subject",
)


def mode_label(mode: str) -> str:
    return MODE_LABELS.get(mode) or mode.replace("-", " ").capitalize()


def mode_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """MODES grouped the way people choose them; a mode added to the engine later lands in the matching group."""
    groups = {"Error diffusion": [], "Ordered and threshold": [], "Creative styles": [], "Grayscale": []}
    for mode in MODES:
        if mode in DIFFUSION_KERNELS:
            group = "Error diffusion"
        elif mode in STYLES:
            group = "Creative styles"
        elif mode == "grayscale":
            group = "Grayscale"
        else:
            group = "Ordered and threshold"
        groups[group].append((mode, mode_label(mode)))
    return [(group, choices) for group, choices in groups.items() if choices]
