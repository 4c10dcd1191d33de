"""The export service: selections, streamed zips, CSV, JSON backups and exact restores."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.test import TestCase
from django.utils import timezone

from archive import exporting, importing
from archive.formats import readwise_csv, readwise_markdown
from archive.formats.document import Category, Document, Highlight, LocationKind
from archive.models import Author, ExportSettings, Source
from highlights.models import Highlight as HighlightRow
from highlights.models import Tag
from tests.factories import make_user

# --- helpers shared by the export tests (functions only: importing them collects no tests) ----


def add_source(user: User, doc: Document) -> Source:
    """Write a document the way an import does, and return its source."""
    outcome = importing.FileOutcome(path="test")
    importing._Writer(user).write(doc, outcome)
    return Source.objects.get(pk=outcome.source_ids[0])


def restore(user: User, name: str, data: bytes) -> list[importing.FileOutcome]:
    outcomes = importing.import_paths(user, [(name, data)])
    assert not [o for o in outcomes if o.status == "error"], outcomes
    return outcomes


def snapshot(user: User, *, backup: bool = True) -> dict[str, Any]:
    """Everything an archive holds, keyed so two accounts compare equal when their archives are.

    With `backup`, the trash and Commonplace's own dates too; without, what Markdown carries: live
    sources and highlights.
    """
    sources = Source.objects.filter(user=user) if backup else Source.objects.for_user(user)
    result: dict[str, Any] = {}
    for source in sources.prefetch_related("tags", "sourceauthor_set__author", "highlights__tags"):
        rows = sorted(source.highlights.all(), key=lambda h: (h.position, h.pk))
        if not backup:
            rows = [row for row in rows if row.deleted_at is None]
        fields = ("title", "display_title", "author_text", "url", "category", "origin", "cover_url", "saved_at",
                  "published_on", "note", "summary", "external_id", "extra")  # fmt: skip
        entry: dict[str, Any] = {name: getattr(source, name) for name in fields}
        entry["authors"] = [link.author.name for link in source.sourceauthor_set.all()]
        entry["tags"] = sorted(tag.name for tag in source.tags.all())
        entry["highlights"] = [_highlight(row, backup) for row in rows]
        if backup:
            for name in ("created_at", "edited_at", "deleted_at", "last_highlighted_at"):
                entry[name] = getattr(source, name)
            if hasattr(source, "highlight_count"):
                entry["highlight_count"] = source.highlight_count
        result[source.identity] = entry
    if backup:
        result["authors"] = sorted(Author.objects.filter(user=user).values_list("name", flat=True))
        # Tags in use (a tag on nothing is not carried by any export).
        used = Tag.objects.filter(user=user).filter(Q(sources__isnull=False) | Q(highlights__isnull=False))
        result["tags"] = sorted(set(used.values_list("name", flat=True)))
    return result


def _highlight(row: HighlightRow, backup: bool) -> dict[str, Any]:
    fields = ("text", "note", "location", "location_kind", "page", "url", "external_id", "color", "highlighted_at",
              "favorite")  # fmt: skip
    entry = {name: getattr(row, name) for name in fields}
    entry["tags"] = sorted(tag.name for tag in row.tags.all())
    if backup:
        for name in ("created_at", "edited_at", "deleted_at"):
            entry[name] = getattr(row, name)
    return entry


def zip_of(chunks: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(chunks)))


WHEN = dt.datetime(2024, 3, 2, 13, 19, 5, 123456, tzinfo=dt.UTC)


def rich_archive(user: User) -> dict[str, Source]:
    """An archive using every field: authors, tags, notes, favourites, locations, dates, the trash."""
    book = add_source(
        user,
        Document(
            title="Why Nations Fail",
            author="Daron Acemoglu and James A. Robinson",
            authors=["Daron Acemoglu", "James A. Robinson"],
            category=Category.BOOKS,
            origin="kindle",
            saved_at=dt.datetime(2023, 7, 19, 9, 54),
            published_at=dt.date(2012, 3, 20),
            cover_url="https://images.example/cover.jpg",
            tags=["economics", "to reread"],
            note="Borrowed from the library.",
            summary="Institutions matter.",
            external_id="B0058Z4NR8",
            extra={"status": "read", "rating": 4.5, "shelves": ["history", {"nested": True}]},
            highlights=[
                Highlight(
                    text="Nations fail today because of extractive institutions.",
                    note="The thesis.\nSecond line.",
                    tags=["thesis", "pink"],
                    location="335",
                    location_kind=LocationKind.LOCATION,
                    page="12",
                    url="https://readwise.io/to_kindle?action=open&asin=B0058Z4NR8&location=335",
                    external_id="687119130",
                    color="pink",
                    highlighted_at=dt.datetime(2023, 7, 19, 9, 54, 1),
                    favorite=True,
                ),
                Highlight(text="A second thought, to be trashed.", location="xiv", location_kind=LocationKind.PAGE),
                Highlight(text="A third, plain one."),
            ],
        ),
    )
    article = add_source(
        user,
        Document(
            title="34840312",
            display_title='On "Keeping" Notes / Why — 🙂',
            author="Marginalia Smith",
            url="https://example.org/essays/on-keeping-notes",
            category=Category.ARTICLES,
            origin="reader",
            highlights=[
                Highlight(text="=1+1 looks like a formula", note="@mention -minus +plus", tags=["economics"]),
                Highlight(text="Podcast time", location="0:00:02", location_kind=LocationKind.TIME),
            ],
        ),
    )
    trashed = add_source(
        user,
        Document(title="Gone but kept", author="Nobody", tags=["trash-only"], highlights=[Highlight(text="bye")]),
    )
    # What the user did in Commonplace: trash, edits, a favourite.
    HighlightRow.objects.filter(source=book, text__startswith="A second").update(deleted_at=WHEN)
    Source.objects.filter(pk=trashed.pk).update(deleted_at=WHEN)
    Source.objects.filter(pk=article.pk).update(edited_at=WHEN)
    HighlightRow.objects.filter(source=article, text__startswith="Podcast").update(edited_at=WHEN, favorite=True)
    return {"book": book, "article": article, "trashed": trashed}


class ExportTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("exporter")
        cls.sources = rich_archive(cls.user)
        cls.other = make_user("someone-else")
        cls.foreign = add_source(cls.other, Document(title="Not yours", highlights=[Highlight(text="private")]))

    def test_it_zips_one_markdown_file_per_live_source_in_category_folders(self) -> None:
        with zip_of(exporting.stream_zip(exporting.select_sources(self.user, {}))) as archive:
            names = archive.namelist()
            assert names == ["Books/Why Nations Fail.md", "Articles/On Keeping Notes Why — 🙂.md"]
            book = archive.read(names[0]).decode()
            assert archive.testzip() is None
        assert book == readwise_markdown.render(exporting.document_for(self.sources["book"]))
        assert "A second thought" not in book  # in the trash

    def test_it_makes_file_names_safe_and_unique(self) -> None:
        for title, author in (("Same", "A"), ("same", "B"), ("SAME", "C")):
            add_source(self.user, Document(title=title, author=author, highlights=[Highlight(text="x")]))
        long = "📚" * 120 + "x" * 300
        add_source(self.user, Document(title=long, highlights=[Highlight(text="y")]))
        add_source(self.user, Document(title="../../etc/passwd\n\u202ecod.exe", highlights=[Highlight(text="z")]))
        add_source(self.user, Document(title="CON", highlights=[Highlight(text="w")]))
        with zip_of(exporting.stream_zip(exporting.select_sources(self.user, {"category": "uncategorised"}))) as zf:
            names = zf.namelist()
        assert names[:3] == ["Uncategorised/Same.md", "Uncategorised/same (2).md", "Uncategorised/SAME (3).md"]
        assert len(names[3].encode()) <= len(b"Uncategorised/") + exporting.MAX_NAME_BYTES + len(".md")
        assert names[3].startswith("Uncategorised/📚📚")
        assert names[4] == "Uncategorised/etc passwd cod.exe.md"
        assert names[5] == "Uncategorised/CON (file).md"
        assert all(name.count("/") == 1 and "\n" not in name for name in names)

    def test_it_streams_a_zip_a_source_at_a_time(self) -> None:
        for i in range(12):
            add_source(self.user, Document(title=f"Batch {i}", highlights=[Highlight(text=f"t{i}")]))
        sources = exporting.select_sources(self.user, {})
        total = sources.count()
        read = 0

        def reading() -> Iterator[Source]:
            nonlocal read
            for source in sources.iterator(chunk_size=4):
                read += 1
                yield source

        stream = exporting.stream_zip(reading())
        first = next(stream)
        # The first piece went out after one source was read; the others were read as they went.
        assert read == 1
        rest = list(stream)
        assert read == total
        assert len(rest) == total  # a piece per remaining source, and the central directory
        with zip_of([first, *rest]) as archive:
            assert len(archive.namelist()) == total

    def test_it_selects_by_tag_author_category_favourites_search_and_id(self) -> None:
        book, article = self.sources["book"], self.sources["article"]

        def chosen(**params: Any) -> set[int]:
            return set(exporting.select_sources(self.user, params).values_list("pk", flat=True))

        assert chosen() == {book.pk, article.pk}
        assert chosen(tag="ECONOMICS") == {book.pk, article.pk}  # on the book; on a highlight of the article
        assert chosen(tag="thesis") == {book.pk}
        assert chosen(tag="trash-only") == set()  # only on a source in the trash
        assert chosen(tag="no such tag") == set()
        assert chosen(author="james a. robinson") == {book.pk}
        author = Author.objects.get(user=self.user, name="Marginalia Smith")
        assert chosen(author=str(author.pk)) == {article.pk}
        assert chosen(category="articles") == {article.pk}
        assert chosen(favorites=True) == {book.pk, article.pk}
        assert chosen(q="extractive institutions") == {book.pk}
        assert chosen(q="marginalia") == {article.pk}
        assert chosen(source=[article.pk, self.foreign.pk]) == {article.pk}
        assert chosen(tag="economics", category="books") == {book.pk}
        assert chosen(source=self.foreign.pk) == set()
        everything = set(exporting.select_sources(self.user, {}, trash=True).values_list("pk", flat=True))
        assert everything == {book.pk, article.pk, self.sources["trashed"].pk}

    def test_it_writes_readwise_csv_with_formulas_neutralised(self) -> None:
        for i in range(5):
            add_source(self.user, Document(title=f"CSV {i}", highlights=[Highlight(text=f"row {i}")]))
        pieces = list(exporting.stream_csv(exporting.select_sources(self.user, {}).iterator(chunk_size=2), 2))
        assert len(pieces) == 5  # the header, then three chunks of two sources
        text = "".join(pieces)
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == readwise_csv.HEADER_11
        assert len(rows) == 1 + 2 + 2 + 5
        assert rows[3][:5] == [
            "'=1+1 looks like a formula",
            "34840312",
            "Marginalia Smith",
            "",
            "'@mention -minus +plus",
        ]
        parsed = readwise_csv.parse(text)
        by_title = {doc.title: doc for doc in parsed.documents}
        assert by_title["34840312"].highlights[0].text == "=1+1 looks like a formula"
        assert by_title["Why Nations Fail"].highlights[0].favorite is True

    def test_it_backs_up_everything_including_the_trash(self) -> None:
        data = exporting.json_export(exporting.select_sources(self.user, {}, trash=True))
        assert data["count"] == 3 and data["format"] == "commonplace-json"
        books = {book["exported_title"]: book for book in data["results"]}
        assert books["Gone but kept"]["is_deleted"] is True
        assert books["Gone but kept"]["book_tags"] == [{"name": "trash-only"}]
        nations = books["Why Nations Fail"]
        assert [h["is_deleted"] for h in nations["highlights"]] == [False, True, False]
        assert nations["authors"] == ["Daron Acemoglu", "James A. Robinson"]
        assert nations["highlights"][0]["tags"] == [{"name": "pink"}, {"name": "thesis"}]
        assert nations["highlights"][0]["is_favorite"] is True
        assert nations["highlights"][0]["highlighted_at"] == "2023-07-19T09:54:01+00:00"
        assert nations["user_book_id"] == self.sources["book"].pk
        assert "Not yours" not in json.dumps(data)

    def test_it_restores_a_backup_into_an_empty_account_exactly(self) -> None:
        backup = "".join(exporting.stream_json(exporting.select_sources(self.user, {}, trash=True))).encode()
        fresh = make_user()
        [outcome] = restore(fresh, "backup.json", backup)
        assert (outcome.format, outcome.status, outcome.sources_created) == ("commonplace-json", "created", 3)
        assert snapshot(fresh) == snapshot(self.user)
        # Restoring again changes nothing.
        [again] = restore(fresh, "backup.json", backup)
        assert again.status == "unchanged"
        assert snapshot(fresh) == snapshot(self.user)

    def test_it_restores_a_source_left_without_highlights(self) -> None:
        HighlightRow.objects.filter(source=self.sources["article"]).delete()
        backup = "".join(exporting.stream_json(exporting.select_sources(self.user, {}, trash=True))).encode()
        fresh = make_user()
        restore(fresh, "backup.json", backup)
        assert snapshot(fresh) == snapshot(self.user)

    def test_it_writes_markdown_in_the_chosen_layout(self) -> None:
        book = exporting.select_sources(self.user, {"source": [self.sources["book"].pk]}).get()
        doc = exporting.document_for(book)
        assert exporting.markdown_for(book, exporting.renderer_for(self.user)) == readwise_markdown.render(doc)
        ExportSettings.objects.create(user=self.user, layout="readwise", template="{{ name }}")
        assert exporting.markdown_for(book, exporting.renderer_for(self.user)) == readwise_markdown.render_readwise(doc)
        ExportSettings.objects.filter(user=self.user).update(layout="custom")
        assert exporting.markdown_for(book, exporting.renderer_for(self.user)) == "Why Nations Fail"
        assert exporting.markdown_for(book, exporting.renderer_for(self.user, "commonplace")).startswith("---\n")

    def test_it_falls_back_to_its_own_layout_when_a_saved_template_fails(self) -> None:
        book = exporting.select_sources(self.user, {"source": [self.sources["book"].pk]}).get()
        render = exporting.renderer("custom", "{{ highlight_count|divisibleby:0 }}")
        output = render(exporting.document_for(book))
        assert output.startswith("<!-- Your export template failed on this source (line 1: ")
        assert output.endswith(readwise_markdown.render(exporting.document_for(book)))

    def test_it_names_downloads_after_the_selection(self) -> None:
        today = timezone.localdate().isoformat()
        assert exporting.download_name({}, "zip") == f"commonplace-highlights-{today}.zip"
        assert exporting.download_name({"tag": 'a/b "c"'}, "csv") == f"commonplace-highlights-tag-a b c-{today}.csv"
        assert exporting.download_name({}, "json", what="backup") == f"commonplace-backup-{today}.json"
