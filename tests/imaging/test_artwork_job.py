"""The laser job: settings scaled to the machine, layout and placement, burn time, SVG and LightBurn files."""

from __future__ import annotations

import base64
import io
import math
import re
import threading
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from intaglio.imaging.artwork import (
    ArtworkError,
    LaserSettings,
    Layout,
    check_laser_settings,
    check_placement,
    estimate_burn_time,
    get_machine,
    get_material,
    laser_problem,
    lbrn2,
    machines,
    materials,
    prepare_artwork,
    suggest_laser_settings,
)
from intaglio.imaging.artwork.burntime import move_time
from intaglio.imaging.artwork.laser import REFERENCE_MACHINES
from intaglio.imaging.artwork.outputs import parse_gcode_raster


def _photo(seed: int, width: int = 200, height: int = 150) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    picture = 0.6 + 0.3 * np.sin(xx / rng.uniform(10, 30)) * np.cos(yy / rng.uniform(10, 30))
    return np.clip(picture * 255 + rng.normal(0, 8, picture.shape), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------- laser settings


def test_reference_machine_gets_the_material_suggestion_unchanged():
    for material in materials().values():
        for kind, suggestion in material.suggestions.items():
            laser = suggest_laser_settings(material, REFERENCE_MACHINES[kind])
            assert (laser.power_pct, laser.speed_mm_min, laser.passes) == (
                suggestion.power_pct,
                suggestion.speed_mm_min,
                suggestion.passes,
            ), (material.name, kind)


def test_other_machines_keep_the_energy_per_area_within_their_limits():
    checked = 0
    for material in materials().values():
        for machine in machines().values():
            if machine.kind not in material.suggestions:
                continue
            suggestion = material.suggestions[machine.kind]
            reference = get_machine(REFERENCE_MACHINES[machine.kind])
            laser = suggest_laser_settings(material, machine)
            assert check_laser_settings(laser, machine) is None, (material.name, machine.name)
            assert 0 < laser.power_pct <= 100 and laser.speed_mm_min <= machine.max_feed_mm_min
            wanted = suggestion.power_pct * reference.power_w / suggestion.speed_mm_min
            got = laser.power_pct * machine.power_w / laser.speed_mm_min
            if laser.power_pct > machine.min_power_pct:  # not pinned at the lowest marking power
                assert got == pytest.approx(wanted, rel=0.01), (material.name, machine.name)
            checked += 1
    assert checked > 30


def test_weaker_laser_runs_at_full_power_and_slower():
    laser = suggest_laser_settings("birch-plywood", "diode-5w")  # 70 % of 10 W at 3000 mm/min → over 100 % of 5 W
    assert laser.power_pct == 100
    assert laser.speed_mm_min == pytest.approx(3000 * 5 * 100 / (70 * 10), abs=1)


def test_unsuitable_material_names_material_and_kind():
    problem = laser_problem("glass", "diode-10w")
    assert problem and "Glass" in problem and "diode" in problem and "passes through" in problem
    with pytest.raises(ArtworkError, match="Glass.*diode"):
        suggest_laser_settings("glass", "diode-10w")
    assert laser_problem("glass", "co2-60w") is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"power_pct": 120.0}, "100 %"),
        ({"power_pct": 3.0}, "lowest marking power"),
        ({"speed_mm_min": 50_000.0}, "maximum feed"),
        ({"passes": 0}, "Passes"),
        ({"overscan_mm": 500.0}, "overscan"),
    ],
)
def test_check_laser_settings_names_the_limit(change, words):
    machine = get_machine("diode-10w")
    good = suggest_laser_settings("birch-plywood", machine)
    assert check_laser_settings(good, machine) is None
    fields = {**good.__dict__, **change}
    problem = check_laser_settings(LaserSettings(**fields), machine)
    assert problem and words.lower() in problem.lower()


# ---------------------------------------------------------------------------------------------- layout


@pytest.mark.parametrize("anchor", ["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom"])
def test_origin_follows_anchor_and_offset(anchor):
    area = (400.0, 300.0)
    w, h = 100.0, 50.0
    x, y = Layout(anchor=anchor, offset_mm=(7.0, -3.0)).origin_mm(w, h, area)
    expect_x = 0.0 if "left" in anchor else (area[0] - w if "right" in anchor else (area[0] - w) / 2)
    expect_y = area[1] - h if "top" in anchor else (0.0 if "bottom" in anchor else (area[1] - h) / 2)
    assert (x, y) == pytest.approx((expect_x + 7.0, expect_y - 3.0))


def test_placement_outside_the_work_area_is_named():
    machine = get_machine("diode-10w")  # 400 × 400
    assert check_placement(Layout(anchor="right"), width_mm=100, height_mm=100, machine=machine) is None
    problem = check_placement(Layout(anchor="right", offset_mm=(5, 0)), width_mm=100, height_mm=100, machine=machine)
    assert problem and "right edge" in problem and "5.0 mm" in problem
    problem = check_placement(Layout(), width_mm=100, height_mm=100, machine=machine, overscan_mm=2)
    assert problem and "left edge" in problem
    with pytest.raises(ArtworkError, match="top edge"):
        prepare_artwork(
            _photo(1), material="reference", machine=machine, width_mm=50, layout=Layout(anchor="top", offset_mm=(0, 1))
        )


def _halves(top_dark: bool) -> np.ndarray:
    photo = np.full((60, 120), 255, np.uint8)  # wide: 120 × 60
    photo[: 30 if top_dark else 60, : 120 if top_dark else 60] = 0
    return photo


def test_crop_rotate_mirror_apply_before_sizing():
    common = {"material": "reference", "machine": "diode-10w", "mode": "threshold", "line_interval_mm": 0.5}
    # Left half dark: cropping to it leaves a square of all dark.
    crop = prepare_artwork(_halves(False), width_mm=30, layout=Layout(crop=(0, 0, 0.5, 1)), **common)
    assert crop.burn.shape == (60, 60) and crop.burn.mean() > 0.99
    # Top half dark, turned clockwise: tall, the dark half on the right.
    turned = prepare_artwork(_halves(True), width_mm=30, layout=Layout(rotate_deg=90), **common)
    h, w = turned.burn.shape
    assert (w, h) == (60, 120)
    assert turned.burn[:, w // 2 + 2 :].mean() > 0.99 and turned.burn[:, : w // 2 - 2].mean() < 0.01
    # Mirrored too: the dark half on the left.
    mirrored = prepare_artwork(_halves(True), width_mm=30, layout=Layout(rotate_deg=90, mirror=True), **common)
    assert np.array_equal(mirrored.burn, turned.burn[:, ::-1])


def test_masks_keep_outside_unburned_and_soft_edges_fade():
    dark = np.zeros((200, 200), np.uint8)
    common = {"material": "reference", "machine": "diode-10w", "width_mm": 40, "mode": "floyd-steinberg"}
    hard = prepare_artwork(dark, layout=Layout(mask="oval"), **common)
    n = hard.burn.shape[0]
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    r = np.hypot(xx - n / 2, yy - n / 2) / (n / 2)
    assert not hard.burn[r > 1.0].any()
    assert hard.burn[r < 0.95].mean() > 0.99
    soft = prepare_artwork(dark, layout=Layout(mask="oval", mask_edge="soft"), **common)
    assert not soft.burn[r > 1.0].any()
    depth_mm = (1 - r) * 20  # distance inside the edge, roughly, on a 40 mm circle
    assert 0.2 < soft.burn[(depth_mm > 0.5) & (depth_mm < 1.0)].mean() < 0.5
    assert soft.burn[depth_mm > 4].mean() > 0.99
    rounded = prepare_artwork(dark, layout=Layout(mask="rounded"), **common)
    assert not rounded.burn[0, 0] and rounded.burn[0, n // 2] and rounded.burn[n // 2, 0]


def test_gcode_is_placed_by_the_layout_and_carries_the_settings():
    layout = Layout(anchor="center", offset_mm=(10, -20))
    art = prepare_artwork(_photo(2), material="birch-plywood", machine="diode-10w", width_mm=30, layout=layout)
    laser = LaserSettings(power_pct=55, speed_mm_min=2500, passes=2, overscan_mm=1.5, air_assist=True)
    text = art.gcode(laser)
    origin = layout.origin_mm(art.width_mm, art.height_mm, art.machine.work_area_mm)
    assert origin == pytest.approx((185 + 10, (400 - art.height_mm) / 2 - 20))
    h, w = art.burn.shape
    raster = parse_gcode_raster(text, px_mm=art.px_mm, width_px=w, height_px=h, origin=origin)
    assert np.array_equal(raster.bitmap, art.burn)
    assert raster.hits.max() == 2 and raster.feed == 2500 and raster.s_values == (550,)
    header = [line[2:] for line in text.splitlines() if line.startswith("; ")]
    assert "Material: Birch plywood" in header and "Power: 55 % (S550 of S1000)" in header
    assert "Passes: 2" in header and "Speed: 2500 mm/min" in header and "Air assist: on" in header
    assert f"Estimated time: {estimate_burn_time(art, laser).text()}" in header
    assert "M8" in text.split("\n")


# ---------------------------------------------------------------------------------------------- burn time


def test_burn_time_of_a_single_row_matches_the_trapezoids_by_hand():
    burn = np.zeros((10, 500), bool)
    burn[4, 100:400] = True  # 30 mm at 0.1 mm
    art = prepare_artwork(np.zeros((10, 500), np.uint8), material="reference", machine="diode-10w", width_mm=50)
    art = type(art)(**{**art.__dict__, "burn": burn})
    laser = LaserSettings(power_pct=100, speed_mm_min=3000, overscan_mm=2.0)
    a, feed, rapid = art.machine.accel_mm_s2, 50.0, art.machine.max_feed_mm_min / 60

    def trapezoid(d, v):
        return d / v + v / a if d >= v * v / a else 2 * math.sqrt(d / a)

    y = (10 - 1 - 4 + 0.5) * art.px_mm
    start, end = 100 * art.px_mm - 2.0, 400 * art.px_mm + 2.0
    expected_burn = trapezoid(end - start, feed)
    expected_travel = trapezoid(math.hypot(start, y), rapid) + trapezoid(math.hypot(end, y), rapid)
    # The run-up goes below X0 here: this time measures the path, placement is another check.
    estimate = estimate_burn_time(art, laser)
    assert estimate.burn_s == pytest.approx(expected_burn, rel=1e-9)
    assert estimate.travel_s == pytest.approx(expected_travel, rel=1e-9)
    twice = estimate_burn_time(art, LaserSettings(**{**laser.__dict__, "passes": 2}))
    assert twice.burn_s == pytest.approx(2 * estimate.burn_s)


def test_move_time_with_carried_speed_is_shorter_and_symmetric():
    d = np.array([0.5, 5.0, 50.0])
    rest = move_time(d, 50.0, 1500.0)
    carried = move_time(d, 50.0, 1500.0, 30.0, 30.0)
    assert np.all(carried < rest)
    assert move_time(d, 50.0, 1500.0, 0.0, 30.0) == pytest.approx(move_time(d, 50.0, 1500.0, 30.0, 0.0))
    assert move_time(np.array([50.0]), 50.0, 1500.0, 50.0, 50.0)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [41, 42])  # held out: the model was checked in the bench on seeds 11–12
def test_preview_estimate_is_close_to_the_full_one(seed):
    common = {"material": "birch-plywood", "machine": "diode-10w", "width_mm": 40, "mode": "floyd-steinberg"}
    full = prepare_artwork(_photo(seed), **common)
    preview = prepare_artwork(_photo(seed), line_interval_mm=0.25, **common)
    quick = estimate_burn_time(preview, line_interval_mm=full.px_mm)
    exact = estimate_burn_time(full)
    assert quick.seconds == pytest.approx(exact.seconds, rel=0.1)
    assert quick.rows == pytest.approx(exact.rows, rel=0.05)


# ---------------------------------------------------------------------------------------------- SVG


def test_sketch_svg_is_strokes_on_the_lines():
    art = prepare_artwork(
        _photo(3, 300, 200), material="birch-plywood", machine="diode-10w", width_mm=60, mode="sketch"
    )
    svg = art.svg()
    assert "<path" in svg and "<rect" not in svg and "<image" not in svg
    path = re.search(r'<path d="([^"]+)"([^>]*)/>', svg)
    assert 'stroke-linecap="round"' in path.group(2) and 'stroke-linejoin="round"' in path.group(2)
    assert f'stroke-width="{art.px_mm:g}"' in path.group(2) and 'fill="none"' in path.group(2)
    points = np.array([[float(v) for v in p.split()] for p in re.findall(r"[-\d.]+ [-\d.]+", path.group(1))])
    cols, rows = np.floor(points[:, 0] / art.px_mm).astype(int), np.floor(points[:, 1] / art.px_mm).astype(int)
    near = np.zeros_like(art.burn)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(art.burn, dy, 0), dx, 1)
    assert near[rows, cols].all()  # every vertex is on a drawn line
    from skimage.morphology import skeletonize

    assert len(points) < skeletonize(art.burn).sum() / 2  # simplified, not pixel by pixel
    root = ET.fromstring(svg)
    assert root.get("width") == f"{art.width_mm:g}mm"


@pytest.mark.parametrize("mode", ["floyd-steinberg", "halftone", "hatch", "grayscale"])
def test_bitmap_svg_embeds_the_exact_artwork(mode):
    art = prepare_artwork(_photo(4), material="maple", machine="diode-10w", width_mm=25, mode=mode)
    svg = art.svg()
    assert "<rect" not in svg
    root = ET.fromstring(svg)
    image = root.find("{http://www.w3.org/2000/svg}image")
    assert image.get("preserveAspectRatio") == "none" and "pixelated" in image.get("style")
    assert root.get("width") == f"{art.width_mm:g}mm" and image.get("width") == f"{art.width_mm:g}"
    href = image.get("{http://www.w3.org/1999/xlink}href")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("L"))
    if art.power is None:
        assert np.array_equal(decoded < 128, art.burn)
    else:
        assert np.array_equal(255 - decoded, art.power)


# ---------------------------------------------------------------------------------------------- LightBurn


def _lbrn_job():
    layout = Layout(anchor="top-right", offset_mm=(-15, -25))
    art = prepare_artwork(_photo(5), material="slate", machine="co2-40w", width_mm=50, mode="jarvis", layout=layout)
    laser = LaserSettings(power_pct=42.5, speed_mm_min=9000, passes=3, overscan_mm=5, air_assist=False)
    return art, laser, layout


def test_lbrn2_read_back_independently():
    art, laser, layout = _lbrn_job()
    root = ET.fromstring(lbrn2(art, laser))
    assert root.tag == "LightBurnProject"
    setting = root.find("CutSetting_Img")
    values = {child.tag: child.get("Value") for child in setting}
    assert setting.get("type") == "Image" and values["index"] == "0"
    assert float(values["maxPower"]) == 42.5 and float(values["speed"]) == pytest.approx(9000 / 60, abs=1e-3)
    assert values["numPasses"] == "3" and float(values["interval"]) == pytest.approx(art.px_mm, abs=1e-6)
    assert values["runBlower"] == "0" and values["passThrough"] == "1"
    shape = root.find("Shape")
    assert shape.get("Type") == "Bitmap" and shape.get("CutIndex") == "0"
    assert float(shape.get("W")) == pytest.approx(art.width_mm, abs=1e-3)
    assert float(shape.get("H")) == pytest.approx(art.height_mm, abs=1e-3)
    a, b, c, d, e, f = map(float, shape.find("XForm").text.split())
    x, y = layout.origin_mm(art.width_mm, art.height_mm, art.machine.work_area_mm)
    assert (a, b, c, d) == (1, 0, 0, 1)
    assert (e, f) == pytest.approx((x + art.width_mm / 2, y + art.height_mm / 2), abs=1e-3)
    assert (e + art.width_mm / 2, f + art.height_mm / 2) == pytest.approx((300 - 15, 200 - 25), abs=1e-3)
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(shape.get("Data")))).convert("L"))
    assert np.array_equal(picture < 128, art.burn)


class _Node:
    def __init__(self, **values):
        self.values, self.children, self.references = values, [], []

    def add(self, **values):
        child = _Node(**values)
        self.children.append(child)
        return child

    def add_reference(self, node):
        self.references.append(node)

    def remove_all_children(self):
        self.children = []

    def focus(self):
        pass


def test_lbrn2_read_back_by_meerk40t(tmp_path):
    lbrn = pytest.importorskip("meerk40t.extra.lbrn")
    from meerk40t.core.units import UNITS_PER_MM

    art, laser, layout = _lbrn_job()
    path = tmp_path / "job.lbrn2"
    path.write_text(lbrn2(art, laser))
    elements = type("Elements", (), {})()
    elements.op_branch, elements.elem_branch, elements.node_lock = _Node(), _Node(), threading.Lock()
    with path.open() as source:
        lbrn.LbrnLoader.parse(str(path), source, elements)
    (operation,) = elements.op_branch.children
    assert operation.values["type"] == "op image"
    assert operation.values["speed"] == pytest.approx(9000 / 60, abs=1e-3)
    assert operation.values["power"] == pytest.approx(425)  # per mille
    (image_node,) = operation.references
    image, matrix = image_node.values["image"], image_node.values["matrix"]
    assert image.size == (art.burn.shape[1], art.burn.shape[0])
    assert np.array_equal(np.asarray(image.convert("L")) < 128, art.burn)
    x, y = layout.origin_mm(art.width_mm, art.height_mm, art.machine.work_area_mm)
    corners = [(0, 0), (image.width, image.height)]
    mapped = [
        (
            (matrix.a * u + matrix.c * v + matrix.e) / UNITS_PER_MM,
            (matrix.b * u + matrix.d * v + matrix.f) / UNITS_PER_MM,
        )
        for u, v in corners
    ]
    # MeerK40t keeps LightBurn's numbers as they are (its Y grows the other way, so the picture's rows run up).
    assert mapped[0] == pytest.approx((x, y), abs=1e-3)
    assert mapped[1] == pytest.approx((x + art.width_mm, y + art.height_mm), abs=1e-3)


def test_material_label_reaches_the_project_notes():
    art, laser, _ = _lbrn_job()
    notes = ET.fromstring(lbrn2(art, laser)).find("Notes").get("Notes")
    assert get_material("slate").label in notes and "42.5 %" in notes
