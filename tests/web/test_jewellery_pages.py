"""The jewellery studio pages: a piece from uploaded references, checking and confirming what analysis found, the
prompt preview (exactly what is sent), generating, cancelling and deleting; every URL owner-scoped."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from intaglio.assets.models import Asset
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.jewellery.models import Generation, Piece
from intaglio.jewellery.services import piece_analysis
from intaglio.jobs.models import Job
from tests.factories import jpeg_bytes, make_user, run_queued_jobs

PROMPT_RE = re.compile(r'<pre class="prompt-text">(.*?)</pre>', re.S)
BRIEF = {"preset": "white_packshot", "aspect_ratio": "4:5", "variants": "1", "metals": ["rose_gold", "white_metal"]}


def ring_jpeg(*, angle: float = 0.0, size: int = 900) -> bytes:
    """A yellow-gold ring with one red stone on white, drawn simply (a reference the analyser can read)."""
    image = Image.new("RGB", (size, size), (250, 250, 248))
    draw = ImageDraw.Draw(image)
    c, r = size / 2, size * 0.3
    squash = 0.55 + 0.35 * abs(angle)
    draw.ellipse((c - r, c - r * squash, c + r, c + r * squash), outline=(214, 170, 70), width=int(size * 0.06))
    stone = size * 0.07
    draw.ellipse((c - stone, c - r * squash - stone * 1.6, c + stone, c - r * squash + stone * 0.4), fill=(190, 20, 35))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _upload(name: str, data: bytes, mime: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=mime)


@pytest.fixture
def credited(user):
    credits_grant_monthly(user=user, period="2026-11")
    return user


def _new_piece(client, title: str = "") -> Piece:
    response = client.post(
        "/jewellery/new/",
        {"title": title, "references": [_upload("front.jpg", ring_jpeg()), _upload("side.jpg", ring_jpeg(angle=0.6))]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    piece = Piece.objects.latest("pk")
    assert response["Location"] == f"/jewellery/{piece.pk}/"
    return piece


@pytest.fixture
def analysed(logged_in, credited) -> Piece:
    piece = _new_piece(logged_in)
    run_queued_jobs()
    piece.refresh_from_db()
    assert piece_analysis(piece) is not None
    return piece


def accept_form(piece: Piece, **changes) -> dict:
    """The confirm form as the page fills it from the analysis, with `changes` made by the user."""
    analysed = piece_analysis(piece)
    data = {name: analysed[name]["value"] for name in ("type", "metal", "finish")}
    data["title"] = ""
    if not analysed["stones"]:
        data["no_stones"] = "on"
    for index, group in enumerate(analysed["stones"]):
        data[f"stone-{index}-colour"] = group["colour"]
        data[f"stone-{index}-count"] = str(group["count"]) if group["count"] else ""
        data[f"stone-{index}-cut"] = group["cut"]
    for index, shot in enumerate(analysed["shots"]):
        data[f"shot-{index}"] = shot["value"]
    data.update(changes)
    return data


@pytest.fixture
def confirmed(logged_in, analysed) -> Piece:
    response = logged_in.post(f"/jewellery/{analysed.pk}/confirm/", accept_form(analysed, metal="yellow_gold"))
    assert response.status_code == 302 and response["Location"].endswith("#generate")
    analysed.refresh_from_db()
    return analysed


def _prompts(page: str) -> list[str]:
    return [html.unescape(text) for text in PROMPT_RE.findall(page)]


def test_a_piece_from_two_jpegs_is_analysed_then_listed(logged_in, credited):
    form = logged_in.get("/jewellery/new/").content.decode()
    assert 'name="references"' in form and "multiple" in form and "CAD render" in form and "Sketch" in form
    piece = _new_piece(logged_in, title="Ruby solitaire")
    assert piece.owner == credited and piece.title == "Ruby solitaire" and piece.references.count() == 2

    waiting = logged_in.get(f"/jewellery/{piece.pk}/").content.decode()
    assert f'hx-get="/jewellery/{piece.pk}/attributes/"' in waiting and 'hx-trigger="every 1s"' in waiting
    assert "tile-placeholder" in waiting  # thumbnails are on their way

    run_queued_jobs()
    page = logged_in.get(f"/jewellery/{piece.pk}/").content.decode()
    assert 'id="attributes-form"' in page and "Confirm attributes" in page
    assert re.search(r'sure-badge[^"]*">(Not sure|Sure)<', page)
    assert "tile-placeholder" not in page and page.count('alt="Reference ') == 2
    assert f'hx-get="/jewellery/{piece.pk}/attributes/"' not in page  # no more polling
    # Step 3 waits for the confirmation.
    assert "Confirm step 2 first" in page and 'id="generate-button" disabled' in page

    listing = logged_in.get("/jewellery/").content.decode()
    assert "Ruby solitaire" in listing and "2 references" in listing and "0 generations" in listing
    assert "Analysed · please check" in listing


def test_confirming_keeps_analysed_confidence_and_marks_what_the_user_set(logged_in, analysed):
    found = piece_analysis(analysed)
    finish = "hammered" if found["finish"]["value"] != "hammered" else "matte"
    response = logged_in.post(
        f"/jewellery/{analysed.pk}/confirm/", accept_form(analysed, finish=finish, title="My ring")
    )
    assert response.status_code == 302
    analysed.refresh_from_db()
    attributes = analysed.attributes
    assert attributes["finish"] == {"value": finish, "confidence": 1.0}
    assert attributes["type"] == found["type"] and attributes["shots"] == found["shots"]
    assert attributes["stones_confidence"] == found["stones_confidence"]
    assert analysed.title == "My ring" and analysed.confirmed_at is not None
    page = logged_in.get(f"/jewellery/{analysed.pk}/").content.decode()
    assert "Confirmed" in page and "Save changes" in page and "Set by you" in page
    assert f'hx-post="/jewellery/{analysed.pk}/prompt/"' in page


def test_no_stones_and_low_confidence_are_shown(logged_in, analysed):
    found = piece_analysis(analysed)
    found["metal"]["confidence"] = 0.3
    analysed.analysis_job.result["attributes"] = found
    analysed.analysis_job.save(update_fields=["result"])
    page = logged_in.get(f"/jewellery/{analysed.pk}/").content.decode()
    assert '<span class="sure-badge is-low">Not sure</span>' in page and "Not sure — please check" in page
    assert "% sure" not in page  # a calibrated score, not a probability to read as one
    summary = re.search(r"was not sure about <strong>(.*?)</strong>", page).group(1)
    assert "Metal" in summary.split(", ")
    response = logged_in.post(f"/jewellery/{analysed.pk}/confirm/", accept_form(analysed, no_stones="on"))
    assert response.status_code == 302
    analysed.refresh_from_db()
    assert analysed.attributes["stones"] == [] and analysed.attributes["metal"]["confidence"] == 0.3


def test_a_failed_analysis_says_why_and_can_be_tried_again(logged_in, analysed):
    Job.objects.filter(pk=analysed.analysis_job_id).update(
        state="failed", result=None, error_message="The analyser could not read these images."
    )
    page = logged_in.get(f"/jewellery/{analysed.pk}/").content.decode()
    assert "The analyser could not read these images." in page and "Try again" in page
    assert 'id="attributes-form"' not in page
    listing = logged_in.get("/jewellery/").content.decode()
    assert "Analysis failed" in listing
    response = logged_in.post(f"/jewellery/{analysed.pk}/analyse/")
    assert response.status_code == 302 and response["Location"].endswith("#attributes")
    analysed.refresh_from_db()
    assert analysed.analysis_job.state == "queued" and analysed.references.count() == 2
    panel = logged_in.get(f"/jewellery/{analysed.pk}/attributes/").content.decode()
    assert 'hx-trigger="every 1s"' in panel and "Analysing" in panel
    run_queued_jobs()
    panel = logged_in.get(f"/jewellery/{analysed.pk}/attributes/").content.decode()
    assert 'id="attributes-form"' in panel and "hx-trigger" not in panel


def test_invalid_attributes_are_explained_on_the_form(logged_in, analysed):
    bad = accept_form(analysed, **{"stone-0-colour": "red", "stone-0-count": "lots", "metal": "tin"})
    response = logged_in.post(f"/jewellery/{analysed.pk}/confirm/", bad)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="attributes-error"' in page and "not valid" in page
    analysed.refresh_from_db()
    assert analysed.attributes is None


def test_a_refused_upload_shows_its_message_and_stores_nothing(logged_in, credited):
    response = logged_in.post(
        "/jewellery/new/",
        {
            "title": "x",
            "references": [_upload("notes.jpg", b"just some text\n" * 40), _upload("empty.png", b"")],
        },
    )
    assert 400 <= response.status_code < 500
    page = response.content.decode()
    error = page.split('id="piece-error"')[1].split("</div>")[0]
    assert "None of the 2 files was kept." in error
    assert error.count("<li>") == 2 and "<li>notes.jpg: " in error and "<li>empty.png: " in error
    assert not Piece.objects.exists() and not Asset.objects.filter(owner=credited).exists()
    assert not Job.objects.filter(owner=credited).exists()

    empty = logged_in.post("/jewellery/new/", {"title": "nothing"})
    assert empty.status_code == 422 and "Add between 1 and 10 reference images" in empty.content.decode()
    too_many = logged_in.post(
        "/jewellery/new/", {"references": [_upload(f"{i}.jpg", jpeg_bytes(64, 64)) for i in range(11)]}
    )
    assert 400 <= too_many.status_code < 500 and "at most 10" in too_many.content.decode()
    assert not Asset.objects.filter(owner=credited).exists()


def test_a_batch_keeps_its_good_references_and_names_the_refused_one(logged_in, credited):
    kept = logged_in.post(
        "/jewellery/new/",
        {
            "title": "x",
            "references": [_upload("ring.jpg", ring_jpeg()), _upload("notes.jpg", b"just some text\n" * 40)],
        },
        follow=True,
    )
    page = kept.content.decode()
    assert "1 reference image stored" in page and "Not kept: notes.jpg: " in page
    assert Piece.objects.get().references.count() == 1


def test_a_restricted_account_is_refused_on_the_form(logged_in, credited):
    credited.restricted = True
    credited.save(update_fields=["restricted"])
    response = logged_in.post("/jewellery/new/", {"references": [_upload("ring.jpg", ring_jpeg())]})
    assert response.status_code == 403
    assert 'id="piece-error"' in response.content.decode() and "restrict" in response.content.decode()
    assert not Piece.objects.exists() and not Asset.objects.filter(owner=credited).exists()


def test_generating_before_confirming_is_refused_with_a_message(logged_in, analysed):
    response = logged_in.post(f"/jewellery/{analysed.pk}/generate/", {**BRIEF, "idempotency_key": "k1"})
    assert response.status_code == 422
    assert 'id="generate-error"' in response.content.decode()
    assert "Confirm the piece" in html.unescape(response.content.decode())
    assert not Generation.objects.exists()
    preview = logged_in.post(f"/jewellery/{analysed.pk}/prompt/", BRIEF).content.decode()
    assert "notice-error" in preview and not _prompts(preview)


def test_the_prompt_preview_is_exactly_what_is_sent(logged_in, confirmed):
    preview = logged_in.post(f"/jewellery/{confirmed.pk}/prompt/", BRIEF).content.decode()
    shown = _prompts(preview)
    assert len(shown) == 2  # one prompt per metal
    assert "rose gold" in shown[0] and "white gold or platinum" in shown[1]
    assert "jewellery-prompt/" in preview and "intaglio-packshot/2" in preview
    assert 'id="generate-cost" class="generate-cost" hx-swap-oob="true"' in preview
    balance = credit_balance(user=confirmed.owner)
    assert f"<strong>2 credits</strong> · you have {balance}" in preview

    page = logged_in.get(f"/jewellery/{confirmed.pk}/").content.decode()
    token = re.search(r'name="idempotency_key" value="(\w+)"', page).group(1)
    response = logged_in.post(f"/jewellery/{confirmed.pk}/generate/", {**BRIEF, "idempotency_key": token})
    assert response.status_code == 302 and response["Location"].endswith("#generations")
    generation = Generation.objects.get(piece=confirmed)
    sent = [image["prompt"] for image in generation.job.params["images"]]
    assert sent == shown

    run_queued_jobs()
    generation.job.refresh_from_db()
    assert generation.job.state == "succeeded"
    listing = logged_in.get(f"/jewellery/{confirmed.pk}/generations/").content.decode()
    assert _prompts(listing) == shown and listing.count("?download=1") == 2
    assert "Rose gold" in listing and "White metal" in listing and 'hx-trigger="none"' in listing
    assert listing.count("from a small reference") == 2  # a 900 px reference enlarged to 2048 px says so
    for asset in generation.job.outputs.all():
        assert asset.width * 5 == asset.height * 4  # 4:5
        download = logged_in.get(f"/files/{asset.pk}/?download=1")
        assert download.status_code == 200 and "attachment" in download["Content-Disposition"]


def test_presets_the_local_renderer_cannot_make_are_shown_disabled_and_refused_free(logged_in, confirmed):
    page = logged_in.get(f"/jewellery/{confirmed.pk}/").content.decode()
    for name in ("lifestyle_surface", "on_model_hand", "on_model_neck", "on_model_ear"):
        radio = re.search(rf'<input type="radio" name="preset" value="{name}"[^>]*>', page).group(0)
        assert " disabled" in radio and " checked" not in radio
        assert f'id="preset-{name}-needs">Needs an image service' in page
    for name in ("white_packshot", "macro_detail"):
        assert " disabled" not in re.search(rf'<input type="radio" name="preset" value="{name}"[^>]*>', page).group(0)
    balance = credit_balance(user=confirmed.owner)
    forced = {**BRIEF, "preset": "on_model_hand", "idempotency_key": "forced"}  # a form sent around the page
    preview = logged_in.post(f"/jewellery/{confirmed.pk}/prompt/", forced)
    assert "needs an image service" in html.unescape(preview.content.decode())
    response = logged_in.post(f"/jewellery/{confirmed.pk}/generate/", forced)
    assert response.status_code == 422 and "needs an image service" in html.unescape(response.content.decode())
    assert credit_balance(user=confirmed.owner) == balance and not Generation.objects.exists()


def test_a_double_submit_with_the_same_token_makes_one_generation(logged_in, confirmed):
    before = credit_balance(user=confirmed.owner)
    form = {**BRIEF, "variants": "2", "idempotency_key": "same-form-render"}
    first = logged_in.post(f"/jewellery/{confirmed.pk}/generate/", form)
    second = logged_in.post(f"/jewellery/{confirmed.pk}/generate/", form)
    assert first.status_code == second.status_code == 302
    assert Generation.objects.filter(piece=confirmed).count() == 1
    assert Job.objects.filter(owner=confirmed.owner, kind="jewellery.generate").count() == 1
    assert credit_balance(user=confirmed.owner) == before - 4  # 2 variants × 2 metals, reserved once
    # The next render of the page carries a new token.
    page = logged_in.get(f"/jewellery/{confirmed.pk}/").content.decode()
    assert 'value="same-form-render"' not in page
    run_queued_jobs()


def test_refusals_are_shown_on_the_form_with_their_status(logged_in, confirmed, settings):
    settings.JOB_COSTS = {**settings.JOB_COSTS, "jewellery.generate": 10}
    pricey = {**BRIEF, "variants": "2", "idempotency_key": "pricey"}  # 4 images × 10 credits
    balance = credit_balance(user=confirmed.owner)
    assert balance < 40
    preview = logged_in.post(f"/jewellery/{confirmed.pk}/prompt/", pricey).content.decode()
    assert f"<strong>40 credits</strong> · you have {balance}" in preview and "not enough credits" in preview
    response = logged_in.post(f"/jewellery/{confirmed.pk}/generate/", pricey)
    assert response.status_code == 402
    page = response.content.decode()
    assert 'id="generate-error"' in page and 'value="pricey"' in page  # the same form, choices kept
    assert re.search(r'name="variants" value="2" checked', page)
    assert not Generation.objects.exists()

    settings.JOB_COSTS = {**settings.JOB_COSTS, "jewellery.generate": 1}
    for key in ("one", "two"):  # the free plan runs 2 jobs at a time
        assert (
            logged_in.post(f"/jewellery/{confirmed.pk}/generate/", {**BRIEF, "idempotency_key": key}).status_code == 302
        )
    third = logged_in.post(f"/jewellery/{confirmed.pk}/generate/", {**BRIEF, "idempotency_key": "three"})
    assert third.status_code == 409 and "2 jobs at a time" in third.content.decode()
    assert Generation.objects.count() == 2
    run_queued_jobs()


def test_cancel_and_delete_a_generation(logged_in, confirmed):
    logged_in.post(f"/jewellery/{confirmed.pk}/generate/", {**BRIEF, "idempotency_key": "to-cancel"})
    generation = Generation.objects.get(piece=confirmed)
    page = logged_in.get(f"/jewellery/{confirmed.pk}/generations/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "Queued" in page and "tile-placeholder" in page
    held = credit_balance(user=confirmed.owner)
    response = logged_in.post(f"/jewellery/generations/{generation.pk}/cancel/")
    assert response.status_code == 302
    generation.job.refresh_from_db()
    assert generation.job.state == "cancelled" and credit_balance(user=confirmed.owner) == held + 2
    page = logged_in.get(f"/jewellery/{confirmed.pk}/generations/").content.decode()
    assert "Cancelled" in page and "2 credits returned" in page

    ask = logged_in.get(f"/jewellery/generations/{generation.pk}/delete/")
    assert ask.status_code == 200 and "Delete generation 1?" in ask.content.decode()
    gone = logged_in.post(f"/jewellery/generations/{generation.pk}/delete/")
    assert gone.status_code == 302 and not Generation.objects.filter(pk=generation.pk).exists()
    assert Piece.objects.filter(pk=confirmed.pk).exists()


def test_deleting_the_piece_removes_everything_made_from_it(logged_in, confirmed):
    logged_in.post(f"/jewellery/{confirmed.pk}/generate/", {**BRIEF, "idempotency_key": "done"})
    run_queued_jobs()
    files = list(Asset.objects.filter(owner=confirmed.owner).values_list("pk", flat=True))
    assert len(files) >= 6  # 2 references, their thumbnails (and previews), 2 images
    ask = logged_in.get(f"/jewellery/{confirmed.pk}/delete/").content.decode()
    assert "2 reference images" in ask and "2 generated images" in ask and "credits returned" in ask
    response = logged_in.post(f"/jewellery/{confirmed.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/jewellery/"
    page = response.content.decode()
    assert "is deleted" in page and "No pieces yet" in page
    assert not Piece.objects.exists()
    for pk in files:
        assert logged_in.get(f"/files/{pk}/").status_code == 404


def test_another_user_gets_404_on_every_url_of_a_piece(client, logged_in, confirmed):
    logged_in.post(f"/jewellery/{confirmed.pk}/generate/", {**BRIEF, "idempotency_key": "mine"})
    generation = Generation.objects.get(piece=confirmed)
    stranger = make_user()
    credits_grant_monthly(user=stranger, period="2026-11")
    client.force_login(stranger)
    base = f"/jewellery/{confirmed.pk}"
    for url in (
        f"{base}/",
        f"{base}/references/",
        f"{base}/attributes/",
        f"{base}/generations/",
        f"{base}/delete/",
        f"/jewellery/generations/{generation.pk}/delete/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"{base}/prompt/",
        f"{base}/generate/",
        f"{base}/confirm/",
        f"{base}/analyse/",
        f"{base}/delete/",
        f"/jewellery/generations/{generation.pk}/cancel/",
        f"/jewellery/generations/{generation.pk}/delete/",
    ):
        assert client.post(url, {**BRIEF, "idempotency_key": "theirs"}).status_code == 404, url
    assert Piece.objects.filter(pk=confirmed.pk).exists() and Generation.objects.filter(pk=generation.pk).exists()
    job = Job.objects.get(pk=generation.job_id)
    assert job.state == "queued" and not job.cancel_requested and confirmed.attributes is not None
    assert not Job.objects.filter(owner=stranger).exists()
    run_queued_jobs()


def test_pages_need_a_login(client):
    for url in ("/jewellery/", "/jewellery/new/", "/jewellery/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    fragment = client.get("/jewellery/1/generations/", headers={"HX-Request": "true"})
    assert fragment.status_code == 204 and fragment["HX-Redirect"].startswith("/login/")
