"""Editing a source's metadata, merging two sources, and sources in the Trash (archive/curation.py)."""

from __future__ import annotations

from django.test import Client, TestCase
from django.urls import reverse

from archive import exporting, merging
from archive.models import Source, SourceAlias
from highlights.models import Highlight, Tag
from tests.curation_helpers import HTMX, assert_counts_true
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import import_bytes, import_fixture, tag

BOOK = "readwise-markdown/default-kindle-book.md"
TITLE = "The Lighthouse Keeper's Almanac"
LAMP = "The lamp must be trimmed before dusk, every dusk, without exception."
FOG = "Fog is a sound before it is a sight."
BRASS = "Brass never forgives a wet cloth."


def second_edition() -> bytes:
    """Another export of the same book under another title: two of its highlights, one new, one with a note."""
    return f"""# {TITLE} (Second Edition)

## Metadata
- Author: [[Ada Brightwater]]
- Full Title: {TITLE} (Second Edition)
- Category: #books

## Highlights
- {LAMP} ([Location 98](https://readwise.io/to_kindle?action=open&asin=B000TEST02&location=98))
    - Note: Every single dusk.
    - Tags: [[duty]]
- {FOG}
    - Tags: [[weather]]
- Salt gets into everything, even the logbook.
""".encode()


class EditSourceTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.stranger = make_user()
        import_fixture(cls.user, BOOK)
        cls.source = Source.objects.get(user=cls.user)
        cls.url = reverse("archive:source_edit", args=[cls.source.pk])

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def data(self, **changes: str) -> dict[str, str]:
        return {
            "title": "The Almanac",
            "authors": "Ada Brightwater\nTomas Reyes\nLena Ostrova",
            "url": "https://books.example/almanac",
            "category": "articles",
            **changes,
        }

    def test_it_edits_with_a_full_post_and_reimports_keep_the_edit(self) -> None:
        assert self.client.get(self.url).status_code == 200
        response = self.client.post(self.url, self.data())
        assert response.status_code == 302 and response["Location"] == self.source.get_absolute_url()
        self.source.refresh_from_db()
        assert self.source.name == "The Almanac"
        assert self.source.url == "https://books.example/almanac" and self.source.category == "articles"
        assert [link.author.name for link in self.source.sourceauthor_set.order_by("position")] == [
            "Ada Brightwater",
            "Tomas Reyes",
            "Lena Ostrova",
        ]
        assert self.source.author_text == "Ada Brightwater, Tomas Reyes, Lena Ostrova"
        assert self.source.edited_at is not None
        identity = self.source.identity
        [outcome] = import_fixture(self.user, BOOK)
        assert (outcome.sources_created, outcome.highlights_created, outcome.sources_updated) == (0, 0, 0)
        self.source.refresh_from_db()
        assert self.source.name == "The Almanac" and self.source.identity == identity
        assert Source.objects.filter(user=self.user).count() == 1

    def test_a_markdown_export_of_the_edited_source_comes_back_to_it(self) -> None:
        self.client.post(self.url, self.data())
        markdown = self.client.get(reverse("archive:source_markdown", args=[self.source.pk])).content
        [outcome] = import_bytes(self.user, "The Almanac.md", markdown)
        assert (outcome.sources_created, outcome.highlights_created) == (0, 0), outcome
        assert outcome.source_ids == [self.source.pk]
        assert Source.objects.filter(user=self.user).count() == 1

    def test_it_edits_in_place_with_htmx(self) -> None:
        form = self.client.get(self.url, **HTMX)
        assert form.status_code == 200 and b"<html" not in form.content and b'id="source-edit"' in form.content
        response = self.client.post(self.url, self.data(title="Almanac"), **HTMX)
        assert response.status_code == 200 and response["HX-Redirect"] == self.source.get_absolute_url()
        self.source.refresh_from_db()
        assert self.source.name == "Almanac"

    def test_it_takes_only_http_links(self) -> None:
        for bad in ("javascript:alert(1)", "ftp://files.example/x", "data:text/html,hi"):
            response = self.client.post(self.url, self.data(url=bad), **HTMX)
            assert response.status_code == 200 and b"errorlist" in response.content, bad
        self.source.refresh_from_db()
        assert self.source.url == ""
        response = self.client.post(self.url, self.data(url="", title=""), **HTMX)
        assert b"errorlist" in response.content

    def test_it_is_the_readers_own(self) -> None:
        self.client.force_login(self.stranger)
        assert self.client.get(self.url).status_code == 404
        assert self.client.post(self.url, self.data()).status_code == 404
        for name in ("source_delete", "source_restore", "source_merge"):
            assert self.client.post(reverse(f"archive:{name}", args=[self.source.pk])).status_code == 404

    def test_it_needs_the_csrf_token_and_post(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        assert client.post(self.url, self.data()).status_code == 403
        assert client.post(reverse("archive:source_delete", args=[self.source.pk])).status_code == 403
        assert client.post(reverse("archive:source_merge", args=[self.source.pk]), {"other": 1}).status_code == 403
        assert client.get(reverse("archive:source_delete", args=[self.source.pk])).status_code == 405
        assert client.get(reverse("archive:source_restore", args=[self.source.pk])).status_code == 405

    def test_deleting_with_htmx_redirects_the_client(self) -> None:
        response = self.client.post(reverse("archive:source_delete", args=[self.source.pk]), **HTMX)
        assert response.status_code == 200 and response["HX-Redirect"] == reverse("highlights:library")
        assert self.client.get(self.url).status_code == 404  # no editing in the Trash
        response = self.client.post(reverse("archive:source_restore", args=[self.source.pk]), **HTMX)
        assert response.status_code == 200
        self.source.refresh_from_db()
        assert self.source.deleted_at is None
        assert_counts_true()


class MergeTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.stranger = make_user()
        import_fixture(cls.user, BOOK)
        import_bytes(cls.user, "second.md", second_edition())
        cls.first = Source.objects.get(user=cls.user, title=TITLE)
        cls.second = Source.objects.get(user=cls.user, title__endswith="(Second Edition)")
        # The reader's own work on both, which the merge must keep.
        lamp = Highlight.objects.get(source=cls.first, text=LAMP)
        lamp.note = "Mine."
        lamp.save()
        second_fog = Highlight.objects.get(source=cls.second, text=FOG)
        second_fog.favorite = True
        second_fog.save()
        tag(cls.user, "lighthouses", cls.second)
        cls.url = reverse("archive:source_merge", args=[cls.first.pk])

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def merged_texts(self) -> list[str]:
        return list(Highlight.objects.filter(source=self.first).order_by("position").values_list("text", flat=True))

    def test_it_suggests_and_finds_the_other_source_then_asks(self) -> None:
        page = self.client.get(self.url)
        assert page.status_code == 200 and b"(Second Edition)" in page.content
        found = self.client.get(self.url + "?q=second", HTTP_HX_TARGET="merge-candidates", **HTMX)
        assert b"<html" not in found.content and b"(Second Edition)" in found.content
        confirm = self.client.get(self.url + f"?other={self.second.pk}")
        assert confirm.status_code == 200
        body = confirm.content.decode()
        assert "1 highlight moves over" in body and "2 highlights this source has already" in body
        assert Source.objects.filter(pk=self.second.pk).exists()  # asking changes nothing

    def test_it_merges_every_highlight_once_keeping_both_readers_work(self) -> None:
        response = self.client.post(self.url, {"other": self.second.pk})
        assert response.status_code == 302 and response["Location"] == self.first.get_absolute_url()
        assert not Source.objects.filter(pk=self.second.pk).exists()
        texts = self.merged_texts()
        assert len(texts) == len(set(texts)) == 5
        assert texts[-1] == "Salt gets into everything, even the logbook."
        lamp = Highlight.objects.get(source=self.first, text=LAMP)
        assert lamp.note == "Mine.\n\nEvery single dusk."
        assert {t.name for t in lamp.tags.all()} == {"duty"}
        fog = Highlight.objects.get(source=self.first, text=FOG)
        assert fog.favorite and {t.name for t in fog.tags.all()} == {"blue", "weather"}
        self.first.refresh_from_db()
        assert self.first.highlight_count == 5
        assert {t.name for t in self.first.tags.all()} == {"lighthouses"}
        assert Tag.objects.get(user=self.user, name="weather").highlight_count == 1
        assert SourceAlias.objects.filter(source=self.first, identity=self.second.identity).exists()
        assert_counts_true()

    def test_reimporting_either_file_after_a_merge_adds_nothing(self) -> None:
        self.client.post(self.url, {"other": self.second.pk})
        before = self.merged_texts()
        for outcome in [*import_fixture(self.user, BOOK), *import_bytes(self.user, "second.md", second_edition())]:
            assert (outcome.sources_created, outcome.highlights_created) == (0, 0), outcome
            assert outcome.source_ids == [self.first.pk]
        assert self.merged_texts() == before
        assert Source.objects.filter(user=self.user).count() == 1
        assert_counts_true()

    def test_it_merges_in_place_with_htmx(self) -> None:
        response = self.client.post(self.url, {"other": self.second.pk}, **HTMX)
        assert response.status_code == 200 and response["HX-Redirect"] == self.first.get_absolute_url()
        assert not Source.objects.filter(pk=self.second.pk).exists()

    def test_a_merge_keeps_trashed_highlights_trashed_and_shown_ones_shown(self) -> None:
        brass = Highlight.objects.get(source=self.first, text=BRASS)
        Highlight.objects.filter(pk=brass.pk).update(deleted_at=brass.created_at)
        salt = Highlight.objects.get(source=self.second, text__startswith="Salt")
        Highlight.objects.filter(pk=salt.pk).update(deleted_at=salt.created_at)
        fog = Highlight.objects.get(source=self.first, text=FOG)
        Highlight.objects.filter(pk=fog.pk).update(deleted_at=fog.created_at)  # shown in the other
        merging.merge(self.first, self.second)
        self.first.refresh_from_db()
        assert self.first.highlight_count == 3  # lamp, keeper's log, fog
        assert Highlight.objects.filter(source=self.first, deleted_at__isnull=False).count() == 2
        [outcome] = import_bytes(self.user, "second.md", second_edition())
        assert outcome.highlights_created == 0 and outcome.in_trash == 1
        assert_counts_true()

    def test_a_source_merged_twice_keeps_every_identity(self) -> None:
        third = make_source(self.user, "Almanac, pocket edition", identity="url:https://pocket.example/almanac")
        make_highlight(third, FOG)
        merging.merge(self.second, third)
        merging.merge(self.first, self.second)
        assert set(SourceAlias.objects.filter(source=self.first).values_list("identity", flat=True)) >= {
            self.second.identity,
            "url:https://pocket.example/almanac",
        }
        assert Source.objects.filter(user=self.user).count() == 1
        assert_counts_true()

    def test_it_refuses_itself_someone_elses_and_trashed_sources(self) -> None:
        assert self.client.post(self.url, {"other": self.first.pk}).status_code == 404
        theirs = make_source(self.stranger, "Theirs")
        assert self.client.post(self.url, {"other": theirs.pk}).status_code == 404
        assert self.client.get(self.url + f"?other={theirs.pk}").status_code == 404
        Source.objects.filter(pk=self.second.pk).update(deleted_at=self.second.created_at)
        assert self.client.post(self.url, {"other": self.second.pk}).status_code == 404
        assert self.client.post(self.url, {"other": "x"}).status_code == 404
        response = self.client.post(self.url, {})
        assert response.status_code == 302
        assert Source.objects.filter(user=self.user).count() == 2


class BackupTests(TestCase):
    """The JSON backup keeps what re-imports match by, so edits and merges survive a restore."""

    def test_a_restored_archive_still_recognises_the_original_files(self) -> None:
        user = make_user()
        import_fixture(user, BOOK)
        import_bytes(user, "second.md", second_edition())
        first = Source.objects.get(user=user, title=TITLE)
        second = Source.objects.get(user=user, title__endswith="(Second Edition)")
        merging.merge(first, second)
        lamp = Highlight.objects.get(source=first, text=LAMP)
        lamp.text, lamp.edited_at = "Trim the lamp at dusk.", lamp.created_at
        lamp.save()
        Source.objects.filter(pk=first.pk).update(display_title="The Almanac", url="https://books.example/a")
        backup = "".join(exporting.stream_json(exporting.select_sources(user, {}, trash=True))).encode()

        restored = make_user()
        [outcome] = import_bytes(restored, "backup.json", backup)
        assert outcome.status == "created", outcome
        copy = Source.objects.get(user=restored)
        assert copy.identity == first.identity
        assert set(copy.aliases.values_list("identity", flat=True)) == {second.identity}
        assert Highlight.objects.get(source=copy, text="Trim the lamp at dusk.").fingerprint == lamp.fingerprint
        for again in [*import_fixture(restored, BOOK), *import_bytes(restored, "second.md", second_edition())]:
            assert (again.sources_created, again.highlights_created) == (0, 0), again
        assert Highlight.objects.filter(user=restored).count() == 5
        assert not Highlight.objects.filter(user=restored, text=LAMP).exists()
        assert_counts_true()
