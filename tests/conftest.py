"""Test-wide settings: a fast password hasher and background tasks run inline."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def pytest_configure(config: Any) -> None:
    # Changed once for the whole run (not per test), so rows made in setUpTestData use them too.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
