"""Background work: large imports run in the `db_worker` process, not in the request."""

from __future__ import annotations

from django.tasks import task

from archive import jobs
from archive.importing import run_job
from archive.models import ImportJob


@task()
def import_job(job_id: int) -> None:
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    try:
        # A heartbeat while it runs: if this process dies, the job is seen to have stopped
        # (archive.jobs) rather than "importing" for ever.
        with jobs.heartbeat(job_id):
            run_job(job)
    except Exception as error:
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, message=str(error)[:2000])
        raise
