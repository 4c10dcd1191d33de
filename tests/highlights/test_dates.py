"""The date filters of long lists: the site's time zone, and one conversion for a <time> element."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template
from django.test import SimpleTestCase, override_settings


def render(source: str, **context: object) -> str:
    return Template("{% load dates %}" + source).render(Context(context))


@override_settings(TIME_ZONE="Pacific/Auckland")
class TimeTagTests(SimpleTestCase):
    def test_it_says_the_day_in_the_sites_time_zone_and_the_instant_exactly(self) -> None:
        # 22:30 UTC on 5 May is already 6 May in Auckland (+12:00).
        when = dt.datetime(2024, 5, 5, 22, 30, tzinfo=dt.UTC)
        assert (
            render("{{ when|time_tag }}", when=when) == '<time datetime="2024-05-06T10:30:00+12:00">6 May 2024</time>'
        )
        assert render("{{ when|time_tag }}", when=when) == render(
            '<time datetime="{{ when|iso }}">{{ when|day }}</time>', when=when
        )

    def test_it_draws_nothing_without_a_date(self) -> None:
        assert render("{{ when|time_tag }}", when=None) == ""
        assert render("{{ missing|time_tag }}") == ""
