"""Editing a highlight, bulk actions over many, and the Trash (highlights/manage.py)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from archive.models import Source
from highlights import curating
from highlights.models import Highlight, Tag, fingerprint
from tests.curation_helpers import HTMX, assert_counts_true
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import FIXTURES, import_bytes, import_fixture, source_with, tag

BOOK = "readwise-markdown/default-kindle-book.md"
LAMP = "The lamp must be trimmed before dusk, every dusk, without exception."


class EditTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.stranger = make_user()
        import_fixture(cls.user, BOOK)
        cls.source = Source.objects.get(user=cls.user)
        cls.lamp = Highlight.objects.get(source=cls.source, text=LAMP)
        cls.url = reverse("highlights:edit", args=[cls.lamp.pk])

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_edits_the_text_with_a_full_post_and_keeps_the_fingerprint(self) -> None:
        before = self.lamp.fingerprint
        response = self.client.post(self.url, {"text": "The lamp is trimmed at dusk.", "next": "/sources/1/"})
        assert response.status_code == 302 and response["Location"] == "/sources/1/"
        self.lamp.refresh_from_db()
        assert self.lamp.text == "The lamp is trimmed at dusk."
        assert self.lamp.edited_at is not None
        assert self.lamp.fingerprint == before == fingerprint(LAMP)

    def test_it_edits_in_place_with_htmx(self) -> None:
        form = self.client.get(self.url + "?selectable=1", **HTMX)
        assert form.status_code == 200
        body = form.content.decode()
        assert "<textarea" in body and "<html" not in body and 'name="selectable"' in body
        response = self.client.post(self.url, {"text": "Trim the lamp.", "selectable": "1"}, **HTMX)
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert f'id="highlight-{self.lamp.pk}"' in body and "Trim the lamp." in body
        assert "data-bulk-item" in body  # drawn again with its checkbox, as it was

    def test_it_shows_a_full_page_form_without_javascript(self) -> None:
        response = self.client.get(self.url)
        assert response.status_code == 200
        assert b"<html" in response.content and LAMP.encode() in response.content

    def test_it_refuses_empty_text(self) -> None:
        response = self.client.post(self.url, {"text": "   "}, **HTMX)
        assert response.status_code == 200 and b"errorlist" in response.content
        self.lamp.refresh_from_db()
        assert self.lamp.text == LAMP

    def test_it_never_redirects_off_site(self) -> None:
        response = self.client.post(self.url, {"text": "Edited.", "next": "https://evil.example/"})
        assert response["Location"] == self.lamp.get_absolute_url()
        response = self.client.post(self.url, {"text": "Edited again.", "next": "//evil.example/"})
        assert response["Location"] == self.lamp.get_absolute_url()

    def test_it_keeps_the_edit_when_the_original_file_is_imported_again(self) -> None:
        self.client.post(self.url, {"text": "My own wording of the lamp rule."})
        count = Highlight.objects.filter(source=self.source).count()
        [outcome] = import_fixture(self.user, BOOK)
        assert outcome.highlights_created == 0
        assert Highlight.objects.filter(source=self.source).count() == count
        self.lamp.refresh_from_db()
        assert self.lamp.text == "My own wording of the lamp rule."
        assert not Highlight.objects.filter(text=LAMP).exists()

    def test_it_finds_the_edited_text_too_when_an_export_comes_back(self) -> None:
        self.client.post(self.url, {"text": "My own wording of the lamp rule."})
        data = (FIXTURES / BOOK).read_text().replace(LAMP, "My own wording of the lamp rule.")
        [outcome] = import_bytes(self.user, "exported.md", data.encode())
        assert outcome.highlights_created == 0
        assert Highlight.objects.filter(source=self.source, text__startswith="My own wording").count() == 1

    def test_it_answers_404_for_someone_elses_highlight(self) -> None:
        self.client.force_login(self.stranger)
        assert self.client.get(self.url).status_code == 404
        assert self.client.post(self.url, {"text": "Mine now."}).status_code == 404
        assert self.client.post(reverse("highlights:delete", args=[self.lamp.pk])).status_code == 404
        assert self.client.post(reverse("highlights:restore", args=[self.lamp.pk])).status_code == 404
        assert self.client.get(reverse("highlights:card", args=[self.lamp.pk]), **HTMX).status_code == 404

    def test_it_needs_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        assert client.post(self.url, {"text": "No token."}).status_code == 403
        assert client.post(reverse("highlights:delete", args=[self.lamp.pk])).status_code == 403
        assert client.post(reverse("highlights:bulk"), {"action": "favorite", "ids": [self.lamp.pk]}).status_code == 403
        assert client.post(reverse("highlights:empty_trash")).status_code == 403
        assert client.post(reverse("highlights:restore_trash"), {"everything": "1"}).status_code == 403
        assert client.post(reverse("highlights:restore", args=[self.lamp.pk])).status_code == 403
        page = client.get(self.source.get_absolute_url())
        token = page.context["csrf_token"]
        assert client.post(self.url, {"text": "With a token.", "csrfmiddlewaretoken": token}).status_code == 302

    def test_cancel_draws_the_highlight_again(self) -> None:
        response = self.client.get(reverse("highlights:card", args=[self.lamp.pk]) + "?show_source=1", **HTMX)
        assert response.status_code == 200 and b"highlight-source" in response.content
        response = self.client.get(reverse("highlights:card", args=[self.lamp.pk]))
        assert response.status_code == 302 and response["Location"] == self.lamp.get_absolute_url()


class TrashTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.stranger = make_user()
        import_fixture(cls.user, BOOK)
        cls.source = Source.objects.get(user=cls.user)
        cls.lamp = Highlight.objects.get(source=cls.source, text=LAMP)
        cls.other = source_with(cls.user, "Other", ["Kept one.", "Kept two."])

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def test_it_moves_a_highlight_to_the_trash_and_back(self) -> None:
        count = self.source.highlight_count
        tags = {t.name: t.highlight_count for t in Tag.objects.filter(user=self.user)}
        tag(self.user, "lamps", self.lamp)
        response = self.client.post(
            reverse("highlights:delete", args=[self.lamp.pk]), {"next": self.source.get_absolute_url()}
        )
        assert response.status_code == 302 and response["Location"] == self.source.get_absolute_url()
        self.lamp.refresh_from_db()
        assert self.lamp.deleted_at is not None
        self.source.refresh_from_db()
        assert self.source.highlight_count == count - 1
        assert Tag.objects.get(user=self.user, name="lamps").highlight_count == 0
        assert_counts_true()
        # Hidden from the source page, search, the tag page; shown in the Trash.
        assert LAMP.encode() not in self.client.get(self.source.get_absolute_url()).content
        assert LAMP.encode() not in self.client.get(reverse("highlights:search") + "?q=lamp").content
        assert LAMP.encode() in self.client.get(reverse("highlights:trash")).content
        response = self.client.post(
            reverse("highlights:restore", args=[self.lamp.pk]), {"next": reverse("highlights:trash")}
        )
        assert response.status_code == 302
        self.lamp.refresh_from_db()
        assert self.lamp.deleted_at is None
        assert {t.name: t.highlight_count for t in Tag.objects.filter(user=self.user) if t.name != "lamps"} == tags
        assert_counts_true()

    def test_it_deletes_in_place_with_htmx_and_undoes(self) -> None:
        response = self.client.post(reverse("highlights:delete", args=[self.lamp.pk]), {"selectable": "1"}, **HTMX)
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert "trashed" in body and "Undo" in body and 'name="in_place"' in body
        response = self.client.post(
            reverse("highlights:restore", args=[self.lamp.pk]), {"in_place": "1", "selectable": "1"}, **HTMX
        )
        assert response.status_code == 200 and LAMP.encode() in response.content
        assert b"data-bulk-item" in response.content
        # From the Trash page, a restored row just goes away.
        self.client.post(reverse("highlights:delete", args=[self.lamp.pk]), **HTMX)
        response = self.client.post(reverse("highlights:restore", args=[self.lamp.pk]), **HTMX)
        assert response.status_code == 200 and response.content == b""
        assert_counts_true()

    def test_deleting_from_its_own_page_goes_back_to_the_source(self) -> None:
        response = self.client.post(
            reverse("highlights:delete", args=[self.lamp.pk]), {"next": self.lamp.get_absolute_url()}
        )
        assert response["Location"] == self.source.get_absolute_url()

    def test_post_only_actions_refuse_get(self) -> None:
        for name in ("delete", "restore"):
            assert self.client.get(reverse(f"highlights:{name}", args=[self.lamp.pk])).status_code == 405
        assert self.client.get(reverse("highlights:bulk")).status_code == 405

    def test_a_reimport_does_not_bring_deleted_highlights_back_and_says_so(self) -> None:
        gone = list(Highlight.objects.filter(source=self.source).order_by("position")[:3])
        for highlight in gone:
            self.client.post(reverse("highlights:delete", args=[highlight.pk]))
        [outcome] = import_fixture(self.user, BOOK)
        assert outcome.highlights_created == 0 and outcome.in_trash == 3
        assert "3 highlights in Trash not restored" in outcome.message
        assert Highlight.objects.filter(source=self.source, deleted_at__isnull=False).count() == 3
        # The import page says it too.
        response = self.client.post(
            reverse("archive:import"),
            {"files": [SimpleUploadedFile("book.md", (FIXTURES / BOOK).read_bytes())]},
            follow=True,
        )
        assert b"3 highlights in Trash not restored" in response.content
        assert_counts_true()

    def test_the_import_report_counts_what_stayed_in_the_trash(self) -> None:
        self.client.post(reverse("highlights:delete", args=[self.lamp.pk]))
        files = [
            SimpleUploadedFile("book.md", (FIXTURES / BOOK).read_bytes()),
            SimpleUploadedFile("article.md", (FIXTURES / "readwise-markdown/default-reader-article.md").read_bytes()),
        ]
        response = self.client.post(reverse("archive:import"), {"files": files}, follow=True)
        body = response.content.decode()
        assert f'1 in <a href="{reverse("highlights:trash")}">Trash</a> not restored' in body
        assert "1 in Trash not restored" in body  # the totals
        assert Highlight.objects.filter(text=LAMP).count() == 1

    def test_a_trashed_source_is_hidden_and_a_reimport_leaves_it_in_the_trash(self) -> None:
        response = self.client.post(reverse("archive:source_delete", args=[self.source.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("highlights:library")
        assert self.client.get(self.source.get_absolute_url()).status_code == 404
        library = self.client.get(reverse("highlights:library")).content.decode()
        assert f'href="{self.source.get_absolute_url()}"' not in library
        assert LAMP.encode() not in self.client.get(reverse("highlights:search") + "?q=lamp").content
        assert Tag.objects.get(user=self.user, name="weather").highlight_count == 0
        assert b"Lighthouse" in self.client.get(reverse("highlights:trash")).content
        [outcome] = import_fixture(self.user, BOOK)
        assert outcome.highlights_created == 0 and outcome.in_trash == 4
        assert Source.objects.filter(user=self.user, deleted_at__isnull=True).count() == 1
        assert_counts_true()
        self.client.post(reverse("archive:source_restore", args=[self.source.pk]))
        assert self.client.get(self.source.get_absolute_url()).status_code == 200
        assert Tag.objects.get(user=self.user, name="weather").highlight_count == 1
        assert_counts_true()

    def test_emptying_the_trash_asks_first_then_deletes_for_good(self) -> None:
        self.client.post(reverse("highlights:delete", args=[self.lamp.pk]))
        kept = Highlight.objects.filter(source=self.other).first()
        assert kept is not None
        self.client.post(reverse("highlights:delete", args=[kept.pk]))
        self.client.post(reverse("archive:source_delete", args=[self.source.pk]))
        confirm = self.client.get(reverse("highlights:empty_trash"))
        assert confirm.status_code == 200 and b"Delete them for good" in confirm.content
        assert Highlight.objects.filter(user=self.user).count() == 6  # nothing deleted by looking
        response = self.client.post(reverse("highlights:empty_trash"))
        assert response.status_code == 302
        assert not Source.objects.filter(pk=self.source.pk).exists()
        assert list(Highlight.objects.filter(user=self.user).values_list("text", flat=True)) == ["Kept two."]
        assert_counts_true()
        assert b"The Trash is empty." in self.client.get(reverse("highlights:trash")).content

    def test_it_restores_chosen_rows_or_everything_from_the_trash(self) -> None:
        kept = list(Highlight.objects.filter(source=self.other))
        for highlight in [self.lamp, *kept]:
            self.client.post(reverse("highlights:delete", args=[highlight.pk]))
        self.client.post(reverse("archive:source_delete", args=[self.source.pk]))
        url = reverse("highlights:restore_trash")
        assert self.client.get(url).status_code == 405
        page = self.client.get(reverse("highlights:trash")).content.decode()
        assert page.count("data-bulk-item") == 3  # the source and the two others' highlights
        response = self.client.post(url, {"ids": [kept[0].pk]})
        assert response.status_code == 302 and response["Location"] == reverse("highlights:trash")
        assert Highlight.objects.get(pk=kept[0].pk).deleted_at is None
        assert Highlight.objects.get(pk=kept[1].pk).deleted_at is not None
        self.client.force_login(self.stranger)  # someone else's ids restore nothing
        self.client.post(url, {"ids": [kept[1].pk], "sources": [self.source.pk]})
        self.client.post(url, {"everything": "1"})
        assert Highlight.objects.get(pk=kept[1].pk).deleted_at is not None
        self.client.force_login(self.user)
        response = self.client.post(url, {"everything": "1"}, **HTMX)
        assert response["HX-Redirect"] == reverse("highlights:trash")
        self.source.refresh_from_db()
        assert self.source.deleted_at is None
        assert Highlight.objects.get(pk=kept[1].pk).deleted_at is None
        # The lamp was trashed on its own before its source: it stays in the Trash, now listed.
        assert Highlight.objects.get(pk=self.lamp.pk).deleted_at is not None
        assert LAMP.encode() in self.client.get(reverse("highlights:trash")).content
        assert self.client.post(url, {"ids": ["x"]}).status_code == 404
        assert_counts_true()

    def test_the_trash_shows_only_the_readers_own(self) -> None:
        self.client.post(reverse("highlights:delete", args=[self.lamp.pk]))
        self.client.force_login(self.stranger)
        assert LAMP.encode() not in self.client.get(reverse("highlights:trash")).content
        self.client.post(reverse("highlights:empty_trash"))
        assert Highlight.objects.filter(pk=self.lamp.pk).exists()


class BulkTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.stranger = make_user()
        cls.book = make_source(cls.user, "Big Book")
        cls.highlights = [make_highlight(cls.book, f"Sentence {n} about tides.") for n in range(60)]
        cls.other = source_with(cls.user, "Other Book", ["About lamps.", "About tides and lamps."])
        cls.foreign = make_highlight(make_source(cls.stranger, "Theirs"), "Their tides.")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def post(self, data: dict[str, object], **extra: str) -> object:
        data = {"next": self.book.get_absolute_url(), **data}
        return self.client.post(reverse("highlights:bulk"), data, **extra)

    def test_it_tags_the_chosen_highlights(self) -> None:
        chosen = [h.pk for h in self.highlights[:3]]
        response = self.post({"action": "tag", "tag_name": "Tides", "ids": chosen})
        assert response.status_code == 302 and response["Location"] == self.book.get_absolute_url()
        found = Tag.objects.get(user=self.user, name="Tides")
        assert set(found.highlights.values_list("pk", flat=True)) == set(chosen)
        assert found.highlight_count == 3
        # Again, with one already tagged, and an existing tag in another case: no duplicate links.
        self.post({"action": "tag", "tag_name": "tides", "ids": [*chosen, self.highlights[3].pk]})
        found.refresh_from_db()
        assert found.highlight_count == 4 and Tag.objects.filter(user=self.user).count() == 1
        assert_counts_true()
        self.post({"action": "untag", "tag_name": "TIDES", "ids": chosen[:2]})
        found.refresh_from_db()
        assert found.highlight_count == 2
        assert_counts_true()

    def test_it_acts_in_place_with_htmx(self) -> None:
        chosen = [h.pk for h in self.highlights[:2]]
        response = self.post({"action": "favorite", "ids": chosen, "selectable": "1"}, **HTMX)
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        assert "Marked 2 highlights as favourite." in body
        assert body.count('hx-swap-oob="true"') == 2 and "Favourite" in body
        assert Highlight.objects.filter(favorite=True).count() == 2
        response = self.post({"action": "delete", "ids": chosen}, **HTMX)
        assert "Moved 2 highlights to the Trash." in response.content.decode()
        assert response.content.decode().count("trashed") == 2
        self.book.refresh_from_db()
        assert self.book.highlight_count == 58
        assert_counts_true()

    def test_select_all_acts_on_the_whole_source_not_the_page(self) -> None:
        page = self.client.get(self.book.get_absolute_url())
        assert page.content.count(b"data-bulk-item") == 50  # one page shown
        response = self.post(
            {"action": "tag", "tag_name": "all", "all": "1", "scope": "source", "source": self.book.pk}
        )
        assert response.status_code == 302
        assert Tag.objects.get(user=self.user, name="all").highlight_count == 60
        self.post({"action": "delete", "all": "1", "scope": "source", "source": self.book.pk})
        self.book.refresh_from_db()
        assert self.book.highlight_count == 0
        assert Tag.objects.get(user=self.user, name="all").highlight_count == 0
        assert_counts_true()

    def test_select_all_acts_on_every_search_match(self) -> None:
        page = self.client.get(reverse("highlights:search") + "?q=tides")
        assert page.content.count(b"data-bulk-item") == 30
        assert b'name="q" value="tides"' in page.content
        self.post({"action": "favorite", "all": "1", "scope": "search", "q": "tides"})
        assert Highlight.objects.filter(user=self.user, favorite=True).count() == 61
        self.post({"action": "tag", "tag_name": "tidal", "all": "1", "scope": "search", "q": "tid"})  # a prefix
        assert Tag.objects.get(user=self.user, name="tidal").highlight_count == 61
        make_highlight(self.book, "海は静かだった。")
        self.post({"action": "tag", "tag_name": "静", "all": "1", "scope": "search", "q": "静か"})
        assert Tag.objects.get(user=self.user, name="静").highlight_count == 1
        assert not Highlight.objects.get(text="About lamps.").favorite
        assert not Highlight.objects.get(pk=self.foreign.pk).favorite
        # Under a filter: the favourites that mention lamps.
        self.post({"action": "unfavorite", "all": "1", "scope": "search", "q": "lamps", "favorites": "1"})
        assert Highlight.objects.filter(user=self.user, favorite=True).count() == 60
        assert_counts_true()

    def test_select_all_acts_on_a_whole_tag(self) -> None:
        tag(self.user, "sea", *self.highlights[:40])
        page = self.client.get(reverse("highlights:tag", args=["sea"]))
        assert page.content.count(b"data-bulk-item") == 30
        self.post({"action": "untag", "tag_name": "sea", "all": "1", "scope": "tag", "scope_tag": "sea"})
        assert Tag.objects.get(user=self.user, name="sea").highlight_count == 0
        assert_counts_true()

    def test_it_refuses_others_highlights_sources_and_tags(self) -> None:
        response = self.post({"action": "favorite", "ids": [self.highlights[0].pk, self.foreign.pk]})
        assert response.status_code == 404
        assert not Highlight.objects.filter(favorite=True).exists()
        theirs = self.foreign.source
        assert self.post({"action": "delete", "all": "1", "scope": "source", "source": theirs.pk}).status_code == 404
        tag(self.stranger, "private", self.foreign)
        response = self.post({"action": "delete", "all": "1", "scope": "tag", "scope_tag": "private"})
        assert response.status_code == 404
        # A search scope is the reader's own by construction.
        self.post({"action": "delete", "all": "1", "scope": "search", "q": "their"})
        assert Highlight.objects.get(pk=self.foreign.pk).deleted_at is None

    def test_it_says_what_is_missing(self) -> None:
        response = self.post({"action": "tag", "ids": [self.highlights[0].pk]}, **HTMX)
        assert response.status_code == 200 and b"Type the name of the tag." in response.content
        response = self.post({"action": "favorite"}, **HTMX)
        assert b"Choose some highlights first." in response.content
        response = self.post({"action": "favorite"})
        assert response.status_code == 302
        assert self.post({"action": "favorite", "ids": ["x"]}, **HTMX).status_code == 200
        assert not Highlight.objects.filter(favorite=True).exists()

    def test_a_bulk_action_is_a_few_statements_whatever_the_count(self) -> None:
        everything = curating.scoped(self.user, {"scope": "source", "source": str(self.book.pk)})
        tag(self.user, "fast")
        with self.assertNumQueries(5):  # savepoint, the tag, one INSERT for all, the count, release
            curating.apply(self.user, everything, curating.Action.TAG, "fast")
        with self.assertNumQueries(3):  # savepoint, one UPDATE, release
            curating.apply(self.user, everything, curating.Action.FAVORITE)
        assert Tag.objects.get(name="fast").highlight_count == 60

    def test_deleted_then_reimported_bulk_stays_in_the_trash(self) -> None:
        user = make_user()
        import_fixture(user, BOOK)
        source = Source.objects.get(user=user)
        self.client.force_login(user)
        self.client.post(
            reverse("highlights:bulk"), {"action": "delete", "all": "1", "scope": "source", "source": source.pk}
        )
        [outcome] = import_fixture(user, BOOK)
        assert outcome.highlights_created == 0 and outcome.in_trash == 4
        source.refresh_from_db()
        assert source.highlight_count == 0
        assert Highlight.objects.filter(source=source, deleted_at__isnull=True).count() == 0
