"""The engrave studio in a real browser, against `intaglio serve` and its own workers: upload a real photo, make
artwork for slate on a 10 W diode at 80 mm, watch the live preview change with the contrast, look at real dots at
1:1, prepare the files and download the PNG (its pixel size and DPI are checked), then try the style gallery.
Every step is screenshotted under bench/out/screenshots/ and must run without console errors or CSP violations."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.support import DESKTOP, MOBILE, PageWatch, page_shooter, sign_up

pytestmark = pytest.mark.browser

PASSWORD = "slate-and-diode-at-80mm"
PREVIEW_SRC_JS = "() => document.querySelector('#preview-artwork')?.getAttribute('src') || ''"


def _real_photo() -> bytes:
    """scikit-image's astronaut portrait, a real photograph, as a 1536 px camera-style JPEG."""
    from skimage import data

    image = Image.fromarray(data.astronaut()).resize((1536, 1536), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_photo_to_slate_artwork_with_live_preview_and_download(
    chromium_browser, live_server_process, screenshot_dir, tmp_path
):
    server = live_server_process
    email = f"engraver-{uuid.uuid4().hex[:12]}@example.com"
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    try:
        sign_up(page, server, email, PASSWORD)

        # Upload through the dashboard's picker and wait for the photo's thumbnail.
        photo = tmp_path / "astronaut.jpg"
        photo.write_bytes(_real_photo())
        page.locator("#upload-input").set_input_files(str(photo))
        page.wait_for_function("() => document.querySelectorAll('#job-list .job-row img').length === 1", timeout=60_000)

        page.locator("header").get_by_role("link", name="Engrave").click()
        page.wait_for_url("**/engrave/")
        shoot("empty engrave studio", "20-engrave-empty")
        page.get_by_role("link", name="New artwork").first.click()
        page.wait_for_url("**/engrave/new/")
        page.wait_for_function("() => [...document.querySelectorAll('.photo-choice img')].every(i => i.naturalWidth)")
        shoot("choose a photo", "21-engrave-new")
        page.locator(".photo-choice").first.click()
        page.wait_for_url("**/engrave/*/")

        # The first preview comes on its own (the burn); the dots come with every answer once their tab is open.
        page.wait_for_function("() => document.querySelector('#preview')?.dataset.key")
        page.get_by_role("button", name="Laser dots").click()
        page.wait_for_function(PREVIEW_SRC_JS)
        page.locator("#material").select_option("slate")
        page.locator("#machine").select_option("diode-10w")
        page.locator("#width_mm").fill("80")
        page.wait_for_function("() => document.querySelector('#preview-artwork')?.naturalWidth === 800", timeout=30_000)
        facts = page.locator(".preview-facts").inner_text()
        assert "80.0 × 80.0 mm" in facts and "800 × 800" in facts and "254 DPI" in facts, facts
        before = page.evaluate(PREVIEW_SRC_JS)
        page.wait_for_function("() => !document.querySelector('#studio-form').classList.contains('htmx-request')")
        shoot("studio with the slate preview", "22-engrave-studio-preview")

        page.locator("#contrast").fill("1.8")
        page.wait_for_function(f"() => ({PREVIEW_SRC_JS})() !== {before!r} && ({PREVIEW_SRC_JS})() !== ''")
        assert page.locator("label[for=contrast] output").inner_text() == "1.8"
        after_src = page.evaluate(PREVIEW_SRC_JS)
        assert after_src != before
        page.wait_for_function("() => !document.querySelector('#studio-form').classList.contains('htmx-request')")
        shoot("studio after more contrast", "23-engrave-studio-contrast", mobile=False)

        # Real dots: one dot per screen pixel on the canvas.
        page.locator(".preview-zoom").get_by_role("button", name="1:1").click()
        page.locator(".studio-preview").screenshot(path=str(screenshot_dir / "24-engrave-real-dots.png"))
        page.locator(".preview-zoom").get_by_role("button", name="Fit").click()

        # The price is on the button's caption before anything is spent.
        assert "1 credit · you have 20" in page.locator(".prepare-cost").inner_text()
        page.get_by_role("button", name="Prepare files").click()
        page.wait_for_url("**/engrave/*/#versions")
        assert "Version 1 is being prepared" in page.locator(".messages").inner_text()
        page.wait_for_function(
            "() => document.querySelector('.version-row')?.dataset.state === 'succeeded'", timeout=60_000
        )
        page.wait_for_function("() => [...document.querySelectorAll('.version-thumb img')].every(i => i.naturalWidth)")
        shoot("studio with version 1 ready", "25-engrave-version-ready")

        with page.expect_download() as download_info:
            page.locator('.version-row [data-role="png"]').click()
        download = download_info.value
        assert download.suggested_filename.endswith("-slate-80x80mm-floyd-steinberg.png"), download.suggested_filename
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        png = Image.open(saved)
        assert png.mode == "1" and png.size == (800, 800)
        assert png.info["dpi"][0] == pytest.approx(254, abs=0.02)
        # What was downloaded is what the 1:1 preview showed for these settings.
        import base64

        previewed = Image.open(io.BytesIO(base64.b64decode(after_src.split(",", 1)[1])))
        assert previewed.tobytes() == png.tobytes()

        page.get_by_role("link", name="Try styles").click()
        page.wait_for_url("**/styles/")
        page.get_by_role("button", name="Draw the four styles").click()
        page.wait_for_function(
            "() => document.querySelectorAll('.style-card img').length === 4"
            " && [...document.querySelectorAll('.style-card img')].every(i => i.naturalWidth)",
            timeout=90_000,
        )
        shoot("style gallery", "26-engrave-styles")

        page.get_by_role("button", name="Use hatch engraving").click()
        page.wait_for_url("**/engrave/*/")
        assert page.locator("#mode").input_value() == "hatch"
        page.wait_for_function("() => document.querySelector('#preview')?.dataset.key")
        page.goto("/engrave/")
        shoot("artwork list", "27-engrave-list")
    finally:
        context.close()


def _slider_state(page, name: str) -> tuple[str, bool]:
    """A slider's value, and whether it is shown as the material's default."""
    return (
        page.locator(f"#{name}").input_value(),
        page.locator(f".slider:has(#{name})").evaluate("field => field.classList.contains('is-default')"),
    )


def test_material_defaults_names_and_presets(chromium_browser, live_server_process, screenshot_dir, tmp_path):
    """Switching from birch to slate shows slate's defaults; a moved slider survives the switch; reset restores the
    material's values; the upload's name is the photo's and the artwork's; a preset saved in the studio applies in
    one click."""
    server = live_server_process
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    def settled() -> None:
        # The preview waits 350 ms after the last change before it asks; then its request must have come back.
        # (htmx marks the busy indicator, hx-indicator, while a request is out.)
        page.wait_for_timeout(450)
        page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=60_000)
        page.wait_for_function("() => document.querySelector('#preview')?.dataset.key")

    try:
        sign_up(page, server, f"defaults-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
        photo = tmp_path / "my-dog.jpg"
        Image.open(io.BytesIO(_real_photo())).resize((600, 480)).save(photo, "JPEG", quality=90)
        page.locator("#upload-input").set_input_files(str(photo))
        page.wait_for_function("() => document.querySelectorAll('#photo-list img').length === 1", timeout=60_000)
        assert page.locator("#photo-list .photo-card-title").inner_text() == "my-dog"
        shoot("dashboard with a named photo", "30-dashboard-photos")

        page.locator("#photo-list").get_by_role("button", name="Make artwork").click()
        page.wait_for_url("**/engrave/*/")
        assert page.locator("h1").inner_text() == "my-dog"
        settled()
        # A new artwork is on birch plywood: its defaults, nothing moved.
        assert _slider_state(page, "contrast") == ("1.1", True)
        assert _slider_state(page, "sharpen_amount") == ("0.5", True)
        assert page.locator("#reset-adjustments").is_disabled()

        page.locator("#gamma").fill("1.4")
        page.locator("#material").select_option("slate")
        for name, value in (("contrast", "1.2"), ("clahe", "0.3"), ("denoise", "0.2"), ("sharpen_amount", "0.6")):
            assert _slider_state(page, name) == (value, True), name
        assert _slider_state(page, "gamma") == ("1.4", False)
        assert page.locator("input[name=adjusted]").input_value() == "gamma"
        assert page.locator("label[for=contrast] output").inner_text() == "1.2"
        settled()
        shoot("studio on slate with gamma moved", "31-studio-material-defaults")

        # Reloaded, the page shows the same: gamma kept, the rest slate's.
        page.reload()
        settled()
        assert _slider_state(page, "gamma") == ("1.4", False) and _slider_state(page, "clahe") == ("0.3", True)

        page.get_by_role("button", name="Reset to material defaults").click()
        assert _slider_state(page, "gamma") == ("1", True) and _slider_state(page, "contrast") == ("1.2", True)
        assert page.locator("input[name=adjusted]").input_value() == ""
        settled()

        # Save as preset, then one click brings it back from another material.
        page.locator("#contrast").fill("2")
        page.locator("#mode").select_option("atkinson")
        settled()
        page.get_by_label("Save these settings as a preset").fill("Slate bold")
        page.get_by_role("button", name="Save as preset").click()
        page.wait_for_url("**/engrave/*/")
        assert "Saved the preset “Slate bold”" in page.locator(".messages").inner_text()
        settled()
        page.locator("#material").select_option("birch-plywood")
        settled()
        page.get_by_role("button", name="Reset to material defaults").click()
        settled()
        page.locator("#mode").select_option("jarvis")
        assert _slider_state(page, "contrast") == ("1.1", True)
        settled()
        page.get_by_role("button", name="Slate bold").click()
        assert page.locator("#material").input_value() == "slate" and page.locator("#mode").input_value() == "atkinson"
        assert _slider_state(page, "contrast") == ("2", False) and _slider_state(page, "clahe") == ("0.3", True)
        settled()
        shoot("studio with a preset applied", "32-studio-preset")

        # Renamed, and the files are named after the new name.
        page.locator(".title-row summary").click()
        page.locator("#artwork-title").fill("Rex on slate")
        page.locator(".title-row").get_by_role("button", name="Save").click()
        page.wait_for_url("**/engrave/*/")
        assert page.locator("h1").inner_text() == "Rex on slate"
        settled()
        page.get_by_role("button", name="Prepare files").click()
        page.wait_for_url("**/engrave/*/#versions")
        page.wait_for_function(
            "() => document.querySelector('.version-row')?.dataset.state === 'succeeded'", timeout=60_000
        )
        name = page.locator('.version-row [data-role="png"]').get_attribute("download")
        assert name.startswith("rex-on-slate-slate-100x80mm-atkinson"), name
    finally:
        context.close()


SHOTS = Path("/tmp/shots-h")
KEY_JS = "() => document.querySelector('#preview')?.dataset.key || ''"


def test_preview_is_one_light_canvas_with_warnings(chromium_browser, live_server_process, tmp_path):
    """A slider move sends settings only (no photo) and gets back less than 300 KB; the photo comes once from its
    own URL; an upscaled photo and an empty artwork are warned about on the preview. Every preview state is
    screenshotted at 1280 and 390 px."""
    SHOTS.mkdir(exist_ok=True)
    server = live_server_process
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(server)
    watch.attach(page)
    previews: list[tuple[int, int]] = []  # (request bytes, response bytes) of each live preview
    photos: list[str] = []

    def answered(response) -> None:
        if response.request.method == "POST" and response.url.endswith("/preview/"):
            previews.append((len(response.request.post_data_buffer or b""), len(response.body())))
        elif "/photo/" in response.url:
            photos.append(response.url)

    page.on("response", answered)

    def settle(before: str = "") -> str:
        page.wait_for_timeout(450)
        page.wait_for_function(f"() => ({KEY_JS})() && ({KEY_JS})() !== {before!r}", timeout=60_000)
        page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=60_000)
        page.wait_for_timeout(300)  # the canvas draws once the pictures are decoded
        return page.evaluate(KEY_JS)

    def shoot(name: str) -> None:
        watch.check(name)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}-1280.png"))
        page.set_viewport_size(MOBILE)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-390.png"))
        page.set_viewport_size(DESKTOP)
        page.wait_for_timeout(200)

    try:
        sign_up(page, server, f"canvas-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
        photo = tmp_path / "my-dog.jpg"
        Image.open(io.BytesIO(_real_photo())).resize((600, 600)).save(photo, "JPEG", quality=90)
        page.locator("#upload-input").set_input_files(str(photo))
        page.wait_for_function("() => document.querySelectorAll('#photo-list img').length === 1", timeout=60_000)
        page.locator("#photo-list").get_by_role("button", name="Make artwork").click()
        page.wait_for_url("**/engrave/*/")
        key = settle()

        # One canvas, most of the width beside the settings.
        width = page.evaluate("() => document.querySelector('#preview-canvas').getBoundingClientRect().width")
        assert width >= 800, width
        # 600 photo pixels over 100 mm of birch's lines: enlarged, and the largest size at full detail is named.
        upscaled = page.locator('[data-warning="upscaled"]')
        assert upscaled.is_visible() and "full detail up to" in upscaled.inner_text()
        shoot("01-burn-fit-upscaled")

        # A slider move: settings only, and a small answer.
        previews.clear()
        page.locator("#contrast").fill("1.6")
        key = settle(key)
        request_bytes, response_bytes = previews[-1]
        assert request_bytes < 4_000, request_bytes  # a form of settings; a photo would be tens of KB
        assert response_bytes < 300_000, response_bytes

        page.get_by_role("button", name="Laser dots").click()
        page.wait_for_function("() => document.querySelector('#preview-artwork')")
        page.wait_for_timeout(400)
        shoot("02-dots-fit")
        page.locator(".preview-zoom").get_by_role("button", name="1:1").click()
        page.wait_for_timeout(300)
        shoot("03-dots-1to1")
        page.locator(".preview-zoom").get_by_role("button", name="2:1").click()
        page.wait_for_timeout(300)
        shoot("04-dots-2to1")
        page.get_by_role("button", name="Simulated burn").click()
        page.wait_for_timeout(1200)  # the dot-for-dot burn loads from its own URL
        shoot("05-burn-2to1")
        page.locator(".preview-zoom").get_by_role("button", name="Fit").click()
        page.get_by_role("button", name="Photo").click()
        page.wait_for_function("() => document.querySelector('#preview-hint').hidden")
        shoot("06-photo")
        page.get_by_role("button", name="Before / after").click()
        page.wait_for_timeout(500)
        shoot("07-split")
        # The photo came once, from its own URL, for both tabs (the crop picker's whole photo is a picture of its own,
        # also fetched once).
        picker = page.locator("#crop-picker img").get_attribute("src")
        framed = [url for url in photos if not url.endswith(picker)]
        assert len(framed) == 1 and len(photos) == 2, photos

        # Brightness all the way up on birch: nothing left to burn, said on the preview.
        page.locator("#brightness").fill("1")
        key = settle(key)
        blank = page.locator('[data-warning="nothing_burns"]')
        assert blank.is_visible() and "Nothing will burn" in blank.inner_text()
        page.get_by_role("button", name="Simulated burn").click()
        page.wait_for_timeout(300)
        shoot("08-warning-nothing-burns")
    finally:
        context.close()
