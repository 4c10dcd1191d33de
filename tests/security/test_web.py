"""Web security, for every URL pattern the resolver knows (tests/security/routes.py).

A login is needed everywhere but sign-in, first-run setup and the health check; every
state-changing request without a CSRF token is refused; every page carries a Content Security
Policy without 'unsafe-inline' scripts, and no page holds a script the policy would not run;
production settings give secure cookies, HSTS and a redirect to https.
(`manage.py check --deploy` with production settings is tests/config/test_settings.py.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.http.response import HttpResponseBase
from django.test import Client, TestCase

from tests.faults.support import REPO, database_url
from tests.security.archives import two_archives
from tests.security.routes import METHODS, SAFE, Route, body_text, candidate_urls, owned_rows, routes, state

UNSAFE = [method for method in METHODS if method not in SAFE]


def request(client: Client, method: str, url: str) -> HttpResponseBase:
    if method == "GET":
        return client.get(url)
    if method == "HEAD":
        return client.head(url)
    if method == "POST":
        return client.post(url)
    return client.generic(method, url)


class WebSecurityTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice, cls.bob = two_archives()

    def setUp(self) -> None:
        self.failures: list[str] = []
        rows = owned_rows(self.alice)
        self.ids = [str(kind[0].pk) for kind in rows.values()]
        self.tags = [tag.name for tag in rows["highlights.Tag"]]

    def urls(self, route: Route, limit: int = 20) -> list[str]:
        """The route's URL with A's ids and tag names (the ones that reach A's objects included)."""
        values = {}
        for name, kind in route.parameters().items():
            if kind == "int":
                values[name] = self.ids
            elif kind.startswith("regex:"):
                body = kind.removeprefix("regex:")
                values[name] = body.split("|")[:1] if re.fullmatch(r"[\w|]+", body) else ["anything/"]
            else:
                values[name] = [*self.tags, *self.ids]
        return list(candidate_urls(route, values, limit))

    def test_it_requires_a_login_everywhere_but_sign_in_setup_and_health(self) -> None:
        anonymous = Client()
        count = 0
        for route in routes():
            for url in self.urls(route, limit=1 if route.admin else 3):
                for method in METHODS:
                    response = request(anonymous, method, url)
                    count += 1
                    status, where = response.status_code, response.get("Location", "")
                    if route.public:
                        if status >= 500:
                            self.failures.append(f"{method} {url}: {status}")
                        continue
                    logins = {"/accounts/login/", "/admin/login/"} if route.admin else {"/accounts/login/"}
                    if status == 302 and urlsplit(where).path in logins:
                        continue
                    if method != "GET" and status in {401, 403, 404, 405}:
                        continue
                    if route.name == "admin:login" and status == 200:
                        continue
                    self.failures.append(f"anonymous {method} {url} ({route.label}): {status} {where}")
        print(f"\nlogin: {count} anonymous requests")
        assert not self.failures, "\n".join(self.failures[:40])
        assert Client().get("/healthz").status_code == 200
        assert Client().get("/accounts/login/").status_code == 200

    def test_it_refuses_every_state_changing_request_without_a_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.alice)
        mine = state(self.alice)
        count = 0
        for route in routes():
            for url in self.urls(route, limit=1 if route.admin else 5):
                for method in UNSAFE:
                    response = request(client, method, url)
                    count += 1
                    if response.status_code != 403 or "CSRF" not in response.text:
                        self.failures.append(f"{method} {url} without a CSRF token: {response.status_code}")
        print(f"\ncsrf: {count} requests without a token")
        assert count > 100
        assert not self.failures, "\n".join(self.failures[:40])
        assert state(self.alice) == mine
        # ...and with the token (as htmx sends it, in a header) the same request goes through.
        client.get("/settings/")
        token = client.cookies["csrftoken"].value
        response = client.post("/settings/export/preview/", {"layout": "readwise"}, headers={"X-CSRFToken": token})
        assert response.status_code == 200

    def test_it_sends_a_strict_content_security_policy_and_no_script_it_would_block(self) -> None:
        client = Client()
        pages = [("anonymous", "/accounts/login/")]
        client.force_login(self.alice)
        for route in routes():
            if route.admin and route.name != "admin:index":
                continue
            pages += [("alice", url) for url in self.urls(route, limit=40)]
        checked = 0
        for who, url in pages:
            response = (Client() if who == "anonymous" else client).get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            checked += 1
            self.check_policy(url, response)
        print(f"\ncsp: {checked} pages")
        assert checked > 20
        assert not self.failures, "\n".join(self.failures[:40])

    def test_it_answers_head_wherever_it_answers_get(self) -> None:
        """HEAD is GET without the body (monitors and link checkers send it), never a 405."""
        client = Client()
        client.force_login(self.alice)
        checked = 0
        for route in routes():
            if route.admin:
                continue
            for url in self.urls(route, limit=3):
                if client.get(url).status_code != 200:
                    continue
                head = client.head(url)
                checked += 1
                if head.status_code != 200 or body_text(head):
                    self.failures.append(f"HEAD {url} ({route.label}): {head.status_code}")
        assert checked > 10
        assert not self.failures, "\n".join(self.failures[:40])

    def check_policy(self, url: str, response: HttpResponseBase) -> None:
        policy = response.get("Content-Security-Policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        scripts = directives.get("script-src", directives.get("default-src", []))
        if not scripts:
            self.failures.append(f"{url}: no script-src in the policy {policy!r}")
            return
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
            if bad in scripts:
                self.failures.append(f"{url}: script-src allows {bad}")
        if "'none'" not in directives.get("object-src", []):
            self.failures.append(f"{url}: object-src is not 'none'")
        if "'none'" not in directives.get("frame-ancestors", []):
            self.failures.append(f"{url}: frame-ancestors is not 'none'")
        nonce = next((s[7:-1] for s in scripts if s.startswith("'nonce-")), None)
        parser = _Scripts()
        parser.feed(response.content.decode())
        for attrs, text in parser.scripts:
            if "src" in attrs:
                if urlsplit(attrs["src"]).netloc:
                    self.failures.append(f"{url}: a script from elsewhere: {attrs['src']}")
            elif text.strip() and (nonce is None or attrs.get("nonce") != nonce):
                self.failures.append(f"{url}: an inline script without the nonce: {text[:80]!r}")
        for where in parser.handlers:
            self.failures.append(f"{url}: {where} (inline handlers need 'unsafe-inline')")


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.handlers: list[str] = []
        self.inside: dict[str, str] | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        for key, value in attr.items():
            if key.startswith("on") or key.startswith("hx-on"):
                self.handlers.append(f"<{tag} {key}=…>")
            if key in {"href", "src", "action", "formaction"} and value.strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {key}={value[:40]!r}>")
        if tag == "script":
            self.inside, self.text = attr, ""

    def handle_data(self, data: str) -> None:
        if self.inside is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.inside is not None:
            self.scripts.append((self.inside, self.text))
            self.inside = None


PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# Nothing is collected in a checkout: static URLs without the manifest, the rest as configured.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
client = Client(HTTP_HOST="commonplace.example.org")
plain = client.get("/accounts/login/")
secure = client.get("/setup/", secure=True)  # an empty database: the first-run page
print(json.dumps({
    "debug": settings.DEBUG,
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "plain": [plain.status_code, plain.get("Location", "")],
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "csrf_cookie": secure.cookies["csrftoken"].output() if "csrftoken" in secure.cookies else "",
}))
"""


def test_it_serves_production_over_https_only(db: None) -> None:
    """With production settings: debug off, https enforced, cookies only over TLS, HSTS."""
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PRODUCTION_PROBE],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=120,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "HTTPS": "true",
            "SECRET_KEY": "a-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "commonplace.example.org",
            "CSRF_TRUSTED_ORIGINS": "https://commonplace.example.org",
            "DATABASE_URL": database_url(),
        },
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["debug"] is False
    assert found["session_secure"] is True and found["csrf_secure"] is True
    assert found["plain"] == [301, "https://commonplace.example.org/accounts/login/"]
    assert found["secure"] == 200
    assert "max-age=31536000" in found["hsts"] and "includeSubDomains" in found["hsts"]
    assert "'nonce-" in found["csp"] and "unsafe-inline" not in found["csp"]
    assert "Secure" in found["csrf_cookie"]
