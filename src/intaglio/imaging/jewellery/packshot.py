"""The local packshot renderer: a clean studio image of the piece in a reference, made deterministically.

Reached through the package: ``from intaglio.imaging.jewellery import render_packshot, recolour_metal``.

Pure module (numpy, OpenCV, Pillow, scipy, pymatting). `render_packshot` picks the reference whose piece the
analyser segments best and cuts the piece out at the reference's own resolution: the analysis mask, scaled up, makes
a trimap (surely piece, surely not, a band between), closed-form matting solves the band into an anti-aliased matte,
and the foreground colours are estimated with the backdrop taken out of the rim. It optionally recolours the metal,
enlarges the piece to the output (Lanczos for the piece, cubic for the soft matte; `Packshot.enlargement` says by
how much) and composes it on a near-white seamless sweep lit by one key light: the sweep is brighter on the light's
side, a soft cast shadow falls away from it, a tight contact shadow and a faded mirror reflection sit under the
piece's lowest line. The frame has the exact aspect ratio asked ("1:1", "4:5", "3:4", "2:3", "16:9", "9:16") with
margins, 2048 px on the long side by default; `zoom` > 1 crops tighter around the piece (a macro detail). The seed
varies only small things (the light's side, the backdrop's tone), so variants differ a little and the same seed
gives the same bytes.

Scenes it cannot make honestly (on a model, lifestyle sets) are not drawn here: they need an image service.

`recolour_metal` splits the piece into metal and stones (`metal_and_stones`), gives every metal pixel a target
alloy's chroma (CIE a*/b*) with its L kept through a gentle tone curve, and leaves the stones' pixels as they are.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from intaglio.imaging.jewellery.analysis import (
    ANALYSIS_EDGE,
    decode_image,
    read_scene,
    stone_mask,
    to_lab,
)
from intaglio.imaging.jewellery.vocabulary import VARIANT_METALS

__all__ = [
    "ASPECT_RATIOS",
    "OUTPUT_EDGE",
    "Packshot",
    "frame_size",
    "matte",
    "metal_and_stones",
    "recolour_metal",
    "render_packshot",
    "render_packshot_rgb",
]

#: The frame shapes `frame_size` and `render_packshot` accept, as "width:height".
ASPECT_RATIOS = ("1:1", "4:5", "3:4", "2:3", "16:9", "9:16")
#: The long edge of a packshot, in pixels: marketplaces ask for 2000 or more.
OUTPUT_EDGE = 2048
WORK_EDGE = 2400  # the reference is cut out at most at this size
MATTE_TILE = 320  # closed-form matting runs in tiles of this size (plus a margin), keeping its memory small
JPEG_QUALITY = 90

# Target chroma (a*, b*) of each alloy at full colour (mid-tones); highlights and deep shadows get less.
METAL_AB = {"yellow_gold": (4.0, 46.0), "rose_gold": (21.0, 19.0), "white_metal": (-0.3, 1.2)}
# The tone curve on L (a power) each alloy gets: white metals read a little brighter, yellow gold a little deeper.
METAL_TONE = {"yellow_gold": 1.04, "rose_gold": 1.02, "white_metal": 0.92}
# Below this chroma (CIE a*b*) a pixel is neutral: a highlight, a deep shadow or a white metal.
NEUTRAL_CHROMA = 9.0
# The hues (CIE Lab, degrees) and the chroma ceiling of coloured alloys: rose gold is about 40–60°, yellow gold
# about 70–95°; a ruby (about 30°, chroma 50 and more) is not an alloy.
ALLOY_HUES = (35.0, 105.0)
ALLOY_CHROMA = 50.0
# How far (degrees of hue) a pixel's colour may be from the metal's own and still be metal.
METAL_HUE_GAP = 24.0


# ------------------------------------------------------------------------------------------------------ recolour


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def _hue_gap(hue: np.ndarray, centre: float) -> np.ndarray:
    return np.abs((hue - centre + 180.0) % 360.0 - 180.0)


def metal_and_stones(rgb: np.ndarray, piece_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(metal, stones): two disjoint bool masks covering `piece_mask`, for recolouring.

    The metal's own colour is the commonest hue of the piece's coloured pixels (none: a white metal). A pixel is
    metal when it is nearly neutral (highlights and deep shadows of any metal are) or has the metal's hue at no more
    than a little above the metal's usual chroma; anything else coloured is a stone. Neutral pixels belong to a
    stone when they are enclosed by it (a stone's own highlight) or when the analyser's stone step claims most of
    their neutral region (colourless stones); a pixel of the metal's hue is never a stone.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 RGB of shape (H, W, 3).
    piece_mask : numpy.ndarray
        bool array of shape (H, W).

    Returns
    -------
    tuple of numpy.ndarray
        (metal, stones), bool arrays of shape (H, W).
    """
    metal, stones, _ = _split(rgb, piece_mask.astype(bool))
    return metal, stones


def _split(rgb: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray, float | None]:
    """`metal_and_stones`, and the metal's own hue in degrees (None for a white metal)."""
    lab = to_lab(rgb)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
    neutral = chroma < NEUTRAL_CHROMA
    coloured = inside & ~neutral
    metal_like = inside & neutral
    centre = None
    # the metal's hue is read where the analyser sees no stone, among the hues and chromas alloys have (a large
    # ruby must not pass for the metal)
    found = stone_mask(rgb, inside)
    alloy = coloured & ~found & (hue > ALLOY_HUES[0]) & (hue < ALLOY_HUES[1]) & (chroma < ALLOY_CHROMA)
    if alloy.sum() > 0.2 * max(1, int((inside & ~found).sum())):
        counts, edges = np.histogram(hue[alloy], bins=72, range=(0, 360))
        smooth = counts + np.roll(counts, 1) + np.roll(counts, -1)
        centre = float(edges[int(np.argmax(smooth))] + 2.5)
        near = alloy & (_hue_gap(hue, centre) < 20)
        centre = float(np.degrees(np.arctan2(np.median(lab[..., 2][near]), np.median(lab[..., 1][near]))) % 360)
        usual = float(np.percentile(chroma[near], 90))
        metal_like |= coloured & (_hue_gap(hue, centre) < METAL_HUE_GAP) & (chroma < max(1.5 * usual, usual + 12))
    h, w = inside.shape
    grow = max(1, round(max(h, w) / 600))
    core = inside & ~metal_like
    core = cv2.morphologyEx(core.astype(np.uint8), cv2.MORPH_OPEN, _disk(grow)).astype(bool)
    # a stone's own highlight inside it is neutral: what the stone encloses is the stone's
    closed = cv2.morphologyEx(core.astype(np.uint8), cv2.MORPH_CLOSE, _disk(2 * grow + 1)).astype(bool)
    neutral_in = inside & neutral
    stones = core | (ndimage.binary_fill_holes(closed) & neutral_in)
    # a neutral region bordered mostly by a stone and smaller than the stones, or one the analyser's stone step
    # claims (colourless stones), goes with the stones
    analysed = found & neutral_in
    n, labels = cv2.connectedComponents(neutral_in.astype(np.uint8), connectivity=8)
    if n > 1:
        area = np.bincount(labels.ravel(), minlength=n)
        claimed = np.bincount(labels[analysed], minlength=n)
        border = cv2.dilate(neutral_in.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~neutral_in
        owner = cv2.dilate(labels.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
        by_stone = np.bincount(owner[border & core], minlength=n)
        by_metal = np.bincount(owner[border & metal_like], minlength=n)
        to_stone = ((by_stone > 2 * by_metal) & (area < 0.5 * max(1, int(core.sum())))) | (claimed > 0.5 * area)
        to_stone[0] = False
        stones |= to_stone[labels] & neutral_in
    stones &= inside
    return inside & ~stones, stones, centre


def recolour_metal(rgb: np.ndarray, piece_mask: np.ndarray, target_metal: str) -> np.ndarray:
    """uint8 RGB with the metal of the piece recoloured to `target_metal` (one of VARIANT_METALS).

    `metal_and_stones` splits the piece; every metal pixel (rims, settings, shank and its low-saturation highlights)
    gets the target alloy's a*/b* in CIE Lab, scaled by a chroma profile of its own L (full in the mid-tones, fading
    in highlights and deep shadows), with L kept through a gentle tone curve (white metals a touch brighter, gold a
    touch deeper). Stone pixels keep their values exactly, but for a seam of two or three pixels at the metal's
    edge where a mixed pixel's metal share is swapped.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 image of shape (H, W, 3) or (H, W, 4); a fourth channel is ignored.
    piece_mask : numpy.ndarray
        Array of shape (H, W): bool, 0..1 float (a soft matte) or 0..255.

    target_metal : str
        One of `VARIANT_METALS`.

    Returns
    -------
    numpy.ndarray
        uint8 RGB of shape (H, W, 3); pixels outside the metal are bit-exact copies of `rgb`'s.

    Raises
    ------
    ValueError
        If `target_metal` is not one of `VARIANT_METALS`.
    """
    if target_metal not in VARIANT_METALS:
        raise ValueError(f"metal must be one of {', '.join(VARIANT_METALS)}")
    rgb = np.ascontiguousarray(rgb[..., :3])
    soft = piece_mask.astype(np.float32)
    if soft.max() > 1.0:
        soft = soft / 255.0
    inside = soft > 0.02
    if not inside.any():
        return rgb.copy()
    metal, stones, centre = _split(rgb, inside)
    lab = to_lab(rgb)
    L = lab[..., 0]
    ta, tb = METAL_AB[target_metal]
    new_L = 100.0 * np.clip(L / 100.0, 0, 1) ** METAL_TONE[target_metal]
    profile = np.clip(new_L / 65.0, 0, 1) ** 0.8 * (1 - 0.85 * _smoothstep(84, 100, new_L))
    target = np.dstack([new_L, ta * profile, tb * profile])
    # the seam: a stone pixel at the metal's edge is partly metal (and a JPEG smears colour over two pixels or
    # so). Its colour is unmixed along the line from the stone's colour just inside to the metal's just outside,
    # and the metal's share of it is swapped for the target alloy's; stone pixels farther in keep their values.
    reach = 1 + max(1, round(max(rgb.shape[:2]) / 400))
    seam = stones & cv2.dilate(metal.astype(np.uint8), _disk(reach)).astype(bool)
    weight = metal.astype(np.float32)
    new = np.where(metal[..., None], target, lab)
    if seam.any():
        sigma = 2.0 * reach

        def local_mean(where: np.ndarray) -> np.ndarray:
            total = cv2.GaussianBlur(where.astype(np.float32), (0, 0), sigma)[..., None]
            return cv2.GaussianBlur(lab * where[..., None], (0, 0), sigma) / np.maximum(total, 1e-6)

        near_metal, near_stone = local_mean(metal), local_mean(stones & ~seam)
        towards = near_metal[..., 1:] - near_stone[..., 1:]
        span = (towards**2).sum(axis=2)
        t = ((lab[..., 1:] - near_stone[..., 1:]) * towards).sum(axis=2) / np.maximum(span, 1e-6)
        t = np.where(span > 25.0, np.clip(t, 0, 1), 0.5).astype(np.float32)
        swapped = lab + t[..., None] * (target - near_metal)
        new = np.where(seam[..., None], swapped, new)
        weight = np.where(seam, t, weight)
    lab = new.astype(np.float32)
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    out = np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
    keep = weight <= 0  # pixels outside the metal come back bit-exact
    out[keep] = rgb[keep]
    return out


# ---------------------------------------------------------------------------------------------------- the cut-out


def _disk(r: int) -> np.ndarray:
    r = max(1, int(r))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


@dataclass
class Cutout:
    rgb: np.ndarray  # float32 0..1, backdrop colour removed from the rim
    alpha: np.ndarray  # float32 0..1


def _reference_score(scene) -> float:
    frac = float(scene.mask.mean())
    if frac < 0.0008 or frac > 0.6:
        return 0.0
    shot_weight = {"packshot": 1.0, "cad_render": 1.0, "on_model": 0.6, "lifestyle": 0.55, "sketch": 0.15}
    border = scene.backdrop.border_mask
    touching = float((scene.mask & border).sum()) / max(1.0, float(border.sum()))
    size = min(1.0, frac / 0.03)
    return shot_weight.get(scene.shot, 0.3) * (0.5 + 0.5 * size) * (1 - min(0.9, touching * 5))


def matte(rgb: np.ndarray, hard: np.ndarray, away: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """An anti-aliased matte and the piece's own colours, from a rough cut-out.

    Closed-form matting (Levin, Lischinski and Weiss 2008, through pymatting) solves a trimap made from `hard`:
    eroded by `band` pixels it is surely the piece, outside it dilated by `band` (and `away`, say a shadow known not
    to be the piece) surely not; the band between is solved, in overlapping tiles so memory stays small at full
    resolution. The foreground colours are then estimated with the backdrop taken out of the rim (pymatting's
    multilevel estimate).

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 RGB of shape (H, W, 3).
    hard : numpy.ndarray
        bool array of shape (H, W): the rough cut-out (may be jagged by up to `band` pixels).
    away : numpy.ndarray
        bool array of shape (H, W): pixels that are surely not the piece.
    band : int
        Half-width in pixels of the band to solve.

    Returns
    -------
    tuple of numpy.ndarray
        (alpha, foreground): float32 0..1 arrays of shapes (H, W) and (H, W, 3).
    """
    from pymatting import estimate_alpha_cf, estimate_foreground_ml  # numba-compiled: loaded when first needed

    H, W = hard.shape
    alpha = hard.astype(np.float64)
    sure = cv2.erode(hard.astype(np.uint8), _disk(band)).astype(bool)
    maybe = cv2.dilate(hard.astype(np.uint8), _disk(band)).astype(bool) & ~(away & ~sure)
    unknown = maybe & ~sure
    if not unknown.any() or not sure.any():
        return alpha.astype(np.float32), rgb.astype(np.float32) / 255.0
    img = rgb.astype(np.float64) / 255.0
    trimap = np.where(sure, 1.0, np.where(maybe, 0.5, 0.0))
    step, margin = MATTE_TILE, max(16, 3 * band)
    for ty in range(0, H, step):
        for tx in range(0, W, step):
            if not unknown[ty : ty + step, tx : tx + step].any():
                continue
            y0, x0 = max(0, ty - margin), max(0, tx - margin)
            y1, x1 = min(H, ty + step + margin), min(W, tx + step + margin)
            tri = trimap[y0:y1, x0:x1]
            if not (tri == 0).any() or not (tri == 1).any():
                continue  # nothing known on one side: the cut-out stands
            solved = estimate_alpha_cf(img[y0:y1, x0:x1], tri)
            cy1, cx1 = min(H, ty + step), min(W, tx + step)
            alpha[ty:cy1, tx:cx1] = solved[ty - y0 : cy1 - y0, tx - x0 : cx1 - x0]
    alpha = np.clip(alpha, 0, 1)
    alpha[~maybe] = 0.0
    alpha[sure] = 1.0
    ys, xs = np.nonzero(maybe)
    y0, y1 = max(0, ys.min() - 2), min(H, ys.max() + 3)
    x0, x1 = max(0, xs.min() - 2), min(W, xs.max() + 3)
    fg = img.copy()
    fg[y0:y1, x0:x1] = estimate_foreground_ml(img[y0:y1, x0:x1], alpha[y0:y1, x0:x1])
    alpha[alpha < 0.01] = 0.0
    return alpha.astype(np.float32), np.clip(fg, 0, 1).astype(np.float32)


def _cut_out(data: bytes, scene, work_edge: int) -> Cutout:
    full = decode_image(data, long_edge=work_edge)
    H, W = full.shape[:2]
    sh, sw = scene.mask.shape
    scale = W / sw
    lab_full = to_lab(full)
    # backdrop model at full size: the fitted surface is smooth, so resizing it is exact enough
    surface = cv2.resize(scene.backdrop.surface, (W, H), interpolation=cv2.INTER_LINEAR)
    coarse = cv2.resize(scene.mask.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
    hard = coarse > 0.5
    diff = lab_full - surface
    # a contact shadow glued to the piece: darker, same colour, smooth at full size, reached from outside
    shift = np.hypot(diff[..., 1], diff[..., 2])
    L = lab_full[..., 0]
    mean = cv2.blur(L, (5, 5))
    std = np.sqrt(np.maximum(cv2.blur(L * L, (5, 5)) - mean * mean, 0))
    noise = scene.backdrop.noise * 1.5 + 0.6
    shadowish = hard & (diff[..., 0] < -1.0) & (shift < 4 + 2 * noise) & (std < 1.5 + 2 * noise)
    reach = cv2.dilate((~hard).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & shadowish
    for _ in range(max(3, round(scale * 8))):
        grown = cv2.dilate(reach.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & shadowish
        if (grown == reach).all():
            break
        reach = grown
    hard &= ~reach
    alpha, fg = matte(full, hard, reach, max(3, round(scale * 2)))
    # neutralise a light, nearly neutral backdrop's colour cast on the piece
    Lb, ab, bb = (float(v) for v in scene.backdrop.lab_median)
    if Lb > 65 and math.hypot(ab, bb) < 12 and scene.shot in ("packshot", "cad_render"):
        ref = cv2.cvtColor(np.array([[[Lb, ab, bb]]], np.float32), cv2.COLOR_Lab2RGB)[0, 0]
        gains = np.clip(ref.mean() / np.maximum(ref, 1e-3), 0.9, 1.1)
        fg = np.clip(fg * gains, 0, 1)
    return Cutout(fg.astype(np.float32), alpha.astype(np.float32))


def _retouch(piece: np.ndarray, alpha: np.ndarray, *, upscale: bool) -> np.ndarray:
    """What a retoucher does first: sensor noise smoothed (it would grow with the enlargement) and levels
    brightened so the highlights reach near-white (never darkened)."""
    out = piece
    if upscale:
        out = cv2.bilateralFilter(out.astype(np.float32), 5, 0.05, 2.0)
    solid = alpha > 0.9
    if solid.sum() > 50:
        top = float(np.percentile(out[solid].max(axis=1), 99.5))
        gain = min(1.25, 0.97 / max(top, 1e-3))
        if gain > 1.0:
            out = out * gain
    return np.clip(out, 0, 1).astype(np.float32)


def _whole_image(data: bytes) -> Cutout:
    """No piece found anywhere: the first image itself, softly vignetted, so the output is still a picture."""
    full = decode_image(data, long_edge=WORK_EDGE).astype(np.float32) / 255.0
    h, w = full.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2)
    alpha = np.clip((1.0 - r) / 0.25, 0, 1).astype(np.float32)
    return Cutout(full, alpha)


def _choose(references: list[bytes], work_edge: int) -> Cutout:
    best, best_score = None, 0.0
    for data in references:
        scene = read_scene(decode_image(data, long_edge=ANALYSIS_EDGE))
        score = _reference_score(scene)
        if score > best_score + 1e-9:
            best, best_score = (data, scene), score
    if best is None:
        return _whole_image(references[0])
    return _cut_out(*best, work_edge)


# ------------------------------------------------------------------------------------------------------- framing


def frame_size(aspect_ratio: str, long_edge: int) -> tuple[int, int]:
    """(width, height) with exactly the ratio asked and the long edge at least `long_edge` (the smallest such).

    Parameters
    ----------
    aspect_ratio : str
        One of `ASPECT_RATIOS`, e.g. ``"4:5"``.
    long_edge : int
        Smallest size of the longer side, in pixels.

    Returns
    -------
    tuple of int
        ``(width, height)``, both multiples of the ratio's terms.

    Raises
    ------
    ValueError
        If `aspect_ratio` is not one of `ASPECT_RATIOS`, or `long_edge` is below 1.
    """
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"aspect ratio must be one of {', '.join(ASPECT_RATIOS)}")
    rw, rh = (int(x) for x in aspect_ratio.split(":"))
    if long_edge < 1:
        raise ValueError("long_edge is too small")
    unit = -(-long_edge // max(rw, rh))
    return rw * unit, rh * unit


def _noise(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    h, w = shape
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    n = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)


def _backdrop(size: tuple[int, int], rng: np.random.Generator, horizon: float, light: float) -> np.ndarray:
    """A near-white seamless sweep: the wall above the horizon a touch greyer, a soft glow along it, the key
    light's side (`light`: -1 left … 1 right) a little brighter, and a subtle vignette."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / max(w - 1, 1), yy / max(h - 1, 1)
    r2 = (u - 0.5) ** 2 + (v - 0.48) ** 2
    tone = 1.0 - rng.uniform(0.0, 0.02)
    warm = rng.uniform(-0.004, 0.006)
    base = np.array([tone + warm, tone, tone - warm], np.float32)
    sweep = 1.0 - 0.035 * np.clip(horizon - v, 0, 1) ** 1.5
    glow = 1.0 + 0.01 * np.exp(-((v - horizon) ** 2) / 0.02)
    key = 1.0 + 0.012 * light * (u - 0.5)
    vignette = 1.0 - 0.05 * r2 / 0.5
    return np.clip(base * (sweep * glow * key * vignette)[..., None], 0, 1)


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    sh, sw = img.shape[:2]
    interp = cv2.INTER_AREA if w < sw else (cv2.INTER_LANCZOS4 if img.ndim == 3 else cv2.INTER_CUBIC)
    return cv2.resize(img, (max(1, w), max(1, h)), interpolation=interp)


def _soft(img: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of `sigma` pixels; a wide one is made on a reduced copy and enlarged again (the result is
    smooth at that scale, and a 2048 px canvas blurred in full costs ten times as much)."""
    step = int(sigma // 4)
    if step < 2:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / step)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _place(canvas_shape, layer: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """`layer` pasted at (x0, y0) on a zero canvas of `canvas_shape`, clipped to it."""
    out = np.zeros(canvas_shape + layer.shape[2:], np.float32)
    H, W = canvas_shape
    h, w = layer.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if cx1 > cx0 and cy1 > cy0:
        out[cy0:cy1, cx0:cx1] = layer[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return out


@dataclass(frozen=True)
class Packshot:
    """What `render_packshot` made: the JPEG and how much the piece was enlarged from its reference's pixels (above
    1: the reference was smaller than the output needs, and fine detail is softer than a larger photo would give)."""

    data: bytes
    enlargement: float


def render_packshot(
    references: list[bytes],
    *,
    aspect_ratio: str,
    metal: str | None,
    seed: int,
    long_edge: int = OUTPUT_EDGE,
    zoom: float = 1.0,
    shadow: bool = True,
) -> Packshot:
    """A studio packshot (JPEG, quality 90) of the piece in `references` (encoded images, oriented and stripped) on
    a white seamless sweep.

    `metal` (one of VARIANT_METALS, or None to keep it) recolours the metal; `zoom` ≥ 1 crops tighter; `seed`
    varies the key light's side and the backdrop's tone a little. One light makes every shading cue: the sweep is
    brighter on its side, the soft cast shadow falls away from it, and the contact shadow and the faded mirror
    reflection sit under the piece's lowest line. Deterministic.

    Parameters
    ----------
    references : list of bytes
        Encoded images of the piece; the one whose piece segments best is used (the first, whole, if none does).
    aspect_ratio : str
        One of `ASPECT_RATIOS`.
    metal : str or None
        One of `VARIANT_METALS` to recolour the metal to, or None to keep it.
    seed : int
        Varies the light's side and the backdrop's tone; the same seed gives the same bytes.
    long_edge : int, optional
        Longer side of the output, in pixels (default `OUTPUT_EDGE`, 2048); see `frame_size`.
    zoom : float, optional
        1 (default) frames the whole piece with margins; up to 8 crops tighter about its centre (a macro detail).
    shadow : bool, optional
        True (default) grounds the piece with its shadows and reflection; False leaves it shadowless on the sweep
        (a catalogue's "no shadow" look).

    Returns
    -------
    Packshot
        The JPEG, of the size `frame_size` gives for `aspect_ratio` and `long_edge`, and the enlargement.

    Raises
    ------
    ValueError
        If `references` is empty or holds an unreadable image, or `metal`, `zoom`, `aspect_ratio` or `long_edge` is
        out of range.
    """
    if not references:
        raise ValueError("no reference images")
    if metal is not None and metal not in VARIANT_METALS:
        raise ValueError(f"metal must be one of {', '.join(VARIANT_METALS)} or None")
    if not (1.0 <= zoom <= 8.0) or not math.isfinite(zoom):
        raise ValueError("zoom must be between 1 and 8")
    W, H = frame_size(aspect_ratio, long_edge)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 7])

    # the piece is cut out at its reference's own resolution (at most WORK_EDGE), never enlarged before matting
    cut = _choose(references, WORK_EDGE)
    ys, xs = np.nonzero(cut.alpha > 0.05)
    if ys.size == 0:
        cut = _whole_image(references[0])
        ys, xs = np.nonzero(cut.alpha > 0.05)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    # a chain that leaves the reference's frame should leave ours too, on the same side
    edge = 3
    touches = {
        "top": bool(cut.alpha[:edge].max() > 0.3),
        "bottom": bool(cut.alpha[-edge:].max() > 0.3),
        "left": bool(cut.alpha[:, :edge].max() > 0.3),
        "right": bool(cut.alpha[:, -edge:].max() > 0.3),
    }
    pad = 3
    y0, x0 = max(0, y0 - pad), max(0, x0 - pad)
    y1, x1 = min(cut.alpha.shape[0], y1 + pad), min(cut.alpha.shape[1], x1 + pad)
    piece = cut.rgb[y0:y1, x0:x1]
    alpha = cut.alpha[y0:y1, x0:x1]
    if metal is not None:
        as_u8 = (np.clip(piece, 0, 1) * 255 + 0.5).astype(np.uint8)
        # the rim's colour is the piece's own (the matting took the backdrop out), so it is recoloured in full
        piece = recolour_metal(as_u8, alpha > 0.02, metal).astype(np.float32) / 255.0

    # fit: margins of ~11 % around, room below for the reflection; zoom enlarges about the piece's centre
    ph, pw = piece.shape[:2]
    room_h, room_w = H * 0.74, W * 0.78
    fit = min(room_w / pw, room_h / ph)
    if touches["left"] and touches["right"]:
        fit = min(W / pw, room_h / ph)
    scale = fit * zoom
    tw, th = max(1, round(pw * scale)), max(1, round(ph * scale))
    piece = _retouch(piece, alpha, upscale=scale > 1.2)
    # enlarged: Lanczos for the piece, cubic for the (already soft) matte, so the rim stays anti-aliased
    piece_s = np.clip(_resize(piece, (tw, th)), 0, 1)
    alpha_s = np.clip(_resize(alpha, (tw, th)), 0, 1)
    # light local contrast, as a retoucher would: unsharp mask on the piece's luminance only (sharpening colour
    # would fringe the edges between metal and stones), its radius following the output's size
    luma = piece_s @ np.array([0.299, 0.587, 0.114], np.float32)
    detail = luma - cv2.GaussianBlur(luma, (0, 0), max(1.0, 1.2 * long_edge / 1024))
    piece_s = np.clip(piece_s + (0.2 if scale > 1.2 else 0.35) * detail[..., None], 0, 1)

    cx, cy = W / 2, H * 0.45
    if zoom > 1:  # macro: the piece's centre of mass at the frame's centre
        m = alpha_s.sum()
        if m > 0:
            gy, gx = np.mgrid[0:th, 0:tw]
            mx, my = float((gx * alpha_s).sum() / m), float((gy * alpha_s).sum() / m)
        else:
            mx, my = tw / 2, th / 2
        px, py = round(W / 2 - mx), round(H / 2 - my)
    else:
        px, py = round(cx - tw / 2), round(cy - th / 2)
        if touches["top"] and not touches["bottom"]:
            py = 0
        elif touches["bottom"] and not touches["top"]:
            py = H - th
        if touches["left"] and not touches["right"]:
            px = 0
        elif touches["right"] and not touches["left"]:
            px = W - tw
    bottom = py + th  # the contact line
    horizon = min(0.95, max(0.2, bottom / H))
    # one key light, high and to one side (-1 left … 1 right): the seed picks the side and how far round it is
    light = float(rng.choice((-1.0, 1.0)) * rng.uniform(0.35, 0.9))
    bg = _backdrop((W, H), rng, horizon, light)

    A = _place((H, W), alpha_s, px, py)
    P = _place((H, W), piece_s, px, py)
    # shadows, both away from the light: a tight contact shadow where the piece meets the surface (its silhouette
    # squashed flat onto the floor plane), and a wide soft cast shadow
    lift = max(2, round(th * 0.02))
    away = -light
    contact_src = _place((H, W), alpha_s, px + round(away * tw * 0.01), py + lift)
    squash = cv2.resize(contact_src, (W, max(1, H // 3)), interpolation=cv2.INTER_AREA)
    contact = cv2.resize(squash, (W, H), interpolation=cv2.INTER_LINEAR)
    contact = _soft(contact, max(1.5, th * 0.02))
    cast = _place((H, W), alpha_s, px + round(away * tw * 0.06), py + round(th * 0.03))
    cast = _soft(cast, max(3.0, 0.035 * max(tw, th)))
    shade = np.clip(0.16 * (0.9 * contact + 0.8 * cast), 0, 0.6) * float(shadow)
    bg = bg * (1 - shade[..., None])
    # the mirror reflection of a glossy sweep: flipped about the contact line, fading with distance from it
    fade_len = max(4, round(th * 0.38))
    ramp = np.clip(1 - np.arange(th, dtype=np.float32) / fade_len, 0, 1) ** 1.6
    r_alpha = np.flipud(alpha_s) * (ramp[:, None] * rng.uniform(0.16, 0.22) * float(shadow))
    r_rgb = np.flipud(piece_s)
    blur_r = max(1.2, 0.6 * long_edge / 1024)
    r_alpha = cv2.GaussianBlur(r_alpha, (0, 0), blur_r)
    r_rgb = cv2.GaussianBlur(r_rgb, (0, 0), blur_r)
    RA = _place((H, W), r_alpha, px, bottom + lift)
    RP = _place((H, W), r_rgb, px, bottom + lift)
    bg = bg * (1 - RA[..., None]) + RP * RA[..., None]
    out = bg * (1 - A[..., None]) + P * A[..., None]
    out8 = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out8).save(buf, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False)
    return Packshot(buf.getvalue(), round(float(scale), 2))


def render_packshot_rgb(*args, **kwargs) -> np.ndarray:
    """`render_packshot` decoded to uint8 RGB (handy for tests and previews).

    Parameters
    ----------
    *args, **kwargs
        As for `render_packshot`.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (height, width, 3).

    Raises
    ------
    ValueError
        As `render_packshot` does.
    """
    shot = render_packshot(*args, **kwargs)
    return np.asarray(Image.open(io.BytesIO(shot.data)).convert("RGB"))
