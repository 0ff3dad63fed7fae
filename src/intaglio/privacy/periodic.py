"""The privacy app's periodic work: retention, closure and purge deadlines, data-request alerts, the storage scan."""

import logging
from datetime import timedelta

from intaglio.assets.scan import storage_scan
from intaglio.core.scheduler import periodic
from intaglio.ops.logging import request_logs_prune
from intaglio.privacy import rights
from intaglio.privacy.retention import retention_lag_report, retention_sweep

log = logging.getLogger("intaglio.privacy")


# Hourly, so an item is gone within about an hour of its expiry (E5: sweep lag p99 ≤ 24 h).
@periodic("privacy.retention_sweep", every=timedelta(hours=1))
def sweep():
    outcome = retention_sweep()
    lag = retention_lag_report(days=7)
    if not lag["within_target"]:
        log.warning("retention.lag_over_target", extra={"p99_seconds": lag["p99_seconds"]})
    return outcome


# Hourly: closure promises content deletion within RETENTION_CLOSED_CONTENT_HOURS (24 h).
@periodic("privacy.closures", every=timedelta(hours=1))
def closures():
    return rights.closures_process()


@periodic("privacy.purge_accounts", every=timedelta(days=1))
def purge_accounts():
    return rights.accounts_purge_due()


@periodic("privacy.prune_ledger", every=timedelta(days=1))
def prune_ledger():
    return {"deleted": rights.ledger_prune()}


@periodic("privacy.data_request_alerts", every=timedelta(days=1))
def data_request_alerts():
    return {"alerted": rights.data_requests_alert_due()}


@periodic("privacy.prune_data_requests", every=timedelta(days=1))
def prune_data_requests():
    return {"deleted": rights.data_requests_prune()}


@periodic("privacy.prune_request_logs", every=timedelta(days=1))
def prune_request_logs():
    return {"deleted": len(request_logs_prune())}


@periodic("privacy.prune_access_codes", every=timedelta(hours=1))
def prune_access_codes():
    return {"deleted": rights.access_codes_prune()}


# Orphans both ways (blobs without a row, rows without a blob) are reported, never deleted unattended here:
# `intaglio storage-scan --delete-orphans` is the deliberate clean-up.
@periodic("privacy.storage_scan", every=timedelta(days=1))
def scan_storage():
    report = storage_scan()
    outcome = {
        "blobs": report.blobs,
        "assets": report.assets,
        "orphan_blobs": len(report.orphan_blobs),
        "missing_blobs": len(report.missing_blobs),
    }
    if not report.clean:
        log.warning("storage.scan_found_orphans", extra=outcome)
    return outcome
