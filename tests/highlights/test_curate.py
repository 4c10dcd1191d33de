"""Curating in place (highlights/curate.py): tags, notes, favourites and managing tags.

Every action is tried as a plain POST (no JavaScript: it redirects back) and as an htmx request
(it answers with the region it changed). Counts are checked against a count made the slow way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.models import Source
from highlights.models import Highlight, Tag
from tests.curation_helpers import assert_counts_true
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import import_bytes, source_with, tag
from tests.samples import sample

HX = {"HX-Request": "true"}


def names(item: Highlight | Source) -> list[str]:
    return sorted(item.tags.values_list("name", flat=True))


def triggered(response: Any) -> dict[str, Any]:
    return json.loads(response.headers.get("HX-Trigger", "{}"))


class CurateTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = source_with(cls.user, "Meditations", ["The obstacle is the way.", "Waste no more time."])
        cls.first, cls.second = cls.source.highlights.order_by("position")
        cls.stoicism = tag(cls.user, "stoicism", cls.first)
        cls.stranger = make_user()
        cls.foreign_source = source_with(cls.stranger, "Not yours", ["Private words."])
        cls.foreign = cls.foreign_source.highlights.get()
        cls.foreign_tag = tag(cls.stranger, "secret", cls.foreign)

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def refresh(self, *items: Any) -> None:
        for item in items:
            item.refresh_from_db()


class HighlightTagTests(CurateTestCase):
    def add_url(self, highlight: Highlight) -> str:
        return reverse("highlights:highlight_tag_add", args=[highlight.pk])

    def remove(self, highlight: Highlight, tag: Tag, htmx: bool = False, **data: str) -> Any:
        url = reverse("highlights:highlight_tag_remove", args=[highlight.pk])
        return self.client.post(url, {"tag": tag.pk, **data}, headers=HX if htmx else {})

    def test_it_adds_a_tag_with_a_full_post_and_goes_back(self) -> None:
        next_url = self.source.get_absolute_url()
        response = self.client.post(self.add_url(self.second), {"name": "  Virtue  ", "next": next_url})
        assert response.status_code == 302
        assert response["Location"] == f"{next_url}#highlight-{self.second.pk}"
        assert names(self.second) == ["Virtue"]
        self.refresh(self.second)
        assert self.second.edited_at is not None
        assert Tag.objects.get(user=self.user, name="Virtue").highlight_count == 1
        assert_counts_true()

    def test_it_adds_a_tag_in_place_with_htmx(self) -> None:
        response = self.client.post(self.add_url(self.second), {"name": "virtue"}, headers=HX)
        assert response.status_code == 200
        page = response.text
        assert page.lstrip().startswith(f'<div class="curate" id="curate-h-{self.second.pk}"')
        assert ">virtue</a>" in page
        assert 'aria-label="Remove tag virtue"' in page
        assert "<html" not in page
        added = Tag.objects.get(user=self.user, name="virtue")
        assert triggered(response)["commonplace:tag-count"] == {"id": added.pk, "count": 1, "text": "1 highlight"}
        assert_counts_true()

    def test_it_reuses_a_tag_whatever_the_case_and_never_twice(self) -> None:
        for typed in ("STOICISM", " Stoicism ", "stoicism"):
            self.client.post(self.add_url(self.first), {"name": typed}, headers=HX)
            self.client.post(self.add_url(self.second), {"name": typed}, headers=HX)
        assert Tag.objects.filter(user=self.user).count() == 1
        assert names(self.first) == names(self.second) == ["stoicism"]
        self.stoicism.refresh_from_db()
        assert self.stoicism.highlight_count == 2
        assert_counts_true()

    def test_it_takes_any_name_and_its_page_opens(self) -> None:
        for name in ("to read / later", "#idea", "🧠 brain", "a/b/c", "50%", "what?", ". .."):
            response = self.client.post(self.add_url(self.second), {"name": name}, headers=HX)
            assert response.status_code == 200, name
            found = Tag.objects.filter(user=self.user).named(name).get()
            assert found.name == name.strip()
            assert found.get_absolute_url() in response.text.replace("&amp;", "&") or "%" in found.get_absolute_url()
            page = self.client.get(found.get_absolute_url())
            assert page.status_code == 200, name
            assert "Waste no more time." in page.text
        assert_counts_true()

    def test_it_refuses_an_empty_or_overlong_name(self) -> None:
        response = self.client.post(self.add_url(self.second), {"name": "   "}, headers=HX)
        assert response.status_code == 200
        assert 'role="alert"' in response.text and "Type a tag name." in response.text
        assert 'aria-invalid="true"' in response.text
        response = self.client.post(self.add_url(self.second), {"name": "x" * 201, "next": "/"})
        assert response.status_code == 302
        assert "at most 200 characters" in str(list(response.wsgi_request._messages))
        assert names(self.second) == []
        self.refresh(self.second)
        assert self.second.edited_at is None

    def test_it_removes_a_tag_with_one_click(self) -> None:
        response = self.remove(self.first, self.stoicism, next="/search/?q=way")
        assert response.status_code == 302
        assert response["Location"] == f"/search/?q=way#highlight-{self.first.pk}"
        assert names(self.first) == []
        self.stoicism.refresh_from_db()
        assert self.stoicism.highlight_count == 0
        self.refresh(self.first)
        assert self.first.edited_at is not None
        assert Tag.objects.filter(pk=self.stoicism.pk).exists()  # the tag stays, for other uses
        assert_counts_true()

    def test_it_removes_a_tag_in_place_with_htmx(self) -> None:
        response = self.remove(self.first, self.stoicism, htmx=True)
        assert response.status_code == 200
        assert "Remove tag stoicism" not in response.text
        assert triggered(response)["commonplace:tag-count"]["text"] == "0 highlights"
        # Removing it again is harmless.
        assert self.remove(self.first, self.stoicism, htmx=True).status_code == 200
        assert_counts_true()

    def test_it_answers_404_for_another_users_highlight_or_tag(self) -> None:
        assert self.client.post(self.add_url(self.foreign), {"name": "mine"}).status_code == 404
        assert self.remove(self.foreign, self.foreign_tag).status_code == 404
        assert self.remove(self.first, self.foreign_tag).status_code == 404
        remove = reverse("highlights:highlight_tag_remove", args=[self.first.pk])
        for bad in ({}, {"tag": "x"}, {"tag": "-1"}, {"tag": "99999999999999999999"}):
            assert self.client.post(remove, bad).status_code == 404, bad
        assert names(self.foreign) == ["secret"]
        assert not Tag.objects.filter(user=self.user, name="mine").exists()

    def test_it_answers_404_for_a_deleted_highlight(self) -> None:
        Highlight.objects.filter(pk=self.second.pk).update(deleted_at=self.first.created_at)
        assert self.client.post(self.add_url(self.second), {"name": "x"}).status_code == 404

    def test_it_only_goes_back_to_this_site(self) -> None:
        for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
            response = self.client.post(self.add_url(self.second), {"name": "safe", "next": bad})
            assert response["Location"] == f"{self.second.get_absolute_url()}#highlight-{self.second.pk}"

    def test_its_forms_go_back_to_the_page_that_asked(self) -> None:
        here = {**HX, "HX-Current-URL": "http://testserver/search/?q=obstacle"}
        response = self.client.post(self.add_url(self.first), {"name": "x"}, headers=here)
        assert 'name="next" value="/search/?q=obstacle"' in response.text
        elsewhere = {**HX, "HX-Current-URL": "https://evil.example/"}
        response = self.client.post(self.add_url(self.first), {"name": "y"}, headers=elsewhere)
        assert "evil" not in response.text

    def test_it_refuses_get_on_actions(self) -> None:
        for url in (
            self.add_url(self.first),
            reverse("highlights:highlight_tag_remove", args=[self.first.pk]),
            reverse("highlights:favorite", args=[self.first.pk]),
            reverse("highlights:source_tag_add", args=[self.source.pk]),
            reverse("highlights:source_tag_remove", args=[self.source.pk]),
            reverse("highlights:tag_rename", args=[self.stoicism.pk]),
            reverse("highlights:tag_delete", args=[self.stoicism.pk]),
        ):
            assert self.client.get(url).status_code == 405, url
        assert names(self.first) == ["stoicism"]

    def test_it_suggests_the_readers_own_tags(self) -> None:
        tag(self.user, "Stoa", self.second)
        tag(self.user, "history of stoicism")
        tag(self.user, "zen")
        url = reverse("highlights:tag_suggest")
        response = self.client.get(url, {"name": "sto"}, headers=HX)
        assert response.status_code == 200
        found = re.findall(r'<option value="([^"]*)">', response.text)
        # Those starting with it first (the most used first), then those containing it.
        assert found == ["Stoa", "stoicism", "history of stoicism"]
        assert "secret" not in self.client.get(url, {"name": "sec"}).text
        assert len(re.findall("<option", self.client.get(url).text)) == 4
        assert self.client.post(url).status_code == 405


class SourceTagTests(CurateTestCase):
    def test_it_tags_a_source_with_a_full_post(self) -> None:
        url = reverse("highlights:source_tag_add", args=[self.source.pk])
        response = self.client.post(url, {"name": "Philosophy", "next": self.source.get_absolute_url()})
        assert response.status_code == 302
        assert response["Location"] == self.source.get_absolute_url()
        assert names(self.source) == ["Philosophy"]
        self.refresh(self.source)
        assert self.source.edited_at is not None
        page = self.client.get(self.source.get_absolute_url()).text
        assert 'aria-label="Remove tag Philosophy"' in page
        # The library's tag filter finds it.
        assert "Meditations" in self.client.get("/", {"tag": "philosophy"}).text

    def test_it_tags_and_untags_a_source_in_place(self) -> None:
        url = reverse("highlights:source_tag_add", args=[self.source.pk])
        response = self.client.post(url, {"name": "stoicism"}, headers=HX)
        assert response.status_code == 200
        assert response.text.lstrip().startswith(f'<div class="source-tags" id="tags-s-{self.source.pk}"')
        assert "<dt>Tags</dt>" in response.text and ">stoicism</a>" in response.text
        assert names(self.source) == ["stoicism"]
        self.stoicism.refresh_from_db()
        assert self.stoicism.highlight_count == 1  # counts highlights; the source is listed on its page
        remove = reverse("highlights:source_tag_remove", args=[self.source.pk])
        response = self.client.post(remove, {"tag": self.stoicism.pk}, headers=HX)
        assert response.status_code == 200 and ">stoicism</a>" not in response.text
        assert names(self.source) == []
        assert_counts_true()

    def test_it_hides_other_users_sources(self) -> None:
        url = reverse("highlights:source_tag_add", args=[self.foreign_source.pk])
        assert self.client.post(url, {"name": "x"}).status_code == 404
        remove = reverse("highlights:source_tag_remove", args=[self.source.pk])
        assert self.client.post(remove, {"tag": self.foreign_tag.pk}).status_code == 404
        note = reverse("highlights:source_note", args=[self.foreign_source.pk])
        assert self.client.get(note).status_code == 404
        assert self.client.post(note, {"note": "x"}).status_code == 404


class FavoriteTests(CurateTestCase):
    def url(self, highlight: Highlight) -> str:
        return reverse("highlights:favorite", args=[highlight.pk])

    def test_it_favourites_with_a_full_post(self) -> None:
        response = self.client.post(self.url(self.first), {"favorite": "1", "next": self.source.get_absolute_url()})
        assert response.status_code == 302
        self.refresh(self.first)
        assert self.first.favorite and self.first.edited_at is not None
        # Sent twice (a double click), it stays a favourite.
        self.client.post(self.url(self.first), {"favorite": "1"})
        self.refresh(self.first)
        assert self.first.favorite
        self.client.post(self.url(self.first), {"favorite": "0"})
        self.refresh(self.first)
        assert not self.first.favorite

    def test_it_toggles_in_place_with_aria_pressed(self) -> None:
        page = self.client.get(self.source.get_absolute_url()).text
        assert page.count('aria-pressed="false"') == 2
        response = self.client.post(self.url(self.second), headers=HX)  # no value: toggle
        assert response.status_code == 200
        assert 'aria-pressed="true"' in response.text and 'name="favorite" value="0"' in response.text
        self.refresh(self.second)
        assert self.second.favorite
        assert "Waste no more time." in self.client.get("/search/", {"favorites": "1"}).text
        response = self.client.post(self.url(self.second), {"favorite": "0"}, headers=HX)
        assert 'aria-pressed="false"' in response.text
        self.refresh(self.second)
        assert not self.second.favorite

    def test_it_hides_other_users_highlights(self) -> None:
        assert self.client.post(self.url(self.foreign), {"favorite": "1"}).status_code == 404
        self.refresh(self.foreign)
        assert not self.foreign.favorite


class NoteTests(CurateTestCase):
    def url(self, highlight: Highlight) -> str:
        return reverse("highlights:note", args=[highlight.pk])

    def test_it_edits_a_note_on_a_page_of_its_own_without_javascript(self) -> None:
        next_url = self.source.get_absolute_url()
        response = self.client.get(self.url(self.first), {"next": next_url})
        assert response.status_code == 200
        assert "<html" in response.text and "The obstacle is the way." in response.text
        assert re.search(r"<textarea[^>]*name=\"note\"", response.text)
        assert f'name="next" value="{next_url}"' in response.text
        response = self.client.post(
            self.url(self.first), {"note": "  See *Epictetus*.\r\n\r\nTwice.  ", "next": next_url}
        )
        assert response.status_code == 302
        assert response["Location"] == f"{next_url}#highlight-{self.first.pk}"
        self.refresh(self.first)
        assert self.first.note == "See *Epictetus*.\n\nTwice."
        assert self.first.edited_at is not None
        page = self.client.get(next_url).text
        assert "See <em>Epictetus</em>." in page and "Edit note" in page

    def test_it_edits_a_note_in_place_with_htmx(self) -> None:
        response = self.client.get(self.url(self.second), headers=HX)
        assert response.status_code == 200
        form = response.text
        assert "<html" not in form
        assert f'id="note-h-{self.second.pk}"' in form and "autofocus" in form and "Save note" in form
        cancel = self.client.get(self.url(self.second), {"cancel": "1"}, headers=HX)
        assert cancel.text.lstrip().startswith(f'<div class="note-slot" id="note-h-{self.second.pk}"')
        response = self.client.post(self.url(self.second), {"note": "**Bold** <script>alert(1)</script>"}, headers=HX)
        assert response.status_code == 200
        assert "<strong>Bold</strong>" in response.text
        assert "<script>" not in response.text
        # The highlight's actions come along out of band, "Add note" now "Edit note".
        assert f'id="curate-h-{self.second.pk}" hx-swap-oob="true"' in response.text
        assert ">Edit note</a>" in response.text
        self.refresh(self.second)
        assert self.second.note.startswith("**Bold**")
        # Found by search at once (the search vector is a generated column).
        assert "Waste no more time" in self.client.get("/search/", {"q": "bold"}).text

    def test_it_clears_a_note(self) -> None:
        Highlight.objects.filter(pk=self.first.pk).update(note="Old note")
        self.client.post(self.url(self.first), {"note": "   "}, headers=HX)
        self.refresh(self.first)
        assert self.first.note == "" and self.first.edited_at is not None

    def test_it_edits_a_source_note(self) -> None:
        url = reverse("highlights:source_note", args=[self.source.pk])
        page = self.client.get(self.source.get_absolute_url()).text
        assert "Add a document note" in page
        assert self.client.get(url).status_code == 200
        response = self.client.post(url, {"note": "Read in _2024_."}, headers=HX)
        assert response.status_code == 200
        assert response.text.lstrip().startswith(f'<section class="document-note" id="note-s-{self.source.pk}"')
        assert "Read in <em>2024</em>." in response.text and "Edit note" in response.text
        response = self.client.post(url, {"note": "Plain.", "next": self.source.get_absolute_url()})
        assert response.status_code == 302
        self.refresh(self.source)
        assert self.source.note == "Plain." and self.source.edited_at is not None

    def test_it_hides_other_users_notes(self) -> None:
        assert self.client.get(self.url(self.foreign)).status_code == 404
        assert self.client.post(self.url(self.foreign), {"note": "mine"}).status_code == 404
        assert self.client.put(self.url(self.first)).status_code == 405


class CsrfTests(CurateTestCase):
    def test_every_action_needs_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        actions = [
            (reverse("highlights:highlight_tag_add", args=[self.second.pk]), {"name": "x"}),
            (reverse("highlights:highlight_tag_remove", args=[self.first.pk]), {"tag": self.stoicism.pk}),
            (reverse("highlights:favorite", args=[self.first.pk]), {"favorite": "1"}),
            (reverse("highlights:note", args=[self.first.pk]), {"note": "x"}),
            (reverse("highlights:source_tag_add", args=[self.source.pk]), {"name": "x"}),
            (reverse("highlights:source_note", args=[self.source.pk]), {"note": "x"}),
            (reverse("highlights:tag_rename", args=[self.stoicism.pk]), {"name": "x"}),
            (reverse("highlights:tag_delete", args=[self.stoicism.pk]), {}),
        ]
        for url, data in actions:
            assert client.post(url, data).status_code == 403, url
            assert client.post(url, data, headers=HX).status_code == 403, url
        self.refresh(self.first)
        assert self.first.edited_at is None and not self.first.favorite
        assert names(self.first) == ["stoicism"]
        # With the token from the page (the form's field, or htmx's header) they work.
        page = client.get(self.source.get_absolute_url())
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        url = reverse("highlights:highlight_tag_add", args=[self.second.pk])
        assert client.post(url, {"name": "x", "csrfmiddlewaretoken": token}).status_code == 302
        header = json.loads(re.search(r"hx-headers='([^']+)'", page.text).group(1))["X-CSRFToken"]
        response = client.post(url, {"name": "y"}, headers={**HX, "X-CSRFToken": header})
        assert response.status_code == 200
        assert names(self.second) == ["x", "y"]

    def test_every_form_of_every_row_carries_the_token(self) -> None:
        # The rows' forms share one token made once per page ({% csrf_input %}); each works.
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        for page in [client.get(self.source.get_absolute_url()), client.get(reverse("highlights:search") + "?q=time")]:
            forms = re.findall(r"<form\b.*?</form>", page.text, re.S)
            posting = [form for form in forms if 'method="post"' in form]
            assert len(posting) >= 4, page.request
            tokens = {re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1) for form in posting}
            assert len(tokens) == 1
            url = reverse("highlights:favorite", args=[self.first.pk])
            assert client.post(url, {"favorite": "1", "csrfmiddlewaretoken": tokens.pop()}).status_code == 302


class PagesShowTheControlsTests(CurateTestCase):
    def test_every_page_with_a_highlight_offers_them(self) -> None:
        self.second.note = "A note about time."
        self.second.save()
        pages = [
            self.source.get_absolute_url(),
            self.stoicism.get_absolute_url(),
            self.first.get_absolute_url(),
            "/search/?q=obstacle",
            "/search/?tag=stoicism",
        ]
        for url in pages:
            page = self.client.get(url).text
            assert f'id="curate-h-{self.first.pk}"' in page, url
            assert f'action="/highlights/{self.first.pk}/tags/"' in page, url
            assert 'aria-label="Remove tag stoicism"' in page, url
            assert 'aria-pressed="false"' in page, url
            assert f'id="note-h-{self.first.pk}"' in page, url
            assert "/static/js/curate.js" in page, url
            assert "<script>" not in page and "hx-on" not in page, url
        source_page = self.client.get(self.source.get_absolute_url()).text
        assert f'id="tags-s-{self.source.pk}"' in source_page
        assert f'action="/sources/{self.source.pk}/tags/"' in source_page

    def test_the_search_page_still_shows_only_a_matching_note(self) -> None:
        Highlight.objects.filter(pk=self.first.pk).update(note="Unrelated words.")
        page = self.client.get("/search/", {"q": "obstacle"}).text
        assert "Unrelated words." not in page
        page = self.client.get("/search/", {"q": "unrelated"}).text
        assert "<mark>Unrelated</mark>" in page

    def test_the_tag_page_marks_its_count_for_updates(self) -> None:
        page = self.client.get(self.stoicism.get_absolute_url()).text
        assert f'data-tag-count="{self.stoicism.pk}">1 highlight<' in page
        assert reverse("highlights:tag_edit", args=[self.stoicism.pk]) in page


class TagManagementTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.book = source_with(cls.user, "Book", ["One.", "Two.", "Three.", "Four."])
        cls.other_book = source_with(cls.user, "Other book", ["Five."])
        cls.h1, cls.h2, cls.h3, cls.h4 = cls.book.highlights.order_by("position")
        cls.h5 = cls.other_book.highlights.get()
        cls.stoic = tag(cls.user, "stoic", cls.h1, cls.h2, cls.h5, cls.book)
        cls.stoicism = tag(cls.user, "Stoicism", cls.h2, cls.h3, cls.book, cls.other_book)
        cls.keep = tag(cls.user, "keep", cls.h4)
        cls.stranger = make_user()
        cls.foreign = tag(cls.stranger, "stoic")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def rename(self, tag: Tag, name: str, htmx: bool = False, **extra: str) -> Any:
        url = reverse("highlights:tag_rename", args=[tag.pk])
        return self.client.post(url, {"name": name, **extra}, headers=HX if htmx else {})

    def test_the_tags_page_offers_edit_links(self) -> None:
        page = self.client.get(reverse("highlights:tags")).text
        assert f'id="tag-row-{self.stoic.pk}"' in page
        assert 'aria-label="Edit tag stoic"' in page
        assert 'id="tag-total" data-count="3"' in page

    def test_it_shows_the_edit_form_as_a_page_and_in_place(self) -> None:
        url = reverse("highlights:tag_edit", args=[self.stoic.pk])
        page = self.client.get(url, {"next": "/tags/?q=sto"})
        assert page.status_code == 200 and "<html" in page.text
        assert 'name="next" value="/tags/?q=sto"' in page.text
        assert "3 highlights · 1 source" in page.text
        row = self.client.get(url, headers=HX).text
        assert row.lstrip().startswith(f'<li id="tag-row-{self.stoic.pk}" class="tag-row editing"')
        assert 'value="stoic"' in row and "autofocus" in row and "hx-confirm" in row
        back = self.client.get(url, {"cancel": "1"}, headers=HX).text
        assert back.lstrip().startswith(f'<li id="tag-row-{self.stoic.pk}" class="tag-row"')
        assert "3 highlights · 1 source" in back
        assert self.client.get(reverse("highlights:tag_edit", args=[self.foreign.pk])).status_code == 404

    def test_it_renames_a_tag(self) -> None:
        response = self.rename(self.keep, "  keep / forever ", next="/tags/")
        assert response.status_code == 302 and response["Location"] == "/tags/"
        self.keep.refresh_from_db()
        assert self.keep.name == "keep / forever" and self.keep.highlight_count == 1
        assert self.client.get(self.keep.get_absolute_url()).status_code == 200
        assert self.client.get("/tags/keep/").status_code == 404
        self.h4.refresh_from_db()
        assert self.h4.edited_at is not None  # a re-import must not bring "keep" back
        assert_counts_true()

    def test_it_renames_in_place_and_follows_the_tag_page(self) -> None:
        response = self.rename(self.keep, "Kept", htmx=True)
        assert response.status_code == 200
        assert response.text.lstrip().startswith(f'<li id="tag-row-{self.keep.pk}" class="tag-row"')
        assert ">Kept</a>" in response.text and "Renamed “keep” to “Kept”." in response.text
        response = self.rename(self.keep, "Kept again", next="/tags/Kept/")
        assert response["Location"] == "/tags/Kept%20again/"
        # However the old page's address was spelled (get_full_path leaves "(" and "'" as they are).
        self.rename(self.keep, "it's (done)")
        response = self.rename(self.keep, "done", next="/tags/it's%20(done)/?sort=oldest")
        assert response["Location"] == "/tags/done/"

    def test_changing_only_the_case_is_a_rename(self) -> None:
        response = self.rename(self.stoicism, "stoicism", htmx=True)
        assert response.status_code == 200
        self.stoicism.refresh_from_db()
        assert self.stoicism.name == "stoicism"
        assert Tag.objects.filter(user=self.user).count() == 3
        self.h3.refresh_from_db()
        assert self.h3.edited_at is None  # the importer compares names without case

    def test_renaming_onto_another_name_merges_the_two(self) -> None:
        response = self.rename(self.stoic, "STOICISM", next=self.stoic.get_absolute_url())
        assert response.status_code == 302
        assert not Tag.objects.filter(pk=self.stoic.pk).exists()
        survivor = Tag.objects.get(pk=self.stoicism.pk)
        assert survivor.name == "STOICISM"
        assert response["Location"] == survivor.get_absolute_url()  # from the old tag's page to the new
        # Every highlight and source that carried either carries the survivor, exactly once.
        links = Highlight.tags.through.objects.filter(tag=survivor)
        assert sorted(links.values_list("highlight_id", flat=True)) == sorted(
            h.pk for h in (self.h1, self.h2, self.h3, self.h5)
        )
        assert names(self.h2) == ["STOICISM"]
        source_links = Tag.sources.through.objects.filter(tag=survivor)
        assert sorted(source_links.values_list("source_id", flat=True)) == sorted([self.book.pk, self.other_book.pk])
        assert survivor.highlight_count == 4
        assert names(self.h4) == ["keep"]
        assert Highlight.objects.filter(user=self.user).count() == 5
        for item in (self.h1, self.h2, self.h5):
            item.refresh_from_db()
            assert item.edited_at is not None
        assert_counts_true()
        page = self.client.get(survivor.get_absolute_url()).text
        assert "4 highlights" in page
        assert all(text in page for text in ("One.", "Two.", "Three.", "Five."))
        assert "stoic<" not in self.client.get(reverse("highlights:tags")).text

    def test_it_merges_in_place(self) -> None:
        response = self.rename(self.stoicism, "Stoic", htmx=True)
        assert response.status_code == 200
        # The survivor's row takes the renamed one's place; its own row (elsewhere) goes.
        assert f'<li id="tag-row-{self.stoic.pk}" hx-swap-oob="delete"></li>' in response.text
        assert ">Stoic</a>" in response.text and "4 highlights · 2 sources" in response.text
        assert triggered(response)["commonplace:tag-gone"] == {"id": self.stoicism.pk}
        assert_counts_true()

    def test_it_refuses_an_empty_name(self) -> None:
        response = self.rename(self.stoic, "  ", htmx=True)
        assert response.status_code == 200 and "Type a tag name." in response.text
        response = self.rename(self.stoic, "", next="/tags/")
        assert response.status_code == 302
        assert response["Location"] == reverse("highlights:tag_edit", args=[self.stoic.pk]) + "?next=%2Ftags%2F"
        self.stoic.refresh_from_db()
        assert self.stoic.name == "stoic"

    def test_it_deletes_a_tag_and_keeps_the_highlights(self) -> None:
        response = self.client.post(
            reverse("highlights:tag_delete", args=[self.stoic.pk]), {"next": self.stoic.get_absolute_url()}
        )
        assert response.status_code == 302 and response["Location"] == reverse("highlights:tags")
        assert not Tag.objects.filter(pk=self.stoic.pk).exists()
        assert Highlight.objects.filter(user=self.user).count() == 5
        assert names(self.h1) == [] and names(self.h2) == ["Stoicism"]
        assert names(self.book) == ["Stoicism"]
        self.h1.refresh_from_db()
        assert self.h1.edited_at is not None
        assert_counts_true()

    def test_it_deletes_in_place(self) -> None:
        response = self.client.post(reverse("highlights:tag_delete", args=[self.keep.pk]), headers=HX)
        assert response.status_code == 200
        assert 'role="status"' in response.text and "Deleted the tag “keep”" in response.text
        assert triggered(response)["commonplace:tag-gone"] == {"id": self.keep.pk}
        assert not Tag.objects.filter(pk=self.keep.pk).exists()

    def test_it_hides_other_users_tags(self) -> None:
        assert self.rename(self.foreign, "mine").status_code == 404
        assert self.client.post(reverse("highlights:tag_delete", args=[self.foreign.pk])).status_code == 404
        self.foreign.refresh_from_db()
        assert self.foreign.name == "stoic"
        # Merging never reaches across users: the reader's "stoic" and the stranger's are apart.
        self.rename(self.stoicism, "stoic")
        assert Tag.objects.filter(pk=self.foreign.pk, user=self.stranger).exists()


class ReimportKeepsEditsTests(TestCase):
    """What the reader did here survives importing the same file again (DESIGN.md, import rules)."""

    SAMPLE = "readwise-markdown/default-multi-author-doc-tags.md"

    def setUp(self) -> None:
        self.user = make_user()
        self.client.force_login(self.user)
        self.data = sample(self.SAMPLE)
        [outcome] = import_bytes(self.user, "doc-tags.md", self.data)
        assert outcome.status == "created", outcome
        self.source = Source.objects.get(user=self.user)
        self.tagged = self.source.highlights.filter(tags__isnull=False).distinct().order_by("position").first()
        self.plain = self.source.highlights.filter(tags__isnull=True, note="").order_by("position").first()

    def reimport(self) -> None:
        [outcome] = import_bytes(self.user, "doc-tags.md", self.data)
        assert outcome.status in {"unchanged", "updated"}, outcome
        assert outcome.highlights_created == 0

    def test_the_sample_has_what_the_test_needs(self) -> None:
        assert self.tagged is not None and self.tagged.note
        assert len(names(self.tagged)) >= 2 and len(names(self.source)) >= 2
        assert self.plain is not None

    def test_highlight_tags_notes_and_favourites_survive(self) -> None:
        file_tags = names(self.tagged)
        dropped = Tag.objects.get(user=self.user, name=file_tags[0])
        remove = reverse("highlights:highlight_tag_remove", args=[self.tagged.pk])
        self.client.post(remove, {"tag": dropped.pk}, headers=HX)
        self.client.post(reverse("highlights:highlight_tag_add", args=[self.tagged.pk]), {"name": "mine 🌱"})
        self.client.post(reverse("highlights:note", args=[self.tagged.pk]), {"note": "My own note."})
        self.client.post(reverse("highlights:favorite", args=[self.plain.pk]), {"favorite": "1"}, headers=HX)
        self.client.post(reverse("highlights:highlight_tag_add", args=[self.plain.pk]), {"name": "later"})
        self.reimport()
        self.tagged.refresh_from_db()
        self.plain.refresh_from_db()
        assert names(self.tagged) == sorted([*file_tags[1:], "mine 🌱"])
        assert self.tagged.note == "My own note."
        assert self.plain.favorite and names(self.plain) == ["later"]
        assert self.source.highlights.count() == Highlight.objects.filter(user=self.user).count()
        assert_counts_true()

    def test_an_unfavourite_and_a_cleared_note_survive(self) -> None:
        Highlight.objects.filter(pk=self.plain.pk).update(favorite=True)  # as if the file said so
        self.client.post(reverse("highlights:favorite", args=[self.plain.pk]), {"favorite": "0"})
        self.client.post(reverse("highlights:note", args=[self.tagged.pk]), {"note": ""}, headers=HX)
        self.reimport()
        self.tagged.refresh_from_db()
        self.plain.refresh_from_db()
        assert self.tagged.note == "" and not self.plain.favorite

    def test_source_tags_and_document_note_survive(self) -> None:
        doc_tags = names(self.source)
        dropped = Tag.objects.get(user=self.user, name=doc_tags[0])
        remove = reverse("highlights:source_tag_remove", args=[self.source.pk])
        self.client.post(remove, {"tag": dropped.pk}, headers=HX)
        self.client.post(reverse("highlights:source_tag_add", args=[self.source.pk]), {"name": "to reread"})
        self.client.post(reverse("highlights:source_note", args=[self.source.pk]), {"note": "Why I kept it."})
        self.reimport()
        self.source.refresh_from_db()
        assert names(self.source) == sorted([*doc_tags[1:], "to reread"])
        assert self.source.note == "Why I kept it."

    def test_a_renamed_merged_or_deleted_tag_does_not_come_back(self) -> None:
        first, second = names(self.tagged)[:2]
        renamed = Tag.objects.get(user=self.user, name=first)
        self.client.post(reverse("highlights:tag_rename", args=[renamed.pk]), {"name": "renamed by me"})
        deleted = Tag.objects.get(user=self.user, name=second)
        self.client.post(reverse("highlights:tag_delete", args=[deleted.pk]))
        doc_tag = Tag.objects.get(user=self.user, name=names(self.source)[0])
        self.client.post(reverse("highlights:tag_rename", args=[doc_tag.pk]), {"name": "renamed by me"})  # a merge
        before = {h.pk: names(h) for h in self.source.highlights.all()}
        source_before = names(self.source)
        self.reimport()
        assert {h.pk: names(h) for h in self.source.highlights.all()} == before
        assert names(self.source) == source_before
        assert "renamed by me" in names(self.tagged)
        # Nor does its name, as an empty tag on /tags/.
        for gone in (first, second, doc_tag.name):
            assert not Tag.objects.filter(user=self.user).named(gone).exists(), gone
        assert_counts_true()


class ImportedTagsTests(TestCase):
    def test_tags_made_by_hand_and_by_an_import_are_one(self) -> None:
        user = make_user()
        source = make_source(user, "Hand made")
        highlight = make_highlight(source, "Some words worth keeping.")
        self.client.force_login(user)
        self.client.post(reverse("highlights:highlight_tag_add", args=[highlight.pk]), {"name": "TYPE/OBJ"})
        import_bytes(user, "doc-tags.md", sample(ReimportKeepsEditsTests.SAMPLE))
        assert Tag.objects.filter(user=user).named("type/obj").count() == 1
        assert_counts_true()


class ActionQueryCountTests(CurateTestCase):
    """An action costs the same number of queries however many tags the highlight carries."""

    def count(self, request: Any) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = request()
        assert response.status_code == 200
        return len(queries)

    def test_it_is_fixed(self) -> None:
        add = reverse("highlights:highlight_tag_add", args=[self.second.pk])
        favorite = reverse("highlights:favorite", args=[self.second.pk])
        note = reverse("highlights:note", args=[self.second.pk])
        actions = [
            lambda: self.client.post(add, {"name": f"tag {len(names(self.second))}"}, headers=HX),
            lambda: self.client.post(favorite, headers=HX),
            lambda: self.client.post(note, {"note": "n"}, headers=HX),
        ]
        before = [self.count(action) for action in actions]
        for n in range(15):
            tag(self.user, f"more {n}", self.second)
        after = [self.count(action) for action in actions]
        assert before == after
