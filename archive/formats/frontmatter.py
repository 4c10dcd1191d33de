"""YAML front matter: find it, read it without surprises, write it so it reads back the same.

Reading uses the YAML 1.2 core schema (what Obsidian's js-yaml uses), not PyYAML's YAML 1.1
defaults: only null, booleans (`true`/`false`), integers and floats are typed. Dates, times,
`yes`/`no` and `11:22` stay strings, so values are always JSON-compatible and `time: 11:22` is not
read as the base-60 number 682. A repeated key is an error (Obsidian refuses such front matter too).

One Obsidian habit is tolerated: a top-level value that starts with `#` and a non-space
(`category: #articles`) is read as the string `#articles`, not as an empty value and a comment.

Writing (`dump`) puts each top-level key on its own line, plain where a plain scalar reads back
as the same string, else double-quoted (or a `|-` block for multi-line text), and lists as
`  - item` lines. Every choice is checked by reading it back, so any string survives.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from archive.formats.document import ParseError

_FENCE = "---"
_WIDTH = 2**30


class NoAliases(yaml.SafeLoader):
    """Refuses YAML aliases (`*name`): front matter never needs them, and nested aliases expand
    exponentially when the values are copied out (the "billion laughs" attack)."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            message = f"YAML aliases (*{event.anchor}) are not allowed in front matter"
            raise ComposerError(None, None, message, event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


class Loader(NoAliases):
    """SafeLoader with YAML 1.2 core-schema scalars, no aliases, and an error on repeated keys."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                except TypeError:
                    raise ConstructorError(
                        None,
                        None,
                        "a key cannot be a list or mapping",
                        key_node.start_mark,
                    ) from None
                if repeated:
                    raise ConstructorError(
                        None,
                        None,
                        f"the key {key!r} appears twice",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class Dumper(yaml.SafeDumper):
    """SafeDumper with the same scalar rules as `Loader`, and `  - item` list indentation."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _core_schema(cls: type[yaml.SafeLoader] | type[yaml.SafeDumper]) -> None:
    cls.yaml_implicit_resolvers = {}
    cls.add_implicit_resolver(
        "tag:yaml.org,2002:null",
        re.compile(r"^(?:~|null|Null|NULL|)$"),
        ["~", "n", "N", ""],
    )
    cls.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    cls.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )
    cls.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )
    cls.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: Loader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _construct_float(loader: Loader, node: yaml.ScalarNode) -> float:
    value = str(loader.construct_scalar(node)).lower()
    if value.endswith(".inf"):
        return float("-inf") if value.startswith("-") else float("inf")
    if value == ".nan":
        return float("nan")
    return float(value)


_core_schema(Loader)
_core_schema(Dumper)
Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)

# `key: #value` at the top level: Obsidian users mean the string, YAML reads a comment.
_HASH_VALUE = re.compile(r"^(?P<key>[^\s#'\"\-?:][^:]*?):[ \t]+(?P<value>#\S.*?)[ \t]*$")


@dataclass
class FrontMatter:
    data: dict[str, Any]
    end: int  # index of the closing fence line in the list of lines


def split(lines: list[str]) -> FrontMatter | None:
    """The front matter at the top of a file given as lines, or None when it has none.

    Raises ParseError when the YAML between the fences cannot be read, naming the file line.
    """
    if not lines or lines[0].rstrip() != _FENCE:
        return None
    for end in range(1, len(lines)):
        if lines[end].rstrip() in (_FENCE, "..."):
            return FrontMatter(load("\n".join(lines[1:end]), first_line=2), end)
    if len(lines) > 1 and re.match(r"^[^\s#][^:]*:(\s|$)", lines[1]):
        raise ParseError("line 1: the YAML front matter opened here is never closed with ---")
    return None


def load(text: str, first_line: int = 1) -> dict[str, Any]:
    """Read a front-matter body into a dict (keys as strings, values JSON-compatible).

    `first_line` is the file line number of the body's first line, for error messages.
    """
    simple = load_simple(text)
    return simple if simple is not None else load_yaml(text, first_line)


_SIMPLE_LINE = re.compile(r"([A-Za-z][\w-]*):(?: +(.*))?")


def load_simple(text: str) -> dict[str, Any] | None:
    """Front matter of `key: value` lines whose values are plain strings, decimal integers,
    empty, or double-quoted without escapes (what Commonplace and Readwise write), read without
    the YAML parser, which took two fifths of reading such a note; None for anything else, which
    `load_yaml` reads. A property test (tests/formats/test_frontmatter.py) checks that the two
    agree wherever this one answers."""
    data: dict[str, Any] = {}
    for line in text.split("\n"):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None or match[1] in data or not _plain_fast(match[1]) or len(match[1]) > 200:
            return None  # (a YAML key is at most 1,024 characters)
        raw = (match[2] or "").rstrip(" ")
        if not raw:
            value: Any = None
        elif _plain_fast(raw):
            value = raw
        elif _number_fast(raw):
            value = int(raw)
        elif len(raw) > 1 and raw[0] == raw[-1] == '"' and not any(_unquotable(ch) for ch in raw[1:-1]):
            value = raw[1:-1]
        else:
            return None
        data[match[1]] = value
    return data


def _unquotable(ch: str) -> bool:
    """Characters a double-quoted scalar cannot hold as themselves."""
    return ch in '"\\' or _escaped(ch)


def load_yaml(text: str, first_line: int = 1) -> dict[str, Any]:
    """`load`, by the YAML parser."""
    text = "\n".join(
        _HASH_VALUE.sub(lambda m: f"{m['key']}: {double_quoted(m['value'])}", line) for line in text.split("\n")
    )
    try:
        data = yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark, context = error.problem_mark, error.context_mark
        problem = error.problem or error.context or "unreadable YAML"
        if mark is not None and context is not None and context.line != mark.line:
            # Name the line where the broken construct starts, then where reading gave up.
            line = first_line + context.line
            problem = f"{problem} on line {first_line + mark.line}, {error.context} that starts on line {line}"
        else:
            where = mark or context
            line = first_line + (where.line if where is not None else 0)
        raise ParseError(f"line {line}: the YAML front matter is malformed: {problem}") from None
    except yaml.YAMLError as error:
        position = getattr(error, "position", 0) or 0
        line = first_line + text[:position].count("\n")
        raise ParseError(f"line {line}: the YAML front matter is malformed: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParseError(f"line {first_line}: the YAML front matter is not a list of `key: value` lines")
    return {str(key): jsonable(value) for key, value in data.items()}


def jsonable(value: Any) -> Any:
    """The value with dates, sets and other YAML oddities turned into JSON-compatible ones."""
    if isinstance(value, float) and not math.isfinite(value):
        # JSON (and Postgres's jsonb) has no Infinity or NaN: keep YAML's own spelling as text.
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def dump(fields: Iterable[tuple[str, Any]], *, quoted: Iterable[str] = ()) -> str:
    """Front matter with its `---` fences (no trailing newline), one top-level key per entry.

    Keys in `quoted` have their string values always double-quoted (`title: "34840312"`).
    """
    always = set(quoted)
    lines = [_FENCE]
    for key, value in fields:
        lines.extend(_entry(key, value, key in always))
    lines.append(_FENCE)
    return "\n".join(lines)


def _entry(key: str, value: Any, quote: bool) -> list[str]:
    name = _key(key)
    if value is None:
        return [f"{name}:"]
    if isinstance(value, str):
        return [f"{name}: {double_quoted(value) if quote else scalar(value)}"]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if not value:
            return [f"{name}: []"]
        return [f"{name}:", *(f"  - {scalar(item, in_list=True)}" for item in value)]
    dumped = yaml.dump(
        {key: value},
        Dumper=Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=_WIDTH,
    )
    return dumped.rstrip("\n").split("\n")


def _reads_back(source: str, expected: Any) -> bool:
    try:
        return yaml.load(source, Loader=Loader) == expected  # noqa: S506
    except yaml.YAMLError:
        return False


def _plain_candidate(text: str) -> bool:
    return bool(text) and text == text.strip() and not any(_escaped(ch) for ch in text)


@functools.lru_cache(maxsize=4096)
def _key(key: str) -> str:
    """A key as YAML: plain when that reads back the same (the same few keys recur in every file)."""
    if _plain_candidate(key) and _reads_back(f"{key}: x\n", {key: "x"}):
        return key
    return double_quoted(key)


# Strings that are plain YAML scalars reading back as themselves, recognised without parsing: a
# letter or digit first (so no indicator such as - ? : # & * ! | > ' " % @ ` [ {), then letters,
# digits, single spaces, ":" not before a space, "#" not after one, and punctuation that means
# nothing inside a plain scalar; not a null, boolean or number. What this misses goes the slow
# way, reading the YAML back; a property test (tests/formats/test_frontmatter.py) checks that
# the two agree.
_SAFE_PLAIN = re.compile(r"[^\W_](?:[\w.,;'\"()/&+!?%$@*=~^<>-]|:(?! )|(?<! )#| (?! ))*")
_RESERVED_WORDS = frozenset({"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"})
_NUMBER = re.compile(r"[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def _plain_fast(text: str) -> bool:
    """Whether `text` is certainly a plain scalar that reads back as itself (False: not known)."""
    return (
        _SAFE_PLAIN.fullmatch(text) is not None
        and text[-1] not in " :"
        and text not in _RESERVED_WORDS
        and not (text[0].isdigit() and _NUMBER.fullmatch(text))
        and text.isprintable()
    )


def _number_fast(text: str) -> bool:
    """Whether `text` is certainly a decimal integer to YAML (an id: `687119130`), so must be quoted."""
    return text.isascii() and text.isdigit() and (text[0] != "0" or text == "0")


def scalar(text: str, *, in_list: bool = False) -> str:
    """A string as a YAML scalar: plain when that reads back the same, else a block or quoted."""
    if _plain_fast(text):
        return text
    if _number_fast(text):
        return double_quoted(text)
    if _plain_candidate(text):
        source, expected = (f"- {text}\n", [text]) if in_list else (f"k: {text}\n", {"k": text})
        if _reads_back(source, expected):
            return text
    if "\n" in text and not in_list:
        block = _literal(text)
        if block is not None:
            return block
    return double_quoted(text)


def _literal(text: str) -> str | None:
    if any(_escaped(ch) and ch not in "\n\t" for ch in text) or text.endswith("\n"):
        return None
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    indicator = "2" if first[:1].isspace() else ""
    body = "\n".join(f"  {line}" if line else "" for line in lines)
    block = f"|{indicator}-\n{body}"
    return block if _reads_back(f"k: {block}\n", {"k": text}) else None


def _escaped(ch: str) -> bool:
    """Characters a double-quoted scalar must escape (and a plain one cannot hold)."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in "\u2028\u2029\ufeff\ufffe\uffff" or 0xD800 <= code <= 0xDFFF


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar for any string (no line folding, emoji kept as they are)."""
    out = ['"']
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif _escaped(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
