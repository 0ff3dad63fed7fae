"""What jobs holds about a person: every job with its settings and states, and how closure deletes them.

The expiry of files is declared here too: a file expires by its own retention class, but whether it may go
depends on the jobs that use it, and this is the lowest app that sees both files and jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from intaglio.assets.models import Asset, RetentionClass
from intaglio.assets.storage import blob_delete_many
from intaglio.core.personal_data import (
    Erasure,
    Expiring,
    PersonalData,
    Section,
    Subject,
    Swept,
    iso,
    kept_as_content,
    register,
    register_expiring,
    sweep_lock,
)
from intaglio.jobs.models import TERMINAL_STATES, Job
from intaglio.jobs.services import job_delete

log = logging.getLogger("intaglio.jobs")

# Why an expired file stays, checked in this order; the first that applies is recorded (E4).
LEGAL_HOLD = "legal_hold"
PUBLISHED = "published"
CURATED = "curated"
ACCOUNT_CONTENT = "account_content"
IN_USE = "in_use"
STORAGE_ERROR = "storage_error"


def held_job_ids(user) -> set[int]:
    """Jobs that use or made a file under legal hold: they stay with the file."""
    held = Asset.objects.filter(owner=user, legal_hold=True)
    return set(
        Job.objects.filter(owner=user)
        .filter(Q(inputs__in=held) | Q(outputs__in=held))
        .values_list("pk", flat=True)
        .distinct()
    )


def _section() -> Section:
    return Section("jobs", "Jobs with their settings and states", *kept_as_content(), "To run the work you asked for.")


def _export(subject: Subject) -> list[dict]:
    if subject.user is None:
        return []
    jobs = Job.objects.filter(owner=subject.user).prefetch_related("inputs", "outputs").order_by("pk")
    return [
        {
            "id": j.pk,
            "kind": j.kind,
            "state": j.state,
            "params": j.params,
            "progress": j.progress,
            "attempts": j.attempts,
            "error_message": j.error_message,
            "credits_reserved": j.credits_reserved,
            "created_at": iso(j.created_at),
            "started_at": iso(j.started_at),
            "finished_at": iso(j.finished_at),
            "inputs": sorted(a.pk for a in j.inputs.all()),
            "outputs": sorted(a.pk for a in j.outputs.all()),
        }
        for j in jobs
    ]


def _erase(erasure: Erasure) -> dict[str, int]:
    # job_delete cancels a job still in flight first, so no worker writes for it again.
    deleted = 0
    for job in Job.objects.filter(owner=erasure.user).exclude(pk__in=held_job_ids(erasure.user)).order_by("pk"):
        job_delete(job=job)
        deleted += 1
    return {"jobs": deleted}


def _skip_reason(row: dict) -> str | None:
    if row["legal_hold"]:
        return LEGAL_HOLD
    if row["published_at"] is not None:
        return PUBLISHED
    if row["curated"]:
        return CURATED
    # J16: artwork and generated outputs stay while the account is open, whatever expiry was set by mistake.
    if row["retention_class"] == RetentionClass.ACCOUNT_CONTENT and row["owner__closed_at"] is None:
        return ACCOUNT_CONTENT
    producer_state = row["produced_by__state"]
    if row["busy_input"] or (producer_state is not None and producer_state not in TERMINAL_STATES):
        return IN_USE
    return None


def _delete_blobs(keys: dict[int, str]) -> tuple[set[int], set[int]]:
    """Deletes the blobs (one request per 1,000 on S3); returns (asset ids whose blob is gone, ids that failed).

    A storage error fails only its blobs; anything else (a kill, KeyboardInterrupt) propagates and aborts the
    batch's transaction."""
    failed_keys = blob_delete_many(list(keys.values()))
    failed = {asset_id for asset_id, key in keys.items() if key in failed_keys}
    return set(keys) - failed, failed


def _file_tables() -> list:
    # One retention class after another, so each page is a range scan of Asset's (retention_class, expires_at)
    # index; a class added to RetentionClass is swept as soon as it exists.
    return [Asset.objects.filter(retention_class=retention_class) for retention_class in RetentionClass.values]


def _files_sweep(ids: list[int], *, now: datetime, clock: Callable[[], datetime]) -> Swept:
    """Expired files of these ids that may go: blob first, then row (no orphan blob, ever). Deleting an input row
    never deletes the Job that used it."""
    locked = list(sweep_lock(Asset.objects.filter(pk__in=ids, expires_at__lte=now).order_by("pk")).values_list("pk"))
    busy = Job.objects.filter(inputs=OuterRef("pk")).exclude(state__in=TERMINAL_STATES)
    rows = list(
        Asset.objects.filter(pk__in=[pk for (pk,) in locked])
        .annotate(busy_input=Exists(busy))
        .order_by("pk")
        .values(
            "pk",
            "storage_key",
            "retention_class",
            "expires_at",
            "legal_hold",
            "published_at",
            "curated",
            "produced_by__state",
            "owner__closed_at",
            "busy_input",
        )
    )
    skips, eligible = [], {}
    for row in rows:
        reason = _skip_reason(row)
        if reason is None:
            eligible[row["pk"]] = row
        else:
            skips.append((row["pk"], row["retention_class"], reason, row["expires_at"]))
            if reason == ACCOUNT_CONTENT:
                log.warning("retention.account_content_expiry_refused", extra={"asset_id": row["pk"]})

    gone, failed = _delete_blobs({pk: row["storage_key"] for pk, row in eligible.items()})
    skips += [(pk, eligible[pk]["retention_class"], STORAGE_ERROR, eligible[pk]["expires_at"]) for pk in failed]
    deleted_at = clock()
    if gone:
        # The Job rows that used these files stay; only their link to the file goes.
        Asset.objects.filter(pk__in=gone).delete()
    return Swept(
        deleted=[(pk, eligible[pk]["retention_class"], eligible[pk]["expires_at"]) for pk in sorted(gone)],
        skipped=skips,
        deleted_at=deleted_at,
        failed=len(failed),
    )


def declare() -> None:
    register(PersonalData(app="jobs", section=_section, position=50, export=_export, erase=_erase, erase_order=20))
    register_expiring(
        Expiring(item_type="asset", counter="deleted_assets", order=10, tables=_file_tables, sweep=_files_sweep)
    )
