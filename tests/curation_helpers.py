"""Shared by the curation tests (tests/highlights/test_manage.py, tests/archive/test_curation.py)."""

from __future__ import annotations

from django.db.models import Count, Q

from archive.models import Source
from highlights.models import Highlight, Tag, TagSource

HTMX = {"HTTP_HX_REQUEST": "true"}


def assert_counts_true() -> None:
    """Every count the triggers keep equals a count made the slow way."""
    live = Q(highlights__deleted_at__isnull=True)
    for source in Source.objects.annotate(real=Count("highlights", filter=live)):
        assert source.highlight_count == source.real, (source.name, source.highlight_count, source.real)
    shown = Q(highlights__deleted_at__isnull=True, highlights__source__deleted_at__isnull=True)
    for tag in Tag.objects.annotate(real=Count("highlights", filter=shown)):
        assert tag.highlight_count == tag.real, (tag.name, tag.highlight_count, tag.real)
    links = Highlight.tags.through.objects.filter(highlight__deleted_at__isnull=True)
    real = {
        (row["tag_id"], row["highlight__source_id"]): row["n"]
        for row in links.values("tag_id", "highlight__source_id").annotate(n=Count("pk"))
    }
    stored = {(row.tag_id, row.source_id): row.highlight_count for row in TagSource.objects.exclude(highlight_count=0)}
    assert stored == real
