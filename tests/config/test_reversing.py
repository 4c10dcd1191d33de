"""The fast reverse gives what reverse() gives, for every route taking one id, under any prefix."""

from __future__ import annotations

from django.test import SimpleTestCase
from django.urls import URLPattern, URLResolver, clear_script_prefix, get_resolver, reverse, set_script_prefix

from config.reversing import reverse_pk, reverse_plain


def int_routes() -> list[str]:
    names = []

    def walk(patterns: list, namespace: str) -> None:  # type: ignore[type-arg]
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif isinstance(entry, URLPattern) and entry.name and list(entry.pattern.converters) == ["pk"]:
                names.append(namespace + entry.name)

    walk(get_resolver().url_patterns, "")
    return [name for name in names if not name.startswith("admin:")]


class ReversingTests(SimpleTestCase):
    def test_it_matches_reverse_for_every_route_taking_an_id(self) -> None:
        names = int_routes()
        assert {"highlights:detail", "archive:source", "highlights:author", "highlights:edit"} <= set(names)
        for prefix in ("/", "/commonplace/"):
            set_script_prefix(prefix)
            try:
                for name in names:
                    for pk in (1, 42, 1234567890123):
                        assert reverse_pk(name, pk) == reverse(name, args=[pk]), (prefix, name)
                assert reverse_plain("highlights:tags") == reverse("highlights:tags")
                assert reverse_pk("archive:source", 7).startswith(prefix)
            finally:
                clear_script_prefix()
