"""Every URL pattern of the project, read from the resolver, and the means to request each one.

The security tests walk this list rather than a list of their own, so a view added tomorrow is
tested without anyone remembering to: a pattern whose arguments cannot be filled in fails with
a message saying so.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from django.db import models
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
SAFE = {"GET", "HEAD"}
# Open to anonymous visitors (everything else needs a login).
PUBLIC = {"login", "setup", "healthz"}
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its full route (or regex) pieces, qualified name and view."""

    pieces: tuple[RoutePattern | RegexPattern, ...]
    name: str
    callback: Any

    @property
    def label(self) -> str:
        return self.name or "".join(str(piece) for piece in self.pieces)

    @property
    def admin(self) -> bool:
        return self.name.startswith("admin:") or str(self.pieces[0]).startswith("admin/")

    @property
    def public(self) -> bool:
        return self.name in PUBLIC

    def parameters(self) -> dict[str, str]:
        """Each argument's kind: int, str, path, slug, uuid, or regex:<body>."""
        found: dict[str, str] = {}
        for piece in self.pieces:
            if isinstance(piece, RoutePattern):
                for match in PARAMETER.finditer(str(piece)):
                    found[match["name"]] = match["converter"] or "str"
                    converter = piece.converters[match["name"]]
                    known = (IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter)
                    if not isinstance(converter, known):
                        found[match["name"]] = f"unknown:{type(converter).__name__}"
            else:
                for match in GROUP.finditer(str(piece)):
                    found[match["name"]] = f"regex:{match['body']}"
        return found

    def url(self, values: Mapping[str, str]) -> str:
        """The URL with `values` (plain text) in place of its arguments, percent-encoded."""
        parts = []
        for piece in self.pieces:
            text = str(piece)
            if isinstance(piece, RoutePattern):
                parts.append(PARAMETER.sub(lambda m: _encode(values[m["name"]], m["converter"] or "str"), text))
            else:
                text = GROUP.sub(lambda m: _encode(values[m["name"]], "path"), text)
                parts.append(text.removeprefix("^").removesuffix("$").replace("\\", ""))
        return "/" + "".join(parts)

    def matches(self, url: str) -> bool:
        """Whether `url` reaches this route's view (and not another pattern first)."""
        try:
            match = resolve(urlsplit(url).path)
        except Exception:
            return False
        return match.func == self.callback or getattr(match.func, "__wrapped__", None) == self.callback


def _encode(value: str, converter: str) -> str:
    if converter != "path":
        return quote(value, safe="")
    # Like Tag.get_absolute_url: "/" stays, "." and ".." segments are spelt out.
    segments = quote(value, safe="/").split("/")
    return "/".join("%2E" * len(s) if s in {".", ".."} else s for s in segments)


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: list[Any], prefix: tuple[Any, ...], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = (
                    f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
                )
                walk(entry.url_patterns, (*prefix, entry.pattern), inner or "")
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
                found.append(Route((*prefix, entry.pattern), name, entry.callback))

    walk(get_resolver().url_patterns, (), "")
    return found


# --- what a user owns -------------------------------------------------------------------------


def owned_rows(user: Any) -> dict[str, list[models.Model]]:
    """Every row of every model that belongs to `user`, directly or through one foreign key."""
    from django.apps import apps

    owned: dict[str, list[models.Model]] = {}
    user_model = type(user)
    for model in apps.get_models():
        label = model._meta.label
        if model is user_model:
            owned[label] = [user]
            continue
        path = _owner_path(model, user_model)
        if path is not None:
            rows = list(model._default_manager.filter(**{path: user}).order_by("pk"))
            if rows:
                owned[label] = rows
    return owned


def _owner_path(model: type[models.Model], user_model: type[models.Model], depth: int = 0) -> str | None:
    for field in model._meta.concrete_fields:
        if isinstance(field, models.ForeignKey) and field.related_model is user_model:
            return field.name
    if depth:
        return None
    for field in model._meta.concrete_fields:
        if isinstance(field, models.ForeignKey) and field.related_model is not None:
            inner = _owner_path(field.related_model, user_model, depth + 1)  # type: ignore[arg-type]
            if inner is not None:
                return f"{field.name}__{inner}"
    return None


def state(user: Any) -> str:
    """Everything `user` owns, every column, as one string to compare before and after."""
    from django.core.serializers.json import DjangoJSONEncoder

    dump = {}
    for label, rows in owned_rows(user).items():
        fields = [f.attname for f in rows[0]._meta.concrete_fields if f.attname != "last_login"]
        dump[label] = [{name: _plain(getattr(row, name)) for name in fields} for row in rows]
    return json.dumps(dump, sort_keys=True, cls=DjangoJSONEncoder)


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value).hex()
    if isinstance(value, bytes):
        return value.hex()
    return value


# --- responses --------------------------------------------------------------------------------


def body_text(response: HttpResponseBase) -> str:
    """A response's body as text; a zip's member names and contents, unpacked."""
    streamed = getattr(response, "streaming", False)
    data = b"".join(response.streaming_content) if streamed else response.content  # type: ignore[attr-defined]
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(
                f"{info.filename}\n{archive.read(info).decode('utf-8', 'replace')}" for info in archive.infolist()
            )
    return data.decode("utf-8", "replace")


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, list[str]]  # name -> the values the page offers (the first is the default)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, urlsplit(self.action).path, tuple(sorted(self.fields)))


class _FormParser(HTMLParser):
    """Forms, and elements that post by themselves (htmx), with the values the page offers."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        verbs = [verb for verb in ("get", "post", "put", "patch", "delete") if f"hx-{verb}" in attr]
        if tag == "form":
            # What the form submits without JavaScript, and what htmx sends instead, if other.
            method = attr.get("method", "get").lower()
            self.current = Form(method.upper(), urljoin(self.page_url, attr.get("action") or self.page_url), {})
            self.forms.append(self.current)
            for verb in verbs:
                self.forms.append(Form(verb.upper(), urljoin(self.page_url, attr[f"hx-{verb}"]), self.current.fields))
            return
        if verbs and tag != "form":
            method = verbs[0]
            fields: dict[str, list[str]] = {}
            if attr.get("name"):
                fields[attr["name"]] = [attr.get("value", "")]
            if vals := attr.get("hx-vals", ""):
                with contextlib.suppress(ValueError):
                    fields.update({k: [str(v)] for k, v in json.loads(vals).items()})
            self.forms.append(Form(method.upper(), urljoin(self.page_url, attr[f"hx-{method}"]), fields))
        if self.current is None:
            return
        name = attr.get("name", "")
        if tag in {"input", "button", "textarea"} and name:
            if attr.get("type") == "file":
                return
            values = self.current.fields.setdefault(name, [])
            value = attr.get("value", "on" if attr.get("type") in {"checkbox", "radio"} else "")
            if "checked" in attr:
                values.insert(0, value)
            else:
                values.append(value)
        elif tag == "select" and name:
            self.select = name
            self.current.fields.setdefault(name, [])
        elif tag == "option" and self.select:
            value = attr.get("value", "")
            values = self.current.fields[self.select]
            if "selected" in attr:
                values.insert(0, value)
            else:
                values.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def forms_in(html: str, page_url: str) -> list[Form]:
    parser = _FormParser(page_url)
    parser.feed(html)
    return [form for form in parser.forms if urlsplit(form.action).netloc in {"", "testserver"}]


def candidate_urls(route: Route, values: Mapping[str, list[str]], limit: int) -> Iterator[str]:
    """URLs of `route` with each argument taking each of its candidate values (at most `limit`)."""
    names = list(route.parameters())
    if not names:
        yield route.url({})
        return
    combos: list[dict[str, str]] = [{}]
    for name in names:
        combos = [{**combo, name: value} for combo in combos for value in values[name]]
    step = max(1, len(combos) // limit)
    for combo in combos[::step][:limit]:
        yield route.url(combo)
