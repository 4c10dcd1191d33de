from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse

from archive.models import ImportFile, ImportJob, Source
from tests.factories import make_user

OWN_SEED = (Path(__file__).parent.parent / "fixtures" / "import" / "seed-layout.md").read_bytes()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class ImportPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("reader")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_shows_the_upload_form(self) -> None:
        response = self.client.get(reverse("archive:import"))
        assert response.status_code == 200
        assert 'type="file" name="files" multiple' in response.text
        assert "webkitdirectory" in response.text
        assert "data-dropzone" in response.text

    def test_it_asks_for_a_file_when_none_is_given(self) -> None:
        response = self.client.post(reverse("archive:import"), {})
        assert response.status_code == 200
        assert "Choose at least one file" in response.text

    def test_it_reports_each_file_of_a_mixed_upload(self) -> None:
        files = [
            SimpleUploadedFile("notes.md", OWN_SEED),
            SimpleUploadedFile("junk.bin", b"\x00\x01\x02binary\x00junk" * 10),
            SimpleUploadedFile("vault.zip", zipped({"Articles/again.md": OWN_SEED, "README.txt": b"just words"})),
        ]
        response = self.client.post(reverse("archive:import"), {"files": files}, follow=True)
        job = ImportJob.objects.get()
        assert response.redirect_chain[-1][0] == job.get_absolute_url()
        outcomes = {f.name: f for f in job.files.all()}
        assert outcomes["notes.md"].status == ImportFile.Status.CREATED
        assert outcomes["junk.bin"].status == ImportFile.Status.ERROR
        assert "binary" in outcomes["junk.bin"].message
        assert outcomes["vault.zip/Articles/again.md"].status == ImportFile.Status.UNCHANGED
        assert outcomes["vault.zip/README.txt"].status == ImportFile.Status.ERROR
        assert Source.objects.count() == 1
        assert "junk.bin" in response.text
        assert "vault.zip/Articles/again.md" in response.text

    @override_settings(COMMONPLACE_BACKGROUND_IMPORT_KB=0)
    def test_it_runs_large_uploads_as_a_background_job(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("archive:import"), {"files": [SimpleUploadedFile("notes.md", OWN_SEED)]}
            )
        job = ImportJob.objects.get()
        assert response["Location"] == job.get_absolute_url()
        # The test settings run tasks immediately, so the job is finished by now.
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE
        assert job.done == job.total == 1
        upload = job.files.get()
        assert upload.data is None
        assert upload.highlights_created == 2

    def test_it_serves_the_job_page_in_full_and_as_a_fragment(self) -> None:
        job = ImportJob.objects.create(user=self.user, total=3, done=1, status=ImportJob.Status.RUNNING)
        full = self.client.get(job.get_absolute_url())
        assert full.status_code == 200
        assert "<html" in full.text
        assert 'hx-trigger="every 1s"' in full.text
        fragment = self.client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        assert "<html" not in fragment.text
        assert '<progress max="3" value="1"' in fragment.text
        job.status, job.done = ImportJob.Status.DONE, 3
        job.save()
        finished = self.client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
        assert finished.status_code == 286  # htmx stops polling
        assert "every 1s" not in finished.text

    def test_it_hides_another_users_job(self) -> None:
        job = ImportJob.objects.create(user=make_user("stranger"))
        assert self.client.get(job.get_absolute_url()).status_code == 404


class ImportHistoryTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("reader")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_lists_past_imports_with_links(self) -> None:
        self.client.post(reverse("archive:import"), {"files": [SimpleUploadedFile("one.md", OWN_SEED)]})
        self.client.post(reverse("archive:import"), {"files": [SimpleUploadedFile("one.md", OWN_SEED)]})
        ImportJob.objects.create(user=make_user("stranger"))
        response = self.client.get(reverse("archive:import_history"))
        assert response.status_code == 200
        jobs = ImportJob.objects.filter(user=self.user)
        assert len(jobs) == 2
        for job in jobs:
            assert job.get_absolute_url() in response.text
        assert response.text.count("<tr>") == 3  # header and two jobs: not the stranger's

    def test_it_shows_an_empty_history(self) -> None:
        response = self.client.get(reverse("archive:import_history"))
        assert "No imports yet" in response.text

    def test_it_links_each_file_to_its_sources(self) -> None:
        self.client.post(
            reverse("archive:import"),
            {"files": [SimpleUploadedFile("one.md", OWN_SEED), SimpleUploadedFile("two.txt", b"nothing to see")]},
        )
        job = ImportJob.objects.get()
        source = Source.objects.get()
        response = self.client.get(job.get_absolute_url())
        assert f'href="{source.get_absolute_url()}"' in response.text
        assert "not a format Commonplace reads" in response.text
