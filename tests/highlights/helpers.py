"""Small builders for the browsing tests, on top of tests/factories.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from archive import importing
from archive.models import Author, Source, SourceAuthor
from highlights.models import Highlight, Tag
from tests.factories import make_highlight, make_source

FIXTURES = Path(__file__).parent.parent / "fixtures"


def when(year: int, month: int = 1, day: int = 1, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))


def source_with(user: User, title: str, texts: list[str], author: str = "Ada Author", **kwargs: Any) -> Source:
    """A source and one highlight per text, in order."""
    source = make_source(user, title, author=author, **kwargs)
    for text in texts:
        make_highlight(source, text)
    return source


def add_author(source: Source, name: str, position: int = 1) -> Author:
    author, _ = Author.objects.get_or_create(user=source.user, key=name.casefold(), defaults={"name": name})
    SourceAuthor.objects.create(source=source, author=author, position=position)
    return author


def tag(user: User, name: str, *items: Source | Highlight) -> Tag:
    found = Tag.objects.filter(user=user).named(name).first() or Tag.objects.create(user=user, name=name)
    for item in items:
        if isinstance(item, Source):
            found.sources.add(item)
        else:
            found.highlights.add(item)
    return found


def import_fixture(user: User, *relative: str) -> list[importing.FileOutcome]:
    """Import files from tests/fixtures through the real importer."""
    return importing.import_paths(user, [(name, (FIXTURES / name).read_bytes()) for name in relative])


def import_bytes(user: User, name: str, data: bytes) -> list[importing.FileOutcome]:
    return importing.import_paths(user, [(name, data)])
