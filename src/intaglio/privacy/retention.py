"""The retention sweeper (E3, E4, E5, E6, E12, J16, J21, J27): removes expired files and measurements, and records
every decision it takes.

What it sweeps
    * Assets with ``expires_at <= now``, whatever their retention class (private_upload, private_feedback,
      job_output, account_content of a closed account, …). The classes' clocks are set elsewhere: uploads by
      ``asset_ingest_upload`` (24 h unattached) and ``jobs.lifecycle._start_input_expiry`` (30 days after the last
      job ends), feedback photos by their upload service (14 days), closure by the account services (J21).
    * DerivedMetric rows with ``expires_at <= now`` (24 months, E7), recorded as item_type ``"derived_metric"``.

Who does what
    The sweeper walks the kinds of row declared as ``core.personal_data.Expiring``: files (declared by
    jobs/personal_data.py, since whether a file is in use depends on jobs) and derived metrics (privacy's own).
    Each kind locks, checks and deletes its rows; the sweeper batches them and records every decision. It imports
    no other app's models.

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

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from intaglio.core.audit import audit_record
from intaglio.core.personal_data import Expiring, registered_expiring
from intaglio.privacy.models import RetentionDecision

log = logging.getLogger("intaglio.privacy.retention")

BATCH_SIZE = 500
# E5: deletion may lag expiry, but p99 stays within this.
LAG_TARGET_P99_SECONDS = 24 * 3600


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


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


def _sweep_batch(kind: Expiring, ids: list[int], *, now, clock, totals: dict) -> None:
    """One transaction: the owning app locks, checks and deletes; the decisions are recorded with it."""
    with transaction.atomic():
        swept = kind.sweep(ids, now=now, clock=clock)
        decisions = [
            RetentionDecision(
                item_type=kind.item_type,
                item_id=pk,
                retention_class=retention_class,
                expires_at=expires_at,
                decided_at=swept.deleted_at,
                outcome=RetentionDecision.Outcome.DELETED,
                lag_seconds=(swept.deleted_at - expires_at).total_seconds(),
            )
            for pk, retention_class, expires_at in swept.deleted
        ]
        decisions += _new_skips(kind.item_type, swept.skipped, swept.deleted_at)
        RetentionDecision.objects.bulk_create(decisions)

    totals[kind.counter] += len(swept.deleted)
    totals["blobs_failed"] += swept.failed
    totals["skipped"].update(reason for _pk, _cls, reason, _exp in swept.skipped)
    totals["decisions"] += len(decisions)
    totals["lags"] += [d.lag_seconds for d in decisions if d.outcome == RetentionDecision.Outcome.DELETED]
    if swept.deleted:
        # Deleted ids reach the log too, so a restore from an older backup can re-apply these deletions (E5).
        ids = [pk for pk, _cls, _exp in swept.deleted]
        log.info("retention.deleted", extra={"item_type": kind.item_type, "ids": ids})


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
    """Deletes every expired row that may go (each kind declared as core.personal_data.Expiring: files,
    derived metrics), and records each decision (see module doc).

    `limit` caps the deletions of this run (skipped items do not count); the next run carries on.
    Returns {deleted, deleted_assets, deleted_metrics, skipped: {reason: n}, blobs_failed, decisions,
    lag_p99_seconds}.
    """
    fixed = now is not None
    now = now or timezone.now()

    def clock():
        return now if fixed else timezone.now()

    kinds = registered_expiring()
    totals = {
        **{kind.counter: 0 for kind in kinds},
        "blobs_failed": 0,
        "decisions": 0,
        "skipped": Counter(),
        "lags": [],
    }

    def deleted() -> int:
        return sum(totals[kind.counter] for kind in kinds)

    def room() -> int:
        if limit is None:
            return batch_size
        return max(0, min(batch_size, limit - deleted()))

    for kind in kinds:
        for table in kind.tables():
            for ids in _expired_batches(table, now=now, size=room):
                _sweep_batch(kind, ids, now=now, clock=clock, totals=totals)

    result = {
        "deleted": deleted(),
        **{kind.counter: totals[kind.counter] for kind in kinds},
        "skipped": dict(sorted(totals["skipped"].items())),
        "blobs_failed": totals["blobs_failed"],
        "decisions": totals["decisions"],
        "lag_p99_seconds": _percentile(totals["lags"], 0.99),
    }
    if result["deleted"] or totals["blobs_failed"]:
        audit_record(
            action="retention.sweep",
            target_type="retention",
            detail={
                **{kind.counter: result[kind.counter] for kind in kinds},
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
