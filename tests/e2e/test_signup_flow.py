"""The first-visit journey in a real browser: sign up, confirm the address, log out and in, make an API
token and use it from a program. Every page is screenshotted and must load without console errors
(a CSP violation is a console error)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.support import (
    DESKTOP,
    LiveServer,
    PageWatch,
    http_get,
    is_deletion,
    parse_set_cookie,
    screenshot_on_a_phone,
    verification_link,
)

pytestmark = pytest.mark.browser

PASSWORD = "copper-plate-etching-42"
ALLOWED_COOKIES = {"sessionid", "csrftoken"}


@dataclass
class FlowResult:
    email: str
    token: str
    set_cookie_headers: list[tuple[str, str]]  # (response url, raw Set-Cookie value)
    jar_cookies: list[dict]  # every cookie the browser held at any step


def walk_signup_flow(browser, server: LiveServer, shots: Path | None) -> FlowResult:
    """Landing → sign up → confirm → dashboard → log out → log in → account → new API token."""
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    context = browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = PageWatch(server)
    watch.attach(page)
    jar: dict[tuple, dict] = {}

    def settle(where: str, shot: str | None = None, mobile: bool = False) -> None:
        page.wait_for_load_state("load")
        watch.check(where)
        for cookie in context.cookies():
            jar[(cookie["name"], cookie["domain"], cookie["path"])] = cookie
        if shots is not None and shot is not None:
            page.screenshot(path=str(shots / f"{shot}.png"), full_page=True)
            if mobile:
                screenshot_on_a_phone(page, shots / f"{shot}-mobile.png", where)
                watch.check(f"{where} (390px)")

    try:
        page.goto("/")
        assert page.get_by_role("heading", level=1).is_visible()
        settle("landing", "01-landing", mobile=True)

        page.get_by_role("link", name="Create a free account").first.click()
        page.wait_for_url("**/signup/")
        settle("signup", "02-signup")

        page.get_by_label("E-mail address").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/signup/done/")
        assert page.get_by_role("heading", name="Check your inbox").is_visible()
        assert email in page.inner_text("main")
        settle("check your inbox", "03-check-inbox")

        page.goto(verification_link(server, email))
        page.wait_for_url("**/dashboard/")
        assert page.get_by_role("heading", name="Dashboard").is_visible()
        assert email in page.inner_text("main")
        settle("dashboard after confirming", "04-dashboard")

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(server.url + "/")
        assert page.get_by_role("button", name="Log out").count() == 0
        settle("landing after logging out")

        page.locator("header").get_by_role("link", name="Log in").click()
        page.wait_for_url("**/login/")
        settle("login", "05-login")

        page.locator("input[name=username]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url("**/dashboard/")
        assert page.get_by_role("button", name="Log out").is_visible()
        settle("dashboard after logging in")

        page.locator("header").get_by_role("link", name="Account").click()
        page.wait_for_url("**/account/")
        settle("account")

        page.locator("input[name=name]").fill("E2E workshop laptop")
        page.get_by_role("button", name="Create token").click()
        page.wait_for_url("**/account/")
        token_input = page.locator("#new-token-value")
        assert token_input.is_visible()
        assert token_input.get_attribute("readonly") is not None
        token = token_input.input_value()
        assert token
        settle("account with the new token", "06-account-token", mobile=True)

        set_cookies = [
            (response.url, header["value"])
            for response in watch.responses
            for header in response.headers_array()
            if header["name"].lower() == "set-cookie"
        ]
        return FlowResult(email=email, token=token, set_cookie_headers=set_cookies, jar_cookies=list(jar.values()))
    finally:
        context.close()


def test_sign_up_confirm_log_in_and_use_an_api_token(chromium_browser, live_server_process, screenshot_dir):
    server = live_server_process
    flow = walk_signup_flow(chromium_browser, server, screenshot_dir)

    status, body, _ = http_get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {flow.token}"})
    assert status == 200, body
    assert json.loads(body)["email"] == flow.email

    status, body, headers = http_get(f"{server.url}/api/v1/me")
    assert status == 401, body
    assert headers.get("Content-Type", "").startswith("application/json")
    error = json.loads(body)["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]

    bogus = {"Authorization": "Bearer itg_not-a-real-token"}
    status, body, _ = http_get(f"{server.url}/api/v1/me", headers=bogus)
    assert status == 401, body


def test_only_essential_cookies_all_http_only_and_same_site_lax(chromium_browser, live_server_process):
    flow = walk_signup_flow(chromium_browser, live_server_process, shots=None)

    assert flow.set_cookie_headers, "the flow set no cookies at all (log in should)"
    problems = []
    for url, raw in flow.set_cookie_headers:
        for line in raw.split("\n"):  # Playwright may join repeated headers with newlines
            name, value, attributes = parse_set_cookie(line)
            if name not in ALLOWED_COOKIES:
                problems.append(f"unexpected cookie {name!r} from {url}: {line}")
            if attributes.get("samesite", "").lower() != "lax":
                problems.append(f"{name} without SameSite=Lax from {url}: {line}")
            # A deletion carries no value a script could read; every cookie that holds one is HttpOnly.
            if not is_deletion(value, attributes) and "httponly" not in attributes:
                problems.append(f"{name} without HttpOnly from {url}: {line}")
    assert not problems, "\n".join(problems)

    assert {cookie["name"] for cookie in flow.jar_cookies} <= ALLOWED_COOKIES
    assert {"sessionid", "csrftoken"} <= {cookie["name"] for cookie in flow.jar_cookies}
    for cookie in flow.jar_cookies:
        assert cookie["httpOnly"], cookie
        assert cookie["sameSite"] == "Lax", cookie
