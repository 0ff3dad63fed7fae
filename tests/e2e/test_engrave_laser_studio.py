"""The whole laser job in the studio, as a LightBurn user works: upload `my-dog.jpg`, crop, turn, mirror and oval
mask it, put it on birch plywood on a 10 W diode, read power, speed and passes with where each came from, change
the speed and watch the burn-time estimate change, prepare, and download the PNG, SVG, LightBurn project and G-code,
all named after the photo. Glass on the same diode says why it cannot work and Prepare is refused. The studio is
screenshotted at 1280 and 390 px into /tmp/shots-j/. (The G-code's placement, mirror, feed and S values are checked
in tests/api/test_engrave_laser_api.py.)"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.support import DESKTOP, MOBILE, PageWatch, sign_up
from tests.e2e.test_engrave_studio import _real_photo

pytestmark = pytest.mark.browser

PASSWORD = "birch-and-diode-at-100mm"
SHOTS = Path("/tmp/shots-j")


def test_laser_job_from_upload_to_lightburn_files(chromium_browser, live_server_process, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    server = live_server_process
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(server)
    watch.attach(page)

    key_js = "() => document.querySelector('#preview')?.dataset.key || ''"
    last_key = [""]

    def settled() -> None:
        # Every change here changes the settings, so its answer has a new key; then nothing may be on its way.
        page.wait_for_function(f"() => ({key_js})() && ({key_js})() !== {last_key[0]!r}", timeout=60_000)
        page.wait_for_timeout(200)
        page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=60_000)
        last_key[0] = page.evaluate(key_js)

    def shoot(name: str) -> None:
        watch.check(name)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
        page.set_viewport_size(MOBILE)
        page.wait_for_timeout(400)
        page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"], f"{name} scrolls sideways"
        page.set_viewport_size(DESKTOP)
        page.wait_for_timeout(300)
        watch.check(f"{name} (screenshots)")

    def laser(name: str) -> dict:
        field = page.locator(f'[data-laser="{name}"]')
        return {
            "source": field.get_attribute("data-source"),
            "value": field.get_attribute("data-value"),
            "note": field.locator(".laser-source").inner_text(),
            "placeholder": field.locator("input").get_attribute("placeholder"),
        }

    def burn_seconds() -> float:
        return float(page.locator("#burn-time").get_attribute("data-seconds"))

    try:
        sign_up(page, server, f"lightburn-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
        photo = tmp_path / "my-dog.jpg"
        Image.open(io.BytesIO(_real_photo())).resize((720, 540)).save(photo, "JPEG", quality=90)
        page.locator("#upload-input").set_input_files(str(photo))
        page.wait_for_function("() => document.querySelectorAll('#photo-list img').length === 1", timeout=60_000)
        page.locator("#photo-list").get_by_role("button", name="Make artwork").click()
        page.wait_for_url("**/engrave/*/")
        assert page.locator("h1").inner_text() == "my-dog"
        settled()

        # Crop: drag a frame on the whole photo, from a fifth in to the far corner.
        picker = page.locator("#crop-picker")
        page.wait_for_function("() => document.querySelector('#crop-picker img').naturalWidth > 0")
        picker.scroll_into_view_if_needed()
        box = picker.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.1)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=4)
        page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.95, steps=4)
        page.mouse.up()
        crop = [float(v) for v in page.locator("#layout_crop").input_value().split(",")]
        assert crop == pytest.approx([0.2, 0.1, 0.7, 0.85], abs=0.02)
        settled()
        # Each change waits for its preview: a change while one is on its way replaces (aborts) it.
        page.get_by_role("button", name="90° right").click()
        assert page.locator("#layout_rotate_deg").input_value() == "90"
        assert page.locator("#rotate-readout").inner_text() == "90°"
        settled()
        page.get_by_label("Mirror (for the back of glass or acrylic)").check()
        settled()
        page.locator("#layout_mask").select_option("oval")
        settled()
        # Birch plywood on the 10 W diode, as a new artwork starts: chosen again, the settings (and key) stay.
        page.locator("#material").select_option("birch-plywood")
        page.locator("#machine").select_option("diode-10w")
        page.wait_for_timeout(400)
        page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=60_000)
        assert page.evaluate(key_js) == last_key[0]
        # Turned a quarter: the cropped frame (0.7 × 0.85 of a 4:3 photo) stands taller than wide.
        width_mm, height_mm = (
            float(page.locator("#preview").get_attribute(f"data-{k}-mm")) for k in ("width", "height")
        )
        assert height_mm > width_mm
        assert "photo" in page.locator("#preview").get_attribute("data-photo-url")
        assert "rotate=90" in page.locator("#preview").get_attribute("data-photo-url")
        assert "mirror=1" in page.locator("#preview").get_attribute("data-photo-url")

        # Power, speed and passes, each with its value and where it came from.
        for name in ("power_pct", "speed_mm_min", "passes"):
            shown = laser(name)
            assert shown["source"] == "suggestion", (name, shown)
            assert shown["note"] == "Material suggestion", shown
            assert shown["placeholder"] and float(shown["placeholder"]) == pytest.approx(
                float(shown["value"]), rel=0.01
            )
        origin = page.locator("#laser-origin").inner_text()
        assert origin.startswith("Empty boxes follow material suggestion scaled to Diode laser 10 W"), origin
        # The bed shows the piece at the origin corner, inside the work area.
        assert page.locator("#bed .bed-piece").count() == 1
        assert not page.locator("#bed").evaluate("svg => svg.classList.contains('is-outside')")
        before = burn_seconds()
        assert page.locator(".preview-facts").inner_text().startswith("Burns in\nabout ")
        shoot("01-studio-laser-layout")

        # Faster: the estimate drops, and the speed is now the user's.
        followed = float(laser("speed_mm_min")["value"])
        page.locator("#laser_speed_mm_min").fill(str(round(followed * 1.5)))
        settled()
        assert laser("speed_mm_min")["source"] == "you" and laser("speed_mm_min")["note"] == "Your value"
        after = burn_seconds()
        assert after < before, (before, after)
        assert page.locator("#burn-time").inner_text().startswith("about ")

        # Placement: the centre of the bed, then the anchor grid and offsets move the piece on the outline.
        page.get_by_title("Centre").click()
        settled()
        page.locator("#layout_offset_x_mm").fill("10")
        settled()
        assert "X " in page.locator("#bed-readout").inner_text()
        shoot("02-studio-faster-centred")

        page.get_by_role("button", name="Prepare files").click()
        page.wait_for_url("**/engrave/*/#versions")
        page.wait_for_function(
            "() => document.querySelector('.version-row')?.dataset.state === 'succeeded'", timeout=90_000
        )
        summary = page.locator(".version-row").first.inner_text()
        assert f"at {round(followed * 1.5)} mm/min" in summary and "burns in about" in summary, summary
        for role, suffix in (("png", ".png"), ("svg", ".svg"), ("lbrn2", ".lbrn2"), ("gcode", ".gcode")):
            with page.expect_download() as download_info:
                page.locator(f'.version-row [data-role="{role}"]').first.click()
            download = download_info.value
            name = download.suggested_filename
            assert name.startswith("my-dog-") and name.endswith(suffix), name
            saved = tmp_path / name
            download.save_as(saved)
            assert saved.stat().st_size > 0
        gcode = next(tmp_path.glob("my-dog-*.gcode")).read_text()
        assert f"F{round(followed * 1.5)}" in gcode

        # Glass on a diode: the Laser group says why, and Prepare is refused with the same words.
        page.locator("#material").select_option("glass")
        settled()
        refusal = page.locator("#laser-refusal")
        assert refusal.is_visible() and "no suggested settings for a diode laser" in refusal.inner_text()
        assert page.locator("#prepare-button").is_disabled()
        assert page.locator("#prepare-refused").inner_text() == refusal.inner_text()
        assert page.locator("#burn-time").count() == 0
        shoot("03-studio-glass-refused")

        page.locator("#material").select_option("birch-plywood")
        settled()
        assert page.locator("#prepare-button").is_enabled() and refusal.is_hidden()
    finally:
        context.close()
