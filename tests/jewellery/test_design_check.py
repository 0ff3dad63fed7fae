"""Design preservation on images from the remote generator (the real WaveSpeed adapter against the local fake): each
image is checked against the references, a changed design is flagged with what changed, and a flagged image can be
made again once, free of charge."""

from __future__ import annotations

import pytest

from intaglio.credits.selectors import credit_balance
from intaglio.jewellery import services
from intaglio.jewellery.models import DesignCheck, Generation
from intaglio.jobs.models import Job, JobState
from tests.factories import run_queued_jobs
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
