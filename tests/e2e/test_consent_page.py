"""The Privacy page in a real browser: sign up, open it from Account settings, see every choice off, turn one on and
off again with one click each, and find both changes in the history. Screenshotted at 1280 and 390 px wide; must
load without console errors or CSP violations and never scroll sideways on a phone."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.support import DESKTOP, PageWatch, page_shooter, sign_up

pytestmark = pytest.mark.browser

PASSWORD = "aquatint-resin-ground-9"
SCOPE = "engraved_learning"
TITLE = "Learn from photos of my engravings"


def test_grant_then_withdraw_one_consent(chromium_browser, live_server_process, screenshot_dir):
    server = live_server_process
    email = f"privacy-{uuid.uuid4().hex[:12]}@example.com"
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    card = page.locator(f"#consent-{SCOPE}")
    history_rows = page.locator(".consent-history tbody tr")
    try:
        sign_up(page, server, email, PASSWORD)

        page.locator("header").get_by_role("link", name="Account").click()
        page.wait_for_url("**/account/")
        page.get_by_role("link", name="Privacy choices").click()
        page.wait_for_url("**/account/privacy/")
        assert page.get_by_role("heading", level=1).inner_text() == "Privacy choices"
        cards = page.locator(".consent-card")
        assert cards.count() == 4
        for index in range(4):
            assert cards.nth(index).locator(".consent-state").inner_text() == "Off"
            assert cards.nth(index).get_by_role("button").inner_text().startswith("Turn on")
        assert "No choices made yet" in page.locator("#history").inner_text()
        shoot("privacy page, everything off", "50-privacy-consent")

        page.get_by_role("button", name=f"Turn on: {TITLE}").click()
        page.wait_for_url(f"**/account/privacy/#consent-{SCOPE}")
        page.wait_for_load_state("load")
        assert f"“{TITLE}” is on." in page.locator(".messages").inner_text()
        assert card.locator(".consent-state").inner_text() == "On"
        assert "is-on" in card.get_attribute("class")
        assert "Turned on on" in card.locator(".consent-meta").inner_text()
        assert history_rows.count() == 1
        assert "Turned on" in history_rows.nth(0).inner_text()
        assert "1</strong> of 4 on" in page.locator(".privacy-tally").inner_html()
        shoot("privacy page, one choice on", "50-privacy-consent-granted")

        # Turning it off is the same single click, on a button that looks the same.
        granted_button_class = card.get_by_role("button").get_attribute("class")
        page.get_by_role("button", name=f"Turn off: {TITLE}").click()
        page.wait_for_url(f"**/account/privacy/#consent-{SCOPE}")
        page.wait_for_load_state("load")
        assert f"“{TITLE}” is off." in page.locator(".messages").inner_text()
        assert card.locator(".consent-state").inner_text() == "Off"
        assert card.get_by_role("button").get_attribute("class") == granted_button_class
        assert history_rows.count() == 2
        newest, oldest = history_rows.nth(0).inner_text(), history_rows.nth(1).inner_text()
        assert "Turned off" in newest and TITLE in newest and "v1" in newest and "Privacy settings page" in newest
        assert "Turned on" in oldest
        shoot("privacy page after withdrawing", "50-privacy-consent-withdrawn")
    finally:
        context.close()
