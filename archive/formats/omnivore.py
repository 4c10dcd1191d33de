"""Omnivore's Markdown, as its Obsidian and Logseq plugins write it.

Obsidian (one article per file, or several in "single file" mode)::

    ---
    id: 1445f443-eb7c-43f5-9fa0-ddb7dc10c487       # a YAML list of these in single-file mode
    ---
    # Title
    #Omnivore
    [Read on Omnivore](https://omnivore.app/me/<slug>)
    [Read Original](https://example.com/original)
    ## Highlights
    > quote line
    > more quote [⤴️](https://omnivore.app/me/<slug>#<uuid>)  #label_one  ^1a2b3c4d

    the note, as plain paragraphs after the quote

In single-file mode each article's body sits between ``%%<id>_start%%`` and ``%%<id>_end%%``.

Logseq (every article a bullet on one page, highlights nested under it)::

    - [Title](https://omnivore.app/me/<slug>)
      site:: [Site](https://example.com/original)
      author:: Someone
      labels:: [[one]][[two]]
      date-saved:: [[Jan 25th, 2025]]
        - ### Highlights
            - > quote [⤴️](https://omnivore.app/me/<slug>#<uuid>) #[[label]]
              note:: the note

Decisions:

* origin is ``omnivore``; the document url is the original; the highlight url is the ⤴️ anchor and
  its external id the uuid after ``#``; the document external id is the front matter ``id`` (the
  Logseq page has none). The "Read on Omnivore" link is kept in ``extra["omnivore_url"]``.
* Category comes from front matter ``type`` when present, else articles.
* Labels become tags (document labels from ``tags``/``labels``, highlight labels from ``#name`` or
  ``#[[name]]`` after the anchor). The template's constant ``#Omnivore`` line is not a label.
* Highlights with an empty quote and no note are skipped and counted; so are highlights repeating
  an earlier one of the same document (same text, note and labels: Omnivore re-creates them under
  new ids when an article is saved again), and Logseq articles without any highlight.
* Logseq: blank lines the plugin turned into ``>`` lines become blank lines again, each line of a
  quote is trimmed (the page's indentation is not content), and runs of blank lines collapse to
  one. Bullets a user wrote under or beside a highlight are appended to its note unless they
  repeat it; user bullets directly under an article go to the document note. ``collapsed::`` and
  ``id::`` (Logseq's own block properties) are dropped; other unknown properties go to
  ``extra``. Titles and property values spread over several lines are joined with single spaces.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from archive.formats.document import (
    Category,
    Document,
    Highlight,
    ParseError,
    ParseResult,
)
from archive.formats.frontmatter import NoAliases
from archive.formats.readwise_csv import split_authors

FORMAT = "omnivore"
ORIGIN = "omnivore"

_ANCHOR = re.compile(r"\[\u2934\ufe0f?\]\((?P<url>https?://omnivore\.app/[^)\s]*)\)")
_LOGSEQ_DOC_LINE = re.compile(r"^\t*- \[.*\]\(https?://omnivore\.app/me/[^)\s]+\)[ \t]*$", re.M)
_LOGSEQ_DOC = re.compile(r"^\[(?P<title>.*)\]\((?P<url>https?://omnivore\.app/me/[^)\s]+)\)\s*$", re.S)
_OBSIDIAN_MARKERS = re.compile(
    r"^\[Read on Omnivore\]\(https?://omnivore\.app/|^>.*\[\u2934\ufe0f?\]\(https?://omnivore\.app/me/",
    re.M,
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PROPERTY = re.compile(r"^(?P<key>[A-Za-z][\w-]*)::(?:\s(?P<value>.*)|)$")
_BULLET = re.compile(r"^(?P<tabs>\t*)-(?:[ \t](?P<rest>.*))?$")
_WIKI_LINK = re.compile(r"\[\[(.*?)\]\]")
_LABEL_WIKI = re.compile(r"#\[\[(.*?)\]\]")
_LABEL_WORD = re.compile(r"#([^\s#\[\]]+)")
_BLOCK_ID = re.compile(r"\s*\^[0-9A-Za-z-]+\s*$")
_ORDINAL_DATE = re.compile(r"^(?P<month>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2})(?:st|nd|rd|th)?, (?P<year>\d{4})$")
_SECTION = re.compile(r"^%%(?P<id>.+?)_(?P<edge>start|end)%%\s*$")
_CATEGORIES = {
    "ARTICLE": Category.ARTICLES,
    "WEBSITE": Category.ARTICLES,
    "BOOK": Category.BOOKS,
    "FILE": Category.PDFS,
    "TWEET": Category.TWEETS,
    "VIDEO": Category.VIDEOS,
}
_DROPPED_PROPERTIES = {"collapsed", "id"}
_TEMPLATE_TAG = "Omnivore"
_MONTHS = dict(
    zip(
        [
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ],
        range(1, 13),
        strict=True,
    )
)


def sniff(text: str) -> bool:
    """True for an Omnivore Obsidian note or an Omnivore Logseq page."""
    # Both need Omnivore's address; looking for it first spares two scans of every other note.
    return "omnivore.app/" in text and bool(_LOGSEQ_DOC_LINE.search(text) or _OBSIDIAN_MARKERS.search(text))


def parse(text: str) -> ParseResult:
    """Read an Omnivore Obsidian note or Logseq page into documents."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    result = ParseResult(format=FORMAT)
    if _LOGSEQ_DOC_LINE.search(text):
        _parse_logseq(text, result)
    else:
        _parse_obsidian(text, result)
    return result


# --- shared -----------------------------------------------------------------------------------


def _new_document(title: str) -> Document:
    return Document(title=title, origin=ORIGIN, category=Category.ARTICLES)


def _add_highlight(document: Document, highlight: Highlight, line: int, result: ParseResult) -> Highlight | None:
    """Keep a highlight unless it is empty or repeats one; return the one the document holds."""
    if not highlight.text and not highlight.note:
        result.skipped += 1
        return None
    for earlier in document.highlights:
        if (earlier.text, earlier.note, earlier.tags) == (
            highlight.text,
            highlight.note,
            highlight.tags,
        ):
            result.skipped += 1
            result.warnings.append(
                f"Line {line}: a highlight repeats an earlier one of {document.title!r} "
                "(same text, note and labels); skipped."
            )
            return earlier
    document.highlights.append(highlight)
    return highlight


def _anchor_parts(url: str) -> tuple[str, str]:
    """The highlight url and the id after its ``#`` (Omnivore's highlight uuid)."""
    return url, url.partition("#")[2]


def _labels(tail: str) -> list[str]:
    """Labels written after the ⤴️ anchor: ``#[[two words]]`` or ``#word``."""
    labels = [name.strip() for name in _LABEL_WIKI.findall(tail)]
    labels += _LABEL_WORD.findall(_LABEL_WIKI.sub(" ", tail))
    return _unique([label for label in labels if label])


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for value in values:
        if value.lower() not in seen:
            seen.add(value.lower())
            unique.append(value)
    return unique


def _collapse_blank_lines(lines: list[str]) -> str:
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _parse_date(value: Any) -> dt.datetime | None:
    """Dates as the plugins write them: ``[[Jan 25th, 2025]]``, ISO, ``2023-01-05 10:20:30``."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    value = value.strip().strip("[]").strip()
    match = _ORDINAL_DATE.match(value)
    if match and match["month"].lower() in _MONTHS:
        try:
            return dt.datetime(int(match["year"]), _MONTHS[match["month"].lower()], int(match["day"]))
        except ValueError:
            return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _parse_date(parsed)


# --- Obsidian ---------------------------------------------------------------------------------


def _parse_obsidian(text: str, result: ParseResult) -> None:
    lines = text.split("\n")
    front: list[dict[str, Any]] = []
    body_start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ParseError("Line 1 opens front matter (---) that is never closed.")
        try:
            loaded = yaml.load("\n".join(lines[1:end]), Loader=NoAliases)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 2}" if mark is not None else "lines 2-" + str(end)
            problem = getattr(error, "problem", None) or str(error).split("\n")[0]
            raise ParseError(f"The front matter is not valid YAML ({where}): {problem}.") from None
        if isinstance(loaded, dict):
            front = [loaded]
        elif isinstance(loaded, list):
            front = [item for item in loaded if isinstance(item, dict)]
        elif loaded is not None:
            raise ParseError("The front matter is neither a mapping nor a list of mappings.")
        body_start = end + 1

    sections = _single_file_sections(lines, body_start)
    if sections:
        by_id = {str(item.get("id", "")): item for item in front}
        for article_id, start, stop in sections:
            matter = by_id.get(article_id, {"id": article_id})
            _obsidian_document(lines, start, stop, matter, result)
    else:
        _obsidian_document(lines, body_start, len(lines), front[0] if front else {}, result)


def _single_file_sections(lines: list[str], start: int) -> list[tuple[str, int, int]]:
    sections = []
    open_id, open_at = None, 0
    for index in range(start, len(lines)):
        match = _SECTION.match(lines[index])
        if not match:
            continue
        if match["edge"] == "start":
            open_id, open_at = match["id"], index + 1
        elif open_id == match["id"]:
            sections.append((open_id, open_at, index))
            open_id = None
    return sections


def _obsidian_document(lines: list[str], start: int, stop: int, matter: dict[str, Any], result: ParseResult) -> None:
    document = _new_document("")
    _apply_front_matter(document, matter, result)
    note_lines: list[str] = []
    in_highlights = False
    in_notes = False
    heading_seen = False
    highlight: Highlight | None = None
    highlight_line = 0
    quote: list[str] = []
    after_quote: list[str] = []

    def finish() -> None:
        nonlocal highlight, quote, after_quote
        if quote:
            highlight = _obsidian_highlight(quote)
        if highlight is not None:
            highlight.note = _collapse_blank_lines(after_quote)
            _add_highlight(document, highlight, highlight_line, result)
        highlight, quote, after_quote = None, [], []

    index = start
    while index < stop:
        line = lines[index]
        number = index + 1
        index += 1
        stripped = line.strip()
        if stripped.startswith("## "):
            finish()
            heading = stripped[3:].strip().lower()
            in_highlights = heading == "highlights"
            in_notes = heading in {"notes", "note"}
            if not in_highlights and not in_notes:
                note_lines.append(line)
            continue
        if in_highlights:
            if line.startswith(">"):
                if highlight is not None or after_quote:
                    finish()
                if not quote:
                    highlight_line = number
                quote.append(line)
                if _ANCHOR.search(line):
                    highlight = _obsidian_highlight(quote)
                    quote = []
                continue
            if quote:  # a quote written without an anchor ends at the first other line
                highlight = _obsidian_highlight(quote)
                quote = []
            if highlight is not None:
                after_quote.append(line)
            elif stripped:
                note_lines.append(line)
            continue
        if in_notes:
            note_lines.append(line)
            continue
        if not heading_seen and stripped.startswith("# "):
            heading_seen = True
            heading = stripped[2:].strip()
            if document.title and document.title != heading:
                document.extra["title"] = document.title
            document.title = heading
            continue
        link = re.fullmatch(r"\[(Read on Omnivore|Read Original)\]\((?P<url>[^)\s]*)\)", stripped)
        if link:
            if link[1] == "Read Original":
                document.url = link["url"]
            else:
                document.extra["omnivore_url"] = link["url"]
            continue
        if stripped and all(word.startswith("#") and len(word) > 1 for word in stripped.split()):
            tags = [word[1:] for word in stripped.split() if word[1:] != _TEMPLATE_TAG]
            document.tags = _unique(document.tags + tags)
            continue
        if stripped or note_lines:
            note_lines.append(line)
    finish()

    extra_note = _collapse_blank_lines(note_lines)
    if extra_note:
        document.note = f"{document.note}\n\n{extra_note}" if document.note else extra_note
    if not document.highlights:
        result.skipped += 1
        return
    if not document.title:
        result.warnings.append("The note has no title (no '# Title' line and no front matter title).")
    result.documents.append(document)


def _obsidian_highlight(quote: list[str]) -> Highlight:
    lines = [re.sub(r"^> ?", "", line) for line in quote]
    highlight = Highlight(text="")
    last = lines[-1]
    anchors = list(_ANCHOR.finditer(last))
    if anchors:
        anchor = anchors[-1]
        highlight.url, highlight.external_id = _anchor_parts(anchor["url"])
        tail = _BLOCK_ID.sub("", last[anchor.end() :])
        highlight.tags = _labels(tail)
        lines[-1] = last[: anchor.start()]
    highlight.text = "\n".join(line.rstrip() for line in lines).strip()
    return highlight


def _apply_front_matter(document: Document, matter: dict[str, Any], result: ParseResult) -> None:
    for key, value in matter.items():
        name = str(key)
        if value is None or value == "":
            continue
        if name == "id":
            document.external_id = str(value)
        elif name == "title":
            document.title = str(value).strip()
        elif name == "author":
            document.author = str(value).strip()
            document.authors = split_authors(document.author)
        elif name in {"tags", "labels"}:
            values = value if isinstance(value, list) else str(value).split(",")
            document.tags = _unique(document.tags + [str(v).strip() for v in values if str(v).strip()])
        elif name in {"date_saved", "dateSaved", "saved_at"}:
            document.saved_at = _parse_date(value)
            if document.saved_at is None:
                result.warnings.append(f"Front matter {name}: unreadable date {value!r}; kept in extra.")
                document.extra[name] = str(value)
        elif name in {"date_published", "datePublished", "published_at"}:
            published = _parse_date(value)
            if published is None:
                result.warnings.append(f"Front matter {name}: unreadable date {value!r}; kept in extra.")
                document.extra[name] = str(value)
            else:
                document.published_at = published.date()
        elif name in {"url", "original_url", "originalUrl"}:
            document.url = str(value)
        elif name == "omnivore_url":
            document.extra["omnivore_url"] = str(value)
        elif name == "image":
            document.cover_url = str(value)
        elif name == "description":
            document.summary = str(value).strip()
        elif name == "note":
            document.note = str(value).strip()
        elif name == "type":
            document.category = _CATEGORIES.get(str(value).upper(), Category.ARTICLES)
            document.extra[name] = str(value)
        else:
            document.extra[name] = _plain(value)


def _plain(value: Any) -> Any:
    """YAML values as JSON-friendly ones: dates become ISO strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# --- Logseq -----------------------------------------------------------------------------------


@dataclass
class _Block:
    depth: int
    line: int
    lines: list[str]
    children: list[_Block] = field(default_factory=list)


def _blocks(text: str) -> list[_Block]:
    """The page as a tree of bullets; a line without a bullet continues the block above it."""
    roots: list[_Block] = []
    stack: list[_Block] = []
    for number, raw in enumerate(text.split("\n"), 1):
        bullet = _BULLET.match(raw)
        if bullet is None and stack and (raw[:1] in {"\t", " "} or raw == ""):
            block = stack[-1]
            content = raw[block.depth :] if raw.startswith("\t" * block.depth) else raw.lstrip("\t")
            block.lines.append(content[2:] if content.startswith("  ") else content.lstrip(" "))
            continue
        if bullet is None and not raw.strip():
            continue
        depth = len(bullet["tabs"]) if bullet else 0
        block = _Block(depth, number, [(bullet["rest"] or "") if bullet else raw])
        while stack and stack[-1].depth >= depth:
            stack.pop()
        (stack[-1].children if stack else roots).append(block)
        stack.append(block)
    return roots


def _parse_logseq(text: str, result: ParseResult) -> None:
    by_url: dict[str, Document] = {}
    without_highlights = 0

    def visit(blocks: list[_Block]) -> None:
        nonlocal without_highlights
        for block in blocks:
            document = _logseq_document(block, result)
            if document is None:
                if block.children:
                    visit(block.children)
                elif _block_text(block) and not block.lines[0].startswith("#"):
                    result.warnings.append(f"Line {block.line}: not an Omnivore article; ignored.")
                continue
            key = document.extra["omnivore_url"]
            existing = by_url.get(key)
            if existing is not None:
                result.warnings.append(
                    f"Line {block.line}: {document.title!r} appears again; its highlights are merged into the first."
                )
                for highlight in document.highlights:
                    _add_highlight(existing, highlight, block.line, result)
                continue
            by_url[key] = document
            if document.highlights:
                result.documents.append(document)
            else:
                without_highlights += 1

    visit(_blocks(text))
    # An article seen again later may have brought the highlights the first lacked.
    for document in by_url.values():
        if document.highlights and document not in result.documents:
            result.documents.append(document)
            without_highlights -= 1
    if without_highlights:
        result.skipped += without_highlights
        result.warnings.append(f"{without_highlights} saved article(s) have no highlights and were left out.")


def _logseq_document(block: _Block, result: ParseResult) -> Document | None:
    title_lines: list[str] = []
    properties: list[tuple[str, list[str], int]] = []
    for offset, line in enumerate(block.lines):
        prop = _PROPERTY.match(line.strip())
        if prop:
            properties.append((prop["key"], [prop["value"] or ""], block.line + offset))
        elif properties:
            properties[-1][1].append(line)
        else:
            title_lines.append(line)
    match = _LOGSEQ_DOC.match("\n".join(title_lines).strip())
    if match is None:
        return None
    document = _new_document(_one_line(match["title"]))
    document.extra["omnivore_url"] = match["url"]
    for key, values, line in properties:
        _apply_property(document, key, _one_line(" ".join(values)), line, result)

    note_parts: list[str] = []
    _logseq_children(document, block.children, note_parts, result, in_heading=False)
    if note_parts:
        document.note = "\n\n".join(note_parts)
    return document


def _logseq_children(
    document: Document,
    blocks: list[_Block],
    note_parts: list[str],
    result: ParseResult,
    *,
    in_heading: bool,
) -> None:
    """An article's children: the Highlights heading, highlights, and bullets a user wrote.

    A user's bullet under the Highlights heading annotates the highlight before it; one directly
    under the article (or before any highlight) is a note on the document.
    """
    last: Highlight | None = None
    for block in blocks:
        first = block.lines[0].strip() if block.lines else ""
        if first.startswith("#") and first.lstrip("#").strip().lower() == "highlights":
            _logseq_children(document, block.children, note_parts, result, in_heading=True)
            continue
        highlight = _logseq_highlight(block, result)
        if highlight is not None:
            for child in block.children:
                _append_note(highlight, _block_text(child))
            last = _add_highlight(document, highlight, block.line, result)
            continue
        text = _block_text(block)
        if not text:
            continue
        if in_heading and last is not None:
            _append_note(last, text)
        elif text not in note_parts:
            note_parts.append(text)


def _logseq_highlight(block: _Block, result: ParseResult) -> Highlight | None:
    lines = block.lines
    index = 0
    properties: dict[str, str] = {}
    while index < len(lines) and not lines[index].lstrip().startswith(">"):
        prop = _PROPERTY.match(lines[index].strip())
        if not prop:
            return None
        properties[prop["key"]] = prop["value"] or ""
        index += 1
    if index == len(lines):
        return None
    highlight = Highlight(text="")
    quote: list[str] = []
    rest: list[str] = []
    for position in range(index, len(lines)):
        line = lines[position]
        anchors = list(_ANCHOR.finditer(line))
        if anchors:
            anchor = anchors[-1]
            quote.append(line[: anchor.start()])
            highlight.url, highlight.external_id = _anchor_parts(anchor["url"])
            highlight.tags = _labels(line[anchor.end() :])
            rest = lines[position + 1 :]
            break
        if quote and _PROPERTY.match(line.strip()):
            rest = lines[position:]
            break
        quote.append(line)

    text_lines: list[str] = []
    for number, line in enumerate(quote):
        stripped = line.strip()
        if number == 0:
            text_lines.append(re.sub(r"^>\s?", "", stripped).strip())
        elif stripped.startswith(">"):
            # The plugin writes a blank line of the quote as "> ", sometimes glued to the next.
            text_lines.append("")
            if stripped[1:].strip():
                text_lines.append(stripped[1:].strip())
        else:
            text_lines.append(stripped)
    highlight.text = _collapse_blank_lines(text_lines)

    note: list[str] = []
    current: str | None = None
    for line in rest:
        prop = _PROPERTY.match(line.strip())
        if prop:
            current = prop["key"]
            properties[current] = prop["value"] or ""
        elif current is not None:
            properties[current] += "\n" + line.strip()
        elif line.strip():
            note.append(line.strip())
    if not highlight.external_id and _UUID.fullmatch(properties.get("id", "").strip()):
        highlight.external_id = properties["id"].strip()
    note_value = properties.get("note", "").strip()
    highlight.note = _collapse_blank_lines([note_value, "", *note] if note else [note_value])
    for key in properties.keys() - {"note", "id", "collapsed"}:
        result.warnings.append(f"Line {block.line}: highlight property {key}:: is not understood; ignored.")
    return highlight


def _block_text(block: _Block) -> str:
    """A user's bullet and everything under it, as plain text."""
    parts = [_collapse_blank_lines([line.strip() for line in block.lines])]
    parts += [_block_text(child) for child in block.children]
    return "\n".join(part for part in parts if part)


def _append_note(highlight: Highlight, text: str) -> None:
    if not text or text in highlight.note.split("\n\n"):
        return
    highlight.note = f"{highlight.note}\n\n{text}" if highlight.note else text


def _apply_property(document: Document, key: str, value: str, line: int, result: ParseResult) -> None:
    name = key.lower().replace("_", "-")
    if name in _DROPPED_PROPERTIES:
        return
    if name == "site":
        site = re.fullmatch(r"(?:\[(?P<name>.*)\])?\((?P<url>[^\s)]*(?:\([^\s)]*\)[^\s)]*)*)\)", value)
        if site:
            document.url = site["url"]
            if site["name"]:
                document.extra["site"] = site["name"]
        else:
            document.extra["site"] = value
    elif name == "author":
        document.author = value
        document.authors = split_authors(value)
    elif name == "labels":
        labels = _WIKI_LINK.findall(value) or value.split(",")
        document.tags = _unique(document.tags + [label.strip() for label in labels if label.strip()])
    elif name in {"date-saved", "date-published"}:
        parsed = _parse_date(value)
        if parsed is None:
            result.warnings.append(f"Line {line}: unreadable date {value!r}; kept in extra.")
            document.extra[key] = value
        elif name == "date-saved":
            document.saved_at = parsed
        else:
            document.published_at = parsed.date()
    elif value:
        document.extra[key] = value


def _one_line(value: str) -> str:
    return " ".join(value.split())
