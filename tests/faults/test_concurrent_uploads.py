"""The same file uploaded twice at the same moment (two requests to /import/ racing each other).

Both requests import it at once, each in its own transaction; the database's unique constraints
make one of them wait and then find everything there. Afterwards the archive holds each source,
author, tag and highlight exactly once, and both uploads report a clean outcome.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.db.models import Count
from django.test import Client, TransactionTestCase, override_settings
from django.urls import reverse

from archive.models import Author, ImportFile, ImportJob, Source
from highlights.models import Highlight, Tag
from tests.factories import make_user
from tests.faults.support import kindle_clippings, readwise_csv

FIXTURES = Path(__file__).parent.parent / "fixtures"
FILES = {
    "clippings.txt": kindle_clippings("Racing Book", "Ada Racer", 150),
    "export.csv": readwise_csv(books=15, per_book=12),
    "seed.md": (FIXTURES / "import" / "seed-layout.md").read_bytes(),
    "vault.csv": (FIXTURES / "readwise-csv" / "eleven-columns.csv").read_bytes(),
}


class ConcurrentUploadTests(TransactionTestCase):
    def race(self, user, name: str, data: bytes) -> list[int]:  # type: ignore[no-untyped-def]
        """Post `data` from two clients released at the same instant; their status codes."""
        barrier = threading.Barrier(2)
        statuses: list[int] = []
        spans: list[tuple[float, float]] = []
        errors: list[BaseException] = []

        def upload() -> None:
            try:
                client = Client()
                client.force_login(user)
                barrier.wait(timeout=30)
                started = time.monotonic()
                response = client.post(reverse("archive:import"), {"files": [SimpleUploadedFile(name, data)]})
                spans.append((started, time.monotonic()))
                statuses.append(response.status_code)
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=upload) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not errors, errors
        (start_a, end_a), (start_b, end_b) = spans
        self.overlapped += start_a < end_b and start_b < end_a
        return statuses

    def expected(self, name: str, data: bytes) -> dict[str, int]:
        """What one upload of the file makes, in an archive of its own."""
        user = make_user()
        self.client.force_login(user)
        self.client.post(reverse("archive:import"), {"files": [SimpleUploadedFile(name, data)]})
        return counts(user)

    def test_it_imports_a_file_once_when_it_is_uploaded_twice_at_once(self) -> None:
        self.overlapped = 0
        for background in (False, True):
            with override_settings(COMMONPLACE_BACKGROUND_IMPORT_KB=1 if background else 100_000):
                for name, data in FILES.items():
                    with self.subTest(name=name, background=background):
                        expected = self.expected(name, data)
                        assert expected["highlights"] > 0
                        user = make_user()
                        assert self.race(user, name, data) == [302, 302]
                        assert counts(user) == expected
                        files = ImportFile.objects.filter(job__user=user)
                        assert files.count() == 2
                        assert not files.exclude(status__in=["created", "updated", "unchanged"]).exists(), list(
                            files.values_list("status", "message")
                        )
                        assert set(ImportJob.objects.filter(user=user).values_list("status", flat=True)) == {"done"}
        assert self.overlapped >= 4, f"only {self.overlapped} of the 8 races ran at the same time"
        print(f"\nconcurrent uploads: {self.overlapped} of 8 races overlapped")


def counts(user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    duplicated = Highlight.objects.filter(user=user).values("source", "text").annotate(n=Count("pk")).filter(n__gt=1)
    assert not duplicated.exists(), list(duplicated)
    return {
        "sources": Source.objects.filter(user=user).count(),
        "highlights": Highlight.objects.filter(user=user).count(),
        "authors": Author.objects.filter(user=user).count(),
        "tags": Tag.objects.filter(user=user).count(),
    }
