"""The jewellery studio's services with the local (offline) providers: references → analysis → confirm → prompt →
generation → outputs with their parameters → deletion of everything."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from intaglio.assets.models import Asset, AssetKind
from intaglio.assets.storage import blob_exists
from intaglio.credits.models import LedgerEntry
from intaglio.credits.selectors import credit_balance
from intaglio.credits.services import credits_grant_monthly
from intaglio.jewellery import services
from intaglio.jewellery.models import Generation, Piece
from intaglio.jewellery.prompts import PRESETS, TEMPLATE_VERSION
from intaglio.jobs.models import Job, JobState
from intaglio.jobs.services import JobRefused
from intaglio.privacy.retention import retention_sweep
from intaglio.providers.attributes import Attributes
from intaglio.providers.base import ProviderRefused
from tests.factories import run_queued_jobs
from tests.jewellery import ATTRIBUTES, ring_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(user):
    credits_grant_monthly(user=user, period="2026-11")
    return user


def analysed_piece(owner) -> Piece:
    piece = services.piece_create(owner=owner, uploads=[ring_upload("a.jpg"), ring_upload("b.jpg", angle_px=20)])
    run_queued_jobs()
    piece.refresh_from_db()
    return piece


def test_a_piece_keeps_its_references_and_analysis_finds_the_piece(funded):
    piece = analysed_piece(funded)
    references = list(piece.references.order_by("pk"))
    assert [a.kind for a in references] == [AssetKind.REFERENCE_IMAGE] * 2
    assert piece.analysis_job.state == JobState.SUCCEEDED
    found = services.piece_analysis(piece)
    Attributes.model_validate(found)
    assert len(found["shots"]) == 2
    assert piece.analysis_job.result["provider"] == "local"
    # Analysis is not charged; the reference thumbnails come from their preview jobs.
    assert credit_balance(user=funded) == 20
    assert Asset.objects.filter(produced_by__inputs__in=references, role="thumbnail").count() == 2


def test_J21_references_stay_until_the_piece_goes_not_30_days(funded, settings):
    piece = analysed_piece(funded)
    assert set(piece.references.values_list("expires_at", flat=True)) == {None}
    later = timezone.now() + timedelta(days=settings.RETENTION_UPLOAD_AFTER_JOB_DAYS + 5)
    retention_sweep(now=later)
    assert piece.references.count() == 2


def test_unconfirmed_pieces_cannot_generate(funded):
    piece = analysed_piece(funded)
    with pytest.raises(services.JewelleryRefused) as refused:
        services.generation_create(piece=piece, brief=services.brief_validate({}))
    assert refused.value.code == "not_confirmed"


def test_J3_generation_stores_every_prompt_and_parameter_and_charges_per_image(funded):
    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    brief = services.brief_validate(
        {"preset": "white_packshot", "aspect_ratio": "4:5", "variants": 1, "metals": ["rose_gold", "white_metal"]}
    )
    shown = services.generation_plan(piece=piece, brief=brief)
    generation = services.generation_create(piece=piece, brief=brief, idempotency_key="gen-1")
    assert services.generation_create(piece=piece, brief=brief, idempotency_key="gen-1").pk == generation.pk
    job = generation.job
    assert job.credits_reserved == 2
    assert credit_balance(user=funded) == 18
    # What the user was shown is what is stored and sent.
    assert [i["prompt"] for i in job.params["images"]] == [i["prompt"] for i in shown["images"]]
    assert (
        "rose gold" in job.params["images"][0]["prompt"]
        and "every stone keeps its colour" in (job.params["images"][0]["prompt"])
    )
    assert job.params["template_version"] == TEMPLATE_VERSION
    assert (job.params["provider"], job.params["model"]) == ("local", "intaglio-packshot/2")

    run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_detail
    outputs = list(job.outputs.order_by("role"))
    assert [a.role for a in outputs] == ["image-0", "image-1"]
    for asset in outputs:
        assert asset.kind == AssetKind.GENERATED_IMAGE and asset.expires_at is None
        assert asset.width / asset.height == pytest.approx(4 / 5, abs=0.01)
        assert "rose-gold" in outputs[0].download_name
    captured = LedgerEntry.objects.filter(idempotency_key=f"job:{job.pk}:capture")
    assert captured.exists() and credit_balance(user=funded) == 18


@pytest.mark.parametrize("preset", ["white_packshot", "macro_detail"])
def test_the_local_generator_stages_the_piece_as_its_preset_says(funded, monkeypatch, preset):
    from intaglio.providers import local

    staged = []
    real = local.render_packshot

    def recording(references, **options):
        staged.append(options["zoom"])
        return real(references, **options)

    monkeypatch.setattr(local, "render_packshot", recording)
    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    generation = services.generation_create(piece=piece, brief=services.brief_validate({"preset": preset}))
    run_queued_jobs()
    assert staged == [PRESETS[preset].zoom]
    (image,) = generation.job.outputs.all()
    assert max(image.width, image.height) >= 2048  # print-grade: marketplaces ask for 2000 px or more
    generation.job.refresh_from_db()
    assert generation.job.result["enlarged"]["image-0"] > 1.5  # a 640 px reference: the studio says it was enlarged


@pytest.mark.parametrize("preset", ["lifestyle_surface", "on_model_hand", "on_model_neck", "on_model_ear"])
def test_the_local_generator_refuses_what_it_cannot_stage_and_charges_nothing(funded, preset):
    from intaglio.jewellery.selectors import presets_offered

    offered = presets_offered()
    assert offered[preset] is False and offered["white_packshot"] is True and offered["macro_detail"] is True
    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    balance = credit_balance(user=funded)
    brief = services.brief_validate({"preset": preset, "variants": 2})
    with pytest.raises(services.JewelleryRefused) as refused:
        services.generation_plan(piece=piece, brief=brief)
    assert refused.value.code == "preset_unavailable" and "needs an image service" in refused.value.message
    with pytest.raises(services.JewelleryRefused):
        services.generation_create(piece=piece, brief=brief, idempotency_key=f"k-{preset}")
    assert credit_balance(user=funded) == balance
    assert not Generation.objects.exists() and not Job.objects.filter(kind="jewellery.generate").exists()


def test_a_remote_generator_offers_every_preset(settings):
    from intaglio.jewellery.selectors import presets_offered

    settings.JEWELLERY_GENERATION_PROVIDER = "wavespeed"
    settings.WAVESPEED_API_KEY = "test-key"
    assert all(presets_offered().values())


def test_a_failed_generation_returns_its_credits(funded, monkeypatch):
    from intaglio.providers.local import LocalGeneration

    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)

    def refuse(self, request):
        raise ProviderRefused("The reference could not be cut out.")

    monkeypatch.setattr(LocalGeneration, "render", refuse)
    generation = services.generation_create(piece=piece, brief=services.brief_validate({"variants": 3}))
    assert credit_balance(user=funded) == 17
    run_queued_jobs()
    generation.job.refresh_from_db()
    assert generation.job.state == JobState.FAILED
    assert generation.job.error_message == "The reference could not be cut out."
    assert credit_balance(user=funded) == 20


def test_generation_is_refused_beyond_the_balance(user):
    piece = analysed_piece(user)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    with pytest.raises(JobRefused) as refused:
        services.generation_create(piece=piece, brief=services.brief_validate({"variants": 2}))
    assert refused.value.code == "insufficient_credits"
    assert not Generation.objects.exists()


def test_J17_deleting_a_piece_removes_every_row_and_blob(funded):
    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    services.generation_create(piece=piece, brief=services.brief_validate({"variants": 2}))
    run_queued_jobs()
    keys = list(Asset.objects.filter(owner=funded).values_list("storage_key", flat=True))
    assert len(keys) == 2 + 4 + 2  # references, their thumbnails and previews, two images
    balance = credit_balance(user=funded)
    services.piece_delete(piece=piece, actor=funded)
    assert not Piece.objects.exists() and not Job.objects.filter(owner=funded).exists()
    assert not Asset.objects.filter(owner=funded).exists()
    assert not any(blob_exists(key) for key in keys)
    # The ledger keeps its entries (without content) and the balance does not move.
    assert credit_balance(user=funded) == balance


def test_J2_a_refused_reference_keeps_the_good_ones_and_names_each_refused_file(funded):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("notes.jpg", b"<html>not an image</html>", "image/jpeg")
    empty = SimpleUploadedFile("empty.png", b"", "image/png")
    piece = services.piece_create(owner=funded, uploads=[ring_upload(), bad, ring_upload("b.jpg"), empty])
    assert piece.references.count() == 2
    assert [(index, name) for index, name, _ in piece.refused_uploads] == [(1, "notes.jpg"), (3, "empty.png")]
    lines = services.refused_reference_lines(piece)
    assert lines[0].startswith("notes.jpg: ") and lines[1].startswith("empty.png: ")
    assert lines[0] != lines[1].replace("empty.png", "notes.jpg")  # each its own reason


def test_J2_when_no_reference_is_acceptable_nothing_is_kept_and_every_file_is_named(funded):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("notes.jpg", b"<html>not an image</html>", "image/jpeg")
    empty = SimpleUploadedFile("empty.png", b"", "image/png")
    with pytest.raises(services.ReferencesRefused) as refused:
        services.piece_create(owner=funded, uploads=[bad, empty])
    assert refused.value.message.startswith("None of the 2 files was kept.")
    assert [line.split(":")[0] for line in refused.value.lines] == ["notes.jpg", "empty.png"]
    assert refused.value.message == " ".join(["None of the 2 files was kept.", *refused.value.lines])
    assert not Asset.objects.exists() and not Piece.objects.exists() and not Job.objects.exists()


def test_the_local_packshot_keeps_the_stone_and_recolours_the_metal(funded):
    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    generation = services.generation_create(
        piece=piece, brief=services.brief_validate({"metals": ["yellow_gold", "white_metal"]})
    )
    run_queued_jobs()
    images = {}
    for asset in generation.job.outputs.all():
        from intaglio.assets.storage import blob_open

        with blob_open(asset.storage_key) as handle:
            images[asset.role] = Image.open(io.BytesIO(handle.read())).convert("HSV")
    import numpy as np

    yellow, white = (np.asarray(images[r]) for r in ("image-0", "image-1"))
    saturated_yellow = (yellow[..., 1] > 90).mean()
    saturated_white = (white[..., 1] > 90).mean()
    # White metal has far less colour than gold, while the red stone (saturated) is still there.
    assert saturated_white < saturated_yellow
    red = ((white[..., 0] < 12) | (white[..., 0] > 240)) & (white[..., 1] > 120) & (white[..., 2] > 80)
    assert red.mean() > 0.0005


def test_J21_closing_the_account_deletes_pieces_references_and_images(funded):
    from intaglio.privacy.rights import account_close, account_content_delete

    piece = analysed_piece(funded)
    services.piece_confirm(piece=piece, attributes=ATTRIBUTES)
    services.generation_create(piece=piece, brief=services.brief_validate({}))
    run_queued_jobs()
    keys = list(Asset.objects.filter(owner=funded).values_list("storage_key", flat=True))
    account_close(user=funded)
    funded.refresh_from_db()
    counts = account_content_delete(user=funded)
    assert counts["jewellery_pieces"] == 1
    assert not Piece.objects.exists() and not Asset.objects.filter(owner=funded).exists()
    assert not any(blob_exists(key) for key in keys)


def test_J17_deleting_a_preview_job_on_the_dashboard_leaves_the_pieces_references(funded):
    from intaglio.jobs.services import job_delete

    piece = analysed_piece(funded)
    for job in Job.objects.filter(owner=funded):
        job_delete(job=job, actor=funded)
    assert piece.references.count() == 2
    assert all(blob_exists(key) for key in piece.references.values_list("storage_key", flat=True))
