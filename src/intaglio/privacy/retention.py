"""The retention sweeper (E3, E4, E5, E6, E12, J16, J21, J27): removes expired files and measurements, and records
every decision it takes.

What it sweeps
    * Assets with ``expires_at <= now``, whatever their retention class (private_upload, private_feedback,
      job_output, account_content of a closed account, …). The classes' clocks are set elsewhere: uploads by
      ``asset_ingest_upload`` (24 h unattached) and ``jobs.services._start_input_expiry`` (30 days after the last
      job ends), feedback photos by their upload service (14 days), closure by the account services (J21).
    * DerivedMetric rows with ``expires_at <= now`` (24 months, E7), recorded as item_type ``"derived_metric"``.

Eligibility (E4): an expired asset is deleted only if
    * it is not under legal hold                                          (else skipped, reason ``legal_hold``)
    * it is not published in the gallery (``published_at`` is null)       (``published``, E6)
    * it is not a curated training asset                                  (``curated``, E6)
    * it is not account content of an account that is still open          (``account_content``, J16 guard)
    * no queued / running / waiting job has it as an input, and the job that produced it (if any) has ended
                                                                          (``in_use``)
  A skipped item stays expired and is looked at again by every sweep, so it goes as soon as the reason clears.
  A restricted account (J27) is swept like any other: restriction stops new processing, not expiry.

Deleting one asset (no orphan blob, ever)
    The blob is deleted first (``blob_delete_many``: idempotent, one request per 1,000 blobs on S3), then the row.
    Both happen inside the batch's transaction, after the batch's rows were locked and their eligibility re-checked
    under the lock: on PostgreSQL a job that tries to take one of them as input meanwhile waits on the row lock (its
    foreign key needs it), then finds the row gone; on SQLite the IMMEDIATE transaction keeps every other writer
    out. A kill after some blobs went but before the commit leaves rows whose blob is missing: they are still
    expired and eligible, and the next sweep deletes them (deleting a missing blob is not an error). A blob deletion
    that fails keeps the row and blob (skipped, reason ``storage_error``; counted in ``blobs_failed``) for the next
    sweep. Deleting an input row never deletes the Job that used it.

Batches
    Items are taken longest overdue first (by expires_at, then id, one retention class after another),
    ``batch_size`` at a time; each batch is one transaction (lock, check, delete blobs, delete rows, record
    decisions). A kill loses at most the batch in progress, and the next run simply starts again: there is no
    cursor to persist, because what is done is gone. Only the classes of ``RetentionClass`` are swept (a new class
    is included as soon as it is added there). ``limit`` caps the deletions of one run; skips do not count.

Decisions (E4, E5)
    * ``deleted``: exactly one per item (the row is gone afterwards, in the same transaction), with
      ``lag_seconds = deleted_at − expires_at``.
    * ``skipped``: recorded only when it says something new, i.e. when the item's latest decision is not a skip
      with the same reason for the same ``expires_at``. So an item held for a year leaves one row, not one per
      sweep; a reason that changes (legal_hold → published), or a new expiry (an upload used again, expiring
      again), is recorded once more. Growth is bounded by real state changes, never by how often the sweep runs.

Time travel
    ``now`` replaces the clock for eligibility, ``decided_at`` and the lag, so tests and back-fills can sweep "at"
    any instant. Without it the sweep uses the current time (eligibility fixed at the start of the run; deletion
    times taken per batch).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from intaglio.assets.models import Asset, RetentionClass
from intaglio.assets.storage import blob_delete_many
from intaglio.core.audit import audit_record
from intaglio.jobs.models import TERMINAL_STATES, Job
from intaglio.privacy.models import DerivedMetric, RetentionDecision

log = logging.getLogger("intaglio.privacy.retention")

BATCH_SIZE = 500
# E5: deletion may lag expiry, but p99 stays within this.
LAG_TARGET_P99_SECONDS = 24 * 3600

ASSET = "asset"
DERIVED_METRIC = "derived_metric"

# Reasons, checked in this order; the first that applies is recorded.
LEGAL_HOLD = "legal_hold"
PUBLISHED = "published"
CURATED = "curated"
ACCOUNT_CONTENT = "account_content"
IN_USE = "in_use"
STORAGE_ERROR = "storage_error"


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _lock(queryset):
    """Row locks for the batch; rows another sweeper holds are left to it (skip_locked) where the database can."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


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


def _new_skips(item_type: str, skips: list[tuple[int, str, str, datetime | None]], decided_at) -> list:
    """The skip decisions worth recording: those that differ from the item's latest recorded decision."""
    if not skips:
        return []
    latest: dict[int, tuple] = {}
    previous = (
        RetentionDecision.objects.filter(item_type=item_type, item_id__in=[item_id for item_id, *_ in skips])
        .order_by("item_id", "-id")
        .values_list("item_id", "outcome", "reason", "expires_at")
    )
    for item_id, outcome, reason, expires_at in previous:
        latest.setdefault(item_id, (outcome, reason, expires_at))
    return [
        RetentionDecision(
            item_type=item_type,
            item_id=item_id,
            retention_class=retention_class,
            expires_at=expires_at,
            decided_at=decided_at,
            outcome=RetentionDecision.Outcome.SKIPPED,
            reason=reason,
        )
        for item_id, retention_class, reason, expires_at in skips
        if latest.get(item_id) != (RetentionDecision.Outcome.SKIPPED, reason, expires_at)
    ]


def _delete_blobs(keys: dict[int, str]) -> tuple[set[int], set[int]]:
    """Deletes the blobs (one request per 1,000 on S3); returns (asset ids whose blob is gone, ids that failed).

    A storage error fails only its blobs; anything else (a kill, KeyboardInterrupt) propagates and aborts the
    batch's transaction."""
    failed_keys = blob_delete_many(list(keys.values()))
    failed = {asset_id for asset_id, key in keys.items() if key in failed_keys}
    return set(keys) - failed, failed


def _sweep_asset_batch(ids: list[int], *, now, clock, totals: dict) -> None:
    with transaction.atomic():
        locked = list(_lock(Asset.objects.filter(pk__in=ids, expires_at__lte=now).order_by("pk")).values_list("pk"))
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
        decisions = [
            RetentionDecision(
                item_type=ASSET,
                item_id=pk,
                retention_class=eligible[pk]["retention_class"],
                expires_at=eligible[pk]["expires_at"],
                decided_at=deleted_at,
                outcome=RetentionDecision.Outcome.DELETED,
                lag_seconds=(deleted_at - eligible[pk]["expires_at"]).total_seconds(),
            )
            for pk in sorted(gone)
        ]
        decisions += _new_skips(ASSET, skips, deleted_at)
        RetentionDecision.objects.bulk_create(decisions)

    totals["deleted_assets"] += len(gone)
    totals["blobs_failed"] += len(failed)
    totals["skipped"].update(reason for _pk, _cls, reason, _exp in skips)
    totals["decisions"] += len(decisions)
    totals["lags"] += [d.lag_seconds for d in decisions if d.outcome == RetentionDecision.Outcome.DELETED]
    if gone:
        # Deleted ids reach the log too, so a restore from an older backup can re-apply these deletions (E5).
        log.info("retention.deleted", extra={"item_type": ASSET, "ids": sorted(gone)})


def _sweep_metric_batch(ids: list[int], *, now, clock, totals: dict) -> None:
    with transaction.atomic():
        rows = list(
            _lock(DerivedMetric.objects.filter(pk__in=ids, expires_at__lte=now).order_by("pk")).values_list(
                "pk", "expires_at"
            )
        )
        deleted_at = clock()
        DerivedMetric.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        decisions = [
            RetentionDecision(
                item_type=DERIVED_METRIC,
                item_id=pk,
                retention_class=DERIVED_METRIC,
                expires_at=expires_at,
                decided_at=deleted_at,
                outcome=RetentionDecision.Outcome.DELETED,
                lag_seconds=(deleted_at - expires_at).total_seconds(),
            )
            for pk, expires_at in rows
        ]
        RetentionDecision.objects.bulk_create(decisions)
    totals["deleted_metrics"] += len(rows)
    totals["decisions"] += len(decisions)
    totals["lags"] += [d.lag_seconds for d in decisions]
    if rows:
        log.info("retention.deleted", extra={"item_type": DERIVED_METRIC, "ids": [pk for pk, _ in rows]})


def _expired_batches(queryset, *, now, size: Callable[[], int]) -> Iterator[list[int]]:
    """Ids of expired rows, longest overdue first, `size()` at a time.

    Keyset pagination on (expires_at, pk): each page is an index range scan (Asset's (retention_class,
    expires_at) index within one class, DerivedMetric's expires_at index), so the cost follows the number of
    expired rows, not the size of the table. Items skipped on this run are passed, not re-read."""
    expired = queryset.filter(expires_at__lte=now)
    cursor = None
    while wanted := size():
        page = expired
        if cursor is not None:
            page = page.filter(Q(expires_at__gt=cursor[0]) | Q(expires_at=cursor[0], pk__gt=cursor[1]))
        rows = list(page.order_by("expires_at", "pk").values_list("expires_at", "pk")[:wanted])
        if not rows:
            return
        yield [pk for _expires_at, pk in rows]
        cursor = rows[-1]


def retention_sweep(
    *, now: datetime | None = None, limit: int | None = None, batch_size: int = BATCH_SIZE
) -> dict[str, object]:
    """Deletes every expired asset and derived metric that may go, and records each decision (see module doc).

    `limit` caps the deletions of this run (skipped items do not count); the next run carries on.
    Returns {deleted, deleted_assets, deleted_metrics, skipped: {reason: n}, blobs_failed, decisions,
    lag_p99_seconds}.
    """
    fixed = now is not None
    now = now or timezone.now()

    def clock():
        return now if fixed else timezone.now()

    totals = {
        "deleted_assets": 0,
        "deleted_metrics": 0,
        "blobs_failed": 0,
        "decisions": 0,
        "skipped": Counter(),
        "lags": [],
    }

    def room() -> int:
        if limit is None:
            return batch_size
        return max(0, min(batch_size, limit - totals["deleted_assets"] - totals["deleted_metrics"]))

    for retention_class in RetentionClass.values:
        for ids in _expired_batches(Asset.objects.filter(retention_class=retention_class), now=now, size=room):
            _sweep_asset_batch(ids, now=now, clock=clock, totals=totals)
    for ids in _expired_batches(DerivedMetric.objects.all(), now=now, size=room):
        _sweep_metric_batch(ids, now=now, clock=clock, totals=totals)

    deleted = totals["deleted_assets"] + totals["deleted_metrics"]
    result = {
        "deleted": deleted,
        "deleted_assets": totals["deleted_assets"],
        "deleted_metrics": totals["deleted_metrics"],
        "skipped": dict(sorted(totals["skipped"].items())),
        "blobs_failed": totals["blobs_failed"],
        "decisions": totals["decisions"],
        "lag_p99_seconds": _percentile(totals["lags"], 0.99),
    }
    if deleted or totals["blobs_failed"]:
        audit_record(
            action="retention.sweep",
            target_type="retention",
            detail={
                "deleted_assets": result["deleted_assets"],
                "deleted_metrics": result["deleted_metrics"],
                "skipped": sum(totals["skipped"].values()),
                "blobs_failed": result["blobs_failed"],
            },
        )
    log.info(
        "retention.swept",
        extra={k: v for k, v in result.items() if k != "skipped"} | {"skipped_by_reason": result["skipped"]},
    )
    return result


def retention_lag_report(*, days: int = 7, now: datetime | None = None) -> dict[str, object]:
    """Sweep lag (deleted_at − expires_at) of the deletions decided in the last `days` days, against E5's target
    (p99 ≤ 24 h). Returns {count, p50_seconds, p99_seconds, max_seconds, target_p99_seconds, within_target}."""
    now = now or timezone.now()
    lags = list(
        RetentionDecision.objects.filter(
            outcome=RetentionDecision.Outcome.DELETED,
            decided_at__gt=now - timedelta(days=days),
            decided_at__lte=now,
            lag_seconds__isnull=False,
        ).values_list("lag_seconds", flat=True)
    )
    p99 = _percentile(lags, 0.99)
    return {
        "count": len(lags),
        "p50_seconds": _percentile(lags, 0.50),
        "p99_seconds": p99,
        "max_seconds": max(lags) if lags else None,
        "target_p99_seconds": LAG_TARGET_P99_SECONDS,
        "within_target": p99 is None or p99 <= LAG_TARGET_P99_SECONDS,
    }
