"""Review reads. The queue is asked of consent at every read (`assets_usable_for("internal_review")`): photos of
engraved pieces and workshop captures, as taken (never the pictures jobs derived from them), of accounts that allow
internal review at this moment, never closed or restricted accounts and never files under legal hold. A withdrawal
takes an item out of the next page view; nothing here keeps a list of consenting people."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from intaglio.assets.models import Asset
from intaglio.engrave.models import ArtworkVersion
from intaglio.jobs.models import Job
from intaglio.privacy.consent import assets_usable_for
from intaglio.privacy.models import ConsentScope
from intaglio.review.models import Verdict

QUEUE_PAGE = 100


def review_queue() -> QuerySet[Asset]:
    """What a reviewer may look at now, unreviewed first, oldest first."""
    reviewed = Verdict.objects.filter(asset=OuterRef("pk"))
    return (
        assets_usable_for(ConsentScope.INTERNAL_REVIEW)
        .filter(produced_by__isnull=True)
        .annotate(reviewed=Exists(reviewed))
        .order_by("reviewed", "created_at", "id")
    )


def review_item(*, asset_id: int) -> Asset | None:
    """The queue's item, or None when it is not (or no longer) in the queue: the same answer for both."""
    return review_queue().filter(pk=asset_id).first()


def curation_allowed(asset: Asset) -> bool:
    """Whether the item may be kept as a curated training asset: its owner allows `broad_learning` now and that
    consent covers its kind (E6)."""
    return assets_usable_for(ConsentScope.BROAD_LEARNING).filter(pk=asset.pk).exists()


def verdicts_of(asset: Asset) -> QuerySet[Verdict]:
    return Verdict.objects.filter(asset=asset).select_related("reviewer")


def photo_settings(asset: Asset) -> dict:
    """The settings the photographed piece was burned with, when a job ties the photo to them: the artwork version
    a *How did it burn?* photo was compared with, or the test card a card photo was read against. {} otherwise."""
    for job in Job.objects.filter(inputs=asset).order_by("-created_at"):
        for other in job.inputs.exclude(pk=asset.pk).select_related("produced_by"):
            made_by = other.produced_by
            if made_by is None:
                continue
            version = ArtworkVersion.objects.filter(job=made_by).first()
            if version is not None:
                return dict(version.settings)
            if made_by.kind == "engrave.card":
                return dict(made_by.params)
    return {}
