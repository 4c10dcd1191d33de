"""Typed requests for views: an authenticated user and django-htmx's details."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthedRequest(HtmxHttpRequest):
    user: User  # type: ignore[assignment]


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go back to: the form's (or query's) `next` when it is a path on this site, else
    `fallback`. Only a path is taken: "axolotl" or "javascript:..." would not be one."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    ):
        return target
    return fallback
