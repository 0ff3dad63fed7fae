"""A labelled synthetic jewellery set, rendered procedurally (there are no jewellery photos on this machine).

    .venv/bin/python bench/jewellery_set.py OUT_DIR [--count 120] [--seed 1] [--long-edge 1400]

Writes OUT_DIR/NNN.jpg (a few CAD renders as .png) and OUT_DIR/labels.csv with the header
`file,type,metal,stones,shot`. `stones` is the dominant stone colour (by area), `colourless` or `none`. A sketch shows
no colour, so its metal and stones are written `unknown`: the right answer there is to abstain.

What is drawn: rings (tilted band, optional set stone, halo or eternity row), earrings (pairs of studs, drops or
hoops), pendants (a shape on a bail and a thin chain to the top edge), necklaces (a chain, collar or rivière across
the frame), bracelets (bangle, cuff or tennis loop), brooches (flower or cluster); yellow gold, rose gold, white metal
or two-tone, shaded as a reflective tube/bevelled plate under a studio environment (polished, matte, brushed or
hammered); faceted coloured or colourless stones, or cabochons. Shots: packshot (light plain backdrop, soft shadow,
sensor noise), lifestyle (wood, marble, linen, slate or velvet), on_model (a finger, wrist, neck or ear in one of
several skin tones), cad_render (perfect gradient, no noise, crisp edges) and sketch (graphite on paper).

`render_sample(spec, rng)` and `random_spec(rng)` are importable (tests load this file by path). Deterministic: the
same seed writes the same files.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

TYPES = ("ring", "earrings", "necklace", "pendant", "bracelet", "brooch")
METAL_WEIGHTS = {"yellow_gold": 0.34, "white_metal": 0.30, "rose_gold": 0.21, "mixed": 0.15}
STONE_WEIGHTS = {
    "none": 0.33,
    "colourless": 0.25,
    "red": 0.07,
    "blue": 0.08,
    "green": 0.07,
    "pink": 0.05,
    "purple": 0.05,
    "yellow": 0.05,
    "orange": 0.05,
}
SHOT_WEIGHTS = {"packshot": 0.34, "lifestyle": 0.2, "on_model": 0.16, "cad_render": 0.15, "sketch": 0.15}
FINISH_WEIGHTS = {"polished": 0.6, "matte": 0.14, "brushed": 0.12, "hammered": 0.14}
CUTS = ("round", "oval", "pear", "marquise", "emerald", "princess", "cushion", "cabochon")

# Base reflectance (sRGB, 0..1) of each metal; a sample jitters around one of them.
METAL_RGB = {
    "yellow_gold": ((0.95, 0.78, 0.40), (0.92, 0.74, 0.34), (0.96, 0.82, 0.48), (0.90, 0.72, 0.38)),
    "rose_gold": ((0.92, 0.63, 0.53), (0.88, 0.58, 0.50), (0.94, 0.68, 0.58), (0.90, 0.62, 0.56)),
    "white_metal": ((0.88, 0.88, 0.89), (0.82, 0.83, 0.85), (0.91, 0.91, 0.90), (0.85, 0.85, 0.86)),
}
STONE_RGB = {
    "red": ((0.72, 0.04, 0.10), (0.80, 0.08, 0.16), (0.62, 0.02, 0.12)),
    "pink": ((0.96, 0.42, 0.64), (0.93, 0.50, 0.70), (0.98, 0.38, 0.56)),
    "orange": ((0.96, 0.45, 0.06), (0.90, 0.38, 0.04)),
    "yellow": ((0.98, 0.80, 0.08), (0.96, 0.74, 0.12)),
    "green": ((0.04, 0.52, 0.26), (0.10, 0.60, 0.32), (0.30, 0.62, 0.12)),
    "blue": ((0.06, 0.18, 0.66), (0.10, 0.28, 0.74), (0.04, 0.12, 0.52)),
    "purple": ((0.48, 0.18, 0.66), (0.56, 0.24, 0.72), (0.40, 0.12, 0.56)),
}
SKIN_RGB = ((0.96, 0.80, 0.70), (0.91, 0.72, 0.60), (0.82, 0.60, 0.46), (0.64, 0.44, 0.32), (0.44, 0.30, 0.22))


@dataclass(frozen=True)
class Spec:
    type: str
    metal: str  # the metal drawn (a sketch is labelled "unknown" in the CSV, see `labels`)
    stones: str  # dominant stone colour, "colourless" or "none"
    shot: str
    finish: str = "polished"
    cut: str = "round"
    width: int = 1200
    height: int = 1200
    variant: str = ""  # forces a builder's style ("solitaire", "stud", "bangle", ...); empty: drawn at random

    def labels(self) -> dict[str, str]:
        sketch = self.shot == "sketch"
        return {
            "type": self.type,
            "metal": "unknown" if sketch else self.metal,
            "stones": "unknown" if sketch else self.stones,
            "shot": self.shot,
        }


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def random_spec(rng: np.random.Generator, long_edge: int = 1400) -> Spec:
    """A random labelled spec; the frame's long edge is `long_edge` ± 20 % at 1:1, 4:3, 3:4, 3:2 or 2:3."""
    piece = TYPES[int(rng.integers(len(TYPES)))]
    shot = _pick(rng, SHOT_WEIGHTS)
    aspect = (1.0, 4 / 3, 3 / 4, 3 / 2, 2 / 3)[int(rng.integers(5))]
    edge = int(long_edge * rng.uniform(0.8, 1.2))
    width, height = (edge, round(edge / aspect)) if aspect >= 1 else (round(edge * aspect), edge)
    return Spec(
        type=piece,
        metal=_pick(rng, METAL_WEIGHTS),
        stones=_pick(rng, STONE_WEIGHTS),
        shot=shot,
        finish=_pick(rng, FINISH_WEIGHTS),
        cut=CUTS[int(rng.integers(len(CUTS)))],
        width=width,
        height=height,
    )


# ------------------------------------------------------------------------------------------------------- geometry

SHIFT = 4  # cv2 sub-pixel bits
ONE = 1 << SHIFT


def _pts(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points, float) * ONE).astype(np.int32).reshape(-1, 1, 2)


def _rot(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def _ellipse_points(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 180) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([rx * np.cos(t), ry * np.sin(t)], 1)
    return _rot(pts, angle) + (cx, cy)


def _fill(shape, polys, value: int = 255) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    for poly in polys:  # one at a time: fillPoly would cancel where polygons overlap
        cv2.fillPoly(canvas, [_pts(poly)], value, cv2.LINE_AA, SHIFT)
    return canvas


def _line(shape, points: np.ndarray, width: float) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.polylines(canvas, [_pts(points)], False, 255, max(1, round(width)), cv2.LINE_AA, SHIFT)
    return canvas


def _unit_stone(cut: str, n: int = 96) -> np.ndarray:
    """The outline of a stone of unit half-height, pointing up (y down in image coordinates)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    if cut == "round":
        return np.stack([np.sin(t), -np.cos(t)], 1)
    if cut in ("oval", "cabochon"):
        return np.stack([0.72 * np.sin(t), -np.cos(t)], 1)
    if cut == "pear":
        x = 0.75 * np.sin(t) * np.abs(np.sin(t / 2)) ** 0.9
        y = np.cos(t)
        return np.stack([x, -y], 1) * 1.05
    if cut == "marquise":
        x = 0.48 * np.sin(t) * (1 - 0.15 * np.cos(t) ** 2)
        y = -np.cos(t)
        return np.stack([np.sign(x) * np.abs(x) ** 1.25 * 1.2, y], 1)
    if cut in ("emerald", "princess", "cushion"):
        w = 0.72 if cut == "emerald" else 1.0
        if cut == "cushion":
            p = 4.0
            c, s = np.cos(t), np.sin(t)
            return np.stack([np.sign(s) * np.abs(s) ** (2 / p), -np.sign(c) * np.abs(c) ** (2 / p)], 1) * 0.92
        k = 0.22 if cut == "emerald" else 0.04
        return (
            np.array(
                [(-w + k, -1), (w - k, -1), (w, -1 + k), (w, 1 - k), (w - k, 1), (-w + k, 1), (-w, 1 - k), (-w, -1 + k)]
            )
            * 0.9
        )
    raise ValueError(cut)


@dataclass
class Stone:
    cx: float
    cy: float
    r: float
    angle: float
    cut: str
    colour: str  # a STONE_RGB key or "colourless"


class Piece:
    """Metal as a height field (for shading) plus an alpha, stones above it, and small metal parts (prongs) on top."""

    def __init__(self, shape: tuple[int, int]):
        self.shape = shape
        self.height = np.zeros(shape, np.float32)
        self.alpha = np.zeros(shape, np.float32)
        self.top_height = np.zeros(shape, np.float32)
        self.top_alpha = np.zeros(shape, np.float32)
        self.stones: list[Stone] = []
        self.stones_alpha = np.zeros(shape, np.float32)
        self.lines: list[np.ndarray] = []  # extra detail strokes for sketches (facets are added from stones)

    def metal(self, mask_u8: np.ndarray, rise: float, *, top: bool = False, flat: bool = False) -> None:
        """Adds a metal part: `rise` is the distance in px over which its profile climbs from edge to crown."""
        solid = (mask_u8 > 127).astype(np.uint8)
        if not solid.any():
            return
        dist = cv2.distanceTransform(solid, cv2.DIST_L2, 3)
        u = np.clip(dist / max(rise, 1.0), 0, 1)
        prof = np.sqrt(1 - (1 - u) ** 2) if not flat else u
        h, a = (self.top_height, self.top_alpha) if top else (self.height, self.alpha)
        np.maximum(h, (prof * max(rise, 1.0)).astype(np.float32), out=h)
        np.maximum(a, mask_u8.astype(np.float32) / 255, out=a)

    def stone(self, stone: Stone, *, bezel: float = 1.14, prongs: int = 0) -> None:
        self.stones.append(stone)
        if bezel:
            pts = _rot(_unit_stone(stone.cut) * stone.r * bezel, stone.angle) + (stone.cx, stone.cy)
            self.metal(_fill(self.shape, [pts]), stone.r * 0.35)
        if prongs:
            outline = _rot(_unit_stone(stone.cut) * stone.r * 1.0, stone.angle) + (stone.cx, stone.cy)
            idx = (np.arange(prongs) * len(outline) // prongs + len(outline) // (2 * prongs)) % len(outline)
            canvas = np.zeros(self.shape, np.uint8)
            for x, y in outline[idx]:
                cv2.circle(
                    canvas, (round(x * ONE), round(y * ONE)), round(stone.r * 0.13 * ONE), 255, -1, cv2.LINE_AA, SHIFT
                )
            self.metal(canvas, stone.r * 0.12, top=True)


# ------------------------------------------------------------------------------------------------------ the pieces


def _stone_colour(spec: Spec) -> str | None:
    return None if spec.stones == "none" else spec.stones


def _build_ring(p: Piece, spec: Spec, rng) -> None:
    h, w = p.shape
    s = min(h, w)
    rx = s * rng.uniform(0.17, 0.3)
    tilt = rng.uniform(0.35, 1.0)
    ry = rx * tilt
    band = rx * rng.uniform(0.1, 0.22)
    ang = rng.uniform(-0.45, 0.45)
    colour = _stone_colour(spec)
    cx = w / 2 + rng.uniform(-0.08, 0.08) * w
    cy = h / 2 + rng.uniform(-0.05, 0.1) * h + (0.08 * s if colour else 0)
    outer = _ellipse_points(cx, cy, rx, ry, ang)
    off = _rot(np.array([[0.0, band * 0.25 * (1 - tilt)]]), ang)[0]
    inner = _ellipse_points(cx + off[0], cy + off[1], rx - band, max(ry - band * (0.45 + 0.55 * tilt), ry * 0.25), ang)
    ring = cv2.subtract(_fill(p.shape, [outer]), _fill(p.shape, [inner]))
    p.metal(ring, band * 0.5)
    if not colour:
        return
    top = _rot(np.array([[0.0, -ry]]), ang)[0] + (cx, cy)
    rs = rx * rng.uniform(0.24, 0.42)
    style = rng.uniform()
    if spec.variant:
        style = {"halo": 0.0, "eternity": 0.0}.get(spec.variant, 1.0)
    if colour != "colourless" and style < 0.3:  # a coloured centre stone in a colourless halo
        p.stone(Stone(top[0], top[1] - rs * 0.35, rs * 1.35, ang, "round", "colourless"), bezel=1.08)
        for k in range(12):
            t = 2 * np.pi * k / 12
            halo = (top[0] + math.sin(t) * rs * 1.12, top[1] - rs * 0.35 - math.cos(t) * rs * 1.12)
            p.stone(Stone(halo[0], halo[1], rs * 0.2, 0.0, "round", "colourless"), bezel=0)
        p.stone(Stone(top[0], top[1] - rs * 0.35, rs * 0.85, ang, spec.cut, colour), bezel=0, prongs=4)
    elif colour == "colourless" and style < 0.3:  # eternity row across the top of the band
        n = int(rng.integers(5, 9))
        for k in range(n):
            t = np.pi * (0.15 + 0.7 * k / (n - 1))
            q = _rot(np.array([[-math.cos(t) * rx, -math.sin(t) * ry]]), ang)[0] + (cx, cy)
            p.stone(Stone(q[0], q[1] + band * 0.1, band * 0.42, 0.0, "round", "colourless"), bezel=0)
    else:
        p.stone(Stone(top[0], top[1] - rs * 0.4, rs, ang, spec.cut, colour), prongs=int(rng.choice([0, 4, 6])))


def _earring(p: Piece, spec: Spec, cx: float, cy: float, r: float, style: str, mirror: int, rot: float) -> None:
    colour = _stone_colour(spec)
    if style == "hoop":
        outer = _ellipse_points(cx, cy, r, r * 1.05, rot)
        inner = _ellipse_points(cx, cy, r * 0.82, r * 0.87, rot)
        p.metal(cv2.subtract(_fill(p.shape, [outer]), _fill(p.shape, [inner])), r * 0.09)
        if colour:
            for k in range(5):
                t = np.pi * (0.3 + 0.4 * k / 4)
                p.stone(
                    Stone(
                        cx + mirror * math.cos(t) * r * 0.91, cy + math.sin(t) * r * 0.96, r * 0.09, 0, "round", colour
                    ),
                    bezel=0,
                )
        return
    if style == "drop":
        top = (cx, cy - r * 1.6)
        p.metal(_line(p.shape, np.array([top, (cx, cy - r * 0.9)]), max(2.0, r * 0.08)), r * 0.05)
        ball = _ellipse_points(top[0], top[1], r * 0.18, r * 0.18)
        p.metal(_fill(p.shape, [ball]), r * 0.12)
        drop = _rot(_unit_stone("pear") * r * 1.0 * np.array([1, -1]), rot) + (cx, cy)
        if colour:
            p.metal(_fill(p.shape, [_rot(_unit_stone("pear") * r * 1.08 * np.array([1, -1]), rot) + (cx, cy)]), r * 0.2)
            p.stone(Stone(cx, cy + r * 0.05, r * 0.82, rot + np.pi, "pear", colour), bezel=0)
        else:
            p.metal(_fill(p.shape, [drop]), r * 0.5)
        return
    # stud
    if colour:
        p.stone(Stone(cx, cy, r * 0.8, rot, spec.cut if spec.cut != "marquise" else "round", colour), prongs=4)
    else:
        petals = []
        for k in range(6):
            t = 2 * np.pi * k / 6 + rot
            petals.append(
                _ellipse_points(cx + math.cos(t) * r * 0.5, cy + math.sin(t) * r * 0.5, r * 0.45, r * 0.25, t)
            )
        p.metal(_fill(p.shape, petals), r * 0.2)
        p.metal(_fill(p.shape, [_ellipse_points(cx, cy, r * 0.3, r * 0.3)]), r * 0.25, top=True)


def _build_earrings(p: Piece, spec: Spec, rng) -> None:
    h, w = p.shape
    s = min(h, w)
    style = spec.variant or str(rng.choice(["stud", "drop", "hoop"], p=[0.45, 0.3, 0.25]))
    r = s * (rng.uniform(0.07, 0.13) if style != "hoop" else rng.uniform(0.12, 0.2))
    gap = max(w * rng.uniform(0.16, 0.24), r * 1.35)
    cy = h / 2 + rng.uniform(-0.06, 0.06) * h + (r * 0.6 if style == "drop" else 0)
    cx = w / 2 + rng.uniform(-0.04, 0.04) * w
    rot = rng.uniform(-0.25, 0.25)
    for side in (-1, 1):
        jitter = 1 + rng.uniform(-0.04, 0.04)
        _earring(p, spec, cx + side * gap, cy + rng.uniform(-0.02, 0.02) * h, r * jitter, style, side, rot * side)


def _chain(p: Piece, pts: np.ndarray, width: float) -> None:
    if width < 3.5:
        p.metal(_line(p.shape, pts, width), width * 0.5)
        return
    # links: alternate flat and edge-on ellipses along the path
    seg = np.cumsum(np.r_[0, np.hypot(*np.diff(pts, axis=0).T)])
    step = width * 1.6
    canvas = np.zeros(p.shape, np.uint8)
    for k, d in enumerate(np.arange(0, seg[-1], step)):
        i = min(np.searchsorted(seg, d), len(pts) - 1)
        j = max(i - 1, 0)
        ang = math.atan2(pts[i, 1] - pts[j, 1], pts[i, 0] - pts[j, 0])
        ry = width * (0.55 if k % 2 else 0.3)
        cv2.ellipse(
            canvas,
            (round(pts[i, 0] * ONE), round(pts[i, 1] * ONE)),
            (round(width * 1.05 * ONE), round(ry * ONE)),
            math.degrees(ang),
            0,
            360,
            255,
            max(1, round(width * 0.35)),
            cv2.LINE_AA,
            SHIFT,
        )
    p.metal(canvas, width * 0.25)


def _bezier(a, b, c, n: int = 120) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.array(a) + 2 * (1 - t) * t * np.array(b) + t**2 * np.array(c)


def _build_pendant(p: Piece, spec: Spec, rng) -> None:
    h, w = p.shape
    s = min(h, w)
    colour = _stone_colour(spec)
    r = s * rng.uniform(0.1, 0.19)
    cx = w / 2 + rng.uniform(-0.06, 0.06) * w
    cy = h * rng.uniform(0.56, 0.68)
    shape = spec.variant or str(rng.choice(["disc", "heart", "teardrop", "bar", "stone"]))
    bail_y = cy - r * 1.15
    width = max(2.0, s * rng.uniform(0.004, 0.009))
    for side in (-1, 1):
        end = (cx + side * w * rng.uniform(0.22, 0.42), -5.0)
        mid = (cx + side * w * rng.uniform(0.05, 0.12), bail_y - h * rng.uniform(0.15, 0.25))
        _chain(p, _bezier((cx, bail_y - r * 0.12), mid, end), width)
    bail = cv2.subtract(
        _fill(p.shape, [_ellipse_points(cx, bail_y, r * 0.16, r * 0.2)]),
        _fill(p.shape, [_ellipse_points(cx, bail_y, r * 0.08, r * 0.12)]),
    )
    p.metal(bail, r * 0.05)
    if shape == "disc":
        p.metal(_fill(p.shape, [_ellipse_points(cx, cy, r, r)]), r * 0.25, flat=True)
    elif shape == "heart":
        t = np.linspace(0, 2 * np.pi, 160, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        p.metal(_fill(p.shape, [np.stack([x, y], 1) * r / 16 + (cx, cy)]), r * 0.3, flat=True)
    elif shape == "teardrop":
        p.metal(_fill(p.shape, [_unit_stone("pear") * r * np.array([1, 1.1]) + (cx, cy)]), r * 0.35)
    elif shape == "bar":
        p.metal(
            _fill(p.shape, [np.array([(-0.22, -1.0), (0.22, -1.0), (0.22, 1.0), (-0.22, 1.0)]) * r + (cx, cy)]), r * 0.1
        )
    if colour:
        if shape == "stone":
            p.stone(Stone(cx, cy, r * 0.85, 0.0, spec.cut, colour), prongs=4)
        elif shape == "bar":
            for k in range(3):
                p.stone(Stone(cx, cy + (k - 1) * r * 0.55, r * 0.18, 0, "round", colour), bezel=0)
        else:
            p.stone(Stone(cx, cy, r * 0.42, 0.0, spec.cut if shape != "teardrop" else "pear", colour), bezel=1.12)
    elif shape == "stone":
        p.metal(_fill(p.shape, [_ellipse_points(cx, cy, r * 0.75, r * 0.75)]), r * 0.6)


def _build_necklace(p: Piece, spec: Spec, rng) -> None:
    h, w = p.shape
    s = min(h, w)
    colour = _stone_colour(spec)
    inside = rng.uniform() < 0.3
    x0, x1 = (w * rng.uniform(0.04, 0.1), w * rng.uniform(0.9, 0.96)) if inside else (-10.0, w + 10.0)
    y0, y1 = h * rng.uniform(0.05, 0.35), h * rng.uniform(0.05, 0.35)
    sag = h * rng.uniform(0.62, 0.86)
    style = spec.variant or str(rng.choice(["chain", "collar", "riviere"] if colour else ["chain", "collar"]))
    pts = _bezier((x0, y0), ((x0 + x1) / 2 + rng.uniform(-0.05, 0.05) * w, 2 * sag - (y0 + y1) / 2), (x1, y1), 240)
    if style == "collar":
        p.metal(_line(p.shape, pts, s * rng.uniform(0.018, 0.04)), s * 0.012)
    else:
        _chain(p, pts, max(2.0, s * rng.uniform(0.005, 0.012)))
    if colour:
        n = int(rng.integers(5, 14)) if style == "riviere" else int(rng.integers(1, 6))
        rs = s * rng.uniform(0.016, 0.03)
        seg = np.cumsum(np.r_[0, np.hypot(*np.diff(pts, axis=0).T)])
        span = rs * 2.4 * (n - 1)
        for k in range(n):
            d = seg[-1] / 2 - span / 2 + k * rs * 2.4
            i = int(np.clip(np.searchsorted(seg, d), 0, len(pts) - 1))
            p.stone(
                Stone(
                    pts[i, 0],
                    pts[i, 1] + rs * 0.4,
                    rs,
                    0.0,
                    "round" if spec.cut in ("pear", "marquise") else spec.cut,
                    colour,
                )
            )


def _build_bracelet(p: Piece, spec: Spec, rng) -> None:
    h, w = p.shape
    s = min(h, w)
    colour = _stone_colour(spec)
    style = spec.variant or str(rng.choice(["bangle", "cuff", "tennis"] if colour else ["bangle", "cuff"]))
    cx = w / 2 + rng.uniform(-0.05, 0.05) * w
    cy = h / 2 + rng.uniform(-0.05, 0.05) * h
    ang = rng.uniform(-0.3, 0.3)
    if style == "cuff":
        rx = s * rng.uniform(0.28, 0.4)
        ry = rx * rng.uniform(0.25, 0.5)
        depth = s * rng.uniform(0.1, 0.2)
        cy -= depth / 2
        polys = [_ellipse_points(cx, cy + k * depth / 10, rx, ry, ang) for k in range(11)]
        body = _fill(p.shape, polys)
        hole = _fill(p.shape, [_ellipse_points(cx, cy, rx * 0.95, ry * 0.88, ang)])
        p.metal(cv2.subtract(body, hole), depth * 0.3, flat=True)
        if colour:
            n = int(rng.integers(1, 6))
            for k in range(n):
                t = np.pi * (0.5 + (k - (n - 1) / 2) * 0.12)
                q = _rot(np.array([[math.cos(t) * rx, math.sin(t) * ry + depth * 0.5]]), ang)[0] + (cx, cy)
                p.stone(Stone(q[0], q[1], depth * 0.22, 0, spec.cut, colour))
        return
    rx = s * rng.uniform(0.32, 0.45)
    ry = rx * rng.uniform(0.32, 1.0)
    if style == "bangle":
        band = rx * rng.uniform(0.035, 0.085)
        outer = _ellipse_points(cx, cy, rx, ry, ang)
        inner = _ellipse_points(cx, cy, rx - band, ry - band, ang)
        p.metal(cv2.subtract(_fill(p.shape, [outer]), _fill(p.shape, [inner])), band * 0.5)
        if colour:
            n = int(rng.integers(1, 6))
            for k in range(n):
                t = -np.pi / 2 + (k - (n - 1) / 2) * 0.16
                q = _rot(np.array([[math.cos(t) * (rx - band / 2), math.sin(t) * (ry - band / 2)]]), ang)[0] + (cx, cy)
                p.stone(Stone(q[0], q[1], band * 0.9, 0, "round", colour))
        return
    # tennis: a loop of stones in collets on a thin band
    rs = s * rng.uniform(0.014, 0.022)
    outer = _ellipse_points(cx, cy, rx + rs * 0.4, ry + rs * 0.4, ang)
    inner = _ellipse_points(cx, cy, rx - rs * 0.4, ry - rs * 0.4, ang)
    p.metal(cv2.subtract(_fill(p.shape, [outer]), _fill(p.shape, [inner])), rs * 0.3)
    perim = math.pi * (3 * (rx + ry) - math.sqrt((3 * rx + ry) * (rx + 3 * ry)))
    n = int(perim / (rs * 2.5))
    for k in range(n):
        t = 2 * np.pi * k / n
        q = _rot(np.array([[math.cos(t) * rx, math.sin(t) * ry]]), ang)[0] + (cx, cy)
        p.stone(Stone(q[0], q[1], rs, 0, "round", colour), bezel=1.22)


def _build_brooch(p: Piece, spec: Spec, rng) -> None:
    h, w = p.shape
    s = min(h, w)
    colour = _stone_colour(spec)
    big = s * rng.uniform(0.15, 0.28)
    cx = w / 2 + rng.uniform(-0.06, 0.06) * w
    cy = h / 2 + rng.uniform(-0.06, 0.06) * h
    style = spec.variant or str(rng.choice(["flower", "cluster", "leaf"]))
    rot = rng.uniform(0, np.pi)
    if style == "flower":
        n = int(rng.integers(5, 9))
        petals = [
            _ellipse_points(cx + math.cos(t) * big * 0.5, cy + math.sin(t) * big * 0.5, big * 0.52, big * 0.26, t)
            for t in rot + 2 * np.pi * np.arange(n) / n
        ]
        p.metal(_fill(p.shape, petals), big * 0.12)
        p.metal(_fill(p.shape, [_ellipse_points(cx, cy, big * 0.34, big * 0.34)]), big * 0.15)
        if colour:
            p.stone(Stone(cx, cy, big * 0.26, rot, spec.cut, colour), bezel=1.1, prongs=6)
        else:
            p.metal(_fill(p.shape, [_ellipse_points(cx, cy, big * 0.2, big * 0.2)]), big * 0.2, top=True)
    elif style == "cluster":
        p.metal(_fill(p.shape, [_ellipse_points(cx, cy, big * 0.95, big * 0.8, rot)]), big * 0.08, flat=True)
        pos = [(0.0, 0.0)] + [(math.cos(t) * 0.58, math.sin(t) * 0.5) for t in rot + 2 * np.pi * np.arange(7) / 7]
        for k, (dx, dy) in enumerate(pos):
            r = big * (0.3 if k == 0 else 0.2)
            if colour:
                p.stone(Stone(cx + dx * big, cy + dy * big, r, rot, "round" if k else spec.cut, colour), prongs=0)
            else:
                p.metal(_fill(p.shape, [_ellipse_points(cx + dx * big, cy + dy * big, r, r)]), r * 0.7, top=True)
    else:  # leaf spray: stem and leaves
        stem = _bezier((cx - big, cy + big * 0.8), (cx, cy + big * 0.1), (cx + big * 0.9, cy - big * 0.9))
        p.metal(_line(p.shape, stem, max(3.0, big * 0.07)), big * 0.04)
        leaves = []
        for k in range(5):
            q = stem[int(20 + k * 22)]
            side = 1 if k % 2 else -1
            t = -0.8 + side * 0.9
            leaves.append(
                _ellipse_points(
                    q[0] + math.cos(t) * big * 0.3, q[1] + math.sin(t) * big * 0.3, big * 0.34, big * 0.14, t
                )
            )
        p.metal(_fill(p.shape, leaves), big * 0.08)
        if colour:
            q = stem[-1]
            p.stone(Stone(q[0], q[1], big * 0.22, 0.3, spec.cut, colour), prongs=4)


BUILDERS = {
    "ring": _build_ring,
    "earrings": _build_earrings,
    "pendant": _build_pendant,
    "necklace": _build_necklace,
    "bracelet": _build_bracelet,
    "brooch": _build_brooch,
}


# ------------------------------------------------------------------------------------------------------- shading


def _normals(height: np.ndarray, bump: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hgt = cv2.GaussianBlur(height, (0, 0), 1.0)
    if bump is not None:
        hgt = hgt + bump
    gx = cv2.Sobel(hgt, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(hgt, cv2.CV_32F, 0, 1, ksize=3) / 8
    k = 1.4
    nz = 1 / np.sqrt(1 + k * k * (gx * gx + gy * gy))
    return -k * gx * nz, -k * gy * nz, nz


def _environment(nx, ny, nz, light: dict, finish: str) -> np.ndarray:
    """Radiance a mirror-like surface reflects: a studio with two soft boxes, a bright ceiling and a dark floor."""
    rx, ry, rz = 2 * nz * nx, 2 * nz * ny, 2 * nz * nz - 1
    spread = 1.0 if finish == "polished" else 2.2
    env = 0.5 + 0.25 * np.clip(-ry, -1, 1) + 0.1 * rz
    for lx, ly, amp, size in light["boxes"]:
        env = env + amp * np.exp(-((rx - lx) ** 2 + (ry - ly) ** 2) / (size * spread) ** 2)
    env = env - 0.3 * np.exp(-((rz + 0.1) ** 2) / 0.03) * (ry > -0.2)  # dark band at the horizon
    env = env - light["camera"] * np.exp(-(rx * rx + ry * ry) / 0.12)  # faces towards the lens mirror the dark camera
    if finish == "matte":
        env = 0.55 + (env - 0.55) * 0.45
    return env.astype(np.float32)


def _metal_colour(metal: str, rng) -> np.ndarray:
    options = METAL_RGB[metal]
    base = np.array(options[int(rng.integers(len(options)))], np.float32)
    return np.clip(base + rng.uniform(-0.02, 0.02, 3), 0, 1).astype(np.float32)


def _shade_metal(height, alpha, spec: Spec, rng, light, region: np.ndarray | None, colours) -> np.ndarray:
    h, w = height.shape
    bump = None
    if spec.finish == "hammered":
        noise = rng.normal(0, 1, (h // 12 + 2, w // 12 + 2)).astype(np.float32)
        bump = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC) * 1.6
    elif spec.finish == "brushed":
        noise = rng.normal(0, 1, (h, w)).astype(np.float32)
        bump = cv2.GaussianBlur(noise, (0, 0), sigmaX=9, sigmaY=0.6) * 2.2
    nx, ny, nz = _normals(height, bump)
    env = _environment(nx, ny, nz, light, spec.finish)
    if region is None:
        base = np.broadcast_to(colours[0], (h, w, 3))
    else:
        base = colours[0] * (1 - region[..., None]) + colours[1] * region[..., None]
    lit = base * np.clip(env, 0, 1)[..., None]
    spec_hi = np.clip(env - 0.95, 0, None)[..., None] * 1.8
    rgb = lit + spec_hi * (1 - lit) * 0.9
    if region is not None:  # a fine groove where the two alloys meet
        edge = cv2.morphologyEx((region > 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        rgb = rgb * (1 - 0.35 * edge[..., None])
    return np.clip(rgb, 0, 1).astype(np.float32)


def _stone_patch(stone: Stone, shape, rng, light) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """(slices, rgb, alpha) of one stone: facets of random brightness (a table, crown and pavilion ring)."""
    h, w = shape
    pts = _rot(_unit_stone(stone.cut) * stone.r, stone.angle) + (stone.cx, stone.cy)
    x0, y0 = np.floor(pts.min(0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return (slice(0, 0), slice(0, 0)), np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), np.float32)
    local = pts - (x0, y0)
    mask = _fill((y1 - y0, x1 - x0), [local]).astype(np.float32) / 255
    solid = (mask > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(solid, cv2.DIST_L2, 3)
    rho = 1 - dist / max(float(dist.max()), 1e-3)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    theta = np.arctan2(yy - stone.cy, xx - stone.cx) - stone.angle
    if stone.colour == "colourless":
        base = np.array([0.93, 0.94, 0.96], np.float32)
    else:
        opts = STONE_RGB[stone.colour]
        base = np.clip(np.array(opts[int(rng.integers(len(opts)))], np.float32) + rng.uniform(-0.03, 0.03, 3), 0, 1)
    if stone.cut == "cabochon":
        dome = np.sqrt(np.clip(1 - rho**2, 0, 1))
        shade = 0.45 + 0.6 * dome
        rgb = base * shade[..., None]
        hx, hy = stone.cx - stone.r * 0.3, stone.cy - stone.r * 0.35
        spot = np.exp(-((xx - hx) ** 2 + (yy - hy) ** 2) / (stone.r * 0.18) ** 2)
        rgb = rgb + spot[..., None] * (1 - rgb) * 0.9
    else:
        nf = 8 if stone.r < 12 else 16
        sector = np.floor((theta % (2 * np.pi)) / (2 * np.pi) * nf).astype(int)
        ring = (rho > 0.42).astype(int) + (rho > 0.78).astype(int)
        facet = sector + nf * ring
        if stone.colour == "colourless":
            levels = rng.choice([0.18, 0.35, 0.6, 0.85, 1.0, 1.0], size=3 * nf).astype(np.float32)
            levels[: nf // 2] = rng.uniform(0.75, 1.0, nf // 2)
            shade = levels[facet]
            rgb = np.repeat(shade[..., None], 3, 2) * base
            fire = rng.uniform(-0.08, 0.08, (3 * nf, 3)).astype(np.float32) * (rng.uniform(size=(3 * nf, 1)) < 0.15)
            rgb = rgb + fire[facet]
        else:
            levels = rng.uniform(0.35, 1.25, 3 * nf).astype(np.float32)
            levels[rng.uniform(size=3 * nf) < 0.08] = 1.7
            shade = levels[facet]
            rgb = base * np.minimum(shade, 1.0)[..., None]
            rgb = rgb + np.clip(shade - 1.0, 0, None)[..., None] * (1 - rgb) * 0.9
        # a sparkle or two
        for _ in range(int(rng.integers(0, 3))):
            sx, sy = rng.uniform(-0.5, 0.5, 2) * stone.r + (stone.cx - x0, stone.cy - y0)
            star = np.zeros(mask.shape, np.float32)
            L = max(2, round(stone.r * rng.uniform(0.25, 0.55)))
            cv2.line(star, (round(sx - L), round(sy)), (round(sx + L), round(sy)), 1.0, 1, cv2.LINE_AA)
            cv2.line(star, (round(sx), round(sy - L)), (round(sx), round(sy + L)), 1.0, 1, cv2.LINE_AA)
            star = cv2.GaussianBlur(star, (0, 0), 0.7) * 1.6
            rgb = rgb + np.clip(star, 0, 1)[..., None] * (1 - rgb)
    girdle = cv2.morphologyEx(solid, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(np.float32)
    rgb = rgb * (1 - 0.3 * girdle[..., None])
    return (slice(y0, y1), slice(x0, x1)), np.clip(rgb, 0, 1).astype(np.float32), mask


def _light(rng) -> dict:
    boxes = []
    for _ in range(int(rng.integers(2, 4))):
        boxes.append((rng.uniform(-0.8, 0.8), rng.uniform(-0.9, 0.3), rng.uniform(0.5, 1.1), rng.uniform(0.25, 0.5)))
    return {
        "boxes": boxes,
        "shadow": (rng.uniform(-0.03, 0.03), rng.uniform(0.01, 0.04)),
        "camera": rng.uniform(0.1, 0.28),
    }


def _mixed_region(piece: Piece, rng) -> np.ndarray:
    h, w = piece.shape
    ys, xs = np.nonzero(piece.alpha > 0.5)
    cx, cy = xs.mean(), ys.mean()
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.uniform() < 0.5:
        t = rng.uniform(0, np.pi)
        region = ((xx - cx) * math.cos(t) + (yy - cy) * math.sin(t)) > 0
    else:
        d = np.hypot(xx - cx, yy - cy)
        rad = np.percentile(np.hypot(xs - cx, ys - cy), rng.uniform(35, 60))
        region = d < rad
    return cv2.GaussianBlur(region.astype(np.float32), (0, 0), 0.8)


def _render_piece(spec: Spec, rng) -> tuple[Piece, np.ndarray, np.ndarray, dict]:
    """(piece, rgb, alpha, light) of the piece alone, before any backdrop."""
    piece = Piece((spec.height, spec.width))
    BUILDERS[spec.type](piece, spec, rng)
    light = _light(rng)
    if spec.metal == "mixed":
        colours = [_metal_colour("yellow_gold", rng), _metal_colour("white_metal", rng)]
        if rng.uniform() < 0.3:
            colours[1] = _metal_colour("rose_gold", rng)
        region = _mixed_region(piece, rng)
    else:
        colours = [_metal_colour(spec.metal, rng)]
        region = None
    rgb = _shade_metal(piece.height, piece.alpha, spec, rng, light, region, colours)
    alpha = piece.alpha.copy()
    stones_alpha = np.zeros(piece.shape, np.float32)
    for stone in piece.stones:
        sl, srgb, salpha = _stone_patch(stone, piece.shape, rng, light)
        if salpha.size == 0:
            continue
        a = salpha[..., None]
        rgb[sl] = rgb[sl] * (1 - a) + srgb * a
        alpha[sl] = np.maximum(alpha[sl], salpha)
        stones_alpha[sl] = np.maximum(stones_alpha[sl], salpha)
    if piece.top_alpha.any():
        top = _shade_metal(piece.top_height, piece.top_alpha, spec, rng, light, region, colours)
        a = piece.top_alpha[..., None]
        rgb = rgb * (1 - a) + top * a
        alpha = np.maximum(alpha, piece.top_alpha)
        stones_alpha = stones_alpha * (1 - piece.top_alpha)
    piece.stones_alpha = stones_alpha
    return piece, rgb, alpha, light


# ------------------------------------------------------------------------------------------------------ backdrops


def _smooth_noise(rng, shape, scale: float) -> np.ndarray:
    h, w = shape
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    n = rng.normal(0, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)


def _gradient(shape, top, bottom, vignette: float = 0.0, cx: float = 0.5, cy: float = 0.45) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (yy / max(h - 1, 1))[..., None]
    rgb = np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t
    if vignette:
        r2 = ((xx / w - cx) ** 2 + (yy / h - cy) ** 2) / 0.5
        rgb = rgb * (1 - vignette * r2)[..., None]
    return rgb


def _backdrop_lifestyle(rng, shape) -> np.ndarray:
    h, w = shape
    kind = str(rng.choice(["wood", "marble", "linen", "slate", "velvet"]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        base = np.array(
            rng.choice([(0.55, 0.36, 0.2), (0.7, 0.52, 0.34), (0.4, 0.25, 0.14), (0.78, 0.62, 0.45)]), np.float32
        )
        warp = _smooth_noise(rng, shape, 120) * 25 + _smooth_noise(rng, shape, 20) * 3
        t = rng.uniform(-0.2, 0.2)
        coord = (yy * math.cos(t) + xx * math.sin(t) + warp) / rng.uniform(6, 14)
        grain = 0.5 + 0.5 * np.sin(coord) * (0.6 + 0.4 * np.sin(coord * 0.31))
        rgb = base * (0.8 + 0.3 * grain)[..., None]
    elif kind == "marble":
        base = np.array(rng.choice([(0.93, 0.92, 0.9), (0.86, 0.85, 0.84), (0.25, 0.25, 0.27)]), np.float32)
        turb = _smooth_noise(rng, shape, 90) * 2 + _smooth_noise(rng, shape, 30)
        veins = np.abs(np.sin((xx + yy * 0.7) / 90 + turb * 1.8)) ** 0.25
        shade = (0.78 + 0.22 * veins) if base[0] > 0.5 else (1.0 + 1.2 * (1 - veins))
        rgb = base * shade[..., None] + _smooth_noise(rng, shape, 40)[..., None] * 0.015
    elif kind == "linen":
        base = np.array(rng.choice([(0.86, 0.8, 0.7), (0.78, 0.72, 0.64), (0.7, 0.66, 0.6)]), np.float32)
        period = rng.uniform(3.5, 6)
        weave = 0.5 * np.sin(xx * 2 * np.pi / period) + 0.5 * np.sin(yy * 2 * np.pi / period)
        slub = _smooth_noise(rng, (h, w), 8) * 0.5
        rgb = base * (0.9 + 0.06 * weave + 0.04 * slub)[..., None]
        rgb = rgb * (0.95 + 0.05 * _smooth_noise(rng, shape, 150))[..., None]
    elif kind == "slate":
        base = np.array(rng.choice([(0.22, 0.23, 0.25), (0.3, 0.3, 0.31)]), np.float32)
        rgb = base * (0.85 + 0.12 * _smooth_noise(rng, shape, 6) + 0.12 * _smooth_noise(rng, shape, 60))[..., None]
    else:  # velvet with soft folds
        base = np.array(
            rng.choice([(0.1, 0.14, 0.35), (0.38, 0.06, 0.12), (0.06, 0.25, 0.18), (0.12, 0.12, 0.13)]), np.float32
        )
        folds = _smooth_noise(rng, shape, 180)
        rgb = base * (0.75 + 0.35 * (folds - folds.min()) / (np.ptp(folds) + 1e-6))[..., None]
    return rgb


def _skin(rng, shape, spec: Spec, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(backdrop rgb, skin mask) for an on-model shot: a finger, wrist, neck or ear behind the piece."""
    h, w = shape
    s = min(h, w)
    ys, xs = np.nonzero(alpha > 0.5)
    cx, cy = float(xs.mean()), float(ys.mean())
    tone = np.array(SKIN_RGB[int(rng.integers(len(SKIN_RGB)))], np.float32) * rng.uniform(0.94, 1.04)
    behind = np.array(
        rng.choice([(0.85, 0.84, 0.82), (0.2, 0.2, 0.22), (0.6, 0.62, 0.66), (0.75, 0.7, 0.64)]), np.float32
    )
    bg = _gradient(shape, behind * 1.05, behind * 0.9)
    canvas = np.zeros(shape, np.uint8)
    if spec.type in ("ring", "bracelet"):
        span = xs.max() - xs.min()
        width = span * (0.5 if spec.type == "ring" else 0.62)
        t = rng.uniform(-0.5, 0.5)
        d = np.array([math.sin(t), math.cos(t)])
        a = (cx - d[0] * 3 * h, cy - d[1] * 3 * h)
        b = (cx + d[0] * 3 * h, cy + d[1] * 3 * h)
        cv2.line(canvas, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 255, round(width), cv2.LINE_AA)
        if spec.type == "ring":  # the rest of the hand
            cv2.ellipse(
                canvas,
                (round(cx + d[0] * s * 0.5), round(cy + d[1] * s * 0.7)),
                (round(s * 0.45), round(s * 0.3)),
                math.degrees(-t),
                0,
                360,
                255,
                -1,
                cv2.LINE_AA,
            )
    elif spec.type in ("necklace", "pendant", "brooch"):
        neck_w = w * rng.uniform(0.3, 0.42)
        poly = np.array(
            [
                (w / 2 - neck_w / 2, -10),
                (w / 2 + neck_w / 2, -10),
                (w / 2 + neck_w * 0.6, h * 0.3),
                (w + 10, h * 0.45),
                (w + 10, h + 10),
                (-10, h + 10),
                (-10, h * 0.45),
                (w / 2 - neck_w * 0.6, h * 0.3),
            ]
        )
        cv2.fillPoly(canvas, [_pts(poly)], 255, cv2.LINE_AA, SHIFT)
        if spec.type == "brooch":  # a lapel over most of the chest
            canvas[int(h * 0.4) :] = 0
    else:  # earrings: the side of a face and neck
        poly = np.array([(w * 0.35, -10), (w + 10, -10), (w + 10, h + 10), (w * 0.45, h + 10), (w * 0.3, h * 0.5)])
        cv2.fillPoly(canvas, [_pts(poly)], 255, cv2.LINE_AA, SHIFT)
        cv2.ellipse(
            canvas,
            (round(w * 0.36), round(cy - s * 0.12)),
            (round(s * 0.12), round(s * 0.2)),
            0,
            0,
            360,
            255,
            -1,
            cv2.LINE_AA,
        )
    mask = cv2.GaussianBlur(canvas.astype(np.float32) / 255, (0, 0), 2.0)
    shade = 0.82 + 0.25 * (_smooth_noise(rng, shape, s * 0.5) * 0.35 + 0.5)
    shade = shade + 0.015 * _smooth_noise(rng, shape, 3)
    skin = tone * np.clip(shade, 0.5, 1.2)[..., None]
    rgb = bg * (1 - mask[..., None]) + skin * mask[..., None]
    if spec.type == "brooch":  # fabric where there is no skin
        cloth = np.array(rng.choice([(0.12, 0.12, 0.16), (0.5, 0.45, 0.4), (0.7, 0.12, 0.14)]), np.float32)
        lapel = (np.mgrid[0:h, 0:w][0] > h * 0.4).astype(np.float32)
        rgb = (
            rgb * (1 - lapel[..., None])
            + (cloth * (0.9 + 0.1 * _smooth_noise(rng, shape, 80))[..., None]) * lapel[..., None]
        )
    return rgb, mask


def _shadow(alpha: np.ndarray, light: dict, strength: float, blur: float) -> np.ndarray:
    h, w = alpha.shape
    s = min(h, w)
    dx, dy = light["shadow"]
    m = np.float32([[1, 0, dx * s], [0, 1, dy * s]])
    moved = cv2.warpAffine(alpha, m, (w, h))
    soft = cv2.GaussianBlur(moved, (0, 0), blur * s)
    contact = cv2.GaussianBlur(
        cv2.warpAffine(alpha, np.float32([[1, 0, 0], [0, 1, 0.006 * s]]), (w, h)), (0, 0), 0.006 * s
    )
    return np.clip(strength * soft + 0.5 * strength * contact, 0, 0.85)


# --------------------------------------------------------------------------------------------------------- sketch


def _render_sketch(spec: Spec, piece: Piece, alpha: np.ndarray, rng) -> np.ndarray:
    h, w = piece.shape
    paper = np.float32(rng.uniform(0.95, 1.0))
    img = np.full((h, w), paper, np.float32) - 0.012 * np.abs(_smooth_noise(rng, (h, w), 2.5))
    pencil = rng.uniform(0.2, 0.45)
    solid_metal = (np.maximum(piece.alpha, piece.top_alpha) > 0.5).astype(np.uint8)
    style = rng.uniform()
    if style < 0.45:  # graphite tone on the metal, darker where it turns away
        hgt = piece.height / max(float(piece.height.max()), 1e-3)
        tone = (0.88 - 0.25 * (1 - hgt)) * solid_metal + (1 - solid_metal)
        img = np.minimum(img, tone.astype(np.float32))
    elif style < 0.8:  # hatching
        yy, xx = np.mgrid[0:h, 0:w]
        period = rng.integers(6, 11)
        hatch = ((xx + yy) % period) < 1.5
        img = np.where(hatch & (solid_metal > 0), np.minimum(img, 1 - (1 - pencil) * 0.6), img)
    strokes = np.zeros((h, w), np.float32)
    masks = [solid_metal]
    for stone in piece.stones:
        pts = _rot(_unit_stone(stone.cut) * stone.r, stone.angle) + (stone.cx, stone.cy)
        m = _fill((h, w), [pts])
        masks.append((m > 127).astype(np.uint8))
        for k in range(0, 8 if stone.r > 10 else 0):
            t = 2 * np.pi * k / 8
            a = (stone.cx + 0.45 * stone.r * math.cos(t), stone.cy + 0.45 * stone.r * math.sin(t))
            b = (stone.cx + 0.95 * stone.r * math.cos(t), stone.cy + 0.95 * stone.r * math.sin(t))
            cv2.line(strokes, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), 0.6, 1, cv2.LINE_AA)
    width = max(1, round(min(h, w) / 700))
    for m in masks:
        contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        for c in contours:
            if len(c) < 8:
                continue
            for _ in range(2):
                jit = c.astype(np.float32) + rng.normal(0, 0.6, c.shape).astype(np.float32)
                cv2.polylines(
                    strokes, [_pts(jit.reshape(-1, 2))], True, float(rng.uniform(0.6, 1.0)), width, cv2.LINE_AA, SHIFT
                )
    strokes = np.clip(strokes, 0, 1)
    img = img * (1 - strokes * (1 - pencil))
    img = cv2.GaussianBlur(img, (0, 0), 0.5)
    return np.repeat(img[..., None], 3, 2)


# ---------------------------------------------------------------------------------------------------------- render


def render_sample(spec: Spec, rng: np.random.Generator) -> np.ndarray:
    """The image of one spec as uint8 RGB (height, width, 3)."""
    return render_sample_with_masks(spec, rng)[0]


def render_sample_with_masks(spec: Spec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uint8 RGB, piece coverage 0..1, stone coverage 0..1): the image and where the piece and its stones are."""
    h, w = spec.height, spec.width
    piece, rgb, alpha, light = _render_piece(spec, rng)
    masks = (alpha, piece.stones_alpha)
    if spec.shot == "sketch":
        out = _render_sketch(spec, piece, alpha, rng)
        return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8), *masks
    noise_sigma = 0.0
    if spec.shot == "packshot":
        tone = rng.uniform(0.88, 1.0)
        tint = np.array([1.0, 1.0, 1.0]) + rng.uniform(-0.015, 0.015, 3)
        top = np.clip(tone * tint * 1.03, 0, 1)
        back = _gradient((h, w), top, top * rng.uniform(0.9, 1.0), vignette=rng.uniform(0, 0.12))
        if rng.uniform() < 0.25:  # retouched to pure white
            back[:] = 1.0
        back = back * (1 - _shadow(alpha, light, rng.uniform(0.2, 0.45), 0.03)[..., None])
        noise_sigma = rng.uniform(1.5, 4.5)
        blur = rng.uniform(0.5, 0.9)
    elif spec.shot == "cad_render":
        if rng.uniform() < 0.5:
            back = np.ones((h, w, 3), np.float32)
        else:
            g0 = rng.uniform(0.75, 0.97)
            g1 = g0 * rng.uniform(0.75, 0.95) if rng.uniform() < 0.8 else rng.uniform(0.1, 0.25)
            back = _gradient((h, w), (g0,) * 3, (g1,) * 3)
        if rng.uniform() < 0.5:
            back = back * (1 - _shadow(alpha, light, 0.35, 0.02)[..., None])
        blur = 0.0
    elif spec.shot == "lifestyle":
        back = _backdrop_lifestyle(rng, (h, w))
        back = back * (1 - _shadow(alpha, light, rng.uniform(0.25, 0.5), 0.02)[..., None])
        noise_sigma = rng.uniform(1.5, 5)
        blur = rng.uniform(0.6, 1.1)
    else:  # on_model
        back, _skin_mask = _skin(rng, (h, w), spec, alpha)
        back = back * (1 - _shadow(alpha, light, 0.25, 0.012)[..., None])
        noise_sigma = rng.uniform(1.5, 4.5)
        blur = rng.uniform(0.6, 1.1)
    # the metal reflects a little of the surroundings
    env_tint = back.reshape(-1, 3).mean(0)
    env_tint = env_tint / max(float(env_tint.mean()), 1e-3)
    rgb = rgb * (0.88 + 0.12 * env_tint)
    a = alpha[..., None]
    out = back * (1 - a) + rgb * a
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if spec.shot != "cad_render":
        out = out * (1 + rng.uniform(-0.025, 0.025, 3)).astype(np.float32)  # white balance
        exposure = rng.uniform(0.92, 1.06)
        out = out * exposure
    out = np.clip(out, 0, 1) * 255
    if noise_sigma:
        lum = rng.normal(0, noise_sigma, (h, w, 1)).astype(np.float32)
        chroma = rng.normal(0, noise_sigma * 0.5, (h, w, 3)).astype(np.float32)
        out = out + lum + chroma
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), *masks


def encode(rgb: np.ndarray, spec: Spec, rng) -> tuple[bytes, str]:
    """(bytes, extension): JPEG at quality 80–95, or PNG for some CAD renders."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if spec.shot == "cad_render" and rng.uniform() < 0.3:
        ok, buf = cv2.imencode(".png", bgr)
        return buf.tobytes(), "png"
    quality = int(rng.integers(80, 96)) if spec.shot != "cad_render" else 95
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes(), "jpg"


def write_set(out_dir: Path, *, count: int, seed: int, long_edge: int) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        spec = random_spec(rng, long_edge)
        sample_rng = np.random.default_rng([seed, i])
        data, ext = encode(render_sample(spec, sample_rng), spec, sample_rng)
        name = f"{i:03d}.{ext}"
        (out_dir / name).write_bytes(data)
        rows.append({"file": name, **spec.labels()})
    labels = out_dir / "labels.csv"
    with labels.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["file", "type", "metal", "stones", "shot"])
        writer.writeheader()
        writer.writerows(rows)
    return labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--long-edge", type=int, default=1400, help="long edge of the frames in px (±20 %%)")
    args = ap.parse_args(argv)
    if args.count < 1 or args.long_edge < 128:
        ap.error("--count must be ≥ 1 and --long-edge ≥ 128")
    labels = write_set(args.out_dir, count=args.count, seed=args.seed, long_edge=args.long_edge)
    print(f"wrote {args.count} images and {labels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
