"""An artwork's files: its G-code burns exactly `burn` over exactly the requested millimetres; the CLI writes them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from intaglio.imaging import prepare_artwork
from intaglio.imaging.artwork.outputs import parse_gcode_raster


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    return path


@pytest.mark.parametrize(
    ("material", "mode"), [("maple", "floyd-steinberg"), ("slate", "halftone"), ("maple", "grayscale")]
)
def test_gcode_burns_exactly_the_artwork_over_the_requested_size(photo, material, mode):
    art = prepare_artwork(photo, material=material, machine="diode-10w", width_mm=12, mode=mode)
    h, w = art.burn.shape
    raster = parse_gcode_raster(art.gcode(), px_mm=art.px_mm, width_px=w, height_px=h)
    assert np.array_equal(raster.bitmap, art.burn)
    assert raster.rapids_with_power == 0
    columns = np.flatnonzero(art.burn.any(axis=0))
    assert raster.x_range[0] == pytest.approx(columns[0] * art.px_mm, abs=1e-3)
    assert raster.x_range[1] == pytest.approx((columns[-1] + 1) * art.px_mm, abs=1e-3)
    assert w * art.px_mm == pytest.approx(12, abs=art.px_mm / 2)
    assert raster.feed <= art.machine.max_feed_mm_min
    if art.power is not None:
        assert len(raster.s_values) > 10  # power varies with tone


def run_cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "intaglio.cli", "engrave", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_cli_writes_png_gcode_svg_and_preview(photo, tmp_path):
    out = tmp_path / "out"
    run = run_cli(
        photo,
        "--material",
        "birch-plywood",
        "--machine",
        "diode-10w",
        "--width-mm",
        "30",
        "--mode",
        "jarvis",
        "--contrast",
        "1.2",
        "--out",
        out,
        "--gcode",
        "--svg",
        "--preview",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "astronaut-birch-plywood-30x30mm-jarvis-preview.png",
        "astronaut-birch-plywood-30x30mm-jarvis.gcode",
        "astronaut-birch-plywood-30x30mm-jarvis.png",
        "astronaut-birch-plywood-30x30mm-jarvis.svg",
    ]
    png = Image.open(out / names[2])
    assert png.mode == "1" and png.size == (300, 300) and png.info["dpi"][0] == pytest.approx(254, abs=0.02)
    assert "✓ astronaut.jpg" in run.stdout


def test_cli_errors_are_clear_and_a_bad_file_does_not_stop_the_batch(photo, tmp_path):
    unknown = run_cli(photo, "--material", "marble", "--machine", "diode-10w", "--width-mm", "30", cwd=tmp_path)
    assert unknown.returncode == 2 and "Unknown material 'marble'" in unknown.stderr
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo")
    batch = run_cli(broken, photo, "--material", "maple", "--machine", "diode-10w", "--width-mm", "20", cwd=tmp_path)
    assert batch.returncode == 1
    assert "✗ broken.jpg: cannot read this file as an image" in batch.stdout
    assert "✓ astronaut.jpg" in batch.stdout
    too_big = run_cli(photo, "--material", "maple", "--machine", "fibre-20w", "--width-mm", "500", cwd=tmp_path)
    assert too_big.returncode == 1 and "work area" in too_big.stdout
    listing = run_cli("--list-materials", cwd=tmp_path)
    assert listing.returncode == 0 and "slate" in listing.stdout and "light-marking" in listing.stdout


def test_png_of_grayscale_mode_is_8_bit_with_dpi(photo):
    art = prepare_artwork(photo, material="maple", machine="diode-10w", width_mm=10, mode="grayscale")
    png = Image.open(io.BytesIO(art.png()))
    assert png.mode == "L" and png.info["dpi"][0] == pytest.approx(art.dpi, abs=0.02)
