"""Curating highlights: editing one, acting on many at once, and the Trash.

Every change here is one SQL statement over a set of rows (never a save per row), so a bulk
action over thousands of highlights costs what it costs over one; the database triggers of
highlights migration 0003 keep Source.highlight_count, Tag.highlight_count and TagSource right
whichever rows a statement touches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from archive.models import Source
from highlights.filters import apply_highlight_filters
from highlights.forms import SearchForm
from highlights.models import Highlight, Tag


class Action(models.TextChoices):
    TAG = "tag", "Add tag"
    UNTAG = "untag", "Remove tag"
    FAVORITE = "favorite", "Favourite"
    UNFAVORITE = "unfavorite", "Unfavourite"
    DELETE = "delete", "Delete"


def edit_text(highlight: Highlight, text: str) -> bool:
    """Change a highlight's text, keeping the fingerprint it was imported with.

    The importer finds a highlight by that fingerprint: re-importing the original file then
    meets the edited highlight (and leaves it alone, as it is edited) instead of adding the old
    text back as a new one.
    """
    if text == highlight.text:
        return False
    highlight.text = text
    highlight.edited_at = timezone.now()
    highlight.save(update_fields=["text", "edited_at", "updated_at"])
    return True


def scoped(user: Any, data: Mapping[str, Any]) -> QuerySet[Highlight]:
    """Every highlight of the list a bulk action was started from ("select all N matching").

    `scope` names the list: `source` (with `source`, an id), `tag` (with `scope_tag`, a name), or
    `search` (with the search page's `q` and filters). The set is computed again here, so it is
    all that match, not the page the reader saw. Someone else's source or tag is a 404.
    """
    live = Highlight.objects.live(user)
    scope = data.get("scope", "")
    if scope == "source":
        source_id = str(data.get("source", ""))
        if not source_id.isdigit():
            raise Http404
        source = Source.objects.for_user(user).filter(pk=int(source_id)).first()
        if source is None:
            raise Http404
        return live.filter(source=source)
    if scope == "tag":
        tag = Tag.objects.filter(user=user).named(str(data.get("scope_tag", ""))).first()
        if tag is None:
            raise Http404
        return live.filter(tags=tag)
    if scope == "search":
        form = SearchForm(data)
        highlights = apply_highlight_filters(live, user, form.filters)
        return highlights.matching(form.query) if form.query else highlights
    raise Http404


def chosen(user: Any, ids: list[int]) -> QuerySet[Highlight]:
    """The user's live highlights with these ids; any id not among them is a 404."""
    wanted = set(ids)
    highlights = Highlight.objects.live(user).filter(pk__in=wanted)
    if highlights.count() != len(wanted):
        raise Http404
    return highlights


@dataclass
class Outcome:
    action: str
    count: int
    tag: Tag | None = None

    @property
    def message(self) -> str:
        n = f"{self.count:,} highlight{'s' * (self.count != 1)}"
        if self.action == Action.TAG:
            return f"Tagged {n} with “{self.tag}”."
        if self.action == Action.UNTAG:
            return f"Removed “{self.tag}” from {n}."
        if self.action == Action.FAVORITE:
            return f"Marked {n} as favourite."
        if self.action == Action.UNFAVORITE:
            return f"Unmarked {n} as favourite."
        return f"Moved {n} to the Trash."


def _ids_sql(highlights: QuerySet[Highlight]) -> tuple[str, tuple[Any, ...]]:
    sql, params = highlights.order_by().values("pk").query.sql_with_params()
    return sql, tuple(params)


@transaction.atomic
def apply(user: Any, highlights: QuerySet[Highlight], action: str, tag_name: str = "") -> Outcome:
    """Do `action` to every highlight of the set, in one statement."""
    if action in (Action.TAG, Action.UNTAG):
        name = tag_name.strip()[:200]
        tag = Tag.objects.filter(user=user).named(name).first()
        if action == Action.UNTAG:
            if tag is None:
                return Outcome(action, 0, Tag(user=user, name=name))
            links = Highlight.tags.through.objects.filter(tag=tag, highlight_id__in=highlights.order_by().values("pk"))
            return Outcome(action, links.delete()[0], tag)
        if tag is None:
            tag = Tag.objects.create(user=user, name=name)
        sql, params = _ids_sql(highlights)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO highlights_highlight_tags (highlight_id, tag_id) "
                f"SELECT chosen.id, %s FROM ({sql}) AS chosen(id) ON CONFLICT DO NOTHING",
                (tag.pk, *params),
            )
        return Outcome(action, highlights.count(), tag)  # those tagged before count too: all carry it now
    if action == Action.FAVORITE:
        return Outcome(action, highlights.filter(favorite=False).update(favorite=True))
    if action == Action.UNFAVORITE:
        return Outcome(action, highlights.filter(favorite=True).update(favorite=False))
    if action == Action.DELETE:
        return Outcome(action, trash(highlights))
    raise ValueError(f"unknown action {action!r}")


def trash(highlights: QuerySet[Highlight]) -> int:
    """Move highlights to the Trash (they keep their fingerprints: a re-import will not bring them back)."""
    return highlights.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())


def restore(highlights: QuerySet[Highlight]) -> int:
    return highlights.filter(deleted_at__isnull=False).update(deleted_at=None)


def trashed_highlights(user: Any) -> QuerySet[Highlight]:
    """Highlights the user deleted one by one (or in bulk) from sources still in the library."""
    return (
        Highlight.objects.filter(user=user, deleted_at__isnull=False)
        .exclude(source_id__in=Source.objects.filter(user=user, deleted_at__isnull=False).values("pk"))
        .order_by("-deleted_at", "-pk")
    )


def trashed_sources(user: Any) -> QuerySet[Source]:
    return Source.objects.filter(user=user, deleted_at__isnull=False).order_by("-deleted_at", "-pk")


def trash_source(source: Source) -> None:
    """Move a source, and with it its highlights, to the Trash (the highlights keep their own state)."""
    Source.objects.filter(pk=source.pk, deleted_at__isnull=True).update(deleted_at=timezone.now())


def restore_source(source: Source) -> None:
    Source.objects.filter(pk=source.pk, deleted_at__isnull=False).update(deleted_at=None)


@transaction.atomic
def empty_trash(user: Any) -> tuple[int, int]:
    """Delete for good the user's trashed sources and highlights: (sources, highlights) deleted.

    Set-based, in the order the count triggers expect: tag links, then highlights, then sources.
    """
    sources = Source.objects.filter(user=user, deleted_at__isnull=False)
    gone = Highlight.objects.filter(user=user).filter(
        Q(deleted_at__isnull=False) | Q(source_id__in=sources.values("pk"))
    )
    Highlight.tags.through.objects.filter(highlight_id__in=gone.values("pk")).delete()
    # One DELETE, not Django's collector (which would read every row first): nothing else
    # points at a highlight once its tag links are gone.
    highlight_count = gone._raw_delete(gone.db)
    source_count = sources.count()
    sources.delete()  # their authors' links, tags' links, TagSource rows and aliases go with them
    return source_count, highlight_count
