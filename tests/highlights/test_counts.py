"""Source.highlight_count and Tag.highlight_count, kept by database triggers whoever writes."""

from __future__ import annotations

from django.test import TestCase
from django.utils import timezone

from archive.models import Source
from highlights.models import Highlight, Tag, TagSource, recount
from tests.curation_helpers import assert_counts_true
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import import_fixture, tag


class CountTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = make_source(cls.user, "Counted")
        cls.other = make_source(cls.user, "Other")

    def count_of(self, item: Source | Tag) -> int:
        item.refresh_from_db()
        return item.highlight_count

    def test_it_counts_highlights_added_one_by_one_and_in_bulk(self) -> None:
        make_highlight(self.source, "One.")
        assert self.count_of(self.source) == 1
        Highlight.objects.bulk_create(
            Highlight(user=self.user, source=self.source if n % 2 else self.other, text=f"{n}", fingerprint=f"b{n}")
            for n in range(10)
        )
        assert self.count_of(self.source) == 6
        assert self.count_of(self.other) == 5
        assert_counts_true()

    def test_it_follows_deletes_restores_and_moves(self) -> None:
        first = make_highlight(self.source, "First.")
        second = make_highlight(self.source, "Second.")
        Highlight.objects.filter(pk=first.pk).update(deleted_at=timezone.now())
        assert self.count_of(self.source) == 1
        Highlight.objects.filter(pk=first.pk).update(deleted_at=None)
        assert self.count_of(self.source) == 2
        second.source = self.other
        second.save()
        assert (self.count_of(self.source), self.count_of(self.other)) == (1, 1)
        first.delete()
        assert self.count_of(self.source) == 0
        assert_counts_true()

    def test_it_counts_a_tags_shown_highlights(self) -> None:
        first = make_highlight(self.source, "First.")
        second = make_highlight(self.other, "Second.")
        label = tag(self.user, "label", first, second)
        assert self.count_of(label) == 2
        first.tags.remove(label)
        assert self.count_of(label) == 1
        first.tags.add(label)
        label.highlights.add(first)  # already there: nothing changes
        assert self.count_of(label) == 2
        Highlight.objects.filter(pk=second.pk).update(deleted_at=timezone.now())
        assert self.count_of(label) == 1
        Highlight.objects.filter(pk=second.pk).update(deleted_at=None)
        assert self.count_of(label) == 2
        label.highlights.clear()
        assert self.count_of(label) == 0
        assert_counts_true()

    def test_it_knows_which_sources_hold_a_tags_highlights(self) -> None:
        first = make_highlight(self.source, "First.")
        second = make_highlight(self.source, "Second.")
        label = tag(self.user, "label", first, second)
        assert TagSource.objects.get(tag=label, source=self.source).highlight_count == 2
        second.source = self.other
        second.save()
        Highlight.objects.filter(pk=first.pk).update(deleted_at=timezone.now())
        assert_counts_true()
        assert TagSource.objects.get(tag=label, source=self.source).highlight_count == 0
        assert TagSource.objects.get(tag=label, source=self.other).highlight_count == 1
        Highlight.objects.filter(pk=first.pk).update(deleted_at=None)
        second.tags.clear()
        assert_counts_true()
        label.delete()
        assert not TagSource.objects.exists()

    def test_it_does_not_count_tagging_a_deleted_highlight(self) -> None:
        gone = make_highlight(self.source, "Gone.", deleted_at=timezone.now())
        label = tag(self.user, "label", gone)
        assert self.count_of(label) == 0
        Highlight.objects.filter(pk=gone.pk).update(deleted_at=None)
        assert self.count_of(label) == 1

    def test_it_hides_a_deleted_sources_highlights_from_tag_counts(self) -> None:
        highlight = make_highlight(self.source, "In a source that goes.")
        label = tag(self.user, "label", highlight)
        Source.objects.filter(pk=self.source.pk).update(deleted_at=timezone.now())
        assert self.count_of(label) == 0
        assert self.count_of(self.source) == 1  # the source's own count is of its highlights
        Source.objects.filter(pk=self.source.pk).update(deleted_at=None)
        assert self.count_of(label) == 1
        assert_counts_true()

    def test_it_follows_a_source_deleted_for_good(self) -> None:
        label = tag(self.user, "label", make_highlight(self.source, "a"), make_highlight(self.other, "b"))
        self.source.delete()
        assert self.count_of(label) == 1
        assert_counts_true()

    def test_it_never_writes_back_a_stale_count(self) -> None:
        stale = Source.objects.get(pk=self.source.pk)
        stale_tag = tag(self.user, "label")
        highlight = make_highlight(self.source, "Added after loading.")
        highlight.tags.add(stale_tag)
        stale.display_title = "Renamed"
        stale.save()
        stale_tag.name = "renamed"
        stale_tag.save()
        self.source.refresh_from_db()
        assert (self.source.display_title, self.source.highlight_count) == ("Renamed", 1)
        assert self.count_of(stale_tag) == 1

    def test_it_recounts_after_writes_without_triggers(self) -> None:
        label = tag(self.user, "label", make_highlight(self.source, "a"), make_highlight(self.source, "b"))
        Source.objects.filter(pk=self.source.pk).update(highlight_count=0)
        Tag.objects.filter(pk=label.pk).update(highlight_count=99)
        recount(self.user)
        assert (self.count_of(self.source), self.count_of(label)) == (2, 2)
        Source.objects.update(highlight_count=7)
        recount()
        assert_counts_true()

    def test_it_counts_what_the_importer_writes(self) -> None:
        import_fixture(
            self.user, "readwise-markdown/default-kindle-book.md", "kindle/de.txt", "readwise-csv/eleven-columns.csv"
        )
        import_fixture(self.user, "readwise-markdown/default-kindle-book.md", "kindle/de.txt")
        imported = Source.objects.filter(user=self.user).exclude(pk__in=[self.source.pk, self.other.pk])
        assert imported.exists()
        assert all(source.highlight_count > 0 for source in imported)
        assert Tag.objects.filter(user=self.user, highlight_count__gt=0).exists()
        assert_counts_true()
