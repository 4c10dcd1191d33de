"""highlights.filters: what the library's filters and sorts and the search mean."""

from __future__ import annotations

from django.http import QueryDict
from django.test import TestCase
from django.utils import timezone

from archive.models import Category
from highlights.filters import filter_highlights, filter_sources, search_highlights, search_sources
from highlights.models import Highlight
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import add_author, source_with, tag, when


def titles(queryset) -> list[str]:  # type: ignore[no-untyped-def]
    return [source.name for source in queryset]


def texts(queryset) -> list[str]:  # type: ignore[no-untyped-def]
    return [highlight.text for highlight in queryset]


class FilterSourcesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.book = source_with(
            cls.user,
            "Meditations",
            ["The obstacle is the way."],
            author="Marcus Aurelius",
            category=Category.BOOKS,
            origin="kindle",
            last_highlighted_at=when(2020),
        )
        cls.article = source_with(
            cls.user,
            "zen and the art",
            ["Read slowly.", "Then read again.", "And again."],
            author="Bea Writer",
            category=Category.ARTICLES,
            origin="reader",
            last_highlighted_at=when(2023),
        )
        cls.tweet = source_with(
            cls.user,
            "Ärger im Paradies",
            ["Kurz."],
            author="",
            category=Category.TWEETS,
            origin="reader",
            last_highlighted_at=None,
        )
        cls.stranger = make_user()
        source_with(cls.stranger, "Not yours", ["Hidden."], category=Category.BOOKS, origin="kindle")

    def sources(self, query: str = "") -> list[str]:
        return titles(filter_sources(self.user, QueryDict(query)))

    def test_it_lists_only_the_users_live_sources_most_recently_highlighted_first(self) -> None:
        gone = make_source(self.user, "Deleted", deleted_at=timezone.now())
        make_highlight(gone, "Gone.")
        assert self.sources() == ["zen and the art", "Meditations", "Ärger im Paradies"]

    def test_it_sorts_by_title_author_count_and_addition(self) -> None:
        # Case is ignored; beyond that the database's (C) collation decides, so "Ä" follows "z".
        assert self.sources("sort=title") == ["Meditations", "zen and the art", "Ärger im Paradies"]
        # Sources without an author come last.
        assert self.sources("sort=author") == ["zen and the art", "Meditations", "Ärger im Paradies"]
        assert self.sources("sort=count") == ["zen and the art", "Ärger im Paradies", "Meditations"]
        assert self.sources("sort=added") == ["Ärger im Paradies", "zen and the art", "Meditations"]

    def test_it_filters_by_category_origin_and_author_together(self) -> None:
        assert self.sources("category=books") == ["Meditations"]
        assert self.sources("origin=reader") == ["zen and the art", "Ärger im Paradies"]
        assert self.sources("origin=reader&category=tweets") == ["Ärger im Paradies"]
        author = self.article.authors.get()
        assert self.sources(f"author={author.pk}") == ["zen and the art"]
        assert self.sources(f"author={author.pk}&category=books") == []

    def test_it_finds_a_source_by_any_of_its_authors(self) -> None:
        second = add_author(self.book, "A Translator")
        assert self.sources(f"author={second.pk}") == ["Meditations"]

    def test_it_filters_by_a_tag_on_the_source_or_on_one_of_its_highlights_in_any_case(self) -> None:
        tag(self.user, "Stoic Life", self.book)
        tag(self.user, "slow", self.article.highlights.first())
        tag(self.stranger, "stoic life")
        assert self.sources("tag=stoic+life") == ["Meditations"]
        assert self.sources("tag=SLOW") == ["zen and the art"]
        assert self.sources("tag=nothing") == []

    def test_it_lists_a_source_once_when_it_and_its_highlights_carry_the_tag(self) -> None:
        both = tag(self.user, "both", self.article)
        for highlight in self.article.highlights.all():
            both.highlights.add(highlight)
        assert self.sources("tag=both") == ["zen and the art"]

    def test_it_filters_sources_with_a_favourite_highlight(self) -> None:
        Highlight.objects.filter(text="Then read again.").update(favorite=True)
        deleted = make_highlight(self.book, "Deleted favourite.", favorite=True, deleted_at=timezone.now())
        assert deleted.favorite
        assert self.sources("favorites=1") == ["zen and the art"]
        assert self.sources("favorites=1&origin=kindle") == []

    def test_it_ignores_values_it_cannot_read(self) -> None:
        assert self.sources("category=nonsense&author=abc&sort=sideways&favorites=") == self.sources()

    def test_it_counts_highlights_without_a_query_per_source(self) -> None:
        counts = {source.name: source.highlight_count for source in filter_sources(self.user, QueryDict())}
        assert counts == {"Meditations": 1, "zen and the art": 3, "Ärger im Paradies": 1}


class SearchHighlightsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.essays = source_with(
            cls.user,
            "Essays",
            [
                "The reader reads slowly and carefully.",
                "Writing is thinking on paper.",
                "A philosophy of reading.",
            ],
            category=Category.ARTICLES,
            origin="reader",
        )
        cls.book = source_with(cls.user, "Kafka: The Definitive Guide", [], category=Category.BOOKS, origin="kindle")
        cls.partition = make_highlight(cls.book, "Each partition is an ordered log.", note="Remember the stream")
        make_highlight(cls.book, "Consumers read partitions.", highlighted_at=when(2021))
        other = make_user()
        source_with(other, "Theirs", ["The reader reads slowly and carefully."])

    def search(self, q: str, query: str = "") -> list[str]:
        return texts(search_highlights(self.user, q, QueryDict(query)))

    def test_it_stems_english_words(self) -> None:
        assert set(self.search("read")) == {
            "The reader reads slowly and carefully.",
            "A philosophy of reading.",
            "Consumers read partitions.",
        }

    def test_it_reads_web_search_syntax(self) -> None:
        assert self.search('"thinking on paper"') == ["Writing is thinking on paper."]
        assert self.search('"paper on thinking"') == []
        assert set(self.search("read -partitions")) == {
            "The reader reads slowly and carefully.",
            "A philosophy of reading.",
        }
        assert set(self.search("writing or partition")) == {
            "Writing is thinking on paper.",
            "Each partition is an ordered log.",
            "Consumers read partitions.",
        }

    def test_it_searches_notes(self) -> None:
        assert self.search("stream") == ["Each partition is an ordered log."]

    def test_it_matches_the_word_being_typed_as_a_prefix(self) -> None:
        assert self.search("philos") == ["A philosophy of reading."]
        assert self.search("philos ") == []
        assert set(self.search("kafka or philos")) == {"A philosophy of reading."}
        assert set(self.search("ordered or philos")) == {
            "A philosophy of reading.",
            "Each partition is an ordered log.",
        }
        assert self.search("reading philos") == ["A philosophy of reading."]
        assert self.search("writing philos") == []

    def test_it_ranks_better_matches_first(self) -> None:
        make_highlight(self.essays, "Paper, paper, paper: all paper.")
        assert self.search("paper")[0] == "Paper, paper, paper: all paper."

    def test_it_combines_with_the_library_filters(self) -> None:
        assert set(self.search("read", "category=books")) == {"Consumers read partitions."}
        assert set(self.search("read", "origin=reader")) == {
            "The reader reads slowly and carefully.",
            "A philosophy of reading.",
        }
        tag(self.user, "Streams", self.book)
        assert self.search("read", "tag=streams") == ["Consumers read partitions."]
        tag(self.user, "method", self.essays.highlights.get(text__startswith="A philosophy"))
        assert self.search("read", "tag=Method") == ["A philosophy of reading."]
        self.partition.favorite = True
        self.partition.save()
        assert self.search("ordered or read", "favorites=1") == ["Each partition is an ordered log."]

    def test_it_leaves_out_deleted_highlights_and_sources(self) -> None:
        Highlight.objects.filter(text="Writing is thinking on paper.").update(deleted_at=timezone.now())
        assert self.search("writing") == []
        self.book.deleted_at = timezone.now()
        self.book.save()
        assert self.search("partition") == []

    def test_it_finds_nothing_for_an_empty_query_and_lists_everything_without_one(self) -> None:
        everything = texts(filter_highlights(self.user, QueryDict()))
        assert self.search("   ") == everything
        # Dated highlights first, newest first; undated ones after them, newest added first.
        assert everything == [
            "Consumers read partitions.",
            "Each partition is an ordered log.",
            "A philosophy of reading.",
            "Writing is thinking on paper.",
            "The reader reads slowly and carefully.",
        ]
        assert texts(filter_highlights(self.user, QueryDict("sort=oldest")))[::4] == [
            "Consumers read partitions.",
            "Each partition is an ordered log.",
        ]
        assert self.search('""') == []
        assert self.search("the and") == []  # only stop words

    def test_it_escapes_like_wildcards_in_substring_terms(self) -> None:
        make_highlight(self.essays, "百分之百 100%")
        assert self.search("百分") == ["百分之百 100%"]
        assert self.search("百%") == []

    def test_it_orders_by_date_when_asked(self) -> None:
        make_highlight(self.essays, "Read this in 2019.", highlighted_at=when(2019))
        assert self.search("read", "sort=recent")[:2] == ["Consumers read partitions.", "Read this in 2019."]
        assert self.search("read", "sort=oldest")[:2] == ["Read this in 2019.", "Consumers read partitions."]


class SearchSourcesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        source_with(cls.user, "Designing Data-Intensive Applications", ["x"], author="Martin Kleppmann")
        source_with(cls.user, "マリウス . Updates 2022/Q1", ["y"], author="マリウス")
        source_with(cls.user, "Le Jardin d’hiver", ["z"], author="Claire Dupont", category=Category.BOOKS)

    def search(self, q: str, query: str = "") -> list[str]:
        return titles(search_sources(self.user, q, QueryDict(query)))

    def test_it_finds_sources_by_title_and_author(self) -> None:
        assert self.search("designing") == ["Designing Data-Intensive Applications"]
        assert self.search("kleppmann") == ["Designing Data-Intensive Applications"]
        assert self.search("jardin hiver") == ["Le Jardin d’hiver"]
        assert self.search("マリ") == ["マリウス . Updates 2022/Q1"]
        assert self.search("Klepp") == ["Designing Data-Intensive Applications"]

    def test_it_combines_with_the_filters(self) -> None:
        assert self.search("dupont", "category=books") == ["Le Jardin d’hiver"]
        assert self.search("dupont", "category=articles") == []
