"""Bounded image memory (issue 16, failure 4): a tiny file must not cost gigabytes.

The memory tests run the decode in a fresh interpreter and read its peak resident size (``ru_maxrss``) before and
after: Pillow's pixels are allocated in C, where tracemalloc cannot see them.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from intaglio.imaging import (
    ImageMemoryBudget,
    ImageMemoryBusy,
    ImageMemoryRefused,
    IngestError,
    image_header,
    image_memory_bytes,
    ingest_image,
    ingest_memory_bytes,
)

MIB = 1024 * 1024
SIDE = 9999  # 99.98 megapixels: just under the 100 MP pixel cap, so only the memory pricing stands in the way


def png(mode: str, colour=0) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (SIDE, SIDE), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def one_bit_png(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("memory") / "one-bit.png"
    path.write_bytes(png("1"))
    return str(path)


@pytest.fixture(scope="module")
def rgb_png(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("memory") / "rgb.png"
    path.write_bytes(png("RGB", (20, 30, 40)))
    return str(path)


def peak_growth(script: str, path: str) -> dict:
    """Run `script` (which reads ``data`` and sets ``result``) in a fresh interpreter; its peak RSS growth in MiB."""
    program = (
        textwrap.dedent(
            """
        import json, resource, sys, warnings
        warnings.simplefilter("ignore")
        import intaglio.imaging as imaging
        data = open(sys.argv[1], "rb").read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = None
        """
        )
        + textwrap.dedent(script)
        + textwrap.dedent(
            """
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({"grown_mib": grown, "result": result}))
        """
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", program, path], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ pricing


def test_the_price_counts_the_mode_and_what_the_pipeline_makes():
    assert image_memory_bytes(100, 10, "1") == 1000  # Pillow keeps one bit in a whole byte
    assert image_memory_bytes(100, 10, "RGB") == 4000  # and RGB in four
    assert image_memory_bytes(100, 10, "I;16", into=["L", "float32x3", 2]) == 1000 * (2 + 1 + 12 + 2)


def test_the_tiny_one_bit_png_is_priced_at_its_decoded_size_not_its_file_size():
    data = Image.new("1", (SIDE, SIDE))
    buffer = io.BytesIO()
    data.save(buffer, "PNG")
    assert len(buffer.getvalue()) < 20_000
    header = image_header(buffer.getvalue())
    assert (header.width, header.height, header.mode) == (SIDE, SIDE, "1")
    # decoded 1 byte a pixel, RGB 4, then the encoder's buffer beside the RGB: the peak is a pair of stages
    price = ingest_memory_bytes(SIDE, SIDE, "1", transposes=False)
    assert price == SIDE * SIDE * 5
    assert ingest_memory_bytes(SIDE, SIDE, "1", transposes=True) == SIDE * SIDE * 8


# ------------------------------------------------------------------------------------------------ the budget


def test_over_the_whole_budget_is_refused_at_once_with_a_sentence():
    budget = ImageMemoryBudget(100 * MIB)
    with pytest.raises(ImageMemoryRefused) as refused, budget.reserve(2_300_000_000):
        pass
    assert "would need about 2.3 GB of memory to open; the limit is 105 MB" in refused.value.message
    assert budget.held == 0


def test_parallel_decodes_never_hold_more_than_the_budget():
    budget = ImageMemoryBudget(100, wait_seconds=10)
    inside, most = [0], [0]
    lock = threading.Lock()

    def decode():
        with budget.reserve(40):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=decode) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2  # 2 × 40 fit in 100, a third waits
    assert budget.peak == 80 and budget.held == 0


def test_a_decode_gives_up_when_the_budget_stays_spent():
    budget = ImageMemoryBudget(100, wait_seconds=0.1)
    outcome = []

    def second():
        started = time.monotonic()
        try:
            with budget.reserve(70):
                outcome.append("decoded")
        except ImageMemoryBusy:
            outcome.append(time.monotonic() - started)

    with budget.reserve(70):
        other = threading.Thread(target=second)
        other.start()
        other.join()
    assert len(outcome) == 1 and outcome[0] != "decoded" and outcome[0] >= 0.1
    assert budget.held == 0


def test_a_nested_reservation_is_covered_by_the_outer_one_and_can_grow():
    budget = ImageMemoryBudget(100, wait_seconds=0.1)
    with budget.reserve(60) as outer:
        with budget.reserve(60) as inner:  # same thread: no deadlock, no second charge
            assert inner is outer and budget.held == 60
        outer.grow(90)
        assert budget.held == 90
        with pytest.raises(ImageMemoryRefused):
            outer.grow(101)
    assert budget.held == 0


# ------------------------------------------------------------------------------------------------ in a process


def test_the_tiny_one_bit_png_is_refused_by_a_small_budget_before_it_is_decoded(one_bit_png):
    measured = peak_growth(
        """
        imaging.configure_image_memory(256 * 1024 * 1024)
        try:
            imaging.ingest_image(data)
        except imaging.IngestError as refusal:
            result = [refusal.code, refusal.message]
        """,
        one_bit_png,
    )
    code, message = measured["result"]
    assert code == "too_much_memory"
    assert message.startswith("This image would need about 500 MB of memory to open; the limit is 268 MB.")
    assert measured["grown_mib"] < 30


def test_the_tiny_one_bit_png_is_stored_within_its_price(one_bit_png):
    measured = peak_growth("result = imaging.ingest_image(data).width", one_bit_png)
    assert measured["result"] == SIDE
    assert measured["grown_mib"] * MIB <= 1.1 * ingest_memory_bytes(SIDE, SIDE, "1", transposes=False)


def test_a_tiny_100_megapixel_rgb_png_is_stored_without_a_second_copy(rgb_png):
    # Decoded RGB is 400 MB; the old code copied it before encoding (765 MiB).
    measured = peak_growth("result = imaging.ingest_image(data).format", rgb_png)
    assert measured["result"] == "png"
    assert measured["grown_mib"] < 480


def test_previews_of_a_100_megapixel_image_make_no_full_size_copy(rgb_png, tmp_path):
    clean = tmp_path / "clean.png"
    clean.write_bytes(ingest_image(Path(rgb_png).read_bytes()).data)
    # The worker's path: decode once (400 MB), then downscale. The old code copied the image for each rendition
    # (901 MiB).
    measured = peak_growth(
        """
        image = imaging.open_clean_image(data)
        result = [imaging.render_rendition(image, longest_edge=edge, quality=85).width for edge in (1600, 320)]
        """,
        str(clean),
    )
    assert measured["result"] == [1600, 320]
    assert measured["grown_mib"] < 620


def test_the_preview_job_refuses_what_the_worker_budget_cannot_hold(rgb_png):
    data = Path(rgb_png).read_bytes()
    from intaglio.imaging import configure_image_memory, image_memory_budget, render_renditions

    saved = image_memory_budget()
    configure_image_memory(64 * MIB)
    try:
        with pytest.raises(ImageMemoryRefused):
            render_renditions(data, [(1600, 85)])
        with pytest.raises(IngestError) as refused:
            ingest_image(data)
        assert refused.value.code == "too_much_memory"
    finally:
        configure_image_memory(saved.limit, wait_seconds=saved.wait_seconds)
