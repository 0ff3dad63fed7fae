"""The materials and machines library: completeness, physical plausibility and loader validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from intaglio.imaging.artwork import library
from intaglio.imaging.artwork.library import (
    ADJUSTMENT_RANGES,
    MACHINE_KINDS,
    TEXTURES,
    LibraryError,
    Machine,
    Material,
    UnknownName,
    get_machine,
    get_material,
    machines,
    materials,
)

REQUIRED_MATERIALS = [
    "reference",
    "birch-plywood",
    "maple",
    "walnut",
    "bamboo",
    "mdf",
    "leather",
    "cork",
    "cardboard",
    "slate",
    "black-anodised-aluminium",
    "coated-metal",
    "stainless-marking-spray",
    "cast-acrylic",
    "glass",
    "ceramic-tile",
]
REQUIRED_MACHINES = [
    "diode-5w",
    "diode-10w",
    "diode-20w",
    "diode-40w",
    "co2-40w",
    "co2-60w",
    "co2-100w",
    "fibre-20w",
    "fibre-30w",
    "fibre-50w",
    "galvo",
]
MUST_BE_LIGHT = ["slate", "glass", "black-anodised-aluminium"]
REAL_MATERIALS = [name for name in materials() if name != "reference"]


def luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (linear light) of an sRGB colour."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# ---------------------------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("name", REQUIRED_MATERIALS)
def test_required_material_exists(name):
    material = get_material(name)
    assert isinstance(material, Material)
    assert material.name == name
    assert material.label


@pytest.mark.parametrize("name", REQUIRED_MACHINES)
def test_required_machine_exists(name):
    machine = get_machine(name)
    assert isinstance(machine, Machine)
    assert machine.name == name
    assert machine.label


def test_names_are_lowercase_hyphenated():
    for name in [*materials(), *machines()]:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name


def test_getters_pass_objects_through():
    material, machine = get_material("maple"), get_machine("co2-60w")
    assert get_material(material) is material
    assert get_machine(machine) is machine


def test_accessors_return_copies():
    materials().clear()
    machines().clear()
    assert "maple" in materials() and "galvo" in machines()


# ---------------------------------------------------------------------------------------------- unknown names


def test_unknown_material_lists_known_names():
    with pytest.raises(UnknownName) as caught:
        get_material("nope")
    message = str(caught.value)
    assert "'nope'" in message
    for name in REQUIRED_MATERIALS:
        assert name in message
    assert caught.value.what == "material"
    assert caught.value.name == "nope"
    assert caught.value.known == sorted(materials())
    assert isinstance(caught.value, LookupError)


def test_unknown_machine_lists_known_names():
    with pytest.raises(UnknownName) as caught:
        get_machine("laser-9000")
    for name in REQUIRED_MACHINES:
        assert name in str(caught.value)


# ---------------------------------------------------------------------------------------------- polarity, colours


@pytest.mark.parametrize("name", MUST_BE_LIGHT)
def test_light_marking_materials(name):
    material = get_material(name)
    assert material.polarity == "light"
    assert luminance(material.burned_rgb) > luminance(material.unburned_rgb)


@pytest.mark.parametrize("name", list(materials()))
def test_burned_colour_matches_polarity(name):
    material = get_material(name)
    unburned, burned = luminance(material.unburned_rgb), luminance(material.burned_rgb)
    if material.polarity == "light":
        assert burned > unburned
    else:
        assert burned < unburned
    # The preview must show a visible difference: a contrast ratio of at least 2:1 (walnut, dark on dark, is
    # honestly the lowest at about 2.6:1).
    lighter, darker = max(unburned, burned), min(unburned, burned)
    assert (lighter + 0.05) / (darker + 0.05) >= 2


def test_woods_and_organics_mark_dark():
    for name in ["birch-plywood", "maple", "walnut", "bamboo", "mdf", "leather", "cork", "cardboard"]:
        assert get_material(name).polarity == "dark", name


@pytest.mark.parametrize("name", list(materials()))
def test_colours_are_srgb_triples(name):
    material = get_material(name)
    for rgb in (material.unburned_rgb, material.burned_rgb):
        assert isinstance(rgb, tuple) and len(rgb) == 3
        assert all(isinstance(c, int) and 0 <= c <= 255 for c in rgb)


# ---------------------------------------------------------------------------------------------- tone curves


@pytest.mark.parametrize("name", list(materials()))
def test_tone_curve_is_monotone_from_origin_to_one(name):
    curve = get_material(name).tone_curve
    assert isinstance(curve, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in curve)
    assert curve[0] == (0.0, 0.0)
    assert curve[-1] == (1.0, 1.0)
    for (x0, y0), (x1, y1) in zip(curve, curve[1:], strict=False):
        assert x1 > x0
        assert y1 >= y0
        assert 0.0 <= y0 <= 1.0 and 0.0 <= y1 <= 1.0


@pytest.mark.parametrize("name", ["birch-plywood", "maple", "walnut", "bamboo", "mdf", "leather", "cork"])
def test_organic_materials_saturate_early(name):
    """Char saturates: at half power a wood is at least half way to its darkest mark (concave curve)."""
    curve = get_material(name).tone_curve
    xs, ys = zip(*curve, strict=True)
    assert float(np.interp(0.5, xs, ys)) >= 0.5
    # concave: slopes never increase
    slopes = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(curve, curve[1:], strict=False)]
    assert all(b <= a + 1e-9 for a, b in zip(slopes, slopes[1:], strict=False)), slopes


# ---------------------------------------------------------------------------------------------- spread, intervals


@pytest.mark.parametrize("name", REAL_MATERIALS)
def test_spread_and_interval_are_sane(name):
    material = get_material(name)
    assert 0.01 <= material.spread_mm <= 0.15
    assert 0.03 <= material.line_interval_mm <= 0.2
    assert 0.0 <= material.texture_strength <= 0.15
    assert material.texture in TEXTURES
    assert material.notes


def test_spread_ordering_follows_physics():
    spread = {name: get_material(name).spread_mm for name in REAL_MATERIALS}
    # Thin-layer processes on metal spread less than any charring organic material.
    for metal in ["black-anodised-aluminium", "coated-metal", "stainless-marking-spray"]:
        for organic in ["birch-plywood", "maple", "walnut", "bamboo", "mdf", "leather", "cork", "cardboard"]:
            assert spread[metal] < spread[organic], (metal, organic)
    assert spread["cork"] == max(spread[n] for n in REAL_MATERIALS if get_material(n).category == "wood")


def test_reference_is_ideal():
    reference = get_material("reference")
    assert reference.spread_mm == 0.0
    assert reference.tone_curve == ((0.0, 0.0), (1.0, 1.0))
    assert reference.unburned_rgb == (255, 255, 255) and reference.burned_rgb == (0, 0, 0)


@pytest.mark.parametrize("name", list(machines()))
def test_machine_values_are_sane(name):
    machine = get_machine(name)
    assert machine.kind in MACHINE_KINDS
    assert 0.02 <= machine.spot_mm <= 0.25
    # The default interval is about the spot size, so scan lines just merge.
    assert 0.7 * machine.spot_mm <= machine.line_interval_mm <= 1.05 * machine.spot_mm
    assert machine.max_feed_mm_min >= 6000
    assert all(side >= 100 for side in machine.work_area_mm) and len(machine.work_area_mm) == 2
    assert machine.s_max == 1000 and machine.s_min == 0
    assert 0 <= machine.min_power_pct <= 15


def test_machine_kinds_and_ranges():
    by_kind = {kind: [m for m in machines().values() if m.kind == kind] for kind in MACHINE_KINDS}
    for kind in MACHINE_KINDS:
        assert by_kind[kind], kind
    for m in by_kind["diode"]:
        assert 0.06 <= m.spot_mm <= 0.15 and 6000 <= m.max_feed_mm_min <= 20000 and 5 <= m.min_power_pct <= 10
    for m in by_kind["co2"]:
        assert 0.1 <= m.spot_mm <= 0.2
    for m in by_kind["fibre"] + by_kind["galvo"]:
        assert 0.03 <= m.spot_mm <= 0.05 and m.max_feed_mm_min >= 100000
    assert get_machine("co2-40w").work_area_mm == (300, 200)


def test_diode_spot_grows_with_power():
    diodes = sorted((m for m in machines().values() if m.kind == "diode"), key=lambda m: m.power_w)
    spots = [m.spot_mm for m in diodes]
    assert spots == sorted(spots)


# ---------------------------------------------------------------------------------------------- suggestions


@pytest.mark.parametrize("name", list(materials()))
def test_every_material_has_suggestions_for_known_kinds(name):
    material = get_material(name)
    assert material.suggestions
    for kind, suggestion in material.suggestions.items():
        assert kind in MACHINE_KINDS
        assert 0 < suggestion.power_pct <= 100
        assert suggestion.speed_mm_min > 0
        assert isinstance(suggestion.passes, int) and suggestion.passes >= 1


@pytest.mark.parametrize("name", REAL_MATERIALS)
def test_suggested_speeds_are_reachable_by_every_machine_of_that_kind(name):
    for kind, suggestion in get_material(name).suggestions.items():
        slowest = min(m.max_feed_mm_min for m in machines().values() if m.kind == kind)
        assert suggestion.speed_mm_min <= slowest, (name, kind)


def test_suitability_follows_wavelengths():
    # Clear acrylic and glass pass diode (blue) and fibre (1064 nm) light: CO2 only.
    for name in ["cast-acrylic", "glass"]:
        assert set(get_material(name).suggestions) == {"co2"}, name
    # Fibre and galvo heads mark metals and anodising.
    for name in ["black-anodised-aluminium", "coated-metal"]:
        assert {"fibre", "galvo"} <= set(get_material(name).suggestions), name
    # Marking spray is for lasers that cannot mark bare stainless; wood is not a fibre job.
    assert "fibre" not in get_material("stainless-marking-spray").suggestions
    assert "fibre" not in get_material("birch-plywood").suggestions


# ---------------------------------------------------------------------------------------------- adjustments


@pytest.mark.parametrize("name", list(materials()))
def test_default_adjustments_use_allowed_keys_and_ranges(name):
    allowed = {
        "brightness": (-1, 1),
        "contrast": (0.2, 3),
        "gamma": (0.2, 5),
        "sharpen_amount": (0, 3),
        "sharpen_radius_mm": (0.05, 2),
        "clahe": (0, 1),
        "denoise": (0, 1),
        "auto_levels_clip": (0, 5),
    }
    assert allowed == ADJUSTMENT_RANGES
    for key, value in get_material(name).default_adjustments.items():
        assert key in allowed, key
        low, high = allowed[key]
        assert low <= value <= high, (key, value)


def test_slate_gets_auto_levels():
    assert get_material("slate").default_adjustments.get("auto_levels_clip", 0) > 0


# ---------------------------------------------------------------------------------------------- loader validation

GOOD_MATERIAL = """
[materials.x]
label = "X"
category = "wood"
polarity = "dark"
unburned_rgb = [200, 180, 150]
burned_rgb = [40, 30, 20]
spread_mm = 0.05
line_interval_mm = 0.1
tone_curve = [[0.0, 0.0], [1.0, 1.0]]
[materials.x.suggestions]
diode = { power_pct = 50, speed_mm_min = 3000 }
[machines.m]
label = "M"
kind = "diode"
power_w = 10
spot_mm = 0.08
line_interval_mm = 0.08
max_feed_mm_min = 6000
work_area_mm = [400, 400]
"""


def test_loader_accepts_a_minimal_entry():
    found_materials, found_machines = library._parse(GOOD_MATERIAL)
    assert found_materials["x"].tone_curve == ((0.0, 0.0), (1.0, 1.0))
    assert found_machines["m"].work_area_mm == (400, 400)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('polarity = "dark"', 'polarity = "negative"', "polarity"),
        ("burned_rgb = [40, 30, 20]", "burned_rgb = [40, 30, 300]", "burned_rgb"),
        ("[[0.0, 0.0], [1.0, 1.0]]", "[[0.0, 0.0], [0.5, 0.6], [0.7, 0.4], [1.0, 1.0]]", "must not decrease"),
        ("[[0.0, 0.0], [1.0, 1.0]]", "[[0.0, 0.1], [1.0, 1.0]]", "start at [0, 0]"),
        ("spread_mm = 0.05", "spread_mm = -0.05", "spread_mm"),
        ("diode = { power_pct", "laserjet = { power_pct", "machine kind"),
        ("power_pct = 50", "power_pct = 150", "power_pct"),
        ('category = "wood"', 'category = "wood"\ncolour = "red"', "unknown field(s) colour"),
        ('category = "wood"', 'category = "wood"\ntexture = "plaid"', "texture"),
        ('category = "wood"', 'category = "wood"\ndefault_adjustments = { sparkle = 1 }', "unknown key 'sparkle'"),
        ('category = "wood"', 'category = "wood"\ndefault_adjustments = { contrast = 9 }', "contrast"),
        ('kind = "diode"', 'kind = "plasma"', "kind"),
        ("work_area_mm = [400, 400]", "work_area_mm = [400]", "work_area_mm"),
    ],
)
def test_loader_rejects_bad_entries_with_clear_messages(old, new, expected):
    assert old in GOOD_MATERIAL
    with pytest.raises(LibraryError) as caught:
        library._parse(GOOD_MATERIAL.replace(old, new, 1))
    assert expected in str(caught.value)
    assert "library.toml" in str(caught.value)
