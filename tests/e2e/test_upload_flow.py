"""The studio in a real browser: drop two photos on the dashboard, watch them upload and get their previews,
open one, delete it after confirming, and see the other one stay. The server's own workers run the jobs.
Every page is screenshotted (1280 and 390 px wide) and must load without console errors or CSP violations."""

from __future__ import annotations

import base64
import io
import uuid

import pytest

from tests.e2e.support import DESKTOP, PageWatch, page_shooter, sign_up

pytestmark = pytest.mark.browser

PASSWORD = "burnished-copper-plate-7"
# Upload bandwidth for the browser, so each file takes a moment and its progress bar can be seen moving.
UPLOAD_BYTES_PER_SECOND = 160 * 1024

DROP_JS = """async ({files, stage}) => {
  const zone = document.querySelector("#upload-zone");
  const transfer = new DataTransfer();
  for (const file of files) {
    const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], file.name, {type: "image/jpeg", lastModified: Date.now()}));
  }
  const types = stage === "hover" ? ["dragenter", "dragover"] : ["drop"];
  for (const type of types) {
    zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
  }
}"""

IMAGES_LOADED_JS = """(selector) => {
  const images = [...document.querySelectorAll(selector)];
  return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def _photo(scene: str, size=(1600, 1067)) -> bytes:
    """A camera-sized JPEG with a recognisable scene and a little sensor noise, so it is not tiny."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    width, height = size
    rng = np.random.default_rng(42 if scene == "sunset" else 7)
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    if scene == "sunset":
        top, bottom = np.array([70, 40, 110]), np.array([250, 150, 70])
        sky = top + (bottom - top) * y + 0 * x
    else:
        top, bottom = np.array([120, 190, 235]), np.array([20, 90, 140])
        sky = top + (bottom - top) * (0.6 * y + 0.4 * x)
    pixels = np.clip(sky + rng.normal(0, 6, (height, width, 3)), 0, 255).astype("uint8")
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    if scene == "sunset":
        draw.ellipse((980, 380, 1300, 700), fill=(255, 214, 120))
        draw.polygon(
            [(0, 1067), (0, 760), (300, 520), (560, 760), (820, 600), (1160, 860), (1600, 640), (1600, 1067)],
            fill=(48, 28, 58),
        )
    else:
        draw.rectangle((0, 760, 1600, 1067), fill=(16, 70, 112))
        for row in range(780, 1067, 28):
            draw.line((0, row, 1600, row + 12), fill=(90, 160, 200), width=3)
        draw.polygon([(700, 740), (820, 300), (820, 740)], fill=(250, 248, 240))
        draw.polygon([(840, 740), (840, 380), (960, 740)], fill=(235, 110, 70))
        draw.polygon([(620, 760), (1020, 760), (960, 830), (680, 830)], fill=(60, 40, 30))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_drop_two_photos_watch_them_finish_and_delete_one(chromium_browser, live_server_process, screenshot_dir):
    server = live_server_process
    email = f"studio-{uuid.uuid4().hex[:12]}@example.com"
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    try:
        sign_up(page, server, email, PASSWORD)
        page.wait_for_load_state("load")
        assert page.locator("header").get_by_role("link", name="Studio").get_attribute("aria-current") == "page"
        assert "20 credits" in page.locator(".balance-chip").inner_text()
        assert page.get_by_text("No jobs yet.").is_visible()
        watch.check("empty dashboard")

        # The picker is reachable from the keyboard: Tab lands on the file input, whose zone shows the focus.
        page.locator(".balance-chip").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "upload-input"
        assert page.evaluate("getComputedStyle(document.querySelector('#upload-zone')).outlineStyle") == "solid"
        page.locator("#upload-input").blur()

        sunset, harbour = _photo("sunset"), _photo("harbour")
        files = [
            {"name": "sunset-over-the-hills.jpg", "data": base64.b64encode(sunset).decode()},
            {"name": "harbour.jpg", "data": base64.b64encode(harbour).decode()},
        ]
        page.evaluate(DROP_JS, {"files": files, "stage": "hover"})
        assert "is-dragover" in page.locator("#upload-zone").get_attribute("class")
        page.locator("#upload-zone").screenshot(path=str(screenshot_dir / "10-upload-dragover.png"))

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": UPLOAD_BYTES_PER_SECOND},
        )
        page.evaluate(DROP_JS, {"files": files, "stage": "drop"})
        items = page.locator("#upload-list .upload-item")
        assert items.count() == 2
        assert "is-dragover" not in page.locator("#upload-zone").get_attribute("class")
        assert items.nth(0).locator(".upload-name").inner_text() == "sunset-over-the-hills.jpg"
        # Both bars move while the bytes go up.
        page.wait_for_function(
            "() => [...document.querySelectorAll('#upload-list progress')].some(p => p.value > 0 && p.value < 100)"
        )
        shoot("uploading", "11-dashboard-uploading", mobile=False)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#upload-list .upload-item')]"
            ".every(li => li.classList.contains('is-done') && li.querySelector('progress').value === 100)",
            timeout=60_000,
        )
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        assert items.nth(0).get_by_role("link", name="Open its job").is_visible()

        # The list polls until both previews exist, then shows their thumbnails.
        rows = page.locator("#job-list .job-row")
        page.wait_for_function("() => document.querySelectorAll('#job-list .job-row').length === 2")
        page.wait_for_function("() => document.querySelectorAll('#job-list .job-row img').length === 2", timeout=60_000)
        page.wait_for_function(IMAGES_LOADED_JS, arg="#job-list .job-row img")
        assert page.locator('#job-list .job-row[data-state="succeeded"]').count() == 2
        page.wait_for_function("() => document.querySelector('#job-list').dataset.active === 'false'")
        widths = page.evaluate("[...document.querySelectorAll('#job-list .job-row img')].map(i => i.naturalWidth)")
        assert widths == [320, 320], widths
        shoot("dashboard with two finished jobs", "12-dashboard-jobs")

        newest_id = rows.nth(0).get_attribute("data-job-id")
        kept_id = rows.nth(1).get_attribute("data-job-id")
        rows.nth(0).locator(".job-title").click()
        page.wait_for_url(f"**/jobs/{newest_id}/")
        page.wait_for_load_state("load")
        page.wait_for_function(IMAGES_LOADED_JS, arg=".job-hero img")
        assert page.get_by_role("heading", level=1).inner_text() == f"Preview #{newest_id}"
        assert page.locator(".job-status-card .state").inner_text() == "Ready"
        downloads = page.locator(".file-row")
        assert downloads.count() == 3
        assert "1600 × 1067 px" in downloads.nth(0).inner_text()
        assert "1600 × 1067 px" in downloads.nth(1).inner_text()
        assert "320 × 213 px" in downloads.nth(2).inner_text()
        assert page.get_by_role("button", name="Cancel job").count() == 0
        shoot("job page", "13-job-detail")

        page.get_by_role("link", name="Delete job…").click()
        dialog = page.locator("#delete-dialog")
        assert dialog.is_visible()
        assert page.evaluate("document.activeElement.textContent.trim()") == "Keep it"
        shoot("delete dialog", "14-job-delete-dialog", mobile=False)
        dialog.get_by_role("button", name="Keep it").click()
        assert not dialog.is_visible()
        assert page.url.endswith(f"/jobs/{newest_id}/")

        page.get_by_role("link", name="Delete job…").click()
        dialog.get_by_role("button", name="Delete for good").click()
        page.wait_for_url("**/dashboard/")
        page.wait_for_load_state("load")
        assert f"Preview #{newest_id} deleted" in page.locator(".messages").inner_text()
        assert rows.count() == 1
        assert rows.nth(0).get_attribute("data-job-id") == kept_id
        page.wait_for_function(IMAGES_LOADED_JS, arg="#job-list .job-row img")
        shoot("dashboard after deleting", "15-dashboard-after-delete", mobile=False)

        page.locator("header").get_by_role("link", name="Credits").click()
        page.wait_for_url("**/credits/")
        page.wait_for_load_state("load")
        assert "20" in page.locator(".summary-figure").first.inner_text()
        assert page.get_by_text("Monthly allowance").is_visible()
        shoot("credits", "16-credits")
    finally:
        context.close()
