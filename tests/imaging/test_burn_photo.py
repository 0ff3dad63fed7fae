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


def photograph(
    reflect,
    *,
    size=(2400, 1800),
    angle_deg=25.0,
    tilt=(3e-5, -2e-5),
    fill=0.7,
    blur_px=1.0,
    exposure=0.85,
    light=0.3,
    white_balance=(1.05, 1.0, 0.9),
    quality=85,
    seed=0,
):
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
    img = cv2.warpPerspective(
        reflect,
        hom,
        (w, h),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_TRANSPARENT,
        dst=table.astype(np.float32).copy(),
    )
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


def material_darkness(material) -> tuple[np.ndarray, float]:
    """The bare surface's linear RGB and a full mark's darkness (1 − its luminance over the bare surface's)."""
    lin = lambda rgb: np.where((v := np.asarray(rgb) / 255) <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)  # noqa: E731
    bare, mark = lin(material.unburned_rgb), lin(material.burned_rgb)
    luma = np.array([0.2126, 0.7152, 0.0722])
    return bare.astype(np.float32), float(1 - mark @ luma / (bare @ luma))


@pytest.fixture(scope="module")
def as_previewed(artwork):
    """A burn whose marks are as wide and as dark as the engine assumed, photographed, and its report."""
    bare, dark = material_darkness(artwork.material)
    reflect = burned(artwork.burn, artwork.px_mm, artwork.mark_px * artwork.px_mm, darkness=dark, bare=bare, seed=11)
    photo, hom = photograph(reflect, angle_deg=-35, seed=11)
    return read(artwork, photo), hom


def test_a_burn_as_previewed_is_registered_and_reads_as_previewed(artwork, as_previewed):
    report, hom = as_previewed
    assert registration_error(report, hom, artwork.burn.shape) <= 1.0
    assert report.inliers >= 20 and 0 < report.inlier_ratio <= 1
    assert report.registration_rms_px < 1.5
    assert report.ecc_correlation > 0.9
    assert abs(report.mark_gain_mm) <= 0.02
    assert all(abs(v) < 4 for v in report.tone_error.values())
    assert report.advice == ["Burn looks as previewed."]


@pytest.mark.parametrize(("gain_mm", "angle_deg", "tilt"), [(0.03, 60.0, (4e-5, 2e-5)), (0.06, 160.0, (-3e-5, 4e-5))])
def test_marks_wider_than_assumed_are_measured_and_named(artwork, gain_mm, angle_deg, tilt):
    bare, dark = material_darkness(artwork.material)
    assumed = artwork.mark_px * artwork.px_mm
    reflect = burned(artwork.burn, artwork.px_mm, assumed + gain_mm, darkness=dark, bare=bare, seed=int(gain_mm * 1e3))
    photo, hom = photograph(
        reflect,
        angle_deg=angle_deg,
        tilt=tilt,
        light=0.4,
        white_balance=(0.9, 1.0, 1.1),
        blur_px=1.4,
        quality=75,
        seed=int(gain_mm * 1e3),
    )
    report = read(artwork, photo)
    assert registration_error(report, hom, artwork.burn.shape) <= 1.0
    assert report.mark_gain_mm == pytest.approx(gain_mm, abs=0.02)
    assert report.tone_error_midtones < 0  # wider marks: darker than the preview
    assert any("wider than assumed" in line for line in report.advice)


def test_a_lighter_burn_is_reported_as_lighter(artwork):
    bare, dark = material_darkness(artwork.material)
    reflect = burned(artwork.burn, artwork.px_mm, artwork.mark_px * artwork.px_mm, darkness=0.6 * dark, bare=bare)
    report = read(artwork, photograph(reflect, angle_deg=10, seed=5)[0])
    assert report.tone_error_shadows > 8
    assert report.contrast_achieved < 0.85
    assert any(line.startswith("Shadows came out lighter") for line in report.advice)


def test_metrics_are_plain_numbers_and_the_pictures_are_pngs(as_previewed):
    report, _ = as_previewed
    metrics = report.metrics()
    assert {"inliers", "registration_rms_px", "ecc_correlation", "mark_gain_mm", "rmse_lstar", "sharpness"} <= set(
        metrics
    )
    assert all(type(v) is float and np.isfinite(v) for v in metrics.values())
    for png in (report.side_by_side_png(), report.difference_png()):
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and image is not None
        assert image.shape[1] <= 1600


def test_a_simulation_of_another_size_is_resampled(artwork, as_previewed):
    report, hom = as_previewed
    bare, dark = material_darkness(artwork.material)
    big = cv2.resize(artwork.simulate(), None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
    reflect = burned(artwork.burn, artwork.px_mm, artwork.mark_px * artwork.px_mm, darkness=dark, bare=bare, seed=11)
    photo, hom = photograph(reflect, angle_deg=-35, seed=11)
    again = read_burn_photo(
        photo, burn=artwork.burn, simulated=big, px_mm=artwork.px_mm, mark_diameter_mm=artwork.mark_px * artwork.px_mm
    )
    assert registration_error(again, hom, artwork.burn.shape) <= 1.0
    assert again.mark_gain_mm == pytest.approx(report.mark_gain_mm, abs=0.01)


@pytest.fixture(scope="module")
def reflect_plain(artwork):
    bare, dark = material_darkness(artwork.material)
    return burned(artwork.burn, artwork.px_mm, 0.15, darkness=dark, bare=bare, seed=3)


@pytest.mark.parametrize(
    ("code", "options"),
    [
        ("blurred", {"blur_px": 9.0}),
        ("clipped", {"exposure": 3.5}),
        ("too_small", {"size": (400, 300)}),
    ],
)
def test_a_bad_photo_is_refused_with_its_reason(artwork, reflect_plain, code, options):
    with pytest.raises(BurnPhotoRefused) as refused:
        read(artwork, photograph(reflect_plain, **options)[0])
    assert refused.value.code == code
    assert refused.value.message


def test_a_photo_of_another_artwork_is_refused(artwork):
    from skimage import data

    other = prepare_artwork(data.astronaut(), material="birch-plywood", machine="diode-10w", width_mm=60)
    bare, dark = material_darkness(other.material)
    photo, _ = photograph(burned(other.burn, other.px_mm, 0.15, darkness=dark, bare=bare), seed=9)
    with pytest.raises(BurnPhotoRefused) as refused:
        read(artwork, photo)
    assert refused.value.code == "no_match"


def test_a_photo_without_the_piece_is_refused(artwork):
    table = np.full((1800, 2400, 3), (0.2, 0.16, 0.12), np.float32)
    with pytest.raises(BurnPhotoRefused) as refused:
        read(artwork, photograph(table, seed=2)[0])
    assert refused.value.code == "no_match"
