"""The browsing pages, each as a full page and as the fragments htmx asks for."""

from __future__ import annotations

import datetime as dt
import re

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from archive.models import Category
from highlights import views
from highlights.models import Highlight, LocationKind, Tag
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import add_author, source_with, tag, when

HX = {"HX-Request": "true"}


class LibraryTests(TestCase):
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
            last_highlighted_at=when(2021, 3, 4),
        )
        cls.article = source_with(
            cls.user,
            "On <Reading>",
            ["Read slowly.", "Then read again."],
            author="Bea Writer",
            category=Category.ARTICLES,
            origin="reader",
            last_highlighted_at=when(2023),
        )

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_shows_every_source_with_its_details(self) -> None:
        response = self.client.get("/")
        assert response.status_code == 200
        page = response.text
        assert "2 sources" in page
        results = page[page.index('id="results"') :]  # the resurfaced highlight above is random
        assert results.index("On &lt;Reading&gt;") < results.index("Meditations")
        assert f'href="/sources/{self.book.pk}/"' in page
        author = self.book.authors.get()
        assert f'href="{author.get_absolute_url()}">Marcus Aurelius</a>' in page
        assert "Books" in page and "kindle" in page
        assert "2 highlights" in page and "1 highlight<" in page
        assert "4 Mar 2021" in page
        assert response["Vary"].count("HX-Request") == 1

    def test_it_escapes_what_came_from_an_import(self) -> None:
        page = self.client.get("/").text
        assert "<Reading>" not in page

    def test_it_filters_and_sorts_from_the_query_string(self) -> None:
        page = self.client.get("/", {"category": "books", "sort": "title"}).text
        assert "1 source<" in page and "Meditations" in page and "On &lt;Reading&gt;" not in page
        assert '<option value="books" selected>' in page
        assert '<option value="title" selected>' in page
        assert "Clear filters" in page

    def test_it_answers_htmx_with_the_results_and_the_clean_address(self) -> None:
        response = self.client.get("/", {"category": "books", "origin": "", "tag": "", "sort": "recent"}, headers=HX)
        assert response.status_code == 200
        assert response.text.lstrip().startswith('<section id="results"')
        assert "<html" not in response.text and "From your archive" not in response.text
        assert "Meditations" in response.text and "On &lt;Reading&gt;" not in response.text
        assert response["HX-Push-Url"] == "/?category=books"  # no empty values, no default sort
        assert 'id="results-status"' in response.text and 'hx-swap-oob="true"' in response.text

    def test_it_replaces_the_address_while_a_query_is_typed(self) -> None:
        response = self.client.get("/search/", {"q": "read"}, headers={**HX, "HX-Trigger-Name": "q"})
        assert response["HX-Replace-Url"] == "/search/?q=read"
        assert "HX-Push-Url" not in response

    def test_it_pages_with_load_more(self) -> None:
        for n in range(views.SOURCES_PER_PAGE + 5):
            make_source(self.user, f"Extra {n:03}", last_highlighted_at=when(2000, 1, 1) - dt.timedelta(days=n))
        first = self.client.get("/").text
        assert f"{views.SOURCES_PER_PAGE + 7} sources" in first
        assert first.count('class="source-row"') == views.SOURCES_PER_PAGE
        assert 'href="/?page=2"' in first and 'hx-get="/?page=2"' in first
        assert 'hx-target="#source-list"' in first and 'hx-swap="beforeend"' in first

        more = self.client.get("/", {"page": "2"}, headers=HX)
        assert more.text.count('class="source-row"') == 7
        assert "Extra 054" in more.text
        assert 'id="load-more" class="load-more" hx-swap-oob="true"' in more.text
        assert "data-page-start" in more.text
        assert "HX-Push-Url" not in more  # paging does not change the address
        assert "<section" not in more.text

        # Without JavaScript the same link is a page of its own.
        plain = self.client.get("/", {"page": "2"})
        assert plain.text.count('class="source-row"') == 7 and "<html" in plain.text
        assert "Showing 51–57" in plain.text and 'href="/"' in plain.text

    def test_it_keeps_the_filters_in_the_load_more_link(self) -> None:
        for n in range(views.SOURCES_PER_PAGE + 1):
            make_source(self.user, f"Book {n}", category=Category.BOOKS)
        page = self.client.get("/", {"category": "books", "origin": "", "sort": "title"}).text
        assert 'href="/?category=books&amp;sort=title&amp;page=2"' in page

    def test_it_says_when_no_source_matches(self) -> None:
        page = self.client.get("/", {"origin": "nowhere"}).text
        assert "No sources match these filters" in page
        assert "Your library is empty" not in page

    def test_it_shows_how_to_import_when_the_library_is_empty(self) -> None:
        self.client.force_login(make_user())
        page = self.client.get("/").text
        assert "Your library is empty" in page
        assert 'href="/import/"' in page
        assert "My Clippings.txt" in page
        assert "From your archive" not in page

    def test_it_resurfaces_a_highlight_and_another_on_the_next_visit(self) -> None:
        first = self.client.get("/")
        assert "From your archive" in first.text
        shown = int(first.cookies[views.RESURFACED_COOKIE].value)
        assert Highlight.objects.filter(pk=shown, user=self.user).exists()
        for _ in range(5):
            again = self.client.get("/")
            following = int(again.cookies[views.RESURFACED_COOKIE].value)
            assert following != shown
            shown = following

    def test_it_resurfaces_the_only_highlight_again_and_then_the_rest(self) -> None:
        self.client.force_login(loner := make_user())
        only = make_highlight(make_source(loner, "Single"), "All alone.")
        for _ in range(2):
            response = self.client.get("/")
            assert "All alone." in response.text
            assert response.cookies[views.RESURFACED_COOKIE].value == str(only.pk)

    def test_it_shows_highlights_from_this_day_in_earlier_years(self) -> None:
        today = timezone.localdate()
        make_highlight(
            self.book, "Two years ago today.", highlighted_at=when(today.year - 2, today.month, min(today.day, 28))
        )
        if today.day <= 28:
            page = self.client.get("/").text
            assert "On this day" in page and "Two years ago today." in page
        make_highlight(self.book, "Today, not an earlier year.", highlighted_at=timezone.now())
        assert "Today, not an earlier year." not in self.client.get("/").text.split("On this day")[-1].split("</ul>")[0]

    def test_it_leaves_resurfacing_out_of_filtered_views(self) -> None:
        assert "From your archive" not in self.client.get("/", {"category": "books"}).text

    def test_it_serves_another_random_highlight(self) -> None:
        card = self.client.get(reverse("highlights:random"), headers=HX)
        assert card.text.lstrip().startswith('<div class="resurface-card" id="resurface-card">')
        plain = self.client.get(reverse("highlights:random"))
        assert plain.status_code == 302 and plain.url.startswith("/highlights/")

    def test_it_needs_a_login(self) -> None:
        self.client.logout()
        assert self.client.get("/").status_code == 302
        assert self.client.get("/search/?q=x").status_code == 302


class LibraryEdgeTests(TestCase):
    def test_it_survives_bad_values(self) -> None:
        self.client.force_login(make_user())
        for params in ({"page": "0"}, {"page": "abc"}, {"page": "99"}, {"author": "-3"}, {"sort": "'; drop"}):
            assert self.client.get("/", params).status_code == 200
            assert self.client.get("/search/", {"q": "x", **params}).status_code == 200


class SourcePageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = make_source(
            cls.user,
            "The <b>Book</b>",
            author="Ann Author",
            url="https://example.org/book",
            cover_url="https://example.org/cover.jpg",
            note="A *document* note <script>alert(1)</script>",
            category=Category.BOOKS,
            origin="kindle",
            last_highlighted_at=when(2024, 5, 6),
        )
        add_author(cls.source, "Bo Second")
        tag(cls.user, "doc tag", cls.source)
        cls.kindle = make_highlight(
            cls.source,
            "Kindle **bold** [link](https://example.org/x)",
            location="335",
            location_kind=LocationKind.LOCATION,
            page="12",
            highlighted_at=when(2024, 5, 6),
            favorite=True,
            note="My *note*",
            url="https://readwise.io/open/1",
        )
        make_highlight(cls.source, "On a page.", location="12", location_kind=LocationKind.PAGE)
        make_highlight(cls.source, "In a podcast.", location="0:00:02", location_kind=LocationKind.TIME)
        make_highlight(cls.source, "Offset only.", location="4711", location_kind=LocationKind.OFFSET)
        tag(cls.user, "quote", cls.kindle)

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_shows_the_source_and_its_highlights_in_reading_order(self) -> None:
        page = self.client.get(self.source.get_absolute_url()).text
        assert "The &lt;b&gt;Book&lt;/b&gt;" in page
        assert 'src="https://example.org/cover.jpg"' in page
        assert "Ann Author" in page and "Bo Second" in page
        assert 'href="https://example.org/book"' in page
        assert '<a class="tag" href="/tags/doc%20tag/">doc tag</a>' in page
        assert "<em>document</em>" in page and "<script>" not in page
        assert "4 highlights" in page
        assert page.index("Kindle") < page.index("On a page.") < page.index("In a podcast.")
        assert "Page 12 · Location 335" in page
        assert ">Page 12<" in page
        assert ">0:00:02<" in page
        assert "4711" not in page  # an exporter's bookkeeping, not a place
        assert "<strong>bold</strong>" in page and '<a href="https://example.org/x"' in page
        assert "<em>note</em>" in page
        assert "6 May 2024" in page
        assert "Favourite" in page
        assert 'href="https://readwise.io/open/1"' in page and "View Highlight" in page
        assert f'href="/highlights/{self.kindle.pk}/"' in page
        assert '<a class="tag" href="/tags/quote/">quote</a>' in page

    def test_it_pages_a_long_source(self) -> None:
        source = make_source(self.user, "Long")
        Highlight.objects.bulk_create(
            Highlight(user=self.user, source=source, position=n, text=f"Line {n}.", fingerprint=f"f{n}")
            for n in range(views.SOURCE_HIGHLIGHTS_PER_PAGE + 3)
        )
        page = self.client.get(source.get_absolute_url()).text
        assert f"{views.SOURCE_HIGHLIGHTS_PER_PAGE + 3} highlights" in page
        assert page.count('class="highlight"') == views.SOURCE_HIGHLIGHTS_PER_PAGE
        assert f'hx-get="{source.get_absolute_url()}?page=2"' in page
        more = self.client.get(source.get_absolute_url(), {"page": 2}, headers=HX).text
        last = f"Line {views.SOURCE_HIGHLIGHTS_PER_PAGE + 2}."
        assert more.count('class="highlight"') == 3 and "<html" not in more and last in more
        assert 'hx-swap-oob="true"' in more
        plain = self.client.get(source.get_absolute_url(), {"page": 2}).text
        assert f'<ol class="highlights" id="highlight-list" start="{views.SOURCE_HIGHLIGHTS_PER_PAGE + 1}">' in plain

    def test_it_hides_another_users_source(self) -> None:
        self.client.force_login(make_user())
        assert self.client.get(self.source.get_absolute_url()).status_code == 404


class AuthorTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.one = source_with(cls.user, "First book", ["a", "b"], author="Zoë Zed", category=Category.BOOKS)
        cls.two = source_with(cls.user, "Second article", ["c"], author="Zoë Zed", category=Category.ARTICLES)
        source_with(cls.user, "Other", ["d"], author="Al Alpha")
        cls.author = cls.one.authors.get()

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_lists_authors_with_counts(self) -> None:
        page = self.client.get(reverse("highlights:authors")).text
        assert "2 authors" in page
        assert page.index("Al Alpha") < page.index("Zoë Zed")
        assert "2 sources · 3 highlights" in page
        by_count = self.client.get(reverse("highlights:authors"), {"sort": "count"}).text
        assert by_count.index("Zoë Zed") < by_count.index("Al Alpha")

    def test_it_filters_authors_by_name_as_you_type(self) -> None:
        response = self.client.get(reverse("highlights:authors"), {"q": "zo"}, headers={**HX, "HX-Trigger-Name": "q"})
        assert response.text.lstrip().startswith('<section id="results"')
        assert "Zoë Zed" in response.text and "Al Alpha" not in response.text
        assert response["HX-Replace-Url"] == "/authors/?q=zo"

    def test_it_leaves_out_authors_whose_sources_are_all_deleted(self) -> None:
        self.one.deleted_at = self.two.deleted_at = timezone.now()
        self.one.save()
        self.two.save()
        assert "Zoë Zed" not in self.client.get(reverse("highlights:authors")).text

    def test_it_shows_an_authors_sources_with_filters(self) -> None:
        page = self.client.get(self.author.get_absolute_url()).text
        assert "<h1>Zoë Zed</h1>" in page
        assert "2 sources · 3 highlights" in page
        assert "First book" in page and "Second article" in page and "Other" not in page
        filtered = self.client.get(self.author.get_absolute_url(), {"category": "books"}, headers=HX)
        assert "First book" in filtered.text and "Second article" not in filtered.text
        assert filtered["HX-Push-Url"] == f"{self.author.get_absolute_url()}?category=books"

    def test_it_hides_another_users_author(self) -> None:
        self.client.force_login(make_user())
        assert self.client.get(self.author.get_absolute_url()).status_code == 404


class TagTests(TestCase):
    NAMES = ["plain", "two words", "a/b/c", "#hash", "100%", "what?", "emoji 📚", "trailing/", "..", "Ünïcödé & <co>"]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = source_with(cls.user, "Tagged book", ["first", "second"])
        cls.highlights = list(cls.source.highlights.order_by("position"))
        for name in cls.NAMES:
            tag(cls.user, name, cls.highlights[0])
        tag(cls.user, "doc", cls.source)
        tag(cls.user, "plain", cls.highlights[1])

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_lists_tags_with_counts(self) -> None:
        page = self.client.get(reverse("highlights:tags")).text
        assert f"{len(self.NAMES) + 1} tags" in page
        assert "2 highlights" in page  # plain
        assert "1 source" in page  # doc
        assert "Ünïcödé &amp; &lt;co&gt;" in page

    def test_it_opens_a_tag_page_for_every_kind_of_name(self) -> None:
        page = self.client.get(reverse("highlights:tags")).text
        for found in Tag.objects.filter(user=self.user):
            url = found.get_absolute_url()
            assert re.fullmatch(r"/tags/[A-Za-z0-9%/_.~-]+/", url), url  # nothing left to misread
            response = self.client.get(url)
            assert response.status_code == 200, (found.name, url)
            assert response.context["tag"] == found
            assert f'href="{url}"' in page
        assert Tag.objects.get(name="..").get_absolute_url() == "/tags/%2E%2E/"
        assert Tag.objects.get(name="a/b/c").get_absolute_url() == "/tags/a/b/c/"
        assert Tag.objects.get(name="what?").get_absolute_url() == "/tags/what%3F/"

    def test_it_finds_a_tag_in_any_case_and_by_its_encoded_address(self) -> None:
        assert self.client.get("/tags/TWO%20WORDS/").context["tag"].name == "two words"
        assert self.client.get("/tags/emoji%20%F0%9F%93%9A/").context["tag"].name == "emoji 📚"
        assert self.client.get("/tags/a%2Fb%2Fc/").context["tag"].name == "a/b/c"
        assert self.client.get("/tags/nope/").status_code == 404

    def test_it_shows_the_tags_highlights_and_sources(self) -> None:
        page = self.client.get("/tags/plain/").text
        assert "2 highlights" in page and "first" in page and "second" in page
        assert "Tagged book" in page
        doc = self.client.get(reverse("highlights:tag", args=["doc"])).text
        assert "Sources tagged doc" in doc and "Tagged book" in doc
        assert "No highlight carries this tag" in doc
        assert 'href="/?tag=doc"' in doc and 'href="/search/?tag=doc"' in doc
        slashed = self.client.get(reverse("highlights:tag", args=["a/b/c"])).text
        assert 'href="/?tag=a%2Fb%2Fc"' in slashed

    def test_it_answers_htmx_on_the_tag_page(self) -> None:
        url = reverse("highlights:tag", args=["plain"])
        response = self.client.get(url, {"sort": "oldest"}, headers=HX)
        assert response.text.lstrip().startswith('<div id="results"')
        assert response.text.index("first") < response.text.index("second")
        newest = self.client.get(url, {"sort": "recent"}, headers=HX).text
        assert newest.index("second") < newest.index("first")

    def test_it_hides_another_users_tag(self) -> None:
        self.client.force_login(make_user())
        assert self.client.get(reverse("highlights:tag", args=["plain"])).status_code == 404


class PermalinkTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = source_with(cls.user, "Book", [f"Line {n}" for n in range(views.SOURCE_HIGHLIGHTS_PER_PAGE + 2)])
        cls.highlights = list(cls.source.highlights.order_by("position"))

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_shows_one_highlight_with_its_neighbours(self) -> None:
        middle = self.highlights[1]
        page = self.client.get(middle.get_absolute_url()).text
        assert "Line 1" in page and "Line 2<" not in page
        assert f'href="{self.highlights[0].get_absolute_url()}" rel="prev"' in page
        assert f'href="{self.highlights[2].get_absolute_url()}" rel="next"' in page
        assert f'href="{self.source.get_absolute_url()}#highlight-{middle.pk}"' in page

    def test_it_links_to_the_source_page_that_holds_it(self) -> None:
        last = self.highlights[-1]
        page = self.client.get(last.get_absolute_url()).text
        assert f'href="{self.source.get_absolute_url()}?page=2#highlight-{last.pk}"' in page
        assert 'rel="next"' not in page

    def test_it_hides_deleted_and_other_users_highlights(self) -> None:
        Highlight.objects.filter(pk=self.highlights[0].pk).update(deleted_at=timezone.now())
        assert self.client.get(self.highlights[0].get_absolute_url()).status_code == 404
        self.client.force_login(make_user())
        assert self.client.get(self.highlights[1].get_absolute_url()).status_code == 404


class SearchPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = source_with(
            cls.user,
            "Kafka: The Definitive Guide",
            ["Each partition is an <ordered> log of [records](https://example.org/r)."],
            author="Neha Narkhede",
            category=Category.BOOKS,
        )
        make_highlight(cls.source, "Brokers store partitions.", note="Partitions are the unit of parallelism")
        source_with(cls.user, "Elsewhere", ["Nothing about it."], category=Category.ARTICLES)

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_explains_itself_before_a_query(self) -> None:
        page = self.client.get(reverse("highlights:search")).text
        assert 'role="search"' in page and 'for="search-q"' in page
        assert '"an exact phrase"' in page or "an exact phrase" in page
        assert 'id="nav-search"' not in page  # the page's own field is the one

    def test_it_finds_marks_and_escapes(self) -> None:
        page = self.client.get(reverse("highlights:search"), {"q": "partition"}).text
        assert "2 highlights for “partition”" in page
        assert "Each <mark>partition</mark> is an &lt;ordered&gt; log of records." in page
        assert "<ordered>" not in page and "https://example.org/r" not in page
        assert "<mark>Partitions</mark> are the unit" in page  # the note matched too
        assert "Kafka: The Definitive Guide" in page
        assert 'value="partition"' in page

    def test_it_lists_matching_sources_by_title_and_author(self) -> None:
        page = self.client.get(reverse("highlights:search"), {"q": "narkhede"}).text
        assert "Sources" in page and "Kafka: The Definitive Guide" in page
        assert "0 highlights" in page

    def test_it_answers_htmx_with_the_results(self) -> None:
        response = self.client.get(reverse("highlights:search"), {"q": "brokers"}, headers=HX)
        assert response.text.lstrip().startswith('<section id="results"')
        assert "<mark>Brokers</mark> store partitions." in response.text
        assert "<html" not in response.text

    def test_it_combines_the_query_with_filters(self) -> None:
        page = self.client.get(reverse("highlights:search"), {"q": "partition", "category": "articles"}).text
        assert "No highlight or note matches “partition” under these filters" in page
        assert 'href="/search/?q=partition"' in page

    def test_it_lists_highlights_under_filters_without_a_query(self) -> None:
        Highlight.objects.filter(text="Brokers store partitions.").update(favorite=True)
        page = self.client.get(reverse("highlights:search"), {"favorites": "1"}).text
        assert "1 highlight" in page and "Brokers store partitions." in page

    def test_it_caps_the_count(self) -> None:
        source = make_source(self.user, "Many")
        Highlight.objects.bulk_create(
            Highlight(user=self.user, source=source, position=n, text=f"Common word {n}", fingerprint=f"c{n}")
            for n in range(views.COUNT_CAP + 2)
        )
        page = self.client.get(reverse("highlights:search"), {"q": "common"}).text
        assert "More than 1,000 highlights" in page
        more = self.client.get(reverse("highlights:search"), {"q": "common", "page": "2"}, headers=HX).text
        assert more.count('class="highlight result"') == views.HIGHLIGHTS_PER_PAGE

    def test_it_keeps_other_users_out_of_results(self) -> None:
        self.client.force_login(make_user())
        page = self.client.get(reverse("highlights:search"), {"q": "partition"}).text
        assert "0 highlights" in page and "Kafka" not in page


class NavigationTests(TestCase):
    def test_it_offers_every_page_and_a_search_field(self) -> None:
        self.client.force_login(make_user())
        page = self.client.get(reverse("highlights:tags")).text
        assert '<nav class="site-nav" aria-label="Main">' in page
        for url in ("/", "/authors/", "/tags/", "/import/"):
            assert f'href="{url}"' in page
        assert 'href="/tags/" aria-current="page"' in page
        assert '<form class="nav-search" role="search" method="get" action="/search/">' in page
        assert '<label class="visually-hidden" for="nav-search">' in page
        assert '<main id="main"' in page and 'class="skip-link" href="#main"' in page
