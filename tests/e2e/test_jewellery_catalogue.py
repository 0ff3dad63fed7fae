"""A catalogue in a real browser: the step-3 choices survive a reload, are saved as a style kit, applied to a second
piece, and both pieces are generated as one batch after one confirmation of the total (local providers).

Screenshots (1280 and 390 px wide) go to bench/out/screenshots/76-…; every page must run without console errors or
CSP violations and never scroll sideways on a phone."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.support import DESKTOP, PageWatch, page_shooter, sign_up
from tests.e2e.test_jewellery_studio import IMAGES_LOADED_JS, PASSWORD, _choose_brief, ring_references

pytestmark = pytest.mark.browser


def _piece_from(page, reference, title: str) -> None:
    page.goto("/jewellery/new/")
    page.locator("#piece-files").set_input_files([str(reference)])
    page.wait_for_function("() => document.querySelectorAll('#chosen-list .chosen-item img').length === 1")
    page.locator("#piece-title").fill(title)
    page.locator("#piece-submit").click()
    page.wait_for_url(re.compile(r".*/jewellery/\d+/$"))
    page.wait_for_selector("#attributes-form", timeout=60_000)
    page.wait_for_function(IMAGES_LOADED_JS, arg=".reference-picture img")
    page.get_by_role("button", name="Confirm attributes").click()
    page.wait_for_url("**/jewellery/*/#generate")


def test_a_kit_saved_once_generates_a_batch_after_one_confirmed_total(
    chromium_browser, live_server_process, screenshot_dir, tmp_path
):
    server = live_server_process
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    try:
        sign_up(page, server, f"catalogue-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
        packshot, render = ring_references(tmp_path)
        _piece_from(page, packshot, "Ruby band")
        _choose_brief(page)  # white packshot, 4:5, rose gold and white metal
        page.reload()  # the choices are remembered on the piece
        assert page.locator(".chip", has_text="4:5").locator("input").is_checked()
        assert page.locator(".chip", has_text="Rose gold").locator("input").is_checked()
        page.locator("#kit-name").fill("Website packshots")
        page.get_by_role("button", name="Save kit").click()
        page.wait_for_url("**/jewellery/*/#generate")
        assert "Saved the style kit “Website packshots”" in page.locator(".messages").inner_text()
        page.locator("#generate").scroll_into_view_if_needed()
        shoot("style kit saved on step 3", "76-jewellery-kit-bar")

        _piece_from(page, render, "Ruby band, CAD")
        assert not page.locator(".chip", has_text="Rose gold").locator("input").is_checked()
        page.locator("#kit-choice").select_option(label="Website packshots")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**/jewellery/*/#generate")
        assert page.locator(".chip", has_text="White metal").locator("input").is_checked()

        page.goto("/jewellery/kits/")
        assert "White packshot · 4:5 · 1 variant · Rose gold, White metal" in page.locator(".kit-card").inner_text()
        shoot("style kits", "77-jewellery-kits")

        page.goto("/jewellery/")
        page.get_by_role("link", name="Generate a batch").click()
        page.wait_for_url("**/jewellery/batch/")
        assert page.locator(".batch-piece input:checked").count() == 2
        shoot("batch: choose pieces and kit", "78-jewellery-batch-new")
        page.get_by_role("button", name="Show the total").click()
        page.wait_for_url("**/jewellery/batch/confirm/")
        assert page.locator("#batch-total").inner_text() == "4"
        shoot("batch: confirm the total", "79-jewellery-batch-confirm")
        page.get_by_role("button", name="Generate 4 images for 4 credits").click()
        page.wait_for_url(re.compile(r".*/jewellery/batches/\d+/$"))
        page.wait_for_function(
            "() => document.querySelector('.batch-count').textContent.startsWith('2 of 2 finished')", timeout=120_000
        )
        assert page.locator(".batch-row .state").all_inner_texts() == ["Done", "Done"]
        shoot("batch finished", "80-jewellery-batch-done")
    finally:
        context.close()
