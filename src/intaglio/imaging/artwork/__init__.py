"""Photo → laser-ready artwork for a named material and machine. Pure: no Django imports.

Code outside `intaglio.imaging` uses the engine through these names only.
"""

from intaglio.imaging.artwork.calibrated import Calibration
from intaglio.imaging.artwork.core import MODES, ArtworkError, PreparedArtwork, prepare_artwork
from intaglio.imaging.artwork.fit import WorkAreaFit, check_fit
from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS
from intaglio.imaging.artwork.library import (
    CATEGORIES,
    MACHINE_KINDS,
    Machine,
    Material,
    get_machine,
    get_material,
    machines,
    materials,
)
from intaglio.imaging.artwork.tone import (
    ADJUSTMENT_LIMITS,
    NEUTRAL_ADJUSTMENTS,
    PhotoSource,
    linear_to_srgb,
    srgb_to_linear,
)

__all__ = [
    "ADJUSTMENT_LIMITS",
    "NEUTRAL_ADJUSTMENTS",
    "CATEGORIES",
    "DIFFUSION_KERNELS",
    "MACHINE_KINDS",
    "MODES",
    "ArtworkError",
    "Calibration",
    "Machine",
    "Material",
    "PhotoSource",
    "PreparedArtwork",
    "WorkAreaFit",
    "check_fit",
    "get_machine",
    "get_material",
    "linear_to_srgb",
    "machines",
    "materials",
    "prepare_artwork",
    "srgb_to_linear",
]
