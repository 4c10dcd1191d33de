"""Readwise's CSV export: read it, and write it back.

Readwise has shipped three layouts, told apart by the header row:

* 9 columns: ``Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location``
* 10 columns: the 9, then ``Highlighted at``
* 11 columns: the 10, then ``Document tags``

One row is one highlight. Rows are grouped into one `Document` per (book title, book author); two
different Amazon ids under the same title and author stay two documents rather than losing one.

Decisions, so that nothing is lost or invented:

* Tags cells are comma separated; each tag is trimmed, empty ones are dropped and a repeat (ignoring
  case) keeps its first spelling. The tag ``favorite`` (any case) becomes `Highlight.favorite`
  and is not kept as a tag. ``discard`` is an ordinary tag: it is the user's verdict on the
  highlight, and keeping it lets them find and delete those highlights here. Colour names Readwise
  copies into Tags (``blue``) are kept as tags too; the Color cell becomes `Highlight.color`.
* ``Location Type`` becomes `LocationKind` (``location``, ``page``, ``offset``, ``order``,
  ``time``; empty or ``none`` means none); an unknown type keeps the location, drops the kind and
  warns.
* ``Highlighted at`` (``2026-06-22 10:34:42.964038+00:00``) becomes a naive UTC datetime.
* Category, which the CSV does not carry, is derived per document: books when it has an Amazon id
  or any location/page location, else articles when any location is an offset, else unset.
  Origin is left unset: the CSV does not say which app the text was read in.
* Line breaks inside cells (quoted multi-line cells) are kept and normalised to ``\\n``.
* A row that repeats an earlier row exactly, or has neither text nor note, is skipped and counted.

Spreadsheet formula neutralisation (`render`, undone by `parse`): a cell whose text, after any
leading apostrophes, starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
written with one extra leading ``'``. Reading removes one leading ``'`` from exactly those cells:
one or more apostrophes followed by one of those characters. So ``=1+1`` is written ``'=1+1``,
``'=1+1`` is written ``''=1+1``, and ``'Tis`` (no trigger after the apostrophes) is written as is;
every value reads back unchanged. (A Readwise export never starts a cell with ``'=`` on purpose,
so reading theirs is unaffected in practice.)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
    ParseResult,
)

FORMAT = "readwise-csv"

HEADER_9 = [
    "Highlight",
    "Book Title",
    "Book Author",
    "Amazon Book ID",
    "Note",
    "Color",
    "Tags",
    "Location Type",
    "Location",
]
HEADER_10 = [*HEADER_9, "Highlighted at"]
HEADER_11 = [*HEADER_10, "Document tags"]
_HEADERS = {len(h): h for h in (HEADER_9, HEADER_10, HEADER_11)}

FAVORITE_TAG = "favorite"

_LOCATION_KINDS = {
    "": LocationKind.NONE,
    "none": LocationKind.NONE,
    "location": LocationKind.LOCATION,
    "page": LocationKind.PAGE,
    "offset": LocationKind.OFFSET,
    "order": LocationKind.ORDER,
    "time": LocationKind.TIME,
}

_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
# Control characters that never occur in a text export: their presence means binary junk.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_AUTHOR_SEPARATORS = re.compile(r"\s*,\s*(?:and|&)\s+|\s+(?:and|&)\s+|\s*[,;]\s*")
_NAME_SUFFIXES = {
    "jr",
    "jr.",
    "sr",
    "sr.",
    "ii",
    "iii",
    "iv",
    "phd",
    "ph.d.",
    "md",
    "m.d.",
}


def sniff(text: str) -> bool:
    """True when the first line is one of Readwise's three CSV header rows."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    try:
        header = next(csv.reader([first_line]), [])
    except csv.Error:
        return False
    return _known_header(header) is not None


def parse(text: str) -> ParseResult:
    """Read a Readwise CSV export; `ParseError` names the row and line of malformed input."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    result = ParseResult(format=FORMAT)
    documents: dict[tuple[str, str, str], Document] = {}
    seen_rows: set[tuple[str, ...]] = set()
    header: list[str] | None = None
    row_number = 0
    line = 1
    has_binary = _BINARY.search(text) is not None  # one pass over the text, not one per cell
    try:
        for row in reader:
            start_line, line = line, reader.line_num + 1
            if not row:  # a blank line
                continue
            row_number += 1
            if has_binary and (junk := next((cell for cell in row if _BINARY.search(cell)), None)) is not None:
                char = _BINARY.search(junk).group()  # type: ignore[union-attr]
                raise ParseError(
                    f"{_where(row_number, start_line)} contains binary data (U+{ord(char):04X}); this is not a text CSV."
                )
            if header is None:
                header = _known_header(row)
                if header is None:
                    raise ParseError(
                        f"{_where(row_number, start_line)} is not a Readwise CSV header; expected "
                        f"{','.join(HEADER_9)}[,Highlighted at[,Document tags]]."
                    )
                continue
            if len(row) != len(header):
                raise ParseError(
                    f"{_where(row_number, start_line)} has {len(row)} cells, but the header has {len(header)}."
                )
            if not "".join(row).strip():
                continue
            cells = tuple(_unescape(cell) if cell[:1] == "'" else cell for cell in row)
            _read_row(cells, row_number, start_line, documents, seen_rows, result)
    except csv.Error as error:
        raise ParseError(f"Row {row_number + 1} (line {line}) is not valid CSV: {error}.") from None
    if header is None:
        raise ParseError("The file is empty: there is no Readwise CSV header.")
    for document in documents.values():
        document.category = _category(document)
    result.documents = list(documents.values())
    return result


def render(documents: list[Document]) -> str:
    """Write documents as Readwise's current 11-column CSV, one row per highlight.

    Documents without highlights have no row to live in and are left out. Fields the layout has
    no column for (urls, dates other than highlighted-at, notes on documents, ...) are not written.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER_11)
    for document in documents:
        document_tags = ", ".join(document.tags)
        for highlight in document.highlights:
            tags = list(highlight.tags)
            if highlight.favorite:
                tags.append(FAVORITE_TAG)
            cells = [
                highlight.text,
                document.title,
                document.author,
                document.external_id,
                highlight.note,
                highlight.color,
                ", ".join(tags),
                highlight.location_kind.value,
                highlight.location,
                _format_datetime(highlight.highlighted_at),
                document_tags,
            ]
            writer.writerow([_escape(cell) for cell in cells])
    return out.getvalue()


def split_authors(author: str) -> list[str]:
    """Split an author string into people: ``"A, B, and C"``, ``"A and B"``, ``"A & B"``.

    Name suffixes (``Jr.``, ``III``, ``PhD``) stay with the name before them.
    """
    people: list[str] = []
    for part in _AUTHOR_SEPARATORS.split(author.strip()):
        part = part.strip()
        if not part:
            continue
        if people and part.lower() in _NAME_SUFFIXES:
            people[-1] = f"{people[-1]}, {part}"
        else:
            people.append(part)
    return people


def _known_header(row: list[str]) -> list[str] | None:
    expected = _HEADERS.get(len(row))
    if expected and [cell.strip().lower() for cell in row] == [h.lower() for h in expected]:
        return expected
    return None


def _where(row_number: int, line: int) -> str:
    return f"Row {row_number} (line {line})"


def _read_row(
    cells: tuple[str, ...],
    row_number: int,
    line: int,
    documents: dict[tuple[str, str, str], Document],
    seen_rows: set[tuple[str, ...]],
    result: ParseResult,
) -> None:
    """One row, its cells in the order of `HEADER_11` (the shorter headers are its beginnings)."""
    text, title, author, amazon_id, note, color, tags_cell, location_type, location = cells[:9]
    text, note = _newlines(text), _newlines(note)
    if not text.strip() and not note.strip():
        result.skipped += 1
        result.warnings.append(f"{_where(row_number, line)} has no highlight text and no note; skipped.")
        return
    if cells in seen_rows:
        result.skipped += 1
        result.warnings.append(f"{_where(row_number, line)} repeats an earlier row exactly; skipped.")
        return
    seen_rows.add(cells)

    tags = split_tags(tags_cell) if tags_cell else []
    favorite = any(tag.lower() == FAVORITE_TAG for tag in tags)
    if favorite:
        tags = [tag for tag in tags if tag.lower() != FAVORITE_TAG]
    location_type = location_type.strip()
    kind = _LOCATION_KINDS.get(location_type.lower())
    if kind is None:
        result.warnings.append(
            f"{_where(row_number, line)} has an unknown Location Type {location_type!r}; "
            "the location is kept without a kind."
        )
        kind = LocationKind.NONE
    highlighted_at = None
    raw_time = cells[9].strip() if len(cells) > 9 else ""
    if raw_time:
        highlighted_at = _parse_datetime(raw_time)
        if highlighted_at is None:
            result.warnings.append(f"{_where(row_number, line)} has an unreadable Highlighted at {raw_time!r}.")

    document = documents.get((title, author, amazon_id))
    if document is None:
        document = Document(
            title=title,
            author=author,
            authors=split_authors(author),
            external_id=amazon_id.strip(),
        )
        documents[(title, author, amazon_id)] = document
    if len(cells) > 10 and cells[10]:
        known = {t.lower() for t in document.tags}
        document.tags += [tag for tag in split_tags(cells[10]) if tag.lower() not in known]
    document.highlights.append(
        Highlight(
            text=text,
            note=note,
            tags=tags,
            location=location.strip(),
            location_kind=kind,
            color=color.strip(),
            highlighted_at=highlighted_at,
            favorite=favorite,
        )
    )


def split_tags(cell: str) -> list[str]:
    """A Tags cell's tags: comma separated, trimmed, empty ones and case-insensitive repeats dropped."""
    tags: list[str] = []
    seen: set[str] = set()
    for tag in cell.split(","):
        tag = tag.strip()
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


def _category(document: Document) -> Category:
    kinds = {h.location_kind for h in document.highlights}
    if document.external_id or kinds & {LocationKind.LOCATION, LocationKind.PAGE}:
        return Category.BOOKS
    if LocationKind.OFFSET in kinds:
        return Category.ARTICLES
    return Category.NONE


def _parse_datetime(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _format_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds") + "+00:00"


def _newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def _escape(cell: str) -> str:
    return "'" + cell if _NEEDS_ESCAPE.match(cell) else cell


def _unescape(cell: str) -> str:
    return cell[1:] if _ESCAPED.match(cell) else cell
