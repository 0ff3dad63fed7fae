"""Internal review in a real browser, against `intaglio serve` and its own workers.

A maker allows internal review and curated examples on *Privacy choices*, prepares a version and uploads a photo of
the burned piece (*How did it burn?*); the workshop stores a capture of another piece (as production does). A
reviewer (staff in the Reviewer group, made with `intaglio shell` as an operator would) finds both in the queue,
opens the photo, records a verdict and curates it. The maker's data page lists that look: who, which file, when,
why. The maker withdraws internal review: both items leave the queue at once, and the item page and its file answer
404.

The queue, the item page and the maker's data page are screenshotted at 1280 and 390 px and must run without console
errors or sideways scrolling on a phone."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.e2e.support import http_get, sign_up
from tests.e2e.test_gallery_flow import PASSWORD, Visit, _burn_photo, _photo, run_intaglio

pytestmark = pytest.mark.browser

SCREENS = Path(os.environ.get("INTAGLIO_SCREENSHOTS", Path(tempfile.gettempdir()) / "intaglio-review-screens"))
REVIEW_TITLE = "Let our team review my engravings"
CURATED_TITLE = "Use my engraving pictures as curated examples"


def make_reviewer(server, email: str) -> None:
    code = (
        "from django.contrib.auth.models import Group; from django.utils import timezone; "
        "from intaglio.accounts.models import User; "
        f"u = User.objects.create_user(email={email!r}, password={PASSWORD!r}, is_staff=True); "
        "u.email_verified_at = timezone.now(); u.save(); "
        "u.groups.add(Group.objects.get(name='Reviewer'))"
    )
    run_intaglio(server, "shell", "-c", code)


def store_workshop_capture(server, owner_email: str, photo: Path) -> int:
    """A capture of the owner's piece stored as the workshop's upload stores it (kind factory_capture)."""
    code = (
        "from intaglio.accounts.models import User; from intaglio.assets.models import Asset; "
        "from intaglio.assets.storage import blob_write; "
        f"data = open({str(photo)!r}, 'rb').read(); "
        f"a = Asset(owner=User.objects.get(email={owner_email!r}), kind='factory_capture', mime='image/jpeg', "
        "sha256='0' * 64, bytes=len(data), width=800, height=800, download_name='capture.jpg', "
        "retention_class='private_feedback'); blob_write(a.storage_key, data); a.save(); print(a.pk)"
    )
    return int(run_intaglio(server, "shell", "-c", code).strip().splitlines()[-1])


def set_choice(visit: Visit, title: str, on: bool) -> None:
    page = visit.page
    page.goto("/account/privacy/")
    page.get_by_role("button", name=f"Turn {'on' if on else 'off'}: {title}").click()
    page.wait_for_load_state("load")
    assert f"“{title}” is {'on' if on else 'off'}." in page.locator(".messages").inner_text()


def queued_ids(visit: Visit) -> set[int]:
    hrefs = visit.page.eval_on_selector_all(".review-row a.button", "els => els.map(e => e.getAttribute('href'))")
    return {int(href.strip("/").split("/")[-1]) for href in hrefs}


def test_reviewer_queue_before_and_after_a_consent_withdrawal(chromium_browser, live_server_process, tmp_path):
    server = live_server_process
    SCREENS.mkdir(parents=True, exist_ok=True)
    maker = Visit(chromium_browser, server, SCREENS)
    desk = Visit(chromium_browser, server, SCREENS)
    try:
        email = f"maker-{uuid.uuid4().hex[:10]}@example.com"
        page = maker.page
        sign_up(page, server, email, PASSWORD)
        set_choice(maker, REVIEW_TITLE, True)
        set_choice(maker, CURATED_TITLE, True)

        photo = tmp_path / "photo.jpg"
        photo.write_bytes(_photo(0))
        page.goto("/dashboard/")
        page.locator("#upload-input").set_input_files(str(photo))
        page.wait_for_function("() => document.querySelectorAll('#job-list .job-row img').length === 1", timeout=60_000)
        page.goto("/engrave/new/")
        page.locator(".photo-choice").first.click()
        page.wait_for_url("**/engrave/*/")
        page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=60_000)
        page.get_by_role("button", name="Prepare files").click()
        page.wait_for_url("**/engrave/*/#versions")
        page.wait_for_function(
            "() => document.querySelector('.version-row')?.dataset.state === 'succeeded'", timeout=90_000
        )
        piece = tmp_path / "piece.jpg"
        piece.write_bytes(_burn_photo(0))
        page.locator(".burn-upload input[type=file]").first.set_input_files(str(piece))
        page.locator(".burn-upload").first.get_by_role("button", name="Upload photo").click()
        page.wait_for_url("**/burns/*/")
        capture = tmp_path / "capture.jpg"
        capture.write_bytes(_burn_photo(1))
        capture_id = store_workshop_capture(server, email, capture)

        reviewer_email = f"reviewer-{uuid.uuid4().hex[:10]}@example.com"
        make_reviewer(server, reviewer_email)
        desk.log_in(reviewer_email)
        desk.page.wait_for_url("**/dashboard/")
        desk.page.goto("/review/")
        before = queued_ids(desk)
        assert capture_id in before
        rows = desk.page.locator(".review-row")
        burn_row = rows.filter(has_text="Photo of an engraving").filter(has_text="To review").last
        photo_href = burn_row.locator("a.button").get_attribute("href")
        photo_id = int(photo_href.strip("/").split("/")[-1])
        assert "Workshop photo" in desk.page.locator("main").inner_text()
        desk.shoot("review queue", "review-queue")

        desk.page.goto(photo_href)
        assert desk.page.locator(".recipe-list").count() == 1  # the settings the piece was burned with
        desk.shoot("review item", "review-item")
        desk.page.locator("fieldset", has_text="Style").get_by_label("Valid", exact=True).check()
        desk.page.locator("fieldset", has_text="Material").get_by_label("Valid", exact=True).check()
        desk.page.locator("fieldset", has_text="Machine settings").get_by_label("Not valid").check()
        desk.page.get_by_label("Note").fill("Hair is lost in the shadows: lower the power on slate.")
        desk.page.get_by_role("button", name="Record verdict").click()
        desk.page.wait_for_url("**/review/")
        assert "Verdict recorded." in desk.page.locator(".messages").inner_text()
        desk.page.goto(photo_href)
        desk.page.get_by_role("button", name="Curate").click()
        desk.page.wait_for_url(f"**{photo_href}")
        assert "Kept as a curated training asset." in desk.page.locator(".messages").inner_text()
        desk.shoot("review item after the verdict", "review-item-after")
        file_url = server.url + desk.page.locator(".gallery-picture img").get_attribute("src")

        # The maker sees each look at their file: who, which file, when, why.
        page.goto("/account/data/")
        accesses = page.locator(".staff-access-table tbody tr")
        assert accesses.count() >= 1
        assert "Reviewer, staff no." in accesses.first.inner_text()
        assert f"file #{photo_id}" in accesses.first.inner_text()
        assert "Internal review" in accesses.first.inner_text()
        assert reviewer_email not in page.locator("main").inner_text()
        maker.shoot("the maker's data page with staff accesses", "review-data-page")

        # Withdrawal: both items leave the queue at once; the item page and the file answer 404.
        set_choice(maker, REVIEW_TITLE, False)
        desk.page.goto("/review/")
        after = queued_ids(desk)
        assert {photo_id, capture_id} <= before and not ({photo_id, capture_id} & after)
        assert desk.page.goto(photo_href).status == 404
        cookies = {c["name"]: c["value"] for c in desk.context.cookies()}
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        assert http_get(file_url, headers={"Cookie": cookie})[0] == 404
        desk.watch.errors[:] = []  # the 404s just asked for, and nothing else
        desk.page.goto("/review/")
        desk.shoot("review queue after the withdrawal", "review-queue-after")
    finally:
        maker.close()
        desk.close()
