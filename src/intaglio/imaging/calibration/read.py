"""Reading a photo of a burned material test card: registration, lighting, patch tones and the mark diameter.

The card (``card.json`` plus its PNG, which is the burn map: black pixels fire) carries a ChArUco board. The
reader finds the board, maps card millimetres into the photo (a homography with one radial-distortion term, fitted
to the sub-pixel board corners and the markers' centres), samples the card in its own coordinates from the
linearised photo (a JPEG from its own Y, Cb and Cr), divides by the bare card's white (a smooth surface times a
factor per row, fitted to the unburned margin and bare patches), and measures each patch's mean against the unburned
card in the same rows (grain and stains run along them). The mark diameter is the
stroke width that makes the card's own wedge, full and width patch bits, burned as strokes (each fired pixel's
stretch of the scan line widened by a disc), best explain their measured darkness.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps
from scipy.optimize import least_squares

from intaglio.imaging.artwork import Calibration
from intaglio.imaging.artwork.tone import SRGB_CODE_TO_LINEAR, linear_to_srgb, srgb_to_linear
from intaglio.imaging.calibration.lens import Mapping, radial_search, undistort
from intaglio.imaging.memory import cv2_decode_bytes, reserve_decode, reserve_image_memory

# Larger JPEGs are decoded at half (or quarter) size. Decoding reduced averages in sRGB, which darkens the
# halftone's texture (the mean of the encoded values decodes darker than the mean light), so only huge photos are.
_FULL_DECODE_MP = 50.0
_DETECT_EDGE = 2000  # the board is found on a copy this long; corners are then refined on the full photo
_SAMPLE_MM = 0.1  # card-space sampling for the photometric read
_MIN_CORNERS = 6
_MAX_TILT_DEG = 60.0
_MAX_BLUR_MM = 0.25  # Gaussian sigma of the edges on the card, in millimetres
_INSET_MM = 0.8
_CLIP_LEVEL = 250
_MAX_CLIPPED = 0.02  # fraction of the unburned card that may sit at the top of the range
# Sample points per card pixel for the stroke model: along the scan lines (jittered), and across them (strata whose
# share inside a stroke is counted; a thin mark's rounded ends need fine strata, or its area reads ~0.5 % large).
_SAMPLES_ALONG = 16
_SAMPLES_ACROSS = 24
_DIAMETERS = np.arange(0.01, 0.4005, 0.0005)
_MAP_BLOCK = 4  # card samples each way over which the card → photo mapping is interpolated
_DISTANCE_STEP = 1 / 1024  # card pixels: the stroke model's distances are counted in bins this fine
# Weight of a marker's centre against a chessboard corner in the board fit: a centre is a few times less precise, but
# it alone fixes the lens term and the perspective when the corners lie on two lines (the board's two row pairs).
_CENTRE_WEIGHT = 0.4
# Unburned samples at which a row's grain factor counts half (rows with fewer lean on the smooth surface).
_ROW_SHRINK = 20.0


class CardRefused(Exception):  # noqa: N818 - the house name for this refusal
    """The photo cannot be read as this card; nothing is stored.

    Parameters
    ----------
    code : str
        One of ``no_board``, ``blurred``, ``clipped``, ``oblique``, ``foreign_card``.
    message : str
        A sentence for the person who took the photo.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class CardReading:
    """What a photo of a burned test card says about the material, machine and mode.

    Attributes
    ----------
    registration_rms_px : float
        RMS distance, in card pixels, between the detected board corners and where the fitted mapping puts them.
    mark_diameter_mm : float
        Width of a burned stroke that best explains the wedge.
    tone_response : list of [float, float]
        ``[nominal, effective]`` coverage for each wedge step (effective: fraction of the surface the marks cover).
    best_cell : dict
        ``{"power_pct", "speed_mm_min"}`` of the grid cell to use.
    residual : float
        RMS misfit of the stroke model over the wedge and full patches, in coverage units.
    wedge_area : list of float
        The stroke model's area coverage of each wedge patch at the fitted mark diameter (what the burn map's strokes
        of that width cover, whatever the photo shows).
    """

    card_id: str
    registration_rms_px: float
    mark_diameter_mm: float
    tone_response: list[list[float]]
    best_cell: dict[str, float]
    residual: float
    mark_darkness: float = 0.0
    wedge_coverage: list[float] = field(default_factory=list)
    # The stroke model's marked area of each wedge patch at the fitted diameter (what `wedge_coverage` is measured
    # against: the two differ where darkness does not follow the marked area).
    wedge_area: list[float] = field(default_factory=list)
    grid_darkness: list[float] = field(default_factory=list)
    blur_mm: float = 0.0
    tilt_deg: float = 0.0
    corners: int = 0
    lighting_span: float = 0.0
    # For benches and diagnostics: card pixel (x, y) → pixel (x, y) of the photo as given.
    mapping: Any = field(default=None, repr=False)

    def calibration(self) -> Calibration:
        """The measured surface for the engine: this mark width, and darkness by marked area from the wedge."""
        return Calibration(
            mark_diameter_mm=self.mark_diameter_mm,
            tone=tuple((a, e) for a, e in zip(self.wedge_area, self.wedge_coverage, strict=True) if a > 0),
        )

    @property
    def tone_error(self) -> float:
        """The largest gap between a wedge step's target and its measured coverage, 0–1 of the range (what a
        verify card, prepared with a calibration, reports as the error that calibration leaves)."""
        return max((abs(effective - nominal) for nominal, effective in self.tone_response), default=0.0)

    def as_json(self) -> dict[str, Any]:
        """The reading as plain JSON values: what `intaglio calibrate read --json` prints and what the
        engrave.card_read job keeps as its result, so both give the same numbers."""
        return {
            "card_id": self.card_id,
            "registration_rms_px": round(self.registration_rms_px, 4),
            "mark_diameter_mm": round(self.mark_diameter_mm, 4),
            "tone_response": [[round(n, 4), round(e, 4)] for n, e in self.tone_response],
            "best_cell": self.best_cell,
            "residual": round(self.residual, 5),
            "mark_darkness": round(self.mark_darkness, 4),
            "wedge_area": [round(v, 4) for v in self.wedge_area],
            "grid_darkness": [round(v, 4) for v in self.grid_darkness],
            "blur_mm": round(self.blur_mm, 4),
            "tilt_deg": round(self.tilt_deg, 2),
            "corners": self.corners,
            "lighting_span": round(self.lighting_span, 4),
            "tone": [[float(area), float(effective)] for area, effective in self.calibration().tone],
            "tone_error": round(self.tone_error, 5),
        }


# ---------------------------------------------------------------------------------------------------------------
# Inputs


def _photo_rgb(photo: bytes | np.ndarray) -> tuple[np.ndarray, float, bool]:
    """The photo's pixels (uint8), how many photo pixels each of them spans (JPEGs of many megapixels decode
    reduced), and whether they are a JPEG's own luma and colour differences (Y, Cb, Cr) rather than RGB.

    A JPEG is kept as its Y, Cb and Cr: turning them into 8-bit RGB rounds each channel's colour term, which over a
    flat patch (where the colour differences hardly vary) shifts the patch's luma by up to a third of a level, alike
    in every pixel: enough to read a thin mark's checker patch a per cent light and its width 2 % narrow.
    `_linear16` makes linear RGB of them without that rounding.
    """
    if isinstance(photo, bytes | bytearray | memoryview):
        data = np.frombuffer(photo, dtype=np.uint8)
        flag = cv2.IMREAD_COLOR
        try:
            with Image.open(io.BytesIO(photo)) as probe:
                size, image_format, mode = probe.size, probe.format, probe.mode
        except (OSError, ValueError):
            size, image_format, mode = (0, 0), None, None
        megapixels = size[0] * size[1] / 1e6
        # A huge photo has more pixels than the read needs: JPEG decodes at half size almost for free, and corners
        # stay well within a tenth of a card pixel.
        if megapixels > _FULL_DECODE_MP:
            flag = cv2.IMREAD_REDUCED_COLOR_2 if megapixels <= 4 * _FULL_DECODE_MP else cv2.IMREAD_REDUCED_COLOR_4
        reduced = {cv2.IMREAD_REDUCED_COLOR_2: 2.0, cv2.IMREAD_REDUCED_COLOR_4: 4.0}.get(flag, 1.0)
        with reserve_image_memory(cv2_decode_bytes(size, image_format, reduced)):
            if image_format == "JPEG" and mode == "RGB" and reduced == 1.0:
                try:
                    with Image.open(io.BytesIO(photo)) as image:
                        if image.info.get("adobe_transform", 1) != 0:  # (0: stored as RGB, not Y, Cb, Cr)
                            image.draft("YCbCr", image.size)  # libjpeg stops before its colour conversion
                        if image.mode == "YCbCr":
                            if image.getexif().get(0x0112, 1) != 1:  # turned upright, as cv2.imdecode does
                                image = ImageOps.exif_transpose(image)
                            return np.asarray(image, dtype=np.uint8), reduced, True
                except (OSError, ValueError):
                    pass  # decoded as RGB below
            decoded = cv2.imdecode(data, flag)
            if decoded is None:
                raise CardRefused("no_board", "The photo could not be decoded as an image.")
            return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), reduced, False
    array = np.asarray(photo)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.dtype != np.uint8:
        array = np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array[:, :, :3]), 1.0, False


def _linear16(pixels: np.ndarray, ycbcr: bool) -> np.ndarray:
    """Linear RGB in 16 bits of 8-bit sRGB pixels, or of a JPEG's Y, Cb, Cr (by JFIF's equations, unrounded)."""
    if not ycbcr:
        return cv2.LUT(pixels, _SRGB_TO_LINEAR16)
    y, cb, cr = cv2.split(pixels)
    fine = np.float32(_FINE_LEVELS)
    level = np.arange(256, dtype=np.float32)
    fine_y = cv2.LUT(y, level * fine + np.float32(0.5))  # (the half: rounding to the table's nearest entry)
    channels = []
    # R = Y + 1.402 Cr, G = Y − 0.344136 Cb − 0.714136 Cr, B = Y + 1.772 Cb, colour differences about 128.
    for terms in (((cr, 1.402),), ((cb, -0.344136), (cr, -0.714136)), ((cb, 1.772),)):
        encoded = fine_y.copy()
        for plane, k in terms:
            encoded += cv2.LUT(plane, ((level - 128) * np.float32(k) * fine).astype(np.float32))
        channels.append(_SRGB_FINE_TO_LINEAR16.take(encoded.astype(np.int32), mode="clip"))
    return cv2.merge(channels)


def _layout_and_png(card: Any, card_png: bytes | np.ndarray | None) -> tuple[dict, np.ndarray]:
    if isinstance(card, str | bytes):
        card = json.loads(card)
    if isinstance(card, dict):
        layout = card
    elif hasattr(card, "layout"):
        layout = card.layout() if callable(card.layout) else card.layout
    elif hasattr(card, "as_json"):
        layout = card.as_json()
    else:
        raise TypeError("card_layout: a card.json dictionary or a TestCard")
    if card_png is None and hasattr(card, "burn"):
        card_png = np.asarray(card.burn, dtype=bool)
    if card_png is None and hasattr(card, "png"):
        card_png = card.png()
    if card_png is None:
        raise TypeError("the card's PNG (its burn map) is needed: pass card_png or a TestCard")
    if isinstance(card_png, bytes | bytearray | memoryview):
        with reserve_decode(bytes(card_png), into=["uint8"]):
            burn_map = cv2.imdecode(np.frombuffer(card_png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    else:
        burn_map = np.asarray(card_png)
        if burn_map.ndim == 3:
            burn_map = burn_map[:, :, 0]
        if burn_map.dtype == bool:
            burn_map = np.where(burn_map, 0, 255).astype(np.uint8)
    return layout, (burn_map < 128)


def _dictionary(name: str):
    key = name.upper()
    key = key if key.startswith("DICT_") else "DICT_" + key
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, key))


def _board(spec: dict):
    dictionary = _dictionary(spec["dictionary"])
    sx, sy = int(spec["squares_x"]), int(spec["squares_y"])
    markers = (sx * sy) // 2
    if "marker_ids" in spec:
        ids = np.asarray(spec["marker_ids"], dtype=np.int32)
    else:
        ids = np.arange(markers, dtype=np.int32) + int(spec.get("first_marker_id", 0))
    board = cv2.aruco.CharucoBoard((sx, sy), float(spec["square_mm"]), float(spec["marker_mm"]), dictionary, ids)
    if spec.get("legacy_pattern"):
        board.setLegacyPattern(True)
    drawn = ids
    if "rows" in spec:  # only some rows of the board are drawn: the others' ids never appear
        rows = set(spec["rows"])
        slots = [(r, c) for r in range(sy) for c in range(sx) if (r + c) % 2 == 1]
        drawn = np.asarray([i for i, (r, _) in zip(ids, slots, strict=True) if r in rows])
    return board, dictionary, set(drawn.tolist())


# ---------------------------------------------------------------------------------------------------------------
# Geometry: card pixel (x, y) ↔ photo pixel (x, y)


def _marker_centres(gray: np.ndarray, corners, ids: np.ndarray, board) -> tuple[np.ndarray, np.ndarray]:
    """Board millimetres and photo pixels of the found markers' centres.

    Each marker's four corners are refined on the full photo, and its centre is where its diagonals cross: a mark
    that spreads (or the blur) moves every corner out along its diagonal, so the crossing stays put, and a
    homography keeps it the image of the marker's centre.
    """
    board_ids = board.getIds().ravel().tolist()
    objects = board.getObjPoints()
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 40, 0.01)
    marker_bits = board.getDictionary().markerSize + 2  # data bits and the one-bit black border each side
    mm, px = [], []
    for quad, marker_id in zip(corners, ids.ravel().tolist(), strict=True):
        if marker_id not in board_ids:
            continue
        q = np.asarray(quad, dtype=np.float32).reshape(4, 1, 2)
        side = float(np.mean(np.hypot(*(q[:, 0] - np.roll(q[:, 0], 1, axis=0)).T)))
        bit = side / marker_bits
        # A small window, on the corner's own two edges: windows of half a bit read some centres 0.5 card px off.
        half = int(np.clip(0.2 * bit, 2, 25))
        refined = cv2.cornerSubPix(gray, q.copy(), (half, half), (-1, -1), criteria).reshape(4, 2).astype(np.float64)
        if np.hypot(*(refined - q.reshape(4, 2)).T).max() > 0.6 * bit:
            continue  # the refinement ran off to another edge
        # The crossing of the diagonals 0–2 and 1–3.
        d1, d2 = refined[2] - refined[0], refined[3] - refined[1]
        det = d1[0] * -d2[1] - d1[1] * -d2[0]
        if abs(det) < 1e-9 * side * side:
            continue
        r = refined[1] - refined[0]
        t = (r[0] * -d2[1] - r[1] * -d2[0]) / det
        px.append(refined[0] + t * d1)
        mm.append(np.asarray(objects[board_ids.index(marker_id)])[:, :2].mean(axis=0))
    return np.reshape(mm, (-1, 2)).astype(np.float64), np.reshape(px, (-1, 2)).astype(np.float64)


def _fit_mapping(
    card_px: np.ndarray,
    photo_px: np.ndarray,
    shape: tuple[int, int],
    inlier_px: float,
    extra_card: np.ndarray | None = None,
    extra_photo: np.ndarray | None = None,
):
    """Card pixel → photo pixel mapping fitted to the board corners (RANSAC) and `extra` points (the markers'
    centres: they spread the fit over four board rows where the corners lie on two lines, so the lens term and the
    perspective part). Returns the mapping, the corners' RMS misfit (card pixels) and how many corners fit."""
    h, w = shape
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    norm = float(np.hypot(w, h) / 2.0)
    homography, inliers = cv2.findHomography(card_px, photo_px, cv2.RANSAC, inlier_px)
    if homography is None:
        raise CardRefused("no_board", "The board's corners do not fit a flat card.")
    keep = inliers.ravel().astype(bool)
    n_corners = int(keep.sum())
    corners_card, corners_photo = card_px[keep], photo_px[keep]
    card_in, photo_in = corners_card, corners_photo
    if extra_card is not None and len(extra_card):
        # Extra points join only where the corners' homography already puts them (within the RANSAC threshold).
        near = (
            np.hypot(
                *(cv2.perspectiveTransform(extra_card.reshape(-1, 1, 2), homography).reshape(-1, 2) - extra_photo).T
            )
            <= inlier_px
        )
        card_in = np.concatenate([card_in, extra_card[near]])
        photo_in = np.concatenate([photo_in, extra_photo[near]])

    def fit(k1: float):
        u = undistort(photo_in, k1, centre, norm)
        hom, _ = cv2.findHomography(card_in, u, 0)
        if hom is None:
            return None, np.inf
        m = Mapping(hom, k1, centre, norm)
        err = m.to_photo(card_in) - photo_in
        return m, float((err**2).sum())

    # The radial term is found by a bracketing search: a handful of closed-form homography fits.
    k1 = radial_search(lambda k: fit(k)[1], bound=0.35, steps=28)
    best, err_best = fit(k1)
    plain, err_plain = fit(0.0)
    mapping = best if err_best < err_plain * 0.9 else plain
    if len(card_in) > n_corners:
        mapping = _weighted_refit(mapping, card_in, photo_in, n_corners)
    back = mapping.to_plane(corners_photo) - corners_card
    rms = float(np.sqrt((back**2).sum(axis=1).mean()))
    return mapping, rms, n_corners


def _weighted_refit(mapping: Mapping, card_in: np.ndarray, photo_in: np.ndarray, n_corners: int) -> Mapping:
    """The homography and radial term refitted together by least squares, the first `n_corners` points (chessboard
    corners) weighing 1 and the rest (marker centres) `_CENTRE_WEIGHT`."""
    weights = np.where(np.arange(len(card_in)) < n_corners, 1.0, _CENTRE_WEIGHT)
    root = np.sqrt(weights)[:, None]
    start = mapping.homography / mapping.homography[2, 2]

    def residuals(v: np.ndarray) -> np.ndarray:
        m = Mapping(np.append(v[:8], 1.0).reshape(3, 3), float(v[8]), mapping.centre, mapping.norm)
        return ((m.to_photo(card_in) - photo_in) * root).ravel()

    x0 = np.append(start.ravel()[:8], mapping.k1)
    solved = least_squares(residuals, x0, x_scale="jac", method="lm")
    if not solved.success or not np.isfinite(solved.x).all():
        return mapping
    return Mapping(np.append(solved.x[:8], 1.0).reshape(3, 3), float(solved.x[8]), mapping.centre, mapping.norm)


def _tilt_deg(mapping: Mapping, card_shape: tuple[int, int]) -> float:
    h, w = card_shape
    c = np.array([[w / 2, h / 2], [w / 2 + 1, h / 2], [w / 2, h / 2 + 1]], dtype=np.float64)
    p = mapping.to_photo(c)
    jac = np.stack([p[1] - p[0], p[2] - p[0]], axis=1)
    s = np.linalg.svd(jac, compute_uv=False)
    return float(np.degrees(np.arccos(np.clip(s[1] / s[0], 0.0, 1.0))))


# ---------------------------------------------------------------------------------------------------------------
# Photometry

_SRGB_TO_LINEAR16 = np.round(SRGB_CODE_TO_LINEAR.astype(np.float64) * 65535).astype(np.uint16)
_FINE_LEVELS = 16  # steps per 8-bit level of the table for encoded values between the levels
_SRGB_FINE_TO_LINEAR16 = np.round(
    65535 * srgb_to_linear(np.arange(255 * _FINE_LEVELS + 1) / (255.0 * _FINE_LEVELS))
).astype(np.uint16)


def _rect_px(rect_mm, px_mm: float) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) / px_mm for v in rect_mm)
    return x, y, w, h


def _rectify(
    photo: np.ndarray, mapping: Mapping, card_px_shape: tuple[int, int], px_mm: float, ycbcr: bool = False
) -> tuple[np.ndarray, float]:
    """The photo (RGB, or a JPEG's Y, Cb, Cr) resampled on a card grid of `_SAMPLE_MM` steps, in linear light
    (float32 RGB)."""
    ch, cw = card_px_shape
    step = _SAMPLE_MM / px_mm  # card pixels per sample
    gh, gw = int(round(ch / step)), int(round(cw / step))
    # The mapping is worked out at the centre of every block of `_MAP_BLOCK`² samples and interpolated linearly in
    # between (it bends little over a block: well under a hundredth of a photo pixel), a resize whose pixel centres
    # fall on the block centres; the outermost half block, in the card's unread edge, takes its nearest block's.
    b = _MAP_BLOCK
    nh, nw = -(-gh // b), -(-gw // b)
    ys, xs = np.mgrid[0:nh, 0:nw].astype(np.float64) * b + (b - 1) / 2
    card = np.stack([(xs + 0.5) * step - 0.5, (ys + 0.5) * step - 0.5], axis=-1).reshape(-1, 2)
    coarse = mapping.to_photo(card).reshape(nh, nw, 2)
    photo_xy = cv2.resize(coarse, (nw * b, nh * b), interpolation=cv2.INTER_LINEAR)[:gh, :gw].astype(np.float64)
    # Photo pixels per sample: shrink the photo first (area-averaging in linear light) so sampling does not alias.
    centre = np.array([[cw / 2, ch / 2], [cw / 2 + step, ch / 2]], dtype=np.float64)
    pc = mapping.to_photo(centre)
    per_sample = float(np.hypot(*(pc[1] - pc[0])))
    # Only the card's part of the photo, in 16-bit linear light (a quarter of the work of float over the photo).
    # (The interpolated mapping stays within the blocks' own points, so their bounds are the grid's.)
    finite = np.isfinite(coarse).all(axis=-1)
    lo = np.floor(coarse[finite].min(axis=0)).astype(int) - 4 if finite.any() else np.zeros(2, int)
    hi = np.ceil(coarse[finite].max(axis=0)).astype(int) + 5 if finite.any() else np.zeros(2, int)
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), photo.shape[1]), min(int(hi[1]), photo.shape[0])
    if x1 <= x0 or y1 <= y0:
        return np.full((gh, gw, 3), np.nan, np.float32), per_sample
    linear = _linear16(photo[y0:y1, x0:x1], ycbcr)
    scale = 1.0
    if per_sample > 1.5:
        scale = 1.0 / per_sample
        linear = cv2.resize(linear, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mx = ((photo_xy[..., 0] - x0 + 0.5) * scale - 0.5).astype(np.float32)
    my = ((photo_xy[..., 1] - y0 + 0.5) * scale - 0.5).astype(np.float32)
    linear = linear.astype(np.float32) * np.float32(1 / 65535)
    out = cv2.remap(linear, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(np.nan,) * 3)
    return out, per_sample


def _rect_slices(shape, rect_mm, inset_mm: float) -> tuple[slice, slice]:
    x, y, w, h = (float(v) for v in rect_mm)
    s = _SAMPLE_MM
    x0, y0 = max(int(np.ceil((x + inset_mm) / s)), 0), max(int(np.ceil((y + inset_mm) / s)), 0)
    x1, y1 = min(int(np.floor((x + w - inset_mm) / s)), shape[1]), min(int(np.floor((y + h - inset_mm) / s)), shape[0])
    return slice(y0, max(y1, y0)), slice(x0, max(x1, x0))


def _rect_mask(shape, rect_mm, inset_mm: float) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[_rect_slices(shape, rect_mm, inset_mm)] = True
    return mask


def _white_mask(layout: dict, burn_map: np.ndarray, px_mm: float, shape, clearance_mm: float) -> np.ndarray:
    """Unburned card: far from every fired pixel, inside the card's edge, plus the bare patches."""
    fired = burn_map.astype(np.uint8)
    fired_small = cv2.resize(fired, (shape[1], shape[0]), interpolation=cv2.INTER_AREA) > 0
    r = max(1, int(round(clearance_mm / _SAMPLE_MM)))
    near = cv2.dilate(fired_small.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    mask = near == 0
    edge = max(1, int(round(1.5 / _SAMPLE_MM)))
    mask[:edge, :] = mask[-edge:, :] = False
    mask[:, :edge] = mask[:, -edge:] = False
    for rect in layout.get("bare", []):
        mask |= _rect_mask(shape, rect, clearance_mm)
    return mask


def _poly_terms(x: np.ndarray, y: np.ndarray, order: int = 2) -> np.ndarray:
    return np.stack([x**i * y**j for i in range(order + 1) for j in range(order + 1 - i)], axis=-1)


def _fit_white(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    """The unburned card's reflectance under this light, per channel, and how uneven the light is (max / min − 1).

    A smooth surface (a 2nd-order polynomial in the card's coordinates: the light) times a factor per row of the card
    (the grain and stains, which run along the rows), fitted together in log space to the unburned card with trimmed
    refits. Without the row factors, the grain's rows that the unburned card happens to show pull the smooth surface
    out of shape: by a few tenths of a per cent along the wedge, whose rows show bare card only at their two ends.
    A row factor is shrunk towards 1 in rows with few unburned samples.
    """
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    terms = _poly_terms(xs / w - 0.5, ys / h - 0.5)
    # The surface is fitted to a subsample (it has six terms), the row factors to every sample.
    sub = np.arange(0, ys.size, max(1, ys.size // 40000))
    terms_sub, ys_sub = terms[sub], ys[sub]
    powers = [(i, j) for i in range(3) for j in range(3 - i)]  # as in _poly_terms
    gx, gy = np.arange(w) / w - 0.5, np.arange(h) / h - 0.5
    samples = image[ys, xs].astype(np.float64)
    white = np.empty_like(image)
    span = 0.0
    for c in range(image.shape[2]):
        v = samples[:, c]
        finite = np.isfinite(v) & (v > 0)
        log_v = np.log(np.where(finite, v, 1.0))
        keep = finite
        rows = np.zeros(h)
        coef = np.zeros(len(powers))
        for _ in range(4):
            k = keep[sub]
            coef, *_ = np.linalg.lstsq(terms_sub[k], (log_v[sub] - rows[ys_sub])[k], rcond=None)
            res = log_v - terms @ coef
            n = np.bincount(ys, weights=keep, minlength=h)
            rows = np.bincount(ys, weights=np.where(keep, res, 0.0), minlength=h) / (n + _ROW_SHRINK)
            res -= rows[ys]
            mad = np.median(np.abs(res[keep])) * 1.4826 + 1e-6
            keep = finite & (np.abs(res) < 2.5 * mad)
        # The polynomial on the grid, one outer product per power of y.
        surface = sum(
            np.outer(gy**j, sum(coef[t] * gx**i for t, (i, jj) in enumerate(powers) if jj == j)) for j in range(3)
        )
        if c == 1:  # green, the light's unevenness
            span = float(np.exp(surface.max() - surface.min()) - 1.0)
        white[:, :, c] = np.exp((surface + rows[:, None]).astype(np.float32))
    return white, span


def _channel_weights(white: np.ndarray) -> np.ndarray:
    """How the three channels' reflectances are combined into one: in proportion to a JPEG's luma weights times each
    channel's encoded level on the unburned card.

    A JPEG stores luma (0.299 R' + 0.587 G' + 0.114 B' of the encoded values) and two colour differences, the latter
    coarsely: over a flat patch, noise is too weak to dither their block means, so each patch's colour is off by up
    to a level or two in each channel, in opposite directions. A small change δ of a channel's encoded value e moves
    its linear value by about 2.4 δ / e of itself, so with these weights the colour errors (which leave luma alone)
    cancel, to first order, in the combined reflectance; with luminance weights they leave up to ±0.5 % per patch.
    """
    level = np.clip(linear_to_srgb(np.nanmedian(white[::8, ::8].reshape(-1, 3), axis=0)), 1e-3, None)
    weights = np.array([0.299, 0.587, 0.114]) * level
    return (weights / weights.sum()).astype(np.float32)


def _patch_mean(image: np.ndarray, rect_mm, inset_mm: float, block_mm: float = 1.0, reject: float = 5.0) -> float:
    """Mean of a patch's interior, leaving out blocks of `block_mm` far from the rest (dust, a knot, a flare).

    A plain mean of everything else: the blocks of a light halftone patch hold zero, one or two dots, so their
    spread is lopsided, and trimming the same share off either end would cut more of the dots than of the bare
    wood (a light patch read up to a fifth lighter). A block is left out only when it lies more than `reject`
    robust deviations from the median block, the deviation never counted below a tenth of the median (plus a
    little), which no halftone's dot count reaches.
    """
    patch = image[_rect_slices(image.shape[:2], rect_mm, inset_mm)]
    if patch.size == 0:
        return float("nan")
    b = max(1, int(round(block_mm / _SAMPLE_MM)))
    # Blocks tile the whole interior (the last ones in a row or column a little larger), so every sample counts.
    row_groups = np.array_split(np.arange(patch.shape[0]), max(1, patch.shape[0] // b))
    col_groups = np.array_split(np.arange(patch.shape[1]), max(1, patch.shape[1] // b))
    sums, counts = [], []
    for rows in row_groups:
        for cols in col_groups:
            block = patch[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            finite = np.isfinite(block)
            sums.append(float(block[finite].sum()))
            counts.append(int(finite.sum()))
    sums_a, counts_a = np.asarray(sums), np.asarray(counts)
    has = counts_a > 0
    if not has.any():
        return float("nan")
    means = sums_a[has] / counts_a[has]
    centre = float(np.median(means))
    spread = max(1.4826 * float(np.median(np.abs(means - centre))), 0.1 * abs(centre) + 0.005)
    keep = np.abs(means - centre) <= reject * spread
    return float(sums_a[has][keep].sum() / counts_a[has][keep].sum())


def _patch_darkness(
    reflectance: np.ndarray, white_mask: np.ndarray, rects: list, inset_mm: float, light: bool
) -> np.ndarray:
    """Each patch's darkness against the unburned card in exactly its rows.

    The white surface is smooth, but the surface under it is not: wood grain along the rows, a stain or a lighting
    bump shifts every patch in a band of rows alike, and the smooth surface follows it only in part, differently
    along the band. So each patch's reflectance is divided by that of the unburned card in the same rows (the
    columns of them that are unburned in every one of those rows, so grain weighs alike): a straight line across
    the band through the unburned columns either side of the patch, or their mean when they lie on one side.
    """
    out = np.full(len(rects), np.nan)
    for i, rect in enumerate(rects):
        rows, cols = _rect_slices(reflectance.shape, rect, inset_mm)
        own = _patch_mean(reflectance, rect, inset_mm)
        band = reflectance[rows]
        if band.shape[0] == 0 or not np.isfinite(own):
            continue
        clear = white_mask[rows].all(axis=0) & np.isfinite(band).all(axis=0)
        xs = np.flatnonzero(clear).astype(np.float64)
        reference = 1.0
        if xs.size:
            values = band[:, clear].mean(axis=0).astype(np.float64)
            centre = 0.5 * (cols.start + cols.stop - 1)
            keep = np.ones(xs.size, dtype=bool)
            both_sides = (xs < centre).sum() >= 5 and (xs > centre).sum() >= 5
            for _ in range(3):  # trimmed refits: dust, a knot or a stray mark in the margin
                if both_sides:
                    coef = np.polyfit(xs[keep] - centre, values[keep], 1)
                    fit = np.polyval(coef, xs - centre)
                else:
                    fit = np.full(xs.size, np.median(values[keep]))
                res = values - fit
                mad = np.median(np.abs(res[keep])) * 1.4826 + 1e-6
                trimmed = np.abs(res) < 2.5 * mad
                if trimmed.sum() < 3:
                    break
                keep = trimmed
            reference = float(np.polyval(coef, 0.0)) if both_sides else float(np.median(values[keep]))
        out[i] = 1.0 - own / max(reference, 1e-6)
    return -out if light else out


# ---------------------------------------------------------------------------------------------------------------
# The stroke model of the wedge


def _stroke_distances(bits: np.ndarray, region: tuple[int, int, int, int], reach: int) -> np.ndarray:
    """How far (card pixels) sample points of `region` lie from the nearest fired scan-line stretch: a histogram with
    bins of `_DISTANCE_STEP` up to `reach`, and a last bin for the samples beyond.

    `bits` is the burn map round the region with a margin; `region` (x0, y0, x1, y1) indexes it. A fired pixel
    (row r, column j) burns the stretch y = r, j − ½ ≤ x ≤ j + ½; the samples are `_SAMPLES_ALONG` columns by
    `_SAMPLES_ACROSS` rows in each pixel (a separable grid): the columns jittered within each stratum, the rows at the
    strata's centres, each standing for its stratum (see `_coverage_curves`).
    """
    s, t = _SAMPLES_ALONG, _SAMPLES_ACROSS
    x0, y0, x1, y1 = region
    h, w = bits.shape
    # Along the lines, jittered positions (a fixed seed): the caps of thin strokes do not all fall on the same
    # sub-pixel phase, and the answer is the same each time.
    jitter = np.random.default_rng(0)
    xs = (np.arange(x0, x1)[:, None] + (np.arange(s) + jitter.random((x1 - x0, s))) / s - 0.5).ravel()
    # Along each row: how far each sample x is from that row's nearest fired stretch.
    dx = np.full((h, xs.size), np.inf, dtype=np.float32)
    for r in range(h):
        fired = np.flatnonzero(bits[r])
        if fired.size:
            k = np.clip(np.searchsorted(fired, xs), 1, fired.size - 1) if fired.size > 1 else np.zeros(xs.size, int)
            left = np.abs(xs - fired[np.maximum(k - 1, 0)])
            right = np.abs(xs - fired[k])
            dx[r] = np.maximum(np.minimum(left, right) - 0.5, 0.0)
    # Every stratum of a row of pixels lies within half a pixel of that row's scan line: so its distance to the
    # stretches of the line k rows away is (its offset − k)² + that line's dx², one row of dx for all its strata.
    dx2 = dx * dx
    # Across the lines every row of pixels is alike, so jitter would not average out there: a thin stroke's
    # coverage would be off by a few per cent (and so the marks' darkness and every step of the tone response).
    # Regular strata, each sample spreading over its stratum, measure a stroke's width exactly.
    offsets = ((np.arange(t) + 0.5) / t - 0.5).astype(np.float32)
    best = np.full((y1 - y0, t, xs.size), np.inf, dtype=np.float32)
    for k in range(-reach, reach + 1):
        a, b = max(y0, -k) - y0, min(y1, h - k) - y0  # the region's rows whose line k rows away is in `bits`
        if b <= a:
            continue
        dy2 = ((offsets - k) ** 2)[None, :, None]
        np.minimum(best[a:b], dx2[y0 + a + k : y0 + b + k][:, None, :] + dy2, out=best[a:b])
    # A histogram rather than the sorted distances: the coverage curves need only how many samples lie within each
    # radius (and their distances' sum), and sorting millions of samples was the read's slowest step.
    bins = int(np.ceil(reach / _DISTANCE_STEP))
    np.minimum(best, np.float32(reach * reach), out=best)
    index = (np.sqrt(best, out=best) * np.float32(1.0 / _DISTANCE_STEP)).astype(np.int32)
    return np.bincount(index.ravel(), minlength=bins + 1)[: bins + 1]


def _stroke_distance_sets(burn_map: np.ndarray, rects: list, px_mm: float, inset_mm: float) -> list[np.ndarray]:
    """For each rect's inset region, the histogram of its sample points' distances to the strokes (card pixels)."""
    reach = int(np.ceil(_DIAMETERS[-1] / 2 / px_mm)) + 1
    margin = reach + 1
    sets = []
    for rect in rects:
        x, y, w, h = _rect_px(rect, px_mm)
        inset = inset_mm / px_mm
        rx0, ry0 = int(np.ceil(x + inset)), int(np.ceil(y + inset))
        rx1, ry1 = int(np.floor(x + w - inset)), int(np.floor(y + h - inset))
        bx0, by0 = max(rx0 - margin, 0), max(ry0 - margin, 0)
        bx1, by1 = min(rx1 + margin, burn_map.shape[1]), min(ry1 + margin, burn_map.shape[0])
        bits = burn_map[by0:by1, bx0:bx1]
        sets.append(_stroke_distances(bits, (rx0 - bx0, ry0 - by0, rx1 - bx0, ry1 - by0), reach))
    return sets


def _coverage_curves(
    burn_map: np.ndarray,
    rects: list,
    px_mm: float,
    inset_mm: float,
    diameters: np.ndarray = _DIAMETERS,
    distances: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Coverage of each rect's inset region by strokes of each of `diameters` (mm; rows: rects).

    `distances` (from `_stroke_distance_sets` for the same rects) saves working them out again. Each sample stands
    for its stratum across the lines (1 / `_SAMPLES_ACROSS` of a pixel, over which its distance changes about as
    fast as across a stroke's side): it counts as covered in the share of that stratum within the radius.
    """
    if distances is None:
        distances = _stroke_distance_sets(burn_map, rects, px_mm, inset_mm)
    radius_px = np.asarray(diameters, dtype=np.float64) / 2.0 / px_mm
    half = 0.5 / _SAMPLES_ACROSS
    curves = []
    for counts in distances:
        total = counts.sum()
        if total == 0:
            curves.append(np.zeros(radius_px.size))
            continue
        # Each sample counts at its bin's centre: how many lie within a distance, and the sum of their distances.
        centres = (np.arange(counts.size - 1) + 0.5) * _DISTANCE_STEP
        within = np.concatenate([[0], np.cumsum(counts[:-1])])
        summed = np.concatenate([[0.0], np.cumsum(counts[:-1] * centres)])

        # Bins whose centre is within radius − ½ stratum (wholly within it) and radius + ½ stratum (partly).
        inside, edge = (
            np.clip(np.floor(r / _DISTANCE_STEP - 0.5).astype(int) + 1, 0, counts.size - 1)
            for r in (radius_px - half, radius_px + half)
        )
        partial = ((radius_px + half) * (within[edge] - within[inside]) - (summed[edge] - summed[inside])) / (2 * half)
        curves.append((within[inside] + partial) / total)
    return np.asarray(curves)


def _fit_diameter(
    darkness: np.ndarray,
    curves: np.ndarray,
    weights: np.ndarray,
    coverage_at: Callable[[float], np.ndarray],
) -> tuple[float, float, float]:
    """Diameter, mark darkness and RMS misfit (coverage units) for darkness ≈ D · coverage(diameter).

    `curves` holds each patch's coverage at each of `_DIAMETERS` (rows: diameters); `weights` (one per patch) weigh
    each patch's squared misfit. The diameter falls between the grid's steps; `coverage_at` (the patches' coverage at
    any diameter) gives the darkness and misfit there: at the nearest step instead, the darkness of thin marks is off
    by up to a third of a per cent, and every step of the tone response with it.
    """
    num = curves @ (weights * darkness)
    den = (weights * curves**2).sum(axis=1)
    dark = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)
    sse = (weights * (darkness[None, :] - dark[:, None] * curves) ** 2).sum(axis=1)
    i = int(np.argmin(sse))
    d = float(_DIAMETERS[i])
    if 0 < i < len(sse) - 1:  # a parabola through the three best
        a, b, c = sse[i - 1], sse[i], sse[i + 1]
        denom = a - 2 * b + c
        if denom > 0:
            d += 0.5 * (a - c) / denom * float(_DIAMETERS[1] - _DIAMETERS[0])
    at = coverage_at(d)
    den = float((weights * at**2).sum())
    mark = float((weights * at * darkness).sum()) / den if den > 0 else 0.0
    residual = float(np.sqrt((weights * (darkness - mark * at) ** 2).sum() / weights.sum())) / max(mark, 1e-6)
    return d, mark, residual


# ---------------------------------------------------------------------------------------------------------------
# Checks


def _edge_blur_mm(rectified_gray: np.ndarray, burn_map: np.ndarray, px_mm: float, board_rect) -> float:
    """Gaussian sigma (mm) that makes the card's own board rendering best match the photo's board.

    Looked for on a strip along the board's top edge (markers and squares: sharp edges in every direction).
    """
    shape = rectified_gray.shape
    x, y, w, h = (float(v) for v in board_rect)
    strip = _rect_slices(shape, (x, y, w, min(h, 0.25 * w)), 0.0)
    photo = rectified_gray[strip]
    finite = np.isfinite(photo)
    if photo.size == 0 or finite.mean() < 0.5:
        return float("inf")
    photo = np.where(finite, photo, np.nanmean(photo)).astype(np.float32)
    sy, sx = strip
    factor = px_mm / _SAMPLE_MM
    by0, by1 = int(sy.start * _SAMPLE_MM / px_mm), int(np.ceil(sy.stop * _SAMPLE_MM / px_mm))
    bx0, bx1 = int(sx.start * _SAMPLE_MM / px_mm), int(np.ceil(sx.stop * _SAMPLE_MM / px_mm))
    ideal = (~burn_map[by0:by1, bx0:bx1]).astype(np.float32)
    if factor != 1.0:
        ideal = cv2.resize(ideal, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ideal = ideal[: photo.shape[0], : photo.shape[1]]
    photo = photo[: ideal.shape[0], : ideal.shape[1]]
    a = photo - photo.mean()
    na = float(np.sqrt((a * a).sum())) + 1e-12

    def score(sigma_mm: float) -> float:
        sigma = sigma_mm / _SAMPLE_MM
        r = ideal if sigma < 0.3 else cv2.GaussianBlur(ideal, (0, 0), sigma)
        b = r - r.mean()
        return float((a * b).sum() / (na * np.sqrt((b * b).sum()) + 1e-12))

    # coarse, then fine around the best
    coarse = np.arange(0.0, 0.81, 0.1)
    best = float(coarse[int(np.argmax([score(v) for v in coarse]))])
    fine = np.clip(np.arange(best - 0.075, best + 0.076, 0.025), 0.0, None)
    return float(fine[int(np.argmax([score(v) for v in fine]))])


def _global_refusal(gray: np.ndarray) -> CardRefused | None:
    """Why no board was found, when the whole photo says so: clipped white, or every edge spread wide."""
    # Judged on the bright part of the photo (the card, not the table round it): a small card in a clipped photo
    # still has most of its bare surface at the top of the range.
    bright = gray >= 128
    clipped = float((gray >= _CLIP_LEVEL).sum() / max(int(bright.sum()), 1))
    if bright.mean() > 0.05 and clipped > 0.25:
        return CardRefused("clipped", "The photo is overexposed: the card's highlights are clipped. Expose darker.")
    factor = min(1.0, 1000 / max(gray.shape))
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA).astype(np.float32)
    # A step of contrast C blurred by a Gaussian of sigma s has a steepest slope of C / (s √(2π)).
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3) / 8
    steepest = float(np.percentile(np.hypot(gx, gy), 99.9)) + 1e-6
    contrast = float(np.percentile(small, 99) - np.percentile(small, 1))
    sigma = contrast / (steepest * np.sqrt(2 * np.pi))
    if contrast > 40 and sigma > 2.0:
        return CardRefused(
            "blurred", "The photo is too blurred to find the card: hold the camera still and focus on the card."
        )
    return None


# ---------------------------------------------------------------------------------------------------------------


def read_card(
    photo: bytes | np.ndarray,
    card_layout: Any,
    *,
    card_png: bytes | np.ndarray | None = None,
) -> CardReading:
    """Read a photo of a burned material test card.

    Parameters
    ----------
    photo : bytes or ndarray
        The photo: encoded image bytes, or an RGB ``uint8`` array.
    card_layout : dict or TestCard
        The card's ``card.json`` layout (millimetres from the top-left corner), or the card itself.
    card_png : bytes or ndarray, optional
        The card's PNG, its burn map (black fires). Taken from the card when it is a TestCard.

    Returns
    -------
    CardReading
        Registration error, mark diameter, tone response, grid darkness and the cell to use.

    Raises
    ------
    CardRefused
        With a code: ``no_board``, ``blurred``, ``clipped``, ``oblique`` or ``foreign_card``.

    Examples
    --------
    >>> reading = read_card(open("photo.jpg", "rb").read(), card)  # doctest: +SKIP
    >>> reading.as_json()["mark_diameter_mm"]  # doctest: +SKIP
    0.121
    """
    pixels, reduced, ycbcr = _photo_rgb(photo)
    layout, burn_map = _layout_and_png(card_layout, card_png)
    px_mm = 25.4 / float(layout["dpi"])
    gray = np.ascontiguousarray(pixels[..., 0]) if ycbcr else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    spec = layout["board"]
    board, dictionary, our_ids = _board(spec)

    # On a light-marking material (slate, anodised aluminium) the burned board is a negative.
    light_marking = layout.get("polarity") == "light"
    if light_marking:
        gray = 255 - gray
    # Markers are found on a smaller copy (fast), the chessboard corners on the full photo (precise).
    scale = min(1.0, _DETECT_EDGE / max(gray.shape))
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    params = cv2.aruco.DetectorParameters()
    marker_corners, marker_ids, _ = cv2.aruco.ArucoDetector(dictionary, params).detectMarkers(small)
    found = [] if marker_ids is None else marker_ids.ravel().tolist()
    ours = [i for i, mid in enumerate(found) if mid in our_ids]
    if len(found) >= 3 and len(ours) < max(2, len(found) // 3):
        raise CardRefused(
            "foreign_card",
            f"This is a photo of another card: its markers ({min(found)}…{max(found)}) are not this card's "
            f"({min(our_ids)}…{max(our_ids)}, card {layout.get('card_id', '?')}).",
        )
    if len(ours) < 2:
        raise _global_refusal(gray) or CardRefused("no_board", "No test card found in the photo.")
    corners_full = tuple(np.asarray(marker_corners[i], dtype=np.float32) / scale for i in ours)
    ids_full = np.asarray([[found[i]] for i in ours], dtype=np.int32)
    charuco_corners, charuco_ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(
        gray, markerCorners=corners_full, markerIds=ids_full
    )
    if charuco_ids is None or len(charuco_ids) < _MIN_CORNERS:
        raise _global_refusal(gray) or CardRefused("no_board", "The test card's board is not visible enough.")
    charuco_ids = charuco_ids.ravel()
    photo_pts = charuco_corners.reshape(-1, 2).astype(np.float64)
    object_mm = board.getChessboardCorners()[charuco_ids][:, :2].astype(np.float64)
    rx, ry = float(spec["rect_mm"][0]), float(spec["rect_mm"][1])
    card_pts = np.stack([(object_mm[:, 0] + rx) / px_mm - 0.5, (object_mm[:, 1] + ry) / px_mm - 0.5], axis=1)

    # Photo pixels per card pixel, for the RANSAC threshold.
    h0, _ = cv2.findHomography(card_pts, photo_pts, 0)
    if h0 is None:
        raise _global_refusal(gray) or CardRefused("no_board", "The test card's board corners do not fit a card.")
    probe = cv2.perspectiveTransform(np.array([[[0.0, 0.0]], [[1.0, 0.0]]]), h0).reshape(-1, 2)
    photo_per_card = float(np.hypot(*(probe[1] - probe[0])))
    centres_mm, centres_photo = _marker_centres(gray, corners_full, ids_full, board)
    centres_card = np.stack([(centres_mm[:, 0] + rx) / px_mm - 0.5, (centres_mm[:, 1] + ry) / px_mm - 0.5], axis=1)
    try:
        mapping, rms, n_in = _fit_mapping(
            card_pts, photo_pts, gray.shape, max(2.0, 1.5 * photo_per_card), centres_card, centres_photo
        )
    except CardRefused as refused:  # corners that fit no card: the whole photo may say why (blurred, clipped)
        raise _global_refusal(gray) or refused from None
    tilt = _tilt_deg(mapping, burn_map.shape)
    if tilt > _MAX_TILT_DEG:
        raise CardRefused("oblique", f"The photo is taken too obliquely ({tilt:.0f}°): shoot the card from above.")

    # (An ECC refinement against the card's own rendering was tried and dropped: the marks' spread pulls it off, and
    # the corner fit is already within a tenth of a card pixel.)
    rectified, _ = _rectify(pixels, mapping, burn_map.shape, px_mm, ycbcr)
    shape = rectified.shape[:2]

    # Clipping, on the unburned card.
    white_mask = _white_mask(layout, burn_map, px_mm, shape, clearance_mm=1.0)
    white_vals = rectified[white_mask]
    clip_linear = SRGB_CODE_TO_LINEAR[_CLIP_LEVEL]
    clipped = float((np.nan_to_num(white_vals, nan=0.0).max(axis=1) >= clip_linear).mean()) if white_vals.size else 0.0
    if clipped > _MAX_CLIPPED:
        raise CardRefused(
            "clipped", f"The photo is overexposed: {clipped:.0%} of the bare card is clipped white. Expose darker."
        )

    gray_lin = rectified @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    blur = _edge_blur_mm(-gray_lin if light_marking else gray_lin, burn_map, px_mm, spec["rect_mm"])
    if blur > _MAX_BLUR_MM:
        raise CardRefused(
            "blurred", f"The photo is too blurred to read (edges spread {blur:.2f} mm): hold still and focus."
        )

    white, span = _fit_white(rectified, white_mask)
    reflectance = (rectified / np.maximum(white, 1e-6)) @ _channel_weights(white)
    # "Darkness" is the marks' contrast with the bare surface: lighter marks on a light-marking material count up.
    darkness = 1.0 - reflectance
    if light_marking:
        darkness = -darkness

    inset = max(_INSET_MM, 3.0 * blur + 0.3)  # the patch interior: away from edges, blur and the halftone start-up
    wedge = layout["wedge"]
    full = layout.get("full", [])
    widths = [w["rect_mm"] for w in layout.get("width", [])]
    rects = [w["rect_mm"] for w in wedge] + list(full) + widths
    values = _patch_darkness(reflectance, white_mask, rects, inset, light_marking)
    distances = _stroke_distance_sets(burn_map, rects, px_mm, inset)
    curves = _coverage_curves(burn_map, rects, px_mm, inset, distances=distances)
    # Each patch weighs as its samples do: a mean of more of the surface is surer. The 10 mm full and width patches
    # (5× a wedge step's interior) then settle a thin mark's width and darkness, which the wedge alone cannot: it
    # shows only through the rounded ends of a light step's few marks, a small share of a small darkness, and a
    # JPEG's coarse steps (in gamma) darken such a sparse texture by as much.
    weights = np.array([float(counts.sum()) for counts in distances])
    ok = np.isfinite(values) & (weights > 0)
    diameter, mark_dark, residual = _fit_diameter(
        values[ok],
        curves[ok].T,
        weights[ok],
        lambda d: _coverage_curves(burn_map, rects, px_mm, inset, [d], distances)[ok, 0],
    )
    measured = values[: len(wedge)]
    effective = np.clip(measured / max(mark_dark, 1e-6), 0.0, 1.0)
    area = _coverage_curves(burn_map, rects, px_mm, inset, [diameter], distances)[: len(wedge), 0]

    grid = layout.get("grid", [])
    grid_dark = [_patch_mean(darkness, g["rect_mm"], inset) for g in grid]
    return CardReading(
        card_id=str(layout.get("card_id", "")),
        registration_rms_px=rms,
        mark_diameter_mm=diameter,
        tone_response=[[float(w["nominal"]), float(e)] for w, e in zip(wedge, effective, strict=True)],
        best_cell=best_cell(grid, grid_dark),
        residual=residual,
        mark_darkness=mark_dark,
        wedge_coverage=[float(e) for e in effective],
        wedge_area=[float(a) for a in area],
        grid_darkness=[float(v) for v in grid_dark],
        blur_mm=blur,
        tilt_deg=tilt,
        corners=n_in,
        lighting_span=span,
        mapping=replace(mapping, scale=reduced),
    )


def best_cell(grid: list[dict], darkness: list[float], tolerance: float = 0.03) -> dict[str, float]:
    """The grid cell to use: the least energy (power / speed) within `tolerance` of the darkest, before charring.

    Parameters
    ----------
    grid : list of dict
        The card's grid cells, each with ``power_pct`` and ``speed_mm_min``.
    darkness : list of float
        Measured darkness (0 bare … 1 black) of each cell.
    tolerance : float, optional
        How much lighter than the darkest cell the chosen one may be.

    Returns
    -------
    dict
        ``{"power_pct", "speed_mm_min"}``, or an empty dict when the card has no grid.
    """
    if not grid:
        return {}
    energy = np.array([float(g["power_pct"]) / float(g["speed_mm_min"]) for g in grid])
    dark = np.nan_to_num(np.asarray(darkness, dtype=np.float64), nan=-1.0)
    peak = int(np.argmax(dark))
    candidates = [i for i in range(len(grid)) if dark[i] >= dark[peak] - tolerance and energy[i] <= energy[peak]]
    choice = min(candidates, key=lambda i: (energy[i], -dark[i]))
    return {"power_pct": float(grid[choice]["power_pct"]), "speed_mm_min": float(grid[choice]["speed_mm_min"])}
