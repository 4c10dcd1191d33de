"""Kindle `My Clippings.txt`: every entry the device ever wrote, in the device's language.

An entry is a title line, a metadata line, a blank line, a body and a `==========` separator::

    The Help (Kathryn Stockett)
    - Highlight Loc. 5444-45 | Added on Saturday, October 31, 2009, 09:25 AM

    "Like living in Antarctica all my life and one day moving to Hawaii."
    ==========

The file only grows: an edited highlight is written again, a deleted one stays. `parse` turns it
into one `Document` per book, and these are the decisions it takes (tests pin each of them):

- The book is the title line. Its author is the last balanced bracket group at the end of the line,
  when the group follows a space (`Title (Series) (Last, First)` -> "Last, First"; nested and
  full-width brackets count, so `([美]辛普森（Kyle Simpson）)` gives "[美]辛普森（Kyle Simpson）"). `author`
  keeps that string as written; `authors` splits it into people (see `split_authors`).
- Positions: `location` holds the Kindle location ("1004-1005"; abbreviated ends such as
  "1004-5" are expanded, en dashes and the Dutch "t/m" become "-", a one-location range such
  as "98-98" stays as written) with kind LOCATION. When the entry gives only a page, the page
  goes into `location` with kind PAGE (roman numerals kept as written). The printed page, where
  the device gave one, is always also in `Highlight.page`, so nothing the device wrote is lost.
- Bookmarks, entries with an empty body and exact repeats (same book, same position, same text)
  are not imported; they count in `ParseResult.skipped`. So do the other versions of a highlight
  that Kindle wrote again after it was extended, trimmed or merged with a neighbour (the device
  merges overlapping highlights into one): with locations, one range holds the other and the
  words of one text appear in a row in the other ("Dr. Carl" in 2787-2787 and "... Dr. Carl Jung
  said: ..." in 2787-2792); with only a page, the same start page and one text starting with the
  words of the other. Words are compared casefolded and without punctuation, so the quote mark
  Kindle adds when a highlight grows does not matter. Only the longest version is kept, with its
  own position and date (and whatever notes hold its position). Anything else is a different
  highlight and is kept, even at the same start: a different text at the same location, or two
  texts on one page (a page is far too coarse to merge on).
- A note carries the END location of the highlight it belongs to. It is attached to the
  highlight whose range holds that location; if several do, to one written at the same time (a
  note made with its highlight is written just before or after it, with the same "Added on"),
  else the nearest one before it in the file, else the nearest after. Several notes on one highlight are joined by a blank line, except
  that a repeat is dropped and an edit replaces what it edits (same position and the same
  "Added on" time, which Kindle keeps when a note is edited, or the old note a prefix of the new).
- A note no highlight holds becomes a highlight of its own with empty `text` and the note in
  `note`: the words are the reader's, not the book's, and an export should show them as a note.
- Highlights are ordered by position (locations first, then page-only entries, roman pages before
  arabic ones, entries without a position last), ties in the order the file first had them.
- Dates are read in the device's language into naive datetimes. A date that cannot be read leaves
  `highlighted_at` empty and adds a warning; the entry is still imported.
- BOMs anywhere in the text are removed; CRLF, LF and CR line ends are all read. Separators may
  be missing at the end, come first, or be cut short at the end of the file.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
    ParseResult,
)

FORMAT = "kindle"
ORIGIN = "kindle"
SEPARATOR = "=========="

__all__ = [
    "FORMAT",
    "ORIGIN",
    "SEPARATOR",
    "EntryKind",
    "parse",
    "parse_date",
    "sniff",
    "split_authors",
    "split_title_line",
]


class EntryKind(StrEnum):
    HIGHLIGHT = "highlight"
    NOTE = "note"
    BOOKMARK = "bookmark"
    CLIP = "clip"


# --- the metadata line ------------------------------------------------------------------------

_META_START = re.compile(r"^\s*[-–—]\s*")
# A metadata line starts with a dash and holds at least one `|` before the date (every firmware
# in every language writes one); the date is always the last `|` part.
_LOOKS_LIKE_META = re.compile(r"^\s*[-–—]\s*\S.*\|")

# Kinds, in the order they are tried. Bookmark and note words first: "marcador" and "nota" are
# unambiguous, while "highlight" is also Dutch.
_KIND_WORDS: tuple[tuple[EntryKind, re.Pattern[str]], ...] = (
    (
        EntryKind.BOOKMARK,
        re.compile(
            r"\b(?:bookmark|lesezeichen|marcador|signet|marque-page|segnalibro|bladwijzer"
            r"|закладк\w*)\b|ブックマーク|书签|書籤|북마크",
            re.IGNORECASE,
        ),
    ),
    (
        EntryKind.NOTE,
        re.compile(
            r"\b(?:note|notiz|nota|notitie|заметк\w*)\b|メモ|笔记|筆記|메모",
            re.IGNORECASE,
        ),
    ),
    (
        EntryKind.CLIP,
        re.compile(r"\b(?:clip this article|clipping|clip)\b", re.IGNORECASE),
    ),
    (
        EntryKind.HIGHLIGHT,
        re.compile(
            r"\b(?:highlight|underline|markierung|subrayado|resaltado|surlignement"
            r"|evidenziazione|destaque|выделени\w*|выделенный|отрывок)\b"
            r"|ハイライト|标注|劃線|畫線|标记|하이라이트",
            re.IGNORECASE,
        ),
    ),
)

_DASHES = r"-‐‑–—"
_NUMBER_RANGE = rf"(\d+)(?:\s*(?:[{_DASHES}~～]|t/m|bis)\s*(\d+))?"
_PAGE_TOKEN = r"(\d+|[ivxlcdm]+)"
_PAGE_RANGE = rf"{_PAGE_TOKEN}(?:\s*(?:[{_DASHES}~～]|t/m|bis)\s*{_PAGE_TOKEN})?(?![A-Za-z0-9])"

_PAGE_PATTERNS = (
    re.compile(
        rf"(?<!\w)(?:page|seite|página|pagina|страниц\w*|стр\.)\s*{_PAGE_RANGE}",
        re.IGNORECASE,
    ),
    re.compile(rf"第\s*{_PAGE_RANGE}\s*[页頁]", re.IGNORECASE),
    re.compile(rf"(?<![A-Za-z0-9]){_PAGE_RANGE}\s*(?:ページ|페이지)", re.IGNORECASE),
)
_LOCATION_PATTERNS = (
    re.compile(
        rf"(?<!\w)(?:location|loc\.?|position|pos\.|posição|posicao|posición|posizione"
        rf"|emplacement|locatie|мест[оеа])\s*#?\s*{_NUMBER_RANGE}",
        re.IGNORECASE,
    ),
    re.compile(rf"(?:位置|위치)\s*(?:No\.)?\s*#?\s*{_NUMBER_RANGE}", re.IGNORECASE),
)


@dataclass
class _Meta:
    kind: EntryKind | None
    page: str = ""
    page_span: tuple[int, int] | None = None
    location: str = ""
    location_span: tuple[int, int] | None = None
    when: dt.datetime | None = None
    date_text: str = ""


def _expand_end(start: str, end: str) -> int:
    """`1004-5` ends at 1005, `466-69` at 469, `1099-00` at 1100."""
    first, last = int(start), int(end)
    if last >= first or len(end) >= len(start):
        return last
    expanded = int(start[: len(start) - len(end)] + end)
    if expanded < first:
        expanded += 10 ** len(end)
    return expanded


def _location(match: re.Match[str]) -> tuple[str, tuple[int, int]]:
    start, end = match.group(1), match.group(2)
    first = int(start)
    if end is None:
        return str(first), (first, first)
    last = _expand_end(start, end)
    return f"{first}-{last}", (first, last)


def _page(match: re.Match[str]) -> tuple[str, tuple[int, int] | None]:
    start, end = match.group(1), match.group(2)
    if not start.isdigit():
        # Roman numerals (front matter) are kept as written and have no numeric span.
        return (f"{start}-{end}" if end else start), None
    first = int(start)
    if end is None:
        return str(first), (first, first)
    if not end.isdigit():
        return f"{start}-{end}", (first, first)
    last = _expand_end(start, end)
    return f"{first}-{last}", (first, last)


def _read_meta(line: str) -> _Meta:
    body = _META_START.sub("", line, count=1)
    parts = body.split("|")
    date_text = ""
    if len(parts) > 1 and not any(p.search(parts[-1]) for p in (*_PAGE_PATTERNS, *_LOCATION_PATTERNS)):
        date_text = parts.pop().strip()
    head = "|".join(parts)
    kind = next((k for k, pattern in _KIND_WORDS if pattern.search(head)), None)
    meta = _Meta(kind=kind, date_text=date_text)
    for pattern in _LOCATION_PATTERNS:
        if found := pattern.search(head):
            meta.location, meta.location_span = _location(found)
            break
    for pattern in _PAGE_PATTERNS:
        if found := pattern.search(head):
            meta.page, meta.page_span = _page(found)
            break
    if date_text:
        meta.when = parse_date(date_text)
    return meta


def _is_meta(line: str) -> bool:
    """A line that reads as a Kindle metadata line (a kind word or a position before a `|`)."""
    if not _LOOKS_LIKE_META.match(line):
        return False
    meta = _read_meta(line)
    return meta.kind is not None or bool(meta.location or meta.page)


# --- dates ------------------------------------------------------------------------------------

_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    # English, German, French, Spanish, Italian, Portuguese, Dutch, Russian (genitive, nominative)
    (
        "january",
        "januar",
        "janvier",
        "enero",
        "gennaio",
        "janeiro",
        "januari",
        "января",
        "январь",
    ),
    (
        "february",
        "februar",
        "février",
        "febrero",
        "febbraio",
        "fevereiro",
        "februari",
        "февраля",
        "февраль",
    ),
    ("march", "märz", "mars", "marzo", "março", "maart", "марта", "март"),
    ("april", "avril", "abril", "aprile", "апреля", "апрель"),
    ("may", "mai", "mayo", "maggio", "maio", "mei", "мая", "май"),
    ("june", "juni", "juin", "junio", "giugno", "junho", "июня", "июнь"),
    ("july", "juli", "juillet", "julio", "luglio", "julho", "июля", "июль"),
    ("august", "août", "agosto", "augustus", "августа", "август"),
    (
        "september",
        "septembre",
        "septiembre",
        "settembre",
        "setembro",
        "сентября",
        "сентябрь",
    ),
    (
        "october",
        "oktober",
        "octobre",
        "octubre",
        "ottobre",
        "outubro",
        "октября",
        "октябрь",
    ),
    ("november", "novembre", "noviembre", "novembro", "ноября", "ноябрь"),
    (
        "december",
        "dezember",
        "décembre",
        "diciembre",
        "dicembre",
        "dezembro",
        "декабря",
        "декабрь",
    ),
)


def _fold(word: str) -> str:
    """Casefolded, accents removed: "Août" -> "aout", "März" -> "marz"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(_MONTH_NAMES, start=1):
    for _name in _names:
        _MONTHS[_fold(_name)] = _number


@functools.lru_cache(maxsize=1024)
def _month(word: str) -> int | None:
    """A month name or an unambiguous abbreviation of one (at least three letters)."""
    folded = _fold(word).rstrip(".")
    if folded in _MONTHS:
        return _MONTHS[folded]
    if len(folded) < 3:
        return None
    numbers = {number for name, number in _MONTHS.items() if name.startswith(folded)}
    return numbers.pop() if len(numbers) == 1 else None


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_CJK_DATE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
# Before the time: 上午6:10:53, 午後6:10:53, 오후 6:10:53; after it: 6:10:53 PM, 6:10 p. m.
_HALF_BEFORE = re.compile(r"(上午|午前|오전|凌晨|早上|下午|午後|오후|晚上|中午)\s*$")
_HALF_AFTER = re.compile(r"^\s*([ap])\.?\s?m\b\.?", re.IGNORECASE)
_MORNING = {"上午", "午前", "오전", "凌晨", "早上", "a", "A"}
_WORD = re.compile(r"[^\W\d_]+\.?")


@functools.lru_cache(maxsize=1024)
def parse_date(text: str) -> dt.datetime | None:
    """The "Added on" part of a metadata line, in any Kindle language, as a naive datetime.

    Reads `Monday, December 07, 2009, 03:25 PM`, `Donnerstag, 22. August 2024 18:10:53`,
    `четверг, 22 августа 2024 г. в 18:10:53`, `2024年8月22日星期四 下午6:10:53` and the like;
    anything after the time (a time zone name) is ignored. None when it cannot be read.
    """
    hour = minute = second = 0
    time = _TIME.search(text)
    rest = text
    if time:
        hour, minute = int(time.group(1)), int(time.group(2))
        second = int(time.group(3) or 0)
        rest = text[: time.start()] + " " + text[time.end() :]
        half = _HALF_BEFORE.search(text[: time.start()]) or _HALF_AFTER.match(text[time.end() :])
        if half and half.group(1) in _MORNING:
            hour = 0 if hour == 12 else hour
        elif half and (half.group(1) != "中午" or hour < 11):
            hour = hour + 12 if hour < 12 else hour
    cjk = _CJK_DATE.search(rest)
    if cjk:
        year, month, day = (int(g) for g in cjk.groups())
    else:
        month_number = next(
            (number for word in _WORD.findall(rest) if (number := _month(word)) is not None),
            None,
        )
        numbers = re.findall(r"\d+", rest)
        if month_number is None or len(numbers) < 2:
            return None
        month = month_number
        years = [n for n in numbers if len(n) == 4]
        if years:
            year = int(years[0])
            numbers.remove(years[0])
            day = int(numbers[0])
        else:
            day, year = int(numbers[0]), int(numbers[-1])
            if year < 100:
                year += 2000
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except (ValueError, OverflowError):
        return None


# --- title and authors ------------------------------------------------------------------------

_OPENING = "(（"
_CLOSING = ")）"


def split_title_line(line: str) -> tuple[str, str]:
    """`Title (Series) (Last, First)` -> ("Title (Series)", "Last, First").

    The author is the last balanced bracket group that ends the line and follows a space
    (brackets may be nested, ASCII or full-width). Without such a group the whole line is the
    title and the author is empty.
    """
    stripped = line.strip()
    if not stripped or stripped[-1] not in _CLOSING:
        return stripped, ""
    depth = 0
    for position in range(len(stripped) - 1, -1, -1):
        char = stripped[position]
        if char in _CLOSING:
            depth += 1
        elif char in _OPENING:
            depth -= 1
            if depth == 0:
                title = stripped[:position].rstrip()
                if not title or not stripped[position - 1].isspace():
                    return stripped, ""
                return title, stripped[position + 1 : -1].strip()
    return stripped, ""


_INITIAL = re.compile(r"(?:^|\s)\w\.$")
_PEOPLE_SEPARATORS = re.compile(r"\s*[;；、]\s*|\s+(?:and|&)\s+")


def _one_or_two(last: str, first: str) -> list[str]:
    """`Last, First` is one person; `First Last, First Last` two."""
    last_words, first_words = last.split(), first.split()
    if _INITIAL.search(last):
        # "Steven D., Levitt": the part before the comma is a given name.
        return [f"{last} {first}"]
    if len(last_words) > 1 and len(first_words) > 1 and not _INITIAL.search(first):
        return [last, first]
    return [f"{first} {last}"]


def split_authors(author: str) -> list[str]:
    """An author string as Kindle wrote it, as people in order.

    People are separated by `;`, `、`, ` and ` or ` & `. Within one, a single comma means
    `Last, First` and is turned round ("Cockburn, Alistair" -> "Alistair Cockburn"), unless both
    sides are already full names ("Erich Gamma, Richard Helm" -> two people) or the part before
    the comma ends with an initial ("Steven D., Levitt" -> "Steven D. Levitt"). More commas: pairs
    of `Last, First` when every other part is one word, else one person per part. A trailing comma
    is dropped and runs of spaces are collapsed.
    """
    people: list[str] = []
    for chunk in _PEOPLE_SEPARATORS.split(author):
        parts = [" ".join(p.split()) for p in re.split(r"[,，]", chunk)]
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len(parts) == 1:
            people.append(parts[0])
        elif len(parts) == 2:
            people.extend(_one_or_two(*parts))
        elif len(parts) % 2 == 0 and all(len(p.split()) == 1 for p in parts[::2]):
            people.extend(f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2))
        else:
            people.extend(parts)
    return people


# --- reading the file -------------------------------------------------------------------------


@dataclass
class _Block:
    line: int  # 1-based number of its first line
    lines: list[str]


def _lines(text: str) -> list[str]:
    text = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _is_separator(line: str) -> bool:
    return line.strip() == SEPARATOR


def _blocks(lines: list[str]) -> Iterator[_Block]:
    """The text between separators, with its line number; a cut-off last separator counts."""
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    current: list[str] = []
    start = 1
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        cut_separator = number - 1 == last and stripped and set(stripped) == {"="} and len(stripped) < 10
        if _is_separator(line) or cut_separator:
            yield _Block(start, current)
            current, start = [], number + 1
        else:
            current.append(line)
    yield _Block(start, current)


@dataclass
class _Entry:
    index: int
    line: int
    book: tuple[str, str]
    kind: EntryKind
    text: str
    meta: _Meta
    first_index: int = 0
    versions: list[int] = field(default_factory=list)
    notes: list[_Entry] = field(default_factory=list)
    merged_into: _Entry | None = None
    # The "Added on" time of every version merged into this entry.
    times: list[dt.datetime] = field(default_factory=list)

    @property
    def position(self) -> tuple[LocationKind, str]:
        if self.meta.location:
            return LocationKind.LOCATION, self.meta.location
        if self.meta.page:
            return LocationKind.PAGE, self.meta.page
        return LocationKind.NONE, ""

    @property
    def start(self) -> tuple[LocationKind, str]:
        kind, where = self.position
        return kind, re.split(r"[-‐‑–—~～]", where, maxsplit=1)[0]


def _read_block(block: _Block, index: int, warnings: list[str]) -> _Entry | None:
    lines = list(block.lines)
    offset = 0
    while lines and not lines[0].strip():
        lines.pop(0)
        offset += 1
    if not lines:
        return None
    first_line = block.line + offset
    if _is_meta(lines[0]) and not (len(lines) > 1 and _is_meta(lines[1])):
        warnings.append(f"line {first_line}: entry without a title line; imported with an empty title")
        title_line, meta_line, body_lines = "", lines[0], lines[1:]
    elif len(lines) > 1 and _META_START.match(lines[1]):
        title_line, meta_line, body_lines = lines[0], lines[1], lines[2:]
    else:
        warnings.append(
            f"line {first_line}: not a Kindle entry (no '- Your Highlight ... | Added on ...' line "
            "after the title); left out"
        )
        return None
    meta = _read_meta(meta_line)
    meta_number = first_line + (0 if not title_line else 1)
    kind = meta.kind
    text = "\n".join(line.rstrip() for line in body_lines).strip()
    if kind is None:
        kind = EntryKind.HIGHLIGHT
        if text:
            warnings.append(
                f"line {meta_number}: cannot tell what kind of entry {meta_line.strip()!r} is; read as a highlight"
            )
    if meta.when is None and text and kind is not EntryKind.BOOKMARK:
        where = f"date {meta.date_text!r}" if meta.date_text else "no date"
        warnings.append(f"line {meta_number}: cannot read the {where}; imported without one")
    if not meta.location and not meta.page and text and kind is not EntryKind.BOOKMARK:
        warnings.append(f"line {meta_number}: no page or location in {meta_line.strip()!r}")
    return _Entry(
        index=index,
        line=first_line,
        book=split_title_line(title_line),
        kind=kind,
        text=text,
        meta=meta,
        first_index=index,
        versions=[index],
        times=[meta.when] if meta.when else [],
    )


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORDS = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> str:
    """The words of a text, casefolded, without punctuation, each CJK character a word of its own,
    framed by NULs so that "whole words of one text appear in the other" is a substring test."""
    words = _WORDS.findall(text.casefold())
    return "\0" + "\0".join(words) + "\0" if words else ""


def _is_prefix(shorter: str, longer: str) -> bool:
    """The longer text starts with the words of the shorter (quotes and spacing aside)."""
    short = _words(shorter)
    return bool(short) and _words(longer).startswith(short)


def _is_within(shorter: str, longer: str) -> bool:
    """The words of the shorter text appear, in a row, in the longer."""
    short = _words(shorter)
    return bool(short) and short in _words(longer)


def _versions_of_one(old: _Entry, new: _Entry) -> bool:
    """Two entries for one highlight: Kindle wrote it again after it was extended, trimmed or
    merged with a neighbour (the device merges overlapping highlights into one).

    With locations: one range holds the other and one text holds the other. With only a page, which
    is far too coarse for that: the same start page and one text a prefix of the other.
    """
    shorter, longer = sorted((old, new), key=lambda e: len(e.text))
    inner, outer = shorter.meta.location_span, longer.meta.location_span
    if inner and outer:
        nested = (outer[0] <= inner[0] and inner[1] <= outer[1]) or (inner[0] <= outer[0] and outer[1] <= inner[1])
        return nested and _is_within(shorter.text, longer.text)
    if inner or outer or not shorter.meta.page or shorter.start != longer.start:
        return False
    return _is_prefix(shorter.text, longer.text)


def _merge_highlights(entries: list[_Entry]) -> tuple[list[_Entry], int]:
    """One entry per highlight: exact repeats dropped, versions of one highlight merged into the
    longest (its text, position and date; the place in the order of the first version)."""
    kept: list[_Entry] = []
    exact: dict[tuple[LocationKind, str, str], _Entry] = {}
    by_location: dict[int, list[_Entry]] = {}
    by_page: dict[str, list[_Entry]] = {}
    widest = 0
    skipped = 0
    for entry in entries:
        key = (*entry.position, entry.text)
        if (same := exact.get(key)) is not None:
            while same.merged_into is not None:
                same = same.merged_into
            same.versions.append(entry.index)
            same.times.extend(entry.times)
            skipped += 1
            continue
        span = entry.meta.location_span
        if span and span[1] - span[0] + widest <= len(kept):
            candidates = [o for start in range(span[0] - widest, span[1] + 1) for o in by_location.get(start, ())]
        elif span:
            first, last = span
            candidates = [
                o
                for o in kept
                if (other := o.meta.location_span)
                and ((first <= other[0] and other[1] <= last) or (other[0] <= first and last <= other[1]))
            ]
        elif entry.meta.page:
            candidates = list(by_page.get(entry.start[1], ()))
        else:
            candidates = []
        related = [o for o in candidates if _versions_of_one(o, entry)]
        group = [*related, entry]
        winner = max(group, key=lambda e: (len(e.text), e.index))
        for old in related:
            kept.remove(old)
            if old.meta.location_span:
                by_location[old.meta.location_span[0]].remove(old)
            else:
                by_page[old.start[1]].remove(old)
        for version in group:
            if version is not winner:
                version.merged_into = winner
        skipped += len(related)
        winner.first_index = min(e.first_index for e in group)
        winner.versions = sorted(i for e in group for i in e.versions)
        winner.times = [t for e in group for t in e.times]
        kept.append(winner)
        exact[key] = winner
        if winner.meta.location_span:
            first, last = winner.meta.location_span
            by_location.setdefault(first, []).append(winner)
            widest = max(widest, last - first)
        elif winner.meta.page:
            by_page.setdefault(winner.start[1], []).append(winner)
    return kept, skipped


def _holds(highlight: _Entry, note: _Entry) -> bool:
    h, n = highlight.meta, note.meta
    if h.location_span and n.location_span:
        return h.location_span[0] <= n.location_span[1] <= h.location_span[1]
    if h.location or n.location:
        return False
    if h.page_span and n.page_span:
        return h.page_span[0] <= n.page_span[1] <= h.page_span[1]
    return bool(h.page) and h.page == n.page


class _Holders:
    """The highlights of one book, indexed by where they start, to find those holding a note."""

    def __init__(self, highlights: list[_Entry]) -> None:
        self.by_location: dict[int, list[_Entry]] = {}
        self.by_page: dict[int, list[_Entry]] = {}
        self.roman_pages: list[_Entry] = []
        self.widest_location = self.widest_page = 0
        for highlight in highlights:
            meta = highlight.meta
            if span := meta.location_span:
                self.by_location.setdefault(span[0], []).append(highlight)
                self.widest_location = max(self.widest_location, span[1] - span[0])
            elif span := meta.page_span:
                self.by_page.setdefault(span[0], []).append(highlight)
                self.widest_page = max(self.widest_page, span[1] - span[0])
            elif meta.page:
                self.roman_pages.append(highlight)

    def of(self, note: _Entry) -> list[_Entry]:
        meta = note.meta
        if meta.location_span:
            candidates = self._starting_before(self.by_location, self.widest_location, meta.location_span[1])
        elif meta.page_span:
            candidates = self._starting_before(self.by_page, self.widest_page, meta.page_span[1])
        else:
            candidates = self.roman_pages
        return [h for h in candidates if _holds(h, note)]

    @staticmethod
    def _starting_before(index: dict[int, list[_Entry]], widest: int, end: int) -> list[_Entry]:
        if widest > len(index):
            return [h for group in index.values() for h in group]
        return [h for start in range(end - widest, end + 1) for h in index.get(start, ())]


def _owner(holders_index: _Holders, note: _Entry) -> _Entry | None:
    """The highlight a note belongs to: one whose range holds the note's (end) position.

    Of several, one with the note's "Added on" time (Kindle writes a note made together with its
    highlight just before or after it, at the same time), else the nearest before the note in
    the file, else the nearest after it.
    """
    holders = holders_index.of(note)
    if len(holders) <= 1:
        return holders[0] if holders else None
    if note.meta.when is not None:
        same_time = [h for h in holders if note.meta.when in h.times]
        if same_time:
            holders = same_time
    before = [(max(i for i in h.versions if i < note.index), h) for h in holders if min(h.versions) < note.index]
    if before:
        return max(before, key=lambda pair: pair[0])[1]
    return min(holders, key=lambda h: min(h.versions))


def _join_notes(notes: list[_Entry]) -> tuple[str, int]:
    """The notes of one highlight as one text, and how many were repeats or replaced edits."""
    kept: list[_Entry] = []
    skipped = 0
    for note in notes:
        if any(k.text == note.text for k in kept):
            skipped += 1
            continue
        edited = next(
            (
                k
                for k in reversed(kept)
                if k.position == note.position
                and ((k.meta.when is not None and k.meta.when == note.meta.when) or _is_prefix(k.text, note.text))
            ),
            None,
        )
        if edited is not None:
            kept[kept.index(edited)] = note
            skipped += 1
        else:
            kept.append(note)
    return "\n\n".join(k.text for k in kept), skipped


_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def _roman(numeral: str) -> int:
    total = 0
    values = [_ROMAN.get(ch, 0) for ch in numeral.lower()]
    for position, value in enumerate(values):
        following = values[position + 1] if position + 1 < len(values) else 0
        total += -value if value < following else value
    return total


def _order(entry: _Entry) -> tuple[int, int, int]:
    meta = entry.meta
    if meta.location_span:
        return 0, meta.location_span[0], entry.first_index
    if meta.page_span:
        return 2, meta.page_span[0], entry.first_index
    if meta.page:
        return (
            1,
            _roman(re.split(r"[-‐‑–—~～]", meta.page, maxsplit=1)[0]),
            entry.first_index,
        )
    return 3, 0, entry.first_index


def _highlight(entry: _Entry, note: str) -> Highlight:
    kind, where = entry.position
    return Highlight(
        text=entry.text,
        note=note,
        location=where,
        location_kind=kind,
        highlighted_at=entry.meta.when,
        page=entry.meta.page,
    )


def parse(text: str) -> ParseResult:
    """Read a `My Clippings.txt` (already decoded) into one Document per book."""
    result = ParseResult(format=FORMAT)
    entries: list[_Entry] = []
    for index, block in enumerate(_blocks(_lines(text))):
        entry = _read_block(block, index, result.warnings)
        if entry is None:
            continue
        entries.append(entry)
    if not entries:
        if text.replace("\ufeff", "").strip():
            raise ParseError(
                "no Kindle clippings found: expected entries of a title line, a line such as "
                "'- Your Highlight on page 12 | location 98-99 | Added on ...', the text, and '=========='"
            )
        return result

    # Books in the order the file first names them, with the entries to import.
    books: dict[tuple[str, str], list[_Entry]] = {}
    for entry in entries:
        kept = books.setdefault(entry.book, [])
        if entry.kind is EntryKind.BOOKMARK or not entry.text:
            result.skipped += 1
        else:
            kept.append(entry)

    for (title, author), book_entries in books.items():
        if not book_entries:
            continue
        highlights, skipped = _merge_highlights([e for e in book_entries if e.kind is not EntryKind.NOTE])
        result.skipped += skipped
        standalone: dict[tuple[LocationKind, str], _Entry] = {}
        holders = _Holders(highlights)
        for note in (e for e in book_entries if e.kind is EntryKind.NOTE):
            owner = _owner(holders, note)
            if owner is None:
                where = note.position if note.position[0] else (LocationKind.NONE, str(note.index))
                owner = standalone.get(where)
                if owner is None:
                    owner = _Entry(
                        index=note.index,
                        line=note.line,
                        book=note.book,
                        kind=EntryKind.NOTE,
                        text="",
                        meta=note.meta,
                        first_index=note.index,
                        versions=[note.index],
                    )
                    standalone[where] = owner
            owner.notes.append(note)
        document = Document(
            title=title,
            author=author,
            authors=split_authors(author),
            category=Category.BOOKS,
            origin=ORIGIN,
        )
        for entry in sorted([*highlights, *standalone.values()], key=_order):
            note, skipped = _join_notes(entry.notes)
            result.skipped += skipped
            document.highlights.append(_highlight(entry, note))
        result.documents.append(document)
    return result


def sniff(text: str) -> bool:
    """Is this a Kindle clippings file? `==========` lines and a title line directly followed by
    a metadata line (`- ` + a kind or position word + `|`), which Markdown and CSV never have."""
    lines = _lines(text)
    if not any(_is_separator(line) for line in lines):
        return False
    for count, block in enumerate(_blocks(lines)):
        content = block.lines
        first = next((n for n, line in enumerate(content) if line.strip()), None)
        if (
            first is not None
            and first + 1 < len(content)
            and not _is_meta(content[first])
            and _is_meta(content[first + 1])
        ):
            return True
        if count >= 50:
            break
    return False
