"""Essential cookies only, and nothing fetched from anyone else (J18, J19, J5), over every page a visitor can reach.

A real browser follows every same-origin link from the landing page (logged out) and from the dashboard (logged in),
skipping only actions (log out, delete, close, erase, revoke, cancel) and file downloads. On every page:
- every cookie set (each Set-Cookie header, and the browser's cookie jar) is in settings.COOKIES, HttpOnly and
  SameSite Lax or Strict. The CSRF cookie is HttpOnly too: settings.CSRF_COOKIE_HTTPONLY is on because htmx sends the
  token from the page (hx-headers on <body>), so no script ever needs to read the cookie;
- every request the page makes goes to the server's own origin (no CDN, font, analytics or tracker);
- no console error and no CSP violation.
The privacy notice and the cookie page are screenshotted at 1280 and 390 px:
bench/out/screenshots/57-privacy-notice*.png and 58-cookie-page*.png."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.conf import settings

from tests.e2e.support import (
    DESKTOP,
    LiveServer,
    PageWatch,
    is_deletion,
    parse_set_cookie,
    screenshot_on_a_phone,
    sign_up,
)

pytestmark = pytest.mark.browser

PASSWORD = "hallmark-on-the-shank-31"
ALLOWED_COOKIES = {cookie["name"] for cookie in settings.COOKIES}
# Links that act rather than show, and file downloads: never followed.
SKIP = re.compile(
    r"/(?:logout|delete|close|erase|revoke|cancel|restrict|unpublish|withdraw)(?:/|$)|/files/|[?&]download=|/export/"
)
MAX_PAGES = 150
POLICY_VERSION = "1"  # the name consent history already uses for "the notice before any publication"


def publish_first_notice(server: LiveServer) -> None:
    """`intaglio privacy_publish` against the live server's database, as an operator would run it."""
    data_dir = server.log_path.parent
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.pop("INTAGLIO_SECRET_KEY", None)
    env.update(INTAGLIO_DATA_DIR=str(data_dir), INTAGLIO_DEBUG="1", INTAGLIO_BASE_URL=server.url)
    entry_point = Path(sys.executable).with_name("intaglio")
    command = [str(entry_point)] if entry_point.exists() else [sys.executable, "-m", "intaglio.cli"]
    result = subprocess.run(
        [*command, "privacy_publish", "--version", POLICY_VERSION, "--summary", "First published version."],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 or "Published versions do not change" in result.stderr, result.stderr


class Crawl:
    """Visits pages in one browser context and records what each one did."""

    def __init__(self, browser, server: LiveServer):
        self.server = server
        self.origin = server.url
        self.context = browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.watch = PageWatch(server)
        self.watch.attach(self.page)
        self.requests: list[tuple[str, str]] = []  # (page path, requested url)
        self.current = ""
        self.context.on("request", lambda request: self.requests.append((self.current, request.url)))
        self.jar: dict[tuple, dict] = {}
        self.visited: list[str] = []

    def close(self) -> None:
        self.context.close()

    def same_origin_path(self, href: str) -> str | None:
        url, _ = urldefrag(href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return None if SKIP.search(path) else path

    def visit(self, path: str) -> list[str]:
        """Opens the page; returns the same-origin links on it."""
        self.current = path
        response = self.page.goto(path)
        self.page.wait_for_load_state("load")
        assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
        self.watch.check(path)
        for cookie in self.context.cookies():
            key = (cookie["name"], cookie["domain"], cookie["path"])
            self.jar[key] = {**cookie, "seen_on": self.jar.get(key, {}).get("seen_on", path)}
        self.visited.append(path)
        hrefs = self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        return [p for p in (self.same_origin_path(href) for href in hrefs) if p]

    def crawl(self, start: str) -> list[str]:
        queue, seen = [start], {start}
        pages = []
        while queue:
            path = queue.pop(0)
            pages.append(path)
            for link in self.visit(path):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
            assert len(pages) <= MAX_PAGES, f"more than {MAX_PAGES} pages: is a link generating endless URLs?"
        return pages

    def problems(self) -> list[str]:
        found = []
        for response in self.watch.responses:
            for header in response.headers_array():
                if header["name"].lower() != "set-cookie":
                    continue
                for line in header["value"].split("\n"):
                    name, value, attributes = parse_set_cookie(line)
                    where = urlsplit(response.url).path
                    if name not in ALLOWED_COOKIES:
                        found.append(f"cookie {name!r} is not in settings.COOKIES (set by {where}): {line}")
                    if attributes.get("samesite", "").lower() not in {"lax", "strict"}:
                        found.append(f"{name} without SameSite Lax/Strict (set by {where}): {line}")
                    if not is_deletion(value, attributes) and "httponly" not in attributes:
                        found.append(f"{name} without HttpOnly (set by {where}): {line}")
        for cookie in self.jar.values():
            if cookie["name"] not in ALLOWED_COOKIES:
                found.append(f"the browser holds {cookie['name']!r} (seen on {cookie['seen_on']})")
            if not cookie["httpOnly"]:
                found.append(f"{cookie['name']} is readable by scripts (seen on {cookie['seen_on']})")
            if cookie["sameSite"] not in {"Lax", "Strict"}:
                found.append(f"{cookie['name']} has SameSite={cookie['sameSite']} (seen on {cookie['seen_on']})")
            if cookie["domain"] not in {"127.0.0.1", "localhost"}:
                found.append(f"{cookie['name']} belongs to another site: {cookie['domain']}")
        for page_path, url in self.requests:
            if url.startswith(("data:", "blob:")):
                continue
            if not url.startswith(self.origin + "/"):
                found.append(f"{page_path} requested a third party: {url}")
        return found


def a_photo() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (900, 600), (212, 180, 140))
    ImageDraw.Draw(image).ellipse((300, 150, 600, 450), fill=(120, 70, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def upload_a_photo(crawl: Crawl) -> None:
    """One finished job, so the crawl also covers job pages (and their image requests)."""
    page = crawl.page
    page.set_input_files("#upload-input", files=[{"name": "ring.jpg", "mimeType": "image/jpeg", "buffer": a_photo()}])
    page.wait_for_function("() => document.querySelectorAll('#job-list .job-row').length === 1", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('#job-list .job-row')?.dataset.state === 'succeeded'", timeout=90_000
    )
    crawl.watch.check("upload")


def sign_up_member(crawl: Crawl) -> None:
    page = crawl.page
    email = f"crawl-{uuid.uuid4().hex[:12]}@example.com"
    sign_up(page, crawl.server, email, PASSWORD)
    page.wait_for_load_state("load")
    crawl.watch.check("sign-up")


def test_J18_J19_every_page_sets_only_listed_essential_cookies_and_loads_nothing_from_elsewhere(
    chromium_browser, live_server_process, screenshot_dir
):
    # The configuration this test relies on, as documented above.
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE in {"Lax", "Strict"} and settings.CSRF_COOKIE_SAMESITE in {"Lax", "Strict"}
    assert {"sessionid", "csrftoken"} <= ALLOWED_COOKIES
    server = live_server_process
    publish_first_notice(server)

    anonymous = Crawl(chromium_browser, server)
    try:
        public_pages = anonymous.crawl("/")
        assert not anonymous.problems(), "\n".join(anonymous.problems())
    finally:
        anonymous.close()
    for expected in ("/", "/signup/", "/login/", "/privacy/", "/cookies/", "/privacy/request/"):
        assert expected in public_pages, f"{expected} is not reachable by links from the landing page"

    member = Crawl(chromium_browser, server)
    try:
        sign_up_member(member)
        upload_a_photo(member)
        member_pages = member.crawl("/dashboard/")
        assert not member.problems(), "\n".join(member.problems())
        assert {"sessionid", "csrftoken"} <= {cookie["name"] for cookie in member.jar.values()}
        # Still signed in at the end: the crawl followed no log-out or close link.
        assert member.page.goto("/dashboard/").url.endswith("/dashboard/")
    finally:
        member.close()
    for expected in ("/dashboard/", "/account/", "/credits/", "/privacy/", "/cookies/", "/account/data/"):
        assert expected in member_pages, f"{expected} is not reachable by links from the dashboard"
    assert any(re.fullmatch(r"/jobs/\d+/", path) for path in member_pages), member_pages


def test_J19_E16_the_notice_and_cookie_page_look_right_on_desktop_and_phone(
    chromium_browser, live_server_process, screenshot_dir
):
    server = live_server_process
    publish_first_notice(server)
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = PageWatch(server)
    watch.attach(page)
    try:
        page.goto("/")
        page.locator("footer").get_by_role("link", name="Privacy notice").click()
        page.wait_for_url("**/privacy/")
        page.wait_for_load_state("load")
        assert page.get_by_role("heading", level=1).inner_text() == "Privacy notice"
        assert page.locator(".doc-meta").get_by_text(POLICY_VERSION, exact=True).is_visible()
        toc = page.get_by_role("navigation", name="On this page")
        assert toc.get_by_role("link").count() == 11
        # The table of contents works: a link brings its section to the top.
        toc.get_by_role("link", name="How long we keep things").click()
        page.wait_for_url("**/privacy/#retention")
        top = page.evaluate("document.querySelector('#retention').getBoundingClientRect().top")
        assert 0 <= top < 60, top
        page.goto("/privacy/")
        page.wait_for_load_state("load")
        page.mouse.move(0, 0)
        watch.check("privacy notice")
        page.screenshot(path=str(screenshot_dir / "57-privacy-notice.png"), full_page=True)
        screenshot_on_a_phone(page, screenshot_dir / "57-privacy-notice-mobile.png", "privacy notice")
        watch.check("privacy notice (390px)")

        page.locator("footer").get_by_role("link", name="Cookies").click()
        page.wait_for_url("**/cookies/")
        page.wait_for_load_state("load")
        assert page.get_by_role("heading", level=1).inner_text() == "Cookies"
        rows = page.locator(".cookie-table tbody tr")
        assert rows.count() == len(settings.COOKIES)
        for cookie in settings.COOKIES:
            assert page.locator(".cookie-table").get_by_text(cookie["name"], exact=True).is_visible()
        watch.check("cookie page")
        page.screenshot(path=str(screenshot_dir / "58-cookie-page.png"), full_page=True)
        screenshot_on_a_phone(page, screenshot_dir / "58-cookie-page-mobile.png", "cookie page")
        watch.check("cookie page (390px)")
    finally:
        context.close()
