"""The jewellery studio in a real browser, against `intaglio serve` and its own workers.

1. Local providers (the default): upload two references of a ring, watch the attributes arrive, correct the finish,
   confirm, see the presets the local renderer cannot make disabled and free, choose "White packshot" in rose gold and
   white metal at 4:5, read the prompt preview, generate, wait for the images, download both (4:5, 2048 px or more;
   the white-metal one has no yellow left and the ruby's hue), then delete the piece: the list no longer shows it
   and every file URL is 404.
2. Remote providers against local fakes of OpenRouter and WaveSpeed (tests/fakes): the same flow once finished by
   WaveSpeed's signed webhook (which our server must answer 200) and once by polling (the fake never sends one).

Screenshots (1280 and 390 px wide) go to bench/out/screenshots/70-…; every page must run without console errors or CSP
violations and never scroll sideways on a phone."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.e2e.conftest import REPO_ROOT, running_server
from tests.e2e.support import DESKTOP, LiveServer, PageWatch, page_shooter, sign_up
from tests.fakes.openrouter import FakeOpenRouter
from tests.fakes.wavespeed import FakeWaveSpeed

pytestmark = pytest.mark.browser

PASSWORD = "rose-gold-and-white-metal"
GENERATION_DONE_JS = """() => {
  const row = document.querySelector('.generation');
  if (!row || row.dataset.state !== 'succeeded') return false;
  const images = [...row.querySelectorAll('.image-frame img')];
  return images.length === %d && images.every(i => i.complete && i.naturalWidth > 0);
}"""
IMAGES_LOADED_JS = "(sel) => [...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth > 0)"


# ------------------------------------------------------------------------------------------ reference images


def _bench_renderer():
    """bench/jewellery_set.py's procedural renderer (loaded by path, like its own tests do)."""
    spec = importlib.util.spec_from_file_location("jewellery_set_for_e2e", REPO_ROOT / "bench" / "jewellery_set.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def ring_references(directory: Path) -> list[Path]:
    """Two views of one yellow-gold ring with a red stone: a product photo and a CAD render."""
    import numpy as np

    bench = _bench_renderer()
    paths = []
    for number, shot in enumerate(("packshot", "cad_render"), 1):
        spec = bench.Spec(
            type="ring", metal="yellow_gold", stones="red", shot=shot, finish="polished", width=1200, height=1200
        )
        image = Image.fromarray(bench.render_sample(spec, np.random.default_rng([7, number])))
        path = directory / f"ring-{shot.replace('_', '-')}.jpg"
        image.save(path, "JPEG", quality=92)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------------- helpers

#: The presets a local renderer cannot make (a model wearing the piece, a lifestyle set).
UNAVAILABLE_LOCALLY = ("lifestyle_surface", "on_model_hand", "on_model_neck", "on_model_ear")
#: "Yellow" in these checks: CIE Lab hue between 55° and 110° with chroma above 12 (gold is about 80°, chroma 30–50;
#: white metal has chroma under 5). "The stone": pixels of chroma above 30 with a red hue (below 45° or above 345°).
YELLOW_HUE, YELLOW_CHROMA = (55.0, 110.0), 12.0


def _yellow_pixels_and_stone_hue(path: Path) -> tuple[int, float]:
    """How many yellow pixels an image has (its backdrop is neutral, so any is on the piece) and the median hue of
    its red stone, both in CIE Lab (OpenCV's, on 0..1 floats)."""
    import cv2
    import numpy as np

    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), np.float32) / 255
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    yellow = (hue > YELLOW_HUE[0]) & (hue < YELLOW_HUE[1]) & (chroma > YELLOW_CHROMA)
    red = (chroma > 30) & ((hue < 45) | (hue > 345))
    assert red.sum() > 1000, "no red stone in the image"
    # red hues straddle 0°: take the median of the signed angle
    signed = np.where(hue[red] > 180, hue[red] - 360, hue[red])
    return int(yellow.sum()), float(np.median(signed))


def _new_piece(page, references: list[Path]) -> None:
    page.locator("header").get_by_role("link", name="Jewellery").click()
    page.wait_for_url("**/jewellery/")
    page.get_by_role("link", name="New piece").first.click()
    page.wait_for_url("**/jewellery/new/")
    page.locator("#piece-files").set_input_files([str(path) for path in references])
    page.wait_for_function("() => document.querySelectorAll('#chosen-list .chosen-item img').length === 2")
    page.wait_for_function(IMAGES_LOADED_JS, arg="#chosen-list img")


def _confirm_with_finish(page, finish: str) -> None:
    page.wait_for_selector("#attributes-form", timeout=60_000)
    page.wait_for_function(IMAGES_LOADED_JS, arg=".reference-picture img")
    page.locator("#attr-finish").select_option(finish)
    page.get_by_role("button", name="Confirm attributes").click()
    page.wait_for_url("**/jewellery/*/#generate")


def _choose_brief(page) -> None:
    """White packshot at 4:5 in rose gold and white metal; waits for the prompt preview of exactly that."""
    page.locator(".preset-card", has_text="White packshot").click()
    page.locator(".chip", has_text="4:5").click()
    page.locator(".chip", has_text="Rose gold").click()
    page.locator(".chip", has_text="White metal").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#prompt-preview .prompt-item').length === 2"
        " && !document.querySelector('#generate-form').classList.contains('htmx-request')"
    )
    page.wait_for_function("() => document.querySelector('#generate-cost').textContent.includes('2 credits')")


def _prompts_shown(page) -> list[str]:
    return page.locator("#prompt-preview .prompt-text").all_inner_texts()


def _file_urls(page) -> list[str]:
    """Every stored file the piece page links to: references, thumbnails, generated images."""
    urls = page.evaluate(
        '() => [...document.querySelectorAll(\'img[src^="/files/"], a[href^="/files/"]\')]'
        ".map(el => el.getAttribute('src') || el.getAttribute('href'))"
    )
    return sorted({url.split("?")[0] for url in urls})


# --------------------------------------------------------------------------------- 1. the local providers


def test_references_to_packshots_with_the_prompt_in_plain_view(
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
        references = ring_references(tmp_path)
        _new_piece(page, references)
        assert page.locator("#chosen-count").inner_text() == "2 images chosen"
        page.locator("#piece-title").fill("Ruby solitaire")
        shoot("new piece with two references chosen", "70-jewellery-new")

        page.locator("#piece-submit").click()
        page.wait_for_url(re.compile(r".*/jewellery/\d+/$"))
        assert "2 reference images stored" in page.locator(".messages").inner_text()
        page.wait_for_selector("#attributes-form", timeout=60_000)
        page.wait_for_function(IMAGES_LOADED_JS, arg=".reference-picture img, .shot-thumb img")
        assert page.locator(".reference-picture img").count() == 2
        assert page.locator("#attributes .sure-badge").count() >= 3  # type, metal, finish at least
        assert page.locator("#attr-type").input_value() == "ring"
        shoot("attributes analysed", "71-jewellery-analysed")

        # Correct the finish, confirm; the finish is now the user's and the generate step opens.
        finish = "hammered" if page.locator("#attr-finish").input_value() == "brushed" else "brushed"
        page.locator("#attr-finish").select_option(finish)
        page.get_by_role("button", name="Confirm attributes").click()
        page.wait_for_url("**/jewellery/*/#generate")
        assert page.locator("#attributes .step-head .state").inner_text() == "Confirmed"
        assert "Set by you" in page.locator(".attr-field", has=page.locator("#attr-finish")).inner_text()
        assert page.locator("#generate-button").is_enabled()

        # The local renderer cannot put the ring on a model or in a lifestyle set: those presets are shown, disabled,
        # say what they need, and choosing one is impossible, so it costs nothing.
        for name in UNAVAILABLE_LOCALLY:
            radio = page.locator(f'input[name="preset"][value="{name}"]')
            assert radio.is_disabled() and not radio.is_checked()
            card = page.locator(".preset-card", has=radio)
            assert "Needs an image service" in card.inner_text()
            card.click(force=True)
            assert not radio.is_checked()
        assert page.locator('input[name="preset"]:checked').get_attribute("value") == "white_packshot"
        page.locator(".preset-grid").scroll_into_view_if_needed()
        shoot("presets the local renderer cannot make", "72-jewellery-presets")

        _choose_brief(page)
        assert "2 credits" in page.locator("#generate-cost").inner_text()  # nothing added by the disabled ones
        prompts = _prompts_shown(page)
        assert "rose gold" in prompts[0] and "white gold or platinum" in prompts[1]
        assert all(f"{finish} finish" in prompt and "white background" in prompt for prompt in prompts)
        meta = page.locator(".prompt-meta").inner_text()
        assert "jewellery-prompt/" in meta and "intaglio-packshot/2" in meta
        assert "2 credits · you have 20" in page.locator("#generate-cost").inner_text()
        page.locator("#generate").scroll_into_view_if_needed()
        shoot("prompt preview", "72-jewellery-prompt")

        page.locator("#generate-button").click()
        page.wait_for_url("**/jewellery/*/#generations")
        page.wait_for_function(GENERATION_DONE_JS % 2, timeout=90_000)
        row = page.locator(".generation").first
        assert "Done" in row.locator(".state").inner_text()
        assert row.locator(".image-caption").all_inner_texts()[0].startswith("Rose gold")
        row.locator("details.generation-prompts summary").click()
        assert row.locator(".prompt-text").all_inner_texts() == prompts  # what was shown is what was sent
        shoot("generated images", "73-jewellery-outputs")

        with page.expect_download() as download_info:
            row.locator("[data-download]").first.click()
        download = download_info.value
        assert re.fullmatch(r"jewellery-\d+-white-packshot-rose-gold-1\.(jpg|png|webp)", download.suggested_filename)
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        with Image.open(saved) as image:
            image.verify()
        with Image.open(saved) as image:
            width, height = image.size
        assert width * 5 == height * 4, (width, height)
        assert max(width, height) >= 2048  # print-grade

        # The white-metal variant: no yellow left on the metal, and the ruby's hue as in the reference.
        with page.expect_download() as download_info:
            row.locator("[data-download]").nth(1).click()
        white = download_info.value
        assert "white-metal" in white.suggested_filename
        white_path = tmp_path / white.suggested_filename
        white.save_as(white_path)
        yellow, stone_hue = _yellow_pixels_and_stone_hue(white_path)
        _, reference_hue = _yellow_pixels_and_stone_hue(references[0])
        assert yellow == 0, f"{yellow} yellow pixels left on the white metal"
        assert abs(stone_hue - reference_hue) < 3.0, (stone_hue, reference_hue)

        files = _file_urls(page)
        assert len(files) >= 6  # 2 references (linked), their thumbnails, 2 images
        page.goto("/jewellery/")
        assert page.locator(".piece-card").count() == 1 and "Ruby solitaire" in page.locator(".piece-card").inner_text()
        page.wait_for_function(IMAGES_LOADED_JS, arg=".piece-card img")
        shoot("piece list", "74-jewellery-list")

        page.locator(".piece-card .artwork-title").click()
        page.get_by_role("link", name="Delete this piece…").click()
        page.wait_for_url("**/jewellery/*/delete/")
        assert "2 generated images" in page.locator(".confirm-card").inner_text()
        shoot("delete the piece", "75-jewellery-delete")
        page.get_by_role("button", name="Delete for good").click()
        page.wait_for_url("**/jewellery/")
        assert "is deleted" in page.locator(".messages").inner_text()
        assert page.locator(".piece-card").count() == 0 and "No pieces yet" in page.locator("main").inner_text()
        for url in files:
            assert page.request.get(url).status == 404, url
        watch.check("after deleting the piece")
    finally:
        context.close()


# ------------------------------------------------------------------------ 2. the remote providers (fakes)


def _remote_server(tmp_path: Path, openrouter, wavespeed):
    """`intaglio serve` configured for OpenRouter analysis and WaveSpeed generation, both fakes on this machine.
    Its base URL (the signed reference links and the webhook URL) is its own address."""
    data_dir = tmp_path / "intaglio-data"
    data_dir.mkdir()
    return running_server(
        data_dir,
        INTAGLIO_WORKER_PROCESSES="2",
        INTAGLIO_ANALYSIS_PROVIDER="openrouter",
        OPENROUTER_API_KEY=openrouter.api_key,
        OPENROUTER_BASE_URL=openrouter.url,
        INTAGLIO_GENERATION_PROVIDER="wavespeed",
        WAVESPEED_API_KEY=wavespeed.api_key,
        WAVESPEED_BASE_URL=wavespeed.url,
        WAVESPEED_WEBHOOK_SECRET=wavespeed.webhook_secret,
        WAVESPEED_OUTPUT_HOSTS=wavespeed.host,  # comma-separated; the fake serves its outputs itself
        WAVESPEED_POLL_SECONDS="2",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )


def _wait_until(condition, timeout: float, what: str, server: LiveServer) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; server log tail:\n{server.log_text()[-4000:]}")
        time.sleep(0.2)


@pytest.mark.parametrize("completion", ["webhook", "polling"])
def test_remote_providers_finish_by_webhook_or_by_polling(chromium_browser, screenshot_dir, tmp_path, completion):
    # With the webhook the fake's result reads never finish a prediction, so only the webhook can; without it the
    # second read finishes it.
    steps = 10_000 if completion == "webhook" else 1
    with FakeOpenRouter() as openrouter, FakeWaveSpeed(steps=steps) as wavespeed:
        wavespeed.output_body = _png(1024, 1280)
        if completion == "polling":
            wavespeed.inject("no_webhook")
            openrouter.inject("status_402", times=1)  # the first analysis fails; "Try again" recovers
        with _remote_server(tmp_path, openrouter, wavespeed) as server:
            context = chromium_browser.new_context(
                viewport=DESKTOP, base_url=server.url, locale="en-GB", accept_downloads=True
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            watch = PageWatch(server)
            watch.attach(page)
            try:
                sign_up(page, server, f"remote-{completion}-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)
                _new_piece(page, ring_references(tmp_path))
                page.locator("#piece-submit").click()
                page.wait_for_url(re.compile(r".*/jewellery/\d+/$"))
                if completion == "polling":
                    page.wait_for_selector("#attributes .notice-error", timeout=60_000)
                    assert page.locator("#attributes .step-head .state").inner_text() == "Analysis failed"
                    page.evaluate("window.scrollTo(0, 0)")
                    page.screenshot(path=str(screenshot_dir / "79-jewellery-analysis-failed.png"), full_page=True)
                    page.get_by_role("button", name="Try again").click()
                    page.wait_for_url("**/jewellery/*/#attributes")
                _confirm_with_finish(page, "matte")
                assert len(openrouter.completions) == (2 if completion == "polling" else 1)
                assert "OpenRouter" in page.locator(".attr-source").inner_text()

                _choose_brief(page)
                meta = page.locator(".prompt-meta").inner_text()
                assert "WaveSpeed AI" in meta and "bytedance/seedream-v4/edit" in meta
                prompts = _prompts_shown(page)
                page.locator("#generate-button").click()
                page.wait_for_url("**/jewellery/*/#generations")

                _wait_until(lambda: len(wavespeed.prediction_ids) == 2, 60, "two submitted predictions", server)
                submitted = sorted(r.json["prompt"] for r in wavespeed.submissions)
                assert submitted == sorted(prompts)  # the page showed exactly what was sent
                assert all(status == 200 for _, status in wavespeed.fetched)  # our signed links worked
                if completion == "webhook":
                    # Nothing finishes until the webhook: the page says what it is waiting for.
                    page.wait_for_function(
                        "() => document.querySelector('.generation')?.dataset.state === 'waiting_provider'"
                    )
                    assert "Waiting for the image service" in page.locator(".generation .state").inner_text()
                    assert page.locator(".generation .tile-placeholder").count() == 2
                    watch.check("a generation waiting for the webhook")
                    page.locator("#generations").scroll_into_view_if_needed()
                    page.locator("#generations").screenshot(path=str(screenshot_dir / "78-jewellery-waiting.png"))
                    for prediction_id in wavespeed.prediction_ids:
                        wavespeed.complete(prediction_id)
                page.wait_for_function(GENERATION_DONE_JS % 2, timeout=60_000)

                if completion == "webhook":
                    deliveries = wavespeed.deliveries
                    assert len(deliveries) == 2 and all(d.status == 200 for d in deliveries), deliveries
                    assert all(d.url == f"{server.url}/hooks/wavespeed/" for d in deliveries)
                else:
                    assert wavespeed.deliveries == []
                    assert len(wavespeed.result_reads) >= 4  # each prediction: processing, then completed

                row = page.locator(".generation").first
                href = row.locator("[data-download]").first.get_attribute("href")
                response = page.request.get(href)
                assert response.status == 200 and "attachment" in response.headers["content-disposition"]
                with Image.open(io.BytesIO(response.body())) as image:
                    assert image.size == (1024, 1280)
                watch.check(f"remote providers, {completion}")
                page.evaluate("window.scrollTo(0, 0)")
                name = "76-jewellery-remote-webhook" if completion == "webhook" else "77-jewellery-remote-polling"
                page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
            finally:
                context.close()


def _png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (246, 244, 240))
    ImageDraw.Draw(image).ellipse(
        (width * 0.3, height * 0.35, width * 0.7, height * 0.65), outline=(214, 150, 130), width=40
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
