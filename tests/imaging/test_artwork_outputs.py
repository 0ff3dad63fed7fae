"""intaglio.imaging.artwork.outputs: PNG, G-code and SVG writers, checked by reading their output back."""

from __future__ import annotations

import io
import math
import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from intaglio.imaging.artwork.outputs import gcode, parse_gcode_raster, png_1bit, png_gray, svg

# PNG stores whole pixels per metre: a DPI reads back within half a pixel per metre.
PNG_DPI_TOLERANCE = 0.5 * 0.0254


def random_burn(height: int, width: int, seed: int, density: float = 0.4) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width)) < density


def dithered(width: int, height: int) -> np.ndarray:
    """A Floyd-Steinberg dither of a smooth synthetic picture: the hardest case for run-length and tracing."""
    yy, xx = np.mgrid[:height, :width]
    gray = 127 + 100 * np.sin(xx / 37.0) * np.cos(yy / 53.0) + 20 * np.sin(xx * 0.7 + yy * 1.3)
    image = Image.frombytes("L", (width, height), gray.clip(0, 255).astype(np.uint8).tobytes()).convert("1")
    return ~np.array(image)


def disk(height: int, width: int, radius: float, hole: float = 0.0) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    d2 = (yy + 0.5 - height / 2) ** 2 + (xx + 0.5 - width / 2) ** 2
    return (d2 <= radius**2) & (d2 >= hole**2)


def mm(value: float) -> float:
    """A coordinate as the G-code writes it (3 decimals)."""
    return round(value, 3)


def read(text: str, burn: np.ndarray, px_mm: float, origin=(0.0, 0.0)):
    return parse_gcode_raster(text, px_mm=px_mm, width_px=burn.shape[1], height_px=burn.shape[0], origin=origin)


# ---------------------------------------------------------------------------------------------------------------
# PNG


@pytest.mark.parametrize("dpi", [254, 300, 318, 333.3, 600, 1000, 1270])
def test_png_1bit_dpi_round_trips(dpi):
    im = Image.open(io.BytesIO(png_1bit(random_burn(5, 13, 0), dpi)))
    read_x, read_y = im.info["dpi"]
    assert read_x == pytest.approx(dpi, abs=PNG_DPI_TOLERANCE)
    assert read_y == pytest.approx(dpi, abs=PNG_DPI_TOLERANCE)
    assert read_x == pytest.approx(round(dpi / 0.0254) * 0.0254)


@pytest.mark.parametrize("dpi", [254, 300, 600, 1000])
def test_common_dpis_read_back_within_five_thousandths(dpi):
    assert Image.open(io.BytesIO(png_1bit(random_burn(2, 2, 0), dpi))).info["dpi"][0] == pytest.approx(dpi, abs=5e-3)


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (16, 64), (31, 9)])
def test_png_1bit_pixels_equal_burn_with_burned_black(shape):
    burn = random_burn(*shape, seed=shape[0] * 100 + shape[1])
    im = Image.open(io.BytesIO(png_1bit(burn, 300)))
    assert im.format == "PNG" and im.mode == "1" and im.size == (shape[1], shape[0])
    white = np.array(im)
    np.testing.assert_array_equal(white, ~burn)
    assert np.array(im.convert("L"))[burn].max(initial=0) == 0  # burned = black


def test_png_gray_is_inverse_power_with_dpi():
    power = (np.arange(17 * 23) % 256).astype(np.uint8).reshape(17, 23)
    im = Image.open(io.BytesIO(png_gray(power, 508)))
    assert im.mode == "L" and im.size == (23, 17)
    np.testing.assert_array_equal(np.array(im), 255 - power)
    assert im.info["dpi"][0] == pytest.approx(508, abs=PNG_DPI_TOLERANCE)
    assert im.info["dpi"][1] == pytest.approx(508, abs=PNG_DPI_TOLERANCE)


def test_png_writers_are_deterministic():
    burn = random_burn(40, 50, 3)
    assert png_1bit(burn, 300) == png_1bit(burn.copy(), 300)
    power = (random_burn(40, 50, 4) * 200).astype(np.uint8)
    assert png_gray(power, 300) == png_gray(power.copy(), 300)


def test_png_rejects_bad_input():
    with pytest.raises(TypeError):
        png_1bit(np.zeros((2, 2), np.uint8), 300)
    with pytest.raises(TypeError):
        png_gray(np.zeros((2, 2), bool), 300)
    with pytest.raises(ValueError):
        png_1bit(np.zeros((2, 2), bool), 0)
    with pytest.raises(ValueError):
        png_1bit(np.zeros((0, 2), bool), 300)
    with pytest.raises(ValueError):
        png_gray(np.zeros((2, 2, 3), np.uint8), 300)


# ---------------------------------------------------------------------------------------------------------------
# G-code: read back equals the artwork


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("overscan_mm", [0.0, 1.5])
@pytest.mark.parametrize("seed", range(4))
def test_gcode_reads_back_as_the_bitmap(bidirectional, overscan_mm, seed):
    burn = random_burn(23, 41, seed, density=[0.1, 0.4, 0.8, 0.03][seed])
    px_mm, origin = 25.4 / 300, (12.5, -3.25)
    text = gcode(
        burn,
        px_mm=px_mm,
        feed_mm_min=3000,
        s_max=1000,
        overscan_mm=overscan_mm,
        bidirectional=bidirectional,
        origin=origin,
        gap_g0_mm=0.5,  # small, so rows also contain long-gap rapids
    )
    back = read(text, burn, px_mm, origin)
    np.testing.assert_array_equal(back.bitmap, burn)
    np.testing.assert_array_equal(back.hits, burn.astype(int))
    assert back.rapids_with_power == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    burn=arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 30))),
    bidirectional=st.booleans(),
    overscan_mm=st.sampled_from([0.0, 0.3, 2.0]),
    gap_g0_mm=st.sampled_from([0.0, 0.25, 5.0]),
    px_mm=st.sampled_from([25.4 / 254, 25.4 / 300, 0.1, 0.25]),
    origin=st.tuples(st.sampled_from([0.0, 7.0, -2.5]), st.sampled_from([0.0, 100.0])),
)
def test_gcode_reads_back_for_any_bitmap(burn, bidirectional, overscan_mm, gap_g0_mm, px_mm, origin):
    text = gcode(
        burn,
        px_mm=px_mm,
        feed_mm_min=1200,
        s_max=255,
        overscan_mm=overscan_mm,
        bidirectional=bidirectional,
        origin=origin,
        gap_g0_mm=gap_g0_mm,
    )
    back = read(text, burn, px_mm, origin)
    np.testing.assert_array_equal(back.bitmap, burn)
    assert back.rapids_with_power == 0
    assert back.hits.max(initial=0) <= 1


def test_gcode_passes_repeat_the_raster():
    burn = random_burn(15, 20, 7)
    for overscan_mm in (0.0, 1.0):
        text = gcode(burn, px_mm=0.1, feed_mm_min=2000, s_max=1000, passes=2, overscan_mm=overscan_mm)
        back = read(text, burn, 0.1)
        np.testing.assert_array_equal(back.hits, 2 * burn.astype(int))
        single = gcode(burn, px_mm=0.1, feed_mm_min=2000, s_max=1000, passes=1, overscan_mm=overscan_mm)
        moves = [line for line in single.splitlines() if line.startswith(("G0 X", "G1", "X"))][:-1]  # not the park
        body = "\n".join(moves).replace(" F2000", "").replace("F2000 ", "")
        assert text.count("F") == 1
        assert text.replace(" F2000", "").replace("F2000 ", "").count(body) == 2


def test_gcode_for_an_empty_bitmap_has_no_moves():
    burn = np.zeros((10, 12), bool)
    text = gcode(burn, px_mm=0.1, feed_mm_min=2000, s_max=1000, return_home=False)
    assert text == "G21\nG90\nM4 S0\nM5\n"
    back = read(text, burn, 0.1)
    assert not back.bitmap.any()
    assert back.x_range is None and back.y_range is None and back.s_values == ()
    assert gcode(np.zeros((0, 0), bool), px_mm=0.1, feed_mm_min=2000, s_max=1000).startswith("G21")


def test_gcode_all_burned_and_single_pixels():
    for burn in (
        np.ones((4, 6), bool),
        np.eye(5, dtype=bool),
        np.zeros((3, 3), bool) | (np.arange(9) == 4).reshape(3, 3),
    ):
        for overscan_mm in (0.0, 0.5):
            text = gcode(burn, px_mm=0.2, feed_mm_min=900, s_max=1000, overscan_mm=overscan_mm)
            np.testing.assert_array_equal(read(text, burn, 0.2).bitmap, burn)


# ---------------------------------------------------------------------------------------------------------------
# G-code: geometry, power, feeds, structure


def test_gcode_extents_are_the_artworks_edges_in_mm():
    px_mm, origin = 25.4 / 254, (5.0, 20.0)
    burn = np.zeros((30, 40), bool)
    burn[3, 7:9] = True  # top-most burned row, left-most column 7
    burn[17, 33:36] = True  # right-most burned pixel ends at column edge 36
    burn[25, 10] = True  # bottom-most burned row
    for overscan_mm, bidirectional in [(0.0, True), (2.0, True), (2.0, False)]:
        text = gcode(
            burn,
            px_mm=px_mm,
            feed_mm_min=3000,
            s_max=1000,
            origin=origin,
            overscan_mm=overscan_mm,
            bidirectional=bidirectional,
        )
        back = read(text, burn, px_mm, origin)
        assert back.x_range == (mm(origin[0] + 7 * px_mm), mm(origin[0] + 36 * px_mm))
        assert back.y_range == (mm(origin[1] + (30 - 1 - 25 + 0.5) * px_mm), mm(origin[1] + (30 - 1 - 3 + 0.5) * px_mm))
        assert origin[0] <= back.x_range[0] <= back.x_range[1] <= origin[0] + 40 * px_mm
        assert origin[1] <= back.y_range[0] <= back.y_range[1] <= origin[1] + 30 * px_mm


def test_gcode_full_width_artwork_spans_exactly_w_px_mm():
    burn = np.ones((3, 50), bool)
    text = gcode(burn, px_mm=0.1, feed_mm_min=3000, s_max=1000, origin=(1.0, 2.0))
    back = read(text, burn, 0.1, (1.0, 2.0))
    assert back.x_range == (1.0, 6.0)
    assert back.y_range == (2.05, 2.25)


def test_gcode_y_points_up_top_row_is_farthest_from_origin():
    burn = np.zeros((4, 3), bool)
    burn[0, 0] = True  # the top-left pixel of the artwork
    text = gcode(burn, px_mm=0.5, feed_mm_min=1000, s_max=1000)
    assert "G0 X0 Y1.75 S0\nG1 F1000 X0.5 S1000\n" in text
    burn = np.zeros((4, 3), bool)
    burn[3, 2] = True  # the bottom-right pixel
    assert "G0 X1 Y0.25 S0\nG1 F1000 X1.5 S1000\n" in gcode(burn, px_mm=0.5, feed_mm_min=1000, s_max=1000)


def test_gcode_bidirectional_alternates_rows_that_burn():
    burn = np.zeros((5, 10), bool)
    burn[0, 2:5] = True
    burn[1] = False  # an empty row does not count
    burn[2, 1:3] = True
    burn[2, 6:8] = True
    burn[4, 4:6] = True
    text = gcode(burn, px_mm=1.0, feed_mm_min=1000, s_max=1000, gap_g0_mm=10)
    moves = text.split("M4 S0\n", 1)[1].split("M5")[0]
    assert moves == (
        "G0 X2 Y4.5 S0\nG1 F1000 X5 S1000\n"  # left to right
        "G0 X8 Y2.5 S0\nG1 X6 S1000\nX3 S0\nX1 S1000\n"  # right to left, runs reversed
        "G0 X4 Y0.5 S0\nG1 X6 S1000\n"  # left to right again
    )


def test_gcode_short_gaps_cross_at_feed_long_gaps_rapid():
    burn = np.zeros((1, 200), bool)
    burn[0, 0:10] = True
    burn[0, 40:50] = True  # 3 mm gap before: crossed with G1 S0
    burn[0, 150:160] = True  # 10 mm gap before: G0
    text = gcode(burn, px_mm=0.1, feed_mm_min=1000, s_max=1000)
    assert "X1 S1000\nX4 S0\nX5 S1000\nG0 X15 S0\nG1 X16 S1000\n" in text
    text = gcode(burn, px_mm=0.1, feed_mm_min=1000, s_max=1000, overscan_mm=2.0)
    # With overscan the crossing threshold is at least 2 * overscan (4 mm): 3 mm crossed, 10 mm rapid with lead-out/in.
    assert "X1 S1000\nX4 S0\nX5 S1000\nX7 S0\nG0 X13\nG1 X15\nX16 S1000\nX18 S0\n" in text
    np.testing.assert_array_equal(read(text, burn, 0.1).bitmap, burn)


def test_gcode_s_for_bool_burn():
    burn = random_burn(6, 9, 1)
    for s_max, power_pct, expected in [(1000, 100.0, 1000), (1000, 37.5, 375), (255, 50.0, 128), (1000, 0.04, 0)]:
        text = gcode(burn, px_mm=0.1, feed_mm_min=1000, s_max=s_max, power_pct=power_pct)
        back = read(text, burn, 0.1)
        if expected:
            assert back.s_values == (expected,)
            assert set(np.unique(back.s_map[burn])) == {expected}
        else:
            assert back.s_values == () and "S1" not in text


def test_gcode_s_for_uint8_power():
    rng = np.random.default_rng(11)
    power = rng.integers(0, 256, (9, 31), dtype=np.uint8)
    power[rng.random(power.shape) < 0.3] = 0
    power[0, :] = [0, 1, 1, 1, 255, 255, 128] + [0] * 24  # equal neighbours merge into one run
    for s_min, s_max, power_pct in [(0, 1000, 100.0), (100, 1000, 80.0), (0, 255, 50.0)]:
        expected = np.floor(s_min + (s_max - s_min) * power.astype(float) / 255 * power_pct / 100 + 0.5).astype(int)
        expected[power == 0] = 0
        text = gcode(power, px_mm=0.1, feed_mm_min=1000, s_max=s_max, s_min=s_min, power_pct=power_pct)
        back = read(text, power, 0.1)
        np.testing.assert_array_equal(back.s_map, expected)
        np.testing.assert_array_equal(back.bitmap, expected > 0)
        assert back.s_values == tuple(sorted(set(expected[expected > 0].tolist())))


def test_gcode_merges_equal_power_runs_and_switches_power_without_gaps():
    power = np.array([[0, 51, 51, 102, 0]], np.uint8)
    text = gcode(power, px_mm=1.0, feed_mm_min=1000, s_max=255)
    assert "G0 X1 Y0.5 S0\nG1 F1000 X3 S51\nX4 S102\n" in text


def test_gcode_laser_modes_and_program_structure():
    burn = random_burn(8, 8, 5)
    text = gcode(burn, px_mm=0.1, feed_mm_min=1000, s_max=1000, air_assist=True, header_comment="job 42\nby café")
    lines = text.splitlines()
    assert lines[:2] == ["; job 42", "; by caf?"]
    assert lines.index("G21") < lines.index("M4 S0")
    first_burn = next(i for i, line in enumerate(lines) if re.search(r"S[1-9]", line))
    assert lines.index("M4 S0") < first_burn
    assert lines.index("M8") < first_burn
    assert lines[-3:] == ["M5", "M9", "G0 X0 Y0"]
    assert not any("M4" in line for line in lines[first_burn:])
    no_park = gcode(burn, px_mm=0.1, feed_mm_min=1000, s_max=1000, return_home=False)
    assert no_park.splitlines()[-1] == "M5"


@pytest.mark.parametrize("overscan_mm", [0.0, 0.1])
def test_gcode_no_power_on_rapids(overscan_mm):
    burn = random_burn(20, 30, 9, density=0.05)
    text = gcode(burn, px_mm=0.2, feed_mm_min=1000, s_max=1000, overscan_mm=overscan_mm, gap_g0_mm=0.2)
    assert text.count("G0") > 20
    for line in text.splitlines():
        if line.startswith("G0"):
            assert not re.search(r"S[1-9]", line)
    assert read(text, burn, 0.2).rapids_with_power == 0


def test_gcode_feed_is_written_once_and_never_exceeds_the_request():
    burn = random_burn(10, 10, 2)
    for feed in (1000, 2500.5, 1234.5678):
        text = gcode(burn, px_mm=0.1, feed_mm_min=feed, s_max=1000, passes=3)
        assert len(re.findall(r"F[\d.]+", text)) == 1
        back = read(text, burn, 0.1)
        assert back.feed is not None and back.feed <= feed
        assert back.feed == pytest.approx(feed, abs=1e-3)


def test_gcode_numbers_are_compact():
    burn = np.ones((2, 3), bool)
    text = gcode(burn, px_mm=25.4 / 300, feed_mm_min=3000.0, s_max=1000, origin=(10.0, 0.0))
    numbers = re.findall(r"[XYF](-?[\d.]+)", text)
    assert numbers
    for number in numbers:
        assert not number.endswith(".") and not (("." in number) and number.endswith("0"))
        assert len(number.split(".")[1]) <= 3 if "." in number else True
    assert "X10.254" in text  # 10 + 3 * 0.08467 = 10.254 mm
    assert "F3000" in text and "-0" not in text


def test_gcode_is_deterministic():
    burn = random_burn(30, 40, 21)
    kwargs = dict(px_mm=0.1, feed_mm_min=2000, s_max=1000, overscan_mm=1.0, passes=2)
    assert gcode(burn, **kwargs) == gcode(burn.copy(), **kwargs)
    power = (random_burn(30, 40, 22) * np.uint8(200)).astype(np.uint8)
    assert gcode(power, **kwargs) == gcode(power.copy(), **kwargs)


def test_gcode_rejects_bad_input():
    burn = np.ones((2, 2), bool)
    ok = dict(px_mm=0.1, feed_mm_min=1000, s_max=1000)
    for bad in (
        dict(px_mm=0),
        dict(feed_mm_min=-1),
        dict(s_max=0),
        dict(s_min=2000),
        dict(power_pct=120),
        dict(overscan_mm=-1),
        dict(passes=0),
        dict(passes=1.5),
    ):
        with pytest.raises(ValueError):
            gcode(burn, **{**ok, **bad})
    with pytest.raises(TypeError):
        gcode(np.ones((2, 2), np.float32), **ok)
    with pytest.raises(ValueError):
        gcode(np.ones((2, 2, 2), bool), **ok)


def test_parser_rejects_what_gcode_never_writes():
    with pytest.raises(ValueError):
        parse_gcode_raster("G2 X1 Y1 I1", px_mm=0.1, width_px=10, height_px=10)
    with pytest.raises(ValueError):  # a diagonal burn
        parse_gcode_raster("M4 S0\nG0 X0 Y0.05\nG1 X0.5 Y0.25 S10 F100", px_mm=0.1, width_px=10, height_px=10)
    with pytest.raises(ValueError):  # off the artwork
        parse_gcode_raster("M4 S0\nG0 X0 Y0.05\nG1 X2 S10 F100", px_mm=0.1, width_px=10, height_px=10)
    assert not parse_gcode_raster("G0 X0 Y0.05\nG1 X0.5 S10 F100", px_mm=0.1, width_px=10, height_px=10).bitmap.any()


def test_gcode_is_fast_for_a_dithered_photo():
    burn = dithered(1250, 938)
    start = time.perf_counter()
    text = gcode(burn, px_mm=25.4 / 300, feed_mm_min=3000, s_max=1000, overscan_mm=2.0)
    elapsed = time.perf_counter() - start
    assert text.endswith("M5\nG0 X0 Y0\n")
    assert elapsed < 1.5  # ~0.09 s measured; generous for slow CI machines


# ---------------------------------------------------------------------------------------------------------------
# SVG


_SVG_PATH = re.compile(r'<path d="([^"]*)"[^>]*?(?:transform="translate\(([-\d.]+),([-\d.]+)\)")?\s*/>')
_SVG_TOKEN = re.compile(r"[MLHVZ]|-?\d+(?:\.\d+)?")


def rasterise(text: str, height: int, width: int) -> np.ndarray:
    """Pixel centres inside the SVG's polygons (even-odd within a path, union across paths): M/L/H/V/Z only."""
    out = np.zeros((height, width), bool)
    for d, tx, ty in _SVG_PATH.findall(text):
        shift = np.array([float(tx or 0), float(ty or 0)])
        polygons, current, command, numbers = [], [], None, []
        for token in _SVG_TOKEN.findall(d) + ["M"]:
            if token in "MLHVZ":
                command = token
                if token in "MZ" and current:
                    polygons.append(np.array(current) + shift)
                    current = []
                continue
            numbers.append(float(token))
            if command == "H":
                current.append((numbers.pop(), current[-1][1]))
            elif command == "V":
                current.append((current[-1][0], numbers.pop()))
            elif len(numbers) == 2:
                current.append((numbers[0], numbers[1]))
                numbers = []
                command = "L" if command == "M" else command
        toggles = np.zeros((height, width + 1), np.int32)
        for polygon in polygons:
            for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
                if y0 == y1:
                    continue
                lo, hi = min(y0, y1), max(y0, y1)
                rows = np.arange(max(0, math.ceil(lo - 0.5)), min(height, math.ceil(hi - 0.5)))
                xs = x0 + (rows + 0.5 - y0) * (x1 - x0) / (y1 - y0)
                cols = np.clip(np.floor(xs - 0.5).astype(int) + 1, 0, width)
                np.add.at(toggles, (rows, cols), 1)
        out |= (np.cumsum(toggles, axis=1)[:, :width] % 2).astype(bool)
    return out


def svg_root(text: str) -> dict[str, str]:
    root = re.search(r"<svg\b([^>]*)>", text).group(1)
    return dict(re.findall(r'(\w+)="([^"]*)"', root))


@pytest.mark.parametrize("mode", ["auto", "polygon", "spline", "pixel"])
def test_svg_size_in_mm_and_viewbox_in_pixels(mode):
    px_mm = 25.4 / 300
    burn = disk(94, 125, 30)
    text = svg(burn, px_mm=px_mm, mode=mode)
    root = svg_root(text)
    assert root["width"] == f"{round(125 * px_mm, 3):g}mm" and float(root["width"][:-2]) == round(125 * px_mm, 3)
    assert root["height"] == f"{round(94 * px_mm, 3):g}mm" and float(root["height"][:-2]) == round(94 * px_mm, 3)
    assert root["viewBox"] == "0 0 125 94"
    assert root["xmlns"] == "http://www.w3.org/2000/svg"
    assert text.count("<path") >= 1
    assert all('fill="#000000"' in path for path in re.findall(r"<path\b[^>]*>", text))


def test_svg_traced_disk_renders_back_close_to_the_bitmap():
    burn = disk(120, 160, 45)
    text = svg(burn, px_mm=0.1)
    assert text.count("<path") == 1 and "L" in text  # one traced polygon, not pixel rectangles
    back = rasterise(text, 120, 160)
    assert (back & burn).sum() / (back | burn).sum() > 0.98
    ys, xs = np.nonzero(back)
    by, bx = np.nonzero(burn)
    assert abs(ys.min() - by.min()) <= 1 and abs(ys.max() - by.max()) <= 1
    assert abs(xs.min() - bx.min()) <= 1 and abs(xs.max() - bx.max()) <= 1
    assert len(text) < 3000  # compact: a handful of vertices, not a pixel staircase


def test_svg_traced_ring_keeps_its_hole():
    burn = disk(120, 120, 50, hole=25)
    back = rasterise(svg(burn, px_mm=0.1), 120, 120)
    assert not back[60, 60]
    assert (back & burn).sum() / (back | burn).sum() > 0.97


def test_svg_pixel_mode_is_exact():
    for burn in (random_burn(17, 29, 5), disk(30, 40, 12, hole=4), dithered(60, 40)):
        np.testing.assert_array_equal(rasterise(svg(burn, px_mm=0.1, mode="pixel"), *burn.shape), burn)


def test_svg_auto_writes_dithers_pixel_exact():
    burn = dithered(200, 150)
    text = svg(burn, px_mm=0.1)
    np.testing.assert_array_equal(rasterise(text, 150, 200), burn)


def test_svg_empty_and_full():
    empty = svg(np.zeros((20, 30), bool), px_mm=0.1)
    assert "<path" not in empty and svg_root(empty)["viewBox"] == "0 0 30 20"
    assert "<path" not in svg(np.zeros((0, 0), bool), px_mm=0.1)
    full = svg(np.ones((20, 30), bool), px_mm=0.1)
    assert full.count("<path") == 1
    np.testing.assert_array_equal(rasterise(full, 20, 30), np.ones((20, 30), bool))


def test_svg_is_deterministic():
    burn = disk(80, 90, 30) | random_burn(80, 90, 1, density=0.02)
    for mode in ("auto", "polygon", "spline", "pixel"):
        assert svg(burn, px_mm=0.1, mode=mode) == svg(burn.copy(), px_mm=0.1, mode=mode)


def test_svg_survives_a_dither_too_fragmented_for_vtracer():
    # vtracer alone panics on this (16-bit cluster labels); the writer falls back to pixel-exact output.
    burn = dithered(1250, 938)
    start = time.perf_counter()
    text = svg(burn, px_mm=25.4 / 300, mode="polygon")
    elapsed = time.perf_counter() - start
    assert text.count("<path") == int(burn.any(axis=1).sum())
    assert elapsed < 5  # ~0.2 s measured


def test_svg_rejects_bad_input():
    with pytest.raises(TypeError):
        svg(np.zeros((2, 2), np.uint8), px_mm=0.1)
    with pytest.raises(ValueError):
        svg(np.zeros((2, 2), bool), px_mm=0.1, mode="bitmap")
    with pytest.raises(ValueError):
        svg(np.zeros((2, 2), bool), px_mm=-1)
