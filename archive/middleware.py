"""Send the first visitor of a fresh installation to the page that creates the owner account."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

EXEMPT_PREFIXES = ("/setup/", "/static/", "/healthz", "/admin/")


class FirstRunMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only an anonymous visitor can be the first one; a signed-in user proves an owner exists.
        if (
            not request.user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not User.objects.exists()
        ):
            return redirect("setup")
        return self.get_response(request)
