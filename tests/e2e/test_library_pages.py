"""The engraving library in a real browser: browse the materials and one material's page, add a machine through
its form (after a refused attempt), add a preset, and confirm a deletion. Every page is screenshotted at 1280 and
390 px wide and must load without console errors or CSP violations, with nothing wider than a phone."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.support import DESKTOP, PageWatch, page_shooter, sign_up

pytestmark = pytest.mark.browser

PASSWORD = "walnut-slate-and-maple-9"


def test_browse_materials_add_a_machine_and_a_preset(chromium_browser, live_server_process, screenshot_dir):
    server = live_server_process
    email = f"library-{uuid.uuid4().hex[:12]}@example.com"
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    def library_tab(name: str):
        return page.get_by_role("navigation", name="Engraving library").get_by_role("link", name=name)

    try:
        sign_up(page, server, email, PASSWORD)

        # Materials: every card has its swatch, slate says it is inverted for you.
        page.goto("/engrave/materials/")
        assert page.get_by_role("heading", level=1).inner_text() == "Materials"
        assert library_tab("Materials").get_attribute("aria-current") == "page"
        cards = page.locator(".material-card")
        assert cards.count() >= 15
        assert page.locator(".material-card svg.swatch").count() == cards.count()
        slate = cards.filter(has=page.get_by_role("link", name="Slate", exact=True))
        assert "Marks light — inverted automatically" in slate.inner_text()
        shoot("materials", "40-library-materials")

        # One material: the whole card is the link (a click on its notes lands on the link stretched over the card).
        slate.locator(".material-notes").click(force=True)
        page.wait_for_url("**/engrave/materials/slate/")
        assert page.get_by_role("heading", level=1).inner_text() == "Slate"
        assert page.get_by_role("img", name="Tone curve of Slate").is_visible()
        table = page.locator(".suggest-table")
        assert "Fibre galvo marker 30 W" in table.inner_text()
        assert "50%" in table.inner_text()
        shoot("material page", "41-library-material")

        page.goto("/engrave/materials/cast-acrylic/")
        assert page.locator(".suggest-table .suggest-none").count() == 3  # CO2 only
        shoot("material page, CO2 only", "41-library-material-acrylic", mobile=False)

        # Machines: none of your own yet; add one, first with a mistake the server refuses.
        library_tab("Machines").click()
        page.wait_for_url("**/engrave/machines/")
        assert page.get_by_text("No machines of your own yet.").is_visible()
        assert page.locator(".machine-table tbody tr").count() >= 11
        shoot("machines", "42-library-machines")

        page.get_by_role("link", name="Add your machine").first.click()
        page.wait_for_url("**/engrave/machines/new/")
        page.locator("[name=name]").fill("Garage diode")
        page.locator("[name=kind]").select_option("diode")
        page.locator("[name=power_w]").fill("-10")
        page.locator("[name=spot_mm]").fill("0.08")
        page.locator("[name=max_feed_mm_min]").fill("6000")
        page.locator("[name=work_area_w_mm]").fill("400")
        page.locator("[name=work_area_h_mm]").fill("410")
        page.get_by_role("button", name="Add machine").click()
        page.wait_for_load_state("load")
        errors = page.locator(".form-errors")
        assert "Some machine settings are not valid" in errors.inner_text()
        assert page.locator("[name=power_w]").input_value() == "-10"
        assert page.locator("[name=name]").input_value() == "Garage diode"
        shoot("machine form with an error", "43-library-machine-form-error")

        page.locator("[name=power_w]").fill("10")
        page.get_by_role("button", name="Add machine").click()
        page.wait_for_url("**/engrave/machines/")
        assert "Machine “Garage diode” added." in page.locator(".messages").inner_text()
        own = page.locator(".machine-table-own tbody tr")
        assert own.count() == 1
        assert "400 × 410 mm" in own.inner_text()
        shoot("machines with your own", "44-library-machines-yours")

        own.get_by_role("link", name="Delete").click()
        page.wait_for_url("**/delete/")
        assert "keep their settings" in page.locator("main").inner_text()
        shoot("delete a machine", "45-library-machine-delete")
        page.get_by_role("link", name="Keep it").click()
        page.wait_for_url("**/engrave/machines/")
        assert own.count() == 1

        # Presets: start from a material's page, so the form begins on that material.
        page.goto("/engrave/materials/maple/")
        page.get_by_role("link", name="New preset from this material").first.click()
        page.wait_for_url("**/engrave/presets/new/?material=maple")
        assert page.locator("[name=material]").input_value() == "maple"
        page.locator("[name=name]").fill("Maple portraits")
        page.locator("[name=mode]").select_option("atkinson")
        page.locator("[name=contrast]").fill("1.25")
        page.locator("[name=sharpen_amount]").fill("0.6")
        page.get_by_label("Isolate the subject").check()
        page.locator("[name=notes]").fill("Seal with lacquer afterwards.")
        assert page.locator("[name=contrast]").get_attribute("max") == "3"
        shoot("preset form", "46-library-preset-form")
        page.get_by_role("button", name="Save preset").click()
        page.wait_for_url("**/engrave/presets/")
        assert library_tab("Presets").get_attribute("aria-current") == "page"
        card = page.locator(".preset-card")
        assert card.count() == 1
        assert "Atkinson" in card.inner_text() and "Contrast 1.25" in card.inner_text()
        assert "Subject isolated" in card.inner_text()
        shoot("presets", "47-library-presets")

        page.goto("/engrave/materials/maple/")
        assert "Maple portraits" in page.locator("main").inner_text()
    finally:
        context.close()
