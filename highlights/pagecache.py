"""Reading pages kept as drawn until the reader's archive changes.

At a million highlights the library, a source, an author, a tag or a search costs tens of
milliseconds to draw, most of it in the template, and a reader asks for the same pages again and
again (back, reload, the next tab). Each drawn page is kept, per signed-in browser, under the
archive's *version*: a token, shared by every process through the default cache, that is
replaced whenever anything of the user's may have changed:

- after every state-changing request (POST, PUT, PATCH, DELETE) a signed-in user makes, which is
  how every edit in the app happens (`VersionMiddleware`); a staff member's request replaces
  everyone's token, as the admin edits anyone's archive;
- after every imported file commits (`archive.importing` calls `changed`), whichever process
  imports it (a request, the worker, a management command).

The token is read before the page's data, so a page drawn while a change commits is kept under
the old token at worst, which nobody asks for again. A missing token (a cleared cache) is a new
one, never an old one. Kept pages also expire after `PAGE_CACHE_SECONDS`, a safety net for
writes made outside the app (SQL by hand).

Only 200 responses to a GET with no messages waiting are kept, and only for a browser holding a
CSRF cookie: the key includes that cookie, so the CSRF tokens in a kept page's forms are valid for
the browser it is given to. A CSP nonce in the body is swapped for the request's own.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# Drawn pages live in each process's memory (fast, and a lost one is only drawn again); the
# version tokens live in the shared default cache, so a change seen by one process is seen by all.
PAGES = "pages"
VERSIONS = "default"
EVERYONE = "all"
_NONCE_MARK = "\ue000csp-nonce\ue000"  # a private-use character: never in a page by chance
_HTMX_HEADERS = (
    "HX-Request",
    "HX-Target",
    "HX-Trigger-Name",
    "HX-History-Restore-Request",
    "HX-Boosted",
    "HX-Current-URL",  # fragments carry the page they are on (a form's `next`)
)
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

Refresh = Callable[[HttpRequest, HttpResponse], None]


def _version_key(owner: int | str) -> str:
    return f"archive-version:{owner}"


def changed(user_id: int | None) -> None:
    """Forget the kept pages of a user (or, with None, of everyone) once this transaction commits."""
    key = _version_key(EVERYONE if user_id is None else user_id)
    transaction.on_commit(lambda: caches[VERSIONS].set(key, uuid.uuid4().hex, None))


def version(user_id: int) -> str:
    """The current token of a user's archive (the user's own and everyone's, together)."""
    keys = [_version_key(user_id), _version_key(EVERYONE)]
    found = caches[VERSIONS].get_many(keys)
    for key in keys:
        if key not in found:
            # Unknown (first use, or the cache was cleared): a fresh token, never a reused one.
            caches[VERSIONS].add(key, uuid.uuid4().hex, None)
            found[key] = caches[VERSIONS].get(key) or uuid.uuid4().hex
    return ".".join(str(found[key]) for key in keys)


def _key(request: HttpRequest, csrf: str) -> str:
    parts = [
        str(request.user.pk),
        version(request.user.pk),
        hashlib.sha256(csrf.encode()).hexdigest(),
        request.get_full_path(),
        timezone.localdate().isoformat(),  # "on this day" turns over at midnight
        *(request.headers.get(name, "") for name in _HTMX_HEADERS),
    ]
    return "page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _keepable(request: HttpRequest) -> str | None:
    """The CSRF cookie of a request whose page may be kept or served kept, else None."""
    if not getattr(settings, "PAGE_CACHE", False) or request.method != "GET" or not request.user.is_authenticated:
        return None
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if not csrf or len(messages.get_messages(request)):
        return None
    return csrf


def _freeze(request: HttpRequest, response: HttpResponse) -> dict[str, Any] | None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    body = response.content.decode(response.charset)
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:  # generated while drawing: it is in the body
        body = body.replace(str(nonce), _NONCE_MARK)
    return {"body": body, "headers": dict(response.headers.items())}


def _thaw(request: HttpRequest, kept: dict[str, Any]) -> HttpResponse:
    body = kept["body"]
    if _NONCE_MARK in body:
        body = body.replace(_NONCE_MARK, str(request._csp_nonce))  # type: ignore[attr-defined]
    response = HttpResponse(body)
    for name, value in kept["headers"].items():
        response[name] = value
    return response


def kept_page(refresh: Refresh | None = None) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Keep a reading view's pages (see the module's docstring).

    `refresh(request, response)` runs on a page served kept, for the parts that must be new on
    every visit (the home page's random highlight). A view that sets a cookie on a response is
    not kept unless `refresh` sets it again: a response with cookies is never stored, so such a
    view pops them into `refresh`'s care itself.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            csrf = _keepable(request)
            if csrf is None:
                return view(request, *args, **kwargs)
            key = _key(request, csrf)
            pages = caches[PAGES]
            if (kept := pages.get(key)) is not None:
                response = _thaw(request, kept)
                if refresh is not None:
                    refresh(request, response)
                response["X-Page-Cache"] = "hit"
                return response
            response = view(request, *args, **kwargs)
            if (frozen := _freeze(request, response)) is not None:
                pages.set(key, frozen, settings.PAGE_CACHE_SECONDS)
            elif refresh is not None and response.status_code == 200 and not response.streaming:
                # Only the refreshed part's cookie stopped it: keep the page without the cookie.
                cookies = response.cookies
                response.cookies = type(cookies)()
                if (frozen := _freeze(request, response)) is not None:
                    pages.set(key, frozen, settings.PAGE_CACHE_SECONDS)
                response.cookies = cookies
            return response

        return wrapper

    return decorate


class VersionMiddleware:
    """After a signed-in user's state-changing request, their kept pages are stale."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method in _UNSAFE and getattr(settings, "PAGE_CACHE", False):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                changed(None if user.is_staff else user.pk)
        return response
