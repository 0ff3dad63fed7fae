"""The local packshot renderer: a clean studio image of the piece in a reference, made deterministically.

Reached through the package: ``from intaglio.imaging.jewellery import render_packshot, recolour_metal``.

Pure module (numpy, OpenCV, Pillow). `render_packshot` picks the reference whose piece the analyser segments best,
cuts the piece out at full resolution (the analysis mask, its rim refined against the reference's backdrop model,
the backdrop's colour taken out of the rim pixels, then feathered), optionally recolours its metal, and composes it
on a studio backdrop:

- "white": a near-white seamless sweep with a soft horizon glow and a subtle vignette;
- "surface": a warm stone/linen-like tabletop, lighter towards the front, with a faint low-frequency mottle and weave;
- "skin": a soft skin-tone gradient for on-model presets (no reflection: skin is not a mirror);

with a soft contact shadow under the piece, a softer cast shadow whose direction the seed picks, and (on white and
surface) a faded mirrored reflection. The frame has the exact aspect ratio asked ("1:1", "4:5", "3:4", "2:3",
"16:9", "9:16") with margins; `zoom` > 1 crops tighter around the piece (a macro detail). The seed varies only small
things (light direction, backdrop tone and mottle), so variants differ a little and the same seed gives the same
bytes.

`recolour_metal` moves the metal's chroma (CIE a*/b*) to a target alloy's, keeping L (so shading and highlights
stay), and leaves stones (saturated blobs, colourless sparkle) untouched.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from intaglio.imaging.jewellery.analysis import (
    ANALYSIS_EDGE,
    decode_image,
    read_scene,
    stone_mask,
    to_lab,
)
from intaglio.imaging.jewellery.vocabulary import VARIANT_METALS

__all__ = ["ASPECT_RATIOS", "BACKDROPS", "frame_size", "recolour_metal", "render_packshot", "render_packshot_rgb"]

#: The frame shapes `frame_size` and `render_packshot` accept, as "width:height".
ASPECT_RATIOS = ("1:1", "4:5", "3:4", "2:3", "16:9", "9:16")
#: The studio backdrops `render_packshot` draws (see the module docstring).
BACKDROPS = ("white", "surface", "skin")
WORK_EDGE = 2400  # the reference is cut out at most at this size
JPEG_QUALITY = 90

# Target chroma (a*, b*) of each alloy at full colour (mid-tones); highlights and deep shadows get less.
METAL_AB = {"yellow_gold": (4.0, 46.0), "rose_gold": (21.0, 19.0), "white_metal": (-0.3, 1.2)}


# ------------------------------------------------------------------------------------------------------ recolour


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def recolour_metal(rgb: np.ndarray, piece_mask: np.ndarray, target_metal: str) -> np.ndarray:
    """uint8 RGB with the metal of the piece recoloured to `target_metal` (one of VARIANT_METALS).

    Inside `piece_mask` (bool or 0..1 float), every pixel that is not a stone gets the target alloy's a*/b*,
    scaled by a chroma profile of its own L (full in the mid-tones, fading in highlights and deep shadows), so L,
    shading and highlights are kept. Stones (coloured blobs, colourless sparkle, anything too saturated for metal)
    are protected with a feathered margin and keep their pixels.

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
    hard = soft > 0.5
    if not hard.any():
        return rgb.copy()
    stones = stone_mask(rgb, hard)
    grow = max(1, round(max(rgb.shape[:2]) / 500))
    protect = cv2.dilate(stones.astype(np.uint8), _disk(grow)).astype(np.float32)
    protect = cv2.GaussianBlur(protect, (0, 0), max(0.8, grow * 0.7))
    # Rim pixels (partly backdrop) are recoloured in full too: the cut-out fades them, and a half-recoloured rim
    # would leave a thin line of the old metal around the piece.
    weight = np.clip(soft * 3, 0, 1) * (1 - np.clip(protect * 1.5, 0, 1))
    lab = to_lab(rgb)
    L = lab[..., 0]
    ta, tb = METAL_AB[target_metal]
    profile = np.clip(L / 65.0, 0, 1) ** 0.8 * (1 - 0.85 * _smoothstep(84, 100, L))
    new_a = ta * profile
    new_b = tb * profile
    lab[..., 1] = lab[..., 1] * (1 - weight) + new_a * weight
    lab[..., 2] = lab[..., 2] * (1 - weight) + new_b * weight
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
    band_r = max(2, round(scale * 1.5))
    band = cv2.dilate(hard.astype(np.uint8), _disk(band_r)).astype(bool) & ~cv2.erode(
        hard.astype(np.uint8), _disk(band_r)
    ).astype(bool)
    # in the rim, how far each full-size pixel is from the backdrop decides its coverage
    diff = lab_full - surface
    dl = np.where(diff[..., 0] < 0, diff[..., 0] * 0.6, diff[..., 0])
    dist = np.sqrt(dl * dl + diff[..., 1] ** 2 + diff[..., 2] ** 2)
    for c in scene.backdrop.centres:
        d2 = lab_full - c.reshape(1, 1, 3)
        dl2 = np.where(d2[..., 0] < 0, d2[..., 0] * 0.6, d2[..., 0])
        dist = np.minimum(dist, np.sqrt(dl2 * dl2 + d2[..., 1] ** 2 + d2[..., 2] ** 2))
    dist = cv2.GaussianBlur(dist, (0, 0), max(0.7, scale * 0.4))
    t = scene.backdrop.threshold
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
    coarse = np.where(reach, 0.0, coarse).astype(np.float32)
    band = cv2.dilate(hard.astype(np.uint8), _disk(band_r)).astype(bool) & ~cv2.erode(
        hard.astype(np.uint8), _disk(band_r)
    ).astype(bool)
    # linear unmixing along the distance: a rim pixel's distance over that of the solid piece just inside it
    inner = cv2.erode(hard.astype(np.uint8), _disk(band_r + 1)).astype(bool)
    solid = cv2.dilate(np.where(inner, dist, 0).astype(np.float32), _disk(band_r * 2 + 2))
    solid = np.maximum(solid, 1.2 * t)
    rim = np.clip((dist - 0.35 * t) / (solid - 0.35 * t), 0, 1)
    alpha = np.where(band, np.minimum(rim, cv2.dilate(coarse, _disk(band_r))), hard.astype(np.float32))
    alpha = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), max(0.6, scale * 0.35))
    alpha[alpha < 0.02] = 0
    # take the backdrop's colour out of partly covered pixels: F = (I - (1 - a) B) / a
    img = full.astype(np.float32) / 255.0
    back_rgb = cv2.cvtColor(surface, cv2.COLOR_Lab2RGB)
    a3 = alpha[..., None]
    fg = np.where(a3 > 0.05, (img - (1 - a3) * back_rgb) / np.maximum(a3, 0.05), img)
    fg = np.clip(np.where(a3 > 0.97, img, fg), 0, 1)
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
    """(width, height) with exactly the ratio asked and the long edge at most `long_edge`.

    Parameters
    ----------
    aspect_ratio : str
        One of `ASPECT_RATIOS`, e.g. ``"4:5"``.
    long_edge : int
        Largest size of the longer side, in pixels.

    Returns
    -------
    tuple of int
        ``(width, height)``, both multiples of the ratio's terms.

    Raises
    ------
    ValueError
        If `aspect_ratio` is not one of `ASPECT_RATIOS`, or `long_edge` is smaller than the ratio's larger term.
    """
    if aspect_ratio not in ASPECT_RATIOS:
        raise ValueError(f"aspect ratio must be one of {', '.join(ASPECT_RATIOS)}")
    rw, rh = (int(x) for x in aspect_ratio.split(":"))
    unit = long_edge // max(rw, rh)
    if unit < 1:
        raise ValueError("long_edge is too small")
    return rw * unit, rh * unit


def _noise(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    h, w = shape
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    n = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)


def _backdrop(kind: str, size: tuple[int, int], rng: np.random.Generator, horizon: float) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / max(w - 1, 1), yy / max(h - 1, 1)
    r2 = (u - 0.5) ** 2 + (v - 0.48) ** 2
    if kind == "white":
        tone = 1.0 - rng.uniform(0.0, 0.02)
        warm = rng.uniform(-0.004, 0.006)
        base = np.array([tone + warm, tone, tone - warm], np.float32)
        sweep = 1.0 - 0.035 * np.clip(horizon - v, 0, 1) ** 1.5  # the wall above the horizon a touch greyer
        glow = 1.0 + 0.01 * np.exp(-((v - horizon) ** 2) / 0.02)
        vignette = 1.0 - 0.05 * r2 / 0.5
        img = base * (sweep * glow * vignette)[..., None]
        return np.clip(img, 0, 1)
    if kind == "surface":
        palette = ((0.87, 0.81, 0.73), (0.84, 0.80, 0.75), (0.88, 0.83, 0.77), (0.82, 0.77, 0.70))
        base = np.array(palette[int(rng.integers(len(palette)))], np.float32) + rng.uniform(-0.01, 0.01, 3)
        depth = 0.86 + 0.16 * np.clip(v, 0, 1) ** 0.8  # nearer the lens, more light
        mottle = 1.0 + 0.018 * _noise(rng, (h, w), max(w, h) / 6) + 0.008 * _noise(rng, (h, w), max(w, h) / 40)
        period = max(2.5, max(w, h) / 400)
        weave = 1.0 + 0.006 * (np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period))
        vignette = 1.0 - 0.12 * r2 / 0.5
        img = base * (depth * mottle * weave * vignette)[..., None]
        return np.clip(img, 0, 1)
    if kind == "skin":
        tones = ((0.93, 0.76, 0.66), (0.86, 0.66, 0.55), (0.74, 0.53, 0.41), (0.55, 0.38, 0.28))
        base = np.array(tones[int(rng.integers(len(tones)))], np.float32) * rng.uniform(0.97, 1.03)
        lx = rng.uniform(0.3, 0.7)
        light = 0.86 + 0.2 * np.exp(-(((u - lx) ** 2) / 0.18 + ((v - 0.35) ** 2) / 0.3))
        soft = 1.0 + 0.012 * _noise(rng, (h, w), max(w, h) / 5)
        img = base * (light * soft)[..., None]
        return np.clip(img, 0, 1)
    raise ValueError(f"backdrop must be one of {', '.join(BACKDROPS)}")


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    sh, sw = img.shape[:2]
    interp = cv2.INTER_AREA if w < sw else cv2.INTER_CUBIC
    return cv2.resize(img, (max(1, w), max(1, h)), interpolation=interp)


def _place(canvas_shape, layer: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """`layer` pasted at (x0, y0) on a zero canvas of `canvas_shape`, clipped to it."""
    out = np.zeros(canvas_shape + layer.shape[2:], np.float32)
    H, W = canvas_shape
    h, w = layer.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if cx1 > cx0 and cy1 > cy0:
        out[cy0:cy1, cx0:cx1] = layer[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return out


def render_packshot(
    references: list[bytes],
    *,
    aspect_ratio: str,
    metal: str | None,
    backdrop: str,
    seed: int,
    long_edge: int = 1024,
    zoom: float = 1.0,
) -> bytes:
    """A JPEG (quality 90) studio packshot of the piece in `references` (encoded images, oriented and stripped).

    `metal` (one of VARIANT_METALS, or None to keep it) recolours the metal; `backdrop` is "white", "surface" or
    "skin"; `zoom` ≥ 1 crops tighter; `seed` varies light direction and backdrop tone. Deterministic.

    Parameters
    ----------
    references : list of bytes
        Encoded images of the piece; the one whose piece segments best is used (the first, whole, if none does).
    aspect_ratio : str
        One of `ASPECT_RATIOS`.
    metal : str or None
        One of `VARIANT_METALS` to recolour the metal to, or None to keep it.
    backdrop : str
        One of `BACKDROPS`.
    seed : int
        Varies light direction, backdrop tone and mottle a little; the same seed gives the same bytes.
    long_edge : int, optional
        Longer side of the output, in pixels (default 1024); see `frame_size`.
    zoom : float, optional
        1 (default) frames the whole piece with margins; up to 8 crops tighter about its centre (a macro detail).

    Returns
    -------
    bytes
        The JPEG, of the size `frame_size` gives for `aspect_ratio` and `long_edge`.

    Raises
    ------
    ValueError
        If `references` is empty or holds an unreadable image, or `backdrop`, `metal`, `zoom`, `aspect_ratio` or
        `long_edge` is out of range.
    """
    if not references:
        raise ValueError("no reference images")
    if backdrop not in BACKDROPS:
        raise ValueError(f"backdrop must be one of {', '.join(BACKDROPS)}")
    if metal is not None and metal not in VARIANT_METALS:
        raise ValueError(f"metal must be one of {', '.join(VARIANT_METALS)} or None")
    if not (1.0 <= zoom <= 8.0) or not math.isfinite(zoom):
        raise ValueError("zoom must be between 1 and 8")
    W, H = frame_size(aspect_ratio, long_edge)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 7])

    # the piece rarely fills its reference: cut it out at about twice the output's size, at most WORK_EDGE
    cut = _choose(references, min(WORK_EDGE, max(1200, round(2.2 * long_edge * zoom))))
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
        # the rim's colour is the piece's own (the backdrop was taken out), so it is recoloured in full
        piece = recolour_metal(as_u8, alpha > 0.02, metal).astype(np.float32) / 255.0

    # fit: margins of ~11 % around, room below for the reflection; zoom enlarges about the piece's centre
    reflect = backdrop in ("white", "surface")
    ph, pw = piece.shape[:2]
    room_h = H * (0.74 if reflect else 0.8)
    room_w = W * 0.78
    fit = min(room_w / pw, room_h / ph)
    if touches["left"] and touches["right"]:
        fit = min(W / pw, room_h / ph)
    scale = fit * zoom
    tw, th = max(1, round(pw * scale)), max(1, round(ph * scale))
    piece = _retouch(piece, alpha, upscale=scale > 1.2)
    piece_s = np.clip(_resize(piece, (tw, th)), 0, 1)
    alpha_s = np.clip(_resize(alpha, (tw, th)), 0, 1)
    alpha_s = cv2.GaussianBlur(alpha_s, (0, 0), 0.5)
    # light local contrast, as a retoucher would: unsharp mask on the piece
    blur = cv2.GaussianBlur(piece_s, (0, 0), max(1.0, 1.2 * long_edge / 1024))
    piece_s = np.clip(piece_s + (0.2 if scale > 1.2 else 0.35) * (piece_s - blur), 0, 1)

    cx = W / 2
    cy = H * (0.45 if reflect else 0.5)
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
    bg = _backdrop(backdrop, (W, H), rng, horizon)

    A = _place((H, W), alpha_s, px, py)
    P = _place((H, W), piece_s, px, py)
    # shadows: a tight contact shadow along the bottom silhouette, a wide soft cast shadow off to one side
    side = rng.uniform(-1, 1)
    lift = max(2, round(th * 0.02))
    contact_src = _place((H, W), alpha_s, px, py + lift)
    squash = cv2.resize(contact_src, (W, max(1, H // 3)), interpolation=cv2.INTER_AREA)
    contact = cv2.resize(squash, (W, H), interpolation=cv2.INTER_LINEAR)
    contact = cv2.GaussianBlur(contact, (0, 0), max(1.5, th * 0.02))
    cast = _place((H, W), alpha_s, px + round(side * tw * 0.04), py + round(th * 0.03))
    cast = cv2.GaussianBlur(cast, (0, 0), max(3.0, 0.035 * max(tw, th)))
    strength = {"white": 0.16, "surface": 0.24, "skin": 0.2}[backdrop]
    shade = np.clip(strength * (0.9 * contact + 0.8 * cast), 0, 0.6)
    bg = bg * (1 - shade[..., None])
    if reflect:
        fade_len = max(4, round(th * 0.38))
        ramp = np.clip(1 - np.arange(th, dtype=np.float32) / fade_len, 0, 1) ** 1.6
        strength_r = rng.uniform(0.16, 0.22) if backdrop == "white" else rng.uniform(0.1, 0.15)
        r_alpha = np.flipud(alpha_s) * (ramp[:, None] * strength_r)
        r_rgb = np.flipud(piece_s)
        r_alpha = cv2.GaussianBlur(r_alpha, (0, 0), 1.2)
        r_rgb = cv2.GaussianBlur(r_rgb, (0, 0), 1.2)
        RA = _place((H, W), r_alpha, px, bottom + lift)
        RP = _place((H, W), r_rgb, px, bottom + lift)
        bg = bg * (1 - RA[..., None]) + RP * RA[..., None]
    out = bg * (1 - A[..., None]) + P * A[..., None]
    out8 = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out8).save(buf, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False)
    return buf.getvalue()


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
    data = render_packshot(*args, **kwargs)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
