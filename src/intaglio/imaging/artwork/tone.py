"""Tone: loading a photo as linear-light luminance at an exact pixel size, and the optional adjustments.

Adjustments act on perceptual lightness (sRGB-encoded, 0–1), where "contrast" and "brightness" mean what people
expect; halftoning then works on linear light, where area coverage averages the way the eye does.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from intaglio.imaging.artwork.layout import frame_photo
from intaglio.imaging.memory import image_memory_bytes, reserve_image_memory

# sRGB code value → linear light, for 8-bit input (the one table: the calibration readers use it too).
SRGB_CODE_TO_LINEAR = np.where(
    (v := np.arange(256, dtype=np.float64) / 255.0) <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4
).astype(np.float32)


def _srgb_to_linear_exact(p):
    return np.where(p <= 0.04045, p / 12.92, ((np.maximum(p, 0) + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb_exact(y):
    return np.where(y <= 0.0031308, y * 12.92, 1.055 * np.power(np.maximum(y, 0), 1 / 2.4) - 0.055)


# Whole-image conversions go through 64k-entry tables (a gather instead of a power per pixel); the steps are
# far below one 8-bit code value.
_TABLE_SIZE = 65536
_TABLE_X = np.linspace(0.0, 1.0, _TABLE_SIZE)
_TO_LINEAR_TABLE = _srgb_to_linear_exact(_TABLE_X).astype(np.float32)
_TO_SRGB_TABLE = _linear_to_srgb_exact(_TABLE_X).astype(np.float32)


# From this many pixels the hot loops run as one compiled pass each (fused.py): the same values, without numpy's
# several passes and temporaries. Below it, compiling or loading them would cost more than they save.
FUSED_MIN_PIXELS = 65536


def lookup(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[values] for values in 0–1 (clipped), with the table sampled evenly over 0–1."""
    values = np.asarray(values, dtype=np.float32)
    if values.size >= FUSED_MIN_PIXELS and table.dtype == np.float32:
        from intaglio.imaging.artwork.fused import gather_values

        return gather_values(values, table)
    scale = np.float32(table.size - 1)
    index = np.clip(values * scale + np.float32(0.5), 0, scale).astype(np.int32)
    return table[index]


def srgb_to_linear(p: np.ndarray) -> np.ndarray:
    """sRGB values to linear light (IEC 61966-2-1), by table.

    Parameters
    ----------
    p : numpy.ndarray
        sRGB values in 0–1 (clipped).

    Returns
    -------
    numpy.ndarray
        Linear-light values in 0–1, float32.
    """
    return lookup(p, _TO_LINEAR_TABLE)


def linear_to_srgb(y: np.ndarray) -> np.ndarray:
    """Linear light to sRGB values (IEC 61966-2-1), by table.

    Parameters
    ----------
    y : numpy.ndarray
        Linear-light values in 0–1 (clipped).

    Returns
    -------
    numpy.ndarray
        sRGB values in 0–1, float32.
    """
    return lookup(y, _TO_SRGB_TABLE)


# What callers may ask for, per numeric adjustment (inclusive); materials' defaults stay in narrower ranges.
ADJUSTMENT_LIMITS: dict[str, tuple[float, float]] = {
    "auto_levels_clip": (0, 20),
    "brightness": (-1, 1),
    "contrast": (0.2, 3),
    "gamma": (0.2, 5),
    "clahe": (0, 1),
    "sharpen_amount": (0, 3),
    "sharpen_radius_mm": (0.02, 5),
    "denoise": (0, 1),
}


@dataclass(frozen=True)
class Adjustments:
    """Every step is optional; the defaults leave the picture as it is."""

    auto_levels_clip: float = 0.0  # percent of pixels clipped at each end when stretching levels (0 = off)
    brightness: float = 0.0  # −1…1, added to lightness
    contrast: float = 1.0  # 0.2…3, around mid-grey
    gamma: float = 1.0  # 0.2…5; > 1 darkens mid-tones
    clahe: float = 0.0  # 0…1 strength of local contrast (CLAHE)
    sharpen_amount: float = 0.0  # 0…3, unsharp mask strength
    sharpen_radius_mm: float = 0.3  # radius in mm, so it means the same at any resolution
    denoise: float = 0.0  # 0…1
    invert: bool = False
    isolate_subject: bool = False  # cut the main subject out onto a clean (unburned) background

    @classmethod
    def from_kwargs(cls, values: dict) -> Adjustments:
        known = cls.__dataclass_fields__
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"Unknown adjustment(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        clean = {}
        for name, value in values.items():
            if name in ADJUSTMENT_LIMITS:
                low, high = ADJUSTMENT_LIMITS[name]
                value = float(value)
                if not low <= value <= high:
                    raise ValueError(f"{name} must be between {low} and {high}, not {value}.")
            else:
                value = bool(value)
            clean[name] = value
        return cls(**clean)


#: Every numeric adjustment at the value that leaves the picture as it is, whatever a material's own defaults: a flat
#: grey through `prepare_artwork` with these is the halftoner and dot-gain compensation alone (test card wedges).
NEUTRAL_ADJUSTMENTS = {name: getattr(Adjustments(), name) for name in ADJUSTMENT_LIMITS}


class PhotoSource:
    """A photo that is rendered again and again (the studio's live preview): its loaded pixels are kept.

    `prepare_artwork` takes one wherever it takes a photo. Loading (decoding, turning upright, linearising and
    framing at the artwork's size) is the same code as for any other source, so the artwork is the same to the
    bit; only the last `keep` loads are kept, read-only.

    Parameters
    ----------
    data : bytes
        The encoded photo (JPEG, PNG, …).
    keep : int
        How many loads (sizes and framings) to keep.
    """

    def __init__(self, data: bytes, *, keep: int = 1):
        self.data = bytes(data)
        self.keep = keep
        header = Image.open(io.BytesIO(self.data))
        orientation = header.getexif().get(0x0112, 1)
        self.size = (header.height, header.width) if orientation in (5, 6, 7, 8) else header.size
        self._framed_image: Image.Image | None = None  # set on a framing of another source (see `framed`)
        self._loads: dict[tuple, object] = {}
        self._framings: dict[tuple, PhotoSource] = {}
        self._lock = threading.Lock()

    def image(self) -> Image.Image:
        """A fresh, not yet decoded image of the photo (a framing's decoded pixels, which nothing may change)."""
        if self._framed_image is not None:
            return self._framed_image
        return Image.open(io.BytesIO(self.data))

    def framed(self, layout) -> PhotoSource:
        """The photo cropped, turned and mirrored as `layout` says, itself kept as a source for the next call.

        A framing decodes the whole photo, so the live preview of a cropped or turned layout keeps the framed pixels
        (the last `keep` framings) instead of decoding the photo again on every change.
        """
        if not layout.changes_photo:
            return self
        key = (layout.crop, layout.rotate_deg, layout.mirror)
        with self._lock:
            if key in self._framings:
                return self._framings[key]
        framed_image = frame_photo(self.image(), layout)
        framed_image.load()
        source = PhotoSource.__new__(PhotoSource)
        source.data, source.keep, source.size = self.data, self.keep, framed_image.size
        source._framed_image = framed_image
        source._loads, source._framings, source._lock = {}, {}, threading.Lock()
        with self._lock:
            self._framings[key] = source
            while len(self._framings) > self.keep:
                del self._framings[next(iter(self._framings))]
        return source

    def load_linear(self, **options):
        """`load_linear` of the photo, kept for the next call with the same options."""
        key = tuple(sorted(options.items()))
        with self._lock:
            if key in self._loads:
                return self._loads[key]
        loaded = load_linear(self.image(), **options)
        for array in loaded if isinstance(loaded, tuple) else (loaded,):
            array.flags.writeable = False  # shared between renders
        with self._lock:
            self._loads[key] = loaded
            while len(self._loads) > self.keep:
                del self._loads[next(iter(self._loads))]
        return loaded


def open_source(source) -> Image.Image | np.ndarray | PhotoSource:
    """A path, bytes, a PIL image, a numpy array (grey or RGB, uint8 or float 0–1) or a `PhotoSource`."""
    if isinstance(source, np.ndarray | Image.Image | PhotoSource):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        image = Image.open(io.BytesIO(source))
    elif isinstance(source, str | Path):
        image = Image.open(source)
    else:
        raise TypeError(f"source must be a path, bytes, a PIL image or a numpy array, not {type(source).__name__}")
    return image


def load_linear(source, *, size: tuple[int, int], fit: str = "crop", keep_rgb: bool = False, as_codes: bool = False):
    """The source as linear luminance (float32, H×W) at exactly `size` (width, height) pixels.

    Grey is ITU-R 601 luma, the grey a JPEG itself stores, computed the same way for every kind of source and then
    linearised. JPEGs are decoded at reduced scale when the target is much smaller (DCT scaling), which is most of
    the speed. With fit="crop" the picture fills the size and the excess is cut evenly; "fit" letterboxes onto
    white; "stretch" ignores the aspect ratio. With keep_rgb the linear RGB (H×W×3) is returned as well.

    With as_codes (and not keep_rgb), a picture framed without resampling comes back as its 8-bit grey codes
    (uint8, H×W) instead: its linear luminance is exactly `SRGB_CODE_TO_LINEAR[codes]`, and `adjust` takes either, so
    the tone chain can run on 256 values rather than on every pixel.
    """
    image = open_source(source)
    if isinstance(image, PhotoSource):
        return image.load_linear(size=size, fit=fit, keep_rgb=keep_rgb, as_codes=as_codes)
    width, height = size
    if isinstance(image, Image.Image):
        image.draft("RGB" if keep_rgb else "L", (width, height))
        with reserve_image_memory(_load_memory_bytes(image, size, keep_rgb)):
            return _load_image(image, width, height, fit, keep_rgb, as_codes)
    array = image
    if array.dtype != np.uint8:
        array = np.round(np.clip(np.asarray(array, dtype=np.float32), 0, 1) * 255).astype(np.uint8)
    if array.ndim == 3:
        rgb = np.ascontiguousarray(array[..., :3])
        grey = np.asarray(Image.fromarray(rgb).convert("L"))
    else:
        rgb, grey = None, array
    return _linear(grey, rgb if keep_rgb else None, width, height, fit, keep_rgb, as_codes)


def _load_memory_bytes(image: Image.Image, size: tuple[int, int], keep_rgb: bool) -> int:
    """What `load_linear` holds for a (drafted, not yet decoded) image: priced before its pixels are decoded."""
    # Decoded pixels, the upright copy, the grey image, its array and its linear float32 copy; with keep_rgb also
    # the RGB image, its array and its linear copy. At the target size: the reframed luminance (and RGB) twice.
    into = ["RGB", "L", "uint8", "float32"] + (["RGB", "uint8x3", "float32x3"] if keep_rgb else [])
    source = image_memory_bytes(image.width, image.height, image.mode, into=into)
    return source + image_memory_bytes(*size, "float32", into=["float32"] + (["float32x3"] * 2 if keep_rgb else []))


def _load_image(image: Image.Image, width: int, height: int, fit: str, keep_rgb: bool, as_codes: bool = False):
    # exif_transpose copies even an upright image: only turn one that needs it.
    upright = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) in _TURNED else image
    rgb = np.asarray(upright.convert("RGB")) if keep_rgb else None
    grey = np.asarray(upright if upright.mode == "L" else upright.convert("L"))
    del upright
    return _linear(grey, rgb, width, height, fit, keep_rgb, as_codes)


_TURNED = frozenset(range(2, 9))  # EXIF orientations other than upright


def _linear(grey, rgb, width: int, height: int, fit: str, keep_rgb: bool, as_codes: bool = False):
    if as_codes and not keep_rgb:
        codes = _framed_codes(grey, width, height, fit)
        if codes is not None:
            return codes
    luminance = _reframe(_to_linear_codes(grey), width, height, fit)
    if not keep_rgb:
        return luminance
    linear_rgb = (
        np.repeat(luminance[..., None], 3, axis=2)
        if rgb is None
        else _reframe(_to_linear_codes(rgb), width, height, fit)
    )
    return luminance, linear_rgb


def _to_linear_codes(codes: np.ndarray) -> np.ndarray:
    """SRGB_CODE_TO_LINEAR[codes], in one compiled pass for a large picture."""
    if codes.size < FUSED_MIN_PIXELS:
        return SRGB_CODE_TO_LINEAR[codes]
    from intaglio.imaging.artwork.fused import gather_codes

    return gather_codes(codes, SRGB_CODE_TO_LINEAR)


def _framed_codes(grey: np.ndarray, width: int, height: int, fit: str) -> np.ndarray | None:
    """The 8-bit picture framed as `_reframe` frames it, where that needs no resampling (else None)."""
    src_h, src_w = grey.shape
    if fit == "crop":
        scale = max(width / src_w, height / src_h)
        crop_w, crop_h = min(src_w, round(width / scale)), min(src_h, round(height / scale))
        if (crop_w, crop_h) != (width, height):
            return None
        x0, y0 = (src_w - crop_w) // 2, (src_h - crop_h) // 2
        return np.ascontiguousarray(grey[y0 : y0 + crop_h, x0 : x0 + crop_w])
    if fit in ("fit", "stretch") and (src_w, src_h) == (width, height):
        return np.ascontiguousarray(grey)
    return None


def _reframe(linear: np.ndarray, width: int, height: int, fit: str) -> np.ndarray:
    src_h, src_w = linear.shape[:2]
    if fit == "crop":
        scale = max(width / src_w, height / src_h)
        crop_w, crop_h = min(src_w, round(width / scale)), min(src_h, round(height / scale))
        x0, y0 = (src_w - crop_w) // 2, (src_h - crop_h) // 2
        linear = linear[y0 : y0 + crop_h, x0 : x0 + crop_w]
        return _resize(linear, width, height)
    if fit == "fit":
        scale = min(width / src_w, height / src_h)
        inner_w, inner_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
        canvas = np.ones((height, width) + linear.shape[2:], dtype=np.float32)
        x0, y0 = (width - inner_w) // 2, (height - inner_h) // 2
        canvas[y0 : y0 + inner_h, x0 : x0 + inner_w] = _resize(linear, inner_w, inner_h)
        return canvas
    if fit == "stretch":
        return _resize(linear, width, height)
    raise ValueError(f"fit must be crop, fit or stretch, not {fit!r}")


def _resize(linear: np.ndarray, width: int, height: int) -> np.ndarray:
    if linear.shape[1] == width and linear.shape[0] == height:
        return np.ascontiguousarray(linear)
    shrinking = width < linear.shape[1] or height < linear.shape[0]
    return cv2.resize(linear, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


class _Chain:
    """The picture during `adjust`, held as table[key] for as long as the steps are pointwise.

    A pointwise step applied to the table gives, entry for entry, what it would give on the pixels, so a run of
    such steps costs a few thousand operations instead of a pass over the picture each; the pixels are gathered
    only when a step needs neighbours (or statistics). The key is the picture's 8-bit codes (a 256-entry table) or
    its linear luminance (`lookup`'s 64k-entry index).
    """

    def __init__(self, luminance: np.ndarray):
        self.codes = luminance.dtype == np.uint8
        self.key = luminance
        # sRGB-encoded lightness, per key: linear_to_srgb(luminance), per code or per index.
        self.table = lookup(SRGB_CODE_TO_LINEAR, _TO_SRGB_TABLE) if self.codes else _TO_SRGB_TABLE
        self.pixels = None

    def map(self, step) -> None:
        """Applies a pointwise step: to the table while there is one, else to the pixels."""
        if self.pixels is None:
            self.table = step(self.table)
        else:
            self.pixels = step(self.pixels)

    def peek(self) -> np.ndarray:
        """The pixels, leaving the chain on its table (for statistics)."""
        return self.pixels if self.pixels is not None else self._gather(self.table)

    def values(self) -> np.ndarray:
        """The pixels; from here on, steps apply to them."""
        if self.pixels is None:
            self.pixels = self._gather(self.table)
            self.key = self.table = None
        return self.pixels

    def set(self, pixels: np.ndarray) -> None:
        self.pixels, self.key, self.table = pixels, None, None

    def finish(self, then) -> np.ndarray:
        """srgb_to_linear of the result and then `then`, folded into the last table: one gather in all."""
        if self.pixels is None:
            # srgb_to_linear clips through its index, so the clip before it is the same on the table.
            linear = lookup(self.table, _TO_LINEAR_TABLE)
            return self._gather(then(linear) if then is not None else linear)
        table = then(_TO_LINEAR_TABLE) if then is not None else _TO_LINEAR_TABLE
        return lookup(self.pixels, table)

    def _gather(self, table: np.ndarray) -> np.ndarray:
        if not self.codes:
            return lookup(self.key, table)
        if self.key.size >= FUSED_MIN_PIXELS and table.dtype == np.float32:
            from intaglio.imaging.artwork.fused import gather_codes

            return gather_codes(self.key, table)
        return table[self.key]


def adjust(
    luminance: np.ndarray, adjustments: Adjustments, *, px_mm: float, rgb: np.ndarray | None = None, then=None
) -> np.ndarray:
    """Applies the adjustments to a picture's lightness.

    Steps whose setting is neutral are skipped, and runs of pointwise steps (levels, brightness, contrast, gamma,
    invert, the conversions to and from sRGB, and `then`) are applied to a table of the picture's values rather
    than to its pixels (`_Chain`): the result is the same to the bit as applying each step to every pixel. A picture
    that needs no step with neighbours (denoise, CLAHE, sharpening, subject isolation) costs one gather in all.

    Parameters
    ----------
    luminance : numpy.ndarray
        H×W linear luminance (float32, 0–1), or the picture's 8-bit grey codes (uint8), whose luminance is
        `SRGB_CODE_TO_LINEAR[codes]` (`load_linear(..., as_codes=True)`).
    adjustments : Adjustments
        The steps and their settings.
    px_mm : float
        The pixel size, for the steps whose radius is in millimetres.
    rgb : numpy.ndarray, optional
        H×W×3 linear RGB for subject isolation; by default the luminance in all three.
    then : callable, optional
        A pointwise function of the adjusted linear luminance (e.g. burn coverage and its compensation), applied as
        part of the last gather. It must act on each element alone, whatever the array's shape.

    Returns
    -------
    numpy.ndarray
        H×W linear luminance (float32, 0–1), or `then` of it.
    """
    a = adjustments
    chain = _Chain(luminance)
    if a.denoise > 0:
        sigma = 0.5 + 2.5 * a.denoise
        chain.set(cv2.bilateralFilter(chain.values(), d=0, sigmaColor=0.05 + 0.15 * a.denoise, sigmaSpace=sigma))
    if a.auto_levels_clip > 0:
        low, high = np.percentile(chain.peek(), [a.auto_levels_clip, 100 - a.auto_levels_clip])
        if high - low > 1e-3:
            chain.map(lambda p: (p - low) / (high - low))
    if a.brightness:
        chain.map(lambda p: p + a.brightness)
    if a.contrast != 1.0:
        chain.map(lambda p: (p - 0.5) * a.contrast + 0.5)
    chain.map(lambda p: np.clip(p, 0, 1))
    if a.gamma != 1.0:
        chain.map(lambda p: np.power(p, a.gamma))
    if a.clahe > 0:
        p = chain.values()
        tile = max(2, round(min(p.shape) / 128))
        clahe = cv2.createCLAHE(clipLimit=1.0 + 3.0 * a.clahe, tileGridSize=(tile, tile))
        chain.set(clahe.apply(np.round(p * 65535).astype(np.uint16)).astype(np.float32) / 65535)
    if a.sharpen_amount > 0:
        p = chain.values()
        sigma = max(0.3, a.sharpen_radius_mm / px_mm / 2)
        blurred = cv2.GaussianBlur(p, (0, 0), sigma)
        chain.set(np.clip(p + a.sharpen_amount * (p - blurred), 0, 1))
    if a.invert:
        chain.map(lambda p: 1 - p)
    if a.isolate_subject:
        if rgb is None:
            linear = SRGB_CODE_TO_LINEAR[luminance] if luminance.dtype == np.uint8 else luminance
            rgb = np.repeat(linear[..., None], 3, axis=2)
        chain.set(np.maximum(chain.values(), 1 - subject_mask(rgb)))
    return chain.finish(then)


def subject_mask(rgb_linear: np.ndarray) -> np.ndarray:
    """A soft 0–1 mask of the main subject (pets, people): GrabCut seeded by a centred rectangle.

    Classical and offline: the border is taken as background, the centre as probable subject; the result is
    cleaned morphologically, the largest component kept, and the edge feathered.
    """
    h, w = rgb_linear.shape[:2]
    scale = min(1.0, 400 / max(h, w))
    small = cv2.resize(rgb_linear, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    bgr = np.ascontiguousarray((linear_to_srgb(small)[..., ::-1] * 255).astype(np.uint8))
    sh, sw = bgr.shape[:2]
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    rect = (max(1, sw // 10), max(1, sh // 20), sw - 2 * max(1, sw // 10), sh - max(1, sh // 20) - 1)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(bgr, mask, rect, bgd, fgd, 8, cv2.GC_INIT_WITH_RECT)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
    if count > 1:
        # Keep every sizeable part (a head may come apart from the body), drop specks.
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = 1 + np.flatnonzero(areas >= 0.05 * areas.max())
        fg = np.isin(labels, keep).astype(np.uint8)
    # Bridge narrow gaps (a dark collar between head and body) and fill holes enclosed by the subject.
    size = max(5, round(0.06 * max(sh, sw))) | 1
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    outside = np.zeros((sh + 2, sw + 2), np.uint8)
    background = fg.copy()
    cv2.floodFill(background, outside, (0, 0), 1)
    fg = fg | (1 - background)
    soft = cv2.GaussianBlur(fg.astype(np.float32), (0, 0), 1.5)
    return np.clip(cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)
