"""The artwork engine: tone convention, exact physical size, determinism, polarity, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from intaglio.imaging import ArtworkError, prepare_artwork
from intaglio.imaging.artwork import MODES, dotgain, materials

NEUTRAL = {
    "brightness": 0,
    "contrast": 1,
    "gamma": 1,
    "sharpen_amount": 0,
    "clahe": 0,
    "auto_levels_clip": 0,
    "denoise": 0,
}
GREYS = [0.1, 0.25, 0.5, 0.75, 0.9]
HALFTONING = [m for m in MODES if m not in ("threshold", "sketch", "stipple", "hatch", "grayscale")]


def linear(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def flat(v: float, size: int = 300) -> np.ndarray:
    return np.full((size, size), v, dtype=np.float32)


def burned_fraction(artwork) -> float:
    if artwork.power is not None:  # grayscale: how dark the surface gets, through the machine's marking range
        return float(artwork.effective_coverage()[24:-24, 24:-24].mean())
    return float(artwork.burn[24:-24, 24:-24].mean())


@pytest.mark.parametrize("mode", [*HALFTONING, "grayscale"])
def test_reference_burns_one_minus_linear_grey(mode):
    for v in GREYS:
        art = prepare_artwork(flat(v), material="reference", machine="diode-10w", width_mm=20, mode=mode, **NEUTRAL)
        assert burned_fraction(art) == pytest.approx(1 - linear(v), abs=0.01), (mode, v)


@pytest.mark.parametrize("mode", ["stipple", "hatch"])
def test_reference_tone_of_the_drawn_modes_is_within_five_percent(mode):
    for v in GREYS:
        art = prepare_artwork(flat(v), material="reference", machine="diode-10w", width_mm=20, mode=mode, **NEUTRAL)
        assert burned_fraction(art) == pytest.approx(1 - linear(v), abs=0.05), (mode, v)


def simulated_error(material: str, mode: str, v: float) -> float:
    art = prepare_artwork(flat(v), material=material, machine="diode-10w", width_mm=20, mode=mode, **NEUTRAL)
    seen = float(art.effective_coverage()[24:-24, 24:-24].mean())
    target = linear(v) if art.material.polarity == "light" else 1 - linear(v)
    darkest = 1.0
    if art.mark_px and mode != "grayscale":
        darkest = dotgain.compensation_curve(*_key(art), art.mark_px, lambda c: c)[0][-1]
    return seen - target * min(1.0, float(darkest))


def _key(art):
    from intaglio.imaging.artwork.core import ModeOptions, _halftoner

    _, key = _halftoner(
        art.mode, ModeOptions(), px_mm=art.px_mm, spot_px=art.machine.spot_mm / art.px_mm, mark_px=art.mark_px
    )
    return (key,)


@pytest.mark.parametrize("mode", [m for m in HALFTONING if m != "grayscale"] + ["grayscale"])
@pytest.mark.parametrize("material", ["birch-plywood", "slate", "black-anodised-aluminium", "cork", "glass"])
def test_simulated_burn_matches_the_target_on_real_materials(material, mode):
    errors = [simulated_error(material, mode, v) for v in GREYS]
    assert max(map(abs, errors)) <= 0.02, dict(zip(GREYS, np.round(errors, 3), strict=True))


def test_physical_size_and_dpi():
    photo = np.random.default_rng(1).random((600, 800)).astype(np.float32)
    art = prepare_artwork(photo, material="maple", machine="diode-10w", width_mm=100, mode="floyd-steinberg")
    interval = 25.4 / art.dpi
    assert art.burn.shape == (round(75 / interval), round(100 / interval))
    assert art.width_mm == pytest.approx(100, abs=interval / 2)
    both = prepare_artwork(
        photo, material="maple", machine="diode-10w", width_mm=50, height_mm=50, line_interval_mm=0.1
    )
    assert both.burn.shape == (500, 500) and both.dpi == pytest.approx(254)
    png = Image.open(io.BytesIO(art.png()))
    assert png.size == (art.burn.shape[1], art.burn.shape[0])
    assert png.info["dpi"][0] == pytest.approx(art.dpi, abs=0.02)


def test_same_input_same_bytes():
    photo = (np.random.default_rng(2).random((300, 400)) * 255).astype(np.uint8)
    runs = [
        prepare_artwork(photo, material="slate", machine="diode-10w", width_mm=40, mode=mode)
        for mode in ("floyd-steinberg", "floyd-steinberg", "stipple", "stipple")
    ]
    assert runs[0].png() == runs[1].png() and runs[2].png() == runs[3].png()
    assert runs[0].gcode() == runs[1].gcode()


def test_light_marking_materials_burn_where_the_picture_is_light():
    ramp = np.tile(np.linspace(0, 1, 400, dtype=np.float32), (100, 1))
    wood = prepare_artwork(ramp, material="birch-plywood", machine="diode-10w", width_mm=40, **NEUTRAL)
    slate = prepare_artwork(ramp, material="slate", machine="diode-10w", width_mm=40, **NEUTRAL)
    dark, light = wood.effective_coverage(), slate.effective_coverage()  # marked area, dot gain included
    # The outer tenths span sRGB 0–0.1 and 0.9–1, i.e. linear light 0–1 % and 79–100 %.
    assert dark[:, :40].mean() > 0.9 and dark[:, -40:].mean() < 0.15
    assert light[:, :40].mean() < 0.05 and light[:, -40:].mean() > 0.85


def test_sources_path_bytes_pil_and_array_agree(tmp_path):
    photo = Image.fromarray((np.random.default_rng(3).random((120, 160, 3)) * 255).astype(np.uint8))
    path = tmp_path / "p.png"
    photo.save(path)
    results = [
        prepare_artwork(source, material="reference", machine="diode-10w", width_mm=12).burn
        for source in (path, path.read_bytes(), photo, np.asarray(photo))
    ]
    assert all(np.array_equal(results[0], other) for other in results[1:])


def test_every_material_and_every_mode_runs():
    photo = np.random.default_rng(4).random((90, 120)).astype(np.float32)
    runs = [(material, "floyd-steinberg") for material in materials()] + [("maple", mode) for mode in MODES]
    for material, mode in runs:
        art = prepare_artwork(photo, material=material, machine="co2-60w", width_mm=10, mode=mode)
        assert art.burn.dtype == bool and art.simulate().shape == (*art.burn.shape, 3)


def test_clear_errors():
    photo = flat(0.5, 50)
    with pytest.raises(ArtworkError, match="work area"):
        prepare_artwork(photo, material="maple", machine="fibre-20w", width_mm=300)
    with pytest.raises(ArtworkError, match="Unknown mode"):
        prepare_artwork(photo, material="maple", machine="diode-10w", width_mm=30, mode="sparkle")
    with pytest.raises(ArtworkError, match="contrast must be between"):
        prepare_artwork(photo, material="maple", machine="diode-10w", width_mm=30, contrast=9)
    with pytest.raises(ArtworkError, match="Unknown adjustment"):
        prepare_artwork(photo, material="maple", machine="diode-10w", width_mm=30, vibrance=1)
    with pytest.raises(LookupError, match="Known materials"):
        prepare_artwork(photo, material="marble", machine="diode-10w", width_mm=30)


def test_threshold_cuts_at_perceptual_mid_grey():
    ramp = np.tile(np.linspace(0, 1, 401, dtype=np.float32), (50, 1))
    wood = prepare_artwork(ramp, material="maple", machine="diode-10w", width_mm=40, mode="threshold", **NEUTRAL)
    slate = prepare_artwork(ramp, material="slate", machine="diode-10w", width_mm=40, mode="threshold", **NEUTRAL)
    assert wood.burn.mean() == pytest.approx(0.5, abs=0.01) and wood.burn[:, 0].all() and not wood.burn[:, -1].any()
    assert slate.burn.mean() == pytest.approx(0.5, abs=0.01) and slate.burn[:, -1].all()


@pytest.mark.parametrize("mode", ["floyd-steinberg", "jarvis", "sierra-lite"])
def test_deep_shadows_on_wide_marks_have_no_solid_band_at_the_top(mode):
    wanted = 0.97  # coverage; the grey whose linear reflectance is 3 %
    grey = 1.055 * (1 - wanted) ** (1 / 2.4) - 0.055
    art = prepare_artwork(flat(grey, 400), material="maple", machine="diode-10w", width_mm=30, mode=mode, **NEUTRAL)
    solid_rows = int(np.argmax(art.burn.mean(axis=1) < 0.999))
    assert solid_rows <= 5
    seen = art.effective_coverage()
    assert seen[:60].mean() == pytest.approx(seen[200:].mean(), abs=0.02)
    assert seen[200:].mean() == pytest.approx(wanted, abs=0.02)


def test_a_jpeg_and_the_same_pixels_as_an_array_give_the_same_grey():
    from intaglio.imaging.artwork.tone import load_linear

    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 255
    buffer = io.BytesIO()
    Image.fromarray(red).save(buffer, "JPEG", quality=100)
    from_jpeg = load_linear(buffer.getvalue(), size=(8, 8))
    assert from_jpeg.mean() == pytest.approx(load_linear(red, size=(8, 8)).mean(), abs=0.002)
    assert from_jpeg.mean() == pytest.approx(load_linear(Image.fromarray(red), size=(8, 8)).mean(), abs=0.002)


def test_generated_diffusion_kernels_are_current():
    from intaglio.imaging.artwork import kernelgen

    assert kernelgen.TARGET.read_text() == kernelgen.generate(), "run python -m intaglio.imaging.artwork.kernelgen"


def test_every_diffusion_kernel_is_tone_exact_on_flat_patches():
    from intaglio.imaging.artwork import halftone

    for kernel in halftone.DIFFUSION_KERNELS:
        for serpentine in (True, False):
            for v in (0.1, 0.3, 0.5, 0.7, 0.9):
                burned = halftone.error_diffusion(flat(v, 256), kernel, serpentine=serpentine)[16:-16, 16:-16].mean()
                # Atkinson passes on only 6/8 of its error by design; the engine calibrates that away.
                assert burned == pytest.approx(v, abs=0.11 if kernel == "atkinson" else 0.003), (kernel, v)


def test_subject_isolation_leaves_the_background_unburned():
    yy, xx = np.mgrid[0:240, 0:320]
    rng = np.random.default_rng(5)
    picture = np.empty((240, 320, 3), np.uint8)
    picture[:] = (70, 120, 200)  # a blue backdrop with some texture
    picture = np.clip(picture + rng.normal(0, 8, picture.shape), 0, 255).astype(np.uint8)
    subject = (yy - 130) ** 2 / 80**2 + (xx - 160) ** 2 / 70**2 <= 1
    picture[subject] = (150, 90, 40)  # a brown "pet"
    art = prepare_artwork(picture, material="maple", machine="diode-10w", width_mm=32, isolate_subject=True)
    burn = art.burn
    h, w = burn.shape
    inside = (np.mgrid[0:h, 0:w][0] - 130 * h / 240) ** 2 / (70 * h / 240) ** 2 + (
        np.mgrid[0:h, 0:w][1] - 160 * w / 320
    ) ** 2 / (60 * w / 320) ** 2 <= 1
    assert burn[inside].mean() > 0.3  # the subject is engraved
    assert burn[: h // 8].mean() < 0.01 and burn[:, : w // 8].mean() < 0.01  # the backdrop is not


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied_for_size_and_pixels(fmt):
    from tests.imaging import corpus

    stored = corpus.stored_for_orientation_6(corpus.quadrants())  # landscape pixels, upright is 40 × 80
    buffer = io.BytesIO()
    stored.save(buffer, fmt, exif=corpus.exif_with_orientation(6).tobytes())
    art = prepare_artwork(buffer.getvalue(), material="reference", machine="diode-10w", width_mm=4, mode="threshold")
    assert art.burn.shape == (100, 50)  # portrait: 4 mm wide, 8 mm tall at 0.08 mm
    # Upright, the bottom-right quadrant is white: nothing burns there; the blue bottom-left burns.
    assert not art.burn[60:, 30:].any() and art.burn[60:, :20].all()
