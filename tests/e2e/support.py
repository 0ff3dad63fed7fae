"""Helpers shared by the browser tests (kept out of conftest.py so test modules can import them)."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest

# A plain HTTP client that ignores any *_proxy variables: the server is on the loopback interface.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes, Message]:
    """GET without cookies or proxies; returns (status, body, headers) for any status. Header names are looked up
    regardless of case, as HTTP has them (the server sends them in lower case)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _direct.open(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


@dataclass
class LiveServer:
    url: str
    log_path: Path
    process: subprocess.Popen

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def refused_requests(self) -> list[str]:
        """Every request the server answered with 4xx or 5xx, oldest first, as "METHOD path -> status"."""
        found = []
        for line in self.log_text().splitlines():
            try:
                record = json.loads(line) if line.startswith("{") else {}
            except json.JSONDecodeError:  # e-mails the console backend printed
                continue
            if record.get("logger") == "intaglio.request" and record.get("status", 0) >= 400:
                found.append(f"{record['method']} {record['path']} -> {record['status']}")
        return found


DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
# The innermost elements that stick out past the right edge of the viewport.
TOO_WIDE_JS = """() => [...document.querySelectorAll("body *")]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(el => ![...el.children].some(child => child.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 8)
  .map(el => `${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""}`
             + ` (right edge ${Math.round(el.getBoundingClientRect().right)}px)`)"""


@dataclass
class PageWatch:
    """Collects console errors and uncaught exceptions of a page; `check` fails on any new one.

    Chromium's "Failed to load resource" line names no URL, and requests the browser makes itself (/favicon.ico)
    never reach Playwright, so a failure also lists the server's latest refused requests."""

    server: LiveServer
    errors: list[str] = field(default_factory=list)
    responses: list = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("response", lambda response: self.responses.append(response))

    def _console(self, msg) -> None:
        if msg.type == "error":  # with where it came from: the URL and line Chromium gives
            self.errors.append(f"console: {msg.text} @ {msg.location}")

    def check(self, where: str) -> None:
        found, self.errors[:] = list(self.errors), []
        if found:
            found += [f"server answered: {line}" for line in self.server.refused_requests()[-5:]]
        assert not found, f"errors in the browser on {where}:\n" + "\n".join(found)


def verification_link(server: LiveServer, email: str, timeout: float = 15.0) -> str:
    """The link from the e-mail the console backend printed for `email`."""
    pattern = re.compile(re.escape(server.url) + r"/verify-email/[^/\s]+/[^/\s]+/")
    deadline = time.monotonic() + timeout
    while True:
        # The console backend separates messages with a line of 79 dashes.
        for message in server.log_text().split("-" * 79):
            if f"To: {email}" in message and (match := pattern.search(message)):
                return match.group(0)
        if time.monotonic() > deadline:
            tail = server.log_text()[-4000:]
            pytest.fail(f"no verification e-mail for {email} in the server output:\n{tail}")
        time.sleep(0.2)


def parse_set_cookie(raw: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, attributes with lower-cased names; flag attributes map to "")."""
    first, *attributes = [part.strip() for part in raw.split(";")]
    name, _, value = first.partition("=")
    parsed = {}
    for attribute in attributes:
        key, _, attr_value = attribute.partition("=")
        parsed[key.strip().lower()] = attr_value.strip()
    return name.strip(), value.strip(), parsed


def is_deletion(value: str, attributes: dict[str, str]) -> bool:
    return attributes.get("max-age") == "0" or value in {"", '""'} or "1970" in attributes.get("expires", "")


def sign_up(page, server: LiveServer, email: str, password: str) -> None:
    """Creates the account through the sign-up form and follows the verification link to the dashboard."""
    page.goto("/signup/")
    page.get_by_label("E-mail address").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/signup/done/")
    page.goto(verification_link(server, email))
    page.wait_for_url("**/dashboard/")


def screenshot_on_a_phone(page, path: Path, where: str) -> None:
    """A full-page screenshot at 390 px wide; fails if anything makes the page scroll sideways."""
    page.set_viewport_size(MOBILE)
    # two frames for the new width's layout and paint: taken at once, faded (disabled) parts could come out blank
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.screenshot(path=str(path), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], (
        f"{where} scrolls sideways at 390px ({width}px wide); too wide: {page.evaluate(TOO_WIDE_JS)}"
    )
    page.set_viewport_size(DESKTOP)


def page_shooter(page, watch: PageWatch, directory: Path):
    """`shoot(where, name, mobile=True)`: once the page has loaded and shows no console error, a full-page
    screenshot from its top at desktop width as `name.png` and, unless `mobile` is False, one at 390 px as
    `name-mobile.png` (which fails if the page scrolls sideways); then no console error again."""

    def shoot(where: str, name: str, mobile: bool = True) -> None:
        page.wait_for_load_state("load")
        watch.check(where)
        page.evaluate("window.scrollTo(0, 0)")  # a sticky preview or header shows the page from its top
        page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
        if mobile:
            screenshot_on_a_phone(page, directory / f"{name}-mobile.png", where)
        watch.check(f"{where} (screenshots)")

    return shoot
