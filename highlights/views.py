"""The pages a reader lives in: the library, authors, tags, a highlight's permalink, and search.

Each list page is one view and one template serving both the full page and its htmx fragments:
`#results` (the count and first page, when filters or the query change) and `#page` (the next
page, for "Load more"). Without JavaScript the same URLs answer with full pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, replace_url

from archive.models import Author, Source, SourceAuthor
from config.http import AuthedRequest
from highlights import search
from highlights.filters import (
    SOURCE_ORDER,
    filter_sources,
    first_matches,
    search_highlights,
    search_sources,
    source_origins,
)
from highlights.forms import (
    AUTHOR_SORTS,
    CATEGORY_CHOICES,
    HIGHLIGHT_SORTS,
    SOURCE_SORTS,
    TAG_SORTS,
    FilterForm,
    ListForm,
    SearchForm,
)
from highlights.models import Highlight, Tag
from highlights.pagecache import kept_page

SOURCES_PER_PAGE = 50
SOURCE_HIGHLIGHTS_PER_PAGE = 50
HIGHLIGHTS_PER_PAGE = 30
AUTHORS_PER_PAGE = 100
SEARCH_SOURCES_SHOWN = 5
TAG_SOURCES_SHOWN = 12
TAGS_IN_FILTER = 40
COUNT_CAP = 1000  # search results are counted up to here ("1,000+"), not to the end
RESURFACED_COOKIE = "resurfaced"


@dataclass
class Page:
    """One page of a list, fetched with one query (a row more than shown says there is a next)."""

    items: list[Any]
    number: int
    per_page: int
    has_next: bool
    next_url: str = ""
    first_url: str = ""

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def end(self) -> int:
        return self.start + len(self.items) - 1


Defaults = dict[str, str] | None


def paginate(
    request: AuthedRequest,
    queryset: QuerySet[Any],
    number: int,
    per_page: int,
    defaults: Defaults = None,
    fetch: Callable[[QuerySet[Any], int, int], list[Any]] | None = None,
) -> Page:
    offset = (number - 1) * per_page
    rows = fetch(queryset, offset, per_page + 1) if fetch else list(queryset[offset : offset + per_page + 1])
    page = Page(items=rows[:per_page], number=number, per_page=per_page, has_next=len(rows) > per_page)
    if page.has_next:
        page.next_url = url_with(request, defaults, page=str(number + 1))
    page.first_url = url_with(request, defaults, page="")
    return page


def url_with(request: AuthedRequest, defaults: Defaults = None, **changes: str) -> str:
    """This page's URL with some query parameters changed. Empty values, and values equal to
    their `defaults` (the sort a page starts with), are left out: the address stays short."""
    defaults = defaults or {}
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        kept = [v for v in values if v.strip() and v != defaults.get(key)]
        if kept and key not in changes:
            params.setlist(key, kept)
    for key, value in changes.items():
        if value:
            params[key] = value
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def fragment(request: AuthedRequest, number: int) -> str:
    """Which part of the page an htmx request asks for: the next page, or the results."""
    if not request.htmx or request.htmx.history_restore_request:
        return ""
    return "#page" if number > 1 else "#results"


def respond(
    request: AuthedRequest, template: str, context: dict[str, Any], number: int, defaults: Defaults = None
) -> HttpResponse:
    part = fragment(request, number)
    response = render(request, template + part, context)
    if part == "#results":
        # The address bar follows the filters (back, reload and sharing work) without the
        # empty parameters a whole form submits. Typing a query replaces the entry; a changed
        # filter adds one.
        clean = url_with(request, defaults, page="")
        if request.htmx.trigger_name == "q":
            replace_url(response, clean)
        else:
            push_url(response, clean)
    return response


def _filter_choices(request: AuthedRequest) -> dict[str, Any]:
    """The options of the filter bar: two small queries, only for full pages."""
    # The most used tags (a select of two thousand helps nobody; /tags/ lists them all).
    used = Tag.objects.filter(user=request.user).order_by("-highlight_count", Lower("name"))
    tags = sorted(used.values_list("name", flat=True)[:TAGS_IN_FILTER], key=str.casefold)
    return {"origins": source_origins(request.user), "tag_names": tags, "categories": CATEGORY_CHOICES}


def _fetch_sources(sources: QuerySet[Source], offset: int, limit: int) -> list[Source]:
    """A page of sources with their authors. Past the first page, the ids come first, counted
    off in a sort's index without reading the table, then just those rows (a "deferred join"):
    page 500 costs about what page 1 does."""
    if not offset:
        return list(sources.with_authors()[:limit])  # type: ignore[attr-defined]
    ids = list(sources.values_list("pk", flat=True)[offset : offset + limit])
    return in_order(ids, Source.objects.filter(pk__in=ids).with_authors())


def in_order[T: Model](ids: list[int], rows: Iterable[T]) -> list[T]:
    """`rows` (read by their ids) in the order of `ids`: the second step of a deferred join."""
    found = {row.pk: row for row in rows}
    return [found[pk] for pk in ids if pk in found]


def _author_for(request: AuthedRequest, form: FilterForm) -> Author | None:
    author_id = form.filters.author
    if not author_id:
        return None
    return Author.objects.filter(user=request.user, pk=author_id).first()


@require_safe
@vary_on_headers("HX-Request")
@kept_page(refresh=lambda request, response: _fresh_resurface(request, response))
def library(request: AuthedRequest) -> HttpResponse:
    form = FilterForm(request.GET)
    sources = filter_sources(request.user, request.GET)
    defaults = {"sort": form.default_sort}
    page = paginate(request, sources, form.page_number, SOURCES_PER_PAGE, defaults, _fetch_sources)
    part = fragment(request, page.number)
    context: dict[str, Any] = {"form": form, "filters": form.filters, "page": page, "sorts": SOURCE_SORTS}
    if part != "#page":
        context["total"] = sources.count()
        context["search_url"] = _search_url(form.filters.params())
    if not part:
        context.update(_filter_choices(request))
        context["filter_author"] = _author_for(request, form)
        if page.number == 1 and not form.filters.active:
            context.update(_resurface(request))
    response = respond(request, "highlights/library.html", context, page.number, defaults)
    if resurfaced := context.get("resurfaced"):
        _remember_resurfaced(request, response, resurfaced)
    return response


def _search_url(params: dict[str, str]) -> str:
    """The search page under the same filters."""
    return reverse("highlights:search") + (f"?{urlencode(params)}" if params else "")


def _resurface(request: AuthedRequest) -> dict[str, Any]:
    resurfaced = _random(request)
    if resurfaced is None:  # nothing to show
        return {}
    first_at = Highlight.objects.first_highlighted_at(request.user)
    first = timezone.localtime(first_at).year if first_at else timezone.localdate().year
    on_this_day = list(Highlight.objects.live(request.user).select_related("source").on_this_day(limit=5, since=first))
    return {"resurfaced": resurfaced, "on_this_day": on_this_day}


def _random(request: AuthedRequest) -> Highlight | None:
    shown = request.COOKIES.get(RESURFACED_COOKIE, "")
    return Highlight.objects.select_related("source").random_for(
        request.user, exclude=int(shown) if shown.isdigit() and len(shown) < 19 else None
    )


RESURFACE_START, RESURFACE_END = b"<!--resurface-->", b"<!--/resurface-->"


def _fresh_resurface(request: AuthedRequest, response: HttpResponse) -> None:
    """A kept home page gets a new random highlight (and is remembered, as on a drawn page)."""
    start = response.content.find(RESURFACE_START)
    end = response.content.find(RESURFACE_END, start)
    if start < 0 or end < 0 or (highlight := _random(request)) is None:
        return
    card = render(request, "highlights/library.html#resurface", {"resurfaced": highlight}).content
    response.content = response.content[: start + len(RESURFACE_START)] + card + response.content[end:]
    _remember_resurfaced(request, response, highlight)


def _remember_resurfaced(request: AuthedRequest, response: HttpResponse, highlight: Highlight) -> None:
    # The next visit shows another one; a cookie costs no database write.
    response.set_cookie(
        RESURFACED_COOKIE,
        str(highlight.pk),
        max_age=30 * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


@require_safe
@vary_on_headers("HX-Request")
def random_highlight(request: AuthedRequest) -> HttpResponse:
    """Another highlight at random: the resurface card (htmx), or that highlight's page."""
    highlight = _random(request)
    if request.htmx:
        response = render(request, "highlights/library.html#resurface", {"resurfaced": highlight})
    elif highlight is None:
        return redirect("highlights:library")
    else:
        response = redirect(highlight)
    if highlight is not None:
        _remember_resurfaced(request, response, highlight)
    return response


@require_safe
@vary_on_headers("HX-Request")
@kept_page()
def author_list(request: AuthedRequest) -> HttpResponse:
    form = ListForm(request.GET)
    live = Q(sources__deleted_at__isnull=True)
    authors = (
        Author.objects.filter(user=request.user)
        .annotate(
            source_count=Count("sources", filter=live),
            highlight_count=Coalesce(Sum("sources__highlight_count", filter=live), 0),
        )
        .filter(source_count__gt=0)
    )
    if form.query:
        authors = authors.filter(name__icontains=form.query)
    authors = authors.order_by("-highlight_count", "key") if form.sort_key == "count" else authors.order_by("key")
    page = paginate(request, authors, form.page_number, AUTHORS_PER_PAGE, {"sort": "name"})
    context: dict[str, Any] = {"form": form, "page": page, "sorts": AUTHOR_SORTS}
    if fragment(request, page.number) != "#page":
        context["total"] = authors.count()
    return respond(request, "highlights/authors.html", context, page.number, {"sort": "name"})


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset, as an annotation (0 when it is empty)."""

    template = "(SELECT count(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def _count(queryset: QuerySet[Any]) -> SubqueryCount:
    return SubqueryCount(queryset.order_by().values("pk"))


@require_safe
@vary_on_headers("HX-Request")
@kept_page()
def author_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    author = get_object_or_404(Author, pk=pk, user=request.user)
    params = request.GET.copy()
    params["author"] = str(author.pk)
    form = FilterForm(params)
    sources = filter_sources(request.user, params)
    defaults = {"sort": form.default_sort}
    page = paginate(request, sources, form.page_number, SOURCES_PER_PAGE, defaults, _fetch_sources)
    part = fragment(request, page.number)
    context: dict[str, Any] = {
        "author": author,
        "form": form,
        "filters": form.filters,
        "page": page,
        "sorts": SOURCE_SORTS,
    }
    if part != "#page":
        context["total"] = sources.count()
        context["search_url"] = _search_url(form.filters.params())
    if not part:
        context.update(_filter_choices(request))
        context["highlight_total"] = sources.aggregate(n=Coalesce(Sum("highlight_count"), 0))["n"]
    return respond(request, "highlights/author.html", context, page.number, defaults)


@require_safe
@kept_page()
def tag_list(request: AuthedRequest) -> HttpResponse:
    form = ListForm(request.GET)
    source_tags = Tag.sources.through.objects.filter(tag=OuterRef("pk"), source__deleted_at__isnull=True)
    tags = Tag.objects.filter(user=request.user).annotate(source_count=_count(source_tags))
    if form.query:
        tags = tags.filter(name__icontains=form.query)
    if form.sort_key == "count":
        tags = tags.order_by("-highlight_count", "-source_count", Lower("name"))
    else:
        tags = tags.order_by(Lower("name"))
    return render(request, "highlights/tags.html", {"form": form, "tags": list(tags), "sorts": TAG_SORTS})


@require_safe
@vary_on_headers("HX-Request")
@kept_page()
def tag_detail(request: AuthedRequest, name: str) -> HttpResponse:
    tag = get_object_or_404(Tag.objects.filter(user=request.user).named(name))
    form = SearchForm(request.GET)
    # Newest (most recently added) first: Postgres walks the tag's own index of links
    # (highlight_tags_by_tag) and reads one page, however many highlights carry the tag. The
    # tag is the user's, so its highlights are too.
    highlights = (
        Highlight.objects.filter(tags=tag, deleted_at__isnull=True, source__deleted_at__isnull=True)
        .order_by("pk" if form.sort_key == "oldest" else "-pk")
        .select_related("source")
        .with_tags()
    )
    page = paginate(request, highlights, form.page_number, HIGHLIGHTS_PER_PAGE, {"sort": "recent"})
    part = fragment(request, page.number)
    context: dict[str, Any] = {"tag": tag, "form": form, "page": page, "show_source": True}
    if part != "#page":
        context["total"] = tag.highlight_count  # kept by a trigger; counting would read every link
    if not part:
        sources = Source.objects.for_user(request.user).filter(tags=tag).order_by(*SOURCE_ORDER["recent"])
        context["sources"] = list(sources.with_authors()[:TAG_SOURCES_SHOWN])
        context["source_total"] = sources.count()
    return respond(request, "highlights/tag.html", context, page.number, {"sort": "recent"})


@require_safe
@kept_page()
def highlight_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    highlight = get_object_or_404(
        Highlight.objects.live(request.user).select_related("source").prefetch_related("tags"),
        pk=pk,
    )
    source = highlight.source
    in_source = Highlight.objects.filter(source=source, deleted_at__isnull=True)
    before = in_source.filter(
        Q(position__lt=highlight.position) | Q(position=highlight.position, pk__lt=highlight.pk)
    ).order_by("-position", "-pk")
    after = in_source.filter(
        Q(position__gt=highlight.position) | Q(position=highlight.position, pk__gt=highlight.pk)
    ).order_by("position", "pk")
    # The source page shows its highlights a page at a time: link to the page holding this one.
    number = before.count() // SOURCE_HIGHLIGHTS_PER_PAGE + 1
    source_url = source.get_absolute_url() + (f"?page={number}" if number > 1 else "") + f"#highlight-{highlight.pk}"
    return render(
        request,
        "highlights/detail.html",
        {
            "highlight": highlight,
            "source": source,
            "source_url": source_url,
            "authors": list(SourceAuthor.objects.filter(source=source).select_related("author").order_by("position")),
            "previous": before.only("pk").first(),
            "next": after.only("pk").first(),
        },
    )


@require_safe
@vary_on_headers("HX-Request")
@kept_page()
def search_page(request: AuthedRequest) -> HttpResponse:
    """Search highlights (and, above them, sources by title and author) under the library's filters.

    With no query but some filters, lists the highlights under those filters (all favourites,
    say), newest first.
    """
    form = SearchForm(request.GET)
    q = form.query
    part = fragment(request, form.page_number)
    context: dict[str, Any] = {"form": form, "filters": form.filters, "q": q, "sorts": HIGHLIGHT_SORTS}
    if q or form.filters.active:
        # A query ranks at most COUNT_CAP + 1 matches (and says "more than 1,000"), so a word
        # found in half the archive costs no more than a rare one.
        found = first_matches(request.user, q, form, COUNT_CAP + 1) if q else None
        results = search_highlights(request.user, q, form, among=found)
        defaults = {"sort": form.default_sort}
        page = paginate(request, results, form.page_number, HIGHLIGHTS_PER_PAGE, defaults, _fetch_found(q))
        if q:
            _add_snippets(page.items, search.parse(q).positive_terms)
        context["page"] = page
        if part != "#page":
            context["total"] = len(found) if found is not None else results.order_by()[: COUNT_CAP + 1].count()
            context["total_capped"] = context["total"] > COUNT_CAP
            if q:
                context["sources"] = list(search_sources(request.user, q, form)[:SEARCH_SOURCES_SHOWN])
    if not part:
        context.update(_filter_choices(request))
        context["filter_author"] = _author_for(request, form)
    return respond(request, "highlights/search.html", context, form.page_number, {"sort": form.default_sort})


def _fetch_found(q: str) -> Callable[[QuerySet[Highlight], int, int], list[Highlight]]:
    """A page of found highlights: their ids first, in the results' order, then just those
    rows with their sources, tags and snippets (a "deferred join"): joining each of a thousand
    ranked matches to its source before keeping the page's thirty was a third of the query."""

    def fetch(found: QuerySet[Highlight], offset: int, limit: int) -> list[Highlight]:
        ids = list(found.values_list("pk", flat=True)[offset : offset + limit])
        rows = Highlight.objects.filter(pk__in=ids).order_by().select_related("source").with_tags()
        return in_order(ids, rows.with_snippets(q) if q else rows)

    return fetch


def _add_snippets(highlights: list[Highlight], terms: list[str]) -> None:
    for highlight in highlights:
        highlight.snippet = search.snippet(highlight.text_headline, highlight.text, terms)  # type: ignore[attr-defined]
        note = highlight.note
        matched = search.has_mark(highlight.note_headline) or any(  # type: ignore[attr-defined]
            term.casefold() in note.casefold() for term in terms
        )
        highlight.note_snippet = (  # type: ignore[attr-defined]
            search.snippet(highlight.note_headline, note, terms) if note and matched else ""  # type: ignore[attr-defined]
        )
