"""Taking the archive out again: Documents rebuilt from the database, written as Markdown or JSON."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from archive.formats import readwise_markdown
from archive.formats.document import Category, Document, Highlight, LocationKind
from archive.models import Source
from highlights.models import Highlight as HighlightRow


def sources_for_export(user: User) -> QuerySet[Source]:
    """The user's sources with everything an export needs, in a fixed number of queries."""
    live = HighlightRow.objects.filter(deleted_at__isnull=True).prefetch_related("tags").order_by("position", "pk")
    return (
        Source.objects.for_user(user)
        .prefetch_related(
            "tags",
            "sourceauthor_set__author",
            Prefetch("highlights", queryset=live, to_attr="live_highlights"),
        )
        .order_by("pk")
    )


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.make_naive(value) if value is not None else None


def live_highlights(source: Source) -> list[HighlightRow]:
    """A source's highlights outside the trash, in reading order (prefetched when available)."""
    if not hasattr(source, "live_highlights"):
        rows = source.highlights.filter(deleted_at__isnull=True).prefetch_related("tags").order_by("position", "pk")
        source.live_highlights = list(rows)  # type: ignore[attr-defined]
    return source.live_highlights  # type: ignore[attr-defined,no-any-return]


def document_for(source: Source) -> Document:
    """The intermediate Document for one source (prefetched by `sources_for_export`)."""
    highlights = live_highlights(source)
    return Document(
        title=source.title,
        display_title=source.display_title,
        author=source.author_text,
        authors=[link.author.name for link in source.sourceauthor_set.all()],
        url=source.url,
        category=Category(source.category),
        origin=source.origin,
        saved_at=_naive(source.saved_at),
        published_at=source.published_on,
        cover_url=source.cover_url,
        tags=[tag.name for tag in source.tags.all()],
        note=source.note,
        summary=source.summary,
        external_id=source.external_id,
        extra=dict(source.extra),
        highlights=[
            Highlight(
                text=h.text,
                note=h.note,
                tags=[tag.name for tag in h.tags.all()],
                location=h.location,
                location_kind=LocationKind(h.location_kind),
                page=h.page,
                url=h.url,
                external_id=h.external_id,
                color=h.color,
                highlighted_at=_naive(h.highlighted_at),
                favorite=h.favorite,
            )
            for h in highlights
        ],
    )


def markdown_for(source: Source) -> str:
    return readwise_markdown.render(document_for(source))


def filename_for(source: Source, extension: str = "md") -> str:
    """A safe file name for a source: no path separators or control characters, short enough."""
    name = unicodedata.normalize("NFC", source.name)
    name = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", name)
    name = re.sub(r"\s+", " ", name).strip(" .") or f"source-{source.pk}"
    return f"{name[:120].rstrip(' .')}.{extension}"


def write_zip(sources: Iterable[Source], out: io.IOBase | Any) -> int:
    """Write one Markdown file per source into a zip, in category folders, names made unique."""
    used: set[str] = set()
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            folder = (source.get_category_display() if source.category else "Uncategorised").title()
            base = filename_for(source)
            path = f"{folder}/{base}"
            suffix = 2
            while path.casefold() in used:
                path = f"{folder}/{base[:-3]} ({suffix}).md"
                suffix += 1
            used.add(path.casefold())
            archive.writestr(path, markdown_for(source))
            count += 1
    return count


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def json_export(sources: Iterable[Source]) -> dict[str, Any]:
    """A document shaped like Readwise's `/api/v2/export/` response, with everything we keep."""
    results = []
    for source in sources:
        doc = document_for(source)
        highlight_rows = live_highlights(source)
        results.append(
            {
                "user_book_id": source.pk,
                "title": source.name,
                "readable_title": source.name,
                "exported_title": source.title,
                "author": source.author_text,
                "authors": doc.authors,
                "source": source.origin,
                "source_url": source.url,
                "unique_url": source.url,
                "category": source.category,
                "cover_image_url": source.cover_url,
                "book_tags": [{"name": name} for name in doc.tags],
                "document_note": source.note,
                "summary": source.summary,
                "external_id": source.external_id,
                "saved_at": _iso(source.saved_at),
                "published_date": _iso(source.published_on),
                "extra": source.extra,
                "highlights": [
                    {
                        "id": row.pk,
                        "text": item.text,
                        "note": item.note,
                        "location": item.location,
                        "location_type": item.location_kind,
                        "page": item.page,
                        "highlighted_at": _iso(row.highlighted_at),
                        "url": item.url,
                        "external_id": item.external_id,
                        "color": item.color,
                        "tags": [{"name": name} for name in item.tags],
                        "is_favorite": item.favorite,
                        "created_at": _iso(row.created_at),
                        "updated_at": _iso(row.updated_at),
                    }
                    for row, item in zip(highlight_rows, doc.highlights, strict=True)
                ],
            }
        )
    return {"count": len(results), "nextPageCursor": None, "results": results}
