"""One user can neither see nor change anything of another's, through any URL the project has.

The URL patterns come from the resolver (tests/security/routes.py), so a view added later is
covered without editing this file. For every pattern, user A requests it with every method and
with B's ids of every kind (and B's tag names) in its arguments: 403, 404 or 405, nothing else.
Then A browses every page of their own, submits every form those pages hold with B's ids, tag
names and words put in each field in turn, and downloads every export: no response shows
anything of B's, and B's archive, every row of it, is the same afterwards.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit

from django.contrib.messages.storage.cookie import CookieStorage
from django.db import transaction
from django.http.response import HttpResponseBase
from django.test import TestCase
from django.utils.html import escape

from tests.security.archives import B_WORDS, TOKEN, ids_by_kind, two_archives
from tests.security.routes import (
    METHODS,
    SAFE,
    Form,
    Route,
    body_text,
    candidate_urls,
    forms_in,
    owned_rows,
    routes,
    state,
)

REFUSED = {403, 404, 405}
MAX_COMBINATIONS = 60


class IsolationTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice, cls.bob = two_archives()

    def setUp(self) -> None:
        self.client.force_login(self.alice)
        self.failures: list[str] = []
        self.b_rows = owned_rows(self.bob)
        self.a_rows = owned_rows(self.alice)
        self.b_tags = [tag.name for tag in self.b_rows["highlights.Tag"]]
        self.a_tags = [tag.name for tag in self.a_rows["highlights.Tag"]]

    # --- helpers ----------------------------------------------------------------------------

    def send(
        self, method: str, url: str, data: dict[str, Any] | None = None, htmx: bool = False
    ) -> HttpResponseBase | None:
        headers = {"HX-Request": "true"} if htmx else {}
        try:
            if method == "GET":
                response = self.client.get(url, data, headers=headers)
            elif method == "POST":
                response = self.client.post(url, data or {}, headers=headers)
            elif method == "HEAD":
                response = self.client.head(url, headers=headers)
            else:
                body = urlencode(data or {}, doseq=True)
                response = self.client.generic(method, url, body, "application/x-www-form-urlencoded", headers=headers)
        except Exception as error:  # a server error: the test client re-raises it
            self.failures.append(f"{method} {url} {data or ''}: raised {type(error).__name__}: {error}")
            return None
        if method not in SAFE:
            self.ensure_signed_in()  # it may have been the sign-out
        if response.status_code >= 500:
            self.failures.append(f"{method} {url} {data or ''}: {response.status_code}")
        return response

    def ensure_signed_in(self) -> None:
        if "_auth_user_id" not in self.client.session:
            self.client.force_login(self.alice)

    def check_no_leak(self, what: str, response: HttpResponseBase, sent: list[str]) -> None:
        """Nothing of B's in the body, once what A sent (and the page may echo) is taken out."""
        text = body_text(response) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())
        for value in sorted({v for v in sent if v}, key=len, reverse=True):
            encoded = {quote(value), quote(value, safe="/"), quote_plus(value)}
            # A page's own address carried in a `next` parameter is encoded twice.
            twice = {again(form) for form in encoded for again in (quote, quote_plus)}
            for form in {value, html.escape(value), escape(value), *encoded, *twice,
                         json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}:  # fmt: skip
                text = re.sub(re.escape(form), "", text, flags=re.IGNORECASE)
        if (at := text.lower().find(TOKEN)) >= 0:
            self.failures.append(f"{what}: shows B's data: …{text[max(0, at - 80) : at + 80]!r}…")

    def sent_values(self, url: str, data: dict[str, Any] | None = None) -> list[str]:
        parts = urlsplit(url)
        values = [unquote(parts.path), *unquote(parts.path).split("/")]
        values += [v for _, v in parse_qsl(parts.query)]
        for value in (data or {}).values():
            values += [str(v) for v in (value if isinstance(value, list) else [value])]
        return values

    def fill(self, route: Route, ids: list[str], tags: list[str]) -> dict[str, list[str]] | None:
        """Candidate values for each of the route's arguments, or None (and a failure) if it cannot."""
        values: dict[str, list[str]] = {}
        for name, kind in route.parameters().items():
            if kind == "int":
                values[name] = ids
            elif kind in {"str", "path"}:
                values[name] = [*tags, *ids] if kind == "path" else [t for t in tags if "/" not in t] + ids
            elif kind == "slug":
                values[name] = [re.sub(r"[^-\w]+", "-", t).strip("-") for t in tags] + ids
            elif kind.startswith("regex:") and route.admin:
                body = kind.removeprefix("regex:")
                words = body.split("|") if re.fullmatch(r"[\w|]+", body) else [f"{TOKEN}-x/"]
                values[name] = words[:2]
            else:
                self.failures.append(
                    f"{route.label}: cannot fill its argument {name!r} ({kind}); teach tests/security/test_isolation.py"
                )
                return None
        return values

    # --- the tests --------------------------------------------------------------------------

    def test_it_refuses_another_users_ids_on_every_pattern(self) -> None:
        before = state(self.bob)
        b_ids = ids_by_kind(self.b_rows, per_kind=1)
        checked = 0
        for route in routes():
            if not route.parameters():
                continue
            values = self.fill(
                route, b_ids[:1] if route.admin else b_ids, self.b_tags[:1] if route.admin else self.b_tags
            )
            if values is None:
                continue
            for url in candidate_urls(route, values, MAX_COMBINATIONS if not route.admin else 1):
                if not route.matches(url):
                    self.failures.append(f"{route.label}: the URL built for it, {url}, reaches another view")
                    continue
                for method in METHODS:
                    response = self.send(method, url)
                    checked += 1
                    if response is None:
                        continue
                    allowed = REFUSED | ({302} if route.admin else set())
                    if response.status_code not in allowed:
                        self.failures.append(f"{method} {url} ({route.label}) with B's ids: {response.status_code}")
                    elif response.status_code == 302 and not response["Location"].startswith("/admin/login/"):
                        self.failures.append(f"{method} {url}: redirects to {response['Location']}")
                    if method != "HEAD":
                        self.check_no_leak(f"{method} {url}", response, self.sent_values(url))
        print(f"\nisolation: {checked} requests with B's ids over {len(routes())} patterns")
        assert checked > 500
        assert not self.failures, "\n".join(self.failures[:40])
        assert state(self.bob) == before, "B's archive changed"

    def test_it_serves_its_owner_on_every_pattern_and_never_shows_the_other(self) -> None:
        """A's own ids fill every pattern (so the refusals above are not 404s of malformed URLs),
        and no page, fragment, form submission or export of A's shows anything of B's."""
        before = state(self.bob)
        a_ids = ids_by_kind(self.a_rows, per_kind=1)
        pages: list[str] = []
        for route in routes():
            if route.admin:
                continue
            values = self.fill(route, a_ids, self.a_tags)
            if values is None:
                continue
            answered = False
            for url in candidate_urls(route, values, MAX_COMBINATIONS):
                for method in METHODS:
                    with transaction.atomic():  # A changing their own archive: undone after
                        response = self.send(method, url)
                        ran = response is not None and response.status_code not in {404, 405}
                        if ran and method not in SAFE and state(self.bob) != before:
                            self.failures.append(f"{method} {url}: changed B's archive")
                        transaction.set_rollback(True)
                    self.ensure_signed_in()  # a session made inside the block is gone with it
                    if response is None:
                        continue
                    answered |= response.status_code != 404
                    if method != "HEAD":
                        self.check_no_leak(f"{method} {url}", response, self.sent_values(url))
                    if method == "GET" and response.status_code == 200:
                        pages.append(url)
                        self.check_no_leak(f"GET {url} (htmx)", self.send("GET", url, htmx=True) or response, [])
            if route.parameters() and not answered:
                self.failures.append(
                    f"{route.label}: none of A's ids or tag names reached an object of A's, so its refusal of B's "
                    "ids proves nothing; teach tests/security/test_isolation.py how to fill it"
                )
        forms = self.forms_on(pages)
        assert len(pages) > 10 and len(forms) > 5, (pages, forms)
        requests = sum(self.submit(form) for form in forms)
        print(f"\nisolation: {len(pages)} pages of A's, {len(forms)} forms, {requests} submissions with B's values")
        assert not self.failures, "\n".join(self.failures[:40])
        assert state(self.bob) == before, "B's archive changed"

    def forms_on(self, pages: list[str]) -> list[Form]:
        found: dict[tuple[str, str, tuple[str, ...]], Form] = {}
        for url in pages:
            response = self.client.get(url)
            if "html" in response.get("Content-Type", ""):
                for form in forms_in(body_text(response), url):
                    found.setdefault(form.key, form)
        return list(found.values())

    def submit(self, form: Form) -> int:
        """The form with each field in turn set to each of A's offered values and each of B's."""
        b_ids = ids_by_kind(self.b_rows, per_kind=1)
        b_words = [*self.b_tags, *B_WORDS, *(a.name for a in self.b_rows["archive.Author"])]
        base = {name: values[0] for name, values in form.fields.items() if values}
        count = 0
        before = state(self.bob)
        for name, offered in form.fields.items():
            if name == "csrfmiddlewaretoken":  # the test client does not check it
                continue
            # B's ids where the page offers ids (or free text), B's names and words elsewhere.
            numeric = all(v.isdigit() or not v for v in offered)
            b_values = [*b_ids, *b_words[:3]] if numeric else b_words
            for value in dict.fromkeys([*offered, *b_values]):
                data = {**base, name: value}
                # Each submission alone: what A made of B's words (a tag of A's named like one of
                # B's, the message saying so) is A's own, and must not count against the next one.
                with transaction.atomic():
                    response = self.send(form.method, form.action, data)
                    if form.method != "GET" and state(self.bob) != before:
                        self.failures.append(f"{form.method} {form.action} with {name}={value!r}: changed B")
                    transaction.set_rollback(True)
                self.client.cookies.pop(CookieStorage.cookie_name, None)  # and its message is gone
                self.ensure_signed_in()
                count += 1
                if response is not None:
                    self.check_no_leak(f"{form.method} {form.action} {name}={value!r}", response,
                                       self.sent_values(form.action, data))  # fmt: skip
        return count
