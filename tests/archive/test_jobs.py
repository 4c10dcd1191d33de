"""Import jobs whose worker stopped: found by their stale heartbeat, marked failed, retried."""

from __future__ import annotations

import datetime as dt
import time

from django.test import TestCase, TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from archive import jobs
from archive.models import ImportFile, ImportJob, Source
from tests.factories import make_user
from tests.faults.support import kindle_clippings


def running_job(user, age: float, heartbeat: float | None, files: int = 3, imported: int = 1) -> ImportJob:  # type: ignore[no-untyped-def]
    """A running job whose worker last beat `heartbeat` seconds ago (created `age` seconds ago)."""
    now = timezone.now()
    job = ImportJob.objects.create(user=user, status=ImportJob.Status.RUNNING, total=files, done=imported)
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=now - dt.timedelta(seconds=age),
        heartbeat_at=None if heartbeat is None else now - dt.timedelta(seconds=heartbeat),
    )
    for position in range(files):
        done = position < imported
        ImportFile.objects.create(
            job=job,
            position=position,
            name=f"book-{position}.txt",
            status=ImportFile.Status.CREATED if done else ImportFile.Status.PENDING,
            data=None if done else kindle_clippings(f"Book {position}", "Writer", 3),
        )
    job.refresh_from_db()
    return job


@override_settings(COMMONPLACE_IMPORT_STALE_SECONDS=60)
class StaleJobTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_leaves_jobs_with_a_live_worker_alone(self) -> None:
        fresh = running_job(self.user, age=600, heartbeat=5)
        young = running_job(self.user, age=5, heartbeat=None)
        waiting = ImportJob.objects.create(user=self.user, total=1)
        ImportJob.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
        assert jobs.fail_stale(ImportJob.objects.all()) == 0
        assert set(ImportJob.objects.values_list("status", flat=True)) == {"running", "pending"}
        assert self.client.get(fresh.get_absolute_url()).status_code == 200
        assert ImportJob.objects.get(pk=young.pk).status == "running"

    def test_it_marks_a_job_whose_worker_stopped_as_failed_and_says_where(self) -> None:
        job = running_job(self.user, age=600, heartbeat=120, files=3, imported=1)
        page = self.client.get(job.get_absolute_url())
        job.refresh_from_db()
        assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
        assert job.message == (
            "the worker stopped while importing book-1.txt (file 2 of 3), after 1 file had imported; "
            "retry to import it and the rest (nothing is imported twice)"
        )
        assert "Retry" in page.text and reverse("archive:import_retry", args=[job.pk]) in page.text
        htmx = self.client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
        assert htmx.status_code == 286 and "Retry" in htmx.text

    def test_it_checks_on_the_import_pages_too(self) -> None:
        first = running_job(self.user, age=600, heartbeat=None)
        self.client.get(reverse("archive:import"))
        second = running_job(self.user, age=600, heartbeat=300)
        self.client.get(reverse("archive:import_history"))
        assert {ImportJob.objects.get(pk=pk).status for pk in (first.pk, second.pk)} == {"failed"}

    def test_it_finishes_a_job_that_stopped_after_its_last_file(self) -> None:
        job = running_job(self.user, age=600, heartbeat=120, files=2, imported=2)
        jobs.fail_stale(ImportJob.objects.filter(pk=job.pk))
        job.refresh_from_db()
        assert (job.status, job.done, jobs.can_retry(job)) == ("done", 2, False)

    def test_it_asks_for_the_files_again_when_none_were_kept(self) -> None:
        job = ImportJob.objects.create(user=self.user, status=ImportJob.Status.RUNNING, total=2)
        ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
        jobs.fail_stale(ImportJob.objects.filter(pk=job.pk))
        job.refresh_from_db()
        assert job.status == "failed" and "upload them again" in job.message
        assert not jobs.can_retry(job)

    def test_it_retries_only_the_files_not_imported(self) -> None:
        job = running_job(self.user, age=600, heartbeat=120, files=3, imported=1)
        jobs.fail_stale(ImportJob.objects.filter(pk=job.pk))
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("archive:import_retry", args=[job.pk]), headers={"HX-Request": "true"})
        assert response.status_code == 200 and response["HX-Redirect"] == job.get_absolute_url()
        job.refresh_from_db()
        assert (job.status, job.done, job.message) == ("done", 3, "")
        assert list(job.files.values_list("status", flat=True)) == ["created", "created", "created"]
        assert Source.objects.filter(user=self.user).count() == 2  # the first file's row was made up
        response = self.client.post(reverse("archive:import_retry", args=[job.pk]))
        assert response.status_code == 302
        assert "nothing left to retry" in self.client.get(job.get_absolute_url()).text

    def test_it_does_not_retry_a_running_or_finished_job(self) -> None:
        job = running_job(self.user, age=10, heartbeat=1)
        assert jobs.retry(job.pk) is False
        job.status = ImportJob.Status.DONE
        job.save()
        assert jobs.retry(job.pk) is False
        assert self.client.get(reverse("archive:import_retry", args=[job.pk])).status_code == 405


@override_settings(COMMONPLACE_IMPORT_STALE_SECONDS=1)
class HeartbeatTests(TransactionTestCase):
    def test_it_beats_while_the_block_runs(self) -> None:
        job = ImportJob.objects.create(user=make_user(), status=ImportJob.Status.RUNNING)
        with jobs.heartbeat(job.pk):
            first = ImportJob.objects.get(pk=job.pk).heartbeat_at
            assert first is not None
            time.sleep(1.2)  # four beats a second
            assert ImportJob.objects.get(pk=job.pk).heartbeat_at > first
        last = ImportJob.objects.get(pk=job.pk).heartbeat_at
        time.sleep(0.6)
        assert ImportJob.objects.get(pk=job.pk).heartbeat_at == last  # and stops with it
