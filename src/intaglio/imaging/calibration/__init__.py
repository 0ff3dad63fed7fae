"""Calibration: test cards that measure how a material takes a machine's marks. Pure: no Django imports.

Code outside `intaglio.imaging` uses these names only.
"""

from intaglio.imaging.calibration.card import (
    CARD_MODES,
    CardDetection,
    CardError,
    TestCard,
    board,
    card_id_from_markers,
    check_card,
    detect_card,
    grid_levels,
    make_card,
    marker_ids,
    wedge_grey,
)

__all__ = [
    "CARD_MODES",
    "CardDetection",
    "CardError",
    "TestCard",
    "board",
    "card_id_from_markers",
    "check_card",
    "detect_card",
    "grid_levels",
    "make_card",
    "marker_ids",
    "wedge_grey",
]

# Reading a photo of a burned card (read.py).
from intaglio.imaging.calibration.read import CardReading, CardRefused, best_cell, read_card  # noqa: E402

__all__ += ["CardReading", "CardRefused", "best_cell", "read_card"]

# Reading a photo of a finished burn against its artwork (burn_photo.py).
from intaglio.imaging.calibration.burn_photo import BurnPhotoRefused, BurnReport, read_burn_photo  # noqa: E402

__all__ += ["BurnPhotoRefused", "BurnReport", "read_burn_photo"]
