"""Readwise's Markdown export (the Obsidian plugin and its templates): read it, and write it.

`parse` reads every layout Readwise and its users produce, including several in one file:

* Readwise's default template: `# Title`, `![rw-book-cover](url)`, a `## Metadata` list
  (`- Author: [[A & B]]`, `- Full Title:`, `- Category: #books`, `- Document Tags: [[x]]`,
  `- Summary:`, `- URL:`), `## Highlights` with one `- ` bullet per highlight, its text continued
  on lines indented by two spaces and ending in a locator such as `([Location 335](url))`,
  `([Page 12](url))`, `([Time 0:00:02](url))` or `([View Highlight](url))` (a no-break space may
  follow the label word), then `    - Tags: [[pink]]` and `    - Note: ...` sub-bullets, the note
  continued on deeper-indented lines. `## New highlights added <date> at <time>` sections continue
  the same document.
* The older community plugin: a `%% ID: 123 %%` comment, `# About` with `Title: [[...]]`,
  `Author(s):`, `Category: #x`, `Tags: #a, #b`, `Source URL:`; `# Highlights` with one paragraph
  per highlight ending in a block id `^160005992` (the highlight's external id), `---`
  separators and `**Note: ...**` paragraphs.
* Custom templates: YAML front matter (see `frontmatter`), `key:: value` lines, blockquote
  highlights (`> ...`), `### id687119130` or `### Location 46` headings over a highlight,
  `[[2024-03-02]] 13:19` lines (when it was highlighted), `- [n] note  * [View Highlight](url)`
  lines, `---` rules and footnotes.

Decisions, so that nothing is lost, invented or doubled:

* Tags: `[[tag]]`, `[[#tag]]` and `#tag` all mean the tag `tag` (one leading `#` is syntax, so
  `[[#type/outil]]` is `type/outil`); a YAML list is taken as written. Repeats (ignoring case) keep
  their first spelling. In Readwise's bullet layout, as in its CSV export (see `readwise_csv`),
  the tag `favorite` becomes `Highlight.favorite` and is not kept as a tag, and a Kindle colour
  tag (`yellow`, `blue`, `pink`, `orange`) stays a tag and also sets `Highlight.color`, unless the
  highlight has its own `Color:` line.
* Authors: the author string is kept as exported, minus wikilink brackets (`[[A & B]]` is
  `A & B`); `authors` splits it into people with `readwise_csv.split_authors`.
* Titles: `# Title` or front matter `title` is `Document.title`; front matter `aliases[0]` is
  `display_title` (further aliases stay in `extra["aliases"]`), and so is a `Full Title` that
  differs from the title. Without either, `Full Title` (or `# About`'s `Title:`) is the title.
* Several documents in one file (Readwise appends a whole new copy on re-sync): a new `# Title`,
  `%% ID %%` block, `# About`, cover or `## Metadata` after highlights starts a document;
  documents with the same title and author (ignoring case) are merged, others stay separate.
* Repeats: a highlight whose text equals an earlier one of the same document, and whose url,
  location and id do not contradict it, is the same highlight: the two are merged (empty fields
  filled, tags and notes combined) and the repeat counts in `ParseResult.skipped`. The same text
  at two different links or locations stays two highlights.
* Notes: `Note:` lines, `[n]` lines, `**Note: ...**` paragraphs, and any other paragraph in the
  highlights section (e.g. a `[[zettel]]` link) belong to the highlight before them. A footnote
  referenced after a highlight becomes a paragraph of its note; one referenced from a section
  heading, or never referenced, joins the document note, as do the lines of a section we do not
  know (`## My thoughts`) and unrecognised lines above the highlights. A `#tag` on a
  `## New highlights added` heading is a document tag; the heading's date is not kept (it is
  when Readwise synced, not when anything was highlighted).
* Fields Commonplace understands (front matter keys, `key:: value` lines, `- Key:` metadata and
  `Key:` lines under `# About`, matched ignoring case, spaces, `_` and `-`) fill the document;
  any other key goes to `Document.extra` as written, in order (values JSON-compatible). `date`
  (+ `time`) is `saved_at`. `Number of Highlights` is dropped (it is derived). A value that cannot
  be read (a date that is not one) stays in `extra` with a warning; a second, different value for
  a field already read is dropped with a warning; `None` and `[[]]` in `key::` lines are empty.
* `origin` comes from front matter `source`; for Readwise's own layouts (no front matter) it is
  `kindle` when highlights link to `readwise.io/to_kindle` and `reader` when they link to
  `read.readwise.io`.
* The sync log Readwise keeps beside the notes, or any file without highlights, gives no
  documents and the warning "no highlights found".

`render` writes Commonplace's own layout, which is the seed's (see its docstring); `render_readwise`
writes Readwise's default template. `parse` reads both back to an equal `Document`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any

from archive.formats import frontmatter
from archive.formats.document import (
    Category,
    Document,
    Highlight,
    LocationKind,
    ParseError,
    ParseResult,
)
from archive.formats.readwise_csv import split_authors

__all__ = ["FORMAT", "parse", "render", "render_readwise", "sniff"]

FORMAT = "readwise-markdown"

KINDLE_COLOURS = frozenset({"yellow", "blue", "pink", "orange"})
FAVORITE_TAG = "favorite"
NO_HIGHLIGHTS = "no highlights found"

_KIND_LABELS = {
    LocationKind.LOCATION: "Location",
    LocationKind.PAGE: "Page",
    LocationKind.TIME: "Time",
    LocationKind.OFFSET: "Offset",
    LocationKind.ORDER: "Order",
}
_LABEL_KINDS = {label.lower(): kind for kind, label in _KIND_LABELS.items()}

# A link destination: no spaces, parentheses only in balanced pairs (Wikipedia URLs).
_URL = r"[^\s()]*(?:\([^\s()]*\)[^\s()]*)*"
_LABEL = r"View [A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*|(?:Location|Page|Time|Offset|Order)\s+[^\[\]\n]+?"
# Found by its first characters, which the search skips to, then widened over the whitespace
# before it: the same match as `\s*` in front would give, without trying at every position.
_LOCATOR = re.compile(rf"\(\[(?P<label>{_LABEL})\]\((?P<url>{_URL})\)\)$")
_LOCATION_LABEL = re.compile(r"^(?P<word>Location|Page|Time|Offset|Order)\s+(?P<value>.+)$", re.I)
_BLOCK_ID = re.compile(r"\s+\^(?P<id>[A-Za-z0-9][A-Za-z0-9-]*)$")
_INLINE_ID = re.compile(r"\s*%%\s*(?:highlight[_ ]?)?id:\s*(?P<id>[^%\s]+)\s*%%$", re.I)
_FOOTNOTE_REF_TAIL = re.compile(r"\s*\[\^(?P<id>[^\]\s]+)\]$")
_FOOTNOTE_DEF = re.compile(r"^\[\^(?P<id>[^\]\s]+)\]:[ \t]?(?P<text>.*)$")
_COVER = re.compile(r"^!\[(?P<alt>[^\]]*)\]\(\s*(?P<url>\S*?)\s*\)\s*$")
_H3 = re.compile(r"^#{3,6}[ \t]+(?P<label>.*?)[ \t]*$")
_TIME = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:\s?[AaPp][Mm])?"
_DATE_LINE = re.compile(rf"^\[\[(?P<date>\d{{4}}-\d{{2}}-\d{{2}})\]\](?:[ \t]+(?P<time>{_TIME}))?[ \t]*$")
_DATAVIEW = re.compile(r"^(?P<key>[A-Za-z_][\w \-]*?)::[ \t]?(?P<value>.*)$")
_META_ITEM = re.compile(r"^[-*] (?P<key>[^:\n\[\]]+?):(?:[ \t](?P<value>.*)|[ \t]*)$")
_ABOUT_LINE = re.compile(r"^(?P<key>[A-Z][A-Za-z ]*?):(?:[ \t](?P<value>.*)|[ \t]*)$")
_ABOUT_START = re.compile(r"^(?:Title|Authors?):\s")
_KEYS = (
    r"Tags|Notes?|Colou?r|Favou?rite|Highlighted(?: at)?|ID|URL|Printed page|Position|Location|Page|Time|Offset|Order"
)
_SUB = re.compile(rf"^(?: {{4}}|\t)[-*] (?P<key>{_KEYS}):(?:[ \t](?P<value>.*)|[ \t]*)$", re.I)
_TRAILER = re.compile(rf"^[-*] (?P<key>{_KEYS}):(?:[ \t](?P<value>.*)|[ \t]*)$", re.I)
_N_NOTE = re.compile(r"^[-*] \[n\][ \t]?(?P<note>.*?)(?:\s+\*\s+\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]*)\))?\s*$")
_BOLD_NOTE = re.compile(
    r"^(?:\*\*Note:\s*(?P<a>.*?)\*\*|\*\*Note:\*\*\s*(?P<b>.*)|Note:\s*(?P<c>.*))$",
    re.S,
)
_COMMUNITY_TAGS = re.compile(r"^Tags?:\s*(?P<tags>.*)$", re.S)
_RULE = re.compile(r"^ {0,3}(?:-{3,}|\*{3,}|_{3,})[ \t]*$")
_HEADING = re.compile(r"^#{1,6}(?:[ \t]|$)")
_WIKILINK = re.compile(r"\[\[(.*?)\]\](?!\])")
_HASHTAG = re.compile(r"(?<!\S)#([^\s#,\[\]]+)")
_MD_LINK = re.compile(r"^\[[^\]]*\]\((?P<url>[^)]*)\)$")

_SNIFF_NO = re.compile(
    r"^#Omnivore\s*$|^\[Read on Omnivore\]\(|\[\u2934\ufe0f?\]\(https?://omnivore\.app/"
    r"|^\t*\s*(?:site|date-saved|date-published)::|^={10}\s*$|^Highlight,Book Title,",
    re.M,
)
# Text one of `_SNIFF_NO`'s alternatives must hold: a note with none of it needs no scan.
_SNIFF_NO_MARKS = ("Omnivore", "omnivore.app/", "::", "=" * 10, "Highlight,Book Title,")
_SNIFF_YES = re.compile(
    r"^!\[rw-book-cover\]\(|^#{1,2} Highlights[ \t]*$|^## Metadata[ \t]*$|^%%[ \t]*\nID:[ \t]*\d"
    r"|^# About[ \t]*\n+(?:Title|Authors?): "
    r"|\(\[(?:View (?:Highlight|Tweet)|(?:Location|Page|Time)\s[^\]\n]+)\]\(https?://"
    r"|^# \[\[\d{4}-\d{2}-\d{2}[^\]\n]*\]\] \*\(\d{1,2}:\d{2}\s?[ap]m\)\*",
    re.M | re.I,
)

# Front matter, metadata, About and `key::` names Commonplace understands, by normalised key.
_FIELDS = {
    "title": "title",
    "fulltitle": "full_title",
    "aliases": "aliases",
    "alias": "aliases",
    "author": "author",
    "authors": "authors",
    "url": "url",
    "sourceurl": "url",
    "link": "url",
    "category": "category",
    "source": "origin",
    "origin": "origin",
    "date": "date",
    "datesaved": "date",
    "savedat": "date",
    "saved": "date",
    "time": "time",
    "published": "published",
    "publisheddate": "published",
    "publishdate": "published",
    "datepublished": "published",
    "cover": "cover",
    "coverurl": "cover",
    "image": "cover",
    "imageurl": "cover",
    "coverimage": "cover",
    "coverimageurl": "cover",
    "tags": "tags",
    "documenttags": "tags",
    "note": "note",
    "documentnote": "note",
    "summary": "summary",
    "id": "external_id",
    "externalid": "external_id",
    "readwiseid": "external_id",
    "bookid": "external_id",
    "numberofhighlights": "drop",
}


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-]+", "", key).lower()


# --- detection ------------------------------------------------------------------------------


def sniff(text: str) -> bool:
    """Is this a Readwise/Obsidian-style highlight note (or Readwise's sync log)?

    True on Readwise's structure (`## Highlights`, `## Metadata`, `![rw-book-cover]`, `%% ID`,
    `# About`, Readwise locators, the sync log's `# [[date]] *(time)*` headings); False for Omnivore
    notes and Logseq pages, Kindle clippings and Readwise CSV, which other parsers read.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if any(mark in text for mark in _SNIFF_NO_MARKS) and _SNIFF_NO.search(text):
        return False
    return bool(_SNIFF_YES.search(text))


# --- reading --------------------------------------------------------------------------------


def parse(text: str) -> ParseResult:
    """Read one Readwise Markdown file (already decoded) into documents.

    Raises ParseError when its YAML front matter is malformed, naming the line.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return _Parser(text).run()


@dataclass
class _Entry:
    highlight: Highlight
    kind: str  # "quote", "bullet" or "paragraph": how it was written
    line: int
    explicit_color: bool = False

    def add_note(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        h = self.highlight
        h.note = f"{h.note}\n\n{text}" if h.note else text


@dataclass
class _Block:
    """One document as it is being read."""

    layout: str  # "default", "community" or "frontmatter"
    line: int  # 1-based line where it starts
    doc: Document = field(default_factory=lambda: Document(title=""))
    phase: str = "header"  # header, about, metadata, highlights, foreign
    fm_title: str | None = None
    h1: str | None = None
    about_title: str = ""
    full_title: str = ""
    full_title_key: str = ""
    authors: list[str] | None = None
    note_lines: list[str] = field(default_factory=list)
    note_parts: list[str] = field(default_factory=list)
    entries: list[_Entry] = field(default_factory=list)
    pending: dict[str, Any] = field(default_factory=dict)
    date_raw: tuple[str, str] | None = None  # (key as written, value)
    date_line: int = 0
    time_raw: tuple[str, str] | None = None


@dataclass
class _Tail:
    text: str
    url: str = ""
    kind: LocationKind = LocationKind.NONE
    location: str = ""
    block_id: str = ""
    refs: list[str] = field(default_factory=list)
    located: bool = False  # a locator was there (it may be an empty `([View Highlight]())`)


def _split_tail(line: str, footnotes: Container[str]) -> _Tail:
    """Take what follows a highlight's text off its last line: footnote refs, a block id, a locator."""
    refs: list[str] = []
    # Each search only where its mark is there to find (most lines have none of them).
    while "[^" in line and (m := _FOOTNOTE_REF_TAIL.search(line)) and m["id"] in footnotes:
        refs.insert(0, m["id"])
        line = line[: m.start()]
    block_id = ""
    if ("^" in line or "%%" in line) and (m := (_BLOCK_ID.search(line) or _INLINE_ID.search(line))):
        block_id = m["id"]
        line = line[: m.start()]
    tail = _Tail(line, block_id=block_id, refs=refs)
    if m := _LOCATOR.search(line):
        tail.text = line[: m.start()].rstrip()
        tail.url = m["url"]
        tail.kind, tail.location = _location_label(m["label"])
        tail.located = True
    return tail


def _location_label(label: str) -> tuple[LocationKind, str]:
    m = _LOCATION_LABEL.match(label.strip())
    if m is None:
        return LocationKind.NONE, ""
    return _LABEL_KINDS[m["word"].lower()], m["value"].strip()


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_rule(line: str) -> bool:
    return bool(_RULE.match(line))


def _unwrap(value: str) -> str:
    """A metadata value without the decoration templates put around it."""
    value = value.strip()
    for pattern in (
        r"\[\[(.*)\]\]",
        r"==(.+)==",
        r"\*\*(.+)\*\*",
        r"\*(.+)\*",
        r"_(.+)_",
    ):
        m = re.fullmatch(pattern, value, re.S)
        if m and "[[" not in m[1] and "]]" not in m[1]:
            return m[1].strip()
    return value


def _link_target(value: str) -> str:
    value = value.strip()
    if m := _MD_LINK.match(value):
        return m["url"].strip()
    return _unwrap(value)


def _dedupe_tags(tags: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        if tag.lower() not in seen:
            seen.add(tag.lower())
            out.append(tag)
    return out


def _parse_tags(value: str) -> list[str]:
    """Tags written as `[[a]] [[#b]]`, a JSON list, `#a #b`, or `a, b`."""
    value = value.strip()
    tags: list[str]
    if value.startswith("[["):
        tags = [t[1:] if t.startswith("#") else t for t in _WIKILINK.findall(value)]
    elif value.startswith("["):
        try:
            loaded = json.loads(value)
        except ValueError:
            loaded = None
        if isinstance(loaded, list) and all(isinstance(t, str) for t in loaded):
            tags = loaded
        else:
            tags = [t.strip() for t in value.strip("[]").split(",")]
    elif "#" in value:
        tags = _HASHTAG.findall(value)
    else:
        tags = [t.strip() for t in value.split(",")]
    return _dedupe_tags([t for t in tags if t != ""])


def _category(value: str) -> Category | None:
    word = _unwrap(value).lstrip("#").strip().lower()
    if not word:
        return None
    for candidate in (word, f"{word}s"):
        try:
            category = Category(candidate)
        except ValueError:
            continue
        if category is not Category.NONE:
            return category
    return None


def _parse_time(value: str) -> dt.time | None:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*([AaPp][Mm])?", value.strip())
    if m is None:
        return None
    hour, minute = int(m[1]), int(m[2])
    second = int(m[3] or 0)
    micro = int((m[4] or "0").ljust(6, "0"))
    if m[5]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m[5].lower() == "pm" else 0)
    try:
        return dt.time(hour, minute, second, micro)
    except ValueError:
        return None


def _parse_when(value: str) -> dt.date | dt.datetime | None:
    """A date or date-time as templates write them: ISO, `[[2024-03-02]] 13:19`, `July 19, 2023`."""
    value = re.sub(r"\[\[([^\]]*)\]\]", r"\1", value).strip()
    if not value:
        return None
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[ T]+(.+))?", value)
    if m:
        try:
            day = dt.date.fromisoformat(m[1])
        except ValueError:
            return None
        if m[2] is None:
            return day
        time = _parse_time(m[2])
        if time is not None:
            return dt.datetime.combine(day, time)
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%Y/%m/%d", "%d %B %Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def _as_text(value: Any) -> str:
    """A YAML value as text; `[[Name]]` left unquoted by the user is a nested list."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value if _as_text(v))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_as_text(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, list) else [_as_text(item)])
        return [t for t in out if t != ""]
    return _parse_tags(_as_text(value))


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.blocks: list[_Block] = []
        self.cur: _Block | None = None
        self.warnings: list[str] = []
        self.skipped = 0
        self.skip: set[int] = set()
        self.footnotes: dict[str, tuple[int, str]] = {}
        self.used_footnotes: set[str] = set()
        self.preamble: list[str] = []  # lines before the first document

    # -- driver --

    def run(self) -> ParseResult:
        start = 0
        front = frontmatter.split(self.lines)
        if front is not None:
            block = self._start("frontmatter", 0)
            self._front_matter(block, front.data, 1, front.end)
            start = front.end + 1
        self._scan_footnotes(start)
        i = start
        while i < len(self.lines):
            i = self._step(i)
        return self._finish()

    def _start(self, layout: str, i: int) -> _Block:
        block = _Block(layout=layout, line=i + 1)
        self.blocks.append(block)
        self.cur = block
        return block

    def _scan_footnotes(self, start: int) -> None:
        i = start
        while i < len(self.lines):
            m = _FOOTNOTE_DEF.match(self.lines[i])
            if not m:
                i += 1
                continue
            first = i
            parts = [m["text"]]
            self.skip.add(i)
            i += 1
            while i < len(self.lines) and self.lines[i].startswith(("    ", "\t")):
                parts.append(self.lines[i].strip())
                self.skip.add(i)
                i += 1
            self.footnotes.setdefault(m["id"], (first, "\n".join(parts).strip()))

    def _footnote(self, ref: str) -> str:
        self.used_footnotes.add(ref)
        return self.footnotes[ref][1]

    def _next_nonblank(self, i: int) -> int | None:
        while i < len(self.lines):
            if self.lines[i].strip() and i not in self.skip:
                return i
            i += 1
        return None

    def _step(self, i: int) -> int:
        line = self.lines[i]
        if i in self.skip:
            return i + 1
        cur = self.cur
        if not line.strip():
            if cur is not None and cur.phase == "foreign":
                cur.note_lines.append("")
            return i + 1
        if line.startswith("%%"):
            return self._comment(i)
        if line.startswith("# ") or line.rstrip() == "#":
            return self._h1(i)
        if line.startswith("## "):
            return self._h2(i)
        if line.rstrip() == "---" and (after := self._mid_front_matter(i)):
            return after
        if cur is None:
            m = _COVER.match(line)
            if m and m["alt"] in ("", "rw-book-cover"):
                self._start("default", i).doc.cover_url = m["url"]
            elif not _is_rule(line):
                self.preamble.append(line)
            return i + 1
        if cur.phase == "foreign":
            cur.note_lines.append(line)
            return i + 1
        if _is_rule(line):
            return i + 1
        if cur.phase in ("header", "about", "metadata"):
            return self._header_line(i)
        return self._highlights_line(i)

    # -- structure --

    def _comment(self, i: int) -> int:
        line = self.lines[i].strip()
        if line != "%%" and line.endswith("%%") and len(line) >= 4:
            body, end = [line[2:-2]], i + 1
        else:
            body, end = [line[2:]], i + 1
            while end < len(self.lines) and not self.lines[end].rstrip().endswith("%%"):
                body.append(self.lines[end])
                end += 1
            if end < len(self.lines):
                body.append(self.lines[end].rstrip()[:-2])
                end += 1
        values: dict[str, str] = {}
        for text in body:
            if m := re.match(r"^\s*([A-Za-z][\w ]*?):\s*(.*?)\s*$", text):
                values[m[1]] = m[2]
        ident = next((v for k, v in values.items() if k.lower() == "id"), None)
        if ident is None:
            return end
        cur = self.cur
        if cur is None or cur.entries or cur.phase not in ("header", "about"):
            cur = self._start("community", i)
        cur.layout = "community" if cur.layout != "frontmatter" else cur.layout
        self._set(cur, "external_id", ident, "ID", i)
        for key, value in values.items():
            if key.lower() != "id" and value:
                self._extra(cur, key, value, i)
        return end

    def _h1(self, i: int) -> int:
        title = self.lines[i][1:].strip()
        cur = self.cur
        nxt = self._next_nonblank(i + 1)
        if title == "About" and nxt is not None and _ABOUT_START.match(self.lines[nxt]):
            if cur is None or cur.entries or cur.layout != "community" or cur.phase != "header":
                cur = self._start("community", i)
            cur.phase = "about"
            return i + 1
        if title == "Highlights" and cur is not None and cur.layout == "community" and cur.phase in ("header", "about"):
            cur.phase = "highlights"
            return i + 1
        if cur is not None and not cur.entries and cur.phase == "header" and cur.h1 is None:
            cur.h1 = title
            return i + 1
        self._start("default", i).h1 = title
        return i + 1

    def _h2(self, i: int) -> int:
        name = self.lines[i][3:].strip()
        lower = name.lower()
        cur = self.cur
        if lower == "metadata":
            if cur is None or cur.entries or cur.phase != "header":
                cur = self._start("default", i)
            cur.phase = "metadata"
            return i + 1
        if lower.startswith("highlights") or lower.startswith("new highlights added"):
            if cur is None:
                cur = self._start("default", i)
            cur.phase = "highlights"
            if lower.startswith("new highlights added"):
                tail = name[len("new highlights added") :]
                cur.doc.tags = _dedupe_tags([*cur.doc.tags, *_HASHTAG.findall(tail)])
                for ref in re.findall(r"\[\^([^\]\s]+)\]", tail):
                    if ref in self.footnotes:
                        cur.note_parts.append(self._footnote(ref))
            return i + 1
        if cur is not None:
            cur.phase = "foreign"
            cur.note_lines.append(self.lines[i])
        return i + 1

    def _mid_front_matter(self, i: int) -> int:
        """A second document's front matter in the middle of a file; the index after it, or 0."""
        cur = self.cur
        if cur is None or not cur.entries or i + 1 >= len(self.lines):
            return 0
        if not re.match(r"^[A-Za-z_][\w \-]*:(\s|$)", self.lines[i + 1]):
            return 0
        for end in range(i + 1, min(len(self.lines), i + 200)):
            line = self.lines[end]
            if line.rstrip() == "---":
                break
            if not line.strip():
                return 0
        else:
            return 0
        try:
            data = frontmatter.load("\n".join(self.lines[i + 1 : end]), first_line=i + 2)
        except ParseError:
            return 0
        if not any(_FIELDS.get(_norm_key(k)) in ("title", "aliases") for k in data):
            return 0
        block = self._start("frontmatter", i)
        self._front_matter(block, data, i + 1, end)
        return end + 1

    # -- document fields --

    def _set(self, block: _Block, attr: str, value: Any, key: str, i: int) -> None:
        current = getattr(block.doc, attr)
        if value in ("", None, []) or current == value:
            return
        if current in ("", None, [], Category.NONE):
            setattr(block.doc, attr, value)
        else:
            self.warnings.append(
                f"line {i + 1}: {key} {value!r} differs from {current!r} given earlier; kept the first"
            )

    def _extra(self, block: _Block, key: str, value: Any, i: int) -> None:
        extra = block.doc.extra
        if key not in extra:
            extra[key] = value
        elif extra[key] != value:
            self.warnings.append(f"line {i + 1}: {key} {value!r} repeats a key already read; kept the first")

    def _field(self, block: _Block, key: str, value: Any, i: int, *, yaml: bool) -> None:
        """One named value from front matter, a metadata list, # About or a `key::` line."""
        name = _FIELDS.get(_norm_key(key))
        if name is None:
            if yaml:
                self._extra(block, key, value, i)
            elif isinstance(value, str) and _unwrap(value) not in ("", "None"):
                self._extra(block, key, _unwrap(value), i)
            return
        if name == "drop" or value is None:
            return
        if name == "aliases":
            aliases = _as_list(value) if yaml else [_unwrap(_as_text(value))]
            if aliases:
                self._set(block, "display_title", aliases[0], key, i)
                if len(aliases) > 1:
                    self._extra(block, "aliases", aliases[1:], i)
            return
        if name == "tags":
            tags = _as_list(value) if yaml else _parse_tags(value)
            block.doc.tags = _dedupe_tags([*block.doc.tags, *tags])
            return
        if name == "authors" and isinstance(value, list):
            if block.authors is None:
                block.authors = _as_list(value)
            return
        text = _as_text(value)
        if yaml and name == "title":
            if block.fm_title is None:
                block.fm_title = text
            return
        if not yaml:
            text = text.strip()
            if _unwrap(text) in ("", "None"):
                return
        if not (text if yaml else text.strip()):
            return
        if name == "title":
            if not block.about_title:
                block.about_title = _unwrap(text)
        elif name == "full_title":
            if not block.full_title:
                block.full_title, block.full_title_key = (
                    (text if yaml else _unwrap(text)),
                    key,
                )
        elif name in ("author", "authors"):
            author = text if yaml else re.sub(r"\[\[([^\]]*)\]\]", r"\1", text).strip()
            self._set(block, "author", author, key, i)
        elif name == "url":
            self._set(block, "url", text if yaml else _link_target(text), key, i)
        elif name == "cover":
            self._set(block, "cover_url", text if yaml else _link_target(text), key, i)
        elif name == "category":
            category = _category(text)
            if category is None:
                self._extra(block, key, value if yaml else _unwrap(text), i)
            else:
                self._set(block, "category", category, key, i)
        elif name == "origin":
            origin = text if yaml else _unwrap(text)
            if re.match(r"https?://", origin):
                self._set(block, "url", origin, key, i)
            else:
                self._set(block, "origin", origin, key, i)
        elif name == "date":
            if block.date_raw is None:
                block.date_raw, block.date_line = (key, text), i
        elif name == "time":
            if block.time_raw is None:
                block.time_raw = (key, text)
        elif name == "published":
            when = _parse_when(text)
            if when is None:
                self.warnings.append(f"line {i + 1}: {key} {text!r} is not a date; kept as is")
                self._extra(block, key, value if yaml else text, i)
            else:
                day = when.date() if isinstance(when, dt.datetime) else when
                self._set(block, "published_at", day, key, i)
        elif name in ("note", "summary"):
            self._set(block, name, text if yaml else text.strip(), key, i)
        elif name == "external_id":
            self._set(block, "external_id", text if yaml else _unwrap(text), key, i)

    def _front_matter(self, block: _Block, data: dict[str, Any], first: int, end: int) -> None:
        """Apply front matter read from lines `first` to `end` (0-based, fences excluded)."""
        block.layout = "frontmatter"
        where: dict[str, int] = {}
        for i in range(first, end):
            if m := re.match(r"^([\"']?)(?P<key>.+?)\1[ \t]*:(?:[ \t]|$)", self.lines[i]):
                where.setdefault(m["key"], i)
        for key, value in data.items():
            self._field(block, key, value, where.get(key, first - 1), yaml=True)

    # -- header --

    def _header_line(self, i: int) -> int:
        cur = self.cur
        assert cur is not None
        line = self.lines[i]
        m = _COVER.match(line)
        if m and m["alt"] in ("", "rw-book-cover", "cover"):
            self._set(cur, "cover_url", m["url"], "cover", i)
            return i + 1
        if m := _DATAVIEW.match(line):
            self._field(cur, m["key"], m["value"], i, yaml=False)
            return i + 1
        if m := _META_ITEM.match(line):
            more, end = self._continuation(i + 1, 0)
            value = "\n".join([m["value"] or "", *more]).strip()
            self._field(cur, m["key"].strip(), value, i, yaml=False)
            return end
        if (cur.layout == "community" or cur.phase == "about") and (m := _ABOUT_LINE.match(line)):
            self._field(cur, m["key"].strip(), m["value"] or "", i, yaml=False)
            return i + 1
        cur.note_lines.append(line)
        return i + 1

    # -- highlights --

    def _highlights_line(self, i: int) -> int:
        cur = self.cur
        assert cur is not None
        line = self.lines[i]
        last = cur.entries[-1] if cur.entries else None
        if line.startswith(">"):
            return self._quote(i)
        if last is not None and last.kind == "quote" and (m := _N_NOTE.match(line)):
            last.add_note(m["note"])
            if m["url"]:
                self._locate(last, m["url"], *_location_label(m["label"] or ""))
            return i + 1
        if last is not None and last.kind == "quote" and (m := _TRAILER.match(line)):
            return self._key_line(last, m["key"], m["value"] or "", i, 0)
        if line.startswith("- ") or line.rstrip() == "-":
            return self._bullet(i)
        if m := _DATE_LINE.match(line):
            when = _parse_when(f"{m['date']} {m['time'] or ''}")
            if when is not None:
                cur.pending["highlighted_at"] = _as_datetime(when)
            return i + 1
        if m := _H3.match(line):
            label = m["label"]
            if idm := re.fullmatch(r"id[\s:]*(\w+)", label, re.I):
                cur.pending["external_id"] = idm[1]
                return i + 1
            kind, location = _location_label(label)
            if kind is not LocationKind.NONE:
                cur.pending["location"] = (kind, location)
                return i + 1
            return self._stray(i)
        m = _COVER.match(line)
        if m and m["alt"] == "rw-book-cover":
            self._start("default", i).doc.cover_url = m["url"]
            return i + 1
        if cur.layout == "community":
            return self._community_paragraph(i)
        return self._stray(i)

    def _continuation(self, j: int, base: int, stop: Callable[[str], object] | None = None) -> tuple[list[str], int]:
        """Lines after a list item that belong to it: indented deeper than its marker.

        Empty lines are kept when a deeper-indented line follows them; lines are dedented to the
        item's content column (marker column + 2).
        """
        out: list[str] = []
        lines = self.lines
        while j < len(lines) and j not in self.skip:
            line = lines[j]
            if stop is not None and stop(line):
                break
            if not line.strip() and _lead(line) <= base:
                k = j
                while k < len(lines) and not lines[k].strip() and _lead(lines[k]) <= base:
                    k += 1
                if (
                    k < len(lines)
                    and k not in self.skip
                    and _lead(lines[k]) > base
                    and not (stop is not None and stop(lines[k]))
                ):
                    out.extend("" for _ in range(k - j))
                    j = k
                    continue
                break
            lead = _lead(line)
            if lead <= base:
                break
            out.append(line[min(lead, base + 2) :])
            j += 1
        return out, j

    def _new_entry(self, tail: _Tail, kind: str, i: int, body: list[str]) -> _Entry | None:
        cur = self.cur
        assert cur is not None
        text = "\n".join([*body[:-1], tail.text]).strip()
        pending, cur.pending = cur.pending, {}
        if not text and not tail.located:  # a bare locator is a note-only highlight (see `render`)
            self.skipped += 1
            self.warnings.append(f"line {i + 1}: a highlight without text; skipped")
            return None
        h = Highlight(
            text=text,
            url=tail.url,
            location=tail.location,
            location_kind=tail.kind,
            external_id=tail.block_id or pending.get("external_id", ""),
            highlighted_at=pending.get("highlighted_at"),
        )
        if h.location_kind is LocationKind.NONE and "location" in pending:
            h.location_kind, h.location = pending["location"]
        entry = _Entry(h, kind, i)
        for ref in tail.refs:
            entry.add_note(self._footnote(ref))
        cur.entries.append(entry)
        return entry

    def _locate(self, entry: _Entry, url: str, kind: LocationKind, location: str) -> None:
        h = entry.highlight
        if url and not h.url:
            h.url = url
        if kind is not LocationKind.NONE and h.location_kind is LocationKind.NONE:
            h.location_kind, h.location = kind, location

    def _quote(self, i: int) -> int:
        body: list[str] = []
        j = i
        while j < len(self.lines) and self.lines[j].startswith(">") and j not in self.skip:
            content = self.lines[j][1:]
            body.append(content[1:] if content.startswith(" ") else content)
            j += 1
        self._new_entry(_split_tail(body[-1], self.footnotes), "quote", i, body)
        return j

    def _bullet(self, i: int) -> int:
        first = self.lines[i][2:]
        more, j = self._continuation(i + 1, 0, stop=_SUB.match)
        body = [first, *more]
        while len(body) > 1 and not body[-1].strip():
            body.pop()
        entry = self._new_entry(_split_tail(body[-1], self.footnotes), "bullet", i, body)
        tags_seen = False
        while j < len(self.lines) and j not in self.skip:
            line = self.lines[j]
            if not line.strip():
                k = self._next_nonblank(j)
                if k is not None and _SUB.match(self.lines[k]):
                    j = k
                    continue
                break
            m = _SUB.match(line)
            if m is None:
                break
            if entry is None:
                _more, j = self._continuation(j + 1, 4)
                continue
            tags_seen = tags_seen or m["key"].lower() == "tags"
            j = self._key_line(entry, m["key"], m["value"] or "", j, 4)
        if entry is not None and tags_seen:
            self._readwise_tags(entry)
        return j

    def _readwise_tags(self, entry: _Entry) -> None:
        """Readwise's bullet layout: `favorite` is a flag, a Kindle colour tag is the colour too."""
        h = entry.highlight
        if any(t.lower() == FAVORITE_TAG for t in h.tags):
            h.favorite = True
            h.tags = [t for t in h.tags if t.lower() != FAVORITE_TAG]
        if not entry.explicit_color and not h.color:
            h.color = next((t.lower() for t in h.tags if t.lower() in KINDLE_COLOURS), "")

    def _key_line(self, entry: _Entry, key: str, value: str, j: int, base: int) -> int:
        """A `Note:`/`Tags:`/... line under a highlight; returns the index after it."""
        more, end = self._continuation(j + 1, base)
        key = key.lower()
        h = entry.highlight
        if key in ("note", "notes"):
            entry.add_note("\n".join([value, *more]))
            return end
        value = "\n".join([value, *more]).strip()
        if key == "tags":
            h.tags = _dedupe_tags([*h.tags, *_parse_tags(value)])
        elif key in ("color", "colour"):
            entry.explicit_color = True
            h.color = h.color or _decode(value)
        elif key in ("favorite", "favourite"):
            h.favorite = h.favorite or value.lower() in ("yes", "true", "1", "y")
        elif key.startswith("highlighted"):
            when = _parse_when(value)
            if when is None:
                self.warnings.append(f"line {j + 1}: {value!r} is not a date and time; ignored")
            elif h.highlighted_at is None:
                h.highlighted_at = _as_datetime(when)
        elif key == "id":
            h.external_id = h.external_id or _decode(value)
        elif key == "url":
            h.url = h.url or _decode(value)
        elif key == "printed page":
            h.page = h.page or _decode(value)
        elif key == "position":
            if h.location_kind is LocationKind.NONE and not h.location:
                h.location = _decode(value)
        else:
            if h.location_kind is LocationKind.NONE:
                h.location_kind, h.location = _LABEL_KINDS[key], _decode(value)
        return end

    def _paragraph(self, i: int, stop: Callable[[str], object]) -> tuple[list[str], int]:
        out = [self.lines[i]]
        j = i + 1
        while j < len(self.lines) and j not in self.skip:
            line = self.lines[j]
            if not line.strip() or _HEADING.match(line) or _is_rule(line) or stop(line):
                break
            out.append(line)
            j += 1
        return out, j

    def _community_paragraph(self, i: int) -> int:
        cur = self.cur
        assert cur is not None
        body, j = self._paragraph(i, lambda line: line.startswith("%%"))
        para = "\n".join(body).strip()
        last = cur.entries[-1] if cur.entries else None
        if last is not None and (m := _BOLD_NOTE.match(para)):
            last.add_note(m["a"] or m["b"] or m["c"] or "")
            return j
        if last is not None and (m := _COMMUNITY_TAGS.match(para)):
            last.highlight.tags = _dedupe_tags([*last.highlight.tags, *_parse_tags(m["tags"])])
            return j
        self._new_entry(_split_tail(body[-1], self.footnotes), "paragraph", i, body)
        return j

    def _stray(self, i: int) -> int:
        """A paragraph among the highlights that is not one: a note on the highlight before it."""
        cur = self.cur
        assert cur is not None
        body, j = self._paragraph(
            i,
            lambda line: line.startswith((">", "- ", "%%")) or _DATE_LINE.match(line),
        )
        refs: list[str] = []
        last_line = body[-1]
        while "[^" in last_line and (m := _FOOTNOTE_REF_TAIL.search(last_line)) and m["id"] in self.footnotes:
            refs.insert(0, m["id"])
            last_line = last_line[: m.start()]
        parts = ["\n".join([*body[:-1], last_line]), *(self._footnote(r) for r in refs)]
        if cur.entries:
            for part in parts:
                cur.entries[-1].add_note(part)
        else:
            cur.note_parts.extend(p.strip() for p in parts if p.strip())
        return j

    # -- results --

    def _finish(self) -> ParseResult:
        if self.preamble and self.blocks:
            self.blocks[0].note_lines[:0] = [*self.preamble, ""]
        for ref, (line, text) in self.footnotes.items():
            if ref in self.used_footnotes:
                continue
            owner = None
            for block in self.blocks:
                if block.line <= line + 1:
                    owner = block
            if owner is not None:
                owner.note_parts.append(text)
        documents = [(block, self._document(block)) for block in self.blocks]
        result = ParseResult(format=FORMAT, skipped=self.skipped, warnings=self.warnings)
        merged: dict[tuple[str, str], Document] = {}
        empty: list[_Block] = []
        for block, doc in documents:
            if not doc.highlights:
                empty.append(block)
                continue
            key = (doc.title.strip().casefold(), doc.author.strip().casefold())
            if key in merged:
                result.skipped += _merge_documents(merged[key], doc, result.warnings)
            else:
                merged[key] = doc
                result.documents.append(doc)
        if not result.documents:
            result.warnings.insert(0, NO_HIGHLIGHTS)
        else:
            for block in empty:
                title = block.h1 or block.fm_title or block.about_title or block.full_title
                result.warnings.append(f"line {block.line}: {title!r} has no highlights; nothing to import")
        return result

    def _document(self, block: _Block) -> Document:
        doc = block.doc
        if block.fm_title is not None:
            doc.title = block.fm_title
        else:
            doc.title = block.h1 or block.about_title or block.full_title
        if block.full_title and block.full_title != doc.title:
            if not doc.display_title:
                doc.display_title = block.full_title
            elif block.full_title != doc.display_title:
                self._extra(block, block.full_title_key, block.full_title, block.line - 1)
        if block.h1 and block.fm_title is not None and block.h1 != doc.title:
            if not doc.display_title:
                doc.display_title = block.h1
            elif block.h1 != doc.display_title:
                block.note_lines.insert(0, f"# {block.h1}")
        doc.authors = block.authors if block.authors is not None else split_authors(doc.author)
        self._saved_at(block)
        stray = "\n".join(block.note_lines).strip()
        doc.note = "\n\n".join(p for p in [doc.note, stray, *block.note_parts] if p)
        doc.tags = _dedupe_tags(doc.tags)
        index = _text_index(doc.highlights)
        for entry in block.entries:
            self.skipped += _add_highlight(doc.highlights, index, entry.highlight)
        if not doc.origin and block.layout != "frontmatter":
            urls = [h.url for h in doc.highlights]
            if any("readwise.io/to_kindle" in u for u in urls):
                doc.origin = "kindle"
            elif any("read.readwise.io" in u for u in urls):
                doc.origin = "reader"
        return doc

    def _saved_at(self, block: _Block) -> None:
        doc = block.doc
        if block.date_raw is None:
            if block.time_raw is not None:
                self._extra(block, *block.time_raw, block.line - 1)
            return
        when = _parse_when(block.date_raw[1])
        time = _parse_time(block.time_raw[1]) if block.time_raw else None
        if when is None or (block.time_raw is not None and time is None):
            self.warnings.append(
                f"line {block.date_line + 1}: could not read the date {block.date_raw[1]!r}"
                + (f" and time {block.time_raw[1]!r}" if block.time_raw else "")
                + "; kept as is"
            )
            self._extra(block, *block.date_raw, block.line - 1)
            if block.time_raw is not None:
                self._extra(block, *block.time_raw, block.line - 1)
            return
        saved = _as_datetime(when)
        if time is not None:
            saved = dt.datetime.combine(saved.date(), time)
        doc.saved_at = saved


def _decode(value: str) -> str:
    """A one-line value written by `_encode`: JSON when it starts with a double quote."""
    value = value.strip()
    if value.startswith('"'):
        try:
            loaded = json.loads(value)
        except ValueError:
            return value
        if isinstance(loaded, str):
            return loaded
    return value


def _compatible(a: str, b: str) -> bool:
    return not a or not b or a == b


def _same_highlight(a: Highlight, b: Highlight) -> bool:
    return (
        a.text == b.text
        and (bool(a.text) or a.note == b.note)  # note-only highlights are told apart by their notes
        and _compatible(a.url, b.url)
        and _compatible(a.external_id, b.external_id)
        and (
            a.location_kind is LocationKind.NONE
            or b.location_kind is LocationKind.NONE
            or (a.location_kind, a.location) == (b.location_kind, b.location)
        )
    )


def _merge_note(a: str, b: str) -> str:
    if not b or b in a:
        return a
    if not a or a in b:
        return b
    return f"{a}\n\n{b}"


def _add_highlight(highlights: list[Highlight], index: dict[str, list[Highlight]], new: Highlight) -> int:
    """Append `new`, or merge it into the highlight it repeats; returns 1 when it was a repeat.

    `index` maps each text to the highlights in `highlights` that have it.
    """
    for old in index.get(new.text, []):
        if _same_highlight(old, new):
            old.url = old.url or new.url
            old.external_id = old.external_id or new.external_id
            if old.location_kind is LocationKind.NONE:
                old.location_kind, old.location = new.location_kind, new.location
            old.note = _merge_note(old.note, new.note)
            old.tags = _dedupe_tags([*old.tags, *new.tags])
            old.color = old.color or new.color
            old.highlighted_at = old.highlighted_at or new.highlighted_at
            old.favorite = old.favorite or new.favorite
            old.page = old.page or new.page
            return 1
    highlights.append(new)
    index.setdefault(new.text, []).append(new)
    return 0


def _text_index(highlights: list[Highlight]) -> dict[str, list[Highlight]]:
    index: dict[str, list[Highlight]] = {}
    for h in highlights:
        index.setdefault(h.text, []).append(h)
    return index


def _merge_documents(target: Document, other: Document, warnings: list[str]) -> int:
    """Fold a later copy of the same document into the first; returns repeats merged."""
    for name in (
        "display_title",
        "url",
        "origin",
        "cover_url",
        "summary",
        "external_id",
    ):
        mine, theirs = getattr(target, name), getattr(other, name)
        if not mine:
            setattr(target, name, theirs)
        elif theirs and theirs != mine:
            warnings.append(
                f"{target.title!r} appears twice with different {name.replace('_', ' ')}: kept {mine!r}, not {theirs!r}"
            )
    if target.category is Category.NONE:
        target.category = other.category
    target.saved_at = target.saved_at or other.saved_at
    target.published_at = target.published_at or other.published_at
    target.note = _merge_note(target.note, other.note)
    target.tags = _dedupe_tags([*target.tags, *other.tags])
    for key, value in other.extra.items():
        target.extra.setdefault(key, value)
    index = _text_index(target.highlights)
    return sum(_add_highlight(target.highlights, index, h) for h in other.highlights)


# --- writing --------------------------------------------------------------------------------


def _encode(value: str) -> str:
    """A one-line value that `_decode` reads back: as is when safe, else a JSON string."""
    if value and value == value.strip() and "\n" not in value and not value.startswith('"'):
        return value
    return json.dumps(value, ensure_ascii=False)


def _tags_text(tags: list[str]) -> str:
    """Tags as `[[a]] [[b c]]` (a leading `#` doubled), or a JSON list when that would not read back."""
    text = " ".join(f"[[#{t}]]" if t.startswith("#") else f"[[{t}]]" for t in tags)
    if _parse_tags(text) == tags:
        return text
    return json.dumps(tags, ensure_ascii=False)


def _locator(h: Highlight, space: str) -> tuple[str, list[tuple[str, str]]]:
    """The ` ([Label](url))` after a highlight's text, or key lines when a link cannot hold them."""
    located = h.location_kind is not LocationKind.NONE
    keys: list[tuple[str, str]] = []
    if h.location and not located:
        keys.append(("Position", _encode(h.location)))
    if not h.url and not located:
        return "", keys
    label = f"{_KIND_LABELS[h.location_kind]}{space}{h.location}" if located else "View Highlight"
    locator = f" ([{label}]({h.url}))"
    if _simple_locator(h, located) or _locator_reads_back(h, locator, located):
        return locator, keys
    if h.url:
        keys.append(("URL", _encode(h.url)))
    if located:
        keys.append((_KIND_LABELS[h.location_kind], _encode(h.location)))
    return "", keys


# A url and a location that certainly read back from a locator as written: what most highlights
# have (`https://read.readwise.io/read/01abc`, `335`, `0:00:02`). Others are checked by reading
# the locator back; a property test (tests/formats/test_readwise_markdown_writer.py) checks that
# the two agree.
_SIMPLE_URL = re.compile(r"[^\s()\[\]]*")
_SIMPLE_LOCATION = re.compile(r"[0-9A-Za-z][0-9A-Za-z:.,/-]*")


def _simple_locator(h: Highlight, located: bool) -> bool:
    return _SIMPLE_URL.fullmatch(h.url) is not None and (
        not located or _SIMPLE_LOCATION.fullmatch(h.location) is not None
    )


def _locator_reads_back(h: Highlight, locator: str, located: bool) -> bool:
    tail = _split_tail(f"x{locator}", ())
    expected = ("x", h.url, h.location_kind, h.location if located else "")
    return re.fullmatch(_URL, h.url) is not None and (tail.text, tail.url, tail.kind, tail.location) == expected


def _text_lines(h: Highlight, space: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The highlight's text lines with its locator on the last, and keys for what it left out.

    A text whose last line would lose something when read (it ends like a locator or a block id)
    gets an empty `([View Highlight]())`, which is what reading takes off instead; so does an
    empty text (a note without a highlight, as Kindle keeps them), so that it reads as one.
    """
    locator, keys = _locator(h, space)
    lines = h.text.split("\n")
    if not locator:
        tail = _split_tail(lines[-1], ())
        if not h.text or tail.text != lines[-1] or tail.block_id:
            locator = " ([View Highlight]())"
    lines[-1] += locator
    return lines, keys


def _key_lines(marker: str, key: str, value: str, indent: str) -> list[str]:
    first, *rest = value.split("\n")
    head = f"{marker}{key}: {first}" if first else f"{marker}{key}:"
    return [head, *(f"{indent}{line}" if line else "" for line in rest)]


def _format_date(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _format_clock(time: dt.time, twelve_hour: bool) -> str:
    hour = (time.hour % 12 or 12) if twelve_hour else time.hour
    text = f"{hour:02d}:{time.minute:02d}"
    if time.second or time.microsecond:
        text += f":{time.second:02d}"
    if time.microsecond:
        text += f".{time.microsecond:06d}"
    if twelve_hour:
        text += " AM" if time.hour < 12 else " PM"
    return text


def _format_datetime(when: dt.datetime) -> str:
    """`_format_date` and the 24-hour `_format_clock` of a datetime (one call for every highlight)."""
    text = f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}"
    if when.second or when.microsecond:
        text += f":{when.second:02d}"
    if when.microsecond:
        text += f".{when.microsecond:06d}"
    return text


def _front_matter_fields(doc: Document) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [("title", doc.title)]
    if doc.url:
        fields.append(("url", doc.url))
    if doc.author:
        fields.append(("author", doc.author))
    if doc.saved_at is not None:
        fields.append(("date", _format_date(doc.saved_at.date())))
        if doc.saved_at.time() != dt.time():
            fields.append(("time", _format_clock(doc.saved_at.time(), True)))
    if doc.origin:
        fields.append(("source", doc.origin))
    extra = dict(doc.extra)
    more_aliases = extra.pop("aliases", None)
    if doc.display_title or more_aliases is not None:
        aliases: list[Any] = [doc.display_title]
        if isinstance(more_aliases, list):
            aliases += more_aliases
        elif more_aliases is not None:
            aliases.append(more_aliases)
        fields.append(("aliases", aliases))
    if doc.authors != split_authors(doc.author):
        fields.append(("authors", list(doc.authors)))
    if doc.category is not Category.NONE:
        fields.append(("category", doc.category.value))
    if doc.tags:
        fields.append(("tags", list(doc.tags)))
    if doc.cover_url:
        fields.append(("cover", doc.cover_url))
    if doc.summary:
        fields.append(("summary", doc.summary))
    if doc.note:
        fields.append(("note", doc.note))
    if doc.external_id:
        fields.append(("id", doc.external_id))
    if doc.published_at is not None:
        fields.append(("published", _format_date(doc.published_at)))
    written = {_FIELDS.get(_norm_key(key)) for key, _value in fields}
    for key, value in extra.items():
        if _FIELDS.get(_norm_key(key)) in written:
            continue  # only an unreadable copy of a field written above; never from `parse`
        fields.append((key, value))
    return fields


def render(doc: Document) -> str:
    """One document in Commonplace's own layout (the seed's), with no trailing newline.

    ```
    ---
    title: "<title>"            always, double-quoted
    url: / author:              when set
    date: YYYY-MM-DD            saved_at; `time: 07:05 PM` too unless it is midnight
    source: "<origin>"          double-quoted
    aliases: [display title]    then, when set: authors (only when they differ from splitting
                                author), category, tags, cover, summary, note, id (external id),
                                published, and every extra key in order
    ---
    ## Highlights
    > text, one `> ` line per line ([View Highlight](url))
    - Note: first line
      further lines indented by two spaces
    - Tags: [[a]] [[b c]]
    - Color: yellow
    - Favorite: yes
    - Highlighted: 2024-03-02 13:19
    - ID: 687119130

    > next highlight
    ```

    The locator is `([View Highlight](url))`, or `([Location 335](url))`, `([Page 12](url))`,
    `([Time 0:00:02](url))`, `([Offset 81](url))`, `([Order 3](url))` when there is a location
    (the url may be empty). A url or location the link cannot hold goes on a `- URL:` or
    `- Location:` (`- Page:`, ...; `- Position:` for a location of no kind) line instead, and a
    text that itself ends like a locator or block id gets an empty `([View Highlight]())` so it
    reads back whole. One-line values that are not plain are written as JSON strings; tags as a
    JSON list when wikilinks cannot hold them.
    """
    out = [
        frontmatter.dump(_front_matter_fields(doc), quoted=("title", "source")),
        "## Highlights",
    ]
    blocks: list[str] = []
    for h in doc.highlights:
        text, keys = _text_lines(h, " ")
        lines = [f"> {line}" if line else ">" for line in text]
        if h.note:
            lines += _key_lines("- ", "Note", h.note, "  ")
        if h.tags:
            lines.append(f"- Tags: {_tags_text(h.tags)}")
        if h.color:
            keys.append(("Color", _encode(h.color)))
        if h.favorite:
            keys.append(("Favorite", "yes"))
        keys += _when_and_id(h)
        lines += [f"- {key}: {value}" for key, value in keys]
        blocks.append("\n".join(lines))
    if blocks:
        out.append("\n\n".join(blocks))
    return "\n".join(out)


def _when_and_id(h: Highlight) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if h.page:
        keys.append(("Printed page", _encode(h.page)))
    if h.highlighted_at is not None:
        keys.append(("Highlighted", _format_datetime(h.highlighted_at)))
    if h.external_id:
        keys.append(("ID", _encode(h.external_id)))
    return keys


def render_readwise(doc: Document) -> str:
    """One document in Readwise's default Obsidian template, as its plugin writes it.

    `# Title`, the cover, `## Metadata` (Author, Full Title, Category, Document Tags, Summary,
    URL, and a Document Note when there is one), then `## Highlights` with one bullet per
    highlight: text lines continued with two spaces, the locator with a no-break space
    (`([Location 335](url))`), `    - Tags: [[a]] ` and `    - Note:` continued with six spaces.
    As Readwise does, the favourite flag is written as the tag `favorite`. What the template has
    no place for (colour, when it was highlighted, its id, a url or location a link cannot hold)
    is written as an extra `    - Color:` / `    - Highlighted:` / `    - ID:` ... sub-bullet,
    which `parse` reads. Metadata values are written as they are: a title or author with a line
    break or `]]` cannot be written in this layout (use `render`).
    """
    lines = [f"# {doc.title}", ""]
    if doc.cover_url:
        lines += [f"![rw-book-cover]({doc.cover_url})", ""]
    lines.append("## Metadata")
    if doc.author:
        lines.append(f"- Author: [[{doc.author}]]")
    lines.append(f"- Full Title: {doc.display_title or doc.title}")
    if doc.category is not Category.NONE:
        lines.append(f"- Category: #{doc.category.value}")
    if doc.tags:
        lines.append(f"- Document Tags: {_tags_text(doc.tags)} ")
    if doc.summary:
        lines += _key_lines("- ", "Summary", doc.summary, "  ")
    if doc.url:
        lines.append(f"- URL: {doc.url}")
    if doc.note:
        lines += _key_lines("- ", "Document Note", doc.note, "  ")
    lines += ["", "## Highlights"]
    for h in doc.highlights:
        text, keys = _text_lines(h, "\u00a0")
        lines.append(f"- {text[0]}")
        lines += [f"  {line}" if line else "" for line in text[1:]]
        tags = [*h.tags, FAVORITE_TAG] if h.favorite else list(h.tags)
        if tags:
            lines.append(f"    - Tags: {_tags_text(tags)} ")
        if h.note:
            lines += _key_lines("    - ", "Note", h.note, "      ")
        if h.color:
            keys.append(("Color", _encode(h.color)))
        keys += _when_and_id(h)
        lines += [f"    - {key}: {value}" for key, value in keys]
    return "\n".join(lines) + "\n"
