"""The number of SQL queries per page is fixed: it does not grow with the archive.

Each page is asked for once with a small archive and once after the archive has grown several
times over (more sources, authors, tags, highlights), with the same number of queries both times.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from archive.models import Category
from highlights import views
from highlights.models import Highlight
from tests.factories import make_highlight, make_user
from tests.highlights.helpers import add_author, source_with, tag, when

HX = {"HX-Request": "true"}
_numbers = itertools.count()


class QueryCountTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.label = tag(cls.user, "reading list")
        cls.source = cls.grow(cls.user, cls.label, 3)

    @staticmethod
    def grow(user, label, sources: int):  # type: ignore[no-untyped-def]
        """Add `sources` sources, each with two authors and a few highlights, tags, favourites."""
        today = timezone.localdate()
        first = None
        for _ in range(sources):
            n = next(_numbers)
            source = source_with(
                user,
                f"Book {n} about reading",
                [f"Reading is thinking, part {n}.", f"封建秩序 {n}", f"Notes on stoic reading {n}."],
                author=f"Author {n}",
                category=Category.BOOKS,
                origin="kindle",
                last_highlighted_at=when(2020),
            )
            add_author(source, f"Co-author {n}")
            tag(user, f"tag {n}", source)
            label.sources.add(source)
            for highlight in source.highlights.all():
                highlight.tags.add(label)
            make_highlight(
                source,
                f"A favourite {n}.",
                favorite=True,
                highlighted_at=when(today.year - 1, today.month, min(today.day, 28)),
            )
            first = first or source
        return first

    def assert_queries_fixed(self, expected: int, request: Callable[[], object]) -> None:
        with self.assertNumQueries(expected):
            response = request()
        assert response.status_code == 200  # type: ignore[attr-defined]
        # Past a page of sources the first time; a few more (with their authors, tags and
        # highlights) for each further request of the same test.
        self.grow(self.user, self.label, 3 if getattr(self, "grown", False) else views.SOURCES_PER_PAGE + 5)
        self.grown = True
        with self.assertNumQueries(expected):
            request()

    def setUp(self) -> None:
        self.client.force_login(self.user)

    # 2 of every count are the session and the user.

    def test_library(self) -> None:
        # sources, their authors, the count, origins and tags of the filter bar, a random
        # highlight, the earliest highlight's date and this day in earlier years.
        self.assert_queries_fixed(10, lambda: self.client.get("/"))

    def test_library_filtered(self) -> None:
        author = self.source.authors.first()
        params = {"category": "books", "tag": "reading list", "favorites": "1", "author": author.pk, "sort": "title"}
        # the author's source ids, sources, authors, count, origins, tags, the author named in the filter.
        self.assert_queries_fixed(9, lambda: self.client.get("/", params))

    def test_library_htmx_results_and_next_page(self) -> None:
        self.assert_queries_fixed(5, lambda: self.client.get("/", {"sort": "count"}, headers=HX))
        # past page 1: the page's ids from the sort's index, then those sources, their authors.
        self.assert_queries_fixed(5, lambda: self.client.get("/", {"page": "2"}, headers=HX))

    def test_source_page(self) -> None:
        # the source, its tags, its authors, a page of highlights, their tags.
        url = self.source.get_absolute_url()
        self.assert_queries_fixed(7, lambda: self.client.get(url))
        Highlight.objects.bulk_create(
            Highlight(user=self.user, source=self.source, position=100 + n, text=f"x {n}", fingerprint=f"p{n}")
            for n in range(views.SOURCE_HIGHLIGHTS_PER_PAGE)
        )
        # the source, a page of highlights, their tags.
        self.assert_queries_fixed(5, lambda: self.client.get(url, {"page": "2"}, headers=HX))

    def test_tag_page(self) -> None:
        url = reverse("highlights:tag", args=["reading list"])
        # the tag, a page of highlights (with their sources), their tags, the tagged sources,
        # their authors, their count.
        self.assert_queries_fixed(8, lambda: self.client.get(url))
        self.assert_queries_fixed(5, lambda: self.client.get(url, {"sort": "oldest"}, headers=HX))

    def test_search(self) -> None:
        # the matches, the ids of a ranked page of them, those highlights (with sources),
        # their tags, matching sources, origins and tags of the filter bar.
        self.assert_queries_fixed(9, lambda: self.client.get("/search/", {"q": "reading"}))
        self.assert_queries_fixed(9, lambda: self.client.get("/search/", {"q": "封建"}))
        self.assert_queries_fixed(7, lambda: self.client.get("/search/", {"q": "stoic read"}, headers=HX))
        self.assert_queries_fixed(
            7,
            lambda: self.client.get("/search/", {"q": "favourite", "category": "books", "favorites": "1"}, headers=HX),
        )

    def test_authors_tags_and_permalink(self) -> None:
        self.assert_queries_fixed(4, lambda: self.client.get(reverse("highlights:authors")))
        self.assert_queries_fixed(4, lambda: self.client.get(reverse("highlights:authors"), {"sort": "count"}))
        author = self.source.authors.first()
        # (with the author's source ids read first, see highlights.filters)
        self.assert_queries_fixed(10, lambda: self.client.get(author.get_absolute_url()))
        self.assert_queries_fixed(3, lambda: self.client.get(reverse("highlights:tags")))
        highlight = self.source.highlights.first()
        self.assert_queries_fixed(8, lambda: self.client.get(highlight.get_absolute_url()))
