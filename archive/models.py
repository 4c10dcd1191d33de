"""Authors, sources and import jobs: what a reader's highlights come from, and how they got in."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Coalesce, Concat, Left, Lower, NullIf
from django.urls import reverse

from config.reversing import reverse_pk


def normalise_key(text: str) -> str:
    """A comparison key: Unicode-normalised, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())  # `\s` is what split() splits at


class Category(models.TextChoices):
    BOOKS = "books", "Books"
    ARTICLES = "articles", "Articles"
    TWEETS = "tweets", "Tweets"
    PODCASTS = "podcasts", "Podcasts"
    SUPPLEMENTALS = "supplementals", "Supplementals"
    VIDEOS = "videos", "Videos"
    EMAILS = "emails", "Emails"
    PDFS = "pdfs", "PDFs"
    __empty__ = "Uncategorised"


class Author(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authors")
    name = models.CharField(max_length=500)
    key = models.CharField(max_length=500, editable=False)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="author_unique_key_per_user")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.key = normalise_key(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse_pk("highlights:author", self.pk)


# The library's sort keys, stored (generated columns) so the indexes that serve the sorts hold
# plain columns and a deep page can be skipped to from the index alone. Cut at 200 characters:
# a key must fit in a btree entry, whatever the title. (Linguistic ordering would need an ICU
# collation, which not every Postgres build has; lower() works anywhere.)
def sort_title() -> Left:
    """The title a reader sees, for ordering, case ignored."""
    return Left(Lower(Coalesce(NullIf("display_title", models.Value("")), "title")), 200)


def sort_author() -> Left:
    """The exported author string, for ordering, case ignored; NULL for sources without one."""
    return Left(Lower(NullIf("author_text", models.Value(""))), 200)


def search_text() -> Concat:
    """Titles and author in one string, for substring (trigram) search of sources."""
    space = models.Value(" ")
    return Concat("display_title", space, "title", space, "author_text", output_field=models.TextField())


LIVE = models.Q(deleted_at__isnull=True)


PREFETCHED_AUTHORS = "prefetched_author_links"


class SourceQuerySet(models.QuerySet["Source"]):
    def for_user(self, user: Any) -> SourceQuerySet:
        return self.filter(user=user, deleted_at__isnull=True)

    def with_authors(self) -> SourceQuerySet:
        """Fetch every row's authors (their links, in order) in one more query, as a plain list
        (`Source.author_links`): for pages that draw the rows."""
        links = SourceAuthor.objects.select_related("author").order_by("position")
        return self.prefetch_related(models.Prefetch("sourceauthor_set", queryset=links, to_attr=PREFETCHED_AUTHORS))


class Source(models.Model):
    """One document a reader highlighted: a book, an article, a tweet thread, a podcast episode."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sources")
    title = models.CharField(max_length=1000, help_text="The title as exported; may be an id.")
    display_title = models.CharField(
        max_length=1000,
        blank=True,
        help_text="The human title, when the export's title is not one.",
    )
    author_text = models.CharField("author (as exported)", max_length=1000, blank=True)
    authors = models.ManyToManyField(Author, through="SourceAuthor", related_name="sources", blank=True)
    url = models.URLField(max_length=2000, blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    origin = models.CharField(
        max_length=100,
        blank=True,
        help_text="The app it was read in: reader, kindle, ...",
    )
    cover_url = models.URLField(max_length=2000, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    published_on = models.DateField(null=True, blank=True)
    note = models.TextField("document note", blank=True)
    summary = models.TextField(blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(
        default=dict,
        blank=True,
        help_text="Front-matter keys Commonplace has no field for.",
    )
    identity = models.CharField(
        max_length=600,
        editable=False,
        help_text="What makes a re-import the same source.",
    )
    last_highlighted_at = models.DateTimeField(null=True, blank=True)
    highlight_count = models.PositiveIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="Live highlights; kept by database triggers (highlights migration 0003).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last changed by its owner in Commonplace; re-imports leave it alone.",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    title_key = models.GeneratedField(expression=sort_title(), output_field=models.TextField(), db_persist=True)
    author_key = models.GeneratedField(expression=sort_author(), output_field=models.TextField(), db_persist=True)
    search_vector = models.GeneratedField(
        expression=SearchVector(
            "display_title",
            "title",
            "author_text",
            config="english",
            weight="A",
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "identity"], name="source_unique_identity_per_user")]
        indexes = [
            GinIndex(fields=["search_vector"], name="source_search_vector"),
            GinIndex(OpClass(search_text(), name="gin_trgm_ops"), name="source_text_trigram"),
            # One index per library sort, each matching its ORDER BY exactly, of live sources
            # only, and holding every column the sort reads: a deep page is counted off in the
            # index without touching the table.
            models.Index(
                "user",
                models.F("last_highlighted_at").desc(nulls_last=True),
                models.F("id").desc(),
                condition=LIVE,
                name="source_user_last_highlighted",
            ),
            models.Index(fields=["user", "-created_at"], name="source_user_created"),
            models.Index(
                "user", models.F("created_at").desc(), models.F("id").desc(), condition=LIVE, name="source_user_added"
            ),
            models.Index(fields=["user", "title_key", "id"], condition=LIVE, name="source_user_title"),
            models.Index(fields=["user", "author_key", "title_key", "id"], condition=LIVE, name="source_user_author"),
            models.Index(
                "user",
                models.F("highlight_count").desc(),
                models.F("id").desc(),
                condition=LIVE,
                name="source_user_highlight_count",
            ),
            # The filter bar's origins (read by a skip scan), and the few deleted sources.
            models.Index(fields=["user", "origin"], condition=LIVE, name="source_user_origin"),
            models.Index(fields=["user"], condition=models.Q(deleted_at__isnull=False), name="source_user_deleted"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # highlight_count belongs to the database: a save of a Source loaded earlier must not
        # write back a count that highlights added since have made stale.
        if (
            not self._state.adding
            and not args
            and not kwargs.get("force_insert")
            and kwargs.get("update_fields") is None
        ):
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and not f.generated and f.name != "highlight_count" and f.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        return self.display_title or self.title

    def get_absolute_url(self) -> str:
        return reverse_pk("archive:source", self.pk)

    @property
    def author_links(self) -> list[SourceAuthor]:
        """Its authors' links (`link.author`), in order: the list `with_authors()` fetched for a
        whole page, else a query. (`source.sourceauthor_set.all` in a template makes a related
        manager and a QuerySet for every row, even prefetched: a tenth of drawing the row.)"""
        prefetched = self.__dict__.get(PREFETCHED_AUTHORS)
        if prefetched is not None:
            return prefetched
        return list(SourceAuthor.objects.filter(source=self).select_related("author").order_by("position"))

    @property
    def tag_list(self) -> list[Any]:
        """Its tags, by name (a source's page draws them once; see `Highlight.tag_list`)."""
        return list(self.tags.all())  # type: ignore[attr-defined]


class SourceAlias(models.Model):
    """Another identity a source answers to on import: that of a source merged into it.

    `archive.merging` writes one per merged-away source, so re-importing that source's file
    finds the survivor instead of creating the merged source again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="aliases")
    identity = models.CharField(max_length=600)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "identity"], name="source_alias_unique_identity_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.identity} -> {self.source_id}"


class SourceAuthor(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["source", "author"], name="source_author_unique")]


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Last sign of life of the worker running it (archive.jobs); a stale one means it stopped.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("archive:import_job", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


class ImportFile(models.Model):
    """One uploaded file in an import job, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Unchanged"
        SKIPPED = "skipped", "Skipped"
        ERROR = "error", "Error"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=1000)
    size = models.PositiveBigIntegerField(default=0)
    # The upload's bytes, kept in the database (not on a web container's disk) so any worker can
    # read them; cleared once the file has been imported.
    data = models.BinaryField(null=True, editable=False)
    format = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    sources_created = models.PositiveIntegerField(default=0)
    sources_updated = models.PositiveIntegerField(default=0)
    sources_unchanged = models.PositiveIntegerField(default=0)
    highlights_created = models.PositiveIntegerField(default=0)
    highlights_updated = models.PositiveIntegerField(default=0)
    highlights_unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    in_trash = models.PositiveIntegerField(
        default=0, help_text="Highlights the file holds that are in the Trash here, and were left there."
    )
    message = models.TextField(blank=True)
    source_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class ExportSettings(models.Model):
    """How one user's Markdown comes out: Commonplace's layout, Readwise's, or their own template."""

    class Layout(models.TextChoices):
        COMMONPLACE = "commonplace", "Commonplace (reads back into Commonplace without losing anything)"
        READWISE = "readwise", "Readwise's default Obsidian template"
        CUSTOM = "custom", "My own template"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_settings")
    layout = models.CharField(max_length=20, choices=Layout.choices, default=Layout.COMMONPLACE)
    template = models.TextField(
        blank=True,
        help_text="A Django template for one source's Markdown, used when the layout is 'My own template'.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "export settings"

    def __str__(self) -> str:
        return f"Export settings of {self.user}"

    @classmethod
    def for_user(cls, user: Any) -> ExportSettings:
        """The user's settings, or the defaults (unsaved) when they never changed them."""
        return cls.objects.filter(user=user).first() or cls(user=user)
