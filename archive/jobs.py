"""Background imports that outlive their worker: a heartbeat while one runs, and recovery after.

A worker can stop in the middle of a job (killed, out of memory, its container replaced). Each
file imports in one transaction, so nothing half-written remains, but the job would say
"Importing" for ever. While a job runs, a thread in the worker stamps `ImportJob.heartbeat_at`
every few seconds; a running job whose stamp is older than `IMPORT_STALE_SECONDS` has lost its
worker and is marked failed (checked whenever its owner looks at their imports). A failed job
keeps the bytes of the files it did not get to, so it can be retried: the files already imported
stay as they are and the rest import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from archive.models import ImportFile, ImportJob

logger = logging.getLogger(__name__)


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.COMMONPLACE_IMPORT_STALE_SECONDS)


def beat(job_id: int) -> None:
    """Say the worker running this job is alive."""
    ImportJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now())


class _Heartbeat(threading.Thread):
    def __init__(self, job_id: int, interval: float) -> None:
        super().__init__(name=f"import-{job_id}-heartbeat", daemon=True)
        self.job_id = job_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    beat(self.job_id)
                except DatabaseError:  # the database is away for a moment; the next beat may reach it
                    logger.warning("import %s: could not record the worker's heartbeat", self.job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections


@contextlib.contextmanager
def heartbeat(job_id: int) -> Iterator[None]:
    """Stamp the job as alive now and every quarter of the stale period until the block ends."""
    beat(job_id)
    thread = _Heartbeat(job_id, settings.COMMONPLACE_IMPORT_STALE_SECONDS / 4)
    thread.start()
    try:
        yield
    finally:
        thread.stopped.set()
        thread.join()


def _stale(jobs: QuerySet[ImportJob]) -> QuerySet[ImportJob]:
    cutoff = timezone.now() - stale_after()
    return (
        jobs.filter(status=ImportJob.Status.RUNNING)
        .alias(alive=Coalesce("heartbeat_at", "created_at"))
        .filter(alive__lt=cutoff)
    )


def fail_stale(jobs: QuerySet[ImportJob]) -> int:
    """Mark the running jobs among `jobs` whose worker stopped as failed; return how many."""
    count = 0
    for job_id in _stale(jobs).values_list("pk", flat=True):
        with transaction.atomic():
            job = _stale(ImportJob.objects.filter(pk=job_id)).select_for_update(skip_locked=True).first()
            if job is None:  # it came back to life, or someone else is marking it
                continue
            _fail(job)
            count += 1
    return count


def _fail(job: ImportJob) -> None:
    files = job.files.order_by("position", "pk")
    pending = files.filter(status=ImportFile.Status.PENDING).only("name", "position").first()
    job.finished_at = timezone.now()
    job.done = _done(job)
    if pending is not None:
        job.status = ImportJob.Status.FAILED
        job.message = (
            f"the worker stopped while importing {pending.name} (file {pending.position + 1} of {job.total}), "
            f"after {job.done} file{'s' * (job.done != 1)} had imported; retry to import it and the rest "
            "(nothing is imported twice)"
        )
    elif files.exists():  # it stopped after the last file, before saying it was done
        job.status = ImportJob.Status.DONE
    else:  # an import run in a request whose server stopped: no bytes were kept to retry with
        job.status = ImportJob.Status.FAILED
        job.message = (
            "the server stopped while importing these files, before it could record them; "
            "upload them again (whatever of them did import stays as it is)"
        )
    job.save(update_fields=["status", "message", "finished_at", "done"])
    # The worker's record of the task says "running" for ever too: close it.
    DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path="archive.tasks.import_job", args_kwargs__args__0=job.pk
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=job.finished_at,
        exception_class_path="archive.jobs.WorkerStopped",
        traceback="The worker stopped while running this task (its import job's heartbeat went stale).",
    )
    logger.warning("import %s: its worker stopped; marked %s", job.pk, job.status)


def _done(job: ImportJob) -> int:
    """Uploads finished (a zip's members share their zip's position)."""
    return (
        job.files.exclude(status=ImportFile.Status.PENDING)
        .exclude(Q(position__in=job.files.filter(status=ImportFile.Status.PENDING).values("position")))
        .values("position")
        .distinct()
        .count()
    )


def can_retry(job: ImportJob) -> bool:
    return job.status == ImportJob.Status.FAILED and job.files.filter(status=ImportFile.Status.PENDING).exists()


def retry(job_id: int) -> bool:
    """Queue a failed job again for the files it did not import; False if there is nothing to retry."""
    from archive.tasks import import_job  # the task module imports this one

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not can_retry(job):
            return False
        job.status = ImportJob.Status.PENDING
        job.message = ""
        job.finished_at = None
        job.heartbeat_at = None
        job.done = _done(job)
        job.save(update_fields=["status", "message", "finished_at", "heartbeat_at", "done"])
        transaction.on_commit(lambda: import_job.enqueue(job_id))
    return True
