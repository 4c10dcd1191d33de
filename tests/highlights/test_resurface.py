"""Resurfacing: a random highlight, and the highlights of this day in earlier years."""

from __future__ import annotations

import datetime as dt

from django.test import TestCase
from django.utils import timezone

from highlights.models import Highlight
from tests.factories import make_highlight, make_source, make_user
from tests.highlights.helpers import when


class RandomTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        source = make_source(cls.user, "Book")
        cls.highlights = [make_highlight(source, f"Line {n}.") for n in range(6)]
        make_highlight(make_source(make_user(), "Theirs"), "Not yours.")

    def test_it_picks_every_live_highlight_sooner_or_later(self) -> None:
        Highlight.objects.filter(pk=self.highlights[2].pk).update(deleted_at=timezone.now())
        seen = {Highlight.objects.random_for(self.user).pk for _ in range(200)}
        assert seen == {h.pk for h in self.highlights} - {self.highlights[2].pk}

    def test_it_skips_the_one_shown_last(self) -> None:
        last = self.highlights[-1].pk
        assert all(Highlight.objects.random_for(self.user, exclude=last).pk != last for _ in range(50))

    def test_the_one_shown_last_comes_again_when_it_is_the_only_one(self) -> None:
        only = self.highlights[0]
        Highlight.objects.filter(user=self.user).exclude(pk=only.pk).update(deleted_at=timezone.now())
        assert Highlight.objects.random_for(self.user, exclude=only.pk) == only
        # a source in the trash takes its highlights with it, the one to skip included
        Highlight.objects.filter(pk=only.pk).update(deleted_at=None)
        only.source.deleted_at = timezone.now()
        only.source.save()
        assert Highlight.objects.random_for(self.user, exclude=only.pk) is None

    def test_a_forged_cookie_is_ignored(self) -> None:
        self.client.force_login(self.user)
        for value in ("99999999999999999999999", "-1", "abc", str(self.highlights[0].pk)):
            self.client.cookies["resurfaced"] = value
            response = self.client.get("/")
            assert response.status_code == 200
            assert 'id="resurface-card"' in response.text

    def test_it_leaves_out_deleted_sources_and_has_nothing_for_an_empty_archive(self) -> None:
        self.highlights[0].source.deleted_at = timezone.now()
        self.highlights[0].source.save()
        assert Highlight.objects.random_for(self.user) is None
        assert Highlight.objects.random_for(make_user()) is None


class OnThisDayTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user()
        cls.source = make_source(cls.user, "Diary")

    def texts(self, day: dt.date, **kwargs: object) -> list[str]:
        return [h.text for h in Highlight.objects.live(self.user).on_this_day(day, **kwargs)]

    def test_it_lists_this_day_in_earlier_years_newest_first(self) -> None:
        day = dt.date(2026, 3, 14)
        make_highlight(self.source, "2025, that day.", highlighted_at=when(2025, 3, 14, 23))
        make_highlight(self.source, "2019, that day.", highlighted_at=when(2019, 3, 14, 0))
        make_highlight(self.source, "2025, the day after.", highlighted_at=when(2025, 3, 15, 0))
        make_highlight(self.source, "Today.", highlighted_at=when(2026, 3, 14))
        make_highlight(self.source, "No date.")
        assert self.texts(day) == ["2025, that day.", "2019, that day."]
        assert self.texts(day, since=2020) == ["2025, that day."]
        assert self.texts(day, limit=1) == ["2025, that day."]

    def test_a_busy_day_gives_its_newest_live_highlights_first_ties_to_the_later_added(self) -> None:
        day = dt.date(2026, 3, 14)
        for hour in range(1, 8):
            make_highlight(self.source, f"2025 at {hour}.", highlighted_at=when(2025, 3, 14, hour))
        tied = make_highlight(self.source, "2025 at 6, added later.", highlighted_at=when(2025, 3, 14, 6))
        Highlight.objects.filter(text="2025 at 7.").update(deleted_at=timezone.now())
        make_highlight(self.source, "2024.", highlighted_at=when(2024, 3, 14, 12))
        assert tied.pk > Highlight.objects.get(text="2025 at 6.").pk
        assert self.texts(day, limit=4) == ["2025 at 6, added later.", "2025 at 6.", "2025 at 5.", "2025 at 4."]
        assert self.texts(day, limit=10)[-2:] == ["2025 at 1.", "2024."]

    def test_it_has_nothing_before_the_first_year_and_copes_with_29_february(self) -> None:
        make_highlight(self.source, "Leap day.", highlighted_at=when(2024, 2, 29))
        assert self.texts(dt.date(2028, 2, 29)) == ["Leap day."]
        assert self.texts(dt.date(2025, 2, 28)) == []
        assert self.texts(dt.date(2024, 2, 29), since=2024) == []

    def test_it_reads_the_day_in_the_sites_time_zone(self) -> None:
        with timezone.override("Pacific/Auckland"):
            # 23:30 on 13 March in UTC is already 14 March in Auckland.
            make_highlight(self.source, "Late in UTC.", highlighted_at=dt.datetime(2020, 3, 13, 23, 30, tzinfo=dt.UTC))
            assert self.texts(dt.date(2026, 3, 14)) == ["Late in UTC."]
