"""The local jewellery analyser: what a set of reference images shows, in the words of `vocabulary`.

Reached through the package: ``from intaglio.imaging.jewellery import analyse_references``.

Pure module (numpy, OpenCV, Pillow). Every image is decoded small (long edge `ANALYSIS_EDGE`) and read in five steps:

1. **Backdrop model.** The frame's border is taken as backdrop: a smooth quadratic surface fitted to it in CIE Lab
   (plain sweeps, vignettes) and a handful of colour clusters (textured surfaces, skin that enters from an edge). A
   pixel's distance to the nearer of the two is its foreground evidence; a threshold set from how far the border
   itself strays from the model, minus shadow-like pixels (only darker, same colour, smooth), closed and cleaned,
   gives the piece mask. Holes are filled only when they are small or do not look like backdrop, so the hole of a
   ring stays a hole. A printed caption in the top or bottom band (a catalogue's reference number) is left out.
2. **Shot.** A sketch is near grey-scale, mostly white, with thin dark strokes and no broad dark areas, and its
   outline is inked darker than what it encloses (a photographed piece fades into the backdrop at its rim); on_model
   has a large smooth skin-coloured region; lifestyle has a textured, dark or coloured backdrop; a CAD render has a
   plain backdrop and no sensor noise (on the backdrop nor on the piece); a packshot has a plain light backdrop and
   camera noise.
3. **Metal.** Lab over the metal pixels (mask, minus stones, highlights and deep shadows), white-balanced against a
   light neutral backdrop: each pixel is white (chroma low), yellow (hue above ~62°) or rose (hue below); the
   shares decide, and two substantial, spatially coherent shares make "mixed".
4. **Stones.** Coloured: compact blobs inside the mask that are far more saturated than the metal, or of another
   hue; named from their HSV hue, counted, their cut guessed from the blob's shape. Colourless: compact neutral
   blobs with a strong bright/dark facet pattern (conservative, and less sure on white metal).
5. **Type.** Shape of the mask: two similar separate parts (earrings); a long thin curve across the frame
   (necklace: a curve that fills little of its hull, or a chain laid straight), with a compact bulk hanging from it
   (pendant); one big hole (ring or bracelet, told apart by band thickness for the piece's size, size in the frame
   and a set stone on top); else a compact piece (brooch). These measurements and the rules' per-type scores are
   then read by a small learned model (`type_model`: multinomial logistic regression, trained by
   bench/jewellery_train.py on the real development photos and the tuning seeds of the synthetic set), whose most
   probable type and its probability are the answer.

Weak evidence gives "unknown" or a low confidence. The rules' thresholds were tuned on synthetic sets (seeds 1 and 3
of bench/jewellery_set.py; other seeds are held out for reporting). Their raw confidences are then calibrated on real
product photos (`CALIBRATION`, fitted on the development part of bench/jewellery_real_set.py's set, the other part
held out): an answer reaches the confident level (`CONFIDENT`, 0.5) only where the calibrated probability of being
right reaches `SURE` (0.9); below it the studio shows "not sure" and asks the user to choose. A grey-scale sketch
never names a metal. The finish is only ever a suggestion (confidence below 0.5).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from intaglio.imaging.jewellery import type_model
from intaglio.imaging.jewellery.vocabulary import (
    FINISHES,
    METALS,
    PIECE_TYPES,
    SHOT_TYPES,
    STONE_COLOURS,
    STONE_CUTS,
    UNKNOWN,
)
from intaglio.imaging.memory import ImageMemoryRefused, decode_memory_bytes, reserve_image_memory

__all__ = [
    "ANALYSIS_EDGE",
    "Scene",
    "analyse_image",
    "analyse_references",
    "analyse_scene",
    "calibrate",
    "combine",
    "decode_image",
    "read_scene",
    "right_probability",
    "stone_mask",
]

#: Long edge, in pixels, at which images are analysed.
ANALYSIS_EDGE = 640
MAX_STONE_GROUPS = 6
CONFIDENT = 0.5

cv2.setNumThreads(1)


# --------------------------------------------------------------------------------------------------------- decoding


def decode_image(data: bytes, long_edge: int | None = ANALYSIS_EDGE) -> np.ndarray:
    """uint8 RGB of encoded bytes, downscaled (area) so the long edge is at most `long_edge` (None: full size).

    JPEGs are decoded at a reduced DCT scale first (Pillow's draft mode), so a 12 MP photo costs little. Alpha is
    composited over white. Raises ValueError when the bytes are not an image.

    Parameters
    ----------
    data : bytes
        An encoded image (any format Pillow reads; normally an ingested JPEG or PNG).
    long_edge : int or None, optional
        Largest size of the longer side in pixels (default `ANALYSIS_EDGE`); never upscaled. None keeps the full
        size.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (H, W, 3), C-contiguous.

    Raises
    ------
    ValueError
        If `data` is not a readable image.
    ImageMemoryRefused
        If decoding it would need more than the process's image memory budget (``imaging.memory``).
    """
    draft = ("RGB", (long_edge, long_edge)) if long_edge else None
    try:
        # Priced from the header and held from the process's image budget: the decode, the RGBA and white
        # images of a transparent one, the RGB image and its array.
        needed = decode_memory_bytes(data, into=["RGBA", "RGBA", "RGB", "uint8x3"], draft=draft)
    except ImageMemoryRefused:
        raise
    except Exception as exc:  # Pillow raises many types for bad input
        raise ValueError(f"not a readable image: {exc}") from exc
    with reserve_image_memory(needed):
        try:
            im = Image.open(io.BytesIO(data))
            if draft and im.format == "JPEG":
                im.draft(*draft)
            im.load()
        except Exception as exc:  # Pillow raises many types for bad input
            raise ValueError(f"not a readable image: {exc}") from exc
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, im)
        rgb = np.asarray(im.convert("RGB"))
        del im
        return downscale(rgb, long_edge) if long_edge else np.ascontiguousarray(rgb)


def downscale(rgb: np.ndarray, long_edge: int) -> np.ndarray:
    """`rgb` resized (area interpolation) so its long edge is at most `long_edge`; never upscaled.

    Parameters
    ----------
    rgb : numpy.ndarray
        Image of shape (H, W) or (H, W, C).
    long_edge : int
        Largest size of the longer side, in pixels.

    Returns
    -------
    numpy.ndarray
        The resized image, or `rgb` itself (made C-contiguous) when it is already small enough.
    """
    h, w = rgb.shape[:2]
    scale = long_edge / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """float32 CIE Lab (L 0..100, a/b about -128..127) of uint8 sRGB.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 sRGB image of shape (H, W, 3).

    Returns
    -------
    numpy.ndarray
        float32 array of shape (H, W, 3): L, a, b (D65 white).
    """
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


# --------------------------------------------------------------------------------------------------------- helpers


def _kmeans(x: np.ndarray, k: int, iters: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(centres, labels): Lloyd's k-means with a deterministic farthest-point start."""
    centres = [np.median(x, axis=0)]
    d = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        centres.append(x[int(np.argmax(d))])
        d = np.minimum(d, np.sum((x - centres[-1]) ** 2, axis=1))
    c = np.array(centres, np.float32)
    labels = np.zeros(len(x), np.int32)
    for _ in range(iters):
        dist = ((x[:, None, :] - c[None]) ** 2).sum(-1)
        labels = np.argmin(dist, axis=1)
        for j in range(k):
            members = x[labels == j]
            if len(members):
                c[j] = members.mean(0)
    return c, labels


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(x, -60.0), 60.0)))


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _disk(r: int) -> np.ndarray:
    r = max(1, int(r))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _robust_sigma(v: np.ndarray) -> float:
    if v.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def _guess(value: str, confidence: float) -> dict:
    return {"value": value, "confidence": round(_clip01(confidence), 3)}


# --------------------------------------------------------------------------------------------------------- backdrop


@dataclass
class Backdrop:
    """The backdrop model of one image (step 1 of the module docstring), kept in `Scene.backdrop`."""

    surface: np.ndarray  # (H, W, 3) Lab of the fitted plain backdrop
    centres: np.ndarray  # (k, 3) Lab of the border's colour clusters
    distance: np.ndarray  # (H, W) Lab distance to the nearer model (L weighted less when darker)
    threshold: float
    border_mask: np.ndarray  # bool (H, W)
    lab_median: np.ndarray  # (3,) border median Lab
    noise: float  # robust sigma of the border's pixel-scale residual, L units
    texture: float  # robust sigma of the border's band-pass (blotches, grain, weave), L units
    surface_fit: float  # robust sigma of the border's residual to the surface


def _border(h: int, w: int) -> np.ndarray:
    t = max(3, round(0.035 * min(h, w)))
    m = np.zeros((h, w), bool)
    m[:t] = m[-t:] = True
    m[:, :t] = m[:, -t:] = True
    return m


def _poly_terms(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], 1)


def _backdrop(lab: np.ndarray) -> Backdrop:
    h, w = lab.shape[:2]
    border = _border(h, w)
    ys, xs = np.nonzero(border)
    step = max(1, len(ys) // 6000)
    ys, xs = ys[::step], xs[::step]
    samples = lab[ys, xs].astype(np.float32)
    nx, ny = xs / w - 0.5, ys / h - 0.5
    terms = _poly_terms(nx, ny)
    keep = np.ones(len(samples), bool)
    coef = np.zeros((6, 3), np.float32)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(terms[keep], samples[keep], rcond=None)
        resid = np.linalg.norm(samples - terms @ coef, axis=1)
        cut = max(3.0, 2.5 * float(np.median(resid[keep])) * 1.4826)
        keep = resid < cut
        if keep.sum() < 50:
            keep = np.ones(len(samples), bool)
            break
    gx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :, None]
    gy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None, None]
    c = coef.astype(np.float32)
    surface = c[0] + c[1] * gx + c[2] * gy + c[3] * gx * gx + c[4] * gx * gy + c[5] * gy * gy
    surface_fit = _robust_sigma(np.linalg.norm(samples - terms @ coef, axis=1))

    centres, labels = _kmeans(samples, 6)
    shares = np.bincount(labels, minlength=len(centres)) / len(labels)
    centres = centres[shares >= 0.03]

    def dist_to(ref: np.ndarray) -> np.ndarray:
        diff = lab - ref
        dl = diff[..., 0]
        dl = np.where(dl < 0, dl * 0.6, dl)  # darker than the backdrop counts less: shadows, vignettes
        return np.sqrt(dl * dl + diff[..., 1] ** 2 + diff[..., 2] ** 2)

    d_surface = dist_to(surface)
    d_cluster = np.full((h, w), np.inf, np.float32)
    for c in centres:
        d_cluster = np.minimum(d_cluster, dist_to(c.reshape(1, 1, 3)))
    distance = np.minimum(d_surface, d_cluster).astype(np.float32)

    L = lab[..., 0]
    fine = L - cv2.GaussianBlur(L, (0, 0), 1.0)
    band = cv2.GaussianBlur(L, (0, 0), 1.5) - cv2.GaussianBlur(L, (0, 0), 8.0)
    noise = _robust_sigma(fine[border])
    texture = _robust_sigma(band[border])
    bd = distance[border]
    threshold = float(max(7.0, np.percentile(bd, 99.0) * 1.3 + 2.0))
    return Backdrop(
        surface=surface,
        centres=centres,
        distance=distance,
        threshold=threshold,
        border_mask=border,
        lab_median=np.median(samples, axis=0),
        noise=noise,
        texture=texture,
        surface_fit=surface_fit,
    )


def _fill_small_holes(mask: np.ndarray, distance: np.ndarray, threshold: float, max_area: float) -> np.ndarray:
    """Fills holes that are small, narrow (slivers between two outline strokes, chain links) or not backdrop-like;
    a ring's hole (wide, backdrop) stays open."""
    inv = (~mask).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    h, w = mask.shape
    narrow = 0.015 * min(h, w)
    out = mask.copy()
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if x == 0 or y == 0 or x + bw >= w or y + bh >= h:
            continue  # touches the frame: outside
        region = lab[y : y + bh, x : x + bw] == i
        fill = area <= max_area or float(np.median(distance[y : y + bh, x : x + bw][region])) > threshold * 0.7
        if not fill:
            inscribed = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 3).max()
            fill = inscribed < narrow
        if fill:
            out[y : y + bh, x : x + bw] |= region
    return out


def _colour_groups(centres: np.ndarray, within: float) -> np.ndarray:
    """Group index of each colour centre, joining centres closer than `within` (single linkage)."""
    n = len(centres)
    group = np.arange(n)
    for i in range(n):
        for j in range(i + 1, n):
            if np.linalg.norm(centres[i] - centres[j]) < within:
                group[group == group[j]] = group[i]
    _, compact = np.unique(group, return_inverse=True)
    return compact.reshape(-1)


def _seam_fraction(comp: np.ndarray, presence: list[np.ndarray]) -> float:
    """Share of a component's pixels that have two different backdrop colours around them (an anti-aliased edge
    between, say, skin and wall), rather than one (a chain lying on one surface)."""
    count = np.zeros(comp.shape, np.uint8)
    for p in presence:
        count += p
    return float((count[comp] >= 2).mean())


def _peel_shadow(mask: np.ndarray, lab: np.ndarray, bd: Backdrop) -> np.ndarray:
    """Peels off the mask's rim what is only a darker, smooth, same-coloured backdrop (a contact shadow that the
    closing glued to the piece), working inwards from outside for at most ~1.5 % of the frame."""
    L = lab[..., 0]
    diff = lab - bd.surface
    shift = np.hypot(diff[..., 1], diff[..., 2])
    mean = cv2.blur(L, (3, 3))
    std = np.sqrt(np.maximum(cv2.blur(L * L, (3, 3)) - mean * mean, 0))
    shadowish = mask & (diff[..., 0] < -1.5) & (shift < 4 + 2 * bd.noise) & (std < 1.2 + 2 * bd.noise)
    if not shadowish.any():
        return mask
    kernel = np.ones((3, 3), np.uint8)
    front = cv2.dilate((~mask).astype(np.uint8), kernel).astype(bool) & shadowish
    for _ in range(max(2, round(0.015 * min(mask.shape)))):
        grown = cv2.dilate(front.astype(np.uint8), kernel).astype(bool) & shadowish
        if (grown == front).all():
            break
        front = grown
    return mask & ~front


def _segment(lab: np.ndarray, bd: Backdrop) -> np.ndarray:
    h, w = lab.shape[:2]
    L = lab[..., 0]
    fg = bd.distance > bd.threshold
    # fine lines (chains a pixel or two wide) are blended with the backdrop: accept them at a lower distance when
    # they stand out as thin dark or bright lines
    lines = np.maximum(
        cv2.morphologyEx(L, cv2.MORPH_BLACKHAT, _disk(2)), cv2.morphologyEx(L, cv2.MORPH_TOPHAT, _disk(2))
    )
    fg |= (bd.distance > bd.threshold * 0.45) & (lines > max(5.0, 6.0 * bd.noise))
    # shadows: only darker than the backdrop, same colour, smooth
    diff = lab - bd.surface
    chroma_shift = np.hypot(diff[..., 1], diff[..., 2])
    grad = cv2.morphologyEx(L, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    grad = cv2.GaussianBlur(grad, (0, 0), 1.5)
    smooth = grad < max(4.0, 4.0 * bd.noise + 2.0)
    shadow = (diff[..., 0] < 0) & (chroma_shift < max(5.0, bd.threshold * 0.5)) & smooth
    fg &= ~shadow
    k = max(1, round(min(h, w) / 220))
    if bd.noise > 2.5:
        fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, _disk(1)) > 0
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_CLOSE, _disk(k)) > 0
    fg = _peel_shadow(fg, lab, bd)
    fg = _fill_small_holes(fg, bd.distance, bd.threshold, max_area=0.0015 * h * w)
    presence = None
    groups = _colour_groups(bd.centres, 15.0)
    if groups.max() >= 1:
        # anti-aliased seams between two distinct backdrop colours (skin against a wall) are thin and have both
        # colours around them; a chain lying on one surface has one
        near = groups[np.argmin(np.stack([np.sum((lab - c) ** 2, axis=2) for c in bd.centres]), axis=0)]
        back = ~fg
        presence = [
            cv2.dilate(((near == j) & back).astype(np.uint8), np.ones((7, 7), np.uint8))
            for j in range(int(groups.max()) + 1)
        ]
        count = np.sum(presence, axis=0)
        thin = fg & ~cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, _disk(2)).astype(bool)
        fg &= ~(thin & (count >= 2))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if n <= 1:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    longs = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    keep_min = max(0.0004 * h * w, 0.02 * areas.max())
    keep = np.zeros(n, bool)
    keep[1:] = (areas >= keep_min) | ((longs >= 0.12 * max(h, w)) & (areas >= 0.00005 * h * w))
    # what is left of a seam: thin, long components with two backdrop colours around them
    if presence is not None:
        for i in np.nonzero(keep)[0]:
            width = areas[i - 1] / max(longs[i - 1], 1)
            if width <= 4 and _seam_fraction(labels == i, presence) > 0.6:
                keep[i] = False
    return keep[labels]


# ------------------------------------------------------------------------------------------------------------ scene


@dataclass
class Scene:
    """What one image's analysis found, kept for the packshot renderer and the tests.

    All arrays are at the analysed size (long edge at most `ANALYSIS_EDGE`).

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 (H, W, 3): the image as analysed.
    lab : numpy.ndarray
        float32 (H, W, 3): its CIE Lab (see `to_lab`).
    mask : numpy.ndarray
        bool (H, W): the piece.
    backdrop : Backdrop
        The backdrop model the mask was cut against.
    shot : str
        One of `SHOT_TYPES`.
    shot_confidence : float
        Confidence of `shot`, 0..1.
    metal_pixels : numpy.ndarray
        bool (H, W): the pixels the metal is read from.
    stones : numpy.ndarray
        bool (H, W): pixels of stones found (coloured and colourless).
    features : dict
        Measurements taken on the way (keys starting with ``_`` hold arrays and are internal).
    """

    rgb: np.ndarray
    lab: np.ndarray
    mask: np.ndarray  # bool: the piece
    backdrop: Backdrop
    shot: str
    shot_confidence: float
    metal_pixels: np.ndarray  # bool
    stones: np.ndarray  # bool: pixels of stones found (coloured and colourless)
    features: dict


def _drop_captions(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """(mask, lines dropped): the mask without lines of printed text in the top or bottom band of the frame.

    Catalogue photos often carry a caption (a category, a reference number) in a corner. A text line is a short,
    flat group of parts: its height at most 4 % of the frame's, inside the outer 12 % band, clear of the piece (the
    largest part) and much smaller than it. Left in, a caption reads as a second part (earrings), stretches the
    piece across the frame (necklace) and adds grey "metal"."""
    h, w = mask.shape
    # letters of one line are joined first, so a line is one part
    line_k = max(3, round(0.012 * w)) | 1
    joined = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((1, line_k), np.uint8))
    comps = _components(joined.astype(bool))
    if len(comps) < 2:
        return mask, 0
    main = comps[0]
    mx, my, mw, mh = main["bbox"]
    band = 0.12 * h
    keep = mask.copy()
    dropped = 0
    for c in comps[1:]:
        x, y, bw, bh = c["bbox"]
        in_band = y >= h - band or y + bh <= band
        flat = bh <= 0.04 * h and bw >= 1.5 * bh
        clear = y >= my + mh + 2 or y + bh <= my - 2
        if in_band and flat and clear and c["area"] < 0.25 * main["area"]:
            keep &= ~c["mask"]
            dropped += 1
    return keep, dropped


def read_scene(rgb: np.ndarray) -> Scene:
    """Segments and measures one image (downscaled to `ANALYSIS_EDGE` first).

    Steps 1 and 2 of the module docstring, plus the split of the piece into metal and stone pixels; no
    attribute is named yet (`analyse_image` does that).

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 image of shape (H, W, 3) or (H, W, 4); a fourth channel is ignored.

    Returns
    -------
    Scene
        The piece's mask, backdrop model, shot and metal/stone pixels.
    """
    rgb = downscale(np.ascontiguousarray(rgb[..., :3]), ANALYSIS_EDGE)
    lab = to_lab(rgb)
    bd = _backdrop(lab)
    mask = _segment(lab, bd)
    mask, captions = _drop_captions(mask)
    feats: dict = {"mask_frac": float(mask.mean()), "captions": captions}
    shot, shot_conf = _shot(rgb, lab, mask, bd, feats)
    wb = _white_balance(bd, shot)
    if not wb.any():  # coloured surroundings tint white metal: allow some chroma for it
        feats["tint_allowance"] = 0.25 * min(float(np.hypot(bd.lab_median[1], bd.lab_median[2])), 30.0)
    metal_pixels, stones = _metal_and_stones(lab, mask, wb, feats)
    return Scene(rgb, lab, mask, bd, shot, shot_conf, metal_pixels, stones, feats)


# ------------------------------------------------------------------------------------------------------------- shot


def _skin_fraction(lab: np.ndarray, mask: np.ndarray) -> float:
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a))
    skin = (L > 22) & (L < 92) & (chroma > 9) & (chroma < 42) & (hue > 40) & (hue < 72) & (a > 4)
    # skin is smooth: no wood grain or weave
    Lb = cv2.GaussianBlur(L, (0, 0), 1.2)
    local = cv2.GaussianBlur(np.abs(Lb - cv2.GaussianBlur(L, (0, 0), 5.0)), (0, 0), 4.0)
    skin &= local < 2.2
    skin &= ~cv2.dilate(mask.astype(np.uint8), _disk(3)).astype(bool)
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, _disk(2)) > 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(skin.astype(np.uint8), connectivity=8)
    if n <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max() / skin.size)


def _backdrop_noise(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Robust sigma (8-bit code values) of the pixel-scale residual over the backdrop away from the piece; clipped
    whites and edges left out. In code values, 8-bit quantisation alone is ~0.3 at any brightness."""
    g = rgb.astype(np.float32).mean(axis=2)
    away = ~cv2.dilate(mask.astype(np.uint8), _disk(4)).astype(bool)
    fine = g - cv2.GaussianBlur(g, (0, 0), 1.0)
    grad = cv2.morphologyEx(cv2.GaussianBlur(g, (0, 0), 1.0), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    sel = away & (g < 253.5) & (grad < 6.0)
    if sel.sum() < 500:
        sel = away
    v = fine[sel]
    step = max(1, v.size // 40000)
    return _robust_sigma(v[::step])


def _cast_shadow(lab: np.ndarray, mask: np.ndarray, bd: Backdrop) -> float:
    """Median L difference to the backdrop model in a ring around the piece (negative: a shadow)."""
    m = mask.astype(np.uint8)
    ring = cv2.dilate(m, _disk(12)).astype(bool) & ~cv2.dilate(m, _disk(3)).astype(bool)
    if ring.sum() < 50:
        return 0.0
    return float(np.median((lab[..., 0] - bd.surface[..., 0])[ring]))


def _outline_ink(L: np.ndarray, mask: np.ndarray) -> float | None:
    """How much darker the piece's outline (its outermost pixels) is than its inside, in L; None for a piece too thin
    to have an inside (a fine chain is all outline)."""
    m = mask.astype(np.uint8)
    inner = cv2.erode(m, np.ones((7, 7), np.uint8)).astype(bool)
    if inner.sum() < 30:
        return None
    edge = mask & ~cv2.erode(m, np.ones((3, 3), np.uint8)).astype(bool)
    return float(np.median(L[inner]) - np.median(L[edge]))


def _shot(rgb: np.ndarray, lab: np.ndarray, mask: np.ndarray, bd: Backdrop, feats: dict) -> tuple[str, float]:
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    colour_frac = float((chroma > 10).mean())
    vivid_frac = float((chroma > 15).mean())
    white_frac = float((L > 85).mean())
    bL = float(bd.lab_median[0])
    bC = float(np.hypot(bd.lab_median[1], bd.lab_median[2]))
    skin = _skin_fraction(lab, mask)
    noise = _backdrop_noise(rgb, mask)
    shadow = _cast_shadow(lab, mask, bd)
    feats.update(
        colour_frac=colour_frac,
        vivid_frac=vivid_frac,
        white_frac=white_frac,
        back_L=bL,
        back_C=bC,
        border_noise=bd.noise,
        noise=noise,
        texture=bd.texture,
        skin=skin,
        shadow=shadow,
    )
    # sketch: grey-scale paper with strokes; no colour at all, no cast shadow
    grey = _sigmoid((0.0004 - vivid_frac) / 0.00015) * _sigmoid((0.004 - colour_frac) / 0.0015)
    paper = _sigmoid((white_frac - 0.55) / 0.08) * _sigmoid((bL - 88) / 2.5)
    ink = _outline_ink(lab[..., 0], mask)
    feats["outline_ink"] = ink
    p_sketch = grey * paper * _sigmoid((shadow + 1.2) / 0.35)
    if ink is not None:
        # a drawing is outlined in ink, darker than what it encloses; a photographed piece, white metal on white
        # included, fades into the light backdrop at its rim
        p_sketch *= _sigmoid((ink - 5.0) / 1.5)
    textured = _sigmoid((bd.texture - 0.4) / 0.08)
    dark_or_coloured = max(_sigmoid((55 - bL) / 5), _sigmoid((bC - 16) / 3))
    clean = _sigmoid((0.37 - noise) / 0.025)
    rest = 1 - p_sketch
    # on model: a large smooth skin-coloured region (wood grain and weave are not skin)
    p_model = rest * _sigmoid((skin - 0.06) / 0.015) * (1 - textured)
    rest *= 1 - p_model / max(rest, 1e-9)
    # CAD render: no sensor noise on a smooth backdrop, whatever its tone
    p_cad = rest * clean * (1 - textured)
    rest -= p_cad
    # lifestyle: textured, dark or coloured surroundings; packshot: the plain light rest
    p_life = rest * max(textured, dark_or_coloured)
    p_pack = rest - p_life
    scores = {"sketch": p_sketch, "on_model": p_model, "cad_render": p_cad, "lifestyle": p_life, "packshot": p_pack}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, s1), (_, s2) = ranked[0], ranked[1]
    conf = _clip01(0.2 + 0.8 * (s1 - s2))
    frac = float(mask.mean())
    if frac < 0.0008 or frac > 0.6:
        conf *= 0.35  # no piece to be seen: whatever this is, it is not a shot of jewellery we can vouch for
    if noise > 12:
        conf *= 0.5  # far noisier than any camera: not a photograph we understand
    feats["shot_scores"] = {k: round(v, 3) for k, v in scores.items()}
    return best, conf


# ------------------------------------------------------------------------------------------------- metal and stones


def _white_balance(bd: Backdrop, shot: str) -> np.ndarray:
    """(a, b) offset that makes a light, nearly neutral backdrop neutral; zero for coloured surroundings."""
    L, a, b = (float(v) for v in bd.lab_median)
    if shot in ("packshot", "cad_render", "sketch") and L > 65 and math.hypot(a, b) < 12:
        return np.array([a, b], np.float32)
    return np.zeros(2, np.float32)


# Lab hue (degrees) that splits yellow gold (~80°) from rose gold (~45°), and the chroma below which metal is white.
ROSE_YELLOW_HUE = 63.0
# Chroma above VIVID_SLOPE * L + 6 is more saturated than polished gold gets: a stone (or enamel).
VIVID_SLOPE = 0.8
WHITE_CHROMA = 7.0
COLOURED_CHROMA = 10.0
# Red gold and copper, the reddest alloys in jewellery, photograph at about 35–50° in Lab hue even in their shadows: a
# surface redder than 28° is enamel, glitter, a stone or lacquer, not metal.
REDDEST_ALLOY_HUE = 28.0
# Lightness from which a white pixel on a coloured alloy is a specular highlight (the light's reflection).
SPECULAR_L = 90.0


def _metal_classes(a: np.ndarray, b: np.ndarray, L: np.ndarray, allowance: float = 0.0) -> np.ndarray:
    """Per pixel: 0 white, 1 yellow, 2 rose, -1 undecided. `allowance` widens "white" by the chroma white metal
    picks up from coloured surroundings."""
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a))
    white_cut = WHITE_CHROMA * np.clip(L / 60.0, 0.6, 1.2) + allowance
    cls = np.full(a.shape, -1, np.int8)
    cls[chroma < white_cut] = 0
    saturated = chroma > COLOURED_CHROMA * np.clip(L / 60.0, 0.7, 1.2) + allowance * 1.3
    coloured = saturated & (hue > REDDEST_ALLOY_HUE) & (hue < 110)
    cls[coloured & (hue >= ROSE_YELLOW_HUE)] = 1
    cls[coloured & (hue < ROSE_YELLOW_HUE)] = 2
    return cls


def _metal_and_stones(lab: np.ndarray, mask: np.ndarray, wb: np.ndarray, feats: dict) -> tuple[np.ndarray, np.ndarray]:
    h, w = mask.shape
    L = lab[..., 0]
    a = lab[..., 1] - wb[0]
    b = lab[..., 2] - wb[1]
    chroma = np.hypot(a, b)
    inner = cv2.erode(mask.astype(np.uint8), _disk(1)).astype(bool)
    if inner.sum() < 30:
        inner = mask
    hue = np.degrees(np.arctan2(b, a))
    region = cv2.dilate(mask.astype(np.uint8), _disk(1)).astype(bool)
    # coloured stones: more saturated than any metal is at that lightness (gold's chroma stays below ~0.7 L), or
    # of a hue no alloy has (pink, purple, blue, green)
    vivid = (chroma > 20) & (chroma > VIVID_SLOPE * L + 6)
    off_hue = (chroma > 20) & ((hue < 15) | (hue > 110))
    cand = (vivid | off_hue) & region
    coloured_blobs = _blobs(cand, min_area=max(12, 0.00008 * h * w), close=1)
    coloured_any = np.zeros((h, w), bool)
    for blob in coloured_blobs:
        coloured_any |= blob
    cls = _metal_classes(a, b, L)
    body = inner & ~coloured_any & (L > 30) & (L < 93)
    counts = np.bincount(cls[body & (cls >= 0)].astype(np.int64), minlength=3)
    feats["metal_hue"] = (
        float(np.median(hue[body & (cls >= 1)])) if counts[1] + counts[2] > max(20, counts[0] * 0.5) else None
    )

    # colourless: neutral, compact, with a strong bright/dark facet pattern. On coloured metal every neutral pixel
    # is a candidate (whole facets); on white metal only the sparkle (the groups step asks more of those).
    Lmax = cv2.dilate(L, np.ones((5, 5), np.uint8))
    Lmin = cv2.erode(L, np.ones((5, 5), np.uint8))
    sparkle = ((Lmax - Lmin) > 38) & (chroma < 9) & inner & ~coloured_any
    if feats["metal_hue"] is not None:
        sparkle &= (cls != 1) & (cls != 2)
    feats["_sparkle"] = sparkle
    # facets come in clusters: keep where the sparkle is dense, as compact blobs
    density = cv2.blur(sparkle.astype(np.float32), (7, 7))
    dense = (density > 0.4) & inner & ~coloured_any
    dense = cv2.morphologyEx(dense.astype(np.uint8), cv2.MORPH_OPEN, _disk(1)).astype(bool)
    colourless_blobs = _blobs(dense, min_area=max(15, 0.0001 * h * w), close=3)

    stones = np.zeros((h, w), bool)
    for blob in coloured_blobs + colourless_blobs:
        stones |= blob
    # metal colour is read in the mid-tones: highlights wash out to white on any alloy, deep shadows lose chroma,
    # and dense sparkle is (undetected) stones
    # away from the outline too, where the piece blends into the backdrop and its contact shadow
    core = cv2.erode(mask.astype(np.uint8), _disk(max(2, round(0.006 * min(h, w))))).astype(bool)
    if core.sum() < 0.3 * inner.sum():
        core = inner
    metal_pixels = core & ~cv2.dilate(coloured_any.astype(np.uint8), _disk(1)).astype(bool) & (L > 30) & (L < 92)
    # compact blobs of dense neutral sparkle are most likely stones: leave them out unless that leaves little
    sparkly = np.zeros((h, w), bool)
    for blob in colourless_blobs:
        if _compact(blob) and blob.sum() < 0.3 * mask.sum():
            sparkly |= blob
    without = metal_pixels & ~cv2.dilate(sparkly.astype(np.uint8), _disk(2)).astype(bool)
    if without.sum() >= 0.5 * metal_pixels.sum():
        metal_pixels = without
    feats["thin_metal"] = core is inner
    feats["_coloured_blobs"] = coloured_blobs
    feats["_colourless_blobs"] = colourless_blobs
    feats["_ab"] = (a, b)
    return metal_pixels, stones


def _bbox(blob: np.ndarray, pad: int = 3) -> tuple[slice, slice]:
    """The slices of a blob's bounding box grown by `pad` (shape work runs on that crop, not the frame)."""
    rows = np.flatnonzero(blob.any(axis=1))
    cols = np.flatnonzero(blob.any(axis=0))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    h, w = blob.shape
    return (
        slice(max(0, rows[0] - pad), min(h, rows[-1] + pad + 1)),
        slice(max(0, cols[0] - pad), min(w, cols[-1] + pad + 1)),
    )


def _shape(blob: np.ndarray) -> tuple[float, float]:
    """(elongation, solidity) of a blob's largest outline: long thin streaks and ragged shapes are not stones."""
    crop = blob[_bbox(blob)]
    contours, _ = cv2.findContours(crop.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    c = max(contours, key=cv2.contourArea)
    (_, _), (rw, rh), _ = cv2.minAreaRect(c)
    elong = max(rw, rh) / max(min(rw, rh), 1.0)
    solidity = float(crop.sum()) / max(cv2.contourArea(cv2.convexHull(c)), 1.0)
    return elong, solidity


def _compact(blob: np.ndarray) -> bool:
    """Stone-shaped: not a streak along a band."""
    elong, solidity = _shape(blob)
    return elong <= 2.5 and solidity >= 0.5


def _blobs(cand: np.ndarray, *, min_area: float, close: int) -> list[np.ndarray]:
    m = cand.astype(np.uint8)
    if close:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, _disk(close))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    out = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        out.append(labels == i)
    return out


def stone_mask(rgb: np.ndarray, piece_mask: np.ndarray, *, metal: str = UNKNOWN) -> np.ndarray:
    """bool mask, at rgb's size, of the stones the analyser finds inside `piece_mask` (coloured blobs and
    colourless sparkle), plus every pixel too saturated for metal. `metal` (if known) relaxes the colourless test
    on coloured alloys, as in the analysis.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 RGB image of shape (H, W, 3), at any size (stones are found at `ANALYSIS_EDGE`, the saturation test
        runs at full size).
    piece_mask : numpy.ndarray
        bool (or 0/1) array of shape (H, W): the piece.
    metal : str, optional
        The piece's metal, one of `METALS`, or `UNKNOWN` (default).

    Returns
    -------
    numpy.ndarray
        bool array of shape (H, W), False outside `piece_mask`.
    """
    h, w = rgb.shape[:2]
    small = downscale(rgb, ANALYSIS_EDGE)
    sh, sw = small.shape[:2]
    pm = cv2.resize(piece_mask.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST).astype(bool)
    lab = to_lab(small)
    feats: dict = {"_rgb": small}
    _metal_and_stones(lab, pm, np.zeros(2, np.float32), feats)
    stones = np.zeros((sh, sw), bool)
    for group in _stone_groups(lab, pm, feats, metal=metal):
        stones |= group["_pixels"]
    if (sh, sw) != (h, w):
        stones = cv2.resize(stones.astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR) > 0
        stones = cv2.dilate(stones.astype(np.uint8), _disk(max(1, round(max(h, w) / max(sh, sw))))).astype(bool)
    full = to_lab(rgb)
    chroma = np.hypot(full[..., 1], full[..., 2])
    hue = np.degrees(np.arctan2(full[..., 2], full[..., 1]))
    vivid = (chroma > 20) & ((chroma > VIVID_SLOPE * full[..., 0] + 6) | (hue < 15) | (hue > 110))
    # A stone is a blob; a thin vivid line is the shaded rim of coloured metal and is metal (opening drops it).
    rim = max(1, round(max(h, w) / 400))
    vivid = cv2.morphologyEx(vivid.astype(np.uint8), cv2.MORPH_OPEN, _disk(rim)).astype(bool)
    return (stones | vivid) & piece_mask.astype(bool)


# ------------------------------------------------------------------------------------------------------------ metal


def _set_neutral_stones(cls: np.ndarray, sel: np.ndarray, mask: np.ndarray, sparkle: np.ndarray) -> np.ndarray:
    """Neutral regions set inside coloured metal that sparkle: colourless stones the stone step did not claim (a
    halo, a pavé head). A white alloy region of a two-tone piece reaches the piece's outline, or is smooth."""
    white = cv2.morphologyEx((sel & (cls == 0)).astype(np.uint8), cv2.MORPH_CLOSE, _disk(2))
    outline = mask & cv2.dilate((~mask).astype(np.uint8), _disk(3)).astype(bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(white, connectivity=8)
    out = np.zeros(mask.shape, bool)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < 20:
            continue
        x, y, w, h = stats[i, :4]
        sl = (slice(max(0, y - 4), y + h + 4), slice(max(0, x - 4), x + w + 4))
        comp = labels[sl] == i
        ring = cv2.dilate(comp.astype(np.uint8), _disk(3)).astype(bool) & ~comp
        touching = float((ring & (outline[sl] | ~mask[sl])).sum()) / max(1.0, float(ring.sum()))
        sparkly = float(sparkle[sl][comp].mean())
        if touching < 0.2 and sparkly > 0.25:
            out[sl] |= comp
    return out


def _metal(lab: np.ndarray, scene_mask: np.ndarray, metal_pixels: np.ndarray, feats: dict, shot: str) -> dict:
    if shot == "sketch":
        return _guess(UNKNOWN, 0.0)
    a, b = feats["_ab"]
    L = lab[..., 0]
    n = int(metal_pixels.sum())
    feats["metal_n"] = n
    if n < 80:
        return _guess(UNKNOWN, 0.05)
    cls = _metal_classes(a, b, L, feats.get("tint_allowance", 0.0))
    sel = metal_pixels & (cls >= 0)
    if (sel & (cls >= 1)).any():
        sel &= ~_set_neutral_stones(cls, sel, scene_mask, feats["_sparkle"])
    total = float(sel.sum())
    if total < 60:
        return _guess(UNKNOWN, 0.1)
    # a pixel counts for its class only where that class is the local majority: an alloy is a region, while
    # washed-out highlights, facets of small stones and edge pixels are speckle inside another alloy
    k = max(7, round(0.04 * min(L.shape)) | 1)
    near_all = cv2.blur(sel.astype(np.float32), (k, k))
    shares = np.zeros(3)
    for c in range(3):
        mc = sel & (cls == c)
        near = cv2.blur(mc.astype(np.float32), (k, k))
        shares[c] = float((mc & (near > 0.5 * near_all)).sum()) / total
    if int(np.argmax(shares)) >= 1:
        # on a coloured alloy, white pixels as light as a specular highlight mirror the light, not a white alloy
        shares[0] *= float((sel & (cls == 0) & (L < SPECULAR_L)).sum()) / max(1.0, float((sel & (cls == 0)).sum()))
    feats["metal_shares"] = [round(float(s), 3) for s in shares]
    names = ("white_metal", "yellow_gold", "rose_gold")
    order = np.argsort(-shares)
    first, second, third = int(order[0]), int(order[1]), int(order[2])
    # mixed: two substantial regional shares, or three alloys (tri-colour). A lesser white share on a gold piece is
    # as often its colourless stones and washed-out highlights: that is read as the gold, less surely (below).
    two_tone = shares[second] >= 0.3 or (shares[third] >= 0.12 and shares[second] + shares[third] >= 0.35)
    if shares[second] >= 0.15 and (two_tone or names[second] != "white_metal"):
        # undetected colourless stones on a coloured alloy look like a white region too: "mixed" is said softly
        conf = 0.35 + 0.6 * (shares[second] - 0.15)
        return _guess("mixed", min(conf, 0.7))
    shares = shares / max(shares.sum(), 1e-6)
    coverage = _clip01(total / max(1.0, float(scene_mask.sum())) / 0.25)
    if feats.get("thin_metal"):
        coverage *= 0.6  # only fine chain or wire: its pixels are half backdrop
    size = _clip01(math.log10(max(total, 1)) / 3.3)
    conf = 0.25 + 0.7 * (shares[first] - shares[second]) * coverage * size
    if shot in ("lifestyle", "on_model"):
        conf *= 0.9
    value = names[first]
    hue = feats.get("metal_hue")
    if value in ("yellow_gold", "rose_gold") and hue is not None:
        # pale yellow and rich rose gold meet near the split: a hue within a few degrees of it is a weak reading
        conf *= 0.55 + 0.45 * _clip01((abs(hue - ROSE_YELLOW_HUE) - 4.0) / 14.0)
    return _guess(value, conf) if conf >= 0.2 else _guess(UNKNOWN, conf)


# ------------------------------------------------------------------------------------------------------------ stones


def _stone_colour_name(rgb_median: np.ndarray) -> str:
    hsv = cv2.cvtColor(rgb_median.reshape(1, 1, 3).astype(np.float32) / 255, cv2.COLOR_RGB2HSV)[0, 0]
    hue, s, v = float(hsv[0]), float(hsv[1]), float(hsv[2])
    if v < 0.2:
        return "black"
    if hue >= 345 or hue < 12:
        return "pink" if (s < 0.62 and v > 0.6) else "red"
    if hue < 40:
        return "orange"
    if hue < 70:
        return "yellow"
    if hue < 170:
        return "green"
    if hue < 258:
        return "blue"
    if hue < 300:
        return "purple"
    return "pink"


def _cut(blob: np.ndarray) -> tuple[str, float]:
    area = float(blob.sum())
    if area < 120:
        return UNKNOWN, 0.0
    contours, _ = cv2.findContours(blob.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(contours, key=cv2.contourArea)
    if len(c) < 5:
        return UNKNOWN, 0.0
    hull = cv2.convexHull(c)
    solidity = area / max(cv2.contourArea(hull), 1.0)
    (_, _), (rw, rh), _ = cv2.minAreaRect(c)
    extent = area / max(rw * rh, 1.0)
    aspect = max(rw, rh) / max(min(rw, rh), 1.0)
    perim = cv2.arcLength(c, True)
    circularity = 4 * math.pi * area / max(perim * perim, 1.0)
    if solidity < 0.8:
        return UNKNOWN, 0.0
    if extent > 0.9:
        return ("princess" if aspect < 1.2 else "emerald"), 0.5
    if aspect < 1.18 and circularity > 0.78:
        return "round", 0.55
    if aspect >= 1.18:
        # pear: one end broader than the other along the long axis
        pts = c.reshape(-1, 2).astype(np.float32)
        mean = pts.mean(0)
        _, _, vt = np.linalg.svd(pts - mean, full_matrices=False)
        t = (pts - mean) @ vt[0]
        side = (pts - mean) @ vt[1]
        lo = np.ptp(side[t < np.percentile(t, 30)]) if (t < np.percentile(t, 30)).any() else 0
        hi = np.ptp(side[t > np.percentile(t, 70)]) if (t > np.percentile(t, 70)).any() else 0
        asym = abs(lo - hi) / max(lo, hi, 1.0)
        if asym > 0.3:
            return "pear", 0.45
        if aspect > 1.7 and extent < 0.72:
            return "marquise", 0.45
        return "oval", 0.45
    return UNKNOWN, 0.0


def _stone_groups(lab: np.ndarray, mask: np.ndarray, feats: dict, metal: str) -> list[dict]:
    L = lab[..., 0]
    h, w = mask.shape
    mask_area = max(1.0, float(mask.sum()))
    groups: dict[str, dict] = {}
    rgb = feats.get("_rgb")
    a, b = feats["_ab"]
    chroma = np.hypot(a, b)
    for blob in feats["_coloured_blobs"]:
        area = float(blob.sum())
        if area > 0.6 * mask_area and area > 400:
            continue  # a whole piece this saturated is metal or enamel, not a stone
        sl = _bbox(blob)
        sel = blob[sl] & (chroma[sl] > 22)
        if sel.sum() < 6:
            continue
        elong, solidity = _shape(blob)
        if elong > 4.0 or solidity < 0.5:
            continue  # streaks along a band are reflections, not stones
        med = np.median(rgb[sl][sel], axis=0) if rgb is not None else np.array([128, 128, 128])
        colour = _stone_colour_name(med)
        compact = _clip01((solidity - 0.5) / 0.4) * _clip01((4.0 - elong) / 2.5)
        conf = 0.35 + 0.45 * compact + 0.15 * _clip01(area / 300)
        g = groups.setdefault(
            colour, {"colour": colour, "blobs": [], "area": 0.0, "conf": 0.0, "_pixels": np.zeros((h, w), bool)}
        )
        g["blobs"].append(blob)
        g["area"] += area
        g["conf"] = max(g["conf"], conf)
        g["_pixels"] |= blob
    grad_L = cv2.morphologyEx(L, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    for blob in feats["_colourless_blobs"]:
        area = float(blob.sum())
        if area > 0.5 * mask_area:
            continue
        sl = _bbox(blob)
        elong, solidity = _shape(blob)
        filled = cv2.morphologyEx(blob[sl].astype(np.uint8), cv2.MORPH_CLOSE, _disk(2)).astype(bool)
        vals = L[sl][filled]
        bright = float((vals > 85).mean())
        darkf = float((vals < 40).mean())
        neutral = float((chroma[sl][filled] < 8).mean())
        edges = float((grad_L[sl][filled] > 18).mean())
        sparkly = float(feats["_sparkle"][sl][filled].mean())
        # polished white metal sparkles too: ask for more unless the piece is mostly a coloured alloy
        strict = metal == "white_metal" or (metal in ("mixed", UNKNOWN) and feats.get("metal_hue") is None)
        if strict:
            ok = elong <= 1.8 and solidity >= 0.75 and bright >= 0.12 and darkf >= 0.15 and sparkly >= 0.7
            ok = ok and edges >= 0.5 and neutral >= 0.8
        else:
            ok = elong <= 2.5 and solidity >= 0.6 and bright >= 0.1 and darkf >= 0.08 and sparkly >= 0.4
            ok = ok and neutral >= 0.7
        if not ok:
            continue
        conf = 0.3 + 0.3 * _clip01((solidity - 0.6) / 0.3) + 0.2 * _clip01(min(bright, darkf) / 0.25)
        if metal == "white_metal":
            conf *= 0.75
        g = groups.setdefault(
            "colourless",
            {"colour": "colourless", "blobs": [], "area": 0.0, "conf": 0.0, "_pixels": np.zeros((h, w), bool)},
        )
        g["blobs"].append(blob)
        g["area"] += area
        g["conf"] = max(g["conf"], conf)
        g["_pixels"] |= blob
    out = []
    for g in sorted(groups.values(), key=lambda g: -g["area"]):
        biggest = max(g["blobs"], key=lambda m: m.sum())
        cut, _ = _cut(biggest[_bbox(biggest)])
        if cut == UNKNOWN and len(g["blobs"]) >= 5:
            cut = "round"
        out.append(
            {
                "colour": g["colour"],
                "count": min(500, len(g["blobs"])),
                "cut": cut,
                "confidence": round(_clip01(g["conf"]), 3),
                "_pixels": g["_pixels"],
                "_area": g["area"],
            }
        )
    return out[:MAX_STONE_GROUPS]


# ------------------------------------------------------------------------------------------------------------- type


def _components(mask: np.ndarray) -> list[dict]:
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    comps = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        comps.append({"i": i, "area": float(area), "bbox": (x, y, bw, bh), "centroid": cents[i], "mask": labels == i})
    comps.sort(key=lambda c: -c["area"])
    return comps


def _holes(comp_mask: np.ndarray) -> tuple[float, float, float]:
    """(largest hole area, filled area, inscribed radius of that hole) of one component."""
    contours, hierarchy = cv2.findContours(comp_mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0.0, float(comp_mask.sum()), 0.0
    filled = 0.0
    hole = 0.0
    hole_c = None
    for c, hinfo in zip(contours, hierarchy[0], strict=False):
        area = cv2.contourArea(c)
        if hinfo[3] < 0:
            filled = max(filled, area)
        elif area > hole:
            hole, hole_c = area, c
    radius = 0.0
    if hole_c is not None:
        x, y, bw, bh = cv2.boundingRect(hole_c)
        canvas = np.zeros((bh + 2, bw + 2), np.uint8)
        cv2.drawContours(canvas, [hole_c - (x - 1, y - 1)], -1, 1, -1)
        radius = float(cv2.distanceTransform(canvas, cv2.DIST_L2, 3).max())
    return hole, max(filled, float(comp_mask.sum())), radius


def _open_disk(mask: np.ndarray, r: int) -> np.ndarray:
    """Opening by a disk of radius r; large radii run on a downscaled mask (cost grows with r²)."""
    if r <= 6:
        return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _disk(r)).astype(bool)
    f = 6.0 / r
    h, w = mask.shape
    small = cv2.resize(
        mask.astype(np.uint8) * 255, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
    )
    opened = cv2.morphologyEx((small > 127).astype(np.uint8), cv2.MORPH_OPEN, _disk(6))
    return (cv2.resize(opened * 255, (w, h), interpolation=cv2.INTER_LINEAR) > 127) & mask


def _ridge_widths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance transform, widths at ridge pixels): the local stroke width along the mask's medial lines."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    ridge = (dist > 0) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)) - 1e-3)
    return dist, 2 * dist[ridge]


def _type(mask: np.ndarray, stones: list[dict], feats: dict) -> dict:
    h, w = mask.shape
    short = min(h, w)
    comps = _components(mask)
    total = float(mask.sum())
    feats["n_comps"] = len(comps)
    if not comps or total < 0.0008 * h * w:
        return _guess(UNKNOWN, 0.05)
    if total > 0.6 * h * w:
        return _guess(UNKNOWN, 0.1)  # "the piece" fills the frame: the mask did not find one
    main = comps[0]
    scores: dict[str, float] = {}

    # earrings: two similar separate parts side by side
    scores["earrings"] = 0.0
    if len(comps) >= 2:
        c1, c2 = comps[0], comps[1]
        ratio = c2["area"] / c1["area"]
        share = (c1["area"] + c2["area"]) / total
        bw1, bh1 = c1["bbox"][2:]
        bw2, bh2 = c2["bbox"][2:]
        shape_sim = min(bw1, bw2) / max(bw1, bw2) * min(bh1, bh2) / max(bh1, bh2)
        dx = abs(c1["centroid"][0] - c2["centroid"][0])
        dy = abs(c1["centroid"][1] - c2["centroid"][1])
        side = _sigmoid((dx - dy * 1.2) / (0.05 * short))
        scores["earrings"] = (
            _clip01((ratio - 0.45) / 0.3) * _clip01((share - 0.6) / 0.25) * _clip01((shape_sim - 0.35) / 0.3) * side
        )
        feats.update(pair_ratio=ratio, pair_share=share, pair_sim=shape_sim)

    xs_all = np.nonzero(mask.any(0))[0]
    ys_all = np.nonzero(mask.any(1))[0]
    span = max((xs_all[-1] - xs_all[0]) / w, (ys_all[-1] - ys_all[0]) / h)
    dist, widths = _ridge_widths(mask)
    chain_w = float(np.percentile(widths, 30)) if widths.size else 1.0
    mean_w = float(np.median(widths)) if widths.size else 1.0
    # compact parts: what survives an opening well wider than the chain
    r_open = max(3, round(min(max(1.6 * chain_w, 0.012 * short), 0.05 * short)))
    bulk = _open_disk(mask, r_open)
    thin = mask & ~bulk
    bulk_comps = _components(bulk)
    bulk_total = float(bulk.sum())
    big_bulk = bulk_comps[0] if bulk_comps else None
    bulk_dom = big_bulk["area"] / bulk_total if big_bulk else 0.0
    bulk_size = max(big_bulk["bbox"][2:]) / short if big_bulk else 0.0
    x, y, bw, bh = main["bbox"]
    hole, filled, hole_r = _holes(main["mask"])
    outer = max(bw, bh) / short
    hole_ratio = hole / max(filled, 1.0)
    fat_hole = hole_ratio * _clip01((hole_r / short - 0.015) / 0.025)
    feats.update(
        span=span,
        chain_w=chain_w / short,
        mean_w=mean_w / short,
        thin_frac=float(thin.sum()) / total,
        bulk_frac=bulk_total / total,
        bulk_dom=bulk_dom,
        bulk_size=bulk_size,
        hole_ratio=hole_ratio,
        fat_hole=fat_hole,
        outer=outer,
    )
    holed = _clip01((fat_hole - 0.12) / 0.15)
    spanning = _clip01((span - 0.6) / 0.2)
    slender = _clip01((0.06 - mean_w / short) / 0.03)

    # pendant: one dominant compact bulk with thin chain above it reaching upward
    pend = 0.0
    if big_bulk is not None and thin.any():
        bx, by, bbw, bbh = big_bulk["bbox"]
        above = thin[: max(by, 1)]
        reach = 1.0 - (np.nonzero(above.any(1))[0].min() / max(by, 1)) if above.any() else 0.0
        chain_up = _clip01((float(above.sum()) / total - 0.04) / 0.12) * _clip01((reach - 0.4) / 0.3)
        body = _clip01((bulk_size - 0.07) / 0.06) * _clip01((bulk_dom - 0.45) / 0.25)
        pend = body * chain_up * (1 - holed)
        feats.update(pend_reach=reach, pend_chain=float(above.sum()) / total)
    scores["pendant"] = pend
    # necklace: a long slender curve across the frame without a dominant body. A curve fills little of its hull
    # (a U, a loop) or lies as a long strip (a chain laid straight); a stack of bangles or a bunch of cords, slender
    # strokes too, fill theirs.
    hull = cv2.convexHull(cv2.findNonZero(main["mask"].astype(np.uint8)))
    solidity = main["area"] / max(float(cv2.contourArea(hull)), 1.0)
    extent_w, extent_h = xs_all[-1] - xs_all[0] + 1, ys_all[-1] - ys_all[0] + 1
    strip = max(extent_w, extent_h) / max(min(extent_w, extent_h), 1)
    curve = max(_clip01((0.5 - solidity) / 0.2), _clip01((strip - 4.0) / 3.0))
    feats.update(solidity=solidity, strip=strip, curve=curve)
    scores["necklace"] = spanning * slender * (1 - holed) * (1 - 0.8 * pend) * curve

    # ring or bracelet: one wide hole; rings sit smaller in the frame, often with a stone on top
    top_stone = 0.0
    for g in stones:
        ys = np.nonzero(g["_pixels"].any(1))[0]
        if ys.size and ys.min() < y + bh * 0.3:
            top_stone = 1.0
    feats["top_stone"] = top_stone
    small = _clip01((0.62 - outer) / 0.1)
    rel_band = mean_w / max(max(bw, bh), 1)
    thin_band = _clip01((0.06 - rel_band) / 0.04)
    # a ring's band is thick for its size (a shank of 2 mm or more on an 18 mm loop, plus its head); a bracelet's is
    # thin for its (a few mm on 60 mm): this holds however large the product photo frames the piece
    thick_band = _clip01((rel_band - 0.05) / 0.03)
    feats["rel_band"] = rel_band
    ringish = _clip01(0.75 * max(small, thick_band) + 0.25 * top_stone - 0.2 * thin_band * (1 - small))
    # a ring seen from above: a head with the shank leaving it on both sides as low arms (no hole to be seen)
    cols = main["mask"].sum(0).astype(np.float32)
    tall = np.flatnonzero(cols > 0.6 * cols.max())
    head0, head1 = int(tall[0]), int(tall[-1])
    low = (cols > 0) & (cols < 0.3 * cols.max())
    left, right = int(low[:head0].sum()), int(low[head1 + 1 :].sum())
    arms = min(left, right) / max(head1 - head0 + 1, 1)
    even = 1 - abs(left - right) / max(left + right, 1)
    ring_top = _clip01((arms - 0.15) / 0.2) * _clip01((even - 0.4) / 0.3) * _clip01((0.75 - span) / 0.15)
    ring_top *= 1 - holed
    feats.update(ring_arms=arms, ring_top=ring_top)
    scores["ring"] = max(holed * ringish, ring_top)
    scores["bracelet"] = holed * (1 - ringish)

    # brooch: one compact piece without a wide hole
    compact = _clip01((0.7 - span) / 0.2) * (1 - holed) * _clip01((solidity - 0.35) / 0.25)
    scores["brooch"] = compact * (1 - scores["earrings"]) * (1 - pend) * (1 - ring_top) * 0.85
    scores["other"] = 0.15
    feats["type_scores"] = {k: round(v, 3) for k, v in scores.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, s1), (_, s2) = ranked[0], ranked[1]
    conf = 0.2 + 0.75 * s1 * _clip01((s1 - s2) / max(s1, 1e-6))
    if best == "other":
        return _guess(UNKNOWN, 0.15)
    return _guess(best, conf)


# ------------------------------------------------------------------------------------------- type: the learned step

#: The shape measurements `_type` takes (and its per-type scores) that the learned type model reads, in its order.
TYPE_FEATURES = (
    "span",
    "chain_w",
    "mean_w",
    "thin_frac",
    "bulk_frac",
    "bulk_dom",
    "bulk_size",
    "hole_ratio",
    "fat_hole",
    "outer",
    "solidity",
    "curve",
    "ring_arms",
    "ring_top",
    "rel_band",
    "top_stone",
    "pair_ratio",
    "pair_share",
    "pair_sim",
    "mask_frac",
    "pend_reach",
    "pend_chain",
    "log_strip",
    "log_parts",
    *(f"score_{t}" for t in ("earrings", "pendant", "necklace", "ring", "bracelet", "brooch", "other")),
)


def type_features(feats: dict) -> np.ndarray | None:
    """The learned type model's input (`TYPE_FEATURES`) from an image's measurements (`Scene.features` after the
    analysis), or None when the shape step found no piece to measure. A measurement a shape does not have (the pair
    of an earring set, the chain above a pendant) counts as 0."""
    scores = feats.get("type_scores")
    if scores is None:
        return None
    derived = {
        "log_strip": math.log(max(float(feats.get("strip", 1.0)), 1.0)),
        "log_parts": math.log1p(float(feats.get("n_comps", 0))),
        **{f"score_{k}": float(v) for k, v in scores.items()},
    }
    return np.array([float(derived.get(k, feats.get(k, 0.0)) or 0.0) for k in TYPE_FEATURES], np.float64)


def type_probabilities(model: dict, x: np.ndarray) -> np.ndarray:
    """Each type's probability (columns: ``model["classes"]``) for each row of features `x` (`type_features`)
    under a learned type model (`type_model.MODEL`'s shape): softmax of ``coef @ ((x - mean) / scale) + intercept``."""
    z = (np.atleast_2d(x) - np.asarray(model["mean"])) / np.asarray(model["scale"])
    logits = z @ np.asarray(model["coef"]).T + np.asarray(model["intercept"])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _learned_type(feats: dict) -> dict | None:
    """The type as the learned model (`type_model.MODEL`) reads the shape measurements: the most probable type and
    its probability as the raw confidence; None when nothing was measured (the rules' answer stands)."""
    model = type_model.MODEL
    x = type_features(feats)
    if x is None:
        return None
    p = type_probabilities(model, x)[0]
    best = int(p.argmax())
    feats["type_probabilities"] = {c: round(float(q), 3) for c, q in zip(model["classes"], p, strict=True)}
    return _guess(model["classes"][best], float(p[best]))


# ------------------------------------------------------------------------------------------------------------ finish


def _finish(lab: np.ndarray, metal_pixels: np.ndarray, mask: np.ndarray, shot: str) -> dict:
    """A guess, always below 0.5 confidence: on the synthetic set the texture measures here (fine-scale energy,
    structure-tensor coherence, spread of L, share of specular pixels) overlap too much between finishes to be
    sure of any of them, so the answer is a suggestion for the user to confirm."""
    n = int(metal_pixels.sum())
    if shot == "sketch" or n < 300:
        return _guess(UNKNOWN, 0.05)
    L = lab[..., 0]
    vals = L[metal_pixels]
    spread = float(np.percentile(vals, 95) - np.percentile(vals, 5))
    fine = float(np.median(np.abs(L - cv2.GaussianBlur(L, (0, 0), 1.0))[metal_pixels]))
    gx = cv2.Sobel(L, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(L, cv2.CV_32F, 0, 1)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 3)[metal_pixels]
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 3)[metal_pixels]
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 3)[metal_pixels]
    coherence = float(np.median(np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (jxx + jyy + 1e-3)))
    specular = float((L[mask] > 90).mean())
    if specular > 0.18 and coherence < 0.7:
        return _guess("hammered", 0.3)
    if fine > 3.5 and coherence > 0.75:
        return _guess("brushed", 0.3)
    if spread < 35 and specular < 0.01:
        return _guess("matte", 0.3)
    return _guess("polished", 0.4)


# ------------------------------------------------------------------------------------------------------- the answer


def analyse_scene(rgb: np.ndarray) -> tuple[dict, Scene]:
    """(raw answer, scene) of one image: `analyse_image`'s answer before calibration, and the `Scene` with every
    measurement taken (``features``; bench/jewellery_train.py trains the learned type step on them)."""
    scene = read_scene(rgb)
    feats = scene.features
    feats["_rgb"] = scene.rgb
    shot = scene.shot
    metal = _metal(scene.lab, scene.mask, scene.metal_pixels, feats, shot)
    if shot == "sketch":
        groups: list[dict] = []
        stones_conf = 0.1
    else:
        groups = _stone_groups(scene.lab, scene.mask, feats, metal["value"])
        sparkles = [g["_pixels"] for g in groups if g["colour"] == "colourless"]
        if sparkles:  # read the metal again without the colourless stones found
            found = np.logical_or.reduce(sparkles)
            scene.metal_pixels &= ~cv2.dilate(found.astype(np.uint8), _disk(2)).astype(bool)
            metal = _metal(scene.lab, scene.mask, scene.metal_pixels, feats, shot)
        plain = shot in ("packshot", "cad_render")
        if groups:
            stones_conf = max(g["confidence"] for g in groups)
        else:
            stones_conf = (0.7 if plain else 0.55) if scene.mask.sum() > 0.003 * scene.mask.size else 0.2
            if metal["value"] in ("white_metal", UNKNOWN):
                stones_conf = min(stones_conf, 0.45)  # colourless stones hide well in white metal
    piece_type = _type(scene.mask, groups, feats)
    learned = _learned_type(feats)
    if learned is not None:
        feats["type_rules"] = piece_type
        piece_type = learned
    finish = _finish(scene.lab, scene.metal_pixels, scene.mask, shot)
    result = {
        "type": piece_type,
        "metal": metal,
        "stones": [{k: g[k] for k in ("colour", "count", "cut", "confidence")} for g in groups],
        "stones_confidence": round(_clip01(stones_conf), 3),
        "finish": finish,
        "shots": [_guess(shot, scene.shot_confidence)],
    }
    scene.features["_groups"] = groups
    return result, scene


# ------------------------------------------------------------------------------------------------- calibration

#: Platt scaling of each attribute's raw confidence: the probability that an answer is right is
#: ``sigmoid(bias + (slope + slope_offset[answer]) * raw + offset[answer])``. Fitted on the development part of the
#: real photo set (bench/jewellery_real_set.py); bench/jewellery_calibrate.py prints this table. An answer the fit
#: never saw is never confident (probability 0). The ``type`` table is the learned type step's (`type_model`), fitted
#: with it on cross-validated answers (bench/jewellery_train.py).
CALIBRATION: dict[str, dict] = {
    "type": type_model.MODEL["calibration"],
    "metal": {
        "bias": -0.919,
        "slope": 3.394,
        "offset": {"mixed": -1.015, "rose_gold": 2.899, "white_metal": -1.033, "yellow_gold": -1.093},
        "slope_offset": {"mixed": 0.247, "rose_gold": 1.087, "white_metal": -0.044, "yellow_gold": 2.105},
    },
    "stones": {
        "bias": -3.049,
        "slope": 2.193,
        "offset": {
            "blue": 2.061,
            "colourless": 0.5,
            "green": -1.678,
            "none": 1.002,
            "orange": -2.773,
            "pink": 0.462,
            "purple": 0.462,
            "red": 0.462,
            "yellow": 0.462,
        },
        "slope_offset": {
            "blue": -1.333,
            "colourless": 1.74,
            "green": 3.3,
            "none": 0.317,
            "orange": -2.096,
            "pink": 0.265,
            "purple": 0.265,
            "red": 0.265,
            "yellow": 0.265,
        },
    },
    "shot": {
        "bias": -0.921,
        "slope": 0.831,
        "offset": {"cad_render": 4.006, "lifestyle": -3.035, "packshot": -1.577, "sketch": -3.035},
        "slope_offset": {"cad_render": -5.818, "lifestyle": 4.448, "packshot": 2.202, "sketch": 4.448},
    },
}
#: Probability of being right at which an answer is reported at the confident level, `CONFIDENT` (0.5): answers the
#: studio shows as sure are right at least 9 times in 10 on real product photos, the rest say "not sure".
SURE = 0.9


def right_probability(attribute: str, value: str, raw: float) -> float:
    """The calibrated probability that `value`, answered with raw confidence `raw`, is right (0 for `UNKNOWN`).

    Parameters
    ----------
    attribute : str
        One of ``type``, ``metal``, ``stones`` (value: the dominant stone colour, or ``none``) and ``shot``.
    value : str
        The answer.
    raw : float
        The confidence the rules gave it, 0..1.

    Returns
    -------
    float
        A probability in 0..1.
    """
    if value == UNKNOWN:
        return 0.0
    return probability_from(CALIBRATION[attribute], value, raw)


def probability_from(table: dict, value: str, raw: float) -> float:
    """`right_probability` under one attribute's calibration `table` (0 for an answer the table never saw)."""
    if value not in table["offset"]:
        return 0.0
    slope = table["slope"] + table["slope_offset"][value]
    return _sigmoid(table["bias"] + slope * raw + table["offset"][value])


def _reported(attribute: str, value: str, raw: float) -> float:
    """Confidence on the scale the studio reads: `CONFIDENT` exactly where the right-probability reaches `SURE`,
    linear in it on either side. `UNKNOWN` keeps its raw confidence, below `CONFIDENT`."""
    if value == UNKNOWN:
        return min(raw, 0.45)
    p = right_probability(attribute, value, raw)
    if p < SURE:
        return CONFIDENT * p / SURE
    return CONFIDENT + (1 - CONFIDENT) * (p - SURE) / (1 - SURE)


def calibrate(raw: dict) -> dict:
    """A per-image answer of the rules with its confidences put on the calibrated scale (`_reported`).

    Parameters
    ----------
    raw : dict
        An answer in the shape of `analyse_image`, as the rules give it (``calibrated=False``).

    Returns
    -------
    dict
        A new answer, same values; type, metal, each stone group, stones_confidence and the shot re-scaled. The
        finish, only ever a suggestion, is left as it is.
    """
    out = dict(raw)
    for attr in ("type", "metal"):
        g = raw[attr]
        out[attr] = _guess(g["value"], _reported(attr, g["value"], g["confidence"]))
    dominant = raw["stones"][0]["colour"] if raw["stones"] else "none"
    out["stones_confidence"] = round(_reported("stones", dominant, raw["stones_confidence"]), 3)
    out["stones"] = [
        {**s, "confidence": round(_reported("stones", s["colour"], s["confidence"]), 3)} for s in raw["stones"]
    ]
    out["shots"] = [_guess(s["value"], _reported("shot", s["value"], s["confidence"])) for s in raw["shots"]]
    return out


def analyse_image(rgb: np.ndarray, *, calibrated: bool = True) -> dict:
    """Attributes of one uint8 RGB image, in the shape of `analyse_references` with one shot.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 image of shape (H, W, 3), e.g. from `decode_image`; downscaled to `ANALYSIS_EDGE` if larger.
    calibrated : bool, optional
        True (default): confidences on the calibrated scale (`calibrate`); False: as the rules give them (what
        bench/jewellery_calibrate.py fits the calibration on).

    Returns
    -------
    dict
        ``type``, ``metal``, ``finish`` (each ``{"value", "confidence"}``), ``stones`` (a list of
        ``{"colour", "count", "cut", "confidence"}``), ``stones_confidence`` and ``shots`` (one guess).
    """
    raw = analyse_scene(rgb)[0]
    return calibrate(raw) if calibrated else raw


def _vote(guesses: list[dict], floor: float = 0.0) -> dict:
    weights: dict[str, float] = {}
    for g in guesses:
        if g["value"] != UNKNOWN:
            weights[g["value"]] = weights.get(g["value"], 0.0) + g["confidence"]
    if not weights:
        return _guess(UNKNOWN, max([g["confidence"] for g in guesses] + [floor]))
    total = sum(g["confidence"] for g in guesses if g["value"] != UNKNOWN)
    value, weight = max(weights.items(), key=lambda kv: (kv[1], kv[0]))
    best = max(g["confidence"] for g in guesses if g["value"] == value)
    return _guess(value, best * (weight / total) if total else 0.0)


def combine(results: list[dict]) -> dict:
    """One answer from per-image answers: confidence-weighted votes for type, metal and finish; stones merged by
    colour (a stone seen in two views is one stone, so counts take the maximum); shots kept in order.

    Parameters
    ----------
    results : list of dict
        Answers of `analyse_image`, one per view of the same piece.

    Returns
    -------
    dict
        One answer in the same shape, with at most ``MAX_STONE_GROUPS`` stone groups and 10 shots.

    Raises
    ------
    ValueError
        If `results` is empty.
    """
    if not results:
        raise ValueError("no images to combine")
    merged: dict[str, dict] = {}
    for r in results:
        for s in r["stones"]:
            g = merged.get(s["colour"])
            if g is None:
                merged[s["colour"]] = dict(s)
                continue
            g["count"] = max(g["count"], s["count"])
            if s["confidence"] > g["confidence"]:
                g["cut"], g["confidence"] = s["cut"], s["confidence"]
    stones = list(merged.values())[:MAX_STONE_GROUPS]  # first seen first: each image lists its dominant first
    with_stones = [r["stones_confidence"] for r in results if r["stones"]]
    stones_conf = max(with_stones) if stones else max(r["stones_confidence"] for r in results)
    return {
        "type": _vote([r["type"] for r in results]),
        "metal": _vote([r["metal"] for r in results]),
        "stones": stones,
        "stones_confidence": round(_clip01(stones_conf), 3),
        "finish": _vote([r["finish"] for r in results]),
        "shots": [s for r in results for s in r["shots"]][:10],
    }


def analyse_references(images: list[bytes]) -> dict:
    """Attributes of a piece from its reference images (encoded JPEG/PNG bytes, already oriented and stripped).

    Returns the shape `intaglio.providers.attributes.Attributes` validates: type, metal, stones (with
    stones_confidence), finish and one shot per image, each with a confidence in 0..1.

    Parameters
    ----------
    images : list of bytes
        1 to 10 encoded images of the same piece.

    Returns
    -------
    dict
        The combined answer (see `analyse_image` and `combine`); every value is in `vocabulary` or `UNKNOWN`.

    Raises
    ------
    ValueError
        If `images` is empty, holds more than 10 images, or one of them is not a readable image.
    """
    if not images:
        raise ValueError("no images to analyse")
    if len(images) > 10:
        raise ValueError("at most 10 reference images")
    return combine([analyse_image(decode_image(data)) for data in images])


# The vocabulary every answer stays inside (checked by the tests).
VOCABULARY = {
    "type": PIECE_TYPES,
    "metal": METALS,
    "stone_colour": STONE_COLOURS,
    "stone_cut": STONE_CUTS,
    "finish": FINISHES,
    "shot": SHOT_TYPES,
}
