"""A plane (a card, an artwork) seen by a phone camera: a homography, then one radial lens term about the photo's
centre. Shared by the card reader and the burn-photo reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

_GOLDEN = (np.sqrt(5) - 1) / 2


def distort(p: np.ndarray, k1: float, centre, norm: float) -> np.ndarray:
    """Undistorted photo points → where the lens puts them (one radial term, radius in units of `norm`)."""
    if k1 == 0.0:
        return p
    c = np.asarray(centre)
    q = (p - c) / norm
    r2 = (q * q).sum(axis=1, keepdims=True)
    return c + q * (1.0 + k1 * r2) * norm


def undistort(p: np.ndarray, k1: float, centre, norm: float) -> np.ndarray:
    """The inverse of `distort`, by fixed-point iteration."""
    if k1 == 0.0:
        return p
    c = np.asarray(centre)
    q = (p - c) / norm
    u = q.copy()
    for _ in range(8):
        r2 = (u * u).sum(axis=1, keepdims=True)
        u = q / (1.0 + k1 * r2)
    return c + u * norm


@dataclass
class Mapping:
    """Plane pixel centres → photo pixels: a homography, then one radial term about the photo's centre."""

    homography: np.ndarray
    k1: float
    centre: tuple[float, float]
    norm: float
    scale: float = 1.0  # pixels of the photo as given per pixel of the (possibly reduced) copy it was fitted on

    def to_decoded(self, points: np.ndarray) -> np.ndarray:
        """Plane pixel (x, y) → pixel of the copy the mapping was fitted on."""
        p = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), self.homography).reshape(-1, 2)
        return distort(p, self.k1, self.centre, self.norm)

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Plane pixel (x, y) → pixel (x, y) of the photo as given."""
        return (self.to_decoded(points) + 0.5) * self.scale - 0.5

    def to_plane(self, points: np.ndarray) -> np.ndarray:
        """Pixel (x, y) of the photo as given → plane pixel (x, y)."""
        p = (points.reshape(-1, 2).astype(np.float64) + 0.5) / self.scale - 0.5
        u = undistort(p, self.k1, self.centre, self.norm)
        return cv2.perspectiveTransform(u.reshape(-1, 1, 2), np.linalg.inv(self.homography)).reshape(-1, 2)


def radial_search(error: Callable[[float], float], bound: float, steps: int) -> float:
    """The radial term in [−bound, bound] that minimises `error` (a golden-section search; each step is one
    closed-form homography fit for the caller)."""
    lo, hi = -bound, bound
    a, b = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    fa, fb = error(a), error(b)
    for _ in range(steps):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - _GOLDEN * (hi - lo)
            fa = error(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + _GOLDEN * (hi - lo)
            fb = error(b)
    return (lo + hi) / 2
