"""A user's own Markdown export template: the Django template language, locked down.

The template sees one source, as plain values (see `VARIABLES`): strings, numbers, booleans,
dates, and read-only lists and mappings of them, built from the `Document`. Nothing else is in
reach: the engine has no loaders and no tag libraries, `{% load %}`, `{% include %}`,
`{% extends %}` and the tags that read the request or the URL configuration are refused with a
message naming the line, and an unknown variable (`{{ settings.SECRET_KEY }}`) renders as nothing.
Output is not HTML-escaped: it is Markdown.

A template cannot run away with the server either: loops share a budget of steps and of output,
and no filter may produce a value longer than `MAX_VALUE_CHARS`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    Node,
    NodeList,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import Lexer, Parser, Token, TokenType

from archive.formats.document import Category, Document, Highlight, LocationKind

MAX_TEMPLATE_CHARS = 50_000
MAX_VALUE_CHARS = 2_000_000
MAX_LOOP_STEPS = 200_000
MAX_OUTPUT_CHARS = 20_000_000

# Tags that reach outside the template (other templates, tag libraries, the request, the URL
# configuration, the server's modules) or can recurse; each is refused with this explanation.
FORBIDDEN_TAGS = {
    "load": "tag libraries cannot be loaded",
    "include": "other templates cannot be included",
    "extends": "other templates cannot be extended",
    "block": "there is no base template to fill blocks of",
    "debug": "it would show the server's internals",
    "url": "it reads the server's URL configuration",
    "csrf_token": "there is no request",
    "querystring": "there is no request",
    "csp_nonce_attr": "there is no request",
    "partialdef": "partials are not available",
    "partial": "partials are not available",
    "lorem": "it can write unbounded text",
    "ssi": "it reads files from the server",
}
ALLOWED_TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)
# Django's filters, less those that pad text to any width (`center`, `ljust`, `rjust`,
# `stringformat`, `floatformat`), print Python's view of a value (`pprint`), or only make sense
# in HTML pages (`json_script`, `safe*`, `escape*` stay: they are harmless in Markdown).
ALLOWED_FILTERS = (
    "add",
    "addslashes",
    "capfirst",
    "cut",
    "date",
    "default",
    "default_if_none",
    "dictsort",
    "dictsortreversed",
    "divisibleby",
    "escape",
    "escapejs",
    "escapeseq",
    "filesizeformat",
    "first",
    "force_escape",
    "get_digit",
    "iriencode",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "linenumbers",
    "lower",
    "make_list",
    "phone2numeric",
    "pluralize",
    "random",
    "safe",
    "safeseq",
    "slice",
    "slugify",
    "striptags",
    "time",
    "timesince",
    "timeuntil",
    "title",
    "truncatechars",
    "truncatechars_html",
    "truncatewords",
    "truncatewords_html",
    "unordered_list",
    "upper",
    "urlencode",
    "urlize",
    "urlizetrunc",
    "wordcount",
    "wordwrap",
    "yesno",
)

VARIABLES: tuple[tuple[str, str], ...] = (
    ("title", "the title as exported (may be an id, as in Readwise's front matter)"),
    ("display_title", "the human title, when the exported title is not one (else empty)"),
    ("name", "the title a person reads: display_title, else title"),
    ("author", "the author exactly as exported, e.g. \u201cA & B\u201d"),
    ("authors", "the same, split into people, in order (a list)"),
    ("url", "the source's address"),
    ("category", "books, articles, tweets, podcasts, supplementals, videos, emails, pdfs, or empty"),
    ("origin", "the app it was read in: reader, kindle, instapaper, omnivore, \u2026"),
    ("saved_at", 'when it was saved (a date and time, or empty): {{ saved_at|date:"Y-m-d" }}'),
    ("published_at", "when it was published (a date, or empty)"),
    ("cover_url", "the cover image's address"),
    ("tags", "the source's tags (a list)"),
    ("note", "the document note"),
    ("summary", "the summary"),
    ("external_id", "the reading app's id for it (a Readwise book id, an ASIN, \u2026)"),
    ("extra", "front-matter keys Commonplace has no field for (a mapping: {{ extra.status }})"),
    ("highlight_count", "how many highlights"),
    ("highlights", "the highlights in reading order (a list); each has the fields below"),
    ("highlight.number", "1, 2, 3, \u2026 in reading order"),
    ("highlight.text", "the highlighted text (Markdown)"),
    ("highlight.note", "your note on it"),
    ("highlight.tags", "its tags (a list)"),
    ("highlight.location", "where it is: \u201c335\u201d, \u201c1004-1005\u201d, \u201cxiv\u201d, \u201c0:00:02\u201d"),
    ("highlight.location_kind", "what the location counts: location, page, time, offset, order, or empty"),
    ("highlight.page", "the printed page, where the reading app names one"),
    ("highlight.url", "the highlight's own link (\u201cView Highlight\u201d)"),
    ("highlight.external_id", "the reading app's id for it"),
    ("highlight.color", "its colour"),
    ("highlight.highlighted_at", "when it was highlighted (a date and time, or empty)"),
    ("highlight.favorite", "true for a favourite"),
)
EXTRA_FILTERS: tuple[tuple[str, str], ...] = (
    ("quote", "every line as a Markdown quote: {{ highlight.text|quote }}"),
    ("indent", "lines after the first indented by N spaces (default 2): {{ highlight.note|indent:4 }}"),
    ("wikilinks", "a list as [[a]] [[b]]: {{ tags|wikilinks }}"),
    ("hashtags", "a list as #a #b (spaces become -): {{ highlight.tags|hashtags }}"),
    ("json", "a value as JSON, which is also a safe YAML value: title: {{ name|json }}"),
)

STARTER_TEMPLATE = """\
---
title: {{ name|json }}
{% if author %}author: {{ author|json }}
{% endif %}{% if url %}url: {{ url }}
{% endif %}{% if saved_at %}date: {{ saved_at|date:"Y-m-d" }}
{% endif %}{% if tags %}tags: {{ tags|json }}
{% endif %}---
# {{ name }}
{% if note %}
{{ note }}
{% endif %}
## Highlights
{% for highlight in highlights %}
{{ highlight.text|quote }}{% if highlight.url %} ([View Highlight]({{ highlight.url }})){% endif %}
{% if highlight.note %}- Note: {{ highlight.note|indent }}
{% endif %}{% if highlight.tags %}- Tags: {{ highlight.tags|wikilinks }}
{% endif %}{% endfor %}"""


class ExportTemplateError(ValueError):
    """A template that cannot be used, with the line it goes wrong on (when there is one)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


# --- the budget -------------------------------------------------------------------------------


class _Budget:
    def __init__(self) -> None:
        self.steps = MAX_LOOP_STEPS
        self.output = MAX_OUTPUT_CHARS

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise ExportTemplateError(f"the template's loops take more than {MAX_LOOP_STEPS:,} steps")

    def write(self, size: int) -> None:
        self.output -= size
        if self.output < 0:
            raise ExportTemplateError(f"the template writes more than {MAX_OUTPUT_CHARS:,} characters")


_BUDGET_ATTRIBUTE = "_commonplace_budget"


def _budget(context: Context) -> _Budget:
    budget = getattr(context, _BUDGET_ATTRIBUTE, None)
    if budget is None:  # a context made elsewhere: give it its own budget
        budget = _Budget()
        setattr(context, _BUDGET_ATTRIBUTE, budget)
    return budget


class _Metered(Sequence[Any]):
    """A loop's values, spending one step of the budget per item taken."""

    def __init__(self, values: Any, budget: _Budget) -> None:
        self.values = values if hasattr(values, "__len__") and hasattr(values, "__getitem__") else list(values)
        self.budget = budget

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: Any) -> Any:
        return self.values[index]

    def __iter__(self) -> Iterator[Any]:
        for value in self.values:
            self.budget.step()
            yield value

    def __reversed__(self) -> Iterator[Any]:
        for value in reversed(self.values):
            self.budget.step()
            yield value


class _MeteredSequence:
    """Stands in for a `{% for %}` tag's sequence expression."""

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def __str__(self) -> str:
        return str(self.expression)

    def resolve(self, context: Context, ignore_failures: bool = False) -> Any:
        values = self.expression.resolve(context, ignore_failures=ignore_failures)
        if values is None:
            return None
        try:
            return _Metered(values, _budget(context))
        except TypeError:
            return None  # not something to loop over: the loop renders its {% empty %} part


class _MeteredBody(Node):
    """A loop's body, counting what each pass writes against the budget."""

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: Context) -> str:
        output: str = self.nodelist.render(context)
        _budget(context).write(len(output))
        return output


def _metered_for(parser: Parser, token: Token) -> Node:
    node = defaulttags.do_for(parser, token)
    node.sequence = _MeteredSequence(node.sequence)  # type: ignore[attr-defined]
    node.nodelist_loop = NodeList([_MeteredBody(node.nodelist_loop)])  # type: ignore[attr-defined]
    return node


def _guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, str | list | tuple) and len(result) > MAX_VALUE_CHARS:
            raise ExportTemplateError(f"|{name} made a value longer than {MAX_VALUE_CHARS:,} characters")
        return result

    return guarded


def _join(value: Any, arg: Any, autoescape: bool = True) -> Any:
    """Django's `join`, refusing before it starts when the result would be too long."""
    if isinstance(value, str | list | tuple | _Metered):
        size = len(str(arg)) * max(len(value) - 1, 0) + sum(len(str(item)) for item in value)
        if size > MAX_VALUE_CHARS:
            raise ExportTemplateError(f"|join would make a value longer than {MAX_VALUE_CHARS:,} characters")
    return defaultfilters.join(value, arg, autoescape=autoescape)


# --- Commonplace's own filters ----------------------------------------------------------------


def _lines(value: Any) -> list[str]:
    return str(value if value is not None else "").split("\n")


def quote(value: Any) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in _lines(value))


def indent(value: Any, width: Any = 2) -> str:
    try:
        pad = " " * max(0, min(int(width), 64))
    except (TypeError, ValueError):
        pad = "  "
    first, *rest = _lines(value)
    return "\n".join([first, *(f"{pad}{line}" if line else "" for line in rest)])


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    try:
        return [str(item) for item in value if str(item)]
    except TypeError:
        return []


def wikilinks(value: Any) -> str:
    return " ".join(f"[[{name}]]" for name in _names(value))


def hashtags(value: Any) -> str:
    return " ".join("#" + "-".join(name.split()) for name in _names(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | _Metered):
        return [_plain(v) for v in value]
    return value


def as_json(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, default=str)


LIBRARY = Library()
for _name in ALLOWED_TAGS:
    LIBRARY.tags[_name] = defaulttags.register.tags[_name]
LIBRARY.tags["for"] = _metered_for
for _name in ALLOWED_FILTERS:
    LIBRARY.filters[_name] = _guarded(_name, defaultfilters.register.filters[_name])
LIBRARY.filter("join", _guarded("join", _join), is_safe=True, needs_autoescape=True)
for _name, _function in (
    ("quote", quote),
    ("indent", indent),
    ("wikilinks", wikilinks),
    ("hashtags", hashtags),
    ("json", as_json),
):
    LIBRARY.filter(_name, _guarded(_name, _function))


class _SandboxEngine(Engine):
    default_builtins: list[str] = []  # not Django's tags and filters: only `LIBRARY`


ENGINE = _SandboxEngine(loaders=[], libraries={}, autoescape=False, debug=True, string_if_invalid="")
ENGINE.template_builtins = [LIBRARY]


# --- compiling and rendering ------------------------------------------------------------------


def _line_of(error: BaseException) -> int | None:
    info = getattr(error, "template_debug", None)
    return int(info["line"]) if info else None


def compile_template(source: str) -> Template:
    """The template, or ExportTemplateError saying what is wrong and on which line."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ExportTemplateError(f"the template is longer than {MAX_TEMPLATE_CHARS:,} characters")
    for token in Lexer(source).tokenize():
        if token.token_type is TokenType.BLOCK and token.contents.strip():
            name = token.split_contents()[0]
            if name in FORBIDDEN_TAGS:
                raise ExportTemplateError(
                    f"{{% {name} %}} is not allowed in an export template: {FORBIDDEN_TAGS[name]}", token.lineno
                )
    try:
        return ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        raise ExportTemplateError(_plainer(str(error)), _line_of(error)) from None


def _plainer(message: str) -> str:
    """Django's message, without the line (we say it first) or advice to load a library (we can't)."""
    message = re.sub(r" on line \d+", "", message)
    return message.replace(" Did you forget to register or load this tag?", "")


def _frozen(value: Any) -> Any:
    """Plain, read-only values: mappings behind a proxy, lists as tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if value is None or isinstance(value, str | int | float | bool | dt.date):
        return value
    return str(value)


def context_for(doc: Document) -> dict[str, Any]:
    """What a template sees of one document: only the values in `VARIABLES`."""
    highlights = tuple(
        MappingProxyType(
            {
                "number": number,
                "text": h.text,
                "note": h.note,
                "tags": tuple(h.tags),
                "location": h.location,
                "location_kind": h.location_kind.value,
                "page": h.page,
                "url": h.url,
                "external_id": h.external_id,
                "color": h.color,
                "highlighted_at": h.highlighted_at,
                "favorite": h.favorite,
            }
        )
        for number, h in enumerate(doc.highlights, start=1)
    )
    return {
        "title": doc.title,
        "display_title": doc.display_title,
        "name": doc.name,
        "author": doc.author,
        "authors": tuple(doc.authors),
        "url": doc.url,
        "category": doc.category.value,
        "origin": doc.origin,
        "saved_at": doc.saved_at,
        "published_at": doc.published_at,
        "cover_url": doc.cover_url,
        "tags": tuple(doc.tags),
        "note": doc.note,
        "summary": doc.summary,
        "external_id": doc.external_id,
        "extra": _frozen(doc.extra),
        "highlight_count": len(doc.highlights),
        "highlights": highlights,
    }


def render(template: Template, doc: Document) -> str:
    """One document through a compiled template; ExportTemplateError (with its line) when it fails."""
    context = Context(context_for(doc), autoescape=False)
    setattr(context, _BUDGET_ATTRIBUTE, _Budget())
    try:
        output = template.render(context)
    except ExportTemplateError as error:
        raise ExportTemplateError(error.message, error.line or _line_of(error)) from None
    except Exception as error:  # a filter that fails on a value (|divisibleby:0), an unpacking loop
        message = str(error) or type(error).__name__
        raise ExportTemplateError(message, _line_of(error)) from None
    if len(output) > MAX_OUTPUT_CHARS:
        raise ExportTemplateError(f"the template writes more than {MAX_OUTPUT_CHARS:,} characters")
    return str(output)


@dataclass(frozen=True)
class Checked:
    """A template's source with its compiled form, or what is wrong with it."""

    source: str
    template: Template | None
    error: ExportTemplateError | None


def check(source: str, sample: Document | None = None) -> Checked:
    """Compile a template and try it on a sample document, catching errors both can raise."""
    try:
        template = compile_template(source)
        render(template, sample or SAMPLE_DOCUMENT)
    except ExportTemplateError as error:
        return Checked(source, None, error)
    return Checked(source, template, None)


def _sample() -> Document:
    return Document(
        title="On Keeping Notes",
        author="Marginalia Smith & A. N. Other",
        authors=["Marginalia Smith", "A. N. Other"],
        url="https://example.org/essays/on-keeping-notes",
        category=Category.ARTICLES,
        origin="reader",
        saved_at=dt.datetime(2024, 3, 2, 13, 19),
        published_at=dt.date(2024, 1, 15),
        tags=["notes", "reading"],
        note="Why a commonplace book works.",
        summary="An essay on keeping notes.",
        extra={"status": "read", "rating": 5},
        highlights=[
            Highlight(
                text="A commonplace book is a conversation with yourself.\nIt grows.",
                note="Yes.\nAnd it answers back.",
                tags=["favourite idea"],
                location="12",
                location_kind=LocationKind.PAGE,
                url="https://read.readwise.io/read/01sample",
                highlighted_at=dt.datetime(2024, 3, 2, 13, 19),
                favorite=True,
            ),
            Highlight(text="Keep what strikes you."),
        ],
    )


SAMPLE_DOCUMENT = _sample()
