"""The engrave studio in a real browser, against `intaglio serve` and its own workers: upload a real photo, make
artwork for slate on a 10 W diode at 80 mm, watch the live preview change with the contrast, look at real dots at
1:1, prepare the files and download the PNG (its pixel size and DPI are checked), then try the style gallery.
Every step is screenshotted under bench/out/screenshots/ and must run without console errors or CSP violations."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from tests.e2e.support import DESKTOP, PageWatch, screenshot_on_a_phone, sign_up

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

    def shoot(where: str, name: str, mobile: bool = True) -> None:
        watch.check(where)
        page.evaluate("window.scrollTo(0, 0)")  # the preview is sticky: show the page from its top
        page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
        if mobile:
            screenshot_on_a_phone(page, screenshot_dir / f"{name}-mobile.png", where)
        watch.check(f"{where} (screenshots)")

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

        # The first preview comes on its own; then slate, the 10 W diode and 80 mm.
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

        # Real dots: the artwork at its natural size, one dot per pixel.
        page.get_by_label("Real dots (1:1)").check()
        shown = page.evaluate("() => document.querySelector('#preview-artwork').getBoundingClientRect().width")
        assert shown == 800, shown
        page.locator(".pane-dots").evaluate("pane => { pane.scrollLeft = 260; pane.scrollTop = 200; }")
        page.wait_for_function("() => document.querySelector('.pane-view').scrollLeft === 260")
        page.locator(".studio-preview").screenshot(path=str(screenshot_dir / "24-engrave-real-dots.png"))
        page.get_by_label("Real dots (1:1)").uncheck()

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
        page.wait_for_function(PREVIEW_SRC_JS)
        page.goto("/engrave/")
        shoot("artwork list", "27-engrave-list")
    finally:
        context.close()
