"""Jewellery imaging: the local analyser (reference images → attributes) and the local packshot renderer.

Pure (numpy, OpenCV, Pillow): nothing here imports Django or the rest of ``intaglio`` (DESIGN.md, "Layout")."""

from intaglio.imaging.jewellery.analysis import analyse_image, analyse_references, combine, decode_image, stone_mask
from intaglio.imaging.jewellery.packshot import frame_size, recolour_metal, render_packshot

__all__ = [
    "analyse_image",
    "analyse_references",
    "combine",
    "decode_image",
    "frame_size",
    "recolour_metal",
    "render_packshot",
    "stone_mask",
]
