"""Jewellery imaging: the local analyser (reference images → attributes) and the local packshot renderer.

Pure (numpy, OpenCV, Pillow): nothing here imports Django or the rest of ``intaglio`` (DESIGN.md, "Layout").

The analyser (``analysis``), the renderer (``packshot``) and the words both answer in (``vocabulary``) are reached
through this package: ``from intaglio.imaging.jewellery import analyse_references, render_packshot, METALS``.
``vocabulary`` also stays importable as a module (``from intaglio.imaging.jewellery import vocabulary``)."""

from intaglio.imaging.jewellery import vocabulary
from intaglio.imaging.jewellery.analysis import (
    ANALYSIS_EDGE,
    Scene,
    analyse_image,
    analyse_references,
    combine,
    decode_image,
    read_scene,
    stone_mask,
)
from intaglio.imaging.jewellery.packshot import (
    ASPECT_RATIOS,
    BACKDROPS,
    frame_size,
    recolour_metal,
    render_packshot,
    render_packshot_rgb,
)
from intaglio.imaging.jewellery.vocabulary import (
    FINISHES,
    METALS,
    PIECE_TYPES,
    SHOT_TYPES,
    STONE_COLOURS,
    STONE_CUTS,
    UNKNOWN,
    VARIANT_METALS,
)

__all__ = [
    # analysis
    "ANALYSIS_EDGE",
    "Scene",
    "analyse_image",
    "analyse_references",
    "combine",
    "decode_image",
    "read_scene",
    "stone_mask",
    # packshot
    "ASPECT_RATIOS",
    "BACKDROPS",
    "frame_size",
    "recolour_metal",
    "render_packshot",
    "render_packshot_rgb",
    # vocabulary
    "FINISHES",
    "METALS",
    "PIECE_TYPES",
    "SHOT_TYPES",
    "STONE_COLOURS",
    "STONE_CUTS",
    "UNKNOWN",
    "VARIANT_METALS",
    "vocabulary",
]
