"""What a page of rows reads of each row: prefetched as plain lists, or queried when not."""

from __future__ import annotations

from django.test import TestCase

from archive.models import Author, Source, SourceAuthor
from highlights.models import Highlight
from tests.factories import make_highlight, make_source, make_tag, make_user


class RowListsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = make_source(cls.user, "Letters", author="Seneca")
        second = Author.objects.create(user=cls.user, key="lucilius", name="Lucilius")
        SourceAuthor.objects.filter(source=cls.source).update(position=1)
        SourceAuthor.objects.create(source=cls.source, author=second, position=0)
        make_source(cls.user, "Other", author="Marcus")
        cls.highlight = make_highlight(cls.source, "On the shortness of life.")
        cls.highlight.tags.add(make_tag(cls.user, "time"), make_tag(cls.user, "Brevity"))

    def test_a_sources_author_links_come_in_order_prefetched_or_not(self) -> None:
        plain = Source.objects.get(pk=self.source.pk)
        assert [link.author.name for link in plain.author_links] == ["Lucilius", "Seneca"]
        with self.assertNumQueries(2):  # the sources, then every row's authors at once
            rows = list(Source.objects.for_user(self.user).with_authors().order_by("title"))
        with self.assertNumQueries(0):
            names = [[link.author.name for link in row.author_links] for row in rows]
        assert names == [["Lucilius", "Seneca"], ["Marcus"]]

    def test_a_highlights_tag_list_is_by_name_prefetched_or_not(self) -> None:
        assert [t.name for t in Highlight.objects.get(pk=self.highlight.pk).tag_list] == ["Brevity", "time"]
        with self.assertNumQueries(2):
            rows = list(Highlight.objects.filter(source=self.source).with_tags())
        with self.assertNumQueries(0):
            assert [t.name for t in rows[0].tag_list] == ["Brevity", "time"]
