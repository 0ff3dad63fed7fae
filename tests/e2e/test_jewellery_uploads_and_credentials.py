"""The jewellery studio in a real browser, against `intaglio serve` and its own workers: a batch of three references
with one bad file keeps the two good ones and names the bad one with its reason (its size under 1 KB shown in bytes);
the generated images say they are marked, and a downloaded one carries the C2PA manifest and the IPTC source type.

Screenshots (1280 and 390 px wide) of the new-piece form, the piece page after the upload and the generations with
their Content Credentials note go to bench/out/screenshots/76-…"""

from __future__ import annotations

import io
import re
import uuid

import c2pa
import pytest
from PIL import Image

from intaglio.imaging.provenance import COMPOSITE_SYNTHETIC
from tests.e2e.support import DESKTOP, PageWatch, page_shooter, sign_up
from tests.e2e.test_jewellery_studio import GENERATION_DONE_JS, IMAGES_LOADED_JS, PASSWORD, ring_references

pytestmark = pytest.mark.browser

NOTES = b"Ring size 54, engraving inside: for A. (customer notes, not a picture)\n" * 4


def test_a_batch_with_one_bad_file_keeps_the_two_good_ones_and_the_images_are_marked(
    chromium_browser, live_server_process, screenshot_dir, tmp_path
):
    server = live_server_process
    context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(server)
    watch.attach(page)

    shoot = page_shooter(page, watch, screenshot_dir)

    try:
        sign_up(page, server, f"jeweller-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
        first, second = ring_references(tmp_path)
        notes = tmp_path / "notes.txt"
        notes.write_bytes(NOTES)
        page.goto("/jewellery/new/")
        page.locator("#piece-files").set_input_files([str(first), str(notes), str(second)])
        page.wait_for_function("() => document.querySelectorAll('#chosen-list .chosen-item').length === 3")
        page.wait_for_function(IMAGES_LOADED_JS, arg="#chosen-list img")
        sizes = page.locator("#chosen-list .chosen-size").all_inner_texts()
        assert sizes[1] == f"{len(NOTES)} bytes", sizes  # under 1 KB: in bytes, not "1 KB"
        assert all(re.fullmatch(r"\d+\.\d KB", size) for size in (sizes[0], sizes[2])), sizes
        shoot("new piece with a bad file among three", "76-jewellery-new-three")

        page.locator("#piece-submit").click()
        page.wait_for_url(re.compile(r".*/jewellery/\d+/$"))
        messages = page.locator(".messages").inner_text()
        assert "2 reference images stored" in messages
        assert "Not kept: notes.txt: This looks like a plain-text file, not a photo." in messages, messages
        page.wait_for_selector("#attributes-form", timeout=60_000)
        page.wait_for_function(IMAGES_LOADED_JS, arg=".reference-picture img")
        assert page.locator(".reference-picture img").count() == 2
        shoot("piece kept from two of three files", "77-jewellery-two-of-three")

        page.get_by_role("button", name="Confirm attributes").click()
        page.wait_for_url("**/jewellery/*/#generate")
        page.locator(".preset-card", has_text="White packshot").click()
        page.wait_for_function("() => !document.querySelector('#generate-form').classList.contains('htmx-request')")
        page.locator("#generate-button").click()
        page.wait_for_url("**/jewellery/*/#generations")
        page.wait_for_function(GENERATION_DONE_JS % 1, timeout=120_000)
        note = page.locator("[data-credentials]").first
        assert "Marked as a computer-made composite." in note.inner_text()
        assert note.get_by_role("link", name="contentcredentials.org/verify").get_attribute("href") == (
            "https://contentcredentials.org/verify"
        )
        page.locator("#generations").scroll_into_view_if_needed()
        shoot("generated image with its Content Credentials note", "78-jewellery-credentials")

        with page.expect_download() as download_info:
            page.locator("[data-download]").first.click()
        saved = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(saved)
        data = saved.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
            mime = Image.MIME[image.format]
        assert COMPOSITE_SYNTHETIC in (packet.decode() if isinstance(packet, bytes) else packet)
        with c2pa.Reader(mime, io.BytesIO(data)) as reader:
            assert reader.get_validation_state() == "Valid"  # intact; the development signer is trusted by nobody
            (action,) = [
                a for a in reader.get_active_manifest()["assertions"] if a["label"].startswith("c2pa.actions")
            ][0]["data"]["actions"]
            assert action["digitalSourceType"] == COMPOSITE_SYNTHETIC
        assert b"notes.txt" not in data and first.name.encode() not in data
    finally:
        context.close()
