"""Plain functions that build rows with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import User

from archive.models import Author, Source, SourceAuthor
from highlights.models import Highlight, Tag

_counter = itertools.count(1)


def make_user(username: str | None = None, password: str = "correct horse battery", **kwargs: Any) -> User:
    username = username or f"reader{next(_counter)}"
    return User.objects.create_user(username=username, password=password, **kwargs)


def make_source(user: User, title: str | None = None, author: str = "Ada Author", **kwargs: Any) -> Source:
    title = title or f"Source {next(_counter)}"
    kwargs.setdefault("identity", f"doc:{title.lower()}|{author.lower()}")
    source = Source.objects.create(user=user, title=title, author_text=author, **kwargs)
    if author:
        person, _ = Author.objects.get_or_create(user=user, key=author.casefold(), defaults={"name": author})
        SourceAuthor.objects.create(source=source, author=person)
    return source


def make_highlight(source: Source, text: str | None = None, **kwargs: Any) -> Highlight:
    text = text or f"A memorable sentence number {next(_counter)}."
    kwargs.setdefault("position", source.highlights.count())
    return Highlight.objects.create(user=source.user, source=source, text=text, **kwargs)


def make_tag(user: User, name: str) -> Tag:
    return Tag.objects.create(user=user, name=name)
