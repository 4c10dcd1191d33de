"""Tagging, notes and favourites: the reader's own curation, written so a re-import never undoes it.

The importer (archive/importing.py) fills blanks of a highlight or source, adds the tags its file
names, and leaves alone anything whose `edited_at` is set. So every change made here stamps
`edited_at` on what it touches: a tag removed, renamed or merged away is not put back by
importing the same file again, and a note cleared stays clear.

Counts (`Tag.highlight_count`, `TagSource`) are kept by database triggers (highlights migration
0003); nothing here counts.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from archive.models import Source
from highlights.models import Highlight, Tag

NAME_MAX = Tag._meta.get_field("name").max_length or 200
SUGGESTIONS = 12

HighlightTag = Highlight.tags.through
SourceTag = Tag.sources.through


def clean_name(raw: str) -> str:
    """A tag name as typed, trimmed; any text but empty, over-long or with line breaks."""
    name = " ".join((raw or "").splitlines()).strip()
    if not name:
        raise ValidationError("Type a tag name.")
    if len(name) > NAME_MAX:
        raise ValidationError(f"A tag name can be at most {NAME_MAX} characters long.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise ValidationError("A tag name cannot hold control characters.")
    return name


def find_or_create(user: Any, name: str) -> Tag:
    """The user's tag called `name` in any case, made if there is none (safe against a race)."""
    name = clean_name(name)
    for _ in range(3):
        found = Tag.objects.filter(user=user).named(name).first()
        if found is not None:
            return found
        try:
            with transaction.atomic():
                return Tag.objects.create(user_id=getattr(user, "pk", user), name=name)
        except IntegrityError:  # made at the same moment by another request: read it again
            continue
    return Tag.objects.filter(user=user).named(name).get()


def _stamp_highlights(highlights: QuerySet[Highlight]) -> None:
    now = timezone.now()
    highlights.update(edited_at=now, updated_at=now)


def _stamp_sources(sources: QuerySet[Source]) -> None:
    now = timezone.now()
    sources.update(edited_at=now, updated_at=now)


def tag_highlight(highlight: Highlight, name: str) -> Tag:
    tag = find_or_create(highlight.user_id, name)
    with transaction.atomic():
        HighlightTag.objects.bulk_create(
            [HighlightTag(highlight_id=highlight.pk, tag_id=tag.pk)], ignore_conflicts=True
        )
        _stamp_highlights(Highlight.objects.filter(pk=highlight.pk))
    return tag


def untag_highlight(highlight: Highlight, tag: Tag) -> None:
    with transaction.atomic():
        HighlightTag.objects.filter(highlight_id=highlight.pk, tag_id=tag.pk).delete()
        _stamp_highlights(Highlight.objects.filter(pk=highlight.pk))


def tag_source(source: Source, name: str) -> Tag:
    tag = find_or_create(source.user_id, name)
    with transaction.atomic():
        SourceTag.objects.bulk_create([SourceTag(source_id=source.pk, tag_id=tag.pk)], ignore_conflicts=True)
        _stamp_sources(Source.objects.filter(pk=source.pk))
    return tag


def untag_source(source: Source, tag: Tag) -> None:
    with transaction.atomic():
        SourceTag.objects.filter(source_id=source.pk, tag_id=tag.pk).delete()
        _stamp_sources(Source.objects.filter(pk=source.pk))


def set_favorite(highlight: Highlight, favorite: bool) -> None:
    now = timezone.now()
    Highlight.objects.filter(pk=highlight.pk).update(favorite=favorite, edited_at=now, updated_at=now)
    highlight.favorite, highlight.edited_at = favorite, now


def clean_note(raw: str) -> str:
    return (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def set_note(item: Highlight | Source, note: str) -> None:
    """Write a highlight's note or a source's document note (Markdown, as typed)."""
    item.note = clean_note(note)
    item.edited_at = timezone.now()
    item.save(update_fields=["note", "edited_at", "updated_at"])


def _stamp_carriers(tag: Tag) -> None:
    """Mark everything carrying `tag` as edited: what it carries is about to change."""
    _stamp_highlights(Highlight.objects.filter(pk__in=HighlightTag.objects.filter(tag=tag).values("highlight_id")))
    _stamp_sources(Source.objects.filter(pk__in=SourceTag.objects.filter(tag=tag).values("source_id")))


def rename(tag: Tag, new_name: str) -> Tag:
    """Rename `tag`; onto another tag's name (any case), merge it into that one.

    Returns the tag that remains. After a merge every highlight and source that carried either
    tag carries the survivor, once; the survivor takes the name as typed.
    """
    name = clean_name(new_name)
    with transaction.atomic():
        # Lock both (in id order) so two renames onto each other queue instead of interleaving.
        candidates = Tag.objects.filter(user_id=tag.user_id).named(name).values_list("pk", flat=True)
        locked = list(Tag.objects.filter(pk__in=[tag.pk, *candidates]).order_by("pk").select_for_update())
        current = next((t for t in locked if t.pk == tag.pk), None)
        if current is None:
            raise Tag.DoesNotExist
        survivor = next((t for t in locked if t.pk != tag.pk), None)
        if survivor is None:
            if current.name == name:
                return current
            if current.name.lower() != name.lower():
                _stamp_carriers(current)  # a re-import would bring the old name back otherwise
            current.name = name
            current.save(update_fields=["name"])
            return current
        _stamp_carriers(current)
        # Links of the old tag move to the survivor, except where the survivor is already there;
        # those duplicates go with the old tag.
        HighlightTag.objects.filter(tag=current).exclude(
            highlight_id__in=HighlightTag.objects.filter(tag=survivor).values("highlight_id")
        ).update(tag=survivor)
        SourceTag.objects.filter(tag=current).exclude(
            source_id__in=SourceTag.objects.filter(tag=survivor).values("source_id")
        ).update(tag=survivor)
        current.delete()
        if survivor.name != name:
            survivor.name = name
            survivor.save(update_fields=["name"])
    survivor.refresh_from_db()
    return survivor


def delete(tag: Tag) -> None:
    """Delete a tag; the highlights and sources that carried it stay."""
    with transaction.atomic():
        _stamp_carriers(tag)
        tag.delete()


def suggest(user: Any, typed: str, limit: int = SUGGESTIONS) -> list[str]:
    """The user's tag names for an autocomplete: those starting with `typed` first, then those
    containing it, the most used first. With nothing typed, the most used tags."""
    typed = typed.strip()
    tags = Tag.objects.filter(user=user)
    if typed:
        tags = tags.filter(name__icontains=typed).annotate(
            starts=Case(When(name__istartswith=typed, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        tags = tags.order_by("starts", "-highlight_count", Lower("name"))
    else:
        tags = tags.order_by("-highlight_count", Lower("name"))
    return list(tags.values_list("name", flat=True)[:limit])
