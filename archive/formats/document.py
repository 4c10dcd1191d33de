"""The one intermediate model between every parser and every renderer.

Plain dataclasses, no Django: parsers produce `Document`s, the importer writes them to the
database, the exporter rebuilds them from it, and renderers write them out again. Because both
directions meet here, `parse(render(doc)) == doc` is a property we can test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class LocationKind(StrEnum):
    """What a highlight's `location` counts. The empty value means "no location"."""

    NONE = ""
    LOCATION = "location"  # Kindle location, e.g. "335" or "1004-1005"
    PAGE = "page"  # printed page, e.g. "12", "xiv", "12-13"
    TIME = "time"  # podcast/video time stamp, e.g. "0:00:02"
    OFFSET = "offset"  # Readwise Reader character offset
    ORDER = "order"  # position in the document, when that is all the export says


class Category(StrEnum):
    """Readwise's categories; an empty value means the export did not say."""

    NONE = ""
    BOOKS = "books"
    ARTICLES = "articles"
    TWEETS = "tweets"
    PODCASTS = "podcasts"
    SUPPLEMENTALS = "supplementals"
    VIDEOS = "videos"
    EMAILS = "emails"
    PDFS = "pdfs"


@dataclass
class Highlight:
    text: str
    note: str = ""
    tags: list[str] = field(default_factory=list)
    location: str = ""
    location_kind: LocationKind = LocationKind.NONE
    url: str = ""  # the highlight's own link ("View Highlight", "View Tweet", Omnivore anchor)
    external_id: str = ""  # an id the origin app gave the highlight, e.g. Readwise's 687119130
    color: str = ""
    highlighted_at: dt.datetime | None = None  # naive (the exporting tool's local time), or aware
    favorite: bool = False
    page: str = ""  # the printed page, where the origin names one (Kindle); "" when it does not
    # Commonplace's own bookkeeping, carried only by its JSON backup (`commonplace_json`) so that
    # a restore is exact; every other format leaves them empty. Aware datetimes.
    created_at: dt.datetime | None = None  # when it came into Commonplace
    edited_at: dt.datetime | None = None  # when its owner last changed it in Commonplace
    deleted_at: dt.datetime | None = None  # in the trash since
    fingerprint: str = ""  # what re-imports match it by (that of its text as first imported)


@dataclass
class Document:
    title: str  # the title as exported (may be an id, as in the seed's front matter)
    display_title: str = ""  # the human title when `title` is not one (front matter `aliases`)
    author: str = ""  # the author string exactly as exported, e.g. "A & B & C"
    authors: list[str] = field(default_factory=list)  # the same, split into people, in order
    url: str = ""
    category: Category = Category.NONE
    origin: str = ""  # the app it was read in: reader, kindle, instapaper, omnivore, ...
    saved_at: dt.datetime | None = None  # when the reader saved/added it; naive or aware, as above
    published_at: dt.date | None = None
    cover_url: str = ""
    tags: list[str] = field(default_factory=list)  # document tags
    note: str = ""  # document note
    summary: str = ""
    external_id: str = ""  # the origin's id for the document (Readwise book id, ASIN, Omnivore id)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown front-matter keys, in order
    highlights: list[Highlight] = field(default_factory=list)
    # Bookkeeping, as on `Highlight`: only the JSON backup carries it.
    created_at: dt.datetime | None = None
    edited_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    last_highlighted_at: dt.datetime | None = None
    identity: str = ""  # what re-imports match it by (kept when its title or link was edited)
    aliases: list[str] = field(default_factory=list)  # identities of the sources merged into it

    @property
    def name(self) -> str:
        """The title a person reads."""
        return self.display_title or self.title


@dataclass
class ParseResult:
    """What a parser read from one file.

    `documents` is empty when the file holds no highlights; `skipped` counts entries that were
    read and deliberately left out (Kindle bookmarks, empty bodies, exact repeats), and
    `warnings` says, per problem, what was odd and where (line numbers), without failing the file.
    """

    format: str
    documents: list[Document] = field(default_factory=list)
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    # Tags that nothing carries (a backup keeps them, so the restored archive lists them too).
    tags: list[str] = field(default_factory=list)


class ParseError(ValueError):
    """The file is of a known format but cannot be read; the message says what and where."""
