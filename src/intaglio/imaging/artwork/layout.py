"""Placement of a piece: framing the photo (crop, rotate, mirror), its shape (mask) and its position on the bed.

Positions follow the G-code's convention (outputs.py): the work area runs from (0, 0) at its lower-left corner to
(width, height), X to the right and Y up; a piece's origin is its lower-left corner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from intaglio.imaging.artwork.library import Machine, get_machine

ANCHORS = (
    "top-left",
    "top",
    "top-right",
    "left",
    "center",
    "right",
    "bottom-left",
    "bottom",
    "bottom-right",
)
# (horizontal, vertical) side of the work area each anchor holds the piece against.
_ANCHOR_SIDES = {
    "top-left": ("left", "top"),
    "top": ("center", "top"),
    "top-right": ("right", "top"),
    "left": ("left", "center"),
    "center": ("center", "center"),
    "right": ("right", "center"),
    "bottom-left": ("left", "bottom"),
    "bottom": ("center", "bottom"),
    "bottom-right": ("right", "bottom"),
}
MASKS = (None, "oval", "rounded")
MASK_EDGES = ("hard", "soft")
ROTATIONS = (0, 90, 180, 270)

# A soft mask edge fades the picture out over this width (at most a quarter of the piece's shorter side).
SOFT_EDGE_MM = 3.0
# A rounded mask's corner radius, as a fraction of the piece's shorter side.
ROUNDED_RADIUS = 0.12
# Sides are compared with this much slack, so a piece exactly touching the work area's edge fits.
TOLERANCE_MM = 1e-6


@dataclass(frozen=True)
class Layout:
    """How a photo becomes a placed piece.

    crop is (x, y, w, h) as fractions of the upright photo, from its top-left corner; rotate_deg turns it clockwise;
    mirror flips it left to right (to engrave the back of glass or acrylic). Those three apply in that order,
    before the piece is sized. mask shapes the piece: outside it nothing burns; a "soft" edge fades the picture out
    over `SOFT_EDGE_MM`. anchor and offset_mm place the piece in the work area: the anchor names the work area's
    edge or corner the piece sits against, offset_mm then moves it (X right, Y up, in millimetres).
    """

    crop: tuple[float, float, float, float] | None = None
    rotate_deg: int = 0
    mirror: bool = False
    mask: str | None = None
    mask_edge: str = "hard"
    anchor: str = "bottom-left"
    offset_mm: tuple[float, float] = (0.0, 0.0)

    def problem(self) -> str | None:
        """What is wrong with the layout itself, or None.

        Returns
        -------
        str or None
            A sentence for people naming the field and what it accepts.
        """
        if self.crop is not None:
            if len(self.crop) != 4 or not all(_finite(v) for v in self.crop):
                return f"crop must be four numbers (x, y, width, height), not {self.crop!r}."
            x, y, w, h = self.crop
            if not (0 <= x < 1 and 0 <= y < 1 and w > 0 and h > 0 and x + w <= 1 + 1e-9 and y + h <= 1 + 1e-9):
                return f"crop {self.crop!r} must lie within the photo (fractions 0–1 of its width and height)."
        if self.rotate_deg not in ROTATIONS:
            return f"rotate_deg must be one of 0, 90, 180, 270, not {self.rotate_deg!r}."
        if self.mask not in MASKS:
            return f"mask must be none, 'oval' or 'rounded', not {self.mask!r}."
        if self.mask_edge not in MASK_EDGES:
            return f"mask_edge must be 'hard' or 'soft', not {self.mask_edge!r}."
        if self.anchor not in ANCHORS:
            return f"anchor must be one of {', '.join(ANCHORS)}, not {self.anchor!r}."
        if len(self.offset_mm) != 2 or not all(_finite(v) for v in self.offset_mm):
            return f"offset_mm must be two numbers (x, y), not {self.offset_mm!r}."
        return None

    @property
    def changes_photo(self) -> bool:
        return self.crop is not None or self.rotate_deg != 0 or self.mirror

    def origin_mm(self, width_mm: float, height_mm: float, work_area_mm: tuple[float, float]) -> tuple[float, float]:
        """The G-code origin: the piece's lower-left corner in the work area.

        Parameters
        ----------
        width_mm, height_mm : float
            The piece's size.
        work_area_mm : tuple of float
            The machine's work area (width, height).

        Returns
        -------
        tuple of float
            (x, y) in millimetres, Y up from the work area's lower-left corner, as `outputs.gcode`'s origin.
        """
        area_w, area_h = work_area_mm
        horizontal, vertical = _ANCHOR_SIDES[self.anchor]
        x = {"left": 0.0, "center": (area_w - width_mm) / 2, "right": area_w - width_mm}[horizontal]
        y = {"bottom": 0.0, "center": (area_h - height_mm) / 2, "top": area_h - height_mm}[vertical]
        return x + float(self.offset_mm[0]), y + float(self.offset_mm[1])


def check_placement(
    layout: Layout | None,
    *,
    width_mm: float,
    height_mm: float,
    machine: str | Machine,
    overscan_mm: float = 0.0,
) -> str | None:
    """Whether the placed piece stays within the machine's work area.

    Parameters
    ----------
    layout : Layout or None
        The placement (None: the default, the work area's lower-left corner).
    width_mm, height_mm : float
        The piece's size.
    machine : str or Machine
        The machine whose ``work_area_mm`` it must stay in.
    overscan_mm : float
        The run-up left and right of the piece (LaserSettings.overscan_mm), which the head travels too.

    Returns
    -------
    str or None
        A sentence for people naming the edge crossed and by how much, or None when the piece fits.
    """
    layout = layout or Layout()
    machine = get_machine(machine)
    problem = layout.problem()
    if problem:
        return problem
    area_w, area_h = machine.work_area_mm
    x, y = layout.origin_mm(width_mm, height_mm, machine.work_area_mm)
    run_up = f" with {overscan_mm:g} mm of overscan" if overscan_mm else ""
    edges = (
        ("left", -(x - overscan_mm)),
        ("right", x + width_mm + overscan_mm - area_w),
        ("bottom", -y),
        ("top", y + height_mm - area_h),
    )
    for edge, beyond in edges:
        if beyond > TOLERANCE_MM:
            return (
                f"Placed there, the {width_mm:.1f} × {height_mm:.1f} mm piece{run_up} goes {beyond:.1f} mm past the "
                f"{edge} edge of the {machine.label}'s {area_w:g} × {area_h:g} mm work area."
            )
    return None


def frame_photo(image: Image.Image | np.ndarray, layout: Layout) -> Image.Image | np.ndarray:
    """The photo cropped, turned and mirrored as the layout says (upright first, by its EXIF orientation).

    Parameters
    ----------
    image : PIL.Image.Image or numpy.ndarray
        The photo as `tone.open_source` gives it.
    layout : Layout

    Returns
    -------
    PIL.Image.Image or numpy.ndarray
        The same kind of image, upright.
    """
    if isinstance(image, Image.Image):
        upright = ImageOps.exif_transpose(image)
        if layout.crop is not None:
            x, y, w, h = layout.crop
            box = _crop_box(upright.width, upright.height, x, y, w, h)
            upright = upright.crop(box)
        turn = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
        if layout.rotate_deg in turn:
            upright = upright.transpose(turn[layout.rotate_deg])
        if layout.mirror:
            upright = upright.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return upright
    array = image
    if layout.crop is not None:
        x, y, w, h = layout.crop
        left, top, right, bottom = _crop_box(array.shape[1], array.shape[0], x, y, w, h)
        array = array[top:bottom, left:right]
    if layout.rotate_deg:
        array = np.rot90(array, k=-(layout.rotate_deg // 90))  # negative k: clockwise
    if layout.mirror:
        array = array[:, ::-1]
    return np.ascontiguousarray(array)


def _crop_box(width: int, height: int, x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
    left, top = min(width - 1, round(x * width)), min(height - 1, round(y * height))
    right, bottom = (
        max(left + 1, min(width, round((x + w) * width))),
        max(top + 1, min(height, round((y + h) * height))),
    )
    return left, top, right, bottom


def mask_weights(shape: tuple[int, int], px_mm: float, mask: str | None, edge: str = "hard") -> np.ndarray | None:
    """How much of the picture shows at each pixel: 1 inside the mask, 0 outside, a ramp across a soft edge.

    Parameters
    ----------
    shape : tuple of int
        The artwork's (height, width) in pixels.
    px_mm : float
        The pixel pitch.
    mask : {None, "oval", "rounded"}
        The shape: an ellipse filling the piece, or a rectangle with rounded corners (`ROUNDED_RADIUS`).
    edge : {"hard", "soft"}
        A soft edge fades from 1 to 0 over `SOFT_EDGE_MM` inside the shape (a quarter of the shorter side at most),
        so the halftoner dithers the fade.

    Returns
    -------
    numpy.ndarray or None
        float32 weights of `shape`, or None without a mask.
    """
    if mask is None:
        return None
    height, width = shape
    ys = (np.arange(height, dtype=np.float32) + 0.5)[:, None]
    xs = (np.arange(width, dtype=np.float32) + 0.5)[None, :]
    if mask == "oval":
        inside = ((xs - width / 2) / (width / 2)) ** 2 + ((ys - height / 2) / (height / 2)) ** 2 <= 1.0
    elif mask == "rounded":
        radius = ROUNDED_RADIUS * min(width, height)
        # Distance beyond the inner rectangle whose corners are the arcs' centres.
        dx = np.maximum(np.abs(xs - width / 2) - (width / 2 - radius), 0)
        dy = np.maximum(np.abs(ys - height / 2) - (height / 2 - radius), 0)
        inside = dx * dx + dy * dy <= radius * radius
    else:
        raise ValueError(f"mask must be None, 'oval' or 'rounded', not {mask!r}")
    if edge == "hard":
        return inside.astype(np.float32)
    import cv2

    feather_px = min(SOFT_EDGE_MM / px_mm, min(width, height) / 4)
    padded = np.pad(inside.astype(np.uint8), 1)  # the border counts as outside
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    return np.clip(distance / max(feather_px, 1.0), 0.0, 1.0).astype(np.float32)


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
