"""A worker killed (SIGKILL) in the middle of an import job, then the job found and retried.

A real `manage.py db_worker` runs a job of many files and is killed after a few. The job must
then say it stopped and which file it was on, hold nothing half-written, and import the rest
on Retry while the files already imported stay exactly as they were.
"""

from __future__ import annotations

import json
import signal
import tempfile
from collections import Counter
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Sum
from django.tasks import TaskResultStatus
from django.test import TransactionTestCase, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from archive import exporting
from archive.models import ImportFile, ImportJob, Source
from highlights.models import Highlight
from tests.factories import make_user
from tests.faults.support import kindle_clippings, start_worker, stop, wait_for

FILES = 300
PER_FILE = 15
STALE_SECONDS = 2


def snapshot(user, ids) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(exporting.json_export(exporting.sources_for_export(user).filter(pk__in=ids)), sort_keys=True)


@override_settings(COMMONPLACE_IMPORT_STALE_SECONDS=STALE_SECONDS, COMMONPLACE_BACKGROUND_IMPORT_KB=1)
class WorkerKilledTests(TransactionTestCase):
    def test_it_marks_the_job_failed_and_retries_the_rest(self) -> None:
        user = make_user()
        self.client.force_login(user)
        uploads = [
            SimpleUploadedFile(f"book-{n:03}.txt", kindle_clippings(f"Book {n:03}", f"Writer {n}", PER_FILE))
            for n in range(FILES)
        ]
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
            response = self.client.post(reverse("archive:import"), {"files": uploads})
        job = ImportJob.objects.get(user=user)
        assert response.status_code == 302 and response["Location"] == job.get_absolute_url()

        log = Path(tempfile.mkdtemp()) / "worker.log"
        worker = start_worker(log, IMPORT_STALE_SECONDS=str(STALE_SECONDS))
        try:
            wait_for(
                lambda: ImportJob.objects.filter(pk=job.pk, done__gte=3).exists(),
                120,
                "the worker to import a few files",
                {"worker": log},
            )
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            stop(worker)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING, job.status
        assert job.heartbeat_at is not None

        # The owner looks at the job: once the heartbeat is stale, it says what happened.
        def failed() -> bool:
            self.client.get(job.get_absolute_url())
            job.refresh_from_db()
            return job.status == ImportJob.Status.FAILED

        wait_for(failed, 30, "the job to be seen as stopped")
        task = DBTaskResult.objects.get()
        assert task.status == TaskResultStatus.FAILED and "worker stopped" in task.traceback
        page = self.client.get(job.get_absolute_url())
        assert "the worker stopped while importing book-" in page.text
        assert "Retry" in page.text and reverse("archive:import_retry", args=[job.pk]) in page.text

        # Nothing half-written: every file is either wholly in, or waiting with its bytes.
        imported = ImportFile.objects.filter(job=job).exclude(status=ImportFile.Status.PENDING)
        waiting = ImportFile.objects.filter(job=job, status=ImportFile.Status.PENDING)
        assert imported.count() >= 3 and waiting.count() > 0, (imported.count(), waiting.count())
        assert imported.count() + waiting.count() == FILES
        assert set(imported.values_list("status", flat=True)) == {ImportFile.Status.CREATED}
        assert not waiting.filter(data__isnull=True).exists()
        assert job.done == imported.count()
        assert f"file {imported.count() + 1} of {FILES}" in job.message
        # The file in hand when the worker died may have committed its highlights (whole) just
        # before its outcome was recorded; its retry then finds them all there.
        recorded = imported.aggregate(n=Sum("sources_created"))["n"]
        assert recorded <= Source.objects.filter(user=user).count() <= recorded + 1
        counts = set(Source.objects.filter(user=user).annotate(n=Count("highlights")).values_list("n", flat=True))
        assert counts == {PER_FILE}
        before_ids = list(Source.objects.filter(user=user).values_list("pk", flat=True))
        before = snapshot(user, before_ids)

        # Retry (the test's tasks run inline): the rest import, the rest stays as it was.
        response = self.client.post(reverse("archive:import_retry", args=[job.pk]))
        assert response.status_code == 302
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.message
        assert job.done == job.total == FILES
        assert not ImportFile.objects.filter(job=job, status=ImportFile.Status.PENDING).exists()
        assert ImportFile.objects.filter(job=job).count() == FILES
        outcomes = Counter(ImportFile.objects.filter(job=job).values_list("status", flat=True))
        assert outcomes[ImportFile.Status.CREATED] >= FILES - 1 and set(outcomes) <= {"created", "unchanged"}
        assert Source.objects.filter(user=user).count() == FILES
        assert Highlight.objects.filter(user=user).count() == FILES * PER_FILE
        assert snapshot(user, before_ids) == before
        assert reverse("archive:import_retry", args=[job.pk]) not in self.client.get(job.get_absolute_url()).text
        # Nothing more to retry.
        self.client.post(reverse("archive:import_retry", args=[job.pk]))
        assert Highlight.objects.filter(user=user).count() == FILES * PER_FILE
