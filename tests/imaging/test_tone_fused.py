"""The tone chain on tables (tone._Chain, fused.py) against the per-pixel maths it replaces: bit for bit.

The reference below is the chain as it was written step by step over whole pictures (numpy, float32), kept here
apart from the engine's code: every fused path must give the same bytes, since the maths is unchanged.
"""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.artwork import PhotoSource, dotgain, fused, prepare_artwork, tone
from intaglio.imaging.artwork.core import ModeOptions, _halftoner

# ------------------------------------------------------------------------------------------------ the reference


def reference_lookup(values, table):
    scale = np.float32(table.size - 1)
    index = np.clip(np.asarray(values, dtype=np.float32) * scale + np.float32(0.5), 0, scale).astype(np.int32)
    return table[index]


def reference_adjust(luminance, a, *, px_mm, rgb=None):
    """Every step over every pixel, in the engine's order (tone.adjust before it ran on tables)."""
    p = reference_lookup(luminance, tone._TO_SRGB_TABLE)
    if a.denoise > 0:
        p = cv2.bilateralFilter(p, d=0, sigmaColor=0.05 + 0.15 * a.denoise, sigmaSpace=0.5 + 2.5 * a.denoise)
    if a.auto_levels_clip > 0:
        low, high = np.percentile(p, [a.auto_levels_clip, 100 - a.auto_levels_clip])
        if high - low > 1e-3:
            p = (p - low) / (high - low)
    if a.brightness:
        p = p + a.brightness
    if a.contrast != 1.0:
        p = (p - 0.5) * a.contrast + 0.5
    p = np.clip(p, 0, 1)
    if a.gamma != 1.0:
        p = np.power(p, a.gamma)
    if a.clahe > 0:
        tile = max(2, round(min(p.shape) / 128))
        clahe = cv2.createCLAHE(clipLimit=1.0 + 3.0 * a.clahe, tileGridSize=(tile, tile))
        p = clahe.apply(np.round(p * 65535).astype(np.uint16)).astype(np.float32) / 65535
    if a.sharpen_amount > 0:
        blurred = cv2.GaussianBlur(p, (0, 0), max(0.3, a.sharpen_radius_mm / px_mm / 2))
        p = np.clip(p + a.sharpen_amount * (p - blurred), 0, 1)
    if a.invert:
        p = 1 - p
    if a.isolate_subject:
        if rgb is None:
            rgb = np.repeat(luminance[..., None], 3, axis=2)
        p = np.maximum(p, 1 - tone.subject_mask(rgb))
    return reference_lookup(np.clip(p, 0, 1), tone._TO_LINEAR_TABLE)


def photo_codes(shape=(300, 400), seed=0):
    """A photo-like 8-bit grey picture: smooth shapes, an edge and noise, every code value present."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 90 * np.sin(xx / 37.0) * np.cos(yy / 23.0) + 40 * (xx > w // 2)
    picture = base + rng.normal(0, 12, shape)
    picture.flat[:256] = np.arange(256)
    return np.clip(np.round(picture), 0, 255).astype(np.uint8)


ADJUSTMENTS = [
    {},
    {"brightness": 0.1},
    {"contrast": 1.4},
    {"contrast": 0.7, "brightness": -0.05},
    {"gamma": 1.7},
    {"gamma": 0.45, "invert": True},
    {"invert": True},
    {"auto_levels_clip": 2.0},
    {"auto_levels_clip": 1.0, "gamma": 1.3, "contrast": 1.2},
    {"sharpen_amount": 0.8, "sharpen_radius_mm": 0.2},
    {"contrast": 1.1, "sharpen_amount": 0.4, "sharpen_radius_mm": 0.12},
    {"clahe": 0.5, "gamma": 0.8},
    {"denoise": 0.3, "brightness": 0.05},
    {"denoise": 0.2, "auto_levels_clip": 1.0, "clahe": 0.3, "sharpen_amount": 1.0, "invert": True},
]


# ------------------------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("values", ADJUSTMENTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "none")
def test_adjust_on_tables_equals_the_per_pixel_chain(values):
    adjustments = tone.Adjustments.from_kwargs(values)
    codes = photo_codes()
    linear = tone.SRGB_CODE_TO_LINEAR[codes]
    resized = cv2.resize(linear, (317, 241), interpolation=cv2.INTER_AREA)  # values between the 8-bit codes
    for source, luminance in ((codes, linear), (linear, linear), (resized, resized)):
        expected = reference_adjust(luminance, adjustments, px_mm=0.08)
        got = tone.adjust(source, adjustments, px_mm=0.08)
        assert got.dtype == np.float32 and got.shape == expected.shape
        assert np.array_equal(got, expected), (source.dtype, values)


def test_subject_isolation_on_tables_equals_the_per_pixel_chain():
    adjustments = tone.Adjustments.from_kwargs({"isolate_subject": True, "contrast": 1.2})
    codes = photo_codes((120, 160), seed=3)
    linear = tone.SRGB_CODE_TO_LINEAR[codes]
    expected = reference_adjust(linear, adjustments, px_mm=0.1)
    assert np.array_equal(tone.adjust(codes, adjustments, px_mm=0.1), expected)
    assert np.array_equal(tone.adjust(linear, adjustments, px_mm=0.1), expected)


def test_then_is_the_same_as_applying_it_afterwards():
    def then(y):
        return dotgain.lookup(1.0 - y, np.linspace(0, 1, 4096, dtype=np.float32) ** 2)

    codes = photo_codes(seed=1)
    for values in ({}, {"gamma": 1.3}, {"sharpen_amount": 0.5}):
        adjustments = tone.Adjustments.from_kwargs(values)
        reference = then(reference_adjust(tone.SRGB_CODE_TO_LINEAR[codes], adjustments, px_mm=0.08))
        assert np.array_equal(tone.adjust(codes, adjustments, px_mm=0.08, then=then), reference)


def test_pointwise_steps_cost_no_pass_over_the_pixels(monkeypatch):
    """Neutral or pointwise settings gather the picture once; a step with neighbours needs one gather more."""
    passes = []
    original = tone._Chain._gather

    def counting(self, table):
        passes.append(table.size)
        return original(self, table)

    monkeypatch.setattr(tone._Chain, "_gather", counting)
    codes = photo_codes()
    neutral = tone.Adjustments.from_kwargs(tone.NEUTRAL_ADJUSTMENTS)
    got = tone.adjust(codes, neutral, px_mm=0.08)
    # Neutral: the unadjusted picture (sRGB → linear → sRGB round trip included), in one gather of 256 values.
    assert passes == [256]
    assert np.array_equal(got, reference_adjust(tone.SRGB_CODE_TO_LINEAR[codes], neutral, px_mm=0.08))
    passes.clear()
    tone.adjust(codes, tone.Adjustments(brightness=0.1, contrast=1.3, gamma=0.8, invert=True), px_mm=0.08)
    assert passes == [256]
    passes.clear()
    tone.adjust(codes, tone.Adjustments(sharpen_amount=0.5), px_mm=0.08)
    assert passes == [256]  # the last look-up runs on the sharpened pixels, not through the chain's key


def test_the_unadjusted_chain_is_the_picture_itself_within_the_tables_steps():
    """With nothing to adjust, the sRGB round trip may move a value by the 64k tables' step, never more."""
    codes = np.arange(256, dtype=np.uint8).reshape(16, 16)
    got = tone.adjust(codes, tone.Adjustments(), px_mm=0.1)
    assert np.abs(got - tone.SRGB_CODE_TO_LINEAR[codes]).max() < 1e-4


def test_compiled_gathers_equal_numpy():
    rng = np.random.default_rng(5)
    table = rng.random(65536, dtype=np.float32)
    values = np.concatenate(
        [
            rng.random(200_000, dtype=np.float32) * 1.4 - 0.2,  # beyond both ends too
            (np.arange(0, 4 * 65535 + 1) / (4 * 65535)).astype(np.float32),  # every index and the ties between
            np.array([0.0, 1.0, -0.0, 1e-9, 1 - 1e-7, 5.0, -5.0], dtype=np.float32),
        ]
    ).reshape(4, -1)  # 2-D, as pictures are
    assert np.array_equal(fused.gather_values(values, table), reference_lookup(values, table))
    assert np.array_equal(tone.lookup(values, table), reference_lookup(values, table))
    codes = rng.integers(0, 256, (500, 300), dtype=np.uint8)
    assert np.array_equal(fused.gather_codes(codes, table[:256]), table[:256][codes])
    codes.flags.writeable = False  # a PhotoSource's pixels are read-only
    assert np.array_equal(fused.gather_codes(codes, table[:256]), table[:256][codes])
    with pytest.raises(ValueError):
        fused.gather_codes(codes, table)


def test_blend_equals_numpy():
    rng = np.random.default_rng(9)
    coverage = rng.random((300, 400), dtype=np.float32)
    coverage[:10] = 0.0
    coverage[-10:] = 1.0
    texture = (1 + 0.2 * rng.standard_normal((300, 400))).astype(np.float32)
    unburned = np.array([0.8, 0.6, 0.4], dtype=np.float32)
    burned = np.array([0.05, 0.02, 0.01], dtype=np.float32)
    codes = np.round(tone._TO_SRGB_TABLE * 255).astype(np.uint8)
    c = coverage[..., None]
    linear = (unburned * (1 - c) + burned * c) * texture[..., None]
    expected = np.round(reference_lookup(linear, tone._TO_SRGB_TABLE) * 255).astype(np.uint8)
    assert np.array_equal(fused.blend_to_srgb(coverage, texture, unburned, burned, codes), expected)


def test_codes_are_kept_only_where_nothing_is_resampled():
    codes = photo_codes((300, 400))
    exact = tone.load_linear(codes, size=(400, 300), as_codes=True)
    assert exact.dtype == np.uint8 and np.array_equal(exact, codes)
    cropped = tone.load_linear(codes, size=(400, 200), fit="crop", as_codes=True)  # a crop at scale 1
    assert cropped.dtype == np.uint8 and np.array_equal(cropped, codes[50:250])
    for fit in ("crop", "fit", "stretch"):
        for size in ((400, 300), (300, 200), (400, 200), (500, 300)):
            loaded = tone.load_linear(codes, size=size, fit=fit, as_codes=True)
            linear = tone.load_linear(codes, size=size, fit=fit)
            as_linear = tone.SRGB_CODE_TO_LINEAR[loaded] if loaded.dtype == np.uint8 else loaded
            assert np.array_equal(as_linear, linear), (fit, size)


@pytest.mark.parametrize(
    ("material", "mode", "values"),
    [
        ("reference", "floyd-steinberg", {}),
        ("reference", "jarvis", {"contrast": 1.3, "gamma": 1.2}),
        ("maple", "floyd-steinberg", {}),
        ("slate", "atkinson", {"invert": True}),
        ("birch-plywood", "bayer4", {"auto_levels_clip": 1.0}),
    ],
)
def test_prepare_artwork_equals_the_step_by_step_pipeline(material, mode, values):
    """The engine's one-pass path against load → per-pixel adjust → coverage → compensate → halftone."""
    from intaglio.imaging.artwork import get_machine, get_material

    codes = photo_codes((240, 320), seed=4)
    interval = 0.08
    art = prepare_artwork(
        codes,
        material=material,
        machine="diode-10w",
        width_mm=320 * interval,
        line_interval_mm=interval,
        mode=mode,
        **values,
    )
    mat, machine = get_material(material), get_machine("diode-10w")
    adjustments = tone.Adjustments.from_kwargs({**mat.default_adjustments, **values})
    luminance = reference_adjust(tone.SRGB_CODE_TO_LINEAR[codes], adjustments, px_mm=interval)
    coverage = luminance if mat.polarity == "light" else 1.0 - luminance
    mark_px = dotgain.mark_diameter_px(
        spot_mm=machine.spot_mm, spread_mm=mat.spread_mm, px_mm=interval, ideal=mat.category == "reference"
    )
    halftoner, key = _halftoner(
        mode, ModeOptions(), px_mm=interval, spot_px=machine.spot_mm / interval, mark_px=mark_px
    )
    expected = halftoner(np.ascontiguousarray(dotgain.compensate(coverage, key, mark_px, halftoner)))
    assert art.burn.shape == codes.shape
    assert np.array_equal(art.burn, expected)


def test_a_photo_source_gives_the_same_artwork_and_keeps_its_pixels(monkeypatch):
    picture = np.dstack([photo_codes((200, 300), seed=s) for s in (1, 2, 3)])
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    photo = PhotoSource(data)
    assert photo.size == (300, 200)
    settings = {"material": "maple", "machine": "diode-10w", "width_mm": 12.0}
    expected = prepare_artwork(data, **settings)
    decodes = []
    original = tone._load_image
    monkeypatch.setattr(tone, "_load_image", lambda *args: decodes.append(1) or original(*args))
    first = prepare_artwork(photo, **settings)
    again = prepare_artwork(photo, **settings, contrast=1.3)
    assert np.array_equal(first.burn, expected.burn) and first.simulate().tobytes() == expected.simulate().tobytes()
    assert np.array_equal(again.burn, prepare_artwork(data, **settings, contrast=1.3).burn)
    assert len(decodes) == 2  # the photo source decoded once; the two plain calls once each
    prepare_artwork(photo, **{**settings, "width_mm": 10.0})  # another size is loaded afresh
    assert len(decodes) == 3


def test_neighbourhood_coverage_in_one_pass_equals_the_shifted_codes():
    rng = np.random.default_rng(11)
    table = rng.random(1 << 15, dtype=np.float32)
    for shape in ((300, 400), (1, 7), (5, 1), (2, 3)):
        burn = rng.random(shape) < 0.4
        padded = np.zeros((shape[0] + 2, shape[1] + 4), dtype=np.int64)
        padded[1:-1, 2:-2] = burn
        code = np.zeros(shape, dtype=np.int64)
        for dy in range(3):
            for dx in range(5):
                code |= padded[dy : dy + shape[0], dx : dx + shape[1]] << (dx + 5 * dy)
        assert np.array_equal(fused.neighbourhood_gather(burn, table), table[code]), shape


def test_modulation_in_one_pass_equals_numpy():
    rng = np.random.default_rng(12)
    coverage = rng.random((300, 400), dtype=np.float32)
    coverage[:20] = np.linspace(0, 1, 400, dtype=np.float32)  # both fades and the ends exactly
    noise = rng.random((300, 400), dtype=np.float32) - np.float32(0.5)
    modulation, fade = np.float32(0.1), np.float32(0.05)
    strength = modulation * np.minimum(np.float32(1), np.minimum(coverage, 1 - coverage) / fade)
    expected = np.clip(coverage + strength * noise, 0, 1)
    assert np.array_equal(fused.modulate(coverage, noise, modulation, fade), expected)


def test_a_photo_source_under_a_layout_that_frames_the_photo_gives_the_same_artwork():
    from intaglio.imaging.artwork.layout import Layout

    picture = np.dstack([photo_codes((200, 300), seed=s) for s in (4, 5, 6)])
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    for layout in (Layout(crop=(0.1, 0.1, 0.7, 0.6), rotate_deg=90, mirror=True), Layout(mask="oval")):
        settings = {"material": "maple", "machine": "diode-10w", "width_mm": 12.0, "layout": layout}
        expected = prepare_artwork(data, **settings)
        assert np.array_equal(prepare_artwork(PhotoSource(data), **settings).burn, expected.burn), layout


def test_a_photo_source_keeps_its_framing_between_renders(monkeypatch):
    from intaglio.imaging.artwork import layout as layouts

    picture = np.dstack([photo_codes((200, 300), seed=s) for s in (7, 8, 9)])
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    framings = []
    original = layouts.frame_photo
    monkeypatch.setattr(tone, "frame_photo", lambda *args: framings.append(1) or original(*args))
    photo = PhotoSource(data)
    turned = layouts.Layout(crop=(0.1, 0.2, 0.6, 0.7), rotate_deg=270, mirror=True)
    settings = {"material": "maple", "machine": "diode-10w", "width_mm": 12.0, "layout": turned}
    for contrast in (1.0, 1.2, 0.9):
        art = prepare_artwork(photo, **settings, contrast=contrast)
        assert np.array_equal(art.burn, prepare_artwork(data, **settings, contrast=contrast).burn), contrast
    assert len(framings) == 1  # framed once, then kept
    assert photo.framed(turned) is photo.framed(turned) and photo.framed(layouts.Layout()) is photo
    prepare_artwork(photo, **{**settings, "layout": layouts.Layout(crop=(0.0, 0.0, 0.5, 0.5))})
    assert len(framings) == 2  # another framing is framed afresh
