"""The size a piece is made at, and whether it fits the machine's work area.

The engine, the studio's live preview, preparing files and the engrave jobs all ask `check_fit`, so they can never
disagree about whether a piece fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from intaglio.imaging.artwork.library import Machine

# Sides are compared with this much slack, so a piece exactly as large as the work area fits.
TOLERANCE_MM = 1e-6


@dataclass(frozen=True)
class WorkAreaFit:
    """The size `check_fit` found, in laser dots and millimetres, and why it does not fit ("" when it does)."""

    width_px: int
    height_px: int | None  # None: no height was given and the photo's aspect is not known yet
    line_interval_mm: float
    problem: str

    @property
    def fits(self) -> bool:
        return not self.problem

    @property
    def width_mm(self) -> float:
        return self.width_px * self.line_interval_mm

    @property
    def height_mm(self) -> float | None:
        return None if self.height_px is None else self.height_px * self.line_interval_mm


def check_fit(
    machine: Machine,
    *,
    width_mm: float,
    line_interval_mm: float,
    height_mm: float | None = None,
    source_size: tuple[int, int] | None = None,
) -> WorkAreaFit:
    """The size a piece is made at, and whether it fits `machine`'s work area.

    The size is what the files will have: a whole number of lines at `line_interval_mm`, so a side a fraction of a
    line over the work area is judged by the width the laser really burns. Without `height_mm` the height follows
    the photo's aspect (`source_size`); when neither is known only the width can be checked.

    Parameters
    ----------
    machine : Machine
        The machine whose ``work_area_mm`` (width, height) the piece must fit.
    width_mm : float
        The requested width, in millimetres.
    line_interval_mm : float
        The distance between lines (one pixel), in millimetres.
    height_mm : float, optional
        The requested height; None to follow the photo's aspect.
    source_size : tuple of int, optional
        The photo's upright (width, height) in pixels; None when it is not known yet.

    Returns
    -------
    WorkAreaFit
        The size in dots and millimetres, and ``problem``: a sentence for people saying why the piece does not fit,
        or "" when it fits.

    Examples
    --------
    >>> from intaglio.imaging.artwork import get_machine
    >>> fibre = get_machine("fibre-20w")  # a 110 × 110 mm field
    >>> check_fit(fibre, width_mm=100, line_interval_mm=0.05, source_size=(300, 900)).problem
    "100.0 × 300.0 mm does not fit the Fibre galvo marker 20 W's 110 × 110 mm work area."
    >>> check_fit(fibre, width_mm=100, line_interval_mm=0.05).fits
    True
    """
    width_px = max(1, round(width_mm / line_interval_mm))
    if height_mm:
        height_px = max(1, round(height_mm / line_interval_mm))
    elif source_size is not None:
        source_w, source_h = source_size
        height_px = max(1, round(width_px * source_h / max(1, source_w)))
    else:
        height_px = None
    true_w = width_px * line_interval_mm
    area_w, area_h = machine.work_area_mm
    problem = ""
    if height_px is None:
        if true_w > area_w + TOLERANCE_MM:
            problem = f"{true_w:.1f} mm is wider than the {machine.label} work area ({area_w:g} × {area_h:g} mm)."
    else:
        true_h = height_px * line_interval_mm
        if true_w > area_w + TOLERANCE_MM or true_h > area_h + TOLERANCE_MM:
            problem = (
                f"{true_w:.1f} × {true_h:.1f} mm does not fit the {machine.label}'s "
                f"{area_w:g} × {area_h:g} mm work area."
            )
    return WorkAreaFit(width_px=width_px, height_px=height_px, line_interval_mm=line_interval_mm, problem=problem)
