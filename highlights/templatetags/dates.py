"""Fast date filters for long lists: one time-zone conversion and a strftime, not Django's
general-purpose formatter (which a page of a hundred highlights notices)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def day(value: dt.datetime | dt.date | None) -> str:
    """`6 May 2024`, in the site's time zone (English month names, like the rest of the UI)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value)
    return _day(value)


def _day(value: dt.date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


@register.filter
def iso(value: dt.datetime | None) -> str:
    """The machine-readable form for <time datetime="...">, in the site's time zone."""
    return _local(value).isoformat() if value else ""


@register.filter
def time_tag(value: dt.datetime | None) -> SafeString:
    """`<time datetime="2024-05-06T09:30:00+00:00">6 May 2024</time>` (`iso` and `day` with one
    time-zone conversion, in one template node), or nothing for no date."""
    if not value:
        return mark_safe("")
    local = _local(value)
    return mark_safe(f'<time datetime="{local.isoformat()}">{_day(local)}</time>')  # noqa: S308 - digits and signs
