"""Photo → laser-ready artwork for a named material and machine. Pure: no Django imports."""

from intaglio.imaging.artwork.core import MODES, Artwork, ArtworkError, prepare_artwork
from intaglio.imaging.artwork.library import get_machine, get_material, machines, materials

__all__ = [
    "MODES",
    "Artwork",
    "ArtworkError",
    "get_machine",
    "get_material",
    "machines",
    "materials",
    "prepare_artwork",
]
