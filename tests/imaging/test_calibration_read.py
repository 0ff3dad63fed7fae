"""Reading photos of burned test cards: small synthetic photos from a simulator written here (not the bench's)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from intaglio.imaging.calibration import CardRefused, best_cell, make_card, read_card

SUPER = 8  # canvas pixels per card pixel, each way (4 overstates a thin mark's rounded ends by 1–3 %)


@pytest.fixture(scope="module")
def card():
    return make_card(material="birch-plywood", machine="diode-10w", card_id=0x1234ABC)


@pytest.fixture(scope="module")
def other_card():
    return make_card(material="birch-plywood", machine="diode-10w", card_id=0x777)


def burned(card, diameter_mm: float, mark_darkness: float = 0.7, surface=(0.6, 0.43, 0.27)) -> np.ndarray:
    """Linear RGB reflectance of the card burned with strokes `diameter_mm` wide, 2 samples per card pixel.

    Each run of fired pixels is a capsule: the run's stretch of its scan line widened by a disc. Drawn run by run
    on a canvas of `SUPER`² subpixels, each subpixel taking the area fraction its distance to the stretch implies.
    """
    burn = card.burn
    px = card.layout["line_interval_mm"]
    h, w = burn.shape
    canvas = np.zeros((h * SUPER, w * SUPER), np.float32)
    radius = diameter_mm / px * SUPER / 2  # in subpixels
    reach = int(np.ceil(radius)) + 1
    for r in range(h):
        row = np.concatenate([[False], burn[r], [False]])
        edges = np.flatnonzero(np.diff(row.astype(np.int8)))
        yc = (r + 0.5) * SUPER  # the scan line, in subpixel edge coordinates
        y0, y1 = max(int(yc) - reach, 0), min(int(yc) + reach, h * SUPER)
        ys = np.arange(y0, y1)[:, None] + 0.5
        for j0, j1 in zip(edges[::2], edges[1::2], strict=True):  # fired columns j0 … j1 − 1
            xa, xb = j0 * SUPER, j1 * SUPER
            x0, x1 = max(xa - reach, 0), min(xb + reach, w * SUPER)
            xs = np.arange(x0, x1)[None, :] + 0.5
            dist = np.hypot(np.maximum(np.maximum(xa - xs, xs - xb), 0.0), ys - yc)
            cover = np.clip(radius - dist + 0.5, 0.0, 1.0)
            np.maximum(canvas[y0:y1, x0:x1], cover, out=canvas[y0:y1, x0:x1])
    cover = cv2.resize(canvas, (w * 2, h * 2), interpolation=cv2.INTER_AREA)
    return np.array(surface, np.float32) * (1 - mark_darkness * cover[..., None])


def photograph(
    reflect: np.ndarray,
    card_mm: float,
    *,
    size=(1400, 1050),
    angle_deg: float = 20.0,
    squash: float = 1.0,
    perspective: float = 2e-5,
    blur_px: float = 0.7,
    exposure: float = 1.2,
    seed: int = 0,
) -> bytes:
    rng = np.random.default_rng(seed)
    w, h = size
    samples_mm = reflect.shape[1] / card_mm
    scale = 0.72 * h / card_mm / samples_mm  # photo pixels per sample
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * scale
    rot[0] *= squash
    centre = np.array([reflect.shape[1] / 2, reflect.shape[0] / 2])
    affine = np.eye(3)
    affine[:2, :2] = rot
    affine[:2, 2] = np.array([w / 2, h / 2]) - rot @ centre
    hom = affine @ np.array([[1, 0, 0], [0, 1, 0], [perspective, perspective / 2, 1]])
    hom = hom / hom[2, 2]
    # keep the card centred after the perspective term
    c = cv2.perspectiveTransform(centre.reshape(1, 1, 2), hom).ravel()
    hom = np.array([[1, 0, w / 2 - c[0]], [0, 1, h / 2 - c[1]], [0, 0, 1]]) @ hom
    img = cv2.warpPerspective(reflect, hom, (w, h), flags=cv2.INTER_AREA, borderValue=(0.04, 0.04, 0.05))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img *= (1 + 0.25 * (xs / w - 0.5))[..., None] * exposure  # light falls from the left
    if blur_px:
        img = cv2.GaussianBlur(img, (0, 0), blur_px)
    img = np.clip(img + rng.normal(0, 0.004, img.shape).astype(np.float32), 0, 1)
    srgb = np.where(img <= 0.0031308, img * 12.92, 1.055 * img ** (1 / 2.4) - 0.055)
    u8 = (srgb * 255 + 0.5).astype(np.uint8)
    return cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


@pytest.fixture(scope="module")
def reflect_015(card):
    return burned(card, 0.15)


def test_a_photo_is_registered_and_read(card, reflect_015):
    reading = read_card(photograph(reflect_015, card.layout["width_mm"]), card)
    assert reading.registration_rms_px <= 0.5
    assert abs(reading.mark_diameter_mm - 0.15) <= 0.01
    tone = reading.as_json()["tone_response"]
    assert len(tone) == len(card.layout["wedge"])
    assert tone[0] == [0.0, pytest.approx(0.0, abs=0.03)]
    assert tone[-1][1] == pytest.approx(1.0, abs=0.03)
    effective = [e for _, e in tone]
    assert all(b >= a - 0.03 for a, b in zip(effective, effective[1:], strict=False))
    body = reading.as_json()
    assert set(body) >= {"registration_rms_px", "mark_diameter_mm", "tone_response", "best_cell", "residual"}
    assert body["residual"] < 0.03
    assert {"power_pct", "speed_mm_min"} == set(body["best_cell"])


def test_thin_marks_are_measured_too(card):
    # Marks narrower than the line interval: even the full patch leaves gaps, and the strokes' ends tell the width.
    reading = read_card(photograph(burned(card, 0.075), card.layout["width_mm"], angle_deg=-140, seed=3), card)
    assert abs(reading.mark_diameter_mm - 0.075) <= 0.01
    # The full patch's lines cover 0.075 / 0.1 of it: read, and as the stroke model counts it at the fitted width.
    assert reading.tone_response[-1][1] == pytest.approx(0.75, abs=0.02)
    assert reading.wedge_area[-1] == pytest.approx(0.75, abs=0.02)


def test_wedge_area_is_the_stroke_models_coverage_at_the_fitted_width(card, reflect_015):
    reading = read_card(photograph(reflect_015, card.layout["width_mm"], angle_deg=35, seed=8), card)
    body = reading.as_json()
    assert len(body["wedge_area"]) == len(card.layout["wedge"])
    assert body["wedge_area"][0] == 0.0
    assert body["wedge_area"][-1] == pytest.approx(1.0, abs=1e-6)  # 0.15 mm strokes close a 0.1 mm line interval
    assert all(b >= a - 0.01 for a, b in zip(body["wedge_area"], body["wedge_area"][1:], strict=False))
    # The photo is simulated with exactly such strokes, so what the photo shows agrees with the model's area.
    for (_, effective), area in zip(body["tone_response"], body["wedge_area"], strict=True):
        assert effective == pytest.approx(area, abs=0.02)


def test_a_darker_band_of_surface_across_the_wedge_leaves_its_tones_alone(card, reflect_015):
    # Wood grain or a stain along the wedge's rows: the wedge is read against the bare card in the same rows.
    stained = reflect_015.copy()
    samples_mm = reflect_015.shape[0] / card.layout["height_mm"]
    top, bottom = (round(v * samples_mm) for v in (32.0, 41.0))  # the wedge's rows and a little more
    stained[top:bottom] *= 0.95
    plain = read_card(photograph(reflect_015, card.layout["width_mm"], seed=9), card)
    banded = read_card(photograph(stained, card.layout["width_mm"], seed=9), card)
    assert banded.tone_response[0][1] == pytest.approx(0.0, abs=0.01)
    for (_, a), (_, b) in zip(plain.tone_response, banded.tone_response, strict=True):
        assert b == pytest.approx(a, abs=0.015)


def test_light_marks_on_a_dark_material_are_read_as_a_negative():
    slate = make_card(material="slate", machine="diode-10w", card_id=0x51A7E)
    reflect = burned(slate, 0.15, mark_darkness=-2.5, surface=(0.1, 0.1, 0.11))  # grey-white marks on slate
    reading = read_card(photograph(reflect, slate.layout["width_mm"], exposure=1.5, seed=6), slate)
    assert abs(reading.mark_diameter_mm - 0.15) <= 0.01
    assert reading.tone_response[-1][1] == pytest.approx(1.0, abs=0.03)


def test_the_card_png_serves_as_well_as_the_card(card, reflect_015):
    photo = photograph(reflect_015, card.layout["width_mm"], angle_deg=95, seed=4)
    reading = read_card(photo, dict(card.layout), card_png=card.png())
    assert abs(reading.mark_diameter_mm - 0.15) <= 0.01


def test_best_cell_is_the_least_energy_near_the_darkest_before_charring():
    grid = [{"power_pct": p, "speed_mm_min": 1000.0} for p in (10, 20, 40, 80)]
    assert best_cell(grid, [0.3, 0.6, 0.62, 0.5]) == {"power_pct": 20.0, "speed_mm_min": 1000.0}
    assert best_cell(grid, [0.3, 0.5, 0.7, 0.75]) == {"power_pct": 80.0, "speed_mm_min": 1000.0}


@pytest.mark.parametrize(
    ("code", "options"),
    [
        ("blurred", {"blur_px": 6.0}),
        ("clipped", {"exposure": 3.0}),
        ("oblique", {"squash": 0.4, "size": (1600, 1200)}),
    ],
)
def test_a_bad_photo_is_refused_with_its_reason(card, reflect_015, code, options):
    with pytest.raises(CardRefused) as refused:
        read_card(photograph(reflect_015, card.layout["width_mm"], **options), card)
    assert refused.value.code == code
    assert refused.value.message


def test_a_photo_of_another_card_is_refused(card, other_card):
    photo = photograph(burned(other_card, 0.15), other_card.layout["width_mm"])
    with pytest.raises(CardRefused) as refused:
        read_card(photo, card)
    assert refused.value.code == "foreign_card"


def test_a_photo_without_a_card_is_refused(card):
    wood = np.full((1200, 1600, 3), (0.6, 0.43, 0.27), np.float32)  # a bare board, sharp-edged
    with pytest.raises(CardRefused) as refused:
        read_card(photograph(wood, 160.0), card)
    assert refused.value.code == "no_board"


def test_the_command_reads_a_photo_against_card_json(card, reflect_015, tmp_path, capsys):
    from intaglio.imaging.calibration.cli import main

    (tmp_path / "card.json").write_text(card.json(), encoding="utf-8")
    (tmp_path / "card.png").write_bytes(card.png())
    (tmp_path / "photo.jpg").write_bytes(photograph(reflect_015, card.layout["width_mm"], seed=5))
    assert main(["read", str(tmp_path / "photo.jpg"), "--card", str(tmp_path / "card.json"), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert abs(body["mark_diameter_mm"] - 0.15) <= 0.01
    assert main(["read", str(tmp_path / "photo.jpg"), "--card", str(tmp_path / "card.json")]) == 0
    assert "mark diameter" in capsys.readouterr().out


def test_the_command_says_why_it_refuses(card, reflect_015, tmp_path, capsys):
    from intaglio.imaging.calibration.cli import main

    (tmp_path / "card.json").write_text(card.json(), encoding="utf-8")
    (tmp_path / "card.png").write_bytes(card.png())
    (tmp_path / "photo.jpg").write_bytes(photograph(reflect_015, card.layout["width_mm"], exposure=3.0))
    assert main(["read", str(tmp_path / "photo.jpg"), "--card", str(tmp_path / "card.json")]) == 2
    assert "refused (clipped)" in capsys.readouterr().out


def photo_of_layout(layout: dict, mark_mm: float, *, seed: int = 0):
    """The card a card.json describes (remade by the engine; a verify card with its calibration) and a JPEG photo of
    it burned with strokes `mark_mm` wide. The tests' cards are made for the library's 10 W diode."""
    from intaglio.imaging.artwork import Calibration

    card = make_card(
        material=layout["material"],
        machine="diode-10w",
        mode=layout["mode"],
        card_id=int(layout["card_id"], 16),
        line_interval_mm=layout["line_interval_mm"],
        calibration=Calibration.from_json(layout["calibration"]) if "calibration" in layout else None,
    )
    return card, photograph(burned(card, mark_mm), layout["width_mm"], seed=seed)


@pytest.mark.parametrize("cb, cr", [(1.0, -1.0), (1.0, 1.0), (-1.5, -1.0), (0.0, 2.0)])
def test_a_jpegs_colour_errors_leave_a_patchs_reflectance_alone(cb, cr):
    """A JPEG keeps luma finely and the two colour differences coarsely: on a flat patch, which noise is too weak to
    dither, each patch's colour comes back a level or two off, luma unchanged. The reader's combined reflectance must
    not move with it (with luminance weights it moves by 0.3–0.5 %, which a thin mark's fit multiplies)."""
    from intaglio.imaging.calibration.read import _channel_weights

    def encode(v):
        return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)

    def decode(e):
        return np.where(e <= 0.04045, e / 12.92, ((e + 0.055) / 1.055) ** 2.4)

    white = np.array([0.55, 0.40, 0.22])  # bare birch in a photo, linear
    patch = white * np.array([0.68, 0.70, 0.72])  # a mid step: darker, slightly redder
    # JPEG's YCbCr → RGB: a change of the colour differences alone, in encoded levels.
    levels = np.array([1.402 * cr, -0.344136 * cb - 0.714136 * cr, 1.772 * cb])
    shifted = decode(encode(patch) + levels / 255)
    weights = _channel_weights(np.broadcast_to(white, (8, 8, 3)).astype(np.float32))
    moved = ((shifted / white) @ weights) / ((patch / white) @ weights) - 1
    luminance = np.array([0.2126, 0.7152, 0.0722])
    moved_luminance = ((shifted / white) @ luminance) / ((patch / white) @ luminance) - 1
    assert abs(moved) < 5e-4
    assert abs(moved) < abs(moved_luminance) / 4


def test_grain_in_the_rows_the_bare_card_shows_leaves_the_light_surface_flat():
    """Wood grain runs along the rows; the unburned card shows every row at its two ends but only some rows in between
    (as round the wedge). The light surface fitted to it must not take the grain of the rows it happens to see for a
    bend in the light: under flat light, the surface along a row seen only at its ends stays flat."""
    from intaglio.imaging.calibration.read import _fit_white

    rng = np.random.default_rng(5)
    h, w = 600, 600
    grain = 1 + 0.015 * cv2.GaussianBlur(rng.standard_normal((h, 1)).astype(np.float32), (0, 0), 3).ravel() * 6
    image = np.repeat((0.6 * grain)[:, None, None], w, axis=1) * np.array([1.0, 0.75, 0.45], np.float32)
    image = (image * (1 + rng.normal(0, 0.01, image.shape))).astype(np.float32)
    mask = np.zeros((h, w), bool)
    mask[:, :30] = mask[:, -30:] = True  # the margins: every row
    for top in range(0, h, 60):  # in between, bands of rows as a board's gaps and the labels leave them
        mask[top : top + 12, 30:-30] = True
    white, _ = _fit_white(image, mask)
    for row in (100, 250, 400):  # rows seen only at the ends
        along = white[row, :, 1] / image[row, :, 1].mean()
        assert np.ptp(along) < 2e-3


def test_the_marks_darkness_is_fitted_at_the_diameter_found_not_the_nearest_step(card):
    """The diameter falls between the model's steps; a thin mark's coverage changes by most of a per cent from one
    step to the next, so darkness taken at the nearest step would scale the whole tone response by that much."""
    from intaglio.imaging.calibration.read import _DIAMETERS, _coverage_curves, _fit_diameter, _stroke_distance_sets

    layout = card.layout
    rects = [w["rect_mm"] for w in layout["wedge"]] + list(layout["full"]) + [w["rect_mm"] for w in layout["width"]]
    px_mm = layout["line_interval_mm"]
    distances = _stroke_distance_sets(card.burn, rects, px_mm, 0.8)
    curves = _coverage_curves(card.burn, rects, px_mm, 0.8, distances=distances)
    step = float(_DIAMETERS[1] - _DIAMETERS[0])
    weights = np.array([float(c.sum()) for c in distances])
    for diameter in (0.0702 + 0.45 * step, 0.0831 + 0.55 * step):
        darkness = 0.68 * _coverage_curves(card.burn, rects, px_mm, 0.8, [diameter], distances)[:, 0]
        d, mark, residual = _fit_diameter(
            darkness,
            curves.T,
            weights,
            lambda v: _coverage_curves(card.burn, rects, px_mm, 0.8, [v], distances)[:, 0],
        )
        assert d == pytest.approx(diameter, abs=0.2 * step)
        assert mark == pytest.approx(0.68, rel=3e-4)  # the nearest step: 1.2e-3 off
        assert residual < 1e-3


@pytest.mark.parametrize("colour", [(186, 180, 132), (173, 167, 122), (219, 213, 158), (150, 120, 90)])
@pytest.mark.parametrize("quality", [75, 86])
def test_a_flat_patch_of_a_jpeg_keeps_its_light(colour, quality):
    """Decoding a JPEG to 8-bit RGB rounds each channel's colour term; over a flat patch (its colour differences
    hardly vary) that rounding is alike in every pixel and shifts the patch's luma by up to a third of a level. The
    reader takes the JPEG's own Y, Cb and Cr and makes linear light of them unrounded."""
    from intaglio.imaging.calibration.read import _SRGB_TO_LINEAR16, _linear16, _photo_rgb

    rng = np.random.default_rng(quality)
    source = np.clip(np.array(colour, np.float32) + rng.normal(0, 3.6, (256, 256, 3)), 0, 255).round()
    source = source.astype(np.uint8)
    jpeg = cv2.imencode(".jpg", source[:, :, ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    weights = np.array([0.299, 0.587, 0.114]) * np.array(colour)
    weights /= weights.sum()
    truth = _SRGB_TO_LINEAR16[source].reshape(-1, 3).mean(axis=0)
    pixels, _, ycbcr = _photo_rgb(jpeg)
    read = _linear16(pixels, ycbcr).reshape(-1, 3).mean(axis=0)
    assert ycbcr
    assert abs((read / truth) @ weights - 1) < 1.5e-3
    if colour == (186, 180, 132):  # decoded to RGB first, this one reads 0.3 % light
        rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert (_SRGB_TO_LINEAR16[rgb].reshape(-1, 3).mean(axis=0) / truth) @ weights - 1 > 2e-3
