"""Every case of the hostile corpus, uploaded through the import page.

For each: a response that is not a server error, a specific message or a correct import, no
source left without highlights, and the rest of the archive unchanged (a full JSON export of it
compared before and after). Imported text must come out escaped on the pages that show it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.test import TestCase, override_settings
from django.urls import reverse

from archive import exporting, importing
from archive.models import ImportFile, ImportJob, Source
from tests.factories import make_user
from tests.hostile.corpus import corpus

STATUSES = {choice.value for choice in ImportFile.Status} - {"pending"}


def snapshot(user, ids) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(exporting.json_export(exporting.sources_for_export(user).filter(pk__in=ids)), sort_keys=True)


@override_settings(MAX_UPLOAD_MB=200, COMMONPLACE_MAX_ZIP_FILES=20000)
class HostileCorpusTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        # Files the corpus is not made from, so no case is a legitimate re-sync of them.
        fixtures = Path(__file__).parent.parent / "fixtures"
        baseline = ["kindle/ja.txt", "kindle/fr.txt", "readwise-markdown/default-kindle-book.md",
                    "readwise-csv/ten-columns.csv", "omnivore/logseq-page.md", "readwise-markdown/frontmatter-id-headings.md"]  # fmt: skip
        importing.import_paths(cls.user, [(name, (fixtures / name).read_bytes()) for name in baseline])
        cls.baseline = list(Source.objects.filter(user=cls.user).values_list("pk", flat=True))
        assert len(cls.baseline) >= 5

    def setUp(self) -> None:
        self.client.force_login(self.user)
        self.before = snapshot(self.user, self.baseline)

    def test_it_survives_every_case_of_the_corpus(self) -> None:
        cases = corpus()
        assert len(cases) >= 200
        tallies: dict[str, int] = {}
        for case_id, name, data in cases:
            with self.subTest(case=case_id), transaction.atomic():
                tallies.update(self.check_case(case_id, name, data))
                transaction.set_rollback(True)  # the next case starts from the same archive
        assert set(tallies) == {case_id for case_id, _, _ in cases}

    def check_case(self, case_id: str, name: str, data: bytes) -> dict[str, int]:
        sources_before = Source.objects.filter(user=self.user).count()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("archive:import"), {"files": [SimpleUploadedFile(name, data)]})
        assert response.status_code in {200, 302}, (case_id, response.status_code)
        job = ImportJob.objects.filter(user=self.user).latest("pk")
        files = list(job.files.all())
        assert files, case_id
        for row in files:
            assert row.status in STATUSES, (case_id, row.name, row.status)
            if row.status == ImportFile.Status.ERROR:
                assert row.message and "unexpected error" not in row.message, (case_id, row.message)
        created = sum(row.sources_created for row in files)
        assert Source.objects.filter(user=self.user).count() == sources_before + created, case_id
        empty = Source.objects.filter(user=self.user).annotate(n=Count("highlights")).filter(n=0)
        assert not empty.exists(), (case_id, "a source without highlights")
        assert snapshot(self.user, self.baseline) == self.before, (case_id, "the rest of the archive changed")
        for source in Source.objects.filter(user=self.user).exclude(pk__in=self.baseline)[:3]:
            self.assert_escaped(case_id, self.client.get(source.get_absolute_url()).text)
        self.assert_escaped(case_id, self.client.get(job.get_absolute_url()).text)
        return {case_id: len(files)}

    def assert_escaped(self, case_id: str, html: str) -> None:
        # Real tags only: escaped text such as `&lt;a href='javascript:` is harmless.
        assert "<script>alert" not in html, case_id
        assert not re.search(r"<img\b[^>]*onerror", html, re.IGNORECASE), case_id
        assert not re.search(r"""<a\b[^>]*href=["']?\s*javascript:""", html, re.IGNORECASE), case_id
        assert "<iframe" not in html, case_id
