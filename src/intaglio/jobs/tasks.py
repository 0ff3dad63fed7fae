"""Queue entry points. A task loads ids and calls a service; the Job row is what the user sees."""

from django_tasks import task

from intaglio.jobs.runner import job_run


@task()
def run_job(job_id: int) -> str:
    return job_run(job_id=job_id)
