from __future__ import annotations

import os
import subprocess
import sys

from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse

from tests.factories import make_highlight, make_source, make_tag, make_user
from tests.samples import REPO


class FirstRunTests(TestCase):
    def test_it_sends_the_first_visitor_to_setup(self) -> None:
        response = self.client.get("/")
        assert response.status_code == 302
        assert response["Location"] == reverse("setup")

    def test_it_creates_the_owner_account_and_signs_them_in(self) -> None:
        response = self.client.post(
            reverse("setup"),
            {
                "username": "owner",
                "password1": "a long passphrase 42",
                "password2": "a long passphrase 42",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("archive:import")
        owner = User.objects.get()
        assert owner.is_superuser and owner.is_staff
        assert self.client.get(reverse("archive:import")).status_code == 200

    def test_it_rejects_mismatched_passwords_with_a_message(self) -> None:
        response = self.client.post(
            reverse("setup"),
            {
                "username": "owner",
                "password1": "a long passphrase 42",
                "password2": "other",
            },
        )
        assert response.status_code == 200
        assert "password fields didn’t match" in response.text
        assert not User.objects.exists()

    def test_it_closes_setup_once_an_owner_exists(self) -> None:
        make_user("owner")
        assert self.client.get(reverse("setup")).status_code == 404
        response = self.client.post(
            reverse("setup"),
            {
                "username": "intruder",
                "password1": "pass phrase 99!",
                "password2": "pass phrase 99!",
            },
        )
        assert response.status_code == 404
        assert User.objects.count() == 1


class LoginTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = make_user("reader", password="correct horse battery")
        cls.source = make_source(cls.user)
        cls.highlight = make_highlight(cls.source)
        cls.tag = make_tag(cls.user, "ideas")

    def test_it_requires_a_login_on_every_page(self) -> None:
        for url in [
            "/",
            reverse("archive:import"),
            self.source.get_absolute_url(),
            reverse("archive:source_markdown", args=[self.source.pk]),
            self.highlight.get_absolute_url(),
            self.tag.get_absolute_url(),
            reverse("password_change"),
        ]:
            response = self.client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login")), url

    def test_it_signs_in_and_out(self) -> None:
        response = self.client.post(
            reverse("login"),
            {"username": "reader", "password": "correct horse battery"},
        )
        assert response.status_code == 302
        assert self.client.get("/").status_code == 200
        response = self.client.post(reverse("logout"))
        assert response.status_code == 302
        assert self.client.get("/").status_code == 302

    def test_it_refuses_a_wrong_password(self) -> None:
        response = self.client.post(reverse("login"), {"username": "reader", "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.text

    def test_it_changes_the_password(self) -> None:
        self.client.force_login(self.user)
        response = self.client.post(
            reverse("password_change"),
            {
                "old_password": "correct horse battery",
                "new_password1": "an even better passphrase",
                "new_password2": "an even better passphrase",
            },
        )
        assert response.status_code == 302
        self.user.refresh_from_db()
        assert self.user.check_password("an even better passphrase")


class AdminTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.admin = make_user("admin", is_staff=True, is_superuser=True)
        source = make_source(cls.admin, title="Admin Book")
        make_highlight(source, text="Searchable sentence")
        make_tag(cls.admin, "admin-tag")

    def test_it_registers_every_model_with_search(self) -> None:
        self.client.force_login(self.admin)
        for model in [
            "archive/author",
            "archive/source",
            "archive/importjob",
            "archive/importfile",
            "highlights/highlight",
            "highlights/tag",
        ]:
            response = self.client.get(f"/admin/{model}/", {"q": "a"})
            assert response.status_code == 200, model
        response = self.client.get("/admin/highlights/highlight/", {"q": "Searchable"})
        assert "Searchable sentence" in response.text


def test_it_creates_a_superuser_without_prompting(db: None) -> None:
    from django.core.management import call_command

    os.environ["DJANGO_SUPERUSER_PASSWORD"] = "a strong password 123"
    try:
        call_command(
            "createsuperuser",
            "--noinput",
            "--username",
            "boss",
            "--email",
            "boss@example.org",
        )
    finally:
        del os.environ["DJANGO_SUPERUSER_PASSWORD"]
    boss = User.objects.get(username="boss")
    assert boss.is_superuser
    assert boss.check_password("a strong password 123")


def test_it_runs_management_commands_from_the_checkout() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "import_highlights"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "--user" in result.stdout


@override_settings(COMMONPLACE_LOGIN_ATTEMPTS=3)
class LoginRateLimitTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_user("reader", password="correct horse battery")

    def setUp(self) -> None:
        cache.clear()

    def attempt(self, password: str, username: str = "reader", address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
        return self.client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)

    def test_it_pauses_sign_in_after_repeated_failures(self) -> None:
        for _ in range(3):
            assert self.attempt("wrong").status_code == 200
        locked = self.attempt("correct horse battery")
        assert locked.status_code == 429
        assert "Too many failed attempts" in locked.text
        assert locked["Retry-After"] == "900"
        # Another address is not affected.
        assert self.attempt("correct horse battery", address="10.0.0.2").status_code == 302

    def test_it_forgets_failures_after_a_success(self) -> None:
        self.attempt("wrong")
        self.attempt("wrong")
        assert self.attempt("correct horse battery").status_code == 302
        self.client.logout()
        self.attempt("wrong")
        self.attempt("wrong")
        assert self.attempt("correct horse battery").status_code == 302

    def test_it_limits_guessing_across_many_user_names(self) -> None:
        for number in range(15):
            self.attempt("wrong", username=f"someone{number}")
        assert self.attempt("correct horse battery").status_code == 429
