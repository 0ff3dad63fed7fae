"""Design preservation on images from the remote generator (the real WaveSpeed adapter against the local fake): each
image is checked against the references, a changed design is flagged with what changed, and a flagged image can be
made again once, free of charge."""

from __future__ import annotations

import pytest
from django.test import Client

from intaglio.credits.selectors import credit_balance
from intaglio.jewellery import services
from intaglio.jewellery.models import DesignCheck, Generation
from intaglio.jobs.models import Job, JobState
from tests.factories import make_token, run_queued_jobs
from tests.jewellery import ring_jpeg
from tests.jewellery.test_remote_generation import confirmed_piece, ledger, owner, remote  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _finish(remote, job: Job) -> Job:  # noqa: F811
    run_queued_jobs()
    for prediction_id in remote.generation.prediction_ids:
        if remote.generation.prediction(prediction_id)["status"] not in ("completed", "failed"):
            remote.generation.complete(prediction_id)
    run_queued_jobs()
    job.refresh_from_db()
    return job


def test_a_changed_design_is_flagged_and_made_again_once_free(remote, owner):  # noqa: F811
    remote.generation.output_body = ring_jpeg(stone=None)  # the generator dropped the stone
    remote.generation.output_content_type = "image/jpeg"
    piece = confirmed_piece(owner)
    generation = services.generation_create(piece=piece, brief=services.brief_validate({"variants": 1}))
    job = _finish(remote, generation.job)
    assert job.state == JobState.SUCCEEDED, job.error_detail
    assert credit_balance(user=owner) == 19

    check = DesignCheck.objects.get(generation=generation)
    assert check.image.role == "image-0" and check.image.produced_by_id == job.pk
    assert check.flagged and check.score < 0.5
    assert "a stone is missing near the top" in check.changes

    # The free regeneration: the same prompt with a new seed, nothing reserved, nothing on the ledger.
    again = services.generation_regenerate_free(check=check, idempotency_key="regen-1")
    assert again.piece_id == piece.pk and again.job.credits_reserved == 0
    assert again.job.params["regenerates"] == check.pk
    assert again.job.params["images"][0]["prompt"] == job.params["images"][0]["prompt"]
    assert again.job.params["images"][0]["seed"] != job.params["images"][0]["seed"]
    # The same request again (a retry, a double click) is the same regeneration; any other is refused.
    assert services.generation_regenerate_free(check=check, idempotency_key="regen-1").pk == again.pk
    with pytest.raises(services.JewelleryRefused) as refused:
        services.generation_regenerate_free(check=check, idempotency_key="regen-2")
    assert refused.value.code == "free_regeneration_used" and refused.value.status == 409
    with pytest.raises(services.JewelleryRefused):
        services.generation_regenerate_free(check=check)
    assert Generation.objects.filter(piece=piece).count() == 2

    remote.generation.output_body = ring_jpeg()  # this time the design is kept
    job_again = _finish(remote, again.job)
    assert job_again.state == JobState.SUCCEEDED, job_again.error_detail
    kept = DesignCheck.objects.get(generation=again)
    assert not kept.flagged and kept.changes == [] and kept.score >= 0.5
    assert ledger(job_again) == [] and credit_balance(user=owner) == 19
    # A regeneration is not itself made again free, even if flagged.
    DesignCheck.objects.filter(pk=kept.pk).update(flagged=True)
    kept.refresh_from_db()
    with pytest.raises(services.JewelleryRefused):
        services.generation_regenerate_free(check=kept)


def test_an_image_whose_design_is_kept_is_not_flagged_nor_regenerated_free(remote, owner):  # noqa: F811
    remote.generation.output_body = ring_jpeg()
    remote.generation.output_content_type = "image/jpeg"
    piece = confirmed_piece(owner)
    generation = services.generation_create(piece=piece, brief=services.brief_validate({"variants": 1}))
    assert _finish(remote, generation.job).state == JobState.SUCCEEDED
    check = DesignCheck.objects.get(generation=generation)
    assert not check.flagged and check.changes == []
    with pytest.raises(services.JewelleryRefused) as refused:
        services.generation_regenerate_free(check=check)
    assert refused.value.code == "not_flagged"


def test_the_api_shows_the_check_and_makes_a_flagged_image_again_once(remote, owner):  # noqa: F811
    remote.generation.output_body = ring_jpeg(stone=(30, 60, 190))  # the stone came back blue
    remote.generation.output_content_type = "image/jpeg"
    piece = confirmed_piece(owner)
    generation = services.generation_create(piece=piece, brief=services.brief_validate({"variants": 1}))
    assert _finish(remote, generation.job).state == JobState.SUCCEEDED
    auth = {"HTTP_AUTHORIZATION": f"Bearer {make_token(owner)}"}
    body = Client().get(f"/api/v1/jewellery/generations/{generation.pk}", **auth).json()
    (check,) = body["design_checks"]
    assert check["flagged"] and check["free_regeneration_open"] and check["regeneration_id"] is None
    assert check["image_id"] == body["job"]["outputs"][0]["id"]
    assert check["notice"].startswith("The design may have changed: ")
    assert "the stone near the top changed colour from red to blue" in check["changes"]

    url = f"/api/v1/jewellery/design-checks/{check['id']}/regenerate"
    first = Client().post(url, **auth, HTTP_IDEMPOTENCY_KEY="again-1")
    assert first.status_code == 201, first.content
    assert first.json()["job"]["credits_reserved"] == 0
    repeat = Client().post(url, **auth, HTTP_IDEMPOTENCY_KEY="again-1")
    assert repeat.status_code == 201 and repeat.json()["id"] == first.json()["id"]
    second = Client().post(url, **auth, HTTP_IDEMPOTENCY_KEY="again-2")
    assert second.status_code == 409 and second.json()["error"]["code"] == "free_regeneration_used"
    assert credit_balance(user=owner) == 19
