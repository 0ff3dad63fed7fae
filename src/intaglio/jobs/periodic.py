"""The jobs app's periodic work."""

from datetime import timedelta

from django.conf import settings

from intaglio.core.scheduler import periodic
from intaglio.jobs.services import jobs_prune_history, jobs_reap


@periodic("jobs.reap_leases", every=timedelta(seconds=max(1, settings.JOB_LEASE_SECONDS // 3)))
def reap_leases():
    return jobs_reap()


@periodic("jobs.prune_history", every=timedelta(days=1))
def prune_history():
    return jobs_prune_history()
