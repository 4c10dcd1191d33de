"""Merging two sources that are one book (two editions, two exports of it) into one.

The survivor keeps its own metadata, fills its blanks from the other, and takes over the other's
highlights: those it already holds (the same fingerprint) collapse into one, keeping the notes,
tags and favourite of both; the rest move over, after its own. The other source is then deleted,
and its identity (with any it had absorbed before) becomes an alias of the survivor's, so that
re-importing the other's file finds the survivor and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Max

from archive.formats.document import Document
from archive.importing import source_identity
from archive.models import Source, SourceAlias, SourceAuthor
from highlights.models import Highlight, Tag

BLANK_FIELDS = (
    "display_title",
    "author_text",
    "url",
    "category",
    "origin",
    "cover_url",
    "saved_at",
    "published_on",
    "summary",
    "external_id",
)


@dataclass
class MergeOutcome:
    moved: int = 0
    collapsed: int = 0

    @property
    def message(self) -> str:
        parts = [f"{self.moved:,} highlight{'s' * (self.moved != 1)} moved over"]
        if self.collapsed:
            parts.append(
                f"{self.collapsed:,} already here combined with {'their' if self.collapsed != 1 else 'its'} copy"
            )
        return ", ".join(parts)


def _join_notes(first: str, second: str) -> str:
    first, second = first.strip(), second.strip()
    if not second or second in first:
        return first
    if not first or first in second:
        return second
    return f"{first}\n\n{second}"


@transaction.atomic
def merge(survivor: Source, other: Source) -> MergeOutcome:
    """Merge `other` into `survivor` (both the same user's live sources) and delete `other`."""
    if survivor.pk == other.pk or survivor.user_id != other.user_id:
        raise ValueError("a source merges only with another source of the same reader")
    # Lock both, in id order, so a concurrent import or merge waits for this one.
    list(Source.objects.select_for_update().filter(pk__in=[survivor.pk, other.pk]).order_by("pk"))
    survivor.refresh_from_db()
    other.refresh_from_db()
    outcome = MergeOutcome()

    ours = {h.fingerprint: h for h in Highlight.objects.filter(source=survivor).prefetch_related("tags")}
    theirs = list(Highlight.objects.filter(source=other).prefetch_related("tags").order_by("position", "pk"))
    through = Highlight.tags.through
    kept: list[Highlight] = []
    duplicates: list[int] = []
    new_links: list[tuple[int, int]] = []
    for twin in theirs:
        keep = ours.get(twin.fingerprint)
        if keep is None:
            continue
        duplicates.append(twin.pk)
        keep.note = _join_notes(keep.note, twin.note)
        keep.favorite = keep.favorite or twin.favorite
        if keep.deleted_at is not None and twin.deleted_at is None:
            keep.deleted_at = None  # shown in one of them: shown in the merged source
        if twin.edited_at and (keep.edited_at is None or twin.edited_at > keep.edited_at):
            if keep.edited_at is None:
                keep.text = twin.text  # only the other was edited here: the reader's version wins
            keep.edited_at = twin.edited_at
        for name in ("location", "location_kind", "page", "url", "external_id", "color", "highlighted_at"):
            if not getattr(keep, name) and getattr(twin, name):
                setattr(keep, name, getattr(twin, name))
        have = {tag.pk for tag in keep.tags.all()}
        new_links += [(keep.pk, tag.pk) for tag in twin.tags.all() if tag.pk not in have]
        kept.append(keep)
    if kept:
        Highlight.objects.bulk_update(
            kept,
            [
                "note",
                "favorite",
                "deleted_at",
                "text",
                "edited_at",
                "location",
                "location_kind",
                "page",
                "url",
                "external_id",
                "color",
                "highlighted_at",
            ],
            batch_size=1000,
        )
        through.objects.bulk_create(
            [through(highlight_id=h, tag_id=t) for h, t in dict.fromkeys(new_links)], ignore_conflicts=True
        )
        through.objects.filter(highlight_id__in=duplicates).delete()
        Highlight.objects.filter(pk__in=duplicates)._raw_delete(Highlight.objects.db)
    outcome.collapsed = len(duplicates)

    # The rest move over, after the survivor's own, in their order: one UPDATE.
    after = (Highlight.objects.filter(source=survivor).aggregate(n=Max("position"))["n"] or 0) + 1
    outcome.moved = Highlight.objects.filter(source=other).update(source=survivor, position=F("position") + after)

    _combine_sources(survivor, other)
    return outcome


def _combine_sources(survivor: Source, other: Source) -> None:
    changed = []
    for name in BLANK_FIELDS:
        if not getattr(survivor, name) and getattr(other, name):
            setattr(survivor, name, getattr(other, name))
            changed.append(name)
    note = _join_notes(survivor.note, other.note)
    if note != survivor.note:
        survivor.note = note
    extra = {**other.extra, **survivor.extra}
    if extra != survivor.extra:
        survivor.extra = extra
    if other.last_highlighted_at and (
        survivor.last_highlighted_at is None or other.last_highlighted_at > survivor.last_highlighted_at
    ):
        survivor.last_highlighted_at = other.last_highlighted_at
    survivor.save()

    # Tags of the sources, and authors (after the survivor's own, in order).
    Tag.sources.through.objects.bulk_create(
        [
            Tag.sources.through(tag_id=tag_id, source_id=survivor.pk)
            for tag_id in other.tags.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    have = set(SourceAuthor.objects.filter(source=survivor).values_list("author_id", flat=True))
    start = len(have)
    extra_authors = [
        link.author_id
        for link in SourceAuthor.objects.filter(source=other).order_by("position")
        if link.author_id not in have
    ]
    SourceAuthor.objects.bulk_create(
        SourceAuthor(source=survivor, author_id=author_id, position=start + i)
        for i, author_id in enumerate(extra_authors)
    )

    # Re-imports of the other's files find the survivor from now on.
    SourceAlias.objects.filter(source=other).update(source=survivor)
    other.delete()
    for identity in (other.identity, identity_now(other)):
        add_alias(survivor, identity)


def identity_now(source: Source) -> str:
    """The identity an export of the source as it is now (its title or link maybe edited) would have."""
    return source_identity(
        Document(title=source.title, display_title=source.display_title, author=source.author_text, url=source.url)
    )


def add_alias(source: Source, identity: str) -> None:
    """Let re-imports of `identity` find `source`, unless it is the source's own or another's."""
    if not identity or identity == source.identity:
        return
    if Source.objects.filter(user_id=source.user_id, identity=identity).exists():
        return
    SourceAlias.objects.get_or_create(user_id=source.user_id, identity=identity, defaults={"source": source})
