"""Which format a file is in, decided from its content, and reading it into Documents."""

from __future__ import annotations

import codecs
import importlib
import re
from types import ModuleType

from archive.formats.document import ParseError, ParseResult

# Most specific first: a JSON backup opens with its own keys, a Kindle or CSV file is never
# mistaken for Markdown, and an Omnivore note (also Markdown) is claimed before the general
# Readwise/Obsidian reader sees it.
PARSER_MODULES = ("commonplace_json", "kindle", "readwise_csv", "omnivore", "readwise_markdown")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class UnknownFormat(ParseError):
    """The file is text but not in any format Commonplace reads."""


def parsers() -> list[ModuleType]:
    return [importlib.import_module(f"archive.formats.{name}") for name in PARSER_MODULES]


def decode(data: bytes) -> tuple[str, list[str]]:
    """Bytes to text, whatever encoding the exporting tool chose.

    UTF-8 with or without a BOM (BOMs inside the text are left for the parsers, as Kindle writes
    them mid-file), UTF-16/32 with a BOM, UTF-16 without one, and Windows-1252. A file that mixes
    UTF-8 and Windows-1252 lines (a clippings file appended to by two devices) is read line by
    line. Returns the text with newlines normalised to \n, and warnings naming the lines that
    were not UTF-8. Binary content raises ParseError.
    """
    warnings: list[str] = []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                raise ParseError(f"the file says it is {encoding.upper()} but byte {error.start} is not") from None
            break
    else:
        encoding = _bomless_utf16(data)
        if encoding:
            text = data.decode(encoding, errors="replace")
        elif b"\x00" in data[:8192]:
            raise ParseError("this is a binary file, not a text export")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text, legacy = _decode_lines(data)
                shown = ", ".join(map(str, legacy[:5])) + (" ..." if len(legacy) > 5 else "")
                warnings.append(f"line{'s' * (len(legacy) > 1)} {shown} not UTF-8, read as Windows-1252")
    sample = text[:8192]
    control = len(_CONTROL.findall(sample))
    if control > max(8, len(sample) // 100):
        raise ParseError("this looks like a binary file, not a text export")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


# Control characters other than tab, line feed, form feed and carriage return: binary files' mark.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f]")


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as a NUL in every other byte of mostly-ASCII text."""
    head = data[:4096]
    if len(head) < 4 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decode_lines(data: bytes) -> tuple[str, list[int]]:
    lines, legacy = [], []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("cp1252", errors="replace"))
            legacy.append(number)
    return "\n".join(lines), legacy


# Every format shows itself in its first lines; sniffing a 50 MB file whole would only be slow.
SNIFF_WINDOW = 256 * 1024


def detect(text: str) -> ModuleType | None:
    head = text[:SNIFF_WINDOW]
    for module in parsers():
        if module.sniff(head):
            return module
    return None


def parse(data: bytes) -> ParseResult:
    """Read one file's bytes. Raises ParseError (or UnknownFormat) with a message for the user."""
    text, warnings = decode(data)
    if not text.strip():
        raise UnknownFormat("the file is empty")
    module = detect(text)
    if module is None:
        raise UnknownFormat(
            "not a format Commonplace reads (Readwise Markdown, CSV or JSON, Kindle My Clippings.txt, "
            "Omnivore Markdown, a Commonplace JSON backup)"
        )
    try:
        result: ParseResult = module.parse(text)
    except RecursionError:
        # Pathological nesting (thousands of brackets, quotes or list levels) in any parser.
        raise ParseError("the file nests brackets, quotes or lists too deeply to be an export") from None
    result.warnings[:0] = warnings
    return result


def parse_or_error(data: bytes) -> ParseResult | ParseError:
    """`parse`, with the ParseError returned rather than raised: what a parsing process sends back
    (archive.importing.parse_ahead). This module imports no Django, so such a process starts quickly."""
    try:
        return parse(data)
    except ParseError as error:
        return ParseError(str(error))
