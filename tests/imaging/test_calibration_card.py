"""The material test card (intaglio.imaging.calibration): it fits, a photo finds it and its id, its wedge is what the
engine burns, its grid runs in risk order within the machine's limits, and its four files agree with card.json."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from functools import cache

import cv2
import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.artwork import NEUTRAL_ADJUSTMENTS, Machine, get_machine, machines, prepare_artwork
from intaglio.imaging.artwork.outputs import parse_gcode_raster
from intaglio.imaging.calibration import (
    CardError,
    board,
    card_id_from_markers,
    check_card,
    detect_card,
    make_card,
    marker_ids,
)

CASES = [
    ("birch-plywood", "diode-10w", "floyd-steinberg", None),
    ("slate", "fibre-20w", "bayer4", None),  # light-marking, the smallest work area
    ("maple", "co2-60w", "halftone", 0.12),
    ("black-anodised-aluminium", "galvo", "atkinson", 0.05),
]


@cache
def card_for(material, machine, mode, interval, card_id=0x3F2A9C1B):
    return make_card(material=material, machine=machine, mode=mode, line_interval_mm=interval, card_id=card_id)


def png_burn(card) -> tuple[np.ndarray, Image.Image]:
    image = Image.open(io.BytesIO(card.png()))
    return ~np.asarray(image.convert("L")).astype(bool), image


def px_rect(rect_mm, interval):
    x, y, w, h = (round(v / interval) for v in rect_mm)
    return x, y, w, h


def board_band_rects(layout) -> list[list[float]]:
    """The drawn rows of the board, as rects in mm (runs of consecutive rows)."""
    b = layout["board"]
    x, y, w, _ = b["rect_mm"]
    rows = b["rows"]
    runs = [[rows[0], rows[0]]]
    for row in rows[1:]:
        if row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return [[x, y + a * b["square_mm"], w, (z - a + 1) * b["square_mm"]] for a, z in runs]


def all_rects(layout) -> list[tuple[str, list[float]]]:
    rects = [("board", r) for r in board_band_rects(layout)]
    rects += [("wedge", p["rect_mm"]) for p in layout["wedge"]]
    rects += [("grid", c["rect_mm"]) for c in layout["grid"]]
    rects += [("bare", r) for r in layout["bare"]] + [("full", r) for r in layout["full"]]
    rects += [("width", p["rect_mm"]) for p in layout["width"]]
    rects += [("label", label["rect_mm"]) for label in layout["labels"]]
    return rects


@pytest.mark.parametrize("name", sorted(machines()))
def test_the_card_fits_every_library_machine_it_can_be_made_for(name):
    machine = get_machine(name)
    material = "slate"  # suggested for every machine kind
    card = card_for(material, name, "floyd-steinberg", None)
    area_w, area_h = machine.work_area_mm
    assert card.layout["width_mm"] <= area_w and card.layout["height_mm"] <= area_h
    assert check_card(material=material, machine=name, mode="floyd-steinberg") == ""


def test_a_card_that_cannot_fit_or_be_burned_is_refused_clearly():
    small = Machine(
        name="custom",
        label="Tiny galvo",
        kind="galvo",
        power_w=20,
        spot_mm=0.03,
        line_interval_mm=0.03,
        max_feed_mm_min=300000,
        work_area_mm=(70.0, 70.0),
    )
    with pytest.raises(CardError, match=r"does not fit the Tiny galvo's 70 × 70 mm work area"):
        make_card(material="slate", machine=small, card_id=1)
    with pytest.raises(CardError, match=r"at a 0.13 mm line interval and does not fit"):
        make_card(material="slate", machine="fibre-20w", line_interval_mm=0.13, card_id=1)
    with pytest.raises(CardError, match="dithering mode"):
        make_card(material="slate", machine="diode-10w", mode="grayscale", card_id=1)
    with pytest.raises(CardError, match="no suggested settings for a fibre laser"):
        make_card(material="birch-plywood", machine="fibre-30w", card_id=1)
    with pytest.raises(CardError, match="32-bit"):
        make_card(material="slate", machine="diode-10w", card_id=2**32)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("spread_mm", [0.0, 0.2])
def test_charuco_detector_finds_the_board_and_the_id_even_after_spread(case, spread_mm):
    card = card_for(*case)
    burned, _ = png_burn(card)
    picture = np.where(burned, 0, 255).astype(np.uint8)
    if spread_mm:
        picture = cv2.GaussianBlur(picture, (0, 0), sigmaX=spread_mm / card.line_interval_mm)
    found = detect_card(picture)
    assert found is not None and found.card_id == 0x3F2A9C1B
    assert len(found.marker_ids) == 14  # every drawn marker
    assert len(found.charuco_ids) == 12  # every corner between two drawn rows
    # The board as card.json describes it, straight into cv2.aruco.
    b = card.layout["board"]
    described = cv2.aruco.CharucoBoard(
        (b["squares_x"], b["squares_y"]),
        b["square_mm"],
        b["marker_mm"],
        cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, b["dictionary"])),
        np.array(b["marker_ids"], dtype=np.int32),
    )
    corners, ids, _, _ = cv2.aruco.CharucoDetector(described).detectBoard(picture)
    assert ids is not None and len(ids) == 12
    # The corners are where card.json says: chessboard corner k at its board position, in pixels.
    expected = (described.getChessboardCorners()[ids.ravel(), :2] + b["rect_mm"][:2]) / card.line_interval_mm
    assert np.abs(corners.reshape(-1, 2) - expected).max() < 1.5


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_simulated_photo_of_the_burned_card_gives_its_id_and_board(case):
    """The card as burned on the material (its colours, a 0.2 mm spread), shot at an angle under uneven light, with
    sensor noise, at about 0.15 mm a pixel. Light-marking materials show it as a negative."""
    card = card_for(*case)
    spread = cv2.GaussianBlur(card.burn.astype(np.float32), (0, 0), sigmaX=0.2 / card.line_interval_mm)[..., None]
    unburned = np.array(card.material.unburned_rgb, np.float32)
    burned = np.array(card.material.burned_rgb, np.float32)
    on_material = unburned * (1 - spread) + burned * spread
    h, w = card.burn.shape
    scale = card.line_interval_mm / 0.15
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    shot = np.float32([[60, 40], [w - 20, 90], [w - 70, h - 10], [30, h - 60]]) * scale + 50
    size = (int((w + 60) * scale + 100), int((h + 60) * scale + 100))
    photo = cv2.warpPerspective(
        on_material, cv2.getPerspectiveTransform(corners, shot), size, flags=cv2.INTER_AREA, borderValue=(80, 80, 80)
    )
    photo *= (0.65 + 0.35 * np.linspace(0, 1, size[0], dtype=np.float32))[None, :, None]
    photo += np.random.default_rng(15).normal(0, 5, photo.shape).astype(np.float32)
    photo = np.clip(photo, 0, 255).astype(np.uint8)[..., ::-1].copy()  # BGR, as cv2 reads a photo
    found = detect_card(photo)
    assert found is not None and found.card_id == 0x3F2A9C1B
    assert found.inverted == (card.material.polarity == "light")
    assert len(found.marker_ids) >= 12 and len(found.charuco_ids) >= 10


def test_the_id_is_carried_by_the_markers_and_survives_lost_ones():
    rng = np.random.default_rng(15)
    for card_id in [0, 1, 2**32 - 1, *rng.integers(0, 2**32, 20).tolist()]:
        ids = marker_ids(card_id)
        assert len(set(ids)) == len(ids) and max(ids) < 1000
        drawn = [i for i in ids if i < 14 * 64]
        assert card_id_from_markers(drawn) == card_id
        assert card_id_from_markers(drawn[:6]) == card_id  # one copy of each digit is enough
        assert card_id_from_markers([*drawn[2:], 7]) == card_id  # a stray id is outvoted
    assert card_id_from_markers([]) is None
    first = marker_ids(0x3F2A9C1B)
    assert card_id_from_markers([first[0] ^ 1, *(i for i in first[1:6])]) is None  # the check nibble catches it


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_wedge_is_what_prepare_burns_for_each_grey(case):
    material, machine, mode, interval = case
    card = card_for(*case)
    burned, _ = png_burn(card)
    wedge = card.layout["wedge"]
    nominals = [patch["nominal"] for patch in wedge]
    assert len(wedge) >= 17 and nominals == sorted(nominals) and nominals[0] == 0 and nominals[-1] == 1
    fractions = []
    for patch in wedge:
        x, y, w, h = px_rect(patch["rect_mm"], card.line_interval_mm)
        assert min(patch["rect_mm"][2:]) >= 4
        flat = np.full((h, w), patch["grey"], dtype=np.uint8)
        art = prepare_artwork(
            flat,
            material=material,
            machine=machine,
            mode=mode,
            width_mm=w * card.line_interval_mm,
            height_mm=h * card.line_interval_mm,
            line_interval_mm=card.line_interval_mm,
            **NEUTRAL_ADJUSTMENTS,
        )
        on_card = burned[y : y + h, x : x + w]
        assert np.array_equal(on_card, art.burn)
        assert on_card.mean() == pytest.approx(patch["burned_fraction"], abs=1e-6)
        fractions.append(on_card.mean())
    # 1 is the darkest the engine aims for; with dot-gain compensation it may leave some of the patch clear.
    assert fractions[0] == 0 and fractions[-1] > 0.5
    assert all(b >= a - 0.02 for a, b in zip(fractions, fractions[1:], strict=False))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_grid_runs_in_risk_order_within_the_machine_limits(case):
    card = card_for(*case)
    machine = card.machine
    grid = card.layout["grid"]
    powers = sorted({cell["power_pct"] for cell in grid})
    speeds = sorted({cell["speed_mm_min"] for cell in grid})
    assert len(powers) >= 5 and len(speeds) >= 5 and len(grid) == len(powers) * len(speeds)
    assert sorted(cell["order"] for cell in grid) == list(range(1, len(grid) + 1))
    ordered = sorted(grid, key=lambda cell: cell["order"])
    assert ordered[0]["power_pct"] == powers[0] and ordered[0]["speed_mm_min"] == speeds[-1]
    assert ordered[-1]["power_pct"] == powers[-1] and ordered[-1]["speed_mm_min"] == speeds[0]
    energy = [cell["power_pct"] / cell["speed_mm_min"] for cell in ordered]
    assert energy == sorted(energy)
    assert powers[0] >= machine.min_power_pct and powers[-1] <= 100
    assert speeds[-1] <= machine.max_feed_mm_min and speeds[0] > 0
    suggested = card.layout["suggested"]
    assert powers[0] <= suggested["power_pct"] <= powers[-1]
    assert speeds[0] <= suggested["speed_mm_min"] <= speeds[-1]


@pytest.mark.parametrize("case", CASES[:2], ids=[c[0] for c in CASES[:2]])
def test_the_gcode_burns_the_png_and_each_grid_cell_at_its_own_s_and_f(case):
    card = card_for(*case)
    burned, _ = png_burn(card)
    program = card.gcode()
    h, w = burned.shape
    raster = parse_gcode_raster(program, px_mm=card.line_interval_mm, width_px=w, height_px=h)
    assert np.array_equal(raster.bitmap, burned) and raster.rapids_with_power == 0
    sections = re.split(r"^; (grid cell \d+|board, wedge, labels, full and width patches):.*$", program, flags=re.M)[1:]
    names, bodies = sections[0::2], sections[1::2]
    cells = sorted(card.layout["grid"], key=lambda cell: cell["order"])
    assert names == [f"grid cell {cell['order']}" for cell in cells] + ["board, wedge, labels, full and width patches"]
    suggested = card.layout["suggested"]
    s_suggested = round(card.machine.s_max * suggested["power_pct"] / 100)
    for name, body, cell in zip(names, bodies, [*cells, None], strict=True):
        s_words = {int(v) for v in re.findall(r"S(\d+)", body)} - {0}
        f_words = {float(v) for v in re.findall(r"F([\d.]+)", body)}
        if cell is None:
            assert s_words == {s_suggested} and f_words == {suggested["speed_mm_min"]}, name
            continue
        assert s_words == {cell["s"]} and f_words == {cell["speed_mm_min"]}, name
        assert cell["s"] == round(card.machine.s_max * cell["power_pct"] / 100)
        alone = parse_gcode_raster(
            "M4\n" + body, px_mm=card.line_interval_mm, width_px=w, height_px=h
        ).bitmap  # the section burns exactly its cell
        x, y, cw, ch = px_rect(cell["rect_mm"], card.line_interval_mm)
        expected = np.zeros_like(burned)
        expected[y : y + ch, x : x + cw] = True
        assert np.array_equal(alone, expected), name


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_card_json_matches_the_png(case):
    card = card_for(*case)
    burned, image = png_burn(card)
    layout = json.loads(card.json())
    assert layout == card.layout and layout["card_id"] == "3F2A9C1B"
    interval = layout["line_interval_mm"]
    assert image.mode == "1" and image.size == (layout["width_px"], layout["height_px"])
    assert image.info["dpi"][0] == pytest.approx(25.4 / interval, abs=0.02) == pytest.approx(layout["dpi"], abs=0.02)
    assert layout["width_mm"] == pytest.approx(layout["width_px"] * interval)
    assert layout["height_mm"] == pytest.approx(layout["height_px"] * interval)
    assert layout["board"]["bit_mm"] >= 2.0 and layout["board"]["marker_mm"] == pytest.approx(
        6 * layout["board"]["bit_mm"]
    )
    covered = np.zeros_like(burned, dtype=np.int32)
    for kind, rect in all_rects(layout):
        x, y, w, h = px_rect(rect, interval)
        assert x >= 0 and y >= 0 and x + w <= burned.shape[1] and y + h <= burned.shape[0], (kind, rect)
        assert all(abs(v / interval - round(v / interval)) < 1e-3 for v in rect), (kind, rect)  # whole lines
        covered[y : y + h, x : x + w] += 1
    assert covered.max() == 1  # no overlaps
    assert not burned[covered == 0].any()  # margins and gaps are unburned
    margin = round(layout["margin_mm"] / interval)
    assert margin >= 1 and not burned[:margin].any() and not burned[-margin:].any()
    assert not burned[:, :margin].any() and not burned[:, -margin:].any()
    for rect in layout["bare"]:
        x, y, w, h = px_rect(rect, interval)
        assert min(rect[2:]) >= 4 and not burned[y : y + h, x : x + w].any()
    for rect in layout["full"] + [cell["rect_mm"] for cell in layout["grid"]]:
        x, y, w, h = px_rect(rect, interval)
        assert min(rect[2:]) >= 4 and burned[y : y + h, x : x + w].all()
    assert layout["width"], "no width patch"
    for patch in layout["width"]:
        x, y, w, h = px_rect(patch["rect_mm"], interval)
        marks = burned[y : y + h, x : x + w]
        assert min(patch["rect_mm"][2:]) >= 4 and marks.mean() == pytest.approx(patch["burned_fraction"], abs=1e-6)
        if patch["pattern"] == "checker":  # lone marks: no two fired pixels side by side along or across the lines
            assert 0.45 < marks.mean() < 0.55
            assert not (marks[:, 1:] & marks[:, :-1]).any() and not (marks[1:] & marks[:-1]).any()
    assert {"ID 3F2A9C1B", layout["material"]} <= {label["text"] for label in layout["labels"]}


def test_svg_embeds_the_card_at_its_size():
    card = card_for(*CASES[0])
    svg = card.svg()
    assert f'width="{card.layout["width_mm"]:g}mm"' in svg and "data:image/png;base64," in svg


def test_cli_writes_the_four_files_and_refuses_clearly(tmp_path):
    def run(*args):
        command = [sys.executable, "-m", "intaglio.cli", "calibrate", "card", *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    out = tmp_path / "out"
    made = run("--material", "birch-plywood", "--machine", "diode-10w", "--mode", "floyd-steinberg", "--interval",
               "0.1", "--card-id", "00C0FFEE", "--out", out)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in out.iterdir()) == ["card.gcode", "card.json", "card.png", "card.svg"]
    layout = json.loads((out / "card.json").read_text())
    assert layout["card_id"] == "00C0FFEE" and layout["line_interval_mm"] == 0.1 and "✓ card 00C0FFEE" in made.stdout
    picture = np.asarray(Image.open(out / "card.png").convert("L"))
    assert detect_card(picture).card_id == 0xC0FFEE
    assert (out / "card.gcode").read_text().startswith("; Intaglio test card 00C0FFEE")
    spec = tmp_path / "mine.json"
    spec.write_text(
        json.dumps(
            {
                "label": "Bench diode",
                "kind": "diode",
                "power_w": 5,
                "spot_mm": 0.1,
                "line_interval_mm": 0.1,
                "max_feed_mm_min": 2500,
                "work_area_mm": [90, 90],
            }
        )
    )
    too_small = run("--material", "maple", "--machine-spec", spec, "--out", out)
    assert too_small.returncode == 1 and "does not fit the Bench diode's 90 × 90 mm work area" in too_small.stdout
    unknown = run("--material", "marble", "--machine", "diode-10w", "--out", out)
    assert unknown.returncode == 2 and "Unknown material 'marble'" in unknown.stderr


def test_the_board_helper_matches_card_json():
    card = card_for(*CASES[0])
    b = card.layout["board"]
    described = board(card.card_id, square_mm=b["square_mm"], marker_mm=b["marker_mm"])
    assert described.getIds().tolist() == b["marker_ids"] and b["first_marker_id"] == b["marker_ids"][0]
