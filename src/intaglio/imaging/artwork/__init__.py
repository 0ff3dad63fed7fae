"""Photo → laser-ready artwork for a named material and machine. Pure: no Django imports.

Code outside `intaglio.imaging` uses the engine through these names only.
"""

from intaglio.imaging.artwork import outputs
from intaglio.imaging.artwork.burntime import BurnTime, estimate_burn_time, format_duration
from intaglio.imaging.artwork.calibrated import Calibration
from intaglio.imaging.artwork.core import LINE_MODES, MODES, ArtworkError, PreparedArtwork, prepare_artwork
from intaglio.imaging.artwork.fit import WorkAreaFit, check_fit
from intaglio.imaging.artwork.halftone import DIFFUSION_KERNELS
from intaglio.imaging.artwork.laser import (
    MAX_OVERSCAN_MM,
    MAX_PASSES,
    LaserSettings,
    check_laser_settings,
    laser_problem,
    overscan_for,
    suggest_laser_settings,
)
from intaglio.imaging.artwork.layout import ANCHORS, MASK_EDGES, MASKS, ROTATIONS, Layout, check_placement, frame_photo
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
from intaglio.imaging.artwork.lightburn import lbrn2
from intaglio.imaging.artwork.tone import (
    ADJUSTMENT_LIMITS,
    NEUTRAL_ADJUSTMENTS,
    PhotoSource,
    linear_to_srgb,
    srgb_to_linear,
)

__all__ = [
    "ADJUSTMENT_LIMITS",
    "ANCHORS",
    "LINE_MODES",
    "MASKS",
    "MASK_EDGES",
    "MAX_OVERSCAN_MM",
    "MAX_PASSES",
    "ROTATIONS",
    "BurnTime",
    "LaserSettings",
    "Layout",
    "check_laser_settings",
    "check_placement",
    "estimate_burn_time",
    "format_duration",
    "frame_photo",
    "laser_problem",
    "lbrn2",
    "outputs",
    "overscan_for",
    "suggest_laser_settings",
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
