"""What "the current filter" and "the current search" mean, in one place.

The library, the author and tag pages, the search page, and exports of "what I am looking at"
all call these, so a filter means the same thing everywhere:

    filter_sources(user, params)          -> QuerySet[Source]     the library
    filter_highlights(user, params)       -> QuerySet[Highlight]  highlights under those filters
    first_matches(user, q, params, limit) -> list[int]            a bounded first pass for the search page
    search_highlights(user, q, params)    -> QuerySet[Highlight]  search results, best match first
    search_sources(user, q, params)       -> QuerySet[Source]     sources whose title or author match

`params` is `request.GET` (or any dict) with the query-string names the pages use (the search
functions also take a `SearchForm` made of them, so a page asking several reads them once):

    category   a Category value ("books", "articles", ...)
    origin     the app it was read in ("kindle", "reader", ...)
    author     an Author id: sources with that author
    tag        a tag name, any case: sources carrying it or having a highlight that carries it;
               highlights carrying it or belonging to a source that carries it
    favorites  "1": sources with a favourite highlight; favourite highlights
    sort       sources: recent (default), added, title, author, count;
               highlights: relevance (default when searching), recent (default otherwise), oldest

Unknown or invalid values are ignored. Every result is scoped to `user`, leaves out deleted
highlights and sources, is ordered, and is not sliced (callers page it and add what they show,
e.g. `select_related("source")`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value

from archive.models import Source, SourceAuthor, search_text
from highlights import search
from highlights.forms import FilterForm, Filters, SearchForm
from highlights.models import Highlight, Tag, TagSource

SOURCE_ORDER: dict[str, list[Any]] = {
    "recent": [F("last_highlighted_at").desc(nulls_last=True), F("id").desc()],
    "added": [F("created_at").desc(), F("id").desc()],
    "title": ["title_key", "id"],
    "author": [F("author_key").asc(nulls_last=True), "title_key", "id"],
    "count": [F("highlight_count").desc(), F("id").desc()],
}
HIGHLIGHT_ORDER: dict[str, list[Any]] = {
    "recent": [F("highlighted_at").desc(nulls_last=True), F("id").desc()],
    "oldest": [F("highlighted_at").asc(nulls_last=True), "id"],
}

Params = Mapping[str, Any] | SearchForm


def _search_form(params: Params) -> SearchForm:
    return params if isinstance(params, SearchForm) else SearchForm(params)


def filter_sources(user: Any, params: Mapping[str, Any]) -> QuerySet[Source]:
    """The user's sources under the filters in `params`, in its sort (recently highlighted first)."""
    form = FilterForm(params)
    sources = apply_source_filters(Source.objects.for_user(user), user, form.filters)
    return sources.order_by(*SOURCE_ORDER.get(form.sort_key, SOURCE_ORDER["recent"]))


def filter_highlights(user: Any, params: Params) -> QuerySet[Highlight]:
    """The user's highlights under the filters in `params`, newest first (or `sort=oldest`)."""
    return search_highlights(user, "", params)


def search_highlights(user: Any, q: str, params: Params, *, among: list[int] | None = None) -> QuerySet[Highlight]:
    """Highlights whose text or note match `q`, under the filters in `params`.

    With `q`, ordered by rank (web-search syntax, English stemming; Chinese and Japanese terms
    matched as substrings) unless `sort` says otherwise, and annotated with `rank`. Without `q`,
    every highlight under the filters, newest first.

    `among` (ids from `first_matches`) ranks just those highlights, without matching again.
    """
    form = _search_form(params)
    if not q.strip():
        highlights = apply_highlight_filters(Highlight.objects.live(user), user, form.filters)
        return highlights.order_by(*HIGHLIGHT_ORDER.get(form.sort_key, HIGHLIGHT_ORDER["recent"]))
    if among is not None:
        ranked = Highlight.objects.filter(search.AnyOf(F("pk"), Value(among))).ranked(q)
    else:
        ranked = apply_highlight_filters(Highlight.objects.live(user), user, form.filters).search(q)
    if form.sort_key in HIGHLIGHT_ORDER:
        ranked = ranked.order_by(*HIGHLIGHT_ORDER[form.sort_key])
    return ranked


def first_matches(user: Any, q: str, params: Params, limit: int) -> list[int]:
    """The ids of the `limit` most recently added highlights matching `q` under the filters.

    Bounds the work of a very broad query (a word in half the archive): the search page ranks
    only these (`search_highlights(..., among=ids)`) and says "more than ..." past them.
    """
    form = _search_form(params)
    return apply_highlight_filters(Highlight.objects.live(user), user, form.filters).newest_matching_ids(q, limit)


def search_sources(user: Any, q: str, params: Params) -> QuerySet[Source]:
    """Sources whose title or author match `q`, under the filters in `params`, best match first."""
    parsed = search.parse(q)
    if not parsed:
        return Source.objects.none()
    query = search.fts_query(parsed)
    condition = Q(search_vector=query)
    if substring := search.substring_condition(parsed, [search_text()]):
        condition |= substring
    sources = apply_source_filters(Source.objects.for_user(user).filter(condition), user, _search_form(params).filters)
    return sources.annotate(rank=SearchRank(F("search_vector"), query)).order_by(
        "-rank", F("highlight_count").desc(), F("id").desc()
    )


ORIGINS_SQL = """
WITH RECURSIVE found(origin) AS (
    (SELECT origin FROM archive_source
     WHERE user_id = %(user)s AND deleted_at IS NULL AND origin > '' ORDER BY origin LIMIT 1)
    UNION ALL
    SELECT (SELECT s.origin FROM archive_source AS s
            WHERE s.user_id = %(user)s AND s.deleted_at IS NULL AND s.origin > found.origin
            ORDER BY s.origin LIMIT 1)
    FROM found WHERE found.origin IS NOT NULL
)
SELECT origin FROM found WHERE origin IS NOT NULL
"""


def source_origins(user: Any) -> list[str]:
    """The apps the user's sources were read in, sorted: the choices of the `origin` filter.

    A skip scan of the (user, origin) index, one probe per origin, rather than reading every
    source to find the handful of distinct values.
    """
    with connection.cursor() as cursor:
        cursor.execute(ORIGINS_SQL, {"user": user.pk})
        return [origin for (origin,) in cursor.fetchall()]


def _tag_ids(user: Any, name: str) -> QuerySet[Tag]:
    return Tag.objects.filter(user=user).named(name).values("pk")


def apply_source_filters(sources: QuerySet[Source], user: Any, filters: Filters) -> QuerySet[Source]:
    if filters.category:
        sources = sources.filter(category=filters.category)
    if filters.origin:
        sources = sources.filter(origin=filters.origin)
    if filters.author:
        # The author's sources first (a few hundred ids, read on the author's index), then just
        # those in the sort's order. Given a subquery instead, Postgres walks all the user's
        # sources in sort order probing each for the author (9,000 probes to fill a page).
        ids = SourceAuthor.objects.filter(author_id=filters.author).values_list("source_id", flat=True)
        sources = sources.filter(pk__in=list(ids))
    if filters.tag:
        tags = _tag_ids(user, filters.tag)
        tagged = Tag.sources.through.objects.filter(tag__in=tags).values("source_id")
        # TagSource (kept by triggers): a row per source, not one per tagged highlight.
        with_tagged_highlights = TagSource.objects.filter(tag__in=tags, highlight_count__gt=0).values("source_id")
        sources = sources.filter(Q(pk__in=tagged) | Q(pk__in=with_tagged_highlights))
    if filters.favorites:
        sources = sources.filter(
            Exists(Highlight.objects.filter(source=OuterRef("pk"), favorite=True, deleted_at__isnull=True))
        )
    return sources


def apply_highlight_filters(highlights: QuerySet[Highlight], user: Any, filters: Filters) -> QuerySet[Highlight]:
    if filters.category:
        highlights = highlights.filter(source__category=filters.category)
    if filters.origin:
        highlights = highlights.filter(source__origin=filters.origin)
    if filters.author:
        highlights = highlights.filter(
            source_id__in=SourceAuthor.objects.filter(author_id=filters.author).values("source_id")
        )
    if filters.tag:
        tags = _tag_ids(user, filters.tag)
        tagged = Highlight.tags.through.objects.filter(tag__in=tags).values("highlight_id")
        in_tagged_source = Tag.sources.through.objects.filter(tag__in=tags).values("source_id")
        highlights = highlights.filter(Q(pk__in=tagged) | Q(source_id__in=in_tagged_source))
    if filters.favorites:
        highlights = highlights.filter(favorite=True)
    return highlights
