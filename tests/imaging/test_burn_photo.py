"""Reading a photo of a finished burn: synthetic burns and photos from a simulator written here (not the engine's)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from intaglio.imaging.artwork import prepare_artwork
from intaglio.imaging.calibration import BurnPhotoRefused, read_burn_photo

SUPER = 5  # canvas subpixels per artwork pixel, each way (odd: the scan line runs through a subpixel centre)
SAMPLES = 2  # samples of the burned surface per artwork pixel, each way
SHIFT_PX = 0.5 / SUPER  # the burned marks sit this far right of their pixels (see `burned`)


def burned(burn: np.ndarray, px_mm: float, diameter_mm: float, *, darkness=0.75, bare=(0.62, 0.45, 0.28), seed=0):
    """Linear RGB reflectance of the piece, `SAMPLES` per artwork pixel: each fired pixel's stretch of its scan line
    widened by a disc `diameter_mm` across (a Euclidean distance transform on a supersampled canvas), on a grained
    surface of its own."""
    h, w = burn.shape
    # A run of m fired pixels is m·SUPER + 1 subpixel centres, spanning exactly its stretch of the scan line (shifted
    # right by half a subpixel, `SHIFT_PX`).
    fired = np.repeat(burn, SUPER, axis=1).astype(np.uint8)
    fired[:, 1:] |= fired[:, :-1]
    line = np.zeros((h * SUPER, w * SUPER), np.uint8)
    line[SUPER // 2 :: SUPER, :] = fired
    dist = cv2.distanceTransform(1 - line, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    radius = diameter_mm / px_mm * SUPER / 2
    cover = np.clip(radius - dist + 0.5, 0.0, 1.0)
    cover = cv2.resize(cover, (w * SAMPLES, h * SAMPLES), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    grain = cv2.GaussianBlur(rng.standard_normal(cover.shape).astype(np.float32), (0, 0), 1.5 / px_mm * SAMPLES)
    grain = 1 + 0.04 * grain / (grain.std() + 1e-6)
    return (np.array(bare, np.float32) * grain[..., None]) * (1 - darkness * cover[..., None])


def photograph(reflect, *, size=(2400, 1800), angle_deg=25.0, tilt=(3e-5, -2e-5), fill=0.7, blur_px=1.0,
               exposure=1.25, light=0.3, white_balance=(1.05, 1.0, 0.9), quality=85, seed=0):
    """JPEG bytes of the piece on a table, and the true homography (reflectance samples → photo pixels)."""
    rng = np.random.default_rng(seed)
    w, h = size
    rh, rw = reflect.shape[:2]
    scale = fill * min(w, h) / max(rh, rw)
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * scale
    affine = np.eye(3)
    affine[:2, :2] = rot
    affine[:2, 2] = -rot @ np.array([rw / 2, rh / 2])
    hom = np.array([[1, 0, 0], [0, 1, 0], [tilt[0] / scale, tilt[1] / scale, 1]]) @ affine
    c = cv2.perspectiveTransform(np.array([[[rw / 2, rh / 2]]], np.float64), hom).ravel()
    hom = np.array([[1, 0, w / 2 - c[0]], [0, 1, h / 2 - c[1]], [0, 0, 1]]) @ hom
    # Pixel centres: sample i sits at i + ½ in edge coordinates.
    shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    hom = np.linalg.inv(shift) @ hom @ shift
    table = cv2.GaussianBlur(rng.random((h // 8, w // 8)).astype(np.float32), (0, 0), 2)
    table = cv2.resize(0.12 + 0.1 * table, (w, h))[..., None] * np.array([1.0, 0.8, 0.6], np.float32)
    img = cv2.warpPerspective(reflect, hom, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_TRANSPARENT,
                              dst=table.astype(np.float32).copy())
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img *= (1 + light * (0.7 * (xs / w - 0.5) - 0.5 * (ys / h - 0.5)))[..., None]
    img *= np.array(white_balance, np.float32) * exposure
    if blur_px:
        img = cv2.GaussianBlur(img, (0, 0), blur_px)
    img = np.clip(img + rng.normal(0, 0.006, img.shape).astype(np.float32), 0, 1)
    srgb = np.where(img <= 0.0031308, img * 12.92, 1.055 * img ** (1 / 2.4) - 0.055)
    u8 = (srgb * 255 + 0.5).astype(np.uint8)
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    return jpeg.tobytes(), hom


def registration_error(report, hom, shape) -> float:
    """Largest distance, in artwork pixels, between the read mapping and the truth over the piece."""
    h, w = shape
    ys, xs = np.mgrid[0:h:25, 0:w:25].astype(np.float64)
    art = np.stack([xs.ravel(), ys.ravel()], -1)
    samples = (art + [SHIFT_PX, 0] + 0.5) * SAMPLES - 0.5
    true = cv2.perspectiveTransform(samples.reshape(-1, 1, 2), hom).reshape(-1, 2)
    est = report.mapping.to_photo(art)
    step = cv2.perspectiveTransform((samples + [SAMPLES, 0]).reshape(-1, 1, 2), hom).reshape(-1, 2) - true
    return float((np.hypot(*(est - true).T) / np.hypot(*step.T)).max())


@pytest.fixture(scope="module")
def artwork():
    from skimage import data

    return prepare_artwork(data.camera(), material="birch-plywood", machine="diode-10w", width_mm=60)


def read(artwork, photo):
    return read_burn_photo(
        photo,
        burn=artwork.burn,
        simulated=artwork.simulate(),
        px_mm=artwork.px_mm,
        mark_diameter_mm=artwork.mark_px * artwork.px_mm,
    )
