"""The seed file's whole journey through the web app: upload, read, download, upload again."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from archive.models import ImportJob, Source
from highlights.models import Highlight
from tests.factories import make_user
from tests.samples import sample

SEED = "readwise-markdown/000_69463c4c4be0e69e.txt"
OWN_SEED = Path(__file__).parent.parent / "fixtures" / "import" / "seed-layout.md"


class SeedJourneyTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("reader")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def upload(self, name: str, data: bytes):  # type: ignore[no-untyped-def]
        return self.client.post(reverse("archive:import"), {"files": [SimpleUploadedFile(name, data)]}, follow=True)

    def test_it_shows_the_seed_on_its_source_page(self) -> None:
        response = self.upload("000_69463c4c4be0e69e.txt", sample(SEED))
        source = Source.objects.get(user=self.user)
        assert response.redirect_chain[-1][0] == source.get_absolute_url()
        page = response.text
        assert "Model Alignment Protects Against Accidental Harms, Not Intentional Ones" in page
        assert source.title == "34840312"
        assert "Arvind Narayanan" in page
        assert 'href="https://www.aisnakeoil.com/p/model-alignment-protects-against"' in page
        assert "2023-12-10, 11:22 AM" in page
        assert "reader" in page
        texts = [h.text for h in Highlight.objects.filter(source=source).order_by("position")]
        assert len(texts) == 3
        assert texts[0].startswith("Model alignment, especially RLHF, is hard to get right")
        assert texts[2].startswith("RLHF and other model alignment techniques")
        assert (
            page.index("Model alignment, especially RLHF")
            < page.index("This means that we must prepare")
            < page.index("RLHF and other model")
        )
        # Markdown links inside a highlight are links; each highlight links to its View Highlight URL.
        assert '<a href="https://www.nytimes.com/2023/02/16/technology/bing-chatbot-microsoft-chatgpt.html"' in page
        for url in [
            "https://read.readwise.io/read/01hgkpv7wd455652c0he4mvmgk",
            "https://read.readwise.io/read/01hgkpvxdzw0mq09fjfbacj0h7",
            "https://read.readwise.io/read/01hgkq63b4vg9f3htv6868agct",
        ]:
            assert f'href="{url}"' in page

    def test_it_downloads_the_seed_byte_for_byte(self) -> None:
        original = sample(SEED)
        self.upload("seed.txt", original)
        source = Source.objects.get(user=self.user)
        response = self.client.get(reverse("archive:source_markdown", args=[source.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        assert response.content == original

    def test_it_adds_nothing_when_the_seed_comes_again_and_says_so(self) -> None:
        self.upload("seed.txt", sample(SEED))
        response = self.upload("seed.txt", sample(SEED))
        assert Source.objects.count() == 1
        assert Highlight.objects.count() == 3
        assert "Already in your archive" in response.text
        assert "all 3 highlights of seed.txt were here before" in response.text
        assert ImportJob.objects.count() == 2

    def test_it_carries_our_own_fixture_in_the_seed_layout_the_same_way(self) -> None:
        original = OWN_SEED.read_bytes()
        response = self.upload("seed-layout.md", original)
        source = Source.objects.get(user=self.user)
        assert source.title == "48151623"
        assert source.name == "On Keeping Notes, and Why They Matter"
        assert '<a href="https://example.org/conversation"' in response.text
        assert "<em>return to</em>" in response.text
        download = self.client.get(reverse("archive:source_markdown", args=[source.pk]))
        assert download.content == original
        again = self.upload("seed-layout.md", original)
        assert Highlight.objects.count() == 2
        assert "Already in your archive" in again.text

    def test_it_hides_another_users_source(self) -> None:
        self.upload("seed-layout.md", OWN_SEED.read_bytes())
        source = Source.objects.get()
        self.client.force_login(make_user("stranger"))
        assert self.client.get(source.get_absolute_url()).status_code == 404
        assert self.client.get(reverse("archive:source_markdown", args=[source.pk])).status_code == 404
