"""The export page, downloads (streamed, with names that survive any title) and the settings page."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any
from urllib.parse import unquote

from django.http import StreamingHttpResponse
from django.test import TestCase
from django.urls import reverse

from archive import export_template
from archive.formats.document import Category, Document, Highlight
from archive.models import ExportSettings, Source
from tests.archive.test_export import add_source, rich_archive
from tests.factories import make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


def filename_from(header: str) -> str:
    """The name a browser saves as: RFC 5987 `filename*` when present, else `filename`."""
    if match := re.search(r"filename\*=UTF-8''([^;]+)", header):
        return unquote(match.group(1))
    match = re.search(r'filename="((?:[^"\\]|\\.)*)"', header)
    assert match, header
    return re.sub(r"\\(.)", r"\1", match.group(1))


def body(response: Any) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    return bytes(response.content)


class DownloadNameTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("namer")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def download(self, title: str) -> tuple[str, str]:
        source = add_source(self.user, Document(title=title, highlights=[Highlight(text=f"about {title[:20]}")]))
        response = self.client.get(reverse("archive:source_markdown", args=[source.pk]))
        assert response.status_code == 200
        return response["Content-Disposition"], filename_from(response["Content-Disposition"])

    def test_it_names_downloads_whatever_the_title(self) -> None:
        cases = {
            'He said "no"': "He said no.md",
            "AC/DC: Back\\Forth": "AC DC Back Forth.md",
            "Reading 📚 in 日本語": "Reading 📚 in 日本語.md",
            "Two\nlines\r\nhere": "Two lines here.md",
            "100% ; filename=evil.exe": "100% ; filename=evil.exe.md",
            "...": "source-{pk}.md",
        }
        for title, expected in cases.items():
            header, name = self.download(title)
            if "{pk}" in expected:
                expected = expected.format(pk=Source.objects.get(user=self.user, title=title).pk)
            assert name == expected, (title, header)
            assert header.startswith('attachment; filename="')
            assert "\n" not in header and "\r" not in header
            plain = re.search(r'filename="([^"]*)"', header)
            assert plain and plain.group(1).isascii()

    def test_it_shortens_300_character_titles(self) -> None:
        header, name = self.download("A very long title " * 17)
        assert len("A very long title " * 17) > 300
        assert len(name.encode()) <= 203 and name.endswith(".md") and name.startswith("A very long title")
        header, name = self.download("📚" * 300)
        assert name == "📚" * 50 + ".md"
        assert len(header) < 1000


class ExportPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("exporter")
        cls.sources = rich_archive(cls.user)
        cls.other = make_user("other")
        cls.foreign = add_source(cls.other, Document(title="Private", highlights=[Highlight(text="secret words")]))

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_shows_the_choices(self) -> None:
        response = self.client.get(reverse("archive:export"))
        assert response.status_code == 200
        text = response.text
        assert "All as Markdown (zip)" in text and "JSON backup" in text and ">CSV<" in text
        assert 'href="/export/download/?format=json"' in text
        assert "the trash included (1 source)" in text
        assert "<strong>2 sources</strong>, 4 highlights." in text
        assert '<option value="economics">' in text and '<option value="Marginalia Smith">' in text
        assert "Private" not in text
        assert response["Vary"] and "HX-Request" in response["Vary"]

    def test_it_counts_a_selection_for_htmx(self) -> None:
        response = self.client.get(reverse("archive:export"), {"category": "books"}, **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert response.text.strip().startswith('<p id="summary"')
        assert "Matching:" in response.text and "<strong>1 source</strong>, 2 highlights." in response.text

    def test_it_is_in_the_navigation(self) -> None:
        response = self.client.get(reverse("highlights:library"))
        assert f'href="{reverse("archive:export")}"' in response.text
        assert f'href="{reverse("archive:settings")}"' in response.text

    def test_it_streams_a_zip_of_the_whole_archive(self) -> None:
        response = self.client.get(reverse("archive:export_download"), {"format": "markdown"})
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "application/zip"
        assert re.fullmatch(
            r'attachment; filename="commonplace-highlights-\d{4}-\d\d-\d\d\.zip"', response["Content-Disposition"]
        )
        chunks = list(response.streaming_content)
        assert len(chunks) == 3  # a piece per source, then the central directory
        with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:  # type: ignore[arg-type]
            assert archive.namelist() == ["Books/Why Nations Fail.md", "Articles/On Keeping Notes Why — 🙂.md"]

    def test_it_zips_a_tag_an_author_a_category_or_a_search(self) -> None:
        for params, expected in (
            ({"tag": "thesis"}, ["Books/Why Nations Fail.md"]),
            ({"author": "Marginalia Smith"}, ["Articles/On Keeping Notes Why — 🙂.md"]),
            ({"category": "articles"}, ["Articles/On Keeping Notes Why — 🙂.md"]),
            ({"q": "formula"}, ["Articles/On Keeping Notes Why — 🙂.md"]),
            ({"favorites": "1", "category": "books"}, ["Books/Why Nations Fail.md"]),
        ):
            response = self.client.get(reverse("archive:export_download"), params)
            with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
                assert archive.namelist() == expected, params
        response = self.client.get(reverse("archive:export_download"), {"tag": 'to "read"/🙂'})
        assert response.status_code == 302  # nothing has that tag

    def test_it_names_a_selection_download_after_it(self) -> None:
        response = self.client.get(reverse("archive:export_download"), {"tag": "to reread", "format": "csv"})
        name = filename_from(response["Content-Disposition"])
        assert re.fullmatch(r"commonplace-highlights-tag-to reread-\d{4}-\d\d-\d\d\.csv", name)

    def test_it_streams_csv_and_json(self) -> None:
        response = self.client.get(reverse("archive:export_download"), {"format": "csv"})
        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        text = body(response).decode()
        assert text.startswith("Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location")
        assert "'=1+1 looks like a formula" in text and "secret words" not in text
        response = self.client.get(reverse("archive:export_download"), {"format": "json"})
        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "application/json"
        assert "commonplace-backup-" in response["Content-Disposition"]
        data = json.loads(body(response))
        assert data["count"] == 3  # the source in the trash too

    def test_it_downloads_one_source_as_json_or_csv_from_its_page(self) -> None:
        book = self.sources["book"]
        page = self.client.get(reverse("archive:source", args=[book.pk]))
        json_url = f"{reverse('archive:export_download')}?source={book.pk}&amp;format=json"
        assert json_url in page.text
        response = self.client.get(reverse("archive:export_download"), {"source": book.pk, "format": "json"})
        [only] = json.loads(body(response))["results"]
        assert only["exported_title"] == "Why Nations Fail"
        assert len(only["highlights"]) == 3  # with the one in the trash

    def test_it_never_exports_another_users_sources(self) -> None:
        response = self.client.get(reverse("archive:export_download"), {"source": self.foreign.pk, "format": "json"})
        assert response.status_code == 302
        response = self.client.get(reverse("archive:source_markdown", args=[self.foreign.pk]))
        assert response.status_code == 404
        assert b"secret words" not in body(self.client.get(reverse("archive:export_download"), {"format": "csv"}))

    def test_it_explains_an_empty_selection(self) -> None:
        response = self.client.get(reverse("archive:export_download"), {"tag": "nothing"}, follow=True)
        assert response.redirect_chain[0][0].startswith(reverse("archive:export") + "?tag=nothing")
        assert "Nothing in your archive matches that selection" in response.text

    def test_it_refuses_a_bad_selection(self) -> None:
        response = self.client.get(reverse("archive:export_download"), {"format": "pdf", "category": "nope"})
        assert response.status_code == 400
        assert "Select a valid choice" in response.text
        response = self.client.get(reverse("archive:export_download"), {"source": ["3", "x"]})
        assert response.status_code == 400 and "Ids are whole numbers." in response.text

    def test_it_uses_the_chosen_layout_for_downloads(self) -> None:
        ExportSettings.objects.create(user=self.user, layout="custom", template="# {{ name }} ({{ highlight_count }})")
        response = self.client.get(reverse("archive:source_markdown", args=[self.sources["book"].pk]))
        assert response.content == b"# Why Nations Fail (2)"
        response = self.client.get(reverse("archive:export_download"), {"category": "books"})
        with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
            assert archive.read("Books/Why Nations Fail.md") == b"# Why Nations Fail (2)"

    def test_it_needs_a_login(self) -> None:
        self.client.logout()
        for url in (reverse("archive:export"), reverse("archive:export_download"), reverse("archive:settings")):
            response = self.client.get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]


class SettingsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("writer")
        cls.source = add_source(
            cls.user,
            Document(
                title="Mine",
                category=Category.BOOKS,
                highlights=[Highlight(text="first"), Highlight(text="second", note="a note")],
            ),
        )
        cls.foreign = add_source(make_user(), Document(title="Theirs", highlights=[Highlight(text="not yours")]))

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def save(self, htmx: bool = False, **data: str) -> Any:
        extra = HTMX if htmx else {}
        return self.client.post(reverse("archive:settings_export"), data, **extra)

    def test_it_shows_the_layouts_the_starter_template_and_a_preview(self) -> None:
        response = self.client.get(reverse("archive:settings"))
        assert response.status_code == 200
        text = response.text
        assert 'id="export"' in text and "Markdown layout" in text
        assert "Readwise&#x27;s default Obsidian template" in text and "My own template" in text
        assert re.search(r'value="commonplace"[^>]* checked', text)
        assert "title: {{ name|json }}" in text  # the starter template, escaped for the textarea
        assert "highlight.location_kind" in text  # the documented variables
        assert 'id="export-preview"' in text and "## Highlights" in text and "&gt; first" in text

    def test_it_saves_a_layout(self) -> None:
        response = self.save(layout="readwise", template="")
        assert response.status_code == 302 and response["Location"] == reverse("archive:settings") + "#export"
        assert ExportSettings.objects.get(user=self.user).layout == "readwise"
        download = self.client.get(reverse("archive:source_markdown", args=[self.source.pk]))
        assert download.content.startswith(b"# Mine\n\n## Metadata\n")

    def test_it_saves_a_template_and_redirects_htmx(self) -> None:
        response = self.save(
            htmx=True, layout="custom", template="{{ name }}\n{% for h in highlights %}* {{ h.text }}\n{% endfor %}"
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("archive:settings")
        download = self.client.get(reverse("archive:source_markdown", args=[self.source.pk]))
        assert download.content == b"Mine\n* first\n* second\n"

    def test_it_refuses_a_broken_template_with_its_line(self) -> None:
        template = "# {{ name }}\n{% for h in highlights %}\n{{ h.text }}\n"
        response = self.save(layout="custom", template=template)
        assert response.status_code == 200
        assert "line 2: Unclosed tag" in response.text
        assert "<html" in response.text
        assert not ExportSettings.objects.filter(user=self.user).exists()
        response = self.save(htmx=True, layout="custom", template="{% load i18n %}")
        assert "<html" not in response.text and response.text.strip().startswith('<section id="export"')
        assert "line 1: {% load %} is not allowed in an export template" in response.text
        response = self.save(layout="custom", template="")
        assert "Write a template to use your own layout." in response.text

    def test_it_previews_as_you_type(self) -> None:
        url = reverse("archive:settings_preview")
        data = {"layout": "custom", "template": "{{ name|upper }}: {{ highlight_count }}", "source": self.source.pk}
        response = self.client.post(url, data, **HTMX)
        assert response.status_code == 200
        assert response.text.strip().startswith('<div id="export-preview"')
        assert "MINE: 2" in response.text
        response = self.client.post(url, {**data, "template": "ok\n{{ name|nope }}"}, **HTMX)
        assert "Line 2: Invalid filter: &#x27;nope&#x27;" in response.text
        assert "2 | {{ name|nope }}" in response.text
        response = self.client.post(url, {**data, "template": "{{ settings.SECRET_KEY }}{{ request.user }}!"}, **HTMX)
        assert "<code>!</code>" in response.text
        response = self.client.post(url, {"layout": "readwise", "source": self.source.pk}, **HTMX)
        assert "## Metadata" in response.text

    def test_it_previews_only_the_users_own_sources(self) -> None:
        url = reverse("archive:settings_preview")
        response = self.client.post(
            url, {"layout": "custom", "template": "{{ name }}", "source": self.foreign.pk}, **HTMX
        )
        assert "Theirs" not in response.text
        assert "<code>Mine</code>" in response.text

    def test_it_previews_an_example_without_sources(self) -> None:
        self.client.force_login(make_user())
        response = self.client.post(
            reverse("archive:settings_preview"), {"layout": "custom", "template": "{{ name }}"}, **HTMX
        )
        assert "an example source" in response.text
        assert export_template.SAMPLE_DOCUMENT.title in response.text

    def test_it_previews_without_javascript_too(self) -> None:
        response = self.client.post(
            reverse("archive:settings_preview"),
            {"layout": "custom", "template": "{{ name }}!", "source": self.source.pk},
        )
        assert response.status_code == 200
        assert "<html" in response.text and "<code>Mine!</code>" in response.text
        assert "{{ name }}!</textarea>" in response.text
