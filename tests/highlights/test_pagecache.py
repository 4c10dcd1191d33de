"""Kept pages: served again until the archive changes, never stale after a change, never to
another browser, and the home page's random highlight new on every visit."""

from __future__ import annotations

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpResponse
from django.test import RequestFactory, TestCase, override_settings
from django.urls import reverse

from archive import importing
from highlights.pagecache import PAGES, VERSIONS
from tests.factories import make_highlight, make_source, make_user

ARTICLE = b"""# Newly Imported

## Metadata
- Author: [[Jo Reader]]
- Category: #articles

## Highlights
- A sentence that arrives by import.
"""


@override_settings(PAGE_CACHE=True)
class PageCacheTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = make_source(cls.user, "Kept Book")
        cls.highlights = [make_highlight(cls.source, f"Kept sentence {n}.") for n in range(5)]

    def setUp(self) -> None:
        caches[PAGES].clear()
        caches[VERSIONS].clear()
        self.client.force_login(self.user)
        self.client.get(reverse("highlights:tags"))  # any page: the browser now holds a CSRF cookie

    def get(self, url: str, **extra: str):  # type: ignore[no-untyped-def]
        response = self.client.get(url, **extra)
        assert response.status_code == 200
        return response

    def test_it_serves_a_page_again_until_something_changes(self) -> None:
        url = self.source.get_absolute_url()
        assert "X-Page-Cache" not in self.get(url)
        with self.assertNumQueries(3):  # the session, the user, the archive's version
            kept = self.get(url)
        assert kept["X-Page-Cache"] == "hit"
        assert "Kept sentence 4." in kept.content.decode()

    def test_a_change_made_in_the_app_is_seen_at_once(self) -> None:
        url = reverse("highlights:search") + "?q=kept"
        self.get(url)
        assert self.get(url)["X-Page-Cache"] == "hit"
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("archive:settings_export"), {"layout": "readwise"})
        assert response.status_code in {200, 302}
        self.get(reverse("highlights:tags"))  # shows (and so clears) any message the POST left
        assert "X-Page-Cache" not in self.get(url)

    def test_an_import_is_seen_at_once(self) -> None:
        url = reverse("highlights:library")
        self.get(url)
        with self.captureOnCommitCallbacks(execute=True):
            [outcome] = importing.import_paths(self.user, [("new.md", ARTICLE)])
        assert outcome.status == "created"
        response = self.get(url)
        assert "X-Page-Cache" not in response
        assert "Newly Imported" in response.content.decode()

    def test_an_unchanged_reimport_keeps_the_pages(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            importing.import_paths(self.user, [("new.md", ARTICLE)])
        url = reverse("highlights:library")
        self.get(url)
        with self.captureOnCommitCallbacks(execute=True):
            [outcome] = importing.import_paths(self.user, [("new.md", ARTICLE)])
        assert outcome.status == "unchanged"
        assert self.get(url)["X-Page-Cache"] == "hit"

    def test_a_lost_version_is_a_new_one_not_an_old_one(self) -> None:
        url = self.source.get_absolute_url()
        self.get(url)
        caches[VERSIONS].clear()  # the shared cache emptied (or culled) behind the app's back
        self.highlights[0].__class__.objects.filter(pk=self.highlights[0].pk).update(text="Changed by hand.")
        response = self.get(url)
        assert "X-Page-Cache" not in response
        assert "Changed by hand." in response.content.decode()

    def test_a_staff_members_change_reaches_everyone(self) -> None:
        url = self.source.get_absolute_url()
        self.get(url)
        admin = make_user(is_staff=True, is_superuser=True)
        staff = self.client_class()
        staff.force_login(admin)
        with self.captureOnCommitCallbacks(execute=True):
            staff.post(reverse("admin:archive_source_change", args=[self.source.pk]), {})
        assert "X-Page-Cache" not in self.get(url)

    def test_another_browser_never_gets_this_ones_page(self) -> None:
        url = self.source.get_absolute_url()
        self.get(url)
        other = self.client_class()
        other.force_login(self.user)
        assert "X-Page-Cache" not in other.get(url)  # no CSRF cookie yet: drawn, and not kept
        assert "X-Page-Cache" not in other.get(url)  # its own cookie now: its own page
        assert other.get(url)["X-Page-Cache"] == "hit"

    def test_an_htmx_request_is_kept_apart_from_the_full_page(self) -> None:
        url = reverse("highlights:library")
        full = self.get(url)
        part = self.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
        assert "X-Page-Cache" not in part
        assert b"<html" in full.content and b"<html" not in part.content

    def test_a_page_with_a_message_waiting_is_drawn(self) -> None:
        url = reverse("highlights:library")
        self.get(url)
        assert self.get(url)["X-Page-Cache"] == "hit"
        storage = CookieStorage(RequestFactory().get(url))
        carrier = HttpResponse()
        storage._store([Message(constants.SUCCESS, "Saved your tag.")], carrier)
        self.client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value
        response = self.get(url)
        assert "X-Page-Cache" not in response
        assert "Saved your tag." in response.content.decode()

    def test_the_home_page_resurfaces_a_new_highlight_on_every_visit(self) -> None:
        url = reverse("highlights:library")
        self.get(url)
        seen = set()
        for _ in range(4):
            response = self.get(url)
            assert response["X-Page-Cache"] == "hit"
            shown = response.cookies["resurfaced"].value
            assert f"/highlights/{shown}/" in response.content.decode()
            seen.add(shown)
        assert len(seen) > 1
