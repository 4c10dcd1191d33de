"""Views that belong to the site rather than an app: first-run setup and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Create the owner account. Only possible while the installation has no user at all."""
    if User.objects.exists():
        return HttpResponseNotFound("This Commonplace already has an owner. Sign in instead.")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.is_staff = user.is_superuser = True
        user.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("archive:import")
    return render(request, "registration/setup.html", {"form": form})


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


LOGIN_WINDOW_SECONDS = 15 * 60


def _client_address(request: HttpRequest) -> str:
    if settings.SECURE_PROXY_SSL_HEADER and (forwarded := request.headers.get("X-Forwarded-For")):
        return forwarded.split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Django's sign-in, with a pause after too many failures from one address.

    Failures are counted per address and user name, and per address alone (five times the
    allowance, against guessing across many names), in the shared database cache.
    """
    limit = settings.COMMONPLACE_LOGIN_ATTEMPTS
    address = _client_address(request)
    username = request.POST.get("username", "").strip().casefold()[:150]
    keys = {f"login-fail:{address}:{username}": limit, f"login-fail:{address}": limit * 5}
    if request.method == "POST" and any(cache.get(key, 0) >= allowed for key, allowed in keys.items()):
        response = render(request, "registration/login.html", {"form": AuthenticationForm(request), "locked": True})
        response.status_code = 429
        response["Retry-After"] = str(LOGIN_WINDOW_SECONDS)
        return response
    response = LoginView.as_view(redirect_authenticated_user=True)(request)
    if request.method == "POST":
        if response.status_code == 200:  # the form came back: wrong name or password
            for key in keys:
                cache.add(key, 0, LOGIN_WINDOW_SECONDS)
                cache.incr(key)
        else:
            cache.delete(next(iter(keys)))
    return response
