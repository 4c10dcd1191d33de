"""Highlights and tags: the reader's own words and the order they put on them."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchHeadline, SearchRank, SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone

from config.reversing import reverse_pk, reverse_plain
from highlights import search


def fingerprint(text: str) -> str:
    """What makes two highlights of one source the same, whatever whitespace or case changed."""
    # split() breaks at exactly what `\s` matches, so this is re.sub(r"\s+", " ", ...).strip(), faster.
    normal = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


RECOUNT_SQL = """
UPDATE archive_source AS s SET highlight_count = coalesce(
    (SELECT count(*) FROM highlights_highlight AS h WHERE h.source_id = s.id AND h.deleted_at IS NULL), 0
) WHERE %(user)s IS NULL OR s.user_id = %(user)s;
UPDATE highlights_tag AS t SET highlight_count = coalesce((
    SELECT count(*) FROM highlights_highlight_tags AS ht
    JOIN highlights_highlight AS h ON h.id = ht.highlight_id AND h.deleted_at IS NULL
    JOIN archive_source AS s ON s.id = h.source_id AND s.deleted_at IS NULL
    WHERE ht.tag_id = t.id
), 0) WHERE %(user)s IS NULL OR t.user_id = %(user)s;
DELETE FROM highlights_tagsource AS ts USING highlights_tag AS t
WHERE t.id = ts.tag_id AND (%(user)s IS NULL OR t.user_id = %(user)s);
INSERT INTO highlights_tagsource (tag_id, source_id, highlight_count)
SELECT ht.tag_id, h.source_id, count(*) FROM highlights_highlight_tags AS ht
JOIN highlights_highlight AS h ON h.id = ht.highlight_id AND h.deleted_at IS NULL
JOIN highlights_tag AS t ON t.id = ht.tag_id AND (%(user)s IS NULL OR t.user_id = %(user)s)
GROUP BY ht.tag_id, h.source_id;
"""


def recount(user: Any = None) -> None:
    """Recompute Source.highlight_count, Tag.highlight_count and TagSource (of one user, or everyone).

    Triggers keep both counts; call this only after writing with triggers disabled (a bulk
    seed with `ALTER TABLE ... DISABLE TRIGGER USER`).
    """
    with connection.cursor() as cursor:
        cursor.execute(RECOUNT_SQL, {"user": getattr(user, "pk", user)})


class LocationKind(models.TextChoices):
    NONE = "", "None"
    LOCATION = "location", "Location"
    PAGE = "page", "Page"
    TIME = "time", "Time"
    OFFSET = "offset", "Offset"
    ORDER = "order", "Order"


class TagQuerySet(models.QuerySet["Tag"]):
    def named(self, name: str) -> TagQuerySet:
        """Tags called `name`, whatever the case (as the unique constraint on lower(name) sees it)."""
        return self.alias(lower_name=Lower("name")).filter(lower_name=Lower(models.Value(name.strip())))


class Tag(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=200)
    sources = models.ManyToManyField("archive.Source", related_name="tags", blank=True)
    highlight_count = models.PositiveIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="Shown highlights carrying it; kept by database triggers (highlights migration 0003).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), "user", name="tag_unique_name_per_user")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = self.name.strip()
        if (
            not self._state.adding
            and not args
            and not kwargs.get("force_insert")
            and kwargs.get("update_fields") is None
        ):
            # highlight_count belongs to the database triggers: never write back a stale one.
            kwargs["update_fields"] = [
                f.attname for f in self._meta.concrete_fields if f.name not in {"id", "highlight_count"}
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        # reverse() would leave ' ( ) = : and such as they are; a tag name is any text, so
        # everything but "/" is percent-encoded, and "." and ".." segments too, which browsers
        # would otherwise resolve away. Matches `tags/<path:name>/`.
        segments = quote(self.name, safe="/").split("/")
        name = "/".join("%2E" * len(segment) if segment in {".", ".."} else segment for segment in segments)
        return f"{reverse_plain('highlights:tags')}{name}/"


class TagSource(models.Model):
    """How many of a source's highlights (not deleted) carry a tag; kept by database triggers.

    Lets the library find the sources with highlights carrying a tag by reading a row per
    source, not one per highlight (a big tag has tens of thousands).
    """

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.ForeignKey("archive.Source", on_delete=models.CASCADE, related_name="+")
    highlight_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "source"], name="tag_source_unique")]

    def __str__(self) -> str:
        return f"{self.tag_id} on {self.source_id}: {self.highlight_count}"


PREFETCHED_TAGS = "prefetched_tags"
INDEX_ORDER_NEWEST = models.F("highlighted_at").desc(nulls_last=True)  # index highlight_user_highlighted


# The id of a random live highlight of a user (see `random_for`): the first at or after a
# random point between the ends of the user's ids, not the one to skip; else the first of all
# but that one; else that one. Each branch reads ids in order from an index and stops at its
# first row, and UNION ALL stops at the first branch that has one. The user's id is written
# into each branch (not read from a subquery) so that the planner knows whose ids it reads.
# Raw SQL, because the ORM took three times as long to build this query as the database takes
# to run it, on every visit to the home page.
RANDOM_PICK = """
WITH gone AS MATERIALIZED (
    SELECT s.id FROM archive_source AS s WHERE s.user_id = %(owner)s AND s.deleted_at IS NOT NULL
),
pivot AS MATERIALIZED (
    SELECT low + floor(random() * (high - low + 1))::bigint AS at FROM (
        SELECT min(h.id) AS low, max(h.id) AS high FROM highlights_highlight AS h
        WHERE h.user_id = %(owner)s AND h.deleted_at IS NULL
    ) AS ends
)
(SELECT h.id FROM highlights_highlight AS h
 WHERE h.user_id = %(owner)s AND h.deleted_at IS NULL AND h.id >= (SELECT at FROM pivot)
   AND h.id <> %(skip)s AND h.source_id NOT IN (SELECT id FROM gone)
 ORDER BY h.id LIMIT 1)
UNION ALL
(SELECT h.id FROM highlights_highlight AS h
 WHERE h.user_id = %(owner)s AND h.deleted_at IS NULL AND h.id <> %(skip)s AND h.source_id NOT IN (SELECT id FROM gone)
 ORDER BY h.id LIMIT 1)
UNION ALL
(SELECT h.id FROM highlights_highlight AS h
 WHERE h.user_id = %(owner)s AND h.deleted_at IS NULL AND h.source_id NOT IN (SELECT id FROM gone)
 ORDER BY h.id LIMIT 1)
LIMIT 1
"""
_RANDOM_PICK_SQL, _RANDOM_PICK_NAMES = (
    re.sub(r"%\((\w+)\)s", "%s", RANDOM_PICK),
    re.findall(r"%\((\w+)\)s", RANDOM_PICK),
)


class HighlightQuerySet(models.QuerySet["Highlight"]):
    def with_tags(self) -> HighlightQuerySet:
        """Fetch every row's tags in one more query, as a plain list (`Highlight.tag_list`).

        For pages that only draw the rows: adding or removing a tag later does not refresh the
        list (`prefetch_related("tags")` does, for views that change tags and redraw).
        """
        return self.prefetch_related(models.Prefetch("tags", to_attr=PREFETCHED_TAGS))

    def for_user(self, user: Any) -> HighlightQuerySet:
        return self.filter(user=user, deleted_at__isnull=True)

    def live(self, user: Any) -> HighlightQuerySet:
        """The user's highlights that are shown: neither they nor their source deleted.

        Deleted sources are few, so they are left out by id (NOT IN a small set read from a
        partial index) rather than by joining every highlight to its source.
        """
        sources = self.model._meta.get_field("source").related_model._base_manager  # archive.Source
        deleted = sources.filter(user=user, deleted_at__isnull=False).values("pk")
        return self.for_user(user).exclude(source_id__in=deleted)

    def matching(self, q: str) -> HighlightQuerySet:
        """Highlights whose text or note matches `q` (web-search syntax, English stemming).

        See `highlights.search` for how Chinese and Japanese terms and the word still being
        typed are matched.
        """
        parsed = search.parse(q)
        if not parsed:
            return self.none()
        condition = models.Q(search_vector=search.fts_query(parsed))
        if substring := search.substring_condition(parsed, ["text", "note"], bigrams=("text", "note")):
            condition |= substring
        return self.filter(condition)

    def newest_matching_ids(self, q: str, limit: int) -> list[int]:
        """The ids of the `limit` newest highlights (of this set) matching `q`, newest first.

        The same matches as `matching`, found as a UNION of the full-text search and the
        substring search instead of one OR, so that each part is read from its own index
        alone: an OR of the two would make Postgres compute every candidate's character pairs
        again to check it.
        """
        parsed = search.parse(q)
        if not parsed:
            return []
        ids = self.filter(search_vector=search.fts_query(parsed)).values_list("pk", flat=True)
        if substring := search.substring_condition(parsed, ["text", "note"], bigrams=("text", "note")):
            ids = ids.order_by().union(self.filter(substring).values_list("pk", flat=True).order_by())
        return list(ids.order_by("-pk")[:limit])

    def ranked(self, q: str) -> HighlightQuerySet:
        """Annotate `rank` for `q` and put the best first (then the newest)."""
        query = search.fts_query(search.parse(q))
        return self.annotate(rank=SearchRank(models.F("search_vector"), query)).order_by(
            "-rank", models.F("highlighted_at").desc(nulls_last=True), "-pk"
        )

    def search(self, q: str) -> HighlightQuerySet:
        """Highlights matching `q`, annotated with `rank`, best first."""
        return self.matching(q).ranked(q)

    def with_snippets(self, q: str) -> HighlightQuerySet:
        """Add `text_headline` and `note_headline`: ts_headline of each, matches marked.

        Apply to one page of results only: Postgres computes these per returned row.
        """
        parsed = search.parse(q)
        if not parsed:
            return self
        query = search.fts_query(parsed)
        options = {
            "config": search.CONFIG,
            "start_sel": search.START,
            "stop_sel": search.STOP,
            "max_words": 45,
            "min_words": 20,
        }
        return self.annotate(
            text_headline=SearchHeadline(search.headline_source("text"), query, **options),
            note_headline=SearchHeadline(search.headline_source("note"), query, **options),
        )

    def first_highlighted_at(self, user: Any) -> dt.datetime | None:
        """When the user's earliest highlight was made (read from an end of an index)."""
        first: dt.datetime | None = self.filter(user=user, deleted_at__isnull=True).aggregate(
            first=models.Min("highlighted_at")
        )["first"]
        return first

    def random_for(self, user: Any, exclude: int | None = None) -> Highlight | None:
        """One of the user's live highlights at random, cheaply at any size: no ORDER BY random().

        One query (`RANDOM_PICK`): a number drawn between the user's smallest and largest id
        (each read from an end of an index), and the first live highlight at or after it, else
        the first of all. Gaps in the ids make some highlights a little likelier than others,
        which resurfacing can live with. `exclude` (the one shown last time) is skipped when
        there is another to show.
        """
        values = {"owner": user.pk, "skip": exclude or 0}
        return self.filter(pk=RawSQL(_RANDOM_PICK_SQL, [values[name] for name in _RANDOM_PICK_NAMES])).first()

    def on_this_day(self, day: dt.date | None = None, limit: int = 5, since: int | None = None) -> HighlightQuerySet:
        """The newest `limit` highlights made on this calendar day (in the site's time zone) in
        earlier years, back to the year `since` (the earliest highlight's; 30 years if unknown).

        Each year's day is its own range of the (user, highlighted_at) index, read from its end
        for at most `limit` rows (a UNION ALL of them): a day with three thousand highlights
        over the years costs a few index probes, not reading and sorting all three thousand.
        """
        day = day or timezone.localdate()
        newest = []
        for year in range(day.year - 1, (since or day.year - 30) - 1, -1):
            try:
                then = day.replace(year=year)
            except ValueError:  # 29 February in a year without one
                continue
            start = timezone.make_aware(dt.datetime.combine(then, dt.time.min))
            end = timezone.make_aware(dt.datetime.combine(then + dt.timedelta(days=1), dt.time.min))
            that_day = self.filter(highlighted_at__gte=start, highlighted_at__lt=end)
            # Ordered as the index is (NULLS LAST: none is in range), so each reads `limit` rows.
            newest.append(that_day.order_by(INDEX_ORDER_NEWEST, "-pk").values("pk")[:limit])
        if not newest:
            return self.none()
        found = newest[0].union(*newest[1:], all=True)  # just newest[0] when it is alone
        return self.filter(pk__in=found).order_by("-highlighted_at", "-pk")[:limit]


class Highlight(models.Model):
    # No index of their own: (user, id) and (source, position) below begin with them, and every
    # index is one more write for each highlight imported.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="highlights", db_index=False
    )
    source = models.ForeignKey("archive.Source", on_delete=models.CASCADE, related_name="highlights", db_index=False)
    position = models.PositiveIntegerField(default=0, help_text="Order within the source.")
    text = models.TextField(blank=True)
    note = models.TextField(blank=True)
    location = models.CharField(max_length=100, blank=True)
    location_kind = models.CharField(max_length=10, choices=LocationKind.choices, blank=True)
    page = models.CharField(
        max_length=50, blank=True, help_text="The printed page, where the export gives one besides the location."
    )
    url = models.URLField(max_length=2000, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    color = models.CharField(max_length=30, blank=True)
    highlighted_at = models.DateTimeField(null=True, blank=True)
    favorite = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, related_name="highlights", blank=True)
    fingerprint = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last changed by its owner in Commonplace; re-imports leave it alone.",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("text", config="english", weight="A")
        + SearchVector("note", config="english", weight="B"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = HighlightQuerySet.as_manager()

    class Meta:
        ordering = ["source", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint"],
                name="highlight_unique_fingerprint_per_source",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="highlight_search_vector"),
            # (No trigram index on text: every substring search of highlights goes through the
            # bigram index below, and keeping a trigram index up to date doubled the cost of
            # writing a highlight. Sources keep theirs: their titles are searched by substring.)
            # Chinese and Japanese, which full-text search cannot cut into words: an index of the
            # character pairs (bigrams) of text and note, for `highlights.search` to find candidates;
            # only of the highlights that have such characters (see `unspaced_rows`).
            GinIndex(
                search.cjk_bigrams("text", "note"),
                name="highlight_cjk_bigrams",
                condition=search.unspaced_rows("text", "note"),
            ),
            models.Index(fields=["source", "position"], name="highlight_source_position"),
            models.Index(
                "user",
                models.F("highlighted_at").desc(nulls_last=True),
                models.F("id").desc(),
                name="highlight_user_highlighted",
            ),
            models.Index(fields=["user", "id"], name="highlight_user_id"),
            # Which source a live highlight is in, read from the index alone: the library's tag
            # filter goes from a tag's (possibly many thousand) highlights to their sources.
            models.Index(
                fields=["id"],
                include=["source", "user"],
                condition=models.Q(deleted_at__isnull=True),
                name="highlight_live_source",
            ),
            models.Index(
                fields=["source"],
                condition=models.Q(favorite=True, deleted_at__isnull=True),
                name="highlight_favorite_source",
            ),
            models.Index(
                "user",
                models.F("highlighted_at").desc(nulls_last=True),
                models.F("id").desc(),
                condition=models.Q(favorite=True, deleted_at__isnull=True),
                name="highlight_favorite_user",
            ),
            # The Trash page: the few deleted highlights, most recently deleted first.
            models.Index(
                "user",
                models.F("deleted_at").desc(),
                condition=models.Q(deleted_at__isnull=False),
                name="highlight_user_trashed",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.text or self.note)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse_pk("highlights:detail", self.pk)

    @property
    def tag_list(self) -> list[Tag]:
        """Its tags, by name: the list `with_tags()` fetched for a whole page, else a query.

        `highlight.tags.all` in a template makes a related manager and a QuerySet for every row
        (0.1 ms, a tenth of drawing a row) even when the tags are prefetched.
        """
        prefetched = self.__dict__.get(PREFETCHED_TAGS)
        return prefetched if prefetched is not None else list(self.tags.all())

    @property
    def location_label(self) -> str:
        """Where it is in its source, as a reader says it: "Page 12 · Location 335", "0:00:02"."""
        parts = []
        if self.page and self.location_kind != LocationKind.PAGE:
            parts.append(f"Page {self.page}")
        if self.location:
            if self.location_kind == LocationKind.LOCATION:
                parts.append(f"Location {self.location}")
            elif self.location_kind == LocationKind.PAGE:
                parts.append(f"Page {self.location}")
            elif self.location_kind in (LocationKind.TIME, LocationKind.NONE):
                parts.append(self.location)
            # Offsets and order numbers are bookkeeping of the exporting app, not places a reader finds.
        return " · ".join(parts)
