"""`{{ text|markdown }}`: the Markdown subset we render, through a sanitiser, never raw HTML."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

ALLOWED_TAGS = {
    "p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "hr", "del", "sup", "sub", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}


_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # html=False: raw HTML in an import is shown as text, not interpreted.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("strikethrough")


# Most highlights are one line of plain prose. Those skip the Markdown parser and the sanitiser
# (which cost about a millisecond each, too much for a page of a hundred highlights) when nothing
# in them could mean Markdown or HTML; the result is the same string the full path makes, which
# tests/highlights/test_markdown.py checks against generated text.
_MARKUP = re.compile(r"[\x00-\x1f\x7f\ufeff*_\[\]<`\\!~#|]")
_ENTITY = re.compile(r"&(?:#|[A-Za-z][A-Za-z0-9]*;)")  # apart: an alternation would slow the scan threefold
_BLOCK_START = re.compile(r"(?:[-+>=]|\d{1,9}[.)](?:\s|$))")


def _plain_paragraph(text: str) -> str | None:
    """The rendered HTML of a one-line, markup-free text, or None when the parser is needed."""
    stripped = text.strip(" ")
    if (
        not stripped
        or stripped != stripped.strip()  # other whitespace at either end, which the parser trims
        or _MARKUP.search(text)
        or ("&" in text and _ENTITY.search(text))
        or _BLOCK_START.match(stripped)
        or len(text) - len(text.lstrip(" ")) > 3  # indented code
    ):
        return None
    return "<p>" + stripped.replace("&", "&amp;").replace(">", "&gt;").replace("\xa0", "&nbsp;") + "</p>\n"


def render_markdown(text: str) -> str:
    if (plain := _plain_paragraph(text or "")) is not None:
        return plain
    return _render_markdown(text or "")


@lru_cache(maxsize=2048)
def _render_markdown(text: str) -> str:
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 just above


@register.filter(name="markdown_text")
def markdown_text_filter(text: str, limit: int | None = None) -> str:
    """The words of the Markdown without its markup, as plain text (escaped again on output),
    cut to `limit` characters, an ellipsis included (`truncatechars`, at a tenth of its cost).

    Plain prose (see `_plain_paragraph`) is its own words: only its spacing changes.
    """
    text = text or ""
    words = " ".join(text.split()) if _plain_paragraph(text) is not None else _markdown_words(text)
    if limit is None or len(words) <= limit:
        return words
    return words[: max(limit - 1, 0)].rstrip() + "…"


@lru_cache(maxsize=2048)
def _markdown_words(text: str) -> str:
    rendered = _BLOCK_END.sub(" ", _parser().render(text))
    return " ".join(html.unescape(nh3.clean(rendered, tags=set())).split())
