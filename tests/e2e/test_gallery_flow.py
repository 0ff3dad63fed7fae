"""The community gallery in a real browser, against `intaglio serve` and its own workers.

1. A maker prepares a version, publishes it with a photo of the real burn; a logged-out visitor finds it in the
   list and on its page, follows *Use this recipe* through sign-in to the studio with the recipe's settings; the
   maker unpublishes and the item page and every picture link answer 404 at once.
2. Another maker reports an item; a moderator (staff in the Moderator group, made with `intaglio shell` as an
   operator would) hides it with a note; the owner reads the outcome on their gallery page.

The public list, the item page, the report form and the moderators' queue are screenshotted at 1280 and 390 px and
must run without console errors or sideways scrolling on a phone."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.support import (
    DESKTOP,
    LiveServer,
    PageWatch,
    http_get,
    screenshot_on_a_phone,
    sign_up,
    verification_link,
)

pytestmark = pytest.mark.browser

PASSWORD = "slate-and-a-diode-laser"
SCREENS = Path(os.environ.get("INTAGLIO_SCREENSHOTS", Path(tempfile.gettempdir()) / "intaglio-gallery-screens"))


def _photo(seed: int) -> bytes:
    from skimage import data

    picture = data.astronaut() if seed == 0 else data.chelsea()
    buffer = io.BytesIO()
    Image.fromarray(picture).resize((900, 900)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _burn_photo(seed: int) -> bytes:
    """A phone photo of the finished piece (pale marks on dark slate), with camera details an owner would not want
    public."""
    import numpy as np

    grey = np.asarray(Image.open(io.BytesIO(_photo(seed))).convert("L").resize((800, 800)), dtype=np.float32) / 255
    slate = np.stack([52 + 150 * grey, 56 + 146 * grey, 62 + 140 * grey], axis=-1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x013B] = "Private Person"  # Artist
    buffer = io.BytesIO()
    Image.fromarray(slate).save(buffer, "JPEG", exif=exif.tobytes(), quality=88)
    return buffer.getvalue()


def run_intaglio(server: LiveServer, *args: str) -> str:
    """An `intaglio` command against the live server's database, as an operator would run it."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.pop("INTAGLIO_SECRET_KEY", None)
    env.update(INTAGLIO_DATA_DIR=str(server.log_path.parent), INTAGLIO_DEBUG="1", INTAGLIO_BASE_URL=server.url)
    entry_point = Path(sys.executable).with_name("intaglio")
    command = [str(entry_point)] if entry_point.exists() else [sys.executable, "-m", "intaglio.cli"]
    result = subprocess.run(
        [*command, *args], env=env, cwd=server.log_path.parent, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def make_moderator(server: LiveServer, email: str) -> None:
    code = (
        "from django.contrib.auth.models import Group; from django.utils import timezone; "
        "from intaglio.accounts.models import User; "
        f"u = User.objects.create_user(email={email!r}, password={PASSWORD!r}, is_staff=True); "
        "u.email_verified_at = timezone.now(); u.save(); "
        "u.groups.add(Group.objects.get(name='Moderator'))"
    )
    run_intaglio(server, "shell", "-c", code)


class Visit:
    def __init__(self, browser, server: LiveServer, shots: Path):
        self.context = browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.watch = PageWatch(server)
        self.watch.attach(self.page)
        self.shots = shots

    def shoot(self, where: str, name: str) -> None:
        self.watch.check(where)
        self.page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
        self.page.screenshot(path=str(self.shots / f"{name}-1280.png"), full_page=True)
        screenshot_on_a_phone(self.page, self.shots / f"{name}-390.png", where)
        self.watch.check(f"{where} (screenshots)")

    def log_in(self, email: str) -> None:
        self.page.goto("/login/")
        self.page.get_by_label("E-mail address").fill(email)
        self.page.locator("input[name=password]").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()

    def close(self) -> None:
        self.context.close()


def publish_a_version(visit: Visit, server: LiveServer, tmp_path: Path, *, title: str, seed: int) -> str:
    """Sign up, upload, prepare one version, publish it with a burn photo; returns the item page's path."""
    page = visit.page
    sign_up(page, server, f"maker-{uuid.uuid4().hex[:10]}@example.com", PASSWORD)
    photo = tmp_path / f"photo-{seed}.jpg"
    photo.write_bytes(_photo(seed))
    page.locator("#upload-input").set_input_files(str(photo))
    page.wait_for_function("() => document.querySelectorAll('#job-list .job-row img').length === 1", timeout=60_000)
    page.goto("/engrave/new/")
    page.locator(".photo-choice").first.click()
    page.wait_for_url("**/engrave/*/")
    page.locator("select[name=material]").select_option("slate")
    page.wait_for_timeout(450)  # the live preview is debounced
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=60_000)
    page.get_by_role("button", name="Prepare files").click()
    page.wait_for_url("**/engrave/*/#versions")
    page.wait_for_function(
        "() => document.querySelector('.version-row')?.dataset.state === 'succeeded'", timeout=90_000
    )
    page.get_by_role("link", name="Publish in the gallery").first.click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Story").fill("Burned on slate at home; the hair came out best.")
    burn = tmp_path / f"burn-{seed}.jpg"
    burn.write_bytes(_burn_photo(seed))
    page.get_by_label("Photos of the real burn").set_input_files(str(burn))
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/gallery/*/")
    return page.url.removeprefix(server.url)


def test_publish_visible_logged_out_use_the_recipe_then_unpublish_gives_404(
    chromium_browser, live_server_process, tmp_path
):
    server = live_server_process
    SCREENS.mkdir(parents=True, exist_ok=True)
    owner = Visit(chromium_browser, server, SCREENS)
    visitor = Visit(chromium_browser, server, SCREENS)
    try:
        item_path = publish_a_version(owner, server, tmp_path, title="Astronaut on slate", seed=0)
        assert "Published." in owner.page.locator(".messages").inner_text()

        # Logged out: in the list, on its page, with every picture served.
        page = visitor.page
        page.goto("/gallery/")
        page.get_by_role("link", name="Astronaut on slate").click()
        page.wait_for_url(f"**{item_path}")
        visitor.shoot("gallery item page", "gallery-item")
        pictures = page.eval_on_selector_all(".gallery-picture img", "els => els.map(e => e.src)")
        assert len(pictures) == 3  # artwork, simulated burn, the real photo; no source photo
        for url in pictures:
            status, body, headers = http_get(url)
            assert status == 200 and headers["Cache-Control"] == "no-cache" and headers["ETag"]
            assert b"Private Person" not in body
        recipe = page.locator(".recipe-list").inner_text()
        assert "Slate" in recipe
        page.goto("/gallery/")
        visitor.shoot("gallery list", "gallery-list")

        # Use this recipe: sign-in first, then the visitor's own photo, then the studio with the recipe.
        page.goto(item_path)
        page.get_by_role("link", name="Use this recipe").click()
        page.wait_for_url("**/login/**")
        # New here: sign up from the log-in page; the confirmation link comes back to the recipe, not the dashboard.
        page.get_by_role("link", name="Create an account").click()
        page.wait_for_url("**/signup/?next=**")
        email = f"visitor-{uuid.uuid4().hex[:10]}@example.com"
        page.get_by_label("E-mail address").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/signup/done/")
        page.goto(verification_link(server, email))
        page.wait_for_url(f"**{item_path}use/")
        visitor.shoot("use this recipe without a photo", "gallery-use-empty")
        page.get_by_role("link", name="Add photos").click()
        photo = tmp_path / "visitor.jpg"
        photo.write_bytes(_photo(1))
        page.locator("#upload-input").set_input_files(str(photo))
        page.wait_for_function("() => document.querySelectorAll('#job-list .job-row img').length === 1", timeout=60_000)
        page.goto(item_path + "use/")
        visitor.shoot("use this recipe", "gallery-use")
        page.locator(".photo-choice").first.click()
        page.wait_for_url("**/engrave/*/")
        # The studio starts from the recipe (slate), not from a new artwork's default (birch plywood).
        assert page.locator("select[name=material]").input_value() == "slate"

        # Unpublish: the page and each picture link answer 404 at once, cached or not.
        owner.page.goto(item_path)
        owner.page.get_by_role("button", name="Unpublish").click()
        owner.page.wait_for_url("**/gallery/mine/")
        assert http_get(server.url + item_path)[0] == 404
        for url in pictures:
            assert http_get(url)[0] == 404
            assert http_get(url, headers={"If-None-Match": headers["ETag"]})[0] == 404
        page.goto("/gallery/")
        assert page.get_by_role("link", name="Astronaut on slate").count() == 0
    finally:
        owner.close()
        visitor.close()


def test_report_then_a_moderator_hides_and_the_owner_reads_the_outcome(chromium_browser, live_server_process, tmp_path):
    server = live_server_process
    SCREENS.mkdir(parents=True, exist_ok=True)
    owner = Visit(chromium_browser, server, SCREENS)
    reporter = Visit(chromium_browser, server, SCREENS)
    desk = Visit(chromium_browser, server, SCREENS)
    try:
        item_path = publish_a_version(owner, server, tmp_path, title="Cat on slate", seed=1)

        sign_up(reporter.page, server, f"reporter-{uuid.uuid4().hex[:10]}@example.com", PASSWORD)
        reporter.page.goto(item_path)
        reporter.page.get_by_role("link", name="Report").click()
        reporter.page.wait_for_url("**/report/")
        reporter.shoot("report form", "gallery-report")
        reporter.page.get_by_label("Unsafe laser settings").check()
        reporter.page.get_by_label("What a moderator should know").fill("The speed is far too low for slate.")
        reporter.page.get_by_role("button", name="Send report").click()
        reporter.page.wait_for_url(f"**{item_path}")
        assert "A moderator will look" in reporter.page.locator(".messages").inner_text()

        moderator_email = f"moderator-{uuid.uuid4().hex[:10]}@example.com"
        make_moderator(server, moderator_email)
        desk.log_in(moderator_email)
        desk.page.wait_for_url("**/dashboard/")
        desk.page.locator(".site-nav").get_by_role("link", name="Moderation").click()  # in the header for moderators
        desk.page.wait_for_url("**/moderation/")
        assert "Unsafe laser settings × 1" in desk.page.locator("main").inner_text()
        desk.shoot("moderation queue", "moderation-queue")
        desk.page.get_by_role("link", name="Review Cat on slate").click()
        desk.page.get_by_label("Action").select_option("hide")
        desk.page.get_by_label("Note to the owner").fill("Hidden: the speed in this recipe is unsafe on slate.")
        desk.page.get_by_role("button", name="Record decision").click()
        desk.page.wait_for_url("**/moderation/")
        desk.shoot("moderation queue after the decision", "moderation-queue-after")

        assert http_get(server.url + item_path)[0] == 404
        owner.page.goto("/gallery/mine/")
        news = owner.page.locator(".moderation-news").inner_text()
        assert "hidden by a moderator" in news and "unsafe on slate" in news
        assert moderator_email not in owner.page.locator("main").inner_text()
        # And by e-mail, without the moderator's identity.
        mails = [
            message
            for message in server.log_text().split("-" * 79)
            if "looked at your gallery item" in message and "Cat on slate" in message
        ]
        assert len(mails) == 1 and "unsafe on slate" in mails[0] and moderator_email not in mails[0]
    finally:
        owner.close()
        reporter.close()
        desk.close()
