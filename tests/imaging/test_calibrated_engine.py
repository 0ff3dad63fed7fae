"""The engine with a measured surface (`Calibration`): the card's mark width and darkness replace the library's."""

from __future__ import annotations

import numpy as np
import pytest

from intaglio.imaging.artwork import NEUTRAL_ADJUSTMENTS, Calibration, prepare_artwork, srgb_to_linear
from intaglio.imaging.calibration import make_card, wedge_grey

MATERIAL, MACHINE = "birch-plywood", "diode-10w"


def flat(coverage: float, size=(320, 240)) -> np.ndarray:
    """An 8-bit grey photo whose linear darkness is `coverage` (to the nearest grey)."""
    grey = wedge_grey(coverage, "dark")
    return np.full(size, grey, dtype=np.uint8), float(1 - srgb_to_linear(np.float32(grey / 255)))


def interior_mean(values: np.ndarray) -> float:
    return float(values[96:-24, 24:-24].mean())


def test_a_calibration_that_says_what_the_library_says_changes_nothing():
    photo = (np.add.outer(np.arange(120), np.arange(200)) % 256).astype(np.uint8)
    library = prepare_artwork(photo, material=MATERIAL, machine=MACHINE, width_mm=20)
    same = Calibration(mark_diameter_mm=library.mark_px * library.px_mm)
    calibrated = prepare_artwork(photo, material=MATERIAL, machine=MACHINE, width_mm=20, calibration=same)
    assert np.array_equal(library.burn, calibrated.burn)
    assert calibrated.settings["calibration"]["mark_diameter_mm"] == pytest.approx(same.mark_diameter_mm)


@pytest.mark.parametrize("extra_mm", [0.03, 0.06])
@pytest.mark.parametrize("target", [0.2, 0.5, 0.8])
def test_wider_measured_marks_fire_fewer_and_still_hit_the_tone(extra_mm, target):
    photo, wanted = flat(target)
    library = prepare_artwork(photo, material=MATERIAL, machine=MACHINE, width_mm=24, **NEUTRAL_ADJUSTMENTS)
    wide = Calibration(mark_diameter_mm=library.mark_px * library.px_mm + extra_mm)
    calibrated = prepare_artwork(
        photo, material=MATERIAL, machine=MACHINE, width_mm=24, calibration=wide, **NEUTRAL_ADJUSTMENTS
    )
    assert calibrated.burn.mean() < library.burn.mean()
    assert abs(interior_mean(calibrated.effective_coverage()) - wanted) < 0.02


@pytest.mark.parametrize("target", [0.15, 0.4, 0.65, 0.9])
def test_a_concave_measured_darkness_is_inverted(target):
    # Darkness runs ahead of the marked area (light scattering in the surface): half the area looks 70 % dark.
    area = np.linspace(0.05, 1.0, 17)
    concave = Calibration(mark_diameter_mm=0.16, tone=tuple(zip(area, area**0.5, strict=True)))
    photo, wanted = flat(target)
    art = prepare_artwork(
        photo, material=MATERIAL, machine=MACHINE, width_mm=24, calibration=concave, **NEUTRAL_ADJUSTMENTS
    )
    # The preview shows the measured darkness; it is the wanted tone, and the marked area is the smaller one.
    assert abs(interior_mean(art.effective_coverage()) - wanted) < 0.02
    plain = prepare_artwork(
        photo,
        material=MATERIAL,
        machine=MACHINE,
        width_mm=24,
        calibration=Calibration(mark_diameter_mm=0.16),
        **NEUTRAL_ADJUSTMENTS,
    )
    assert art.burn.mean() < plain.burn.mean()


def test_darkness_and_area_for_are_inverse_and_never_fall():
    noisy = Calibration(mark_diameter_mm=0.12, tone=((0.2, 0.3), (0.4, 0.28), (0.6, 0.7), (0.9, 0.95)))
    area = np.linspace(0, 1, 101, dtype=np.float32)
    darkness = noisy.darkness(area)
    assert np.all(np.diff(darkness) >= 0)
    back = noisy.darkness(noisy.area_for(darkness))
    assert np.allclose(back, darkness, atol=1e-4)


@pytest.mark.parametrize("mark, tone", [(0.0, ()), (3.0, ()), (0.1, ((0.5, 7.0),)), (0.1, ((-0.5, 0.5),))])
def test_impossible_calibrations_are_refused(mark, tone):
    with pytest.raises(ValueError):
        Calibration(mark_diameter_mm=mark, tone=tone)


def test_a_verify_card_is_prepared_with_the_calibration_and_says_so():
    measured = Calibration(mark_diameter_mm=0.2, tone=((0.5, 0.7), (1.0, 1.0)))
    initial = make_card(material=MATERIAL, machine=MACHINE, card_id=11)
    verify = make_card(material=MATERIAL, machine=MACHINE, card_id=11, calibration=measured)
    assert "calibration" not in initial.layout
    assert Calibration.from_json(verify.layout["calibration"]) == measured
    before = [w["burned_fraction"] for w in initial.layout["wedge"]]
    after = [w["burned_fraction"] for w in verify.layout["wedge"]]
    # Wider marks that look darker than their area: every mid step fires less than the library's card.
    assert all(a < b for a, b in zip(after[2:-2], before[2:-2], strict=True))
