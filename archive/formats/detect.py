"""Which format a file is in, decided from its content, and reading it into Documents."""

from __future__ import annotations

import codecs
import importlib
from types import ModuleType

from archive.formats.document import ParseError, ParseResult

# Most specific first: a Kindle or CSV file is never mistaken for Markdown, and an Omnivore note
# (also Markdown) is claimed before the general Readwise/Obsidian reader sees it.
PARSER_MODULES = ("kindle", "readwise_csv", "omnivore", "readwise_markdown")

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
    """Bytes to text: UTF-8 (with or without BOM), UTF-16/32 with a BOM, else Windows-1252.

    Returns the text (newlines normalised to \\n, a leading BOM removed) and warnings. Binary
    content raises ParseError.
    """
    warnings: list[str] = []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                raise ParseError(f"the file says it is {encoding} but byte {error.start} is not") from None
            break
    else:
        if b"\x00" in data[:8192]:
            raise ParseError("this is a binary file, not a text export")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise ParseError(f"line {line} is not UTF-8 text; save the file as UTF-8 and upload it again") from None
            warnings.append(f"line {line} is not UTF-8; the file was read as Windows-1252")
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\n\r\x0c")
    if control > 8:
        raise ParseError("this looks like a binary file, not a text export")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def detect(text: str) -> ModuleType | None:
    for module in parsers():
        if module.sniff(text):
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
            "not a format Commonplace reads (Readwise Markdown or CSV, Kindle My Clippings.txt, Omnivore Markdown)"
        )
    result: ParseResult = module.parse(text)
    result.warnings[:0] = warnings
    return result
