"""Browsing under load while a large import runs in a real worker.

A live server on loopback, a real `manage.py db_worker` importing a Readwise CSV of thousands of
highlights, and a few threads requesting the library, source pages and searches the whole time
(a few seconds, bounded). Every response is a 200, and the import's result is exact.
"""

from __future__ import annotations

import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import LiveServerTestCase, override_settings
from django.urls import reverse

from archive.models import ImportFile, ImportJob, Source
from highlights.models import Highlight
from tests.factories import make_highlight, make_source, make_user
from tests.faults.support import readwise_csv, start_worker, stop, wait_for

BOOKS, PER_BOOK = 80, 50  # 4,000 highlights
THREADS = 3
MIN_SECONDS, MAX_SECONDS = 3, 90


@pytest.mark.load
class LoadWhileImportingTests(LiveServerTestCase):
    def test_it_serves_every_request_while_a_large_import_runs(self) -> None:
        user = make_user()
        pages = ["/", "/?sort=title", "/search/?q=sentence", "/search/?q=volume+note", "/authors/", "/tags/"]
        for number in range(5):
            source = make_source(user, title=f"Browsing {number}")
            for line in range(20):
                make_highlight(source, text=f"A browsing sentence {line} of book {number}.")
            pages.append(source.get_absolute_url())
        self.client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={self.client.cookies[settings.SESSION_COOKIE_NAME].value}"

        data = readwise_csv(BOOKS, PER_BOOK)
        with override_settings(
            TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, COMMONPLACE_BACKGROUND_IMPORT_KB=1
        ):
            response = self.client.post(reverse("archive:import"), {"files": [SimpleUploadedFile("big.csv", data)]})
        job = ImportJob.objects.get(user=user)
        assert response["Location"] == job.get_absolute_url()

        statuses: Counter[int | str] = Counter()
        latencies: list[float] = []
        stopping = threading.Event()

        def browse(offset: int) -> None:
            number = offset
            while not stopping.is_set():
                url = self.live_server_url + pages[number % len(pages)]
                number += 1
                started = time.monotonic()
                try:
                    request = urllib.request.Request(url, headers={"Cookie": cookie})
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        answer.read()
                        statuses[answer.status] += 1
                except urllib.error.HTTPError as error:
                    statuses[error.code] += 1
                except OSError as error:
                    statuses[type(error).__name__] += 1
                latencies.append(time.monotonic() - started)

        log = Path(tempfile.mkdtemp()) / "worker.log"
        worker = start_worker(log)
        threads = [threading.Thread(target=browse, args=(n,)) for n in range(THREADS)]
        started = time.monotonic()
        try:
            for thread in threads:
                thread.start()
            wait_for(
                lambda: ImportJob.objects.get(pk=job.pk).finished and time.monotonic() - started >= MIN_SECONDS,
                MAX_SECONDS,
                "the import to finish",
                {"worker": log},
            )
        finally:
            stopping.set()
            for thread in threads:
                thread.join(timeout=120)
            stop(worker)
        elapsed = time.monotonic() - started
        requests = sum(statuses.values())
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95)] if latencies else 0
        print(
            f"\nload while importing: {requests} requests in {elapsed:.1f} s ({requests / elapsed:.1f}/s), "
            f"p95 {p95 * 1000:.0f} ms, errors {requests - statuses[200]}, statuses {dict(statuses)}; "
            f"imported {BOOKS * PER_BOOK} highlights"
        )
        assert requests > 0 and set(statuses) == {200}, dict(statuses)

        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.message
        row = ImportFile.objects.get(job=job)
        assert (row.status, row.sources_created, row.highlights_created) == ("created", BOOKS, BOOKS * PER_BOOK)
        assert Source.objects.filter(user=user).count() == 5 + BOOKS
        assert Highlight.objects.filter(user=user).count() == 5 * 20 + BOOKS * PER_BOOK
        for number in (0, BOOKS - 1):
            assert Source.objects.get(user=user, title=f"Volume {number}").highlights.count() == PER_BOOK
