"""The material test card: one burnable card that measures how a material takes a machine's marks.

The card, from top to bottom: two rows of a ChArUco board; the tone wedge (flat patches from 0 to 100 % coverage,
halftoned by the engine exactly as `prepare_artwork` would); a power × speed grid of solid cells beside the card's
id, its settings, a bare-material patch, a full-burn patch and a width patch (lone marks); two more rows of the
ChArUco board. Everything sits inside an unburned margin, and nothing touches anything else.

Every position is decided in whole laser lines (pixels) and reported in millimetres from the card's top-left corner
(`TestCard.layout`, docs/card-format.md), so the PNG, the G-code, the SVG and card.json agree exactly.

The id is in the markers: each drawn marker's id is ``slot * 64 + digit``, where ``slot`` numbers the drawn markers
in board order and ``digit`` is one of six base-64 digits of (card id << 4 | check nibble), repeated round the
slots. `detect_card` reads it back from a photo with `cv2.aruco`, needing no knowledge of the card's geometry.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from intaglio.imaging.artwork import (
    MODES,
    NEUTRAL_ADJUSTMENTS,
    Calibration,
    Machine,
    Material,
    PreparedArtwork,
    get_machine,
    get_material,
    laser_problem,
    outputs,
    suggest_laser_settings,
)
from intaglio.imaging.artwork import prepare_artwork as _prepare

FORMAT_VERSION = 1
DICTIONARY = "DICT_4X4_1000"
SQUARES_X = SQUARES_Y = 7
BOARD_ROWS = (0, 1, 5, 6)  # the board rows drawn; rows 2–4 are the card's middle, where the tests are
BIT_MM = 2.0  # the smallest marker bit: a spreading mark still leaves most of a bit clear
MARKER_BITS = 6  # 4 × 4 data bits and a one-bit black border each side
MARKER_MARGIN_BITS = 0.7  # white between a marker and its square's edge, in bits (OpenCV asks for ≥ 0.7)
OUTER_MARGIN_MM = 2.5  # unburned material round the whole card
GAP_MM = 1.5  # unburned material between the card's parts
WEDGE_STEPS = 17  # 0, 1/16, … 1
WEDGE_MIN_MM = 4.0
GRID_SIZE = 5
GRID_GAP_MM = 0.8
SLOT_SPAN = 64  # marker id = slot * SLOT_SPAN + digit
ID_DIGITS = 6  # base-64 digits of (card id << 4 | check)
# Width patches: marks whose darkness depends on the mark diameter differently from a solid burn's, so the reader can
# tell a thin dark mark from a wide light one (`width_pattern`).
WIDTH_PATTERNS = ("checker",)
CARD_MODES = tuple(mode for mode in MODES if mode not in ("grayscale", "sketch"))


class CardError(ValueError):
    """A card that cannot be made (mode, material and machine, work area); the message is for people."""


@dataclass(frozen=True, eq=False)
class TestCard:
    """A test card: its burn mask, the settings of each part, and its files (`png`, `gcode`, `svg`, `json`)."""

    __test__ = False  # not a pytest class

    burn: np.ndarray  # H×W bool, row 0 at the top, True where the laser fires
    layout: dict  # card.json, in millimetres from the card's top-left corner
    material: Material
    machine: Machine
    # (name, (row, column) of its top-left pixel, burn mask of the part, power %, feed mm/min), in burn order
    sections: list[tuple[str, tuple[int, int], np.ndarray, float, float]] = field(repr=False)

    @property
    def card_id(self) -> int:
        return int(self.layout["card_id"], 16)

    @property
    def line_interval_mm(self) -> float:
        return self.layout["line_interval_mm"]

    @cached_property
    def _artwork(self) -> PreparedArtwork:
        return self._as_artwork(self.burn)

    def _as_artwork(self, burn: np.ndarray) -> PreparedArtwork:
        h, w = burn.shape
        return PreparedArtwork(
            burn=burn,
            dpi=self.layout["dpi"],
            width_mm=w * self.line_interval_mm,
            height_mm=h * self.line_interval_mm,
            material=self.material,
            machine=self.machine,
            mode=self.layout["mode"],
            mark_px=0.0,
        )

    def png(self) -> bytes:
        """The card for the laser program.

        Returns
        -------
        bytes
            A 1-bit PNG, black where the laser fires, carrying its DPI.
        """
        return self._artwork.png()

    def svg(self) -> str:
        """The card as an SVG in millimetres, the PNG embedded pixel for pixel (a trace would smear the wedge).

        Returns
        -------
        str
        """
        h, w = self.burn.shape
        data = base64.b64encode(self.png()).decode("ascii")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
            f'width="{self.layout["width_mm"]:g}mm" height="{self.layout["height_mm"]:g}mm" viewBox="0 0 {w} {h}">\n'
            f"<title>Intaglio test card {self.layout['card_id']}</title>\n"
            f'<image x="0" y="0" width="{w}" height="{h}" image-rendering="pixelated" '
            f'style="image-rendering:pixelated" preserveAspectRatio="none" '
            f'xlink:href="data:image/png;base64,{data}" href="data:image/png;base64,{data}"/>\n'
            "</svg>\n"
        )

    def gcode(self) -> str:
        """GRBL raster G-code for the card, as the engine writes it (M4 dynamic power, white runs skipped).

        The grid cells come first, one program section each at the cell's own power (S) and feed (F), in risk order:
        least energy first, so a cell that flares can be stopped before the rest. Then the board, wedge, labels and
        full-burn patch at the suggested settings.

        Returns
        -------
        str
        """
        h, _ = self.burn.shape
        px = self.line_interval_mm
        suggested = self.layout["suggested"]
        parts = []
        for index, (name, (r0, c0), mask, power, feed) in enumerate(self.sections):
            comment = f"{name}: {power:g} % at {feed:g} mm/min"
            if index == 0:
                comment = (
                    f"Intaglio test card {self.layout['card_id']}: {self.material.label} on {self.machine.label}, "
                    f"{self.layout['mode']}, {self.layout['width_mm']:g} x {self.layout['height_mm']:g} mm at "
                    f"{px:g} mm line interval; origin at the card's bottom-left corner\n{comment}"
                )
            parts.append(
                outputs.gcode(
                    mask,
                    px_mm=25.4 / self.layout["dpi"],
                    s_max=self.machine.s_max,
                    s_min=self.machine.s_min,
                    feed_mm_min=feed,
                    power_pct=power,
                    passes=suggested["passes"],
                    origin=(c0 * px, (h - r0 - mask.shape[0]) * px),
                    header_comment=comment,
                    return_home=index == len(self.sections) - 1,
                )
            )
        return "".join(parts)

    def json(self) -> str:
        """card.json: the layout in millimetres (docs/card-format.md).

        Returns
        -------
        str
        """
        return json.dumps(self.layout, indent=2) + "\n"


# ------------------------------------------------------------------------------------------------------- the id


def _check_nibble(card_id: int) -> int:
    nibble = 0x5
    for shift in range(0, 32, 4):
        nibble = ((nibble << 1 | nibble >> 3) & 0xF) ^ (card_id >> shift) & 0xF
    return nibble


def _id_digits(card_id: int) -> list[int]:
    value = card_id << 4 | _check_nibble(card_id)
    return [(value >> (6 * (ID_DIGITS - 1 - k))) & 0x3F for k in range(ID_DIGITS)]


def _drawn_slots() -> list[int]:
    """The indices (in board order) of the markers in the drawn rows."""
    slots = []
    index = 0
    for row in range(SQUARES_Y):
        for col in range(SQUARES_X):
            if (row + col) % 2 == 1:  # OpenCV's board: the top-left square is black, markers in the white ones
                if row in BOARD_ROWS:
                    slots.append(index)
                index += 1
    return slots


def marker_ids(card_id: int) -> list[int]:
    """The id of every marker of the card's board, in board order (undrawn ones get ids no drawn marker has).

    Parameters
    ----------
    card_id : int
        The card's id, 0 … 2³² − 1.

    Returns
    -------
    list of int
        Ids in the board's dictionary (`DICTIONARY`).
    """
    if not 0 <= card_id < 2**32:
        raise CardError("A card id is a 32-bit number.")
    digits = _id_digits(card_id)
    total = SQUARES_X * SQUARES_Y // 2
    drawn = _drawn_slots()
    ids = [0] * total
    spare = len(drawn) * SLOT_SPAN
    for index in range(total):
        if index in drawn:
            slot = drawn.index(index)
            ids[index] = slot * SLOT_SPAN + digits[slot % ID_DIGITS]
        else:
            ids[index] = spare
            spare += 1
    return ids


def card_id_from_markers(ids) -> int | None:
    """The card id carried by detected marker ids, or None when they do not agree on one.

    Parameters
    ----------
    ids : iterable of int
        Marker ids found in a photo (`DICTIONARY`), in any order; strays are outvoted.

    Returns
    -------
    int or None
    """
    slots = len(_drawn_slots())
    votes: list[dict[int, int]] = [{} for _ in range(ID_DIGITS)]
    for marker in {int(i) for i in ids}:
        slot, digit = divmod(marker, SLOT_SPAN)
        if slot < slots:
            place = votes[slot % ID_DIGITS]
            place[digit] = place.get(digit, 0) + 1
    if not all(votes):
        return None
    value = 0
    for place in votes:
        value = value << 6 | max(place, key=place.get)
    card_id, check = value >> 4, value & 0xF
    return card_id if card_id < 2**32 and _check_nibble(card_id) == check else None


def _aruco():
    import cv2

    return cv2.aruco


def board(card_id: int, *, square_mm: float, marker_mm: float):
    """The card's ChArUco board, as `cv2.aruco` describes it.

    Parameters
    ----------
    card_id : int
        The card's id (it chooses the marker ids).
    square_mm, marker_mm : float
        The board's square and marker sides (card.json's ``board``).

    Returns
    -------
    cv2.aruco.CharucoBoard
    """
    aruco = _aruco()
    dictionary = aruco.getPredefinedDictionary(getattr(aruco, DICTIONARY))
    return aruco.CharucoBoard(
        (SQUARES_X, SQUARES_Y), square_mm, marker_mm, dictionary, np.array(marker_ids(card_id), dtype=np.int32)
    )


@dataclass(frozen=True)
class CardDetection:
    """What `detect_card` found in a photo."""

    card_id: int
    marker_ids: np.ndarray  # the board's markers found, (N,)
    charuco_ids: np.ndarray  # the board's chessboard corners found, (M,) (ids as cv2.aruco numbers them)
    charuco_corners: np.ndarray  # their positions in the photo, (M, 2) pixels
    inverted: bool = False  # found as a negative: marks lighter than the surface


def detect_card(image: np.ndarray, *, square_mm: float = 14.8, marker_mm: float = 12.0) -> CardDetection | None:
    """Finds a test card in a photo: its id from the markers, then its board's corners.

    Parameters
    ----------
    image : numpy.ndarray
        The photo, grey (H×W) or BGR (H×W×3), uint8.
    square_mm, marker_mm : float
        The board's squares and markers; only their ratio matters to the search, and the default is close enough
        for every card (card.json has the exact sizes).

    Returns
    -------
    CardDetection or None
        None when no card id can be read. Marks lighter than the surface (light-marking materials) are found too.
    """
    import cv2

    aruco = _aruco()
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    dictionary = aruco.getPredefinedDictionary(getattr(aruco, DICTIONARY))
    markers = aruco.ArucoDetector(dictionary, aruco.DetectorParameters())
    # Light-marking materials (slate, anodised aluminium) show the card as a negative.
    for inverted, picture in ((False, grey), (True, 255 - grey)):
        _, ids, _ = markers.detectMarkers(picture)
        card_id = None if ids is None else card_id_from_markers(ids.ravel())
        if card_id is None:
            continue
        detector = aruco.CharucoDetector(board(card_id, square_mm=square_mm, marker_mm=marker_mm))
        corners, corner_ids, _, found_ids = detector.detectBoard(picture)
        empty = np.zeros(0, dtype=np.int32)
        return CardDetection(
            card_id=card_id,
            marker_ids=empty if found_ids is None else found_ids.ravel(),
            charuco_ids=empty if corner_ids is None else corner_ids.ravel(),
            charuco_corners=np.zeros((0, 2), np.float32) if corners is None else corners.reshape(-1, 2),
            inverted=inverted,
        )
    return None


# --------------------------------------------------------------------------------------------------- the card


def _suggestion(material: Material, machine: Machine):
    """The engine's settings for this material on this machine (artwork.suggest_laser_settings): one way to scale."""
    problem = laser_problem(material, machine)
    if problem:
        raise CardError(problem)
    laser = suggest_laser_settings(material, machine)
    return laser.power_pct, laser.speed_mm_min, laser.passes


def grid_levels(
    material: str | Material, machine: str | Machine
) -> tuple[list[float], list[float], tuple[float, float, int]]:
    """The grid's powers and speeds: a factor of two either side of the suggestion, within the machine's limits.

    Parameters
    ----------
    material, machine : str, Material or Machine
        A library name or a description of one.

    Returns
    -------
    powers : list of float
        `GRID_SIZE` powers in percent, ascending, between the machine's lowest marking power and 100.
    speeds : list of float
        `GRID_SIZE` feeds in mm/min, descending, at most the machine's maximum feed.
    suggested : tuple
        (power %, speed mm/min, passes) the engine burns artwork at on this machine.
    """
    material, machine = get_material(material), get_machine(machine)
    power, speed, passes = _suggestion(material, machine)
    low, high = power / 2, power * 2
    if high > 100:
        low, high = low * 100 / high, 100.0
    low = max(low, machine.min_power_pct, 1.0)
    high = max(high, low * 2) if low * 2 <= 100 else 100.0
    powers = [round(float(p), 1) for p in np.geomspace(low, high, GRID_SIZE)]
    fast, slow = speed * 2, speed / 2
    if fast > machine.max_feed_mm_min:
        fast, slow = machine.max_feed_mm_min, slow * machine.max_feed_mm_min / fast
    speeds = [float(math.floor(v)) for v in np.geomspace(fast, slow, GRID_SIZE)]
    return powers, speeds, (power, speed, passes)


def width_pattern(pattern: str, size: tuple[int, int]) -> np.ndarray:
    """The burn mask of a width patch.

    ``"checker"`` fires every other pixel along each line, the next line offset by one: each mark is a lone pixel,
    a stroke one line interval long plus its two rounded ends, and no two touch while the marks are thinner than the
    line interval. A solid burn's lines then cover ``d / interval`` of the surface, these ``d / interval (1 + π d /
    4 interval) / 2``: the ends tell the diameter from the marks' darkness, where the wedge alone barely can (a
    thinner, darker mark and a wider, lighter one explain it about equally). The finest pattern with lone marks, so
    the optics blur its texture before a JPEG's coarse steps (in gamma) could darken it as they do a sparse halftone.

    Parameters
    ----------
    pattern : str
        One of `WIDTH_PATTERNS`.
    size : tuple of int
        (rows, columns).

    Returns
    -------
    ndarray
        Bool, True where the laser fires.
    """
    rows, cols = np.indices(size)
    if pattern == "checker":
        return (rows + cols) % 2 == 0
    raise ValueError(f"unknown width pattern {pattern!r}")


def _text_mask(text: str, width: int, height: int, stroke: int) -> np.ndarray:
    """`text` in a Hershey font, as large as fits a width × height box (True = burn)."""
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, h), base = cv2.getTextSize(text, font, 1.0, stroke)
    scale = min((width - stroke) / max(w, 1), (height - stroke) / max(h + base, 1))
    canvas = np.zeros((height, width), dtype=np.uint8)
    if scale > 0:
        (w, h), base = cv2.getTextSize(text, font, scale, stroke)
        cv2.putText(canvas, text, (stroke // 2, stroke // 2 + h), font, scale, 255, stroke, cv2.LINE_8)
    return canvas > 127


def _wedge_patch(
    material, machine, mode, grey: int, size: tuple[int, int], interval: float, calibration: Calibration | None
) -> np.ndarray:
    h, w = size
    flat = np.full((h, w), grey, dtype=np.uint8)
    art = _prepare(
        flat,
        material=material,
        machine=machine,
        width_mm=w * interval,
        height_mm=h * interval,
        mode=mode,
        line_interval_mm=interval,
        calibration=calibration,
        **NEUTRAL_ADJUSTMENTS,
    )
    return art.burn


def wedge_grey(nominal: float, polarity: str) -> int:
    """The 8-bit sRGB grey whose flat patch the engine covers `nominal` of (the nearest one).

    Parameters
    ----------
    nominal : float
        The fraction of the area to mark, 0–1.
    polarity : {"dark", "light"}
        The material's: dark-marking burns where a picture is dark.

    Returns
    -------
    int
    """
    from intaglio.imaging.artwork import srgb_to_linear

    linear = srgb_to_linear(np.arange(256, dtype=np.float32) / 255)
    coverage = linear if polarity == "light" else 1 - linear
    return int(np.argmin(np.abs(coverage - nominal)))


def _rect(x: int, y: int, w: int, h: int, interval: float) -> list[float]:
    return [round(v * interval, 4) for v in (x, y, w, h)]


def _interval(material: Material, machine: Machine, line_interval_mm: float | None) -> float:
    return float(line_interval_mm or max(material.line_interval_mm, machine.line_interval_mm))


def _board_px(interval: float) -> tuple[int, int, int, int]:
    """The marker bit, marker, square and outer margin, in whole lines."""
    bit = math.ceil(BIT_MM / interval - 1e-9)
    marker = MARKER_BITS * bit
    square = marker + 2 * math.ceil(MARKER_MARGIN_BITS * bit - 1e-9)
    return bit, marker, square, max(1, round(OUTER_MARGIN_MM / interval))


def check_card(
    *, material: str | Material, machine: str | Machine, mode: str, line_interval_mm: float | None = None
) -> str:
    """Why a test card cannot be made, without making it.

    Parameters
    ----------
    material, machine : str, Material or Machine
        A library name or a description of one.
    mode : str
        The halftoning mode.
    line_interval_mm : float, optional
        The distance between lines; by default the coarser of the material's and the machine's.

    Returns
    -------
    str
        A sentence for people, or "" when the card can be made.
    """
    material, machine = get_material(material), get_machine(machine)
    if mode not in CARD_MODES:
        return f"A test card is burned in a dithering mode; {mode!r} is not one of {', '.join(CARD_MODES)}."
    interval = _interval(material, machine, line_interval_mm)
    if not 0.01 <= interval <= 0.5:
        return f"A line interval of {interval:g} mm is outside 0.01–0.5 mm."
    try:
        _suggestion(material, machine)
    except CardError as unsuitable:
        return str(unsuitable)
    _, _, square, outer = _board_px(interval)
    side = (SQUARES_X * square + 2 * outer) * interval
    area_w, area_h = machine.work_area_mm
    if side > min(area_w, area_h) + 1e-6:
        return (
            f"The test card is {side:.1f} × {side:.1f} mm at a {interval:g} mm line interval and does not fit the "
            f"{machine.label}'s {area_w:g} × {area_h:g} mm work area."
        )
    return ""


def make_card(
    *,
    material: str | Material,
    machine: str | Machine,
    mode: str = "floyd-steinberg",
    card_id: int,
    line_interval_mm: float | None = None,
    calibration: Calibration | None = None,
) -> TestCard:
    """A material test card for `material` on `machine`, halftoned in `mode` (layout in docs/card-format.md).

    Parameters
    ----------
    material, machine : str, Material or Machine
        A library name or a description of one (a user's own machine).
    mode : str
        One of `CARD_MODES`: the wedge is halftoned in it exactly as `prepare_artwork` would.
    card_id : int
        The card's id, 0 … 2³² − 1 (callers draw it at random); the markers carry it.
    line_interval_mm : float, optional
        The distance between lines; by default the coarser of the material's and the machine's, as for artwork.
    calibration : Calibration, optional
        Makes a verify card: the wedge is prepared with this measured surface, as artwork made with it would be,
        so reading the burned card shows the error the calibration leaves.

    Returns
    -------
    TestCard

    Raises
    ------
    CardError
        For a mode the card cannot show, a material the machine cannot mark, or a card larger than the work area.
    """
    material, machine = get_material(material), get_machine(machine)
    problem = check_card(material=material, machine=machine, mode=mode, line_interval_mm=line_interval_mm)
    if problem:
        raise CardError(problem)
    interval = _interval(material, machine, line_interval_mm)
    powers, speeds, (power, speed, passes) = grid_levels(material, machine)
    ids = marker_ids(card_id)

    def px(mm: float) -> int:
        return max(1, round(mm / interval))

    bit, marker, square, outer = _board_px(interval)
    gap = px(GAP_MM)
    width = height = SQUARES_X * square + 2 * outer

    burn = np.zeros((height, width), dtype=bool)
    layout_parts: dict[str, list] = {"wedge": [], "grid": [], "bare": [], "full": [], "width": [], "labels": []}

    # The board: drawn whole, then its middle rows cleared for the tests.
    aruco_board = board(card_id, square_mm=square * interval, marker_mm=marker * interval)
    picture = aruco_board.generateImage((SQUARES_X * square, SQUARES_Y * square), marginSize=0, borderBits=1)
    board_burn = picture < 128
    board_burn[BOARD_ROWS[1] * square + square : BOARD_ROWS[2] * square] = False
    frame = np.zeros_like(burn)
    frame[outer : outer + SQUARES_Y * square, outer : outer + SQUARES_X * square] = board_burn
    burn |= frame
    middle_y0 = outer + (BOARD_ROWS[1] + 1) * square
    middle_y1 = outer + BOARD_ROWS[2] * square
    left, right = outer + gap, width - outer - gap

    # The wedge across the card's width.
    wedge_gap = px(1.0)
    patch_w = (right - left - (WEDGE_STEPS - 1) * wedge_gap) // WEDGE_STEPS
    patch_h = px(6.0)
    if patch_w * interval < WEDGE_MIN_MM:
        raise CardError(f"At a {interval:g} mm line interval the wedge's patches would be under {WEDGE_MIN_MM:g} mm.")
    wedge_x0 = left + (right - left - (WEDGE_STEPS * patch_w + (WEDGE_STEPS - 1) * wedge_gap)) // 2
    wedge_y = middle_y0 + gap
    extras = []  # the parts burned at the suggested settings besides the board
    for step in range(WEDGE_STEPS):
        nominal = step / (WEDGE_STEPS - 1)
        grey = wedge_grey(nominal, material.polarity)
        x = wedge_x0 + step * (patch_w + wedge_gap)
        patch = _wedge_patch(material, machine, mode, grey, (patch_h, patch_w), interval, calibration)
        burn[wedge_y : wedge_y + patch_h, x : x + patch_w] = patch
        extras.append((x, wedge_y, patch_w, patch_h))
        layout_parts["wedge"].append(
            {
                "rect_mm": _rect(x, wedge_y, patch_w, patch_h, interval),
                "nominal": round(nominal, 6),
                "grey": grey,
                "burned_fraction": round(float(patch.mean()), 6),
            }
        )

    # The grid below it: powers down the rows, speeds along the columns (fastest on the left).
    stroke = max(1, round(0.25 / interval))
    label_h = px(2.2)
    grid_top = wedge_y + patch_h + px(2.0)
    grid_bottom = middle_y1 - gap
    pitch = (grid_bottom - grid_top - label_h - px(0.5)) // GRID_SIZE
    cell = pitch - px(GRID_GAP_MM)
    row_label_w = px(6.0)
    grid_x0 = left + row_label_w + px(0.5)
    grid_y0 = grid_top + label_h + px(0.5)
    if cell * interval < WEDGE_MIN_MM:
        raise CardError(f"At a {interval:g} mm line interval the grid's cells would be under {WEDGE_MIN_MM:g} mm.")
    labels = []
    cells = []
    for row, cell_power in enumerate(powers):
        y = grid_y0 + row * pitch
        labels.append((f"{cell_power:g}", left, y + (cell - label_h) // 2, row_label_w, label_h))
        for col, cell_speed in enumerate(speeds):
            x = grid_x0 + col * pitch
            cells.append((cell_power / cell_speed, -cell_speed, cell_power, x, y, cell_power, cell_speed))
    for col, cell_speed in enumerate(speeds):
        labels.append((f"{cell_speed / 1000:.3g}", grid_x0 + col * pitch, grid_top, cell, label_h))
    grid_right = grid_x0 + (GRID_SIZE - 1) * pitch + cell
    sections = []
    for order, (_, _, _, x, y, cell_power, cell_speed) in enumerate(sorted(cells), 1):
        burn[y : y + cell, x : x + cell] = True
        sections.append((f"grid cell {order}", (y, x), np.ones((cell, cell), dtype=bool), cell_power, cell_speed))
        layout_parts["grid"].append(
            {
                "rect_mm": _rect(x, y, cell, cell, interval),
                "power_pct": cell_power,
                "speed_mm_min": cell_speed,
                "order": order,
                "s": math.floor(machine.s_max * cell_power / 100 + 0.5),
            }
        )

    # Beside the grid: the id and settings, then the bare and full patches.
    info_x = grid_right + px(3.0)
    info_w = right - info_x
    id_h = px(4.0)
    line_h = px(2.2)
    machine_name = machine.name if machine.name != "custom" else machine.label
    labels += [
        (f"ID {card_id:08X}", info_x, grid_top, info_w, id_h),
        (f"{material.name}", info_x, grid_top + id_h + px(1.0), info_w, line_h),
        (f"{machine_name}  {mode}", info_x, grid_top + id_h + line_h + px(2.0), info_w, line_h),
        (
            f"{interval:g} mm  {power:g}% {speed:g} mm/min x{passes}",
            info_x,
            grid_top + id_h + 2 * line_h + px(3.0),
            info_w,
            line_h,
        ),
    ]
    patch_top = grid_top + id_h + 3 * line_h + px(5.0)
    patches = 2 + len(WIDTH_PATTERNS)  # bare, full, then the width patches, in one row
    patch_side = min(grid_bottom - patch_top, (info_w - (patches - 1) * px(2.0)) // patches, px(10.0))
    if patch_side * interval < WEDGE_MIN_MM:
        raise CardError(f"At a {interval:g} mm line interval the bare, full and width patches would be under 4 mm.")
    bare = (info_x, patch_top, patch_side, patch_side)
    full = (info_x + patch_side + px(2.0), patch_top, patch_side, patch_side)
    burn[full[1] : full[1] + full[3], full[0] : full[0] + full[2]] = True
    extras.append(full)
    layout_parts["bare"].append(_rect(*bare, interval))
    layout_parts["full"].append(_rect(*full, interval))
    for index, pattern in enumerate(WIDTH_PATTERNS, 2):
        x = info_x + index * (patch_side + px(2.0))
        marks = width_pattern(pattern, (patch_side, patch_side))
        burn[patch_top : patch_top + patch_side, x : x + patch_side] = marks
        extras.append((x, patch_top, patch_side, patch_side))
        layout_parts["width"].append(
            {
                "rect_mm": _rect(x, patch_top, patch_side, patch_side, interval),
                "pattern": pattern,
                "burned_fraction": round(float(marks.mean()), 6),
            }
        )
    for text, x, y, w, h in labels:
        burn[y : y + h, x : x + w] |= _text_mask(text, w, h, stroke)
        extras.append((x, y, w, h))
        layout_parts["labels"].append({"rect_mm": _rect(x, y, w, h, interval), "text": text})

    rest = frame.copy()
    for x, y, w, h in extras:
        rest[y : y + h, x : x + w] = burn[y : y + h, x : x + w]
    rows, cols = np.nonzero(rest)
    r0, c0 = int(rows.min()), int(cols.min())
    rest = rest[r0 : rows.max() + 1, c0 : cols.max() + 1]
    sections.append(("board, wedge, labels, full and width patches", (r0, c0), rest, power, speed))

    layout = {
        "format": FORMAT_VERSION,
        "card_id": f"{card_id:08X}",
        "width_mm": round(width * interval, 4),
        "height_mm": round(height * interval, 4),
        "width_px": width,
        "height_px": height,
        "dpi": round(25.4 / interval, 6),
        "line_interval_mm": interval,
        "material": material.name,
        "machine": machine.name,
        "machine_label": machine.label,
        "mode": mode,
        "polarity": material.polarity,
        "board": {
            "dictionary": DICTIONARY,
            "squares_x": SQUARES_X,
            "squares_y": SQUARES_Y,
            "square_mm": round(square * interval, 4),
            "marker_mm": round(marker * interval, 4),
            "bit_mm": round(bit * interval, 4),
            "first_marker_id": ids[0],
            "marker_ids": ids,
            "rows": list(BOARD_ROWS),
            "legacy_pattern": False,
            "rect_mm": _rect(outer, outer, SQUARES_X * square, SQUARES_Y * square, interval),
        },
        "wedge": layout_parts["wedge"],
        "grid": layout_parts["grid"],
        "bare": layout_parts["bare"],
        "full": layout_parts["full"],
        "width": layout_parts["width"],
        "labels": layout_parts["labels"],
        "margin_mm": round(outer * interval, 4),
        "suggested": {"power_pct": power, "speed_mm_min": speed, "passes": passes},
    }
    if calibration is not None:
        layout["calibration"] = calibration.as_json()
    return TestCard(burn=burn, layout=layout, material=material, machine=machine, sections=sections)
