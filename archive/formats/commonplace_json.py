"""Commonplace's JSON backup, shaped like Readwise's `/api/v2/export/` response: write it, read it.

The backup is one object::

    {"format": "commonplace-json", "version": 1, "count": 2, "nextPageCursor": null,
     "results": [book, ...]}

and each book carries Readwise's keys (`user_book_id`, `title`, `readable_title`, `author`,
`source`, `category`, `cover_image_url`, `source_url`, `unique_url`, `book_tags`,
`document_note`, `summary`, `highlights` with `id`, `text`, `note`, `location`, `location_type`,
`color`, `highlighted_at`, `url`, `external_id`, `tags`, `is_favorite`, `is_deleted`), so a
script written for Readwise reads it, plus what Commonplace keeps that Readwise's shape has no
key for: `exported_title` and `display_title` (Readwise's `title` is the human one), `authors`
(the people, in order), `external_id`, `saved_at`, `published_date`, `extra`, `page`, and the
bookkeeping a restore needs to be exact: `created_at`, `edited_at`, `last_highlighted_at`,
`deleted_at` (the trash), and what re-imports match by, which edits and merges make differ from
what the text says: a book's `identity` and `aliases` (of the sources merged into it) and each
highlight's `fingerprint`.

`parse` reads that back to equal Documents (datetimes stay aware, so nothing shifts across time
zones or summer time). It also reads Readwise's own `/api/v2/export/` response: there `title` is
the title, `user_book_id` and each highlight's `id` become the external ids (the same ids
Readwise's Markdown export writes), `is_discard` becomes the tag `discard` (as in Readwise's CSV),
and Readwise's `created_at`/`updated_at` are not ours to keep.

Every problem is a ParseError naming where it is (`line 3: ...` for broken JSON,
`results[2].highlights[0].text: ...` for a value of the wrong kind).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
    ParseResult,
)
from archive.formats.readwise_csv import split_authors

__all__ = ["FORMAT", "READWISE_FORMAT", "VERSION", "book", "parse", "render", "sniff", "stream"]

FORMAT = "commonplace-json"
READWISE_FORMAT = "readwise-json"
VERSION = 1
DISCARD_TAG = "discard"

_SNIFF_OURS = re.compile(r'\A\s*\{\s*"format"\s*:\s*"commonplace-json"')
_SNIFF_READWISE = re.compile(r'\A\s*\{\s*"(?:count|nextPageCursor|results)"\s*:')
_LOCATION_TYPES = {
    "": LocationKind.NONE,
    "none": LocationKind.NONE,
    "location": LocationKind.LOCATION,
    "page": LocationKind.PAGE,
    "time": LocationKind.TIME,
    "time_offset": LocationKind.TIME,
    "offset": LocationKind.OFFSET,
    "order": LocationKind.ORDER,
}


# --- detection ------------------------------------------------------------------------------


def sniff(text: str) -> bool:
    """A Commonplace backup, or a Readwise export response (an object opening with its keys)."""
    head = text[:4096]
    return bool(_SNIFF_OURS.match(head) or (_SNIFF_READWISE.match(head) and '"results"' in head))


# --- writing --------------------------------------------------------------------------------


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def book(doc: Document, *, book_id: int | None = None, highlight_ids: Sequence[int | None] = ()) -> dict[str, Any]:
    """One document as a book of the backup; `book_id`/`highlight_ids` are the database's ids."""
    ids = list(highlight_ids) or [None] * len(doc.highlights)
    return {
        "user_book_id": book_id,
        "title": doc.name,
        "readable_title": doc.name,
        "exported_title": doc.title,
        "display_title": doc.display_title,
        "author": doc.author,
        "authors": list(doc.authors),
        "source": doc.origin,
        "category": doc.category.value,
        "cover_image_url": doc.cover_url,
        "source_url": doc.url,
        "unique_url": doc.url,
        "book_tags": [{"name": name} for name in doc.tags],
        "document_note": doc.note,
        "summary": doc.summary,
        "external_id": doc.external_id,
        "saved_at": _iso(doc.saved_at),
        "published_date": _iso(doc.published_at),
        "created_at": _iso(doc.created_at),
        "edited_at": _iso(doc.edited_at),
        "last_highlighted_at": _iso(doc.last_highlighted_at),
        "is_deleted": doc.deleted_at is not None,
        "deleted_at": _iso(doc.deleted_at),
        "extra": doc.extra,
        "identity": doc.identity,
        "aliases": doc.aliases,
        "highlights": [_highlight(h, pk) for h, pk in zip(doc.highlights, ids, strict=True)],
    }


def _highlight(h: Highlight, pk: int | None) -> dict[str, Any]:
    return {
        "id": pk,
        "text": h.text,
        "note": h.note,
        "location": h.location,
        "location_type": h.location_kind.value or "none",
        "page": h.page,
        "color": h.color,
        "highlighted_at": _iso(h.highlighted_at),
        "url": h.url,
        "external_id": h.external_id,
        "tags": [{"name": name} for name in h.tags],
        "is_favorite": h.favorite,
        "created_at": _iso(h.created_at),
        "edited_at": _iso(h.edited_at),
        "is_deleted": h.deleted_at is not None,
        "deleted_at": _iso(h.deleted_at),
        "fingerprint": h.fingerprint,
    }


def stream(
    books: Iterable[dict[str, Any]], count: int, *, indent: int | None = None, tags: Sequence[str] = ()
) -> Iterator[str]:
    """The backup as text, a book at a time, so an archive of any size is never held whole.

    `tags`: the names of tags nothing carries, which a whole-archive backup keeps too.
    """
    return stream_texts((book_text(item, indent) for item in books), count, indent=indent, tags=tags)


def book_text(book: dict[str, Any], indent: int | None = None) -> str:
    """One book as it stands in the backup's list of results."""
    body = json.dumps(book, ensure_ascii=False, indent=indent)
    return body.replace("\n", "\n" + " " * indent) if indent else body


def stream_texts(
    books: Iterable[str], count: int, *, indent: int | None = None, tags: Sequence[str] = ()
) -> Iterator[str]:
    """`stream`, of books already written as text (`book_text`)."""
    spare = f'"tags": {json.dumps(list(tags), ensure_ascii=False)}, ' if tags else ""
    yield f'{{"format": "{FORMAT}", "version": {VERSION}, "count": {count}, "nextPageCursor": null, {spare}"results": ['
    pad = "\n" + " " * indent if indent else ""
    for i, body in enumerate(books):
        yield ("," if i else "") + pad + body
    yield ("\n" if indent else "") + "]}\n"


def render(documents: Sequence[Document], tags: Sequence[str] = ()) -> str:
    """Documents as a whole backup (without database ids), with the tags nothing carries."""
    return "".join(stream((book(doc) for doc in documents), len(documents), tags=tags))


# --- reading --------------------------------------------------------------------------------


def parse(text: str) -> ParseResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(f"line {error.lineno}: {error.msg} (column {error.colno}); the JSON is broken") from None
    except (ValueError, RecursionError) as error:
        raise ParseError(f"the JSON cannot be read: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ParseError('not a Commonplace or Readwise JSON export: there is no "results" list')
    ours = data.get("format") == FORMAT
    version = data.get("version")
    if ours and (not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= VERSION):
        raise ParseError(f"this backup is version {version!r}; this Commonplace reads versions 1 to {VERSION}")
    result = ParseResult(format=FORMAT if ours else READWISE_FORMAT)
    reader = _Reader(ours, result.warnings)
    for i, item in enumerate(data["results"]):
        result.documents.append(reader.document(item, f"results[{i}]"))
    if ours:
        result.tags = reader.names(data, "tags", "backup")
    if not result.documents:
        result.warnings.append("no highlights found")
    return result


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


class _Reader:
    """Reads books; strict about kinds (a value of the wrong kind is an error naming where)."""

    def __init__(self, ours: bool, warnings: list[str]) -> None:
        self.ours = ours
        self.warnings = warnings

    def _object(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ParseError(f"{where}: should be an object, not {_kind(value)}")
        return value

    def text(self, item: dict[str, Any], key: str, where: str) -> str:
        value = item.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # Readwise writes ids and locations as numbers
        raise ParseError(f"{where}.{key}: should be text, not {_kind(value)}")

    def flag(self, item: dict[str, Any], key: str, where: str) -> bool:
        value = item.get(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        raise ParseError(f"{where}.{key}: should be true or false, not {_kind(value)}")

    def when(self, item: dict[str, Any], key: str, where: str) -> dt.datetime | None:
        value = self.text(item, key, where)
        if not value:
            return None
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise ParseError(f"{where}.{key}: {value!r} is not a date and time") from None

    def day(self, item: dict[str, Any], key: str, where: str) -> dt.date | None:
        value = self.text(item, key, where)
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(value).date()  # Readwise sometimes sends a timestamp
        except ValueError:
            raise ParseError(f"{where}.{key}: {value!r} is not a date") from None

    def names(self, item: dict[str, Any], key: str, where: str) -> list[str]:
        """A list of names: `[{"name": "x"}, ...]` as Readwise writes tags, or plain strings."""
        value = item.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ParseError(f"{where}.{key}: should be a list, not {_kind(value)}")
        names = []
        for i, entry in enumerate(value):
            name = (
                entry
                if isinstance(entry, str)
                else self.text(self._object(entry, f"{where}.{key}[{i}]"), "name", f"{where}.{key}[{i}]")
            )
            if name.strip() and name.strip().casefold() not in {n.strip().casefold() for n in names}:
                names.append(name)
        return names

    def document(self, value: Any, where: str) -> Document:
        item = self._object(value, where)
        text, when = self.text, self.when
        category = text(item, "category", where)
        try:
            kind = Category(category)
        except ValueError:
            kind = Category.NONE
            self.warnings.append(f"{where}: unknown category {category!r}, left unset")
        author = text(item, "author", where)
        extra = item.get("extra") or {}
        if not isinstance(extra, dict):
            raise ParseError(f"{where}.extra: should be an object, not {_kind(extra)}")
        highlights = item.get("highlights") or []
        if not isinstance(highlights, list):
            raise ParseError(f"{where}.highlights: should be a list, not {_kind(highlights)}")
        doc = Document(
            title=text(item, "title", where),
            author=author,
            url=text(item, "source_url", where) or text(item, "unique_url", where),
            category=kind,
            origin=text(item, "source", where),
            cover_url=text(item, "cover_image_url", where),
            tags=self.names(item, "book_tags", where),
            note=text(item, "document_note", where),
            summary=text(item, "summary", where),
            published_at=self.day(item, "published_date", where),
            extra=dict(extra),
        )
        if self.ours:
            doc.title = text(item, "exported_title", where)
            doc.display_title = text(item, "display_title", where)
            doc.authors = self.names(item, "authors", where) if "authors" in item else split_authors(author)
            doc.external_id = text(item, "external_id", where)
            doc.saved_at = when(item, "saved_at", where)
            doc.created_at = when(item, "created_at", where)
            doc.edited_at = when(item, "edited_at", where)
            doc.last_highlighted_at = when(item, "last_highlighted_at", where)
            doc.deleted_at = self.deleted(item, where)
            doc.identity = text(item, "identity", where)
            doc.aliases = self.names(item, "aliases", where)
        else:
            doc.authors = split_authors(author)
            doc.external_id = text(item, "user_book_id", where)
        doc.highlights = [self.highlight(h, f"{where}.highlights[{i}]") for i, h in enumerate(highlights)]
        doc.highlights = [h for h in doc.highlights if h.text.strip() or h.note.strip()]
        if len(doc.highlights) < len(highlights):
            self.warnings.append(f"{where}: {len(highlights) - len(doc.highlights)} empty highlight(s) left out")
        return doc

    def deleted(self, item: dict[str, Any], where: str) -> dt.datetime | None:
        deleted_at = self.when(item, "deleted_at", where)
        if deleted_at is None and self.flag(item, "is_deleted", where):
            # Trashed, but the export did not say when: the epoch says "some time ago".
            return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return deleted_at

    def highlight(self, value: Any, where: str) -> Highlight:
        item = self._object(value, where)
        text = self.text
        kind_text = text(item, "location_type", where).strip().lower()
        location = text(item, "location", where)
        kind = _LOCATION_TYPES.get(kind_text)
        if kind is None:
            kind = LocationKind.NONE
            self.warnings.append(f"{where}: unknown location type {kind_text!r}; the location is kept without it")
        tags = self.names(item, "tags", where)
        h = Highlight(
            text=text(item, "text", where),
            note=text(item, "note", where),
            tags=tags,
            location=location,
            location_kind=kind,
            page=text(item, "page", where),
            url=text(item, "url", where),
            external_id=text(item, "external_id", where),
            color=text(item, "color", where),
            highlighted_at=self.when(item, "highlighted_at", where),
            favorite=self.flag(item, "is_favorite", where),
        )
        if self.ours:
            h.created_at = self.when(item, "created_at", where)
            h.edited_at = self.when(item, "edited_at", where)
            h.deleted_at = self.deleted(item, where)
            h.fingerprint = text(item, "fingerprint", where)
        else:
            h.external_id = text(item, "id", where)
            h.deleted_at = self.deleted(item, where)
            if self.flag(item, "is_discard", where) and DISCARD_TAG not in {t.casefold() for t in tags}:
                h.tags.append(DISCARD_TAG)
        return h
