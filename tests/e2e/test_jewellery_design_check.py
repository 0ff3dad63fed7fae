"""A flagged image in the jewellery studio, in a real browser: the WaveSpeed fake sends back the ring without its
stone, the page says the design may have changed and what, and "Make it again, free" starts one free regeneration
(no credit taken) after which the offer is gone.

Screenshots (1280 and 390 px wide) go to the screenshot directory as 80-jewellery-design-flagged*.png and
81-jewellery-design-regenerated*.png."""

from __future__ import annotations

import io
import re
import uuid

import numpy as np
import pytest
from PIL import Image

from tests.e2e.support import DESKTOP, PageWatch, screenshot_on_a_phone, sign_up
from tests.e2e.test_jewellery_studio import (
    GENERATION_DONE_JS,
    PASSWORD,
    _bench_renderer,
    _confirm_with_finish,
    _new_piece,
    _remote_server,
    _wait_until,
    ring_references,
)
from tests.fakes.openrouter import FakeOpenRouter
from tests.fakes.wavespeed import FakeWaveSpeed

pytestmark = pytest.mark.browser


def _ring_without_its_stone() -> bytes:
    """The packshot reference's ring as a generator that lost the stone would draw it."""
    bench = _bench_renderer()
    spec = bench.Spec(type="ring", metal="yellow_gold", stones="none", shot="packshot", finish="polished", width=1200,
                      height=1200)  # fmt: skip
    image = Image.fromarray(bench.render_sample(spec, np.random.default_rng([7, 1])))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_a_flagged_image_says_what_changed_and_is_made_again_once_free(chromium_browser, screenshot_dir, tmp_path):
    with FakeOpenRouter() as openrouter, FakeWaveSpeed(steps=10_000) as wavespeed:
        wavespeed.output_body = _ring_without_its_stone()
        wavespeed.output_content_type = "image/jpeg"
        with _remote_server(tmp_path, openrouter, wavespeed) as server:
            context = chromium_browser.new_context(viewport=DESKTOP, base_url=server.url, locale="en-GB")
            page = context.new_page()
            page.set_default_timeout(30_000)
            watch = PageWatch(server)
            watch.attach(page)

            def shoot(name: str, where: str) -> None:
                watch.check(where)
                page.locator("#generations").scroll_into_view_if_needed()
                page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
                screenshot_on_a_phone(page, screenshot_dir / f"{name}-mobile.png", where)

            def finish_all() -> None:
                for prediction_id in wavespeed.prediction_ids:
                    if wavespeed.prediction(prediction_id)["status"] not in ("completed", "failed"):
                        wavespeed.complete(prediction_id)

            try:
                sign_up(page, server, f"flagged-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
                _new_piece(page, ring_references(tmp_path))
                page.locator("#piece-submit").click()
                page.wait_for_url(re.compile(r".*/jewellery/\d+/$"))
                _confirm_with_finish(page, "polished")
                page.locator(".preset-card", has_text="White packshot").click()
                page.wait_for_function(
                    "() => document.querySelector('#generate-cost').textContent.includes('1 credit')"
                )
                page.locator("#generate-button").click()
                page.wait_for_url("**/jewellery/*/#generations")
                _wait_until(lambda: len(wavespeed.prediction_ids) == 1, 60, "the submitted prediction", server)
                finish_all()
                page.wait_for_function(GENERATION_DONE_JS % 1, timeout=60_000)
                notice = page.locator(".generation .design-notice")
                notice.wait_for(timeout=30_000)
                text = notice.inner_text()
                assert "The design may have changed" in text and "A stone is missing near the top" in text, text
                assert page.get_by_role("button", name=re.compile("Make it again, free")).count() == 1
                shoot("80-jewellery-design-flagged", "a flagged image")

                page.get_by_role("button", name=re.compile("Make it again, free")).click()
                page.wait_for_url("**/jewellery/*/#generations")
                assert "free of charge" in page.locator(".messages, [role=status]").first.inner_text()
                assert page.locator(".generation").count() == 2
                newest = page.locator(".generation").first
                assert "Free regeneration of a flagged image" in newest.inner_text()
                assert "0 credits" in newest.inner_text()
                _wait_until(lambda: len(wavespeed.prediction_ids) == 2, 60, "the regeneration's prediction", server)
                finish_all()
                page.wait_for_function(
                    "() => document.querySelector('.generation')?.dataset.state === 'succeeded'", timeout=60_000
                )
                page.reload()
                # The offer is used: the first image now points to its regeneration.
                assert page.get_by_role("button", name=re.compile("Make it again, free")).count() == 0
                assert "Made again free of charge" in page.locator(".generation").nth(1).inner_text()
                shoot("81-jewellery-design-regenerated", "after the free regeneration")
            finally:
                context.close()
