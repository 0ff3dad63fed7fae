"""Reading a phone photo of a finished burn: how the real piece differs from the engine's simulated burn.

No fiducials: the photo is aligned to the artwork by its own content.

Registration
    SIFT features on grey working copies of the photo (long side ≤ 1000 px) and of the simulated burn (≤ 800 px,
    smoothed over about a dot so the dither does not count as texture), both with local contrast equalised
    (CLAHE); ratio-tested matches, a RANSAC homography and one radial lens term fitted to the inliers. Then ECC
    (``cv2.findTransformECC``, homography motion) between the smoothed simulation and the photo resampled into
    artwork coordinates (lighting divided out, tones histogram-matched), which brings the two within a few pixels.
    A single ECC over the whole piece is not the last word: where the burn's tones differ from the preview's
    (wider marks darken a soft edge's middle) its weakly held terms drift by pixels. So the last step is per tile
    (64 artwork px): phase correlation of the photo's fine detail against the simulation's — the dither is a
    fingerprint, and wider marks are larger but not moved — and the homography and radial term are fitted through
    the tiles that agree (RANSAC), twice. Where the photo cannot resolve the dots, tiles of 128 px at the
    low-pass scale are used instead. ``BurnReport.mapping`` maps artwork pixel centres to pixels of the photo as
    given.

Photometry
    The photo is resampled onto the artwork's pixel grid (at most 1600 px long) in linear light. Lighting and the
    marks are fitted together: each even-toned block of about 1 mm photographs as W(x) · (1 − k · coverage), with
    W a smooth surface (2nd order, per channel: the lit bare surface, whatever the lighting and white balance), k
    the mark's darkness and coverage that of strokes of diameter d (below). Most pictures leave too little bare
    surface to fit the lighting on alone; every block constrains it once d is known, and the fit is linear for
    each d. The photo is divided by W and scaled to the simulation's bare colour (found the same way on the
    simulation), so exposure and white balance drop out — and the bare surface's own shade cannot be judged. Both
    are then low-passed (Gaussian, sigma ``_LOWPASS_MM`` = 0.25 mm, in linear light, which hides the dither) and
    compared in CIE L* (white = 1.0).

Report (all plain floats)
    ``inliers``, ``inlier_ratio``, ``registration_rms_px`` (inliers' RMS reprojection, artwork pixels),
    ``ecc_correlation``; ``tone_error_shadows`` / ``_midtones`` / ``_highlights``: mean signed ΔL*
    (photographed − simulated) in three fixed bands of the simulation's own L* range (its 1st…99th percentile cut
    in thirds: a band keeps its meaning whatever the picture's content; NaN when a band holds under 1 % of the
    piece); ``rmse_lstar``; ``contrast_achieved`` (photographed 2nd…98th percentile L* span over the simulated
    one); ``sharpness`` (RMS gradient of the low-passed L*, photographed over simulated, divided by
    ``contrast_achieved``: 1.0 = as sharp); ``photo_blur_mm`` (Gaussian sigma that best explains the photo's
    edges); ``mark_diameter_mm`` and ``mark_gain_mm`` (fitted minus assumed), ``mark_darkness``.

Mark gain
    Blocks of about 1 mm whose tone is even (their share of fired pixels within 0.08 of their neighbours', so the
    photo's blur moves little light in or out) are sampled on a jittered grid, ``_SUPERSAMPLE``² points per
    artwork pixel. A fired pixel burns its one-pixel stretch of the scan line widened by a disc (the engine's
    model); each point's distance to the nearest stretch is exact, so strokes of diameter d cover the points
    within d / 2. The d (0.0025 mm steps, refined by a parabola) whose coverage best explains all blocks' colours
    in the joint fit above is the mark diameter; ``mark_gain_mm`` is d minus the diameter the engine assumed. Mid-
    tones carry d; bare and solid blocks pin the lighting and k.

Advice (plain sentences), with thresholds
    Mark gain beyond ±``_GAIN_ADVICE_MM`` (0.02 mm); a tone band off by more than ``_TONE_ADVICE_LSTAR``
    (4 ΔL*), unless the marks' width already explains it (wider marks: darker tones on a dark-marking surface);
    contrast under ``_LOW_CONTRAST`` (0.85); a photo blur over ``_SOFT_PHOTO_MM`` (0.12 mm) makes sharpness
    unjudgeable, otherwise sharpness under ``_LOW_SHARPNESS`` (0.8) is reported; nothing off: "Burn looks as
    previewed."

Refusals (`BurnPhotoRefused.code`)
    ``too_small`` (photo under 480 px on its short side, or the piece under 3 photo pixels per millimetre),
    ``no_match`` (under ``_MIN_INLIERS`` consistent matches, or ECC correlation under ``_MIN_ECC``: not this
    artwork), ``blurred`` (edges spread more than ``_MAX_BLUR_MM`` = 0.3 mm, or no match and every edge in the
    photo wide), ``clipped`` (more than 2 % of the bare surface — or, with little of it, of the preview's lightest
    5 % — at the top of the range).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from intaglio.imaging.artwork.tone import SRGB_CODE_TO_LINEAR
from intaglio.imaging.calibration.lens import Mapping, distort, radial_search, undistort
from intaglio.imaging.memory import cv2_decode_bytes, reserve_image_memory

_FULL_DECODE_MP = 16.0  # larger JPEGs are decoded at half (or quarter) size
_PHOTO_WORK_EDGE = 1000  # features are found on copies this long
_ART_WORK_EDGE = 800
_ECC_EDGE = 600  # ECC runs on the artwork at most this long (the tiles then refine at full scale)
_GRID_EDGE = 1600  # photometry on the artwork grid at most this long
_PICTURE_EDGE = 796  # each half of the side-by-side picture
_MIN_PHOTO_SIDE = 480
_MIN_PX_PER_MM = 3.0
_MIN_INLIERS = 15
_MIN_ECC = 0.5
_ECC_MAX_MOVE_PX = 6.0
_LOWPASS_MM = 0.25
_TILE_RESPONSE = 0.05
_MIN_TILES = 12
_WHITE_MARGIN_MM = 0.6
_EDGE_INSET_MM = 1.0
_CLIP_LEVEL = 250
_MAX_CLIPPED = 0.02
_MAX_BLUR_MM = 0.3
_SOFT_PHOTO_MM = 0.12
_BLOCK_MM = 1.0
_MAX_BLOCKS = 700
_MIN_BLOCKS = 24
_SUPERSAMPLE = 4
_GAIN_ADVICE_MM = 0.02
_TONE_ADVICE_LSTAR = 4.0
_LOW_CONTRAST = 0.85
_LOW_SHARPNESS = 0.8
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


class BurnPhotoRefused(Exception):  # noqa: N818 - the house name for this refusal
    """The photo cannot be read against this artwork; nothing is stored.

    Parameters
    ----------
    code : str
        One of ``no_match``, ``blurred``, ``clipped``, ``too_small``.
    message : str
        A sentence for the person who took the photo.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class BurnReport:
    """How a photographed burn compares with the engine's simulated burn.

    Attributes
    ----------
    inliers, inlier_ratio : float
        Feature matches consistent with the fitted mapping, as a count and as a share of the ratio-tested matches.
    registration_rms_px : float
        RMS distance, in artwork pixels, between the inliers' artwork positions and where the mapping puts them.
    ecc_correlation : float
        Correlation of the smoothed photo with the smoothed simulation after ECC refinement.
    tone_error_shadows, tone_error_midtones, tone_error_highlights : float
        Mean signed ΔL* (photographed − simulated) in the dark, middle and light third of the simulation's L* range.
    rmse_lstar : float
        RMS ΔL* over the piece.
    contrast_achieved : float
        Photographed L* span (2nd…98th percentile) over the simulated one.
    sharpness : float
        Edge energy of the photographed burn over the simulated, per unit contrast; 1.0 = as sharp.
    photo_blur_mm : float
        Gaussian sigma of the photo's own blur (plus any extra spread of the marks), in millimetres.
    mark_diameter_mm, mark_gain_mm, mark_darkness : float
        The stroke width that best explains the photographed tones, its excess over the assumed width, and the
        darkness of a full mark (1 − its reflectance against the bare surface).
    advice : list of str
        Plain sentences for the maker.
    """

    inliers: float
    inlier_ratio: float
    registration_rms_px: float
    ecc_correlation: float
    tone_error_shadows: float
    tone_error_midtones: float
    tone_error_highlights: float
    rmse_lstar: float
    contrast_achieved: float
    sharpness: float
    photo_blur_mm: float
    mark_diameter_mm: float
    mark_gain_mm: float
    mark_darkness: float
    assumed_mark_mm: float
    advice: list[str] = field(default_factory=list)
    mapping: Mapping | None = field(default=None, repr=False)
    simulated_rgb: np.ndarray | None = field(default=None, repr=False)  # sRGB uint8 on the photometry grid
    photo_rgb: np.ndarray | None = field(default=None, repr=False)  # rectified, lighting-corrected sRGB uint8
    delta_lstar: np.ndarray | None = field(default=None, repr=False)  # low-passed ΔL*, NaN off the piece

    @property
    def tone_error(self) -> dict[str, float]:
        """Mean signed ΔL* by band: ``{"shadows", "midtones", "highlights"}``."""
        return {
            "shadows": self.tone_error_shadows,
            "midtones": self.tone_error_midtones,
            "highlights": self.tone_error_highlights,
        }

    def metrics(self) -> dict[str, float]:
        """The report's numbers as a flat dict of plain floats (undefined ones, NaN, are left out).

        Returns
        -------
        dict
            Name → float; no pixels, no arrays, no text.
        """
        names = [
            "inliers",
            "inlier_ratio",
            "registration_rms_px",
            "ecc_correlation",
            "tone_error_shadows",
            "tone_error_midtones",
            "tone_error_highlights",
            "rmse_lstar",
            "contrast_achieved",
            "sharpness",
            "photo_blur_mm",
            "mark_diameter_mm",
            "mark_gain_mm",
            "mark_darkness",
            "assumed_mark_mm",
        ]
        out = {}
        for name in names:
            value = float(getattr(self, name))
            if np.isfinite(value):
                out[name] = round(value, 5)
        return out

    def side_by_side_png(self) -> bytes:
        """Simulated | photographed (rectified, lighting-corrected), side by side with labels.

        Returns
        -------
        bytes
            An RGB PNG at most 1600 px wide.
        """
        if self.simulated_rgb is None or self.photo_rgb is None:
            raise ValueError("this report carries no pictures")
        gap = 8
        panel = _fit_width(self.simulated_rgb, (1600 - gap) // 2)
        photo = cv2.resize(self.photo_rgb, (panel.shape[1], panel.shape[0]), interpolation=cv2.INTER_AREA)
        band = 28
        h, w = panel.shape[:2]
        canvas = np.full((h + band, 2 * w + gap, 3), 255, np.uint8)
        canvas[band:, :w] = panel
        canvas[band:, w + gap :] = photo
        for x, text in ((4, "simulated"), (w + gap + 4, "photographed")):
            cv2.putText(canvas, text, (x, band - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        return _png(canvas)

    def difference_png(self, span: float = 15.0) -> bytes:
        """The ΔL* map: red where the photo is darker than the preview, blue where lighter, white where equal.

        Parameters
        ----------
        span : float
            ΔL* at full colour.

        Returns
        -------
        bytes
            An RGB PNG at most 1600 px wide, with a legend strip.
        """
        if self.delta_lstar is None:
            raise ValueError("this report carries no pictures")
        delta = self.delta_lstar
        t = np.clip(np.nan_to_num(delta, nan=0.0) / span, -1.0, 1.0)
        pictured = _diverging(t)
        pictured[~np.isfinite(delta)] = (200, 200, 200)
        pictured = _fit_width(pictured, 1600)
        h, w = pictured.shape[:2]
        legend = np.full((44, w, 3), 255, np.uint8)
        bar_w = min(w - 20, 300)
        ramp = _diverging(np.linspace(-1.0, 1.0, bar_w)[None, :].repeat(12, axis=0))
        legend[4:16, 10 : 10 + bar_w] = ramp
        font = cv2.FONT_HERSHEY_SIMPLEX
        cv2.putText(legend, f"-{span:.0f} darker", (10, 36), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(legend, f"+{span:.0f} lighter", (10 + bar_w - 90, 36), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        if w - bar_w > 200:
            cv2.putText(legend, "dL*: photo - preview", (bar_w + 24, 16), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        return _png(np.concatenate([pictured, legend], axis=0))


def _diverging(t: np.ndarray) -> np.ndarray:
    """−1 red … 0 white … +1 blue."""
    red = np.array([200, 30, 30], np.float32)
    blue = np.array([30, 70, 200], np.float32)
    white = np.array([255, 255, 255], np.float32)
    a = np.abs(t)[..., None].astype(np.float32)
    colour = np.where(t[..., None] < 0, red, blue)
    return np.round(white * (1 - a) + colour * a).astype(np.uint8)


def _fit_width(rgb: np.ndarray, width: int) -> np.ndarray:
    if rgb.shape[1] <= width:
        return np.ascontiguousarray(rgb)
    height = max(1, int(round(rgb.shape[0] * width / rgb.shape[1])))
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Inputs


def _photo_rgb(photo: bytes | np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
    """RGB uint8, photo pixels per decoded pixel, and the photo's own (height, width)."""
    if isinstance(photo, bytes | bytearray | memoryview):
        photo = bytes(photo)
        try:
            with Image.open(io.BytesIO(photo)) as probe:
                size, image_format = (probe.size[1], probe.size[0]), probe.format
        except (OSError, ValueError):
            raise BurnPhotoRefused("no_match", "The photo could not be decoded as an image.") from None
        megapixels = size[0] * size[1] / 1e6
        flag = cv2.IMREAD_COLOR
        # A phone photo has more pixels than the read needs, and JPEG decodes at half size almost for free.
        if megapixels > _FULL_DECODE_MP:
            flag = cv2.IMREAD_REDUCED_COLOR_2 if megapixels <= 4 * _FULL_DECODE_MP else cv2.IMREAD_REDUCED_COLOR_4
        reduced = {cv2.IMREAD_REDUCED_COLOR_2: 2.0, cv2.IMREAD_REDUCED_COLOR_4: 4.0}.get(flag, 1.0)
        with reserve_image_memory(cv2_decode_bytes(size[::-1], image_format, reduced)):
            decoded = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), flag)
            if decoded is None:
                raise BurnPhotoRefused("no_match", "The photo could not be decoded as an image.")
            scale = float(np.mean([size[0] / decoded.shape[0], size[1] / decoded.shape[1]]))
            if abs(scale - 1.0) < 0.01:
                size = decoded.shape[:2]
                scale = 1.0
            return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), scale, size
    array = np.asarray(photo)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.dtype != np.uint8:
        array = np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array[:, :, :3]), 1.0, array.shape[:2]


def _as_simulated(simulated: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The simulated burn as RGB uint8 on the burn map's grid (resampled when its size differs)."""
    sim = np.asarray(simulated)
    if sim.ndim == 2:
        sim = np.repeat(sim[:, :, None], 3, axis=2)
    sim = sim[:, :, :3]
    if sim.dtype != np.uint8:
        sim = np.clip(sim * (255.0 if sim.max() <= 1.0 else 1.0) + 0.5, 0, 255).astype(np.uint8)
    if sim.shape[:2] != tuple(shape):
        shrink = sim.shape[0] > shape[0]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        sim = cv2.resize(sim, (shape[1], shape[0]), interpolation=interp)
    return np.ascontiguousarray(sim)


# ---------------------------------------------------------------------------------------------------------------
# Geometry


def _scale_matrix(s: float) -> np.ndarray:
    """Pixel-centre coordinates at one scale → at `s` times that scale."""
    return np.array([[s, 0, 0.5 * s - 0.5], [0, s, 0.5 * s - 0.5], [0, 0, 1]], dtype=np.float64)


def _smooth_grey(rgb: np.ndarray, scale: float, sigma: float) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(grey, (0, 0), sigma) if sigma > 0 else grey


def _match(photo_rgb: np.ndarray, sim_rgb: np.ndarray):
    """Matched points (artwork px, decoded photo px) from SIFT on working copies, and the ratio-tested count."""
    b = min(1.0, _PHOTO_WORK_EDGE / max(photo_rgb.shape[:2]))
    a = min(1.0, _ART_WORK_EDGE / max(sim_rgb.shape[:2]))
    # The simulation is smoothed over about a dot so its dither does not count as texture.
    photo_grey = _smooth_grey(photo_rgb, b, 1.0)
    sim_grey = _smooth_grey(sim_rgb, a, max(1.0, 1.2 * a))
    # Local contrast equalised: a burn photographed soft or dim still gives features where the preview does.
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    photo_grey, sim_grey = clahe.apply(photo_grey), clahe.apply(sim_grey)
    sift = cv2.SIFT_create(nfeatures=1500)
    kp_p, des_p = sift.detectAndCompute(photo_grey, None)
    kp_s, des_s = sift.detectAndCompute(sim_grey, None)
    if des_p is None or des_s is None or len(kp_p) < 8 or len(kp_s) < 8:
        return np.zeros((0, 2)), np.zeros((0, 2)), 0
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_s, des_p, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.85 * n.distance]
    art = np.array([kp_s[m.queryIdx].pt for m in good], dtype=np.float64).reshape(-1, 2)
    pho = np.array([kp_p[m.trainIdx].pt for m in good], dtype=np.float64).reshape(-1, 2)
    art = (art + 0.5) / a - 0.5
    pho = (pho + 0.5) / b - 0.5
    return art, pho, len(good)


def _fit_radial(art: np.ndarray, pho: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, float, tuple, float]:
    """Homography and radial term from inlier pairs: a bracketing search on k1, each step a closed-form fit."""
    h, w = shape
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    norm = float(np.hypot(w, h) / 2.0)

    def fit(k1: float):
        u = undistort(pho, k1, centre, norm)
        hom, _ = cv2.findHomography(art, u, 0)
        if hom is None:
            return None, np.inf
        p = cv2.perspectiveTransform(art.reshape(-1, 1, 2), hom).reshape(-1, 2)
        err = distort(p, k1, centre, norm) - pho
        return hom, float((err**2).sum())

    k1 = radial_search(lambda k: fit(k)[1], bound=0.3, steps=24)
    hom, err = fit(k1)
    plain, err_plain = fit(0.0)
    # Keep the radial term only when it explains clearly more than a plain homography (feature noise is large).
    if hom is None or not err < 0.8 * err_plain:
        return plain, 0.0, centre, norm
    return hom, float(k1), centre, norm


def _register(photo_rgb: np.ndarray, sim_rgb: np.ndarray):
    art, pho, matched = _match(photo_rgb, sim_rgb)
    if len(art) < _MIN_INLIERS:
        return None, 0, matched, art, pho
    # RANSAC threshold: about a millimetre-scale feature's localisation in the photo's working copy.
    b = min(1.0, _PHOTO_WORK_EDGE / max(photo_rgb.shape[:2]))
    hom, inl = cv2.findHomography(art, pho, cv2.RANSAC, 4.0 / b, maxIters=4000, confidence=0.999)
    if hom is None:
        return None, 0, matched, art, pho
    keep = inl.ravel().astype(bool)
    return hom, int(keep.sum()), matched, art[keep], pho[keep]


def _rectify(photo_rgb: np.ndarray, mapping: Mapping, grid_shape, step: float, offset: float = 0.0, lut=None):
    """The decoded photo sampled at artwork points ((i − offset + ½)·step − ½), per channel; NaN off the photo."""
    gh, gw = grid_shape
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float64)
    art = np.stack([(xs - offset + 0.5) * step - 0.5, (ys - offset + 0.5) * step - 0.5], axis=-1).reshape(-1, 2)
    xy = mapping.to_decoded(art).reshape(gh, gw, 2)
    centre = np.array([[gw / 2 * step, gh / 2 * step], [(gw / 2 + 1) * step, gh / 2 * step]], dtype=np.float64)
    pc = mapping.to_decoded(centre)
    per_sample = float(np.hypot(*(pc[1] - pc[0])))
    source = photo_rgb if lut is None else cv2.LUT(photo_rgb, lut)
    scale = 1.0
    if per_sample > 1.5:  # area-average first so sampling does not alias
        scale = 1.0 / per_sample
        source = cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mx = ((xy[..., 0] + 0.5) * scale - 0.5).astype(np.float32)
    my = ((xy[..., 1] + 0.5) * scale - 0.5).astype(np.float32)
    channels = 1 if source.ndim == 2 else source.shape[2]
    nan = (np.nan,) * channels if source.dtype == np.float32 else (0,) * channels
    return cv2.remap(source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=nan), per_sample


def _ecc_images(photo_rgb, sim_rgb, burn, mapping: Mapping, px_mm: float, margin: int):
    """Template (the smoothed simulation at ECC scale) and the photo resampled around it by `mapping`.

    Both are compared as lightness (cube root of luminance). The photo's lighting is divided out (a smooth surface
    through the bare surface, which a few pixels' misregistration does not disturb) and its tones are mapped onto
    the simulation's (histogram matching over the piece), because ECC lets the two differ only by gain and offset.
    Returns the template, the photo (`margin` pixels wider each side), the ECC scale and the smoothing sigma.
    """
    h, w = sim_rgb.shape[:2]
    e = min(1.0, _ECC_EDGE / max(h, w))
    sigma = max(1.0, _LOWPASS_MM / (px_mm / e))
    sim_y = cv2.LUT(sim_rgb, SRGB_CODE_TO_LINEAR) @ _LUMA
    if e < 1.0:
        sim_y = cv2.resize(sim_y, None, fx=e, fy=e, interpolation=cv2.INTER_AREA)
    template = cv2.GaussianBlur(np.cbrt(sim_y), (0, 0), sigma)
    sh, sw = template.shape
    grey = cv2.LUT(photo_rgb, SRGB_CODE_TO_LINEAR) @ _LUMA
    moving, _ = _rectify(grey, mapping, (sh + 2 * margin, sw + 2 * margin), 1.0 / e, offset=margin)
    fired = cv2.resize(burn.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) if e < 1.0 else burn
    r = max(1, int(round(_WHITE_MARGIN_MM / (px_mm / e))))
    near = cv2.dilate(fired.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    inset = int(np.ceil(3 * sigma)) + 2
    piece = np.s_[margin + inset : margin + sh - inset, margin + inset : margin + sw - inset]
    bare = np.zeros(moving.shape, bool)
    bare[piece] = near[inset:-inset, inset:-inset] == 0
    bare &= np.isfinite(moving)
    lighting = _fit_lighting(moving[..., None], bare)[..., 0]
    moving = np.cbrt(np.clip(np.nan_to_num(moving / np.maximum(lighting, 1e-6), nan=0.0), 0, None))
    moving = cv2.GaussianBlur(moving.astype(np.float32), (0, 0), sigma)
    moving = _match_histogram(moving, moving[piece], template[inset:-inset, inset:-inset])
    return template.astype(np.float32), moving.astype(np.float32), e, sigma


def _ecc_refine(photo_rgb: np.ndarray, sim_rgb: np.ndarray, burn: np.ndarray, mapping: Mapping, px_mm: float):
    """Refine the homography by ECC (homography motion) against the smoothed simulation.

    Returns the homography and the correlation it reaches.
    """
    margin = 16
    smooth, moving, e, sigma = _ecc_images(photo_rgb, sim_rgb, burn, mapping, px_mm, margin)
    # The template stops short of the piece's edge: there the photo's blur mixes in the table, and a template
    # that reached it would pull the fit towards shrinking the piece.
    crop = int(np.ceil(3 * sigma)) + 2
    template = np.ascontiguousarray(smooth[crop:-crop, crop:-crop])
    th, tw = template.shape
    if min(th, tw) < 32:
        return mapping.homography, 0.0
    pad = margin + crop
    piece = np.s_[pad : pad + th, pad : pad + tw]
    warp = np.array([[1, 0, pad], [0, 1, pad], [0, 0, 1]], dtype=np.float32)
    start = _correlation(template, moving[piece])
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:
        rho, warp = cv2.findTransformECC(template, moving, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 1)
    except cv2.error:
        return mapping.homography, start
    if not rho > start:
        return mapping.homography, start
    # artwork px → ECC-scale px → template px → (ECC) moving px → artwork px of the first mapping → photo
    s = _scale_matrix(e)
    into_template = np.array([[1, 0, -crop], [0, 1, -crop], [0, 0, 1]], dtype=np.float64)
    out_of_moving = np.array([[1, 0, -margin], [0, 1, -margin], [0, 0, 1]], dtype=np.float64)
    hom = mapping.homography @ np.linalg.inv(s) @ out_of_moving @ warp.astype(np.float64) @ into_template @ s
    hom = hom / hom[2, 2]
    # The features already place the piece within a pixel or two: a refinement that moves a corner further has
    # run off (a flat picture, a soft photo), and is not taken.
    h, w = burn.shape
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)
    moved = mapping.to_plane(Mapping(hom, mapping.k1, mapping.centre, mapping.norm).to_photo(corners)) - corners
    if float(np.hypot(*moved.T).max()) > max(_ECC_MAX_MOVE_PX, 0.01 * np.hypot(w, h)):
        return mapping.homography, start
    return hom, float(rho)


def _tile_refine(
    photo_grey: np.ndarray, shrink: float, sim_grey: np.ndarray, mapping: Mapping, sigma: float, tile: int
):
    """Tile shifts between the simulation and the photo resampled by `mapping`, by phase correlation.

    At the finest scale the photo resolves, each tile's dither is a fingerprint: marks that burned wider than
    previewed are larger, not moved, so the shifts are not biased by a change of tone (intensity matching over
    smoothed tones is: wider marks darken a soft edge's middle and seem to move it). Tiles without detail
    (solid or bare) give no clear peak and are dropped.

    `photo_grey` is the decoded photo's luminance shrunk by `shrink`; `sigma` (artwork pixels) smooths both.
    Returns (artwork points, decoded-photo points) of the tiles that hold, possibly empty.
    """
    h, w = sim_grey.shape
    half = tile // 2
    step = max(tile, int(min(h, w) / 12))
    xs = np.arange(half + 2, w - half - 2, step)
    ys = np.arange(half + 2, h - half - 2, step)
    if xs.size == 0 or ys.size == 0:
        return np.zeros((0, 2)), np.zeros((0, 2))
    window = cv2.createHanningWindow((tile, tile), cv2.CV_32F)
    local = np.mgrid[0:tile, 0:tile][::-1].astype(np.float64)  # (x, y) offsets within a tile
    art, pho = [], []
    centres = [(x, y) for y in ys for x in xs]
    # All tiles' sample points through the mapping at once.
    pts = np.concatenate([np.stack([local[0] + x - half, local[1] + y - half], -1).reshape(-1, 2) for x, y in centres])
    where = ((mapping.to_decoded(pts) + 0.5) * shrink - 0.5).reshape(len(centres), tile, tile, 2).astype(np.float32)
    for k, (x, y) in enumerate(centres):
        photo = cv2.remap(
            photo_grey,
            where[k, ..., 0],
            where[k, ..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=np.nan,
        )
        if not np.isfinite(photo).all():
            continue
        sim = sim_grey[y - half : y - half + tile, x - half : x - half + tile]
        if float(sim.std()) < 0.02 or float(photo.std()) < 1e-4:
            continue
        if sigma > 0:
            photo = cv2.GaussianBlur(photo, (0, 0), sigma)
            sim = cv2.GaussianBlur(sim, (0, 0), sigma)
        (dx, dy), response = cv2.phaseCorrelate(
            (sim - sim.mean()).astype(np.float32), (photo - photo.mean()).astype(np.float32), window
        )
        if response < _TILE_RESPONSE or max(abs(dx), abs(dy)) > tile / 4:
            continue
        art.append((x - 0.5, y - 0.5))
        pho.append((x - 0.5 + dx, y - 0.5 + dy))
    if not art:
        return np.zeros((0, 2)), np.zeros((0, 2))
    return np.asarray(art, np.float64), mapping.to_decoded(np.asarray(pho, np.float64))


def _refine_by_tiles(gray: np.ndarray, sim_rgb: np.ndarray, mapping: Mapping, px_mm: float, per_px: float):
    """The mapping fitted through tile shifts (twice: phase correlation is most exact near zero shift).

    The dither's own detail is used where the photo resolves it; otherwise the tones at the low-pass scale.
    Returns the mapping and the number of tiles it rests on (0: the mapping is returned unchanged).
    """
    shrink = min(1.0, 1.5 / max(per_px, 1e-6))
    small = gray if shrink == 1.0 else cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    photo_grey = cv2.LUT(small, SRGB_CODE_TO_LINEAR)
    sim_grey = cv2.LUT(sim_rgb, SRGB_CODE_TO_LINEAR) @ _LUMA
    fine = (max(0.6, 0.5 / max(per_px, 1e-6)), 64)
    coarse = (max(1.0, _LOWPASS_MM / px_mm), 128)
    used = 0
    for sigma, tile in (fine, coarse):
        for _ in range(2):
            art, pho = _tile_refine(photo_grey, shrink, sim_grey, mapping, sigma, tile)
            if len(art) < _MIN_TILES:
                break
            # Gross outliers first (loose: the lens bends the tiles off any one homography), then the tiles
            # that disagree with the fitted mapping.
            _, keep = cv2.findHomography(art, pho, cv2.RANSAC, max(3.0 * per_px, 1.0))
            if keep is None or keep.sum() < _MIN_TILES:
                break
            keep = keep.ravel().astype(bool)
            for _ in range(2):
                hom, k1, centre, norm = _fit_radial(art[keep], pho[keep], gray.shape)
                fitted = Mapping(hom, k1, centre, norm)
                miss = np.hypot(*(fitted.to_decoded(art) - pho).T)
                limit = max(3.0 * 1.4826 * float(np.median(miss[keep])), 0.5 * per_px)
                keep = miss < limit
            if keep.sum() < _MIN_TILES:
                break
            hom, k1, centre, norm = _fit_radial(art[keep], pho[keep], gray.shape)
            mapping = Mapping(hom, k1, centre, norm)
            used = int(keep.sum())
        if used:
            break
    return mapping, used


def _match_histogram(image: np.ndarray, sample: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`image` through the monotone map that takes `sample`'s distribution onto `reference`'s."""
    qs = np.linspace(0.0, 100.0, 257)
    src = np.percentile(sample.ravel()[::3], qs)  # a third of the pixels fix the distribution well enough
    ref = np.percentile(reference.ravel()[::3], qs)
    src = src + np.arange(src.size) * 1e-6 * max(float(src[-1] - src[0]), 1.0)  # strictly increasing for interp
    return np.interp(image, src, ref).astype(np.float32)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 16:
        return 0.0
    x, y = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    return float((x * y).sum() / (np.sqrt((x * x).sum() * (y * y).sum()) + 1e-12))


# ---------------------------------------------------------------------------------------------------------------
# Photometry


def _poly_terms(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    return np.stack([x**i * y**j for i in range(order + 1) for j in range(order + 1 - i)], axis=-1)


def _fit_lighting(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A smooth surface per channel from the masked (bare) samples; lower order where they cover less."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if xs.size < 20:
        level = np.nanpercentile(image.reshape(-1, image.shape[2]), 99, axis=0)
        return np.broadcast_to(level, image.shape).astype(np.float32)
    extent = min((xs.max() - xs.min()) / w, (ys.max() - ys.min()) / h)
    order = 2 if xs.size >= 2000 and extent > 0.6 else 1 if xs.size >= 200 and extent > 0.25 else 0
    step = max(1, xs.size // 10000)
    ys, xs = ys[::step], xs[::step]
    terms = _poly_terms(xs / w - 0.5, ys / h - 0.5, order)
    gx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    gy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    powers = [(i, j) for i in range(order + 1) for j in range(order + 1 - i)]  # as in _poly_terms
    surface = np.empty(image.shape, np.float32)
    for c in range(image.shape[2]):
        v = image[ys, xs, c].astype(np.float64)
        keep = np.isfinite(v)
        coef = np.zeros(terms.shape[1])
        for _ in range(3):
            coef, *_ = np.linalg.lstsq(terms[keep], v[keep], rcond=None)
            res = v - terms @ coef
            mad = np.median(np.abs(res[keep])) * 1.4826 + 1e-6
            keep = np.isfinite(v) & (np.abs(res) < 2.5 * mad)
        plane = np.zeros((h, w), np.float32)
        for (i, j), a in zip(powers, coef, strict=True):
            plane += np.float32(a) * (gx**i * gy**j)
        surface[:, :, c] = plane
    return surface


def _lstar(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    f = np.where(y > (6 / 29) ** 3, np.cbrt(np.maximum(y, 0)), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f - 16


def _linear_to_srgb_u8(linear: np.ndarray) -> np.ndarray:
    v = np.clip(np.nan_to_num(linear, nan=0.8), 0.0, 1.0)
    s = np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)
    return np.round(s * 255).astype(np.uint8)


def _shrink_linear(image: np.ndarray, edge: int) -> np.ndarray:
    """Linear-light image area-averaged so its long side is at most `edge` (for the report's pictures)."""
    scale = edge / max(image.shape[:2])
    if scale >= 1.0:
        return image
    return cv2.resize(image.astype(np.float32), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _lowpass(image: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian low-pass that ignores invalid samples (normalised convolution)."""
    v = np.where(valid, image, 0.0).astype(np.float32)
    weight = cv2.GaussianBlur(valid.astype(np.float32), (0, 0), sigma)
    out = cv2.GaussianBlur(v, (0, 0), sigma) / np.maximum(weight, 1e-6)
    out[weight < 0.5] = np.nan
    return out


def _blur_mm(photo_y: np.ndarray, sim_y: np.ndarray, mask: np.ndarray, grid_mm: float) -> float:
    """Gaussian sigma (mm) that makes the simulation's detail best match the photo's, on a central crop.

    Both are high-passed first (less their 1 mm blur): the slow shading — the preview's invented grain, the
    lighting — would otherwise decide the match and favour any blur at all.
    """
    h, w = photo_y.shape
    ch, cw = min(h, 500), min(w, 500)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = np.s_[y0 : y0 + ch, x0 : x0 + cw]
    photo, sim, ok = photo_y[crop], sim_y[crop], mask[crop]
    if ok.mean() < 0.3:
        return float("nan")
    fill = float(np.nanmean(photo[ok]))
    photo = np.where(ok, photo, fill).astype(np.float32)
    slow = 1.0 / grid_mm
    photo = photo - cv2.GaussianBlur(photo, (0, 0), slow)
    sim = sim.astype(np.float32)
    sigmas = np.array([0.0, 0.03, 0.06, 0.09, 0.12, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7])
    scores = []
    for s in sigmas:
        px = s / grid_mm
        r = sim if px < 0.3 else cv2.GaussianBlur(sim, (0, 0), px)
        r = r - cv2.GaussianBlur(r, (0, 0), slow)
        scores.append(_correlation(photo[ok], r[ok]))
    i = int(np.argmax(scores))
    best = float(sigmas[i])
    if 0 < i < len(sigmas) - 1:  # a parabola through the three best
        x = sigmas[i - 1 : i + 2]
        y = np.asarray(scores[i - 1 : i + 2])
        coef = np.polyfit(x, y, 2)
        if coef[0] < 0:
            best = float(np.clip(-coef[1] / (2 * coef[0]), x[0], x[2]))
    return best


# ---------------------------------------------------------------------------------------------------------------
# The stroke model for the mark width


def _block_coverage(burn: np.ndarray, blocks: np.ndarray, b: int, px_mm: float, diameters: np.ndarray) -> np.ndarray:
    """Coverage of each block (x0, y0 in artwork px, b px square) by strokes of each diameter (rows: blocks).

    A fired pixel (row r, column j) burns the stretch y = r, j − ½ ≤ x ≤ j + ½ of its scan line, widened by a disc.
    Each block is sampled on a jittered grid of `_SUPERSAMPLE`² points per pixel; a point's distance to the nearest
    stretch is exact (along each row, to the row's nearest fired stretch; across rows, Pythagoras), so a stroke of
    diameter d covers the points within d / 2. `diameters` are evenly spaced.
    """
    s = _SUPERSAMPLE
    h, w = burn.shape
    rng = np.random.default_rng(0)  # a fixed jitter: the same answer each time
    n = b * s
    offsets_x = (np.arange(n) + rng.random(n)) / s - 0.5
    offsets_y = (np.arange(n) + rng.random(n)) / s - 0.5
    reach = int(np.ceil(diameters[-1] / 2 / px_mm)) + 1
    idx = np.arange(w)
    left = np.maximum.accumulate(np.where(burn, idx, -(10**6)), axis=1)  # nearest fired column at or left of j
    right = np.minimum.accumulate(np.where(burn, idx, 10**6)[:, ::-1], axis=1)[:, ::-1]  # … at or right of j
    xs = blocks[:, 0][:, None] + offsets_x[None, :]  # (blocks, n)
    j = np.clip(np.rint(xs).astype(int), 0, w - 1)
    rows = blocks[:, 1][:, None] - reach + np.arange(b + 2 * reach + 1)[None, :]  # (blocks, R)
    rows_ok = (rows >= 0) & (rows < h)
    r_idx, c_idx = np.clip(rows, 0, h - 1)[:, :, None], j[:, None, :]
    x3 = xs[:, None, :]
    along = np.minimum(x3 - (left[r_idx, c_idx] + 0.5), (right[r_idx, c_idx] - 0.5) - x3).astype(np.float32)
    along[burn[r_idx, c_idx]] = 0.0
    along[~np.broadcast_to(rows_ok[:, :, None], along.shape)] = np.inf
    ys = blocks[:, 1][:, None] + offsets_y[None, :]  # (blocks, n)
    base = np.rint(ys).astype(int) - (blocks[:, 1][:, None] - reach)  # index of the nearest row in `rows`
    best = np.full((len(blocks), n, n), np.inf, np.float32)
    block_index = np.arange(len(blocks))[:, None]
    for k in range(-reach, reach + 1):
        ri = base + k
        dy2 = ((ys - rows[block_index, ri]) ** 2).astype(np.float32)  # (blocks, n)
        np.minimum(best, dy2[:, :, None] + along[block_index, ri] ** 2, out=best)
    dist_mm = np.sqrt(best.reshape(len(blocks), -1)) * px_mm
    # Point i is covered by diameters[bins[i]:].
    step = float(diameters[1] - diameters[0])
    bins = np.clip(np.ceil((2 * dist_mm - diameters[0]) / step - 1e-9), 0, len(diameters)).astype(np.int64)
    slots = len(diameters) + 1
    flat = (np.arange(len(blocks))[:, None] * slots + bins).ravel()
    counts = np.bincount(flat, minlength=len(blocks) * slots).reshape(len(blocks), slots)
    return np.cumsum(counts[:, :-1], axis=1) / dist_mm.shape[1]


@dataclass
class _Blocks:
    """Even-toned blocks of about `_BLOCK_MM` on the photometry grid, and their place on the artwork."""

    iy: np.ndarray
    ix: np.ndarray
    size: int  # grid pixels
    artwork: np.ndarray  # (x0, y0) in artwork pixels
    artwork_size: int
    terms: np.ndarray  # lighting polynomial terms at each block's centre


def _choose_blocks(burn: np.ndarray, valid: np.ndarray, f: float, px_mm: float, order: int) -> _Blocks | None:
    gh, gw = valid.shape
    bg = max(4, int(round(_BLOCK_MM / (px_mm / f))))
    ny, nx = gh // bg, gw // bg
    if ny < 2 or nx < 2:
        return None
    fired = cv2.resize(burn.astype(np.float32), (gw, gh), interpolation=cv2.INTER_AREA) if f < 1 else burn
    fired = np.asarray(fired, np.float32)[: ny * bg, : nx * bg].reshape(ny, bg, nx, bg).mean(axis=(1, 3))
    ok = valid[: ny * bg, : nx * bg].reshape(ny, bg, nx, bg).all(axis=(1, 3))
    # Even tone: the block's share of fired pixels is close to its neighbours' (blur moves little light across).
    around = cv2.blur(fired, (3, 3), borderType=cv2.BORDER_REPLICATE)
    even = np.abs(fired - around) < 0.08
    iy, ix = np.nonzero(ok & even)
    if iy.size > _MAX_BLOCKS:  # evenly through the tones: sort by share fired, take every k-th
        order_ = np.argsort(fired[iy, ix], kind="stable")
        pick = order_[np.linspace(0, order_.size - 1, _MAX_BLOCKS).astype(int)]
        iy, ix = iy[pick], ix[pick]
    b = max(1, int(round(bg / f)))
    art = np.stack([np.rint(ix * bg / f).astype(int), np.rint(iy * bg / f).astype(int)], axis=1)
    inside = (art[:, 0] + b <= burn.shape[1]) & (art[:, 1] + b <= burn.shape[0])
    iy, ix, art = iy[inside], ix[inside], art[inside]
    if iy.size < _MIN_BLOCKS:
        return None
    terms = _poly_terms((ix + 0.5) * bg / gw - 0.5, (iy + 0.5) * bg / gh - 0.5, order)
    return _Blocks(iy, ix, bg, art, b, terms)


def _block_means(image: np.ndarray, blocks: _Blocks) -> np.ndarray:
    bg = blocks.size
    out = np.empty((blocks.iy.size,) + image.shape[2:], np.float64)
    for k, (y, x) in enumerate(zip(blocks.iy, blocks.ix, strict=True)):
        out[k] = image[y * bg : (y + 1) * bg, x * bg : (x + 1) * bg].reshape(bg * bg, -1).mean(axis=0)
    return out


def _joint_scan(values: np.ndarray, terms: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """For each diameter: the misfit of value ≈ W(x) · (1 − k · coverage), W a smooth surface (the lit bare surface).

    Linear in (W's coefficients, k · W's coefficients), so each diameter is one least-squares solve.
    """
    sse = np.empty(curves.shape[1])
    for i in range(curves.shape[1]):
        design = np.hstack([terms, -terms * curves[:, i : i + 1]])
        _, res, rank, _ = np.linalg.lstsq(design, values, rcond=None)
        if res.size and rank == design.shape[1]:
            sse[i] = float(res[0])
        else:
            fitted = design @ np.linalg.lstsq(design, values, rcond=None)[0]
            sse[i] = float(((values - fitted) ** 2).sum())
    return sse


def _joint_fit(values: np.ndarray, terms: np.ndarray, curves: np.ndarray, diameters: np.ndarray):
    """Best diameter (refined between grid steps), with the block weights of the fit's inliers.

    Returns (diameter, index of the nearest grid diameter, inlier mask).
    """
    keep = np.ones(values.size, bool)
    for _ in range(2):  # a refit without outlying blocks (dust, knots, a stray reflection)
        sse = _joint_scan(values[keep], terms[keep], curves[keep])
        i = int(np.argmin(sse))
        design = np.hstack([terms, -terms * curves[:, i : i + 1]])
        coef = np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]
        res = values - design @ coef
        mad = float(np.median(np.abs(res[keep]))) * 1.4826 + 1e-9
        keep = np.abs(res) < 3.5 * mad
    d = float(diameters[i])
    if 0 < i < len(sse) - 1:  # a parabola through the three best
        a, b, c = sse[i - 1], sse[i], sse[i + 1]
        denom = a - 2 * b + c
        if denom > 0:
            d += float(np.clip(0.5 * (a - c) / denom, -1, 1)) * float(diameters[1] - diameters[0])
    return d, i, keep


def _surface_at(terms: np.ndarray, curves_i: np.ndarray, values: np.ndarray, keep: np.ndarray):
    """Coefficients of W and of k·W for one diameter's coverage (per column of `values`)."""
    design = np.hstack([terms, -terms * curves_i[:, None]])
    return np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]


def _evaluate_poly(coef: np.ndarray, shape: tuple[int, int], order: int) -> np.ndarray:
    h, w = shape
    gx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    gy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    powers = [(i, j) for i in range(order + 1) for j in range(order + 1 - i)]  # as in _poly_terms
    plane = np.zeros((h, w), np.float32)
    for (i, j), a in zip(powers, coef, strict=True):
        plane += np.float32(a) * (gx**i * gy**j)
    return plane


# ---------------------------------------------------------------------------------------------------------------
# Checks and advice


def _global_refusal(gray: np.ndarray) -> BurnPhotoRefused | None:
    """Why nothing matched, when the whole photo says so: clipped white, or every edge spread wide."""
    if float((gray >= _CLIP_LEVEL).mean()) > 0.25:
        return BurnPhotoRefused("clipped", "The photo is overexposed: the piece's highlights are clipped.")
    factor = min(1.0, 1000 / max(gray.shape))
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA).astype(np.float32)
    # A step of contrast C blurred by a Gaussian of sigma s has a steepest slope of C / (s √(2π)).
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3) / 8
    steepest = float(np.percentile(np.hypot(gx, gy), 99.9)) + 1e-6
    contrast = float(np.percentile(small, 99) - np.percentile(small, 1))
    if contrast > 40 and contrast / (steepest * np.sqrt(2 * np.pi)) > 2.0:
        return BurnPhotoRefused("blurred", "The photo is too blurred to recognise the piece: hold still and focus.")
    return None


def _advice(r: BurnReport, polarity: str) -> list[str]:
    out = []
    gain = r.mark_gain_mm
    if np.isfinite(gain) and gain > _GAIN_ADVICE_MM:
        where = "Shadows" if polarity == "dark" else "Fine detail"
        out.append(f"{where} ran together: your marks are about {gain:.2f} mm wider than assumed; burn a test card.")
    elif np.isfinite(gain) and gain < -_GAIN_ADVICE_MM:
        out.append(
            f"Your marks are about {-gain:.2f} mm narrower than assumed, so tones came out lighter; burn a test card."
        )
    tones = (
        ("Shadows", r.tone_error_shadows),
        ("Mid-tones", r.tone_error_midtones),
        ("Highlights", r.tone_error_highlights),
    )
    # Wider marks darken (on a light-marking surface: lighten) the tones; that is said once, by the line above.
    wider = np.isfinite(gain) and gain > _GAIN_ADVICE_MM
    narrower = np.isfinite(gain) and gain < -_GAIN_ADVICE_MM
    for name, err in tones:
        if not np.isfinite(err) or abs(err) <= _TONE_ADVICE_LSTAR:
            continue
        # On a dark-marking surface, more power darkens; on a light-marking one it lightens.
        lighter = err > 0
        toward_marks = lighter != (polarity == "dark")  # the way wider marks move this tone
        if (wider and toward_marks) or (narrower and not toward_marks):
            continue
        more = lighter == (polarity == "dark")
        change = "raise power a little" if more else "lower power a little"
        out.append(
            f"{name} came out {'lighter' if lighter else 'darker'} than the preview: {change} or burn a test card."
        )
    if np.isfinite(r.contrast_achieved) and r.contrast_achieved < _LOW_CONTRAST:
        out.append(
            f"The burn has {1 - r.contrast_achieved:.0%} less contrast than the preview: "
            "burn a test card to find the darkest clean setting."
        )
    if not np.isfinite(r.photo_blur_mm) or r.photo_blur_mm > _SOFT_PHOTO_MM:
        out.append("The photo is soft; sharpness can't be judged.")
    elif np.isfinite(r.sharpness) and r.sharpness < _LOW_SHARPNESS:
        out.append("The burn is softer than the preview: check the laser's focus.")
    if not out:
        out.append("Burn looks as previewed.")
    return out


# ---------------------------------------------------------------------------------------------------------------


def read_burn_photo(
    photo: bytes | np.ndarray,
    *,
    burn: np.ndarray,
    simulated: np.ndarray,
    px_mm: float,
    mark_diameter_mm: float,
    polarity: str = "dark",
) -> BurnReport:
    """Align a phone photo of a finished burn to its artwork and measure how it differs from the simulation.

    Parameters
    ----------
    photo : bytes or ndarray
        The photo: encoded image bytes, or an RGB ``uint8`` array.
    burn : ndarray
        The artwork's burn map, H×W bool (True fires), one pixel per line interval.
    simulated : ndarray
        The engine's simulated burn, RGB ``uint8`` (resampled to the burn map's grid when its size differs).
    px_mm : float
        The line interval (artwork pixel size) in millimetres.
    mark_diameter_mm : float
        The mark diameter the engine assumed (spot plus spread, or a calibrated value).
    polarity : {"dark", "light"}
        Whether marks are darker or lighter than the bare surface.

    Returns
    -------
    BurnReport
        Registration quality, tone errors, contrast, sharpness, mark gain and advice.

    Raises
    ------
    BurnPhotoRefused
        With a code: ``no_match``, ``blurred``, ``clipped`` or ``too_small``.

    Examples
    --------
    >>> art = prepare_artwork(photo, material="birch-plywood", machine="diode-10w", width_mm=80)  # doctest: +SKIP
    >>> report = read_burn_photo(open("burn.jpg", "rb").read(), burn=art.burn, simulated=art.simulate(),
    ...                          px_mm=art.px_mm, mark_diameter_mm=art.mark_px * art.px_mm)  # doctest: +SKIP
    >>> report.advice  # doctest: +SKIP
    ['Burn looks as previewed.']
    """
    if polarity not in ("dark", "light"):
        raise ValueError("polarity must be 'dark' or 'light'")
    burn = np.asarray(burn, dtype=bool)
    sim = _as_simulated(simulated, burn.shape)
    rgb, decode_scale, given = _photo_rgb(photo)
    if min(given) < _MIN_PHOTO_SIDE:
        raise BurnPhotoRefused(
            "too_small", f"The photo is too small ({given[1]}×{given[0]} px): take it at full resolution."
        )
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

    # --- registration
    hom, n_in, matched, art_in, pho_in = _register(rgb, sim)
    if hom is None or n_in < _MIN_INLIERS:
        raise _global_refusal(gray) or BurnPhotoRefused(
            "no_match", "This artwork was not found in the photo: is it a photo of this piece?"
        )
    hom, k1, centre, norm = _fit_radial(art_in, pho_in, gray.shape)
    mapping = Mapping(hom, k1, centre, norm)
    h, w = burn.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64) - 0.5
    quad = mapping.to_decoded(corners).astype(np.float32)
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        raise BurnPhotoRefused("no_match", "This artwork was not found in the photo: is it a photo of this piece?")
    area_px = abs(cv2.contourArea(quad)) * decode_scale**2
    px_per_mm = np.sqrt(area_px / (w * h * px_mm * px_mm))
    if px_per_mm < _MIN_PX_PER_MM:
        raise BurnPhotoRefused(
            "too_small",
            f"The piece is too small in the photo ({px_per_mm:.1f} px per mm): move closer so it fills the frame.",
        )
    hom, rho = _ecc_refine(rgb, sim, burn, mapping, px_mm)
    mapping = Mapping(hom, k1, centre, norm)
    per_px = px_per_mm * px_mm / decode_scale  # decoded photo pixels per artwork pixel
    mapping, n_tiles = _refine_by_tiles(gray, sim, mapping, px_mm, per_px)
    # Not this artwork: neither the smoothed tones nor the tiles' detail line up (a strongly textured preview can
    # correlate weakly over its tones while every tile agrees).
    if rho < _MIN_ECC and n_tiles == 0:
        raise _global_refusal(gray) or BurnPhotoRefused(
            "no_match", "The photo does not line up with this artwork: is it a photo of this piece?"
        )
    back = mapping.to_plane(pho_in) - art_in
    registration_rms = float(np.sqrt((back**2).sum(axis=1).mean()))
    mapping.scale = decode_scale

    # --- photometry on the artwork grid
    f = min(1.0, _GRID_EDGE / max(h, w))
    gh, gw = max(1, int(round(h * f))), max(1, int(round(w * f)))
    f = gw / w
    grid_mm = px_mm / f
    photo_lin, _ = _rectify(rgb, mapping, (gh, gw), 1.0 / f, lut=SRGB_CODE_TO_LINEAR)  # in decoded pixels
    sim_lin = cv2.LUT(sim, SRGB_CODE_TO_LINEAR)
    if f < 1.0:
        sim_lin = cv2.resize(sim_lin, (gw, gh), interpolation=cv2.INTER_AREA)
        fired_grid = cv2.resize(burn.astype(np.float32), (gw, gh), interpolation=cv2.INTER_AREA) > 0
    else:
        fired_grid = burn
    valid = np.isfinite(photo_lin).all(axis=2)
    inset = max(1, int(round(_EDGE_INSET_MM / grid_mm)))
    interior = np.zeros((gh, gw), bool)
    interior[inset:-inset, inset:-inset] = True
    interior &= valid
    sim_y = sim_lin @ _LUMA
    r = max(1, int(round(_WHITE_MARGIN_MM / grid_mm)))
    near = cv2.dilate(fired_grid.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    bare = interior & (near == 0)
    # Clipping is judged on the bare surface, or where there is little of it, on the preview's lightest 5 %.
    light = bare if bare.sum() >= 200 else interior & (sim_y >= np.percentile(sim_y[interior], 95))
    if light.any():
        clipped = float((photo_lin[light].max(axis=1) >= SRGB_CODE_TO_LINEAR[_CLIP_LEVEL]).mean())
        if clipped > _MAX_CLIPPED:
            raise BurnPhotoRefused(
                "clipped",
                f"The photo is overexposed: {clipped:.0%} of the lightest parts are clipped white. Expose darker.",
            )
    blur = _blur_mm(photo_lin @ _LUMA, sim_y, interior, grid_mm)
    if np.isfinite(blur) and blur > _MAX_BLUR_MM:
        raise BurnPhotoRefused(
            "blurred", f"The photo is too blurred to judge the burn (edges spread {blur:.2f} mm): hold still and focus."
        )

    # Lighting and marks together: each even-toned block's colour ≈ W(x) · (1 − k · coverage by strokes of d).
    # Most pictures leave little bare surface to fit the lighting on, but every block tells it, once d is known.
    order = 2
    blocks = _choose_blocks(burn, interior, f, px_mm, order)
    if blocks is None:
        raise BurnPhotoRefused("too_small", "The piece is too small to judge its tones: it needs at least 1 cm².")
    top = max(0.4, 2.5 * mark_diameter_mm, mark_diameter_mm + 0.2)
    diameters = np.arange(max(0.01, 0.3 * mark_diameter_mm), top + 1e-9, 0.0025)
    curves = _block_coverage(burn, blocks.artwork, blocks.artwork_size, px_mm, diameters)
    photo_blocks = _block_means(photo_lin, blocks)
    d, i, keep = _joint_fit(photo_blocks @ _LUMA, blocks.terms, curves, diameters)
    coef = _surface_at(blocks.terms, curves[:, i], photo_blocks, keep)
    n_terms = blocks.terms.shape[1]
    lighting = np.stack([_evaluate_poly(coef[:n_terms, c], (gh, gw), order) for c in range(3)], axis=-1)
    white_y = blocks.terms @ (coef[:n_terms] @ _LUMA)
    mark_dark = float(np.median(blocks.terms @ (coef[n_terms:] @ _LUMA) / np.maximum(white_y, 1e-9)))
    # The preview's bare colour, found the same way (a constant: the preview has no lighting).
    sim_blocks = _block_means(sim_lin, blocks)
    flat = blocks.terms[:, :1]
    _, i_sim, keep_sim = _joint_fit(sim_blocks @ _LUMA, flat, curves, diameters)
    sim_white = _surface_at(flat, curves[:, i_sim], sim_blocks, keep_sim)[0].astype(np.float32)
    relative = photo_lin / np.maximum(lighting, 1e-6)  # 1.0 = bare surface
    corrected = relative * sim_white
    photo_y = corrected @ _LUMA

    sigma = _LOWPASS_MM / grid_mm
    photo_l = _lstar(_lowpass(photo_y, interior, sigma))
    sim_l = _lstar(_lowpass(sim_y, interior, sigma))
    both = interior & np.isfinite(photo_l) & np.isfinite(sim_l)
    delta = np.where(both, photo_l - sim_l, np.nan).astype(np.float32)
    lo, hi = np.percentile(sim_l[both], [1, 99])
    t = (sim_l - lo) / max(hi - lo, 1e-6)
    bands = []
    for band in ((t < 1 / 3), (t >= 1 / 3) & (t < 2 / 3), (t >= 2 / 3)):
        sel = both & band
        bands.append(float(delta[sel].mean()) if sel.sum() >= 0.01 * both.sum() else float("nan"))
    rmse = float(np.sqrt(np.mean(delta[both] ** 2)))
    p_lo, p_hi = np.percentile(photo_l[both], [2, 98])
    s_lo, s_hi = np.percentile(sim_l[both], [2, 98])
    contrast = float((p_hi - p_lo) / max(s_hi - s_lo, 1e-6))
    sharp = _gradient_rms(photo_l, both) / max(_gradient_rms(sim_l, both), 1e-9) / max(contrast, 1e-6)

    report = BurnReport(
        inliers=float(n_in),
        inlier_ratio=float(n_in / max(matched, 1)),
        registration_rms_px=registration_rms,
        ecc_correlation=float(rho),
        tone_error_shadows=bands[0],
        tone_error_midtones=bands[1],
        tone_error_highlights=bands[2],
        rmse_lstar=rmse,
        contrast_achieved=contrast,
        sharpness=float(sharp),
        photo_blur_mm=float(blur),
        mark_diameter_mm=float(d),
        mark_gain_mm=float(d - mark_diameter_mm),
        mark_darkness=mark_dark,
        assumed_mark_mm=float(mark_diameter_mm),
        mapping=mapping,
        simulated_rgb=_linear_to_srgb_u8(_shrink_linear(sim_lin, _PICTURE_EDGE)),
        photo_rgb=_linear_to_srgb_u8(_shrink_linear(np.where(valid[..., None], corrected, 0.8), _PICTURE_EDGE)),
        delta_lstar=delta,
    )
    report.advice = _advice(report, polarity)
    return report


def _gradient_rms(image: np.ndarray, mask: np.ndarray) -> float:
    gx = np.diff(image, axis=1)[:-1, :]
    gy = np.diff(image, axis=0)[:, :-1]
    ok = mask[:-1, :-1] & mask[1:, :-1] & mask[:-1, 1:]
    g2 = (gx * gx + gy * gy)[ok]
    g2 = g2[np.isfinite(g2)]
    return float(np.sqrt(g2.mean())) if g2.size else float("nan")
